/*
 * The health checks. Each enabled health rule has a small state per capture interface (clock:
 * one): the window it is measuring (start time and the counters at its start), and whether its
 * condition holds and when it last alerted. The ratio checks (one_way, upstream_loss, drops)
 * compare counter deltas over a window once it has at least `threshold` events in its denominator;
 * silence compares the wall clock with the last time the packet count moved; clock is told by the
 * engine about each step back. Nothing here allocates except at create and reload.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/error.h"
#include "mimamori/health.h"
#include "mimamori/limits.h"
#include "mimamori/log.h"
#include "mimamori/rules.h"
#include "mimamori/zone.h"

#define US 1000000ull

/* One rule's state on one interface. */
struct hstate {
    uint64_t window_start_us;
    int windowed; /* a window is being measured */
    uint64_t base_num, base_den;
    uint64_t last_packets, last_change_us; /* silence (output: errors and drops seen) */
    uint64_t since_us;                     /* when the condition began */
    uint64_t alerted_us;                   /* the last alert or reminder */
    uint64_t held;                         /* checks it held since that alert */
    int active;
};

struct hrule {
    const struct rule *r;
    struct hstate s[MM_MAX_IFACES];
};

struct health {
    struct eve *eve;
    const struct eve_ctx *ctx;
    int live;
    struct hrule *hr;
    unsigned n;
    struct health_stats st;
};

struct hev {
    char buf[MM_EVIDENCE_LEN];
    const char *s[MM_MAX_EVIDENCE];
    unsigned len, n;
};

