/*
 * The EVE writer (its files, eve*.c, are the only ones that include jansson): the start of every
 * event, alerts and response events. Each event is built once as a jansson object, dumped
 * compactly on one line and freed. Field names and shapes follow Suricata's EVE schema; flow
 * records are in eve_flow.c, stats in eve_stats.c, the allocator in eve_arena.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mimamori/eve.h"
#include "mimamori/community_id.h"
#include "mimamori/rules.h"
#include "mimamori/zone.h"
#include "mimamori/error.h"
#include "mimamori/medical.h"
#include "mimamori/output.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

#include "eve_int.h"

int eve_create(struct eve **out, struct output *o)
{
    if ((*out = calloc(1, sizeof(**out))) == NULL)
        return MM_ENOMEM;
    (*out)->out = o;
    (*out)->want_flows = output_wants(o, OUTPUT_EV_FLOW);
    (*out)->want_inventory = output_wants(o, OUTPUT_EV_INVENTORY);
    pthread_mutex_init(&(*out)->pool_mu, NULL);
    eve__arena_install();
    return 0;
}

void eve_destroy(struct eve *e)
{
    unsigned i;

    if (e == NULL)
        return;
    for (i = 0; i < MM_MAX_WORKERS; i++) {
        eve__rec_list_free(e->pool_local[i]);
        eve__rec_list_free(e->pool_shared[i]);
    }
    pthread_mutex_destroy(&e->pool_mu);
    free(e);
}

/* One more event written (flow records are made by several workers at once). */
void eve__counted(struct eve *e)
{
    __atomic_fetch_add(&e->written, 1, __ATOMIC_RELAXED);
}

uint64_t eve_events_written(const struct eve *e)
{
    return __atomic_load_n(&e->written, __ATOMIC_RELAXED);
}

void eve_format_time(uint64_t ts_us, char *buf, size_t len)
{
    /*
     * Events come in runs within one hour: the calendar (to the hour) is worked out once per
     * local hour and minutes and seconds are counted on from its start. An hour serves so only
     * when its first second, its last and the one asked for have the same UTC offset (a change
     * of offset within it, at 02:30 say, makes the next event work its own second out). The C
     * library's local time takes a lock that nDPI's own time calls on a worker take too: once
     * per second of event time, the output thread and the worker waited on each other.
     */
    static _Thread_local int64_t from = 1, to = 0; /* UTC seconds the cache serves: [from, to) */
    static _Thread_local unsigned base;            /* minutes and seconds at from, in seconds */
    static _Thread_local char hour[32], zone[8];   /* "2026-11-24T21:", "+0900" */
    static _Thread_local size_t nhour, nzone;
    int64_t sec = (int64_t)(ts_us / 1000000u);
    unsigned us = (unsigned)(ts_us % 1000000u), mmss, i;
    char *p;

    if (sec < from || sec >= to) {
        struct tm tm, first, last;
        tz_localtime(sec, &tm);
        from = sec - (tm.tm_min * 60 + tm.tm_sec);
        tz_localtime(from, &first);
        tz_localtime(from + 3599, &last);
        if (first.tm_gmtoff == tm.tm_gmtoff && last.tm_gmtoff == tm.tm_gmtoff) {
            base = 0;
            to = from + 3600;
        } else { /* the offset changes within this hour: this second alone */
            base = (unsigned)(tm.tm_min * 60 + tm.tm_sec);
            from = sec;
            to = sec + 1;
        }
        nhour = strftime(hour, sizeof(hour), "%Y-%m-%dT%H:", &tm);
        nzone = strftime(zone, sizeof(zone), "%z", &tm);
    }
    if (len < nhour + 13 + nzone) { /* never with the 48 bytes callers give */
        if (len > 0)
            buf[0] = '\0';
        return;
    }
    mmss = base + (unsigned)(sec - from);
    memcpy(buf, hour, nhour);
    p = buf + nhour;
    p[0] = (char)('0' + mmss / 600);
    p[1] = (char)('0' + mmss / 60 % 10);
    p[2] = ':';
    p[3] = (char)('0' + mmss % 60 / 10);
    p[4] = (char)('0' + mmss % 10);
    p[5] = '.';
    for (i = 6; i > 0; i--, us /= 10) /* the microseconds, six digits */
        p[5 + i] = (char)('0' + us % 10);
    memcpy(p + 12, zone, nzone + 1);
}

