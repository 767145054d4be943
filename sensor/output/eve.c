/*
 * The EVE writer (the only file that includes jansson). Each event is built once as a jansson
 * object, dumped compactly on one line and freed. Field names and shapes follow Suricata's EVE
 * schema; the stats layout reuses its keys so dashboards built for Suricata show our counters.
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
#include "mimamori/error.h"
#include "mimamori/medical.h"
#include "mimamori/output.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

/*
 * jansson allocates every object, key and string of an event (about a hundred blocks for a flow
 * record), and the event is freed as soon as it is serialised. While one is being built on a
 * thread, its blocks come from that thread's arena, emptied when the event is done: freeing
 * them costs nothing. What does not fit, and whatever is allocated outside an event, goes to
 * malloc.
 *
 * An alert is the one kind of event that crosses threads as jansson objects: built on a worker,
 * serialised on the output thread. Its objects come from blocks of its own (4-9 KB on the
 * benchmark capture; most alerts take one block), freed with one free() per block once it is
 * serialised. Freed one by one on the output thread, its hundred-odd objects went back to the
 * worker's malloc arena, each taking that arena's lock while the worker allocated: the two
 * threads waited on each other in futex calls.
 */
#define EVE_ARENA_SIZE (64u * 1024u)
#define EVE_CARRY_SIZE (8192u - 32u) /* one of an alert's blocks, less its header */

/* A block of an alert's objects. */
struct carried {
    struct carried *next; /* the alert's next block, or NULL */
    json_t *ev;           /* the alert (first block) */
    size_t used;
    _Alignas(16) char mem[EVE_CARRY_SIZE];
};

static _Thread_local struct {
    size_t used;
    unsigned depth;        /* events being built (nested when a deferred one is made on the way) */
    struct carried *carry; /* an alert being built or freed on this thread: its newest block */
    _Alignas(16) char mem[EVE_ARENA_SIZE];
} arena;

static void *bump(char *mem, size_t *used, size_t size, size_t want)
{
    void *p = NULL;

    if (size - *used >= want) {
        p = mem + *used;
        *used += want;
    }
    return p;
}

static void *arena_malloc(size_t n)
{
    size_t want = (n + 15u) & ~(size_t)15u;
    struct carried *c = arena.carry, *more;
    void *p;

    if (c != NULL) {
        if ((p = bump(c->mem, &c->used, EVE_CARRY_SIZE, want)) != NULL)
            return p;
        if (want > EVE_CARRY_SIZE / 4 || (more = malloc(sizeof(*more))) == NULL)
            return malloc(n);
        more->next = c; /* the newest block first: the one allocations come from */
        more->ev = NULL;
        more->used = 0;
        arena.carry = more;
        return bump(more->mem, &more->used, EVE_CARRY_SIZE, want);
    }
    if (arena.depth > 0 && (p = bump(arena.mem, &arena.used, EVE_ARENA_SIZE, want)) != NULL)
        return p;
    return malloc(n);
}

static void arena_free(void *p)
{
    const struct carried *c;

    if ((char *)p >= arena.mem && (char *)p < arena.mem + EVE_ARENA_SIZE)
        return; /* emptied with the arena */
    for (c = arena.carry; c != NULL; c = c->next)
        if ((const char *)p >= c->mem && (const char *)p < c->mem + EVE_CARRY_SIZE)
            return; /* freed with the alert's blocks */
    free(p);
}

static void carried_free(struct carried *c)
{
    struct carried *next;

    for (; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
}

static void arena_begin(void)
{
    if (arena.depth++ == 0)
        arena.used = 0;
}

/* After the event's objects are freed. */
static void arena_end(void)
{
    if (arena.depth > 0 && --arena.depth == 0)
        arena.used = 0;
}

struct flow_rec;
static void rec_list_free(struct flow_rec *r);

struct eve {
    struct output *out;
    uint64_t written;
    int want_flows;
    /* flow record blocks for reuse, per worker: those at hand, and those the output thread gave
       back (under pool_mu) */
    struct flow_rec *pool_local[MM_MAX_WORKERS], *pool_shared[MM_MAX_WORKERS];
    unsigned pool_nshared[MM_MAX_WORKERS];
    pthread_mutex_t pool_mu;
};

int eve_create(struct eve **out, struct output *o)
{
    if ((*out = calloc(1, sizeof(**out))) == NULL)
        return MM_ENOMEM;
    (*out)->out = o;
    (*out)->want_flows = output_wants(o, OUTPUT_EV_FLOW);
    pthread_mutex_init(&(*out)->pool_mu, NULL);
    json_set_alloc_funcs(arena_malloc, arena_free); /* this file is jansson's only user */
    return 0;
}

void eve_close(struct eve *e)
{
    unsigned i;

    if (e == NULL)
        return;
    for (i = 0; i < MM_MAX_WORKERS; i++) {
        rec_list_free(e->pool_local[i]);
        rec_list_free(e->pool_shared[i]);
    }
    pthread_mutex_destroy(&e->pool_mu);
    free(e);
}

/* One more event written (flow records are made by several workers at once). */
static void counted(struct eve *e)
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

/*
 * The event as one JSON line (malloc'd, its length in *len), or NULL when out of memory; the
 * event is freed and this thread's arena emptied either way. Nearly every event fits the stack
 * buffer; a larger one (a stats event with many interfaces) is serialised again into its line.
 * (An 8 KB buffer measured 40% slower on the benchmark capture than this 4 KB one.)
 */
static char *event_line(json_t *ev, size_t *len)
{
    char buf[4096], *line = NULL;
    size_t n = json_dumpb(ev, buf, sizeof(buf), JSON_COMPACT);

    if (n > 0 && (line = malloc(n + 1)) != NULL) {
        if (n <= sizeof(buf))
            memcpy(line, buf, n);
        else
            n = json_dumpb(ev, line, n, JSON_COMPACT);
        line[n] = '\0';
        *len = n;
    }
    json_decref(ev);
    arena_end();
    return line;
}

/* Serialise and hand the line to the output stage, which frees it; *copy gets a copy. */
static int emit_copy(struct eve *e, json_t *ev, unsigned type, unsigned severity, uint64_t ts_us,
                     char **copy)
{
    size_t n;
    char *line = event_line(ev, &n);

    if (line == NULL)
        return MM_ENOMEM;
    if (copy != NULL)
        *copy = strdup(line);
    output_submit(e->out, type, severity, ts_us, line, n);
    counted(e);
    return 0;
}

static int emit(struct eve *e, json_t *ev, unsigned type, unsigned severity, uint64_t ts_us)
{
    return emit_copy(e, ev, type, severity, ts_us, NULL);
}

/*
 * A string Mimamori made or already checked: ASCII, or UTF-8 from the config (libyaml reads only
 * valid UTF-8). jansson need not validate it again; strings from packets (metadata, HL7, DICOM,
 * evidence) and from the command line still go through json_string(), which does. Keys are all
 * Mimamori's own, hence json_object_set_new_nocheck() throughout.
 */
static json_t *ours(const char *s)
{
    return json_string_nocheck(s);
}

/* Starts an event: everything until it is serialised is built in this thread's arena. */
static json_t *event_begin(const char *type, uint64_t ts_us, const char *host, const char *iface)
{
    char ts[48];
    json_t *ev;

    arena_begin();
    ev = json_object();
    eve_format_time(ts_us, ts, sizeof(ts));
    json_object_set_new_nocheck(ev, "timestamp", ours(ts));
    json_object_set_new_nocheck(ev, "event_type", ours(type));
    json_object_set_new_nocheck(ev, "host", ours(host));
    if (iface != NULL)
        json_object_set_new_nocheck(ev, "in_iface", json_string(iface));
    return ev;
}

/* The one capture interface; with several, the flow's (or the alert's) own is set later. */
static const char *single_iface(const struct eve_ctx *ctx)
{
    return ctx->nifaces == 1 ? ctx->ifaces[0] : NULL;
}

static json_t *event_new(const struct eve_ctx *ctx, const char *type, uint64_t ts_us)
{
    return event_begin(type, ts_us, ctx->cfg->sensor_name, single_iface(ctx));
}

static const char *proto_name(uint8_t proto, char *buf, size_t len)
{
    switch (proto) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "IPv6-ICMP";
    case 132:
        return "SCTP";
    case 47:
        return "GRE";
    case 50:
        return "ESP";
    default:
        snprintf(buf, len, "%u", proto);
        return buf;
    }
}