static void hev_add(struct hev *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void hev_add(struct hev *ev, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (ev->n == MM_MAX_EVIDENCE || ev->len >= sizeof(ev->buf))
        return;
    va_start(ap, fmt);
    w = vsnprintf(ev->buf + ev->len, sizeof(ev->buf) - ev->len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof(ev->buf) - ev->len)
        return; /* does not fit: left out whole rather than cut */
    ev->s[ev->n++] = ev->buf + ev->len;
    ev->len += (unsigned)w + 1;
}

static void hev_time(struct hev *ev, const char *name, uint64_t us)
{
    char t[48];

    eve_format_time(us, t, sizeof(t));
    hev_add(ev, "%s=%s", name, t);
}

static void hev_tuple(struct hev *ev, const char *name, const struct flow_tuple *t)
{
    char a[48], b[48];

    hev_add(ev, "%s=%s:%u->%s:%u", name, zone_addr_str(t->src, a, sizeof(a)), t->sport,
            zone_addr_str(t->dst, b, sizeof(b)), t->dport);
}

/* Hundredths of a percent, printed as a decimal. */
static void hev_pct(struct hev *ev, const char *name, uint64_t part, uint64_t whole)
{
    uint64_t c = whole == 0 ? 0 : part * 10000u / whole;

    hev_add(ev, "%s=%llu.%02llu", name, (unsigned long long)(c / 100),
            (unsigned long long)(c % 100));
}

/* Write an alert of rule r about interface i (-1: none) standing for count checks. */
static void write_alert(struct health *h, const struct rule *r, int i, uint64_t now_us,
                        uint64_t count, const struct hev *ev)
{
    struct eve_alert a = {.rule = r, .ts_us = now_us, .iface = i, .count = count};
    unsigned k;

    for (k = 0; k < ev->n; k++)
        a.evidence[a.nevidence++] = ev->s[k];
    h->st.alerts++;
    if (h->live) /* from files it is about the recording: only with -v */
        log_warnx("sensor health: %s (%s)", r->signature, ev->n > 0 ? ev->s[0] : r->key);
    else
        log_info("sensor health: %s (%s)", r->signature, ev->n > 0 ? ev->s[0] : r->key);
    if (h->eve != NULL)
        eve_write_alert(h->eve, h->ctx, NULL, &a);
}

/*
 * The condition of rule r holds on interface i (-1: not about one) at now_us: alert when it
 * begins, remind each dedup period.
 */
static void fire(struct health *h, const struct rule *r, struct hstate *hs, int i, uint64_t now_us,
                 struct hev *ev)
{
    if (!hs->active) {
        hs->active = 1;
        hs->since_us = now_us;
        hs->held = 0;
        h->st.active++;
    } else if (now_us < hs->alerted_us + (uint64_t)r->dedup_s * US) {
        hs->held++;
        return;
    }
    if (i >= 0 && (unsigned)i < h->ctx->nifaces)
        hev_add(ev, "interface=%s", h->ctx->ifaces[i]);
    if (hs->since_us != now_us)
        hev_time(ev, "since", hs->since_us);
    write_alert(h, r, i, now_us, hs->held + 1, ev);
    hs->alerted_us = now_us;
    hs->held = 0;
}

static void clear(struct health *h, const struct rule *r, struct hstate *hs, uint64_t now_us)
{
    if (!hs->active)
        return;
    hs->active = 0;
    h->st.active--;
    log_info("sensor health: %s: over after %llu s", r->key,
             (unsigned long long)(now_us > hs->since_us ? (now_us - hs->since_us) / US : 0));
}

/* The counters a ratio check divides, on one interface. */
static void ratio_of(const struct rule *r, const struct health_iface *f, uint64_t *num,
                     uint64_t *den)
{
    switch (r->health_check) {
    case HEALTH_ONE_WAY:
        *num = f->ack->one_way, *den = f->ack->acks;
        break;
    case HEALTH_UPSTREAM_LOSS:
        *num = f->ack->gaps, *den = f->ack->checked;
        break;
    default: /* HEALTH_DROPS */
        *num = f->kernel_drops, *den = f->kernel_packets;
        break;
    }
}

/* Judge the window of a ratio check that ends now (or is cut short by the end of input). */
static void judge(struct health *h, const struct rule *r, struct hstate *hs, int i,
                  const struct health_sample *s)
{
    const struct health_iface *f = &s->ifc[i];
    uint64_t num, den, dn, dd;
    struct hev ev = {0};

    ratio_of(r, f, &num, &den);
    dn = num - hs->base_num;
    dd = den - hs->base_den;
    log_debug("health: %s on %s: window judged, %llu of %llu%s", r->key,
              f->name != NULL ? f->name : "input", (unsigned long long)dn, (unsigned long long)dd,
              dd < r->threshold ? ", too few for a verdict" : "");
    if (dd < r->threshold) /* too little to go by: no verdict either way */
        return;
    if (dn * 100u < (uint64_t)r->percent * dd) {
        clear(h, r, hs, s->now_us);
        return;
    }
    switch (r->health_check) {
    case HEALTH_ONE_WAY:
        hev_pct(&ev, "one_way_percent", dn, dd);
        hev_add(&ev, "tcp_acks=%llu", (unsigned long long)dd);
        hev_tuple(&ev, "example", &f->ack->one_way_example);
        break;
    case HEALTH_UPSTREAM_LOSS:
        hev_pct(&ev, "loss_percent", dn, dd);
        hev_add(&ev, "acks_for_unseen_data=%llu", (unsigned long long)dn);
        hev_add(&ev, "tcp_acks=%llu", (unsigned long long)dd);
        hev_tuple(&ev, "example", &f->ack->gap_example);
        break;
    default:
        hev_pct(&ev, "drop_percent", dn, dd);
        hev_add(&ev, "kernel_drops=%llu", (unsigned long long)dn);
        hev_add(&ev, "kernel_packets=%llu", (unsigned long long)dd);
        break;
    }
    hev_add(&ev, "window_s=%llu",
            (unsigned long long)((s->now_us - hs->window_start_us + US / 2) / US));
    fire(h, r, hs, h->live ? i : -1, s->now_us, &ev);
}

static void window_start(const struct rule *r, struct hstate *hs, const struct health_iface *f,
                         uint64_t now_us)
{
    hs->window_start_us = now_us;
    hs->windowed = 1;
    ratio_of(r, f, &hs->base_num, &hs->base_den);
}

static void check_silence(struct health *h, const struct rule *r, struct hstate *hs, int i,
                          const struct health_sample *s)
{
    const struct health_iface *f = &s->ifc[i];
    struct hev ev = {0};

    if (hs->last_change_us == 0 || f->packets != hs->last_packets ||
        s->now_us < hs->last_change_us) {
        hs->last_packets = f->packets;
        hs->last_change_us = s->now_us;
        clear(h, r, hs, s->now_us);
        return;
    }
    if (s->now_us - hs->last_change_us < (uint64_t)r->window_s * US)
        return;
    hev_add(&ev, "silent_s=%llu", (unsigned long long)((s->now_us - hs->last_change_us) / US));
    hev_add(&ev, "packets_total=%llu", (unsigned long long)f->packets);
    hev_time(&ev, "last_change", hs->last_change_us);
    fire(h, r, hs, i, s->now_us, &ev);
}

/* Whether rule r is judged from windows of counters (in this mode). */
static int windowed_check(const struct health *h, const struct rule *r)
{
    return r->health_check == HEALTH_ONE_WAY || r->health_check == HEALTH_UPSTREAM_LOSS ||
           (r->health_check == HEALTH_DROPS && h->live);
}

/*
 * A destination that is down, or whose writes failed since the last sample, is failing; the
 * alert names it and counts what it spooled and dropped since it began. When it is up again
 * and writing, an alert of the same rule says it recovered, after how long, and what was
 * spooled (delivered late) and dropped (lost) meanwhile.
 */
static void check_output(struct health *h, const struct rule *r, struct hstate *hs,
                         const struct output_sink_stats *k, uint64_t now_us)
{
    uint64_t errors = k->errors + k->dropped;
    int failing = !k->up || errors != hs->last_packets;
    struct hev ev = {0};

    hs->last_packets = errors;
    if (failing || hs->active) { /* counted from the last sample that saw it well */
        hev_add(&ev, "output=%s", k->name);
        hev_add(&ev, "state=%s", failing ? (k->up ? "failing" : "down") : "recovered");
        hev_add(&ev, "events_spooled=%llu", (unsigned long long)(k->spooled - hs->base_num));
        hev_add(&ev, "events_dropped=%llu", (unsigned long long)(k->dropped - hs->base_den));
    }
    if (failing) {
        fire(h, r, hs, -1, now_us, &ev);
        return;
    }
    if (hs->active) { /* back: said as an alert too, with what the outage cost */
        hev_add(&ev, "down_s=%llu",
                (unsigned long long)(now_us > hs->since_us ? (now_us - hs->since_us) / US : 0));
        hev_time(&ev, "since", hs->since_us);
        write_alert(h, r, -1, now_us, 1, &ev);
        clear(h, r, hs, now_us);
    }
    hs->base_num = k->spooled; /* the next outage is counted from here */
    hs->base_den = k->dropped;
}

void health_sample(struct health *h, const struct health_sample *s)
{
    unsigned k, i;

    for (k = 0; k < h->n; k++) {
        const struct rule *r = h->hr[k].r;
        if (r->health_check == HEALTH_OUTPUT) {
            for (i = 0; s->out != NULL && i < s->out->nsinks && i < MM_MAX_IFACES; i++)
                check_output(h, r, &h->hr[k].s[i], &s->out->sink[i], s->now_us);
            continue;
        }
        for (i = 0; i < s->n && i < MM_MAX_IFACES; i++) {
            struct hstate *hs = &h->hr[k].s[i];
            if (r->health_check == HEALTH_SILENCE && h->live) {
                check_silence(h, r, hs, (int)i, s);
            } else if (windowed_check(h, r)) {
                if (!hs->windowed || s->now_us < hs->window_start_us) {
                    window_start(r, hs, &s->ifc[i], s->now_us);
                } else if (s->now_us - hs->window_start_us >= (uint64_t)r->window_s * US) {
                    judge(h, r, hs, (int)i, s);
                    window_start(r, hs, &s->ifc[i], s->now_us);
                }
            }
        }
    }
}

void health_finish(struct health *h, const struct health_sample *s)
{
    unsigned k, i;

    for (k = 0; k < h->n; k++)
        for (i = 0; i < s->n && i < MM_MAX_IFACES; i++) {
            struct hstate *hs = &h->hr[k].s[i];
            if (windowed_check(h, h->hr[k].r) && hs->windowed && s->now_us >= hs->window_start_us)
                judge(h, h->hr[k].r, hs, (int)i, s);
        }
}

void health_clock(struct health *h, uint64_t ts_us, uint64_t latest_us)
{
    unsigned k;

    h->st.steps_back++;
    if (!h->live) /* a file holds another machine's clock: counted, not the sensor's fault */
        return;
    for (k = 0; k < h->n; k++) {
        const struct rule *r = h->hr[k].r;
        struct hev ev = {0};
        uint64_t back = latest_us - ts_us;
        if (r->health_check != HEALTH_CLOCK || back <= (uint64_t)r->tolerance_s * US)
            continue;
        hev_add(&ev, "step_back_s=%llu.%06llu", (unsigned long long)(back / US),
                (unsigned long long)(back % US));
        hev_time(&ev, "packet_time", ts_us);
        hev_time(&ev, "latest_packet_time", latest_us);
        /* Judged on the later clock: repeats of one step fold until it has passed dedup. */
        fire(h, r, &h->hr[k].s[0], -1, latest_us, &ev);
    }
}

static unsigned active_in(const struct hrule *hr)
{
    unsigned i, n = 0;

    for (i = 0; i < MM_MAX_IFACES; i++)
        n += hr->s[i].active != 0;
    return n;
}

/* The health rules of cfg, with the state of old rules of the same key and check. */
static int build(struct health *h, const struct mm_config *cfg, struct hrule **out, unsigned *nout)
{
    const struct ruleset *rs = cfg->ruleset;
    struct hrule *hr;
    unsigned i, j, n = 0;

    for (i = 0; rs != NULL && i < rs->n; i++)
        n += rs->r[i].type == RULE_HEALTH && rs->r[i].enabled;
    if ((hr = calloc(n + 1, sizeof(*hr))) == NULL)
        return MM_ENOMEM;
    n = 0;
    for (i = 0; rs != NULL && i < rs->n; i++) {
        const struct rule *r = &rs->r[i];
        if (r->type != RULE_HEALTH || !r->enabled)
            continue;
        for (j = 0; j < h->n; j++)
            if (h->hr[j].r != NULL && strcmp(h->hr[j].r->key, r->key) == 0 &&
                h->hr[j].r->health_check == r->health_check)
                break;
        if (j < h->n) {
            hr[n] = h->hr[j];
            h->hr[j].r = NULL; /* carried over: its conditions go on */
        }
        hr[n++].r = r;
    }
    *out = hr;
    *nout = n;
    return 0;
}

int health_create(struct health **out, const struct mm_config *cfg, struct eve *eve,
                  const struct eve_ctx *ctx, int live)
{
    struct health *h;

    *out = NULL;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return MM_ENOMEM;
    h->eve = eve;
    h->ctx = ctx;
    h->live = live;
    if (health_reload(h, cfg) != 0) {
        free(h);
        return MM_ENOMEM;
    }
    *out = h;
    return 0;
}

int health_reload(struct health *h, const struct mm_config *cfg)
{
    struct hrule *hr;
    unsigned n, i;

    if (build(h, cfg, &hr, &n) != 0)
        return MM_ENOMEM;
    for (i = 0; i < h->n; i++) /* conditions of removed rules end here */
        if (h->hr[i].r != NULL)
            h->st.active -= active_in(&h->hr[i]);
    free(h->hr);
    h->hr = hr;
    h->n = n;
    return 0;
}

void health_destroy(struct health *h)
{
    if (h == NULL)
        return;
    free(h->hr);
    free(h);
}

void health_get_stats(const struct health *h, struct health_stats *st)
{
    *st = h->st;
}