/* Serialise and hand the line to the output stage, which frees it; *copy gets a copy. */
static int emit_copy(struct eve *e, json_t *ev, unsigned type, unsigned severity, uint64_t ts_us,
                     char **copy)
{
    size_t n;
    char *line = eve__event_line(ev, &n);

    if (line == NULL)
        return MM_ENOMEM;
    if (copy != NULL)
        *copy = strdup(line);
    output_submit(e->out, type, severity, ts_us, line, n);
    eve__counted(e);
    return 0;
}

int eve__emit(struct eve *e, json_t *ev, unsigned type, unsigned severity, uint64_t ts_us)
{
    return emit_copy(e, ev, type, severity, ts_us, NULL);
}

/*
 * A string Mimamori made or already checked: ASCII, or UTF-8 from the config (libyaml reads only
 * valid UTF-8). jansson need not validate it again; strings from packets (metadata, HL7, DICOM,
 * evidence) and from the command line still go through json_string(), which does. Keys are all
 * Mimamori's own, hence json_object_set_new_nocheck() throughout.
 */
json_t *eve__ours(const char *s)
{
    return json_string_nocheck(s);
}

/* Starts an event: everything until it is serialised is built in this thread's arena. */
json_t *eve__event_begin(const char *type, uint64_t ts_us, const char *host, const char *iface)
{
    char ts[48];
    json_t *ev;

    eve__arena_begin();
    ev = json_object();
    eve_format_time(ts_us, ts, sizeof(ts));
    json_object_set_new_nocheck(ev, "timestamp", eve__ours(ts));
    json_object_set_new_nocheck(ev, "event_type", eve__ours(type));
    json_object_set_new_nocheck(ev, "host", eve__ours(host));
    if (iface != NULL)
        json_object_set_new_nocheck(ev, "in_iface", json_string(iface));
    return ev;
}

/* The one capture interface; with several, the flow's (or the alert's) own is set later. */
const char *eve__single_iface(const struct eve_ctx *ctx)
{
    return ctx->nifaces == 1 ? ctx->ifaces[0] : NULL;
}

json_t *eve__event_new(const struct eve_ctx *ctx, const char *type, uint64_t ts_us)
{
    return eve__event_begin(type, ts_us, ctx->cfg->sensor_name, eve__single_iface(ctx));
}

static json_t *string_array(const char *s)
{
    json_t *a = json_array();

    json_array_append_new(a, eve__ours(s));
    return a;
}

/*
 * An optional metadata value, when there is one: ours (the rule files' text, checked at load)
 * as it is, or from the network (device names, the site's descriptions) checked by jansson.
 */
static void put_ours(json_t *md, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new_nocheck(md, key, string_array(v));
}

static void put_text(json_t *md, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new_nocheck(md, key, json_pack("[s]", v));
}