/* Two lower-case hex digits, as Suricata writes TCP flags. */
static const char *hex8(uint8_t v, char buf[3])
{
    static const char digits[] = "0123456789abcdef";

    buf[0] = digits[v >> 4];
    buf[1] = digits[v & 15];
    buf[2] = '\0';
    return buf;
}

static json_t *tcp_object(const struct flow *f)
{
    uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
    char buf[3];
    json_t *o = json_object();

    json_object_set_new_nocheck(o, "tcp_flags", ours(hex8(all, buf)));
    json_object_set_new_nocheck(o, "tcp_flags_ts", ours(hex8(f->tcp_flags[FLOW_TOSERVER], buf)));
    json_object_set_new_nocheck(o, "tcp_flags_tc", ours(hex8(f->tcp_flags[FLOW_TOCLIENT], buf)));
    if (all & TCP_SYN)
        json_object_set_new_nocheck(o, "syn", json_true());
    if (all & TCP_FIN)
        json_object_set_new_nocheck(o, "fin", json_true());
    if (all & TCP_RST)
        json_object_set_new_nocheck(o, "rst", json_true());
    if (all & TCP_PSH)
        json_object_set_new_nocheck(o, "psh", json_true());
    if (all & TCP_ACK)
        json_object_set_new_nocheck(o, "ack", json_true());
    return o;
}

static void set_str(json_t *o, const char *key, const char *val)
{
    if (val != NULL && *val != '\0')
        json_object_set_new_nocheck(o, key, json_string(val));
}

/*
 * What an event says about a flow. On the packet path it points into the live flow and the
 * running config; a flow record made later on the output thread gets one pointing into its
 * own copies (struct flow_rec).
 */
struct flow_view {
    const struct flow *f;
    struct classify_names names;
    const char *iface;   /* in_iface, only when several interfaces are captured */
    const char *zone[2]; /* of the source and the destination */
    const struct classify_meta *meta;
    const struct hl7_info *hl7;
    const struct dicom_info *dicom;
};

static void view_of(struct flow_view *v, const struct eve_ctx *ctx, const struct flow *f)
{
    v->f = f;
    classify_names(ctx->cls, &f->app, &v->names);
    v->iface = ctx->nifaces > 1 && f->iface < ctx->nifaces ? ctx->ifaces[f->iface] : NULL;
    v->zone[0] = config_zone_name(ctx->cfg, config_zone_of(ctx->cfg, flow_src_addr(f)));
    v->zone[1] = config_zone_name(ctx->cfg, config_zone_of(ctx->cfg, flow_dst_addr(f)));
    v->meta = f->app.meta;
    v->hl7 = medical_hl7(f);
    v->dicom = medical_dicom(f);
}

/* Protocol metadata in EVE's own objects. */
static void add_metadata(json_t *ev, const struct classify_meta *m)
{
    const char *s;
    json_t *o;

    if (m == NULL)
        return;
    if (classify_meta_get(m, META_TLS_SNI) || classify_meta_get(m, META_TLS_VERSION)) {
        o = json_object();
        set_str(o, "sni", classify_meta_get(m, META_TLS_SNI));
        set_str(o, "version", classify_meta_get(m, META_TLS_VERSION));
        if ((s = classify_meta_get(m, META_TLS_JA3)) != NULL)
            json_object_set_new_nocheck(o, "ja3", json_pack("{ss}", "hash", s));
        if ((s = classify_meta_get(m, META_TLS_JA3S)) != NULL)
            json_object_set_new_nocheck(o, "ja3s", json_pack("{ss}", "hash", s));
        json_object_set_new_nocheck(ev, "tls", o);
    }
    if (classify_meta_get(m, META_HTTP_HOST) || classify_meta_get(m, META_HTTP_USER_AGENT)) {
        o = json_object();
        set_str(o, "hostname", classify_meta_get(m, META_HTTP_HOST));
        set_str(o, "http_user_agent", classify_meta_get(m, META_HTTP_USER_AGENT));
        json_object_set_new_nocheck(ev, "http", o);
    }
    if ((s = classify_meta_get(m, META_DNS_RRNAME)) != NULL)
        json_object_set_new_nocheck(
            ev, "dns", json_pack("{sissss}", "version", 2, "type", "query", "rrname", s));
    if (classify_meta_get(m, META_SSH_CLIENT) || classify_meta_get(m, META_SSH_SERVER)) {
        o = json_object();
        if ((s = classify_meta_get(m, META_SSH_CLIENT)) != NULL)
            json_object_set_new_nocheck(o, "client", json_pack("{ss}", "software_version", s));
        if ((s = classify_meta_get(m, META_SSH_SERVER)) != NULL)
            json_object_set_new_nocheck(o, "server", json_pack("{ss}", "software_version", s));
        json_object_set_new_nocheck(ev, "ssh", o);
    }
}

/* Per-flow counters by name, only those that are not zero; NULL when all are. */
static json_t *counters(const uint32_t *v, unsigned n, const char *(*name)(unsigned))
{
    json_t *o = NULL;
    unsigned i;

    for (i = 0; i < n; i++) {
        if (v[i] == 0)
            continue;
        if (o == NULL)
            o = json_object();
        json_object_set_new_nocheck(o, name(i), json_integer(v[i]));
    }
    return o;
}

static const char *hl7_ack_key(unsigned i)
{
    return hl7_ack_name((enum hl7_ack)i);
}

static const char *hl7_anomaly_key(unsigned i)
{
    return hl7_anomaly_name((enum hl7_anomaly)i);
}

static const char *dicom_cmd_key(unsigned i)
{
    return dicom_cmd_name((enum dicom_cmd)i);
}

static const char *dicom_anomaly_key(unsigned i)
{
    return dicom_anomaly_name((enum dicom_anomaly)i);
}

static void set_counters(json_t *o, const char *key, json_t *v)
{
    if (v != NULL)
        json_object_set_new_nocheck(o, key, v);
}

/* HL7: the MSH fields of the flow's first message, message types, acknowledgment codes. */
static json_t *hl7_object(const struct hl7_info *h)
{
    json_t *o = json_object(), *a;
    unsigned i;

    json_object_set_new_nocheck(o, "messages_toserver", json_integer(h->messages[FLOW_TOSERVER]));
    json_object_set_new_nocheck(o, "messages_toclient", json_integer(h->messages[FLOW_TOCLIENT]));
    if (h->have_first) {
        set_str(o, "message_type", h->first.type);
        set_str(o, "sending_application", h->first.sending_app);
        set_str(o, "sending_facility", h->first.sending_facility);
        set_str(o, "receiving_application", h->first.receiving_app);
        set_str(o, "receiving_facility", h->first.receiving_facility);
        set_str(o, "processing_id", h->first.processing_id);
        set_str(o, "version", h->first.version);
    }
    if (h->ntypes > 0) {
        a = json_array();
        for (i = 0; i < h->ntypes; i++)
            json_array_append_new(a, json_string(h->types[i]));
        json_object_set_new_nocheck(o, "message_types", a);
    }
    set_counters(o, "ack_codes", counters(h->acks, HL7_ACK__COUNT, hl7_ack_key));
    set_counters(o, "anomalies", counters(h->anomalies, HL7_AN__COUNT, hl7_anomaly_key));
    return o;
}

static json_t *service_list(uint16_t mask)
{
    json_t *a = json_array();
    unsigned i;

    for (i = 0; i < DICOM_SVC__COUNT; i++)
        if (mask & (1u << i))
            json_array_append_new(a, ours(dicom_service_name((enum dicom_service)i)));
    return a;
}

/* DICOM: association, presentation contexts, DIMSE commands; no instance or patient data. */
static json_t *dicom_object(const struct dicom_info *d)
{
    json_t *o = json_object(), *a;
    char st[8];
    unsigned i;

    set_str(o, "calling_ae", d->calling_ae);
    set_str(o, "called_ae", d->called_ae);
    json_object_set_new_nocheck(o, "association", ours(dicom_assoc_name(d->assoc)));
    set_str(o, "application_context", d->app_context);
    set_str(o, "implementation_class_uid", d->impl_class);
    set_str(o, "implementation_version", d->impl_version);
    if (d->ctx_proposed > 0 || d->ctx_accepted > 0 || d->ctx_refused > 0) {
        json_object_set_new_nocheck(o, "presentation_contexts",
                                    json_pack("{sisisi}", "proposed", d->ctx_proposed, "accepted",
                                              d->ctx_accepted, "refused", d->ctx_refused));
        json_object_set_new_nocheck(o, "services_proposed", service_list(d->proposed));
        json_object_set_new_nocheck(o, "services_accepted", service_list(d->accepted));
    }
    if (d->assoc == DICOM_ASSOC_REJECTED)
        json_object_set_new_nocheck(
            o, "reject",
            json_pack("{ssssss}", "result", dicom_reject_result_name(d->rj_result), "source",
                      dicom_reject_source_name(d->rj_source), "reason",
                      dicom_reject_reason_name(d->rj_source, d->rj_reason)));
    if (d->assoc == DICOM_ASSOC_ABORTED)
        json_object_set_new_nocheck(
            o, "abort", json_pack("{sisi}", "source", d->abort_source, "reason", d->abort_reason));
    set_counters(o, "commands", counters(d->commands, DICOM_CMD__COUNT, dicom_cmd_key));
    if (d->nsops > 0) {
        a = json_array();
        for (i = 0; i < d->nsops; i++) {
            const char *name = dicom_uid_name(d->sops[i]);
            json_array_append_new(a, json_string(name != NULL ? name : d->sops[i]));
        }
        json_object_set_new_nocheck(o, "sop_classes", a);
    }
    if (d->ndests > 0) {
        a = json_array();
        for (i = 0; i < d->ndests; i++)
            json_array_append_new(a, json_string(d->dests[i]));
        json_object_set_new_nocheck(o, "move_destinations", a);
    }
    if (d->responses > 0) {
        json_object_set_new_nocheck(o, "responses", json_integer(d->responses));
        json_object_set_new_nocheck(o, "failed_responses", json_integer(d->failures));
        if (d->failures > 0) {
            snprintf(st, sizeof(st), "0x%04X", d->last_failure);
            json_object_set_new_nocheck(o, "last_failure_status", ours(st));
        }
    }
    set_counters(o, "anomalies", counters(d->anomalies, DICOM_AN__COUNT, dicom_anomaly_key));
    return o;
}