int eve_write_alert(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                    const struct eve_alert *a)
{
    const struct rule *r = a->rule;
    int severity = a->severity > 0 ? a->severity : r->severity;
    int category = a->category > 0 ? a->category - 1 : (int)r->category;
    char start[48], count[24];
    json_t *ev, *al, *md, *arr;
    struct flow_view v;
    struct carried *c;
    int rc;
    unsigned i;

    if ((rc = eve__carry_begin()) != 0)
        return rc;
    ev = eve__event_new(ctx, "alert", a->ts_us);
    al = json_object();
    md = json_object();

    if (f != NULL) {
        eve__view_of(&v, ctx, f);
        eve__add_flow_common(ev, &v);
    } else if (a->iface >= 0 && (unsigned)a->iface < ctx->nifaces)
        json_object_set_new_nocheck(ev, "in_iface", json_string(ctx->ifaces[a->iface]));
    json_object_set_new_nocheck(al, "action", eve__ours(a->blocked ? "blocked" : "allowed"));
    json_object_set_new_nocheck(al, "gid", json_integer(1));
    json_object_set_new_nocheck(al, "signature_id", json_integer(r->sid));
    json_object_set_new_nocheck(al, "rev", json_integer(r->rev));
    json_object_set_new_nocheck(al, "signature", eve__ours(r->signature));
    json_object_set_new_nocheck(al, "category",
                                eve__ours(rules_category_name((enum alert_category)category)));
    json_object_set_new_nocheck(al, "severity", json_integer(severity));
    json_object_set_new_nocheck(md, "rule", string_array(r->key));
    if (f != NULL) {
        json_object_set_new_nocheck(md, "src_zone", string_array(v.zone[0]));
        json_object_set_new_nocheck(md, "dest_zone", string_array(v.zone[1]));
    }
    arr = json_array();
    for (i = 0; i < r->nmitre; i++)
        json_array_append_new(arr, eve__ours(r->mitre[i]));
    json_object_set_new_nocheck(md, "mitre_attack", arr);
    json_object_set_new_nocheck(md, "guideline", string_array(r->guideline));
    put_ours(md, "guideline_ja", r->guideline_ja);
    put_ours(md, "guideline_en", r->guideline_en);
    json_object_set_new_nocheck(md, "message_ja", string_array(r->message_ja));
    put_ours(md, "next_step_ja", r->next_ja);
    put_ours(md, "next_step_en", r->next_en);
    arr = json_array();
    for (i = 0; i < a->nevidence; i++)
        json_array_append_new(arr, json_string(a->evidence[i]));
    json_object_set_new_nocheck(md, "evidence", arr);
    snprintf(count, sizeof(count), "%llu", (unsigned long long)a->count);
    json_object_set_new_nocheck(md, "count", string_array(count));
    put_ours(md, "response", a->response);
    put_ours(md, "incident_key", a->incident_key);
    put_text(md, "src_device", a->src_device);
    put_text(md, "dest_device", a->dest_device);
    if (f != NULL) {
        put_text(md, "src_zone_description", v.zone_desc[0]);
        put_text(md, "dest_zone_description", v.zone_desc[1]);
    }
    json_object_set_new_nocheck(al, "metadata", md);
    json_object_set_new_nocheck(ev, "alert", al);
    if (f != NULL && !(f->flags & FLOW_F_ARP)) { /* else about the sensor itself, or ARP */
        eve_format_time(f->first_us, start, sizeof(start));
        json_object_set_new_nocheck(ev, "flow",
                                    json_pack("{sIsIsIsIss}", "pkts_toserver",
                                              (json_int_t)f->pkts[FLOW_TOSERVER], "pkts_toclient",
                                              (json_int_t)f->pkts[FLOW_TOCLIENT], "bytes_toserver",
                                              (json_int_t)f->bytes[FLOW_TOSERVER], "bytes_toclient",
                                              (json_int_t)f->bytes[FLOW_TOCLIENT], "start", start));
    }
    c = eve__carry_end(ev);
    /* Serialised on the output thread: with several workers this runs under the engine's lock,
     * and the dump is four fifths of an alert's cost. */
    output_submit_deferred(e->out, OUTPUT_EV_ALERT, (unsigned)severity, a->ts_us, eve__carry_render,
                           c);
    eve__counted(e);
    return 0;
}