static json_t *ndpi_object(const struct flow_view *v)
{
    const struct classify_names *names = &v->names;
    const char *risks[64];
    unsigned nr, i;
    json_t *o = json_object(), *arr;

    json_object_set_new_nocheck(o, "protocol", ours(names->protocol));
    set_str(o, "master_protocol", names->master);
    set_str(o, "app_protocol", names->app);
    set_str(o, "category", names->category);
    set_str(o, "confidence", names->confidence);
    nr = classify_risk_names(v->f->app.risk, risks, 64);
    if (nr > 0) {
        arr = json_array();
        for (i = 0; i < nr; i++)
            json_array_append_new(arr, ours(risks[i]));
        json_object_set_new_nocheck(o, "risks", arr);
    }
    json_object_set_new_nocheck(o, "src_zone", ours(v->zone[0]));
    json_object_set_new_nocheck(o, "dest_zone", ours(v->zone[1]));
    if (v->hl7 != NULL)
        json_object_set_new_nocheck(o, "hl7", hl7_object(v->hl7));
    else if (v->dicom != NULL)
        json_object_set_new_nocheck(o, "dicom", dicom_object(v->dicom));
    return o;
}

/* Fields common to every event about a flow. */
static void add_flow_common(json_t *ev, const struct flow_view *v)
{
    const struct flow *f = v->f;
    const char *app_proto = v->names.app_proto;
    char a[48], b[48], pbuf[8], cid[COMMUNITY_ID_LEN], lower[64];
    int has_ports = f->key.proto == 6 || f->key.proto == 17 || f->key.proto == 132;
    int icmp = f->key.proto == 1 || f->key.proto == 58;
    uint16_t sp = icmp ? f->icmp_type : flow_src_port(f);
    uint16_t dp = icmp ? f->icmp_code : flow_dst_port(f);

    if (v->iface != NULL)
        json_object_set_new_nocheck(ev, "in_iface", json_string(v->iface));
    json_object_set_new_nocheck(ev, "flow_id", json_integer((json_int_t)f->id));
    json_object_set_new_nocheck(ev, "src_ip", ours(zone_addr_str(flow_src_addr(f), a, sizeof(a))));
    if (has_ports)
        json_object_set_new_nocheck(ev, "src_port", json_integer(flow_src_port(f)));
    json_object_set_new_nocheck(ev, "dest_ip", ours(zone_addr_str(flow_dst_addr(f), b, sizeof(b))));
    if (has_ports)
        json_object_set_new_nocheck(ev, "dest_port", json_integer(flow_dst_port(f)));
    json_object_set_new_nocheck(ev, "proto", ours(proto_name(f->key.proto, pbuf, sizeof(pbuf))));
    if (icmp) {
        json_object_set_new_nocheck(ev, "icmp_type", json_integer(f->icmp_type));
        json_object_set_new_nocheck(ev, "icmp_code", json_integer(f->icmp_code));
    }
    if (f->key.vlan[0] != 0 || f->key.vlan[1] != 0) {
        json_t *vl = json_array();
        json_array_append_new(vl, json_integer(f->key.vlan[0]));
        if (f->key.vlan[1] != 0)
            json_array_append_new(vl, json_integer(f->key.vlan[1]));
        json_object_set_new_nocheck(ev, "vlan", vl);
    }
    if (community_id_v1(flow_src_addr(f), flow_dst_addr(f), sp, dp, f->key.proto, 0, cid,
                        sizeof(cid)) == 0)
        json_object_set_new_nocheck(ev, "community_id", ours(cid));
    if (app_proto != NULL) {
        size_t i;
        for (i = 0; app_proto[i] && i < sizeof(lower) - 1; i++)
            lower[i] =
                (char)(app_proto[i] >= 'A' && app_proto[i] <= 'Z' ? app_proto[i] + ('a' - 'A')
                                                                  : app_proto[i]);
        lower[i] = '\0';
        json_object_set_new_nocheck(ev, "app_proto", ours(lower));
    }
    json_object_set_new_nocheck(ev, "ndpi", ndpi_object(v));
    add_metadata(ev, v->meta);
}

/*
 * A flow record is made on the output thread, so the packet path only copies what it needs: the
 * flow, its names, zones and interface, its metadata and HL7/DICOM summary, into one block. The
 * copies do not depend on the flow slot, the classifier or the config snapshot, all of which may
 * change or go before the record is made. Blocks are recycled: the output thread hands them
 * back to the writer's pool, so neither thread calls malloc for most records.
 */
#define REC_POOL_MAX 2048u /* blocks a worker keeps for reuse */

enum rec_str {
    REC_HOST = 0,
    REC_IFACE,      /* in_iface of the event, with one capture interface */
    REC_FLOW_IFACE, /* ... of the flow, with several */
    REC_SRC_ZONE,
    REC_DST_ZONE,
    REC_PROTOCOL,
    REC_APP_PROTO,
    REC_MASTER,
    REC_APP,
    REC_CATEGORY,
    REC_CONFIDENCE,
    REC__NSTR
};

struct flow_rec {
    struct flow f;
    struct eve *owner;
    struct flow_rec *next_free;
    const struct classify_meta *meta;
    const struct hl7_info *hl7;
    const struct dicom_info *dicom;
    const char *str[REC__NSTR];
    uint32_t cap;   /* bytes of the block */
    uint8_t reason; /* enum flow_end_reason */
    uint8_t worker; /* whose block it is */
    /* then the metadata, the HL7 or DICOM summary and the strings */
};

#define REC_ALIGN(n) (((n) + 15u) & ~(size_t)15u)

/*
 * A block of at least size bytes for worker's record: a recycled one when the first at hand is
 * large enough. Each worker keeps its own list, taking its blocks the output thread handed
 * back, and frees what is beyond REC_POOL_MAX itself: a block is freed by the thread that
 * allocated it, so neither the output thread nor another worker waits for the lock of a
 * worker's malloc arena.
 */
static struct flow_rec *rec_get(struct eve *e, unsigned worker, size_t size)
{
    struct flow_rec **local, *r;
    unsigned n;

    worker %= MM_MAX_WORKERS;
    local = &e->pool_local[worker];
    if (*local == NULL) { /* take all the output thread has handed back, at once */
        pthread_mutex_lock(&e->pool_mu);
        *local = e->pool_shared[worker];
        n = e->pool_nshared[worker];
        e->pool_shared[worker] = NULL;
        e->pool_nshared[worker] = 0;
        pthread_mutex_unlock(&e->pool_mu);
        for (; n > REC_POOL_MAX; n--) {
            r = *local;
            *local = r->next_free;
            free(r);
        }
    }
    if ((r = *local) != NULL) {
        *local = r->next_free;
        if (r->cap >= size)
            return r;
        free(r);
    }
    size = (size + 63u) & ~(size_t)63u;
    if ((r = malloc(size)) != NULL) {
        r->cap = (uint32_t)size;
        r->worker = (uint8_t)worker;
    }
    return r;
}

static void rec_put(struct flow_rec *r)
{
    struct eve *e = r->owner;

    pthread_mutex_lock(&e->pool_mu);
    r->next_free = e->pool_shared[r->worker];
    e->pool_shared[r->worker] = r;
    e->pool_nshared[r->worker]++;
    pthread_mutex_unlock(&e->pool_mu);
}

static void rec_list_free(struct flow_rec *r)
{
    while (r != NULL) {
        struct flow_rec *next = r->next_free;
        free(r);
        r = next;
    }
}