int eve_write_response(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                       const struct eve_response *r, char **copy)
{
    json_t *ev = eve__event_new(ctx, "drop", r->ts_us), *ndpi, *resp, *verdict;
    struct flow_view v;

    if (f != NULL) {
        eve__view_of(&v, ctx, f);
        eve__add_flow_common(ev, &v);
    }
    verdict = json_pack("{ss}", "action", !r->done ? "alert" : r->reset ? "reject" : "drop");
    if (r->done && r->reset) {
        json_object_set_new_nocheck(verdict, "reject", json_pack("[s]", "tcp-reset"));
        json_object_set_new_nocheck(verdict, "reject_target", eve__ours("both"));
    }
    json_object_set_new_nocheck(ev, "drop",
                                json_pack("{sssO}", "reason", r->reason, "verdict", verdict));
    json_decref(verdict);
    resp =
        json_pack("{sssssIssss}", "action", r->action, "rule", r->rule->key, "signature_id",
                  (json_int_t)r->rule->sid, "signature", r->rule->signature, "reason", r->reason);
    if (r->address != NULL) {
        json_object_set_new_nocheck(resp, "address", eve__ours(r->address));
        json_object_set_new_nocheck(resp, "ttl_s", json_integer(r->ttl_s));
        json_object_set_new_nocheck(resp, "level", json_integer(r->level));
    }
    if ((ndpi = json_object_get(ev, "ndpi")) == NULL) {
        ndpi = json_object();
        json_object_set_new_nocheck(ev, "ndpi", ndpi);
    }
    json_object_set_new_nocheck(ndpi, "response", resp);
    return emit_copy(e, ev, OUTPUT_EV_ALERT, r->rule->severity, r->ts_us, copy);
}

/* An inventory event waiting for the output thread: its words, then the record's data. */
struct inventory_rec {
    uint64_t ts_us;
    uint8_t ip[16];
    const char *change;
    char what[48], from[64], to[64], host[256], iface[64];
    json_t *(*record)(const void *copy);
    _Alignas(16) unsigned char data[];
};

/* output_render_fn: an inventory event's line, made on the output thread. */
static char *render_inventory(void *arg, size_t *len)
{
    struct inventory_rec *r = arg;
    json_t *ev = eve__event_begin("inventory", r->ts_us, r->host, r->iface[0] ? r->iface : NULL);
    json_t *inv = json_pack("{ss}", "change", r->change);
    char a[48], *line;

    json_object_set_new_nocheck(ev, "src_ip", json_string(zone_addr_str(r->ip, a, sizeof(a))));
    if (r->what[0] != '\0')
        json_object_set_new_nocheck(inv, "what", json_string(r->what));
    if (r->from[0] != '\0')
        json_object_set_new_nocheck(inv, "from", json_string(r->from));
    if (r->to[0] != '\0')
        json_object_set_new_nocheck(inv, "to", json_string(r->to));
    json_object_set_new_nocheck(inv, "device", r->record(r->data));
    json_object_set_new_nocheck(ev, "ndpi", json_pack("{so}", "inventory", inv));
    line = eve__event_line(ev, len);
    free(r);
    return line;
}

int eve_write_inventory(struct eve *e, const struct eve_ctx *ctx, const struct eve_inventory *c)
{
    const char *iface = eve__single_iface(ctx);
    struct inventory_rec *r;

    if (!e->want_inventory)
        return 0;
    if ((r = malloc(sizeof(*r) + c->size)) == NULL)
        return MM_ENOMEM;
    r->ts_us = c->ts_us;
    memcpy(r->ip, c->ip, 16);
    r->change = c->change;
    snprintf(r->what, sizeof(r->what), "%s", c->what != NULL ? c->what : "");
    snprintf(r->from, sizeof(r->from), "%s", c->from != NULL ? c->from : "");
    snprintf(r->to, sizeof(r->to), "%s", c->to != NULL ? c->to : "");
    snprintf(r->host, sizeof(r->host), "%s", ctx->cfg->sensor_name);
    snprintf(r->iface, sizeof(r->iface), "%s", iface != NULL ? iface : "");
    r->record = c->record;
    memcpy(r->data, c->data, c->size);
    output_submit_deferred(e->out, OUTPUT_EV_INVENTORY, 0, c->ts_us, render_inventory, r);
    eve__counted(e);
    return 0;
}

int eve_wants_inventory(const struct eve *e)
{
    return e != NULL && e->want_inventory;
}