static size_t str_size(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

static struct flow_rec *flow_rec_new(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                                     enum flow_end_reason reason)
{
    struct flow_view v;
    const char *src[REC__NSTR];
    struct flow_rec *r;
    size_t meta = 0, med, size, n;
    char *tail;
    unsigned i;

    view_of(&v, ctx, f);
    src[REC_HOST] = ctx->cfg->sensor_name;
    src[REC_IFACE] = single_iface(ctx);
    src[REC_FLOW_IFACE] = v.iface;
    src[REC_SRC_ZONE] = v.zone[0];
    src[REC_DST_ZONE] = v.zone[1];
    src[REC_PROTOCOL] = v.names.protocol;
    src[REC_APP_PROTO] = v.names.app_proto;
    src[REC_MASTER] = v.names.master;
    src[REC_APP] = v.names.app;
    src[REC_CATEGORY] = v.names.category;
    src[REC_CONFIDENCE] = v.names.confidence;
    if (v.meta != NULL)
        meta = classify_meta_size(v.meta);
    med = v.hl7 != NULL ? sizeof(*v.hl7) : v.dicom != NULL ? sizeof(*v.dicom) : 0;
    size = REC_ALIGN(sizeof(*r)) + REC_ALIGN(meta) + REC_ALIGN(med);
    for (i = 0; i < REC__NSTR; i++)
        size += str_size(src[i]);
    if ((r = rec_get(e, ctx->worker, size)) == NULL)
        return NULL;
    r->owner = e;
    r->f = *f;
    r->f.app.meta = NULL; /* the live flow's: not to be followed from the copy */
    r->f.app.state = NULL;
    r->f.app.med = NULL;
    r->reason = (uint8_t)reason;
    r->meta = NULL;
    r->hl7 = NULL;
    r->dicom = NULL;
    tail = (char *)r + REC_ALIGN(sizeof(*r));
    if (v.meta != NULL) {
        r->meta = memcpy(tail, v.meta, meta);
        tail += REC_ALIGN(meta);
    }
    if (v.hl7 != NULL)
        r->hl7 = memcpy(tail, v.hl7, med);
    else if (v.dicom != NULL)
        r->dicom = memcpy(tail, v.dicom, med);
    tail += REC_ALIGN(med);
    for (i = 0; i < REC__NSTR; i++) {
        r->str[i] = NULL;
        if ((n = str_size(src[i])) > 0) {
            r->str[i] = memcpy(tail, src[i], n);
            tail += n;
        }
    }
    return r;
}

static json_t *flow_event(const struct flow_view *v, enum flow_end_reason reason, const char *host,
                          const char *iface)
{
    const struct flow *f = v->f;
    char start[48], end[48];
    json_t *ev = event_begin("flow", f->first_us, host, iface), *fo = json_object();

    add_flow_common(ev, v);
    eve_format_time(f->first_us, start, sizeof(start));
    eve_format_time(f->last_us, end, sizeof(end));
    json_object_set_new_nocheck(fo, "pkts_toserver", json_integer(f->pkts[FLOW_TOSERVER]));
    json_object_set_new_nocheck(fo, "pkts_toclient", json_integer(f->pkts[FLOW_TOCLIENT]));
    json_object_set_new_nocheck(fo, "bytes_toserver",
                                json_integer((json_int_t)f->bytes[FLOW_TOSERVER]));
    json_object_set_new_nocheck(fo, "bytes_toclient",
                                json_integer((json_int_t)f->bytes[FLOW_TOCLIENT]));
    json_object_set_new_nocheck(fo, "start", ours(start));
    json_object_set_new_nocheck(fo, "end", ours(end));
    json_object_set_new_nocheck(fo, "age",
                                json_integer((json_int_t)((f->last_us - f->first_us) / 1000000u)));
    json_object_set_new_nocheck(fo, "state", ours(flow_state_name((enum flow_state)f->state)));
    json_object_set_new_nocheck(fo, "reason", ours(flow_end_reason_name(reason)));
    json_object_set_new_nocheck(fo, "alerted", json_boolean(f->flags & FLOW_F_ALERTED));
    json_object_set_new_nocheck(ev, "flow", fo);
    if (f->key.proto == 6)
        json_object_set_new_nocheck(ev, "tcp", tcp_object(f));
    return ev;
}

/* output_render_fn: the flow record's line, made on the output thread. */
static char *render_flow(void *arg, size_t *len)
{
    struct flow_rec *r = arg;
    struct flow_view v = {.f = &r->f,
                          .iface = r->str[REC_FLOW_IFACE],
                          .zone = {r->str[REC_SRC_ZONE], r->str[REC_DST_ZONE]},
                          .meta = r->meta,
                          .hl7 = r->hl7,
                          .dicom = r->dicom};
    char *line;

    snprintf(v.names.protocol, sizeof(v.names.protocol), "%s", r->str[REC_PROTOCOL]);
    v.names.app_proto = r->str[REC_APP_PROTO];
    v.names.master = r->str[REC_MASTER];
    v.names.app = r->str[REC_APP];
    v.names.category = r->str[REC_CATEGORY];
    v.names.confidence = r->str[REC_CONFIDENCE];
    line = event_line(
        flow_event(&v, (enum flow_end_reason)r->reason, r->str[REC_HOST], r->str[REC_IFACE]), len);
    rec_put(r);
    return line;
}

int eve_write_flow(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                   enum flow_end_reason reason)
{
    struct flow_rec *r;

    if (!e->want_flows) /* no output takes flow records: none is made */
        return 0;
    if ((r = flow_rec_new(e, ctx, f, reason)) == NULL)
        return MM_ENOMEM;
    output_submit_deferred(e->out, OUTPUT_EV_FLOW, 0, f->first_us, render_flow, r);
    counted(e);
    return 0;
}

static json_t *string_array(const char *s)
{
    json_t *a = json_array();

    json_array_append_new(a, ours(s));
    return a;
}

/* output_render_fn: an alert's line, dumped on the output thread, and its blocks freed. */
static char *render_alert(void *arg, size_t *len)
{
    char *line;

    arena.carry = arg; /* its objects are freed with its blocks, not one by one */
    arena_begin();     /* the dump's own scratch blocks come from the blocks' rest */
    line = event_line(arena.carry->ev, len);
    carried_free(arena.carry);
    arena.carry = NULL;
    return line;
}

int eve_write_alert(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                    const struct eve_alert *a)
{
    const struct rule *r = a->rule;
    char start[48], count[24];
    json_t *ev, *al, *md, *arr;
    struct flow_view v;
    struct carried *c;
    unsigned i;

    if ((c = malloc(sizeof(*c))) == NULL)
        return MM_ENOMEM;
    c->next = NULL;
    c->used = 0;
    arena.carry = c;
    ev = event_new(ctx, "alert", a->ts_us);
    al = json_object();
    md = json_object();

    if (f != NULL) {
        view_of(&v, ctx, f);
        add_flow_common(ev, &v);
    } else if (a->iface >= 0 && (unsigned)a->iface < ctx->nifaces)
        json_object_set_new_nocheck(ev, "in_iface", json_string(ctx->ifaces[a->iface]));
    json_object_set_new_nocheck(al, "action", ours(a->blocked ? "blocked" : "allowed"));
    json_object_set_new_nocheck(al, "gid", json_integer(1));
    json_object_set_new_nocheck(al, "signature_id", json_integer(r->sid));
    json_object_set_new_nocheck(al, "rev", json_integer(r->rev));
    json_object_set_new_nocheck(al, "signature", ours(r->signature));
    json_object_set_new_nocheck(al, "category", ours(rules_category_name(r->category)));
    json_object_set_new_nocheck(al, "severity", json_integer(r->severity));
    json_object_set_new_nocheck(md, "rule", string_array(r->key));
    if (f != NULL) {
        json_object_set_new_nocheck(md, "src_zone", string_array(v.zone[0]));
        json_object_set_new_nocheck(md, "dest_zone", string_array(v.zone[1]));
    }
    arr = json_array();
    for (i = 0; i < r->nmitre; i++)
        json_array_append_new(arr, ours(r->mitre[i]));
    json_object_set_new_nocheck(md, "mitre_attack", arr);
    json_object_set_new_nocheck(md, "guideline", string_array(r->guideline));
    json_object_set_new_nocheck(md, "message_ja", string_array(r->message_ja));
    arr = json_array();
    for (i = 0; i < a->nevidence; i++)
        json_array_append_new(arr, json_string(a->evidence[i]));
    json_object_set_new_nocheck(md, "evidence", arr);
    snprintf(count, sizeof(count), "%llu", (unsigned long long)a->count);
    json_object_set_new_nocheck(md, "count", string_array(count));
    if (a->response != NULL)
        json_object_set_new_nocheck(md, "response", string_array(a->response));
    json_object_set_new_nocheck(al, "metadata", md);
    json_object_set_new_nocheck(ev, "alert", al);
    if (f != NULL) { /* else about the sensor itself, not a flow */
        eve_format_time(f->first_us, start, sizeof(start));
        json_object_set_new_nocheck(ev, "flow",
                                    json_pack("{sIsIsIsIss}", "pkts_toserver",
                                              (json_int_t)f->pkts[FLOW_TOSERVER], "pkts_toclient",
                                              (json_int_t)f->pkts[FLOW_TOCLIENT], "bytes_toserver",
                                              (json_int_t)f->bytes[FLOW_TOSERVER], "bytes_toclient",
                                              (json_int_t)f->bytes[FLOW_TOCLIENT], "start", start));
    }
    c = arena.carry; /* the newest block, where the dump's scratch goes on */
    arena.carry = NULL;
    arena_end();
    c->ev = ev;
    /* Serialised on the output thread: with several workers this runs under the engine's lock,
     * and the dump is four fifths of an alert's cost. */
    output_submit_deferred(e->out, OUTPUT_EV_ALERT, r->severity, a->ts_us, render_alert, c);
    counted(e);
    return 0;
}

int eve_write_response(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                       const struct eve_response *r, char **copy)
{
    json_t *ev = event_new(ctx, "drop", r->ts_us), *ndpi, *resp, *verdict;
    struct flow_view v;

    if (f != NULL) {
        view_of(&v, ctx, f);
        add_flow_common(ev, &v);
    }
    verdict = json_pack("{ss}", "action", !r->done ? "alert" : r->reset ? "reject" : "drop");
    if (r->done && r->reset) {
        json_object_set_new_nocheck(verdict, "reject", json_pack("[s]", "tcp-reset"));
        json_object_set_new_nocheck(verdict, "reject_target", ours("both"));
    }
    json_object_set_new_nocheck(ev, "drop",
                                json_pack("{sssO}", "reason", r->reason, "verdict", verdict));
    json_decref(verdict);
    resp =
        json_pack("{sssssIssss}", "action", r->action, "rule", r->rule->key, "signature_id",
                  (json_int_t)r->rule->sid, "signature", r->rule->signature, "reason", r->reason);
    if (r->address != NULL) {
        json_object_set_new_nocheck(resp, "address", ours(r->address));
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

static json_t *decoder_object(const struct decode_stats *d)
{
    json_t *o = json_object(), *events = json_object();
    unsigned i;

    json_object_set_new_nocheck(o, "pkts", json_integer((json_int_t)d->pkts));
    json_object_set_new_nocheck(o, "bytes", json_integer((json_int_t)d->bytes));
    json_object_set_new_nocheck(o, "invalid", json_integer((json_int_t)d->invalid));
    for (i = 0; i < DC__COUNT; i++)
        json_object_set_new_nocheck(o, decode_counter_name((enum decode_counter)i),
                                    json_integer((json_int_t)d->layer[i]));
    for (i = 1; i < DA__COUNT; i++) {
        const char *layer = decode_anomaly_layer((enum decode_anomaly)i);
        const char *name = decode_anomaly_name((enum decode_anomaly)i);
        json_t *l;
        if (d->anomaly[i] == 0)
            continue;
        if (layer == NULL) {
            json_object_set_new_nocheck(o, name, json_integer((json_int_t)d->anomaly[i]));
            continue;
        }
        if ((l = json_object_get(events, layer)) == NULL) {
            l = json_object();
            json_object_set_new_nocheck(events, layer, l);
        }
        json_object_set_new_nocheck(l, name, json_integer((json_int_t)d->anomaly[i]));
    }
    json_object_set_new_nocheck(o, "event", events);
    return o;
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole == 0 ? 0.0 : (double)(uint64_t)(10000.0 * (double)part / (double)whole) / 100.0;
}

/* A capture's health figures: drops and what TCP acknowledgments say (see health.h). */
static json_t *health_figures(uint64_t kernel_packets, uint64_t kernel_drops,
                              const struct flow_ack_stats *a)
{
    return json_pack("{sfsIsIsfsIsIsIsf}", "drop_percent", percent(kernel_drops, kernel_packets),
                     "tcp_acks", (json_int_t)a->acks, "one_way_acks", (json_int_t)a->one_way,
                     "one_way_percent", percent(a->one_way, a->acks), "acks_checked",
                     (json_int_t)a->checked, "ack_gaps", (json_int_t)a->gaps, "gap_bytes",
                     (json_int_t)a->gap_bytes, "upstream_loss_percent",
                     percent(a->gaps, a->checked));
}

/* The capture as a whole, and each live interface on its own. */
static json_t *capture_object(const struct eve_stats *st)
{
    struct flow_ack_stats sum = {0};
    json_t *o, *arr;
    unsigned i;

    for (i = 0; i < MM_MAX_IFACES; i++) {
        const struct flow_ack_stats *a = &st->flow->ack[i];
        sum.acks += a->acks, sum.one_way += a->one_way, sum.checked += a->checked;
        sum.gaps += a->gaps, sum.gap_bytes += a->gap_bytes;
    }
    o = health_figures(st->kernel_packets, st->kernel_drops, &sum);
    json_object_set_new_nocheck(o, "clock_steps_back",
                                json_integer((json_int_t)st->clock_steps_back));
    if (st->nifaces == 0)
        return o;
    arr = json_array();
    for (i = 0; i < st->nifaces; i++) {
        const struct eve_iface_stats *f = &st->ifaces[i];
        json_t *x = health_figures(f->kernel_packets, f->kernel_drops, &st->flow->ack[i]);
        json_object_set_new_nocheck(x, "name", json_string(f->name));
        json_object_set_new_nocheck(x, "packets", json_integer((json_int_t)f->packets));
        json_object_set_new_nocheck(x, "kernel_packets",
                                    json_integer((json_int_t)f->kernel_packets));
        json_object_set_new_nocheck(x, "kernel_drops", json_integer((json_int_t)f->kernel_drops));
        json_object_set_new_nocheck(x, "kernel_ifdrops",
                                    json_integer((json_int_t)f->kernel_ifdrops));
        json_array_append_new(arr, x);
    }
    json_object_set_new_nocheck(o, "interfaces", arr);
    if (st->nworkers > 1) { /* how the kernel's fanout shares the traffic out */
        arr = json_array();
        for (i = 0; i < st->nworkers; i++) {
            json_t *x = json_object();
            json_object_set_new_nocheck(x, "packets",
                                        json_integer((json_int_t)st->workers[i].packets));
            json_object_set_new_nocheck(x, "flows", json_integer((json_int_t)st->workers[i].flows));
            json_array_append_new(arr, x);
        }
        json_object_set_new_nocheck(o, "workers", arr);
    }
    return o;
}

void eve_get_output_stats(struct eve *e, struct output_stats *st)
{
    output_get_stats(e->out, st);
}

/*
 * Mimamori's own counters (output delivery, hospital protocol parsers). Suricata's stats schema
 * has no place for them and closes every object but "ndpi", so they ride there.
 */
static json_t *delivery_object(struct eve *e, const struct eve_stats *st)
{
    struct output_stats os;
    json_t *o = json_object(), *arr = json_array();
    unsigned i;

    output_get_stats(e->out, &os);
    json_object_set_new_nocheck(o, "output_queue",
                                json_pack("{sIsIsI}", "queued", (json_int_t)os.queued, "overflowed",
                                          (json_int_t)os.overflowed, "overflow_dropped",
                                          (json_int_t)os.overflow_dropped));
    for (i = 0; i < os.nsinks; i++) {
        const struct output_sink_stats *k = &os.sink[i];
        json_array_append_new(
            arr, json_pack("{sssbsIsIsIsIsIsIsIsI}", "name", k->name, "up", k->up, "sent",
                           (json_int_t)k->sent, "spooled", (json_int_t)k->spooled, "replayed",
                           (json_int_t)k->replayed, "resent", (json_int_t)k->resent, "dropped",
                           (json_int_t)k->dropped, "errors", (json_int_t)k->errors, "reconnects",
                           (json_int_t)k->reconnects, "spool_bytes", (json_int_t)k->spool_bytes));
    }
    json_object_set_new_nocheck(o, "outputs", arr);
    json_object_set_new_nocheck(o, "capture", capture_object(st));
    json_object_set_new_nocheck(o, "classifier",
                                json_pack("{sIsI}", "classifying",
                                          (json_int_t)st->flow->classifying, "given_up",
                                          (json_int_t)st->flow->classify_evicted));
    if (st->hl7_flows + st->dicom_flows > 0)
        json_object_set_new_nocheck(o, "hospital_protocols",
                                    json_pack("{sIsIsIsI}", "hl7_flows", (json_int_t)st->hl7_flows,
                                              "dicom_flows", (json_int_t)st->dicom_flows,
                                              "not_followed", (json_int_t)st->medical_not_followed,
                                              "gaps", (json_int_t)st->medical_gaps));
    return o;
}

int eve_write_stats(struct eve *e, const struct eve_ctx *ctx, const struct eve_stats *st,
                    uint64_t ts_us)
{
    json_t *ev = event_new(ctx, "stats", ts_us), *s = json_object();
    const struct flow_table_stats *fs = st->flow;

    json_object_set_new_nocheck(s, "uptime", json_integer((json_int_t)st->uptime_s));
    json_object_set_new_nocheck(
        s, "capture",
        json_pack("{sIsIsIsI}", "kernel_packets", (json_int_t)st->kernel_packets, "kernel_drops",
                  (json_int_t)st->kernel_drops, "kernel_ifdrops", (json_int_t)st->kernel_ifdrops,
                  "errors", (json_int_t)st->capture_errors));
    json_object_set_new_nocheck(s, "decoder", decoder_object(st->decode));
    json_object_set_new_nocheck(s, "defrag",
                                json_pack("{s{sI}s{sI}}", "ipv4", "fragments",
                                          (json_int_t)st->decode->fragments_v4, "ipv6", "fragments",
                                          (json_int_t)st->decode->fragments_v6));
    json_object_set_new_nocheck(
        s, "flow",
        json_pack("{sIsIsIsIsIsIsIsIsIsIsIs{sIsI}s{s{sIsIsI}}}", "total", (json_int_t)fs->total,
                  "active", (json_int_t)fs->active, "tcp", (json_int_t)fs->tcp, "udp",
                  (json_int_t)fs->udp, "icmpv4", (json_int_t)fs->icmpv4, "icmpv6",
                  (json_int_t)fs->icmpv6, "memuse", (json_int_t)fs->memuse, "memcap",
                  (json_int_t)fs->memcap, "emerg_mode_entered", (json_int_t)fs->emerg_entered,
                  "emerg_mode_over", (json_int_t)fs->emerg_over, "get_used",
                  (json_int_t)fs->evicted, "mgr", "flows_timeout", (json_int_t)fs->timeouts,
                  "flows_evicted", (json_int_t)fs->evicted, "end", "state", "new",
                  (json_int_t)fs->end_state[FLOW_STATE_NEW], "established",
                  (json_int_t)fs->end_state[FLOW_STATE_ESTABLISHED], "closed",
                  (json_int_t)fs->end_state[FLOW_STATE_CLOSED]));
    if (st->detect != NULL) {
        json_t *eng = json_pack("{sIsIsI}", "rules_loaded", (json_int_t)st->detect->rules_loaded,
                                "rules_failed", (json_int_t)st->detect->rules_failed,
                                "rules_skipped", (json_int_t)st->detect->rules_disabled);
        if (st->detect->last_reload_us != 0) {
            char t[48];
            eve_format_time(st->detect->last_reload_us, t, sizeof(t));
            json_object_set_new_nocheck(eng, "last_reload", ours(t));
        }
        json_object_set_new_nocheck(s, "detect",
                                    json_pack("{sIsIs[o]}", "alert", (json_int_t)st->detect->alerts,
                                              "alerts_suppressed",
                                              (json_int_t)st->detect->suppressed, "engines", eng));
    }
    json_object_set_new_nocheck(ev, "stats", s);
    json_object_set_new_nocheck(ev, "ndpi", delivery_object(e, st));
    return emit(e, ev, OUTPUT_EV_STATS, 0, ts_us);
}
