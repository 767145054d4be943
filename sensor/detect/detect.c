/*
 * Rule evaluation on flow events. When a flow's classification is final (or at its end if it
 * never was), the per-flow rules run: egress, DNS resolver, lateral movement, fan-out, remote
 * maintenance, obsolete protocols, nDPI risks, beaconing, then segmentation for flows no more
 * specific rule matched. When a flow ends, the rules that need its whole life run: scans,
 * brute force, exfiltration volume, rogue services. The hospital-protocol rules (medical zones,
 * DICOM AE titles, HL7 senders, rejected associations) run at classification and again each
 * time an HL7 or DICOM parser reports news, looking only at what is new. An alert first passes
 * the site's suppressions (counted), then folding: the same rule for the same scope within the
 * rule's dedup time becomes one alert, and the repeats are reported with their count when the
 * time is up. Multicast and broadcast destinations are never "the internet".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/error.h"
#include "mimamori/medical.h"
#include "mimamori/response.h"
#include "mimamori/rules.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

#define US 1000000ull

struct evidence {
    char buf[MM_EVIDENCE_LEN];
    unsigned len, n;
};

struct fold {
    uint64_t key; /* 0: empty */
    uint64_t first_us, last_us, expires_us, count;
    unsigned rule;
    struct flow flow; /* the latest occurrence, without classifier pointers */
    struct evidence ev;
};

struct detect {
    const struct mm_config *cfg;
    const struct ruleset *rs;
    struct eve *eve;
    const struct eve_ctx *ctx;
    const struct dnscache *dns;
    struct track **track; /* per rule, for the counting types */
    int *supp_rule;       /* per suppression: the rule index it silences */
    unsigned *classified, ncl, *segment, nseg, *ended, nend, *medical, nmed;
    struct fold *folds;
    uint64_t fold_used[MM_DEDUP_SLOTS / 64]; /* a bit per open fold: walks skip the rest */
    uint64_t next_sweep_us;
    uint64_t next_expiry_us; /* earliest end of an open fold (UINT64_MAX: none) */
    int svc_proto[SVC__COUNT];
    struct detect_stats st;
    struct response *resp; /* or NULL */
};

/* What every rule looks at, computed once per event. */
struct fctx {
    struct flow *f;
    const uint8_t *src, *dst;
    int sz, dz; /* zones */
    uint64_t now;
    int local_only; /* a multicast, broadcast or unspecified end */
    const struct detect *d;
    int named; /* names filled (only when an alert needs them) */
    struct classify_names names;
};

/* The flow's protocol names, looked up the first time an alert needs them. */
static const struct classify_names *names(struct fctx *x)
{
    if (!x->named) {
        x->named = 1;
        if (x->d->ctx != NULL && x->d->ctx->cls != NULL) {
            classify_names(x->d->ctx->cls, &x->f->app, &x->names);
        } else {
            memset(&x->names, 0, sizeof(x->names));
            strcpy(x->names.protocol, "Unknown");
        }
        if (x->names.category == NULL)
            x->names.category = "Unknown";
    }
    return &x->names;
}

/* --- evidence ------------------------------------------------------------------------------- */

/*
 * Every rule starts an evidence list on every flow it looks at and most return before adding
 * to it, so it is emptied, not zeroed: a 320-byte memset per rule and flow was 2% of the worker.
 */
static void ev_clear(struct evidence *ev)
{
    ev->len = ev->n = 0;
    ev->buf[0] = '\0';
}

static void ev_add(struct evidence *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ev_add(struct evidence *ev, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ev->n == MM_MAX_EVIDENCE || ev->len >= sizeof(ev->buf) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(ev->buf + ev->len, sizeof(ev->buf) - ev->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(ev->buf) - ev->len) {
        ev->buf[ev->len] = '\0'; /* does not fit: leave it out whole */
        return;
    }
    ev->len += (unsigned)n + 1;
    ev->n++;
}

static void ev_addr(struct evidence *ev, const char *name, const uint8_t a[16])
{
    char s[48];
    ev_add(ev, "%s=%s", name, zone_addr_str(a, s, sizeof(s)));
}

/* --- helpers -------------------------------------------------------------------------------- */

static int zin(zone_set s, int z)
{
    return z >= 0 && (s & ZONE_BIT(z)) != 0;
}

static int not_unicast(const uint8_t a[16])
{
    static const uint8_t zero[16];
    static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(a, zero, 16) == 0 || a[0] == 0xff)
        return 1;
    if (memcmp(a, v4, 12) == 0)
        return a[12] >= 224 || (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 0);
    return 0;
}

/* Whether the server answered (a SYN-ACK, or any packet back for other protocols). */
static int answered(const struct flow *f)
{
    if (f->key.proto == 6 && (f->tcp_flags[FLOW_TOSERVER] & TCP_SYN))
        return (f->tcp_flags[FLOW_TOCLIENT] & TCP_SYN) != 0;
    return f->pkts[FLOW_TOCLIENT] > 0;
}

static int is_probe(const struct flow *f);

static int excluded(const struct rule *r, const struct flow *f)
{
    return !rules_match_empty(&r->exclude) && rules_match(&r->exclude, f);
}

/* The client zone in from and not in except_from, the server zone in to. */
static int in_scope(const struct rule *r, const struct fctx *x)
{
    return zin(r->from, x->sz) && !zin(r->except_from, x->sz) && zin(r->to, x->dz) &&
           !excluded(r, x->f);
}

/* A name for the server: TLS SNI, HTTP host, else the name a DNS answer gave for it. */
static const char *dest_name(const struct detect *d, const struct flow *f, const uint8_t *addr,
                             const char **via)
{
    const char *s;

    if (addr == flow_dst_addr(f) && (s = classify_meta_get(f->app.meta, META_TLS_SNI)) != NULL) {
        *via = "sni";
        return s;
    }
    if (addr == flow_dst_addr(f) && (s = classify_meta_get(f->app.meta, META_HTTP_HOST)) != NULL) {
        *via = "http_host";
        return s;
    }
    if (d->dns != NULL && (s = dnscache_lookup(d->dns, addr, f->last_us)) != NULL) {
        *via = "dns_name";
        return s;
    }
    return NULL;
}

static int domain_allowed(const struct config_egress *eg, const char *name)
{
    unsigned i;

    for (i = 0; name != NULL && i < eg->ndomains; i++)
        if (config_domain_match(eg->domains[i], name))
            return 1;
    return 0;
}

/*
 * Whether zone's egress allowlist covers the flow's traffic to the external address ext: by
 * network or protocol, and when by_name also by the destination's name.
 */
static int egress_covers(const struct detect *d, int zone, const struct flow *f, const uint8_t *ext,
                         int by_name)
{
    const struct config_egress *eg = zone >= 0 ? d->cfg->egress[zone] : NULL;
    unsigned i;

    if (eg == NULL)
        return 0;
    if (zone_map_lookup(eg->nets, ext) >= 0)
        return 1;
    for (i = 0; i < eg->nprotocols; i++)
        if (classify_is(&f->app, eg->protocols[i]))
            return 1;
    if (!by_name)
        return 0;
    if (ext == flow_dst_addr(f) &&
        (domain_allowed(eg, classify_meta_get(f->app.meta, META_TLS_SNI)) ||
         domain_allowed(eg, classify_meta_get(f->app.meta, META_HTTP_HOST))))
        return 1;
    return d->dns != NULL && domain_allowed(eg, dnscache_lookup(d->dns, ext, f->last_us));
}

static int egress_allowed(const struct detect *d, int zone, const struct flow *f,
                          const uint8_t *ext)
{
    return egress_covers(d, zone, f, ext, 1);
}

static void ev_dest_name(const struct detect *d, struct evidence *ev, const struct flow *f,
                         const uint8_t *addr)
{
    const char *via, *name = dest_name(d, f, addr, &via);

    if (name != NULL)
        ev_add(ev, "%s=%s", via, name);
}

/* --- alerts, suppression and folding ------------------------------------------------------- */

static void emit(struct detect *d, const struct flow *f, unsigned ri, uint64_t ts_us,
                 uint64_t count, const struct evidence *ev, const struct response_outcome *ro)
{
    struct eve_alert a = {.rule = &d->rs->r[ri], .ts_us = ts_us, .count = count, .iface = -1};
    const char *p = ev->buf;
    unsigned i;

    for (i = 0; i < ev->n; i++, p += strlen(p) + 1)
        a.evidence[a.nevidence++] = p;
    if (ro != NULL && ro->text[0] != '\0') {
        a.blocked = ro->blocked;
        a.response = ro->text;
    }
    d->st.alerts++;
    if (d->eve != NULL)
        eve_write_alert(d->eve, d->ctx, f, &a);
}

/* Report the repeats a fold collected, and free it. */
static void fold_close(struct detect *d, struct fold *fo)
{
    size_t i;

    if (fo->count > 1) {
        struct evidence ev = fo->ev;
        char t[48];
        eve_format_time(fo->first_us, t, sizeof(t));
        ev_add(&ev, "repeats_since=%s", t);
        d->st.fold_reports++;
        emit(d, &fo->flow, fo->rule, fo->last_us, fo->count - 1, &ev, NULL);
    }
    fo->key = 0;
    i = (size_t)(fo - d->folds);
    d->fold_used[i / 64] &= ~(1ull << (i % 64));
}

/*
 * The open folds, for walks over them all: the table is 2 MB of mostly empty slots, which a
 * walk would otherwise read through (each of its pages faulted in, at exit, just to find it
 * empty). Calls fn for each; fn may close the fold.
 */
static void folds_each(struct detect *d, void (*fn)(struct detect *, struct fold *, void *),
                       void *arg)
{
    size_t w;

    for (w = 0; w < MM_DEDUP_SLOTS / 64; w++) {
        uint64_t bits;
        for (bits = d->fold_used[w]; bits != 0; bits &= bits - 1)
            fn(d, &d->folds[w * 64 + (size_t)__builtin_ctzll(bits)], arg);
    }
}

static int suppressed(const struct detect *d, unsigned ri, const struct fctx *x)
{
    unsigned i;

    for (i = 0; i < d->cfg->nsuppress; i++) {
        const struct config_suppress *s = &d->cfg->suppress[i];
        if (d->supp_rule[i] == (int)ri && config_hostset_has(&s->src, x->src, x->sz) &&
            config_hostset_has(&s->dst, x->dst, x->dz) &&
            (s->port == 0 || s->port == flow_dst_port(x->f)))
            return 1;
    }
    return 0;
}

enum scope { SCOPE_PAIR, SCOPE_SRC, SCOPE_DST };

/*
 * A rule fired on the flow in x. scope says what "the same alert" means for folding: the
 * address pair, the source alone, or the destination (server) alone.
 */
static void raise_alert(struct detect *d, struct fctx *x, unsigned ri, enum scope scope,
                        const struct evidence *ev)
{
    const struct rule *r = &d->rs->r[ri];
    uint8_t buf[36] = {0};
    struct fold *fo, *victim = NULL;
    uint64_t key;
    unsigned i, h;
    struct response_outcome ro = {0};

    if (suppressed(d, ri, x)) {
        d->st.suppressed++;
        return;
    }
    x->f->flags |= FLOW_F_ALERTED;
    /* Every match is answered, folded or not: a repeat is a new connection to end. */
    if (d->resp != NULL)
        response_match(d->resp, r, x->f, x->now, &ro);
    memcpy(buf, &r->sid, sizeof(r->sid)); /* the rule's id: stable across reloads */
    if (scope != SCOPE_DST)
        memcpy(buf + 4, x->src, 16);
    if (scope != SCOPE_SRC)
        memcpy(buf + 20, x->dst, 16);
    key = detect__hash(0, buf, sizeof(buf));
    h = (unsigned)(key ^ (key >> 32));
    for (i = 0; i < MM_DEDUP_PROBE; i++) {
        fo = &d->folds[(h + i) & (MM_DEDUP_SLOTS - 1)];
        if (fo->key == key) {
            if (x->now < fo->expires_us) {
                fo->count++;
                fo->last_us = x->now;
                fo->flow = *x->f;
                fo->flow.app.meta = NULL;
                fo->flow.app.state = NULL;
                fo->flow.app.med = NULL;
                fo->ev = *ev;
                d->st.folded++;
                return;
            }
            fold_close(d, fo);
            victim = fo;
            break;
        }
        if (fo->key == 0 && victim == NULL)
            victim = fo;
    }
    if (victim == NULL) { /* all busy: close the fold that would end first */
        for (i = 0; i < MM_DEDUP_PROBE; i++) {
            fo = &d->folds[(h + i) & (MM_DEDUP_SLOTS - 1)];
            if (victim == NULL || fo->expires_us < victim->expires_us)
                victim = fo;
        }
        d->st.fold_evictions++;
        fold_close(d, victim);
    }
    victim->key = key;
    i = (unsigned)(victim - d->folds);
    d->fold_used[i / 64] |= 1ull << (i % 64);
    victim->rule = ri;
    victim->count = 1;
    victim->first_us = victim->last_us = x->now;
    victim->expires_us = x->now + (uint64_t)r->dedup_s * US;
    if (victim->expires_us < d->next_expiry_us)
        d->next_expiry_us = victim->expires_us;
    victim->flow = *x->f;
    victim->flow.app.meta = NULL;
    victim->flow.app.state = NULL;
    victim->flow.app.med = NULL;
    victim->ev = *ev;
    emit(d, x->f, ri, x->now, 1, ev, &ro);
}

/* --- per-flow rules ------------------------------------------------------------------------- */

/* Whether one of the rule's allow entries covers the flow. */
static int allowed(const struct rule *r, const struct fctx *x)
{
    unsigned i;

    for (i = 0; i < r->nallow; i++) {
        const struct rule_allow *a = &r->allow[i];
        if ((a->from == 0 || zin(a->from, x->sz)) && (a->to == 0 || zin(a->to, x->dz)) &&
            rules_match(&a->match, x->f))
            return 1;
    }
    return 0;
}

static int eval_segmentation(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;

    ev_clear(&ev);
    if (!in_scope(r, x) || (x->sz == x->dz && !r->same_zone) || allowed(r, x))
        return 0;
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    ev_add(&ev, "dest_port=%u", flow_dst_port(x->f));
    ev_add(&ev, "allowed_exceptions=%u", r->nallow);
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_egress(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;

    ev_clear(&ev);
    if (x->dz != ZONE_INTERNET || x->sz == ZONE_INTERNET || !in_scope(r, x))
        return 0;
    if (!rules_match_empty(&r->match)) {
        /* A refused attempt uses no tunnel (port scans try these ports); names do not allow
         * a tunnel, only the zone's protocols and networks do. */
        if (!rules_match(&r->match, f) || !answered(f) || egress_covers(d, x->sz, f, x->dst, 0))
            return 0;
        ev_add(&ev, "protocol=%s", names(x)->protocol);
        ev_add(&ev, "category=%s", names(x)->category);
    } else {
        /* Approved resolvers and time servers ask upstream servers: that is their job. */
        if ((classify_is(&f->app, (uint16_t)d->svc_proto[SVC_DNS]) &&
             config_is_service(d->cfg, SVC_DNS, x->src)) ||
            (classify_is(&f->app, (uint16_t)d->svc_proto[SVC_NTP]) &&
             config_is_service(d->cfg, SVC_NTP, x->src)))
            return 0;
        if (egress_allowed(d, x->sz, f, x->dst))
            return 0;
        ev_add(&ev, "protocol=%s", names(x)->protocol);
        ev_dest_name(d, &ev, f, x->dst);
    }
    ev_add(&ev, "zone_allowlist=%s", d->cfg->egress[x->sz] != NULL ? "no match" : "none");
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_dns_resolver(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    char a[48];

    ev_clear(&ev);
    if (d->cfg->services[SVC_DNS].n == 0 || x->sz == ZONE_INTERNET || !in_scope(r, x))
        return 0;
    if (!classify_is(&f->app, (uint16_t)d->svc_proto[SVC_DNS]) &&
        !((f->key.proto == 17 || f->key.proto == 6) && flow_dst_port(f) == 53))
        return 0;
    if (config_is_service(d->cfg, SVC_DNS, x->src) || config_is_service(d->cfg, SVC_DNS, x->dst))
        return 0;
    ev_addr(&ev, "resolver", x->dst);
    ev_add(&ev, "approved_resolvers=%s%s",
           zone_addr_str(d->cfg->services[SVC_DNS].addr[0], a, sizeof(a)),
           d->cfg->services[SVC_DNS].n > 1 ? ",..." : "");
    if (classify_meta_get(f->app.meta, META_DNS_RRNAME) != NULL)
        ev_add(&ev, "query=%s", classify_meta_get(f->app.meta, META_DNS_RRNAME));
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_lateral(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;

    ev_clear(&ev);
    if (!in_scope(r, x) || (x->sz == x->dz && !r->same_zone) || !rules_match(&r->match, x->f))
        return 0;
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    ev_add(&ev, "dest_port=%u", flow_dst_port(x->f));
    ev_add(&ev, "answered=%s", x->f->pkts[FLOW_TOCLIENT] > 0 ? "yes" : "no");
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_fanout(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;
    struct track_entry *e;
    unsigned n;

    ev_clear(&ev);
    if (!in_scope(r, x) || !rules_match(&r->match, x->f))
        return 0;
    e = detect__track_get(d->track[ri], detect__hash(ri, x->src, 16), x->now);
    n = detect__track_distinct(d->track[ri], e, detect__hash(0, x->dst, 16), x->f->first_us,
                               (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    ev_add(&ev, "distinct_hosts=%u", n);
    ev_add(&ev, "window_s=%u", r->window_s);
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    raise_alert(d, x, ri, SCOPE_SRC, &ev);
    return 1;
}

static int window_active(const struct detect *d, const struct config_window *w, uint64_t ts_us)
{
    int64_t t = (int64_t)(ts_us / US);
    int wday, min;

    if (w->days == 0)
        return t >= w->from_s && t < w->until_s;
    tz_local(d->cfg->tz, t, &wday, &min);
    if (w->start_min <= w->end_min)
        return (w->days & (1u << wday)) && min >= w->start_min && min < w->end_min;
    /* crosses midnight: the evening of a listed day, or the morning after it */
    return ((w->days & (1u << wday)) && min >= w->start_min) ||
           ((w->days & (1u << ((wday + 6) % 7))) && min < w->end_min);
}

static int eval_maintenance(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct config_window *hit = NULL, *partial = NULL;
    const uint8_t *target, *source;
    struct evidence ev;
    int tz_, sz_, session;
    unsigned i;

    ev_clear(&ev);
    if (x->sz == x->dz || excluded(r, x->f))
        return 0;
    /* From a vendor zone, or a remote-access protocol from outside the internal zones. */
    session = zin(r->to, x->dz) &&
              (zin(r->from, x->sz) || (!zin(r->to, x->sz) && !rules_match_empty(&r->match) &&
                                       rules_match(&r->match, x->f)));
    if (!session)
        return 0;
    target = x->dst, tz_ = x->dz, source = x->src, sz_ = x->sz;
    for (i = 0; i < d->cfg->nwindows && hit == NULL; i++) {
        const struct config_window *w = &d->cfg->windows[i];
        if (!window_active(d, w, x->f->first_us) || !config_hostset_has(&w->sources, source, sz_))
            continue;
        if (config_hostset_has(&w->targets, target, tz_))
            hit = w;
        else
            partial = w;
    }
    if ((hit != NULL) != r->inside_window)
        return 0;
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    ev_addr(&ev, "target", target);
    ev_addr(&ev, "remote", source);
    if (hit != NULL) {
        ev_add(&ev, "window=%s", hit->name);
        if (hit->ticket[0] != '\0')
            ev_add(&ev, "ticket=%s", hit->ticket);
    } else if (partial != NULL) {
        ev_add(&ev, "reason=target not approved in window %s", partial->name);
    } else {
        ev_add(&ev, "reason=no maintenance window open for this source");
    }
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_obsolete(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    const char *tv = classify_meta_get(f->app.meta, META_TLS_VERSION);
    struct evidence ev;
    uint64_t risk = f->app.risk & r->risks;
    int hit = 0;
    unsigned i;

    ev_clear(&ev);
    /* A refused or probed port is no use of the protocol (scans try 21 and 23). */
    if (!in_scope(r, x) || !answered(f) || is_probe(f))
        return 0;
    if (!rules_match_empty(&r->match) && rules_match(&r->match, f)) {
        ev_add(&ev, "protocol=%s", names(x)->protocol);
        hit = 1;
    }
    if (tv != NULL && (r->tls_versions & rules_tls_version_bit(tv))) {
        ev_add(&ev, "tls_version=%s", tv);
        hit = 1;
    }
    for (i = 1; i < 64 && risk != 0; i++) {
        if (risk & (1ull << i)) {
            ev_add(&ev, "risk=%s", classify_risk_key(i));
            risk &= ~(1ull << i);
            hit = 1;
        }
    }
    if (!hit)
        return 0;
    ev_addr(&ev, "server", x->dst);
    ev_add(&ev, "dest_port=%u", flow_dst_port(f));
    if (classify_meta_get(f->app.meta, META_SSH_SERVER) != NULL)
        ev_add(&ev, "ssh_server=%s", classify_meta_get(f->app.meta, META_SSH_SERVER));
    raise_alert(d, x, ri, SCOPE_DST, &ev);
    return 1;
}

static int eval_ndpi_risk(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    uint64_t risk = f->app.risk & r->risks;
    struct evidence ev;
    const char *ja3 = classify_meta_get(f->app.meta, META_TLS_JA3);
    unsigned i;

    ev_clear(&ev);
    if (risk == 0 || !in_scope(r, x))
        return 0;
    for (i = 1; i < 64; i++)
        if (risk & (1ull << i))
            ev_add(&ev, "risk=%s", classify_risk_key(i));
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    ev_dest_name(d, &ev, f, x->dst);
    if (ja3 != NULL)
        ev_add(&ev, "ja3=%s", ja3);
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_beaconing(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;
    struct track_entry *e;
    uint8_t buf[34];
    uint16_t dport = flow_dst_port(x->f);
    uint64_t t = x->f->first_us, mean, dev = 0;
    unsigned n, i;

    ev_clear(&ev);
    if (x->sz == ZONE_INTERNET || !in_scope(r, x) ||
        (r->skip_allowed && egress_allowed(d, x->sz, x->f, x->dst)))
        return 0;
    memcpy(buf, x->src, 16);
    memcpy(buf + 16, x->dst, 16);
    memcpy(buf + 32, &dport, 2);
    e = detect__track_get(d->track[ri], detect__hash(ri, buf, sizeof(buf)), x->now);
    /* Connections opened together (a burst) count as one. */
    if (e->n > 0 && t < e->item[e->n - 1].ts_us + (uint64_t)r->min_interval_s * US / 2)
        return 0;
    n = detect__track_times(d->track[ri], e, t, 86400ull * US);
    if (n < r->threshold)
        return 0;
    mean = (e->item[n - 1].ts_us - e->item[0].ts_us) / (n - 1);
    if (mean < (uint64_t)r->min_interval_s * US)
        return 0;
    for (i = 1; i < n; i++) {
        uint64_t iv = e->item[i].ts_us - e->item[i - 1].ts_us;
        uint64_t dv = iv > mean ? iv - mean : mean - iv;
        if (dv > dev)
            dev = dv;
    }
    if (dev * 100 > (uint64_t)r->jitter_pct * mean)
        return 0;
    detect__track_reset(e);
    ev_add(&ev, "connections=%u", n);
    ev_add(&ev, "interval_s=%.1f", (double)mean / US);
    ev_add(&ev, "max_deviation_pct=%.1f", 100.0 * (double)dev / (double)mean);
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    ev_dest_name(d, &ev, x->f, x->dst);
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

/* --- end-of-flow rules ---------------------------------------------------------------------- */

/* A connection attempt that failed, went unanswered, or stopped after the handshake. */
static int is_probe(const struct flow *f)
{
    const uint8_t cs = f->tcp_flags[FLOW_TOSERVER], sc = f->tcp_flags[FLOW_TOCLIENT];

    switch (f->key.proto) {
    case 6:
        if (!(cs & TCP_SYN))
            return 0; /* picked up mid-stream */
        if (!(sc & TCP_SYN) || (sc & TCP_RST))
            return f->pkts[FLOW_TOSERVER] <= 3;
        return f->pkts[FLOW_TOSERVER] <= 3 && f->pkts[FLOW_TOCLIENT] <= 2;
    case 17:
        return f->pkts[FLOW_TOCLIENT] == 0;
    case 1:
    case 58:
        return f->pkts[FLOW_TOSERVER] <= 2;
    default:
        return 0;
    }
}

static int eval_scan(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;
    struct track_entry *e;
    uint8_t buf[32];
    uint64_t v;
    unsigned n;

    ev_clear(&ev);
    if (!in_scope(r, x) || !is_probe(x->f))
        return 0;
    memcpy(buf, x->src, 16);
    memcpy(buf + 16, x->dst, 16);
    if (r->scan_mode == SCAN_PORTS) {
        if (x->f->key.proto != 6 && x->f->key.proto != 17)
            return 0;
        e = detect__track_get(d->track[ri], detect__hash(ri, buf, 32), x->now);
        v = (uint64_t)x->f->key.proto << 16 | flow_dst_port(x->f);
    } else {
        e = detect__track_get(d->track[ri], detect__hash(ri, buf, 16), x->now);
        v = detect__hash(0, x->dst, 16);
    }
    n = detect__track_distinct(d->track[ri], e, v, x->f->first_us, (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    ev_add(&ev, r->scan_mode == SCAN_PORTS ? "distinct_ports=%u" : "distinct_hosts=%u", n);
    ev_add(&ev, "window_s=%u", r->window_s);
    ev_add(&ev, "last_probe=%s/%u",
           x->f->key.proto == 6    ? "tcp"
           : x->f->key.proto == 17 ? "udp"
                                   : "icmp",
           flow_dst_port(x->f));
    raise_alert(d, x, ri, r->scan_mode == SCAN_PORTS ? SCOPE_PAIR : SCOPE_SRC, &ev);
    return 1;
}

static int eval_brute_force(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    struct track_entry *e;
    uint8_t buf[34];
    uint16_t dport = flow_dst_port(f);
    unsigned n;

    ev_clear(&ev);
    if (!in_scope(r, x) || !rules_match(&r->match, f) || f->pkts[FLOW_TOCLIENT] == 0 ||
        f->last_us - f->first_us > (uint64_t)r->max_duration_s * US)
        return 0;
    memcpy(buf, x->src, 16);
    memcpy(buf + 16, x->dst, 16);
    memcpy(buf + 32, &dport, 2);
    e = detect__track_get(d->track[ri], detect__hash(ri, buf, sizeof(buf)), x->now);
    n = detect__track_times(d->track[ri], e, f->first_us, (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    ev_add(&ev, "sessions=%u", n);
    ev_add(&ev, "window_s=%u", r->window_s);
    ev_add(&ev, "max_duration_s=%u", r->max_duration_s);
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_exfiltration(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    const uint8_t *in, *out;
    struct track_entry *e;
    uint8_t buf[32];
    uint64_t sent, sum;
    int iz, oz;

    ev_clear(&ev);
    if (x->sz != ZONE_INTERNET && x->dz == ZONE_INTERNET) {
        in = x->src, out = x->dst, iz = x->sz, oz = x->dz, sent = f->bytes[FLOW_TOSERVER];
    } else if (x->sz == ZONE_INTERNET && x->dz != ZONE_INTERNET) {
        in = x->dst, out = x->src, iz = x->dz, oz = x->sz, sent = f->bytes[FLOW_TOCLIENT];
    } else {
        return 0;
    }
    if (!zin(r->from, iz) || zin(r->except_from, iz) || !zin(r->to, oz) || excluded(r, f) ||
        sent == 0 || (r->skip_allowed && egress_allowed(d, iz, f, out)))
        return 0;
    memcpy(buf, in, 16);
    memcpy(buf + 16, out, 16);
    e = detect__track_get(d->track[ri], detect__hash(ri, buf, sizeof(buf)), x->now);
    sum = detect__track_sum(e, sent, f->last_us, (uint64_t)r->window_s * US);
    if (sum < r->bytes)
        return 0;
    detect__track_reset(e);
    ev_add(&ev, "bytes_out=%llu", (unsigned long long)sum);
    ev_add(&ev, "window_s=%u", r->window_s);
    ev_add(&ev, "threshold_bytes=%llu", (unsigned long long)r->bytes);
    ev_addr(&ev, "internal_host", in);
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    ev_dest_name(d, &ev, f, out);
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_rogue(struct detect *d, struct fctx *x, unsigned ri)
{
    static const uint16_t port[SVC__COUNT] = {53, 67, 123};
    static const char *const name[SVC__COUNT] = {"dns", "dhcp", "ntp"};
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    const uint8_t *server;
    int s, zone;
    char a[48];

    ev_clear(&ev);
    for (s = 0; s < SVC__COUNT; s++) {
        if (!(r->services & (1u << s)) || d->cfg->services[s].n == 0 ||
            !classify_is(&f->app, (uint16_t)d->svc_proto[s]))
            continue;
        if (flow_dst_port(f) == port[s] && f->pkts[FLOW_TOCLIENT] > 0)
            server = x->dst, zone = x->dz;
        else if (flow_src_port(f) == port[s] && flow_dst_port(f) != port[s])
            server = x->src, zone = x->sz; /* we saw its answer first */
        else
            continue;
        if (zone == ZONE_INTERNET || !zin(r->to, zone) || config_is_service(d->cfg, s, server))
            continue;
        ev_add(&ev, "service=%s", name[s]);
        ev_addr(&ev, "server", server);
        ev_add(&ev, "approved=%s%s", zone_addr_str(d->cfg->services[s].addr[0], a, sizeof(a)),
               d->cfg->services[s].n > 1 ? ",..." : "");
        /* Fold by the rogue server, whichever end it is. */
        if (server == x->src) {
            struct fctx y = *x;
            y.dst = x->src;
            raise_alert(d, &y, ri, SCOPE_DST, &ev);
        } else {
            raise_alert(d, x, ri, SCOPE_DST, &ev);
        }
        return 1;
    }
    return 0;
}

/* --- hospital protocols -------------------------------------------------------------------- */

/* What identifies a medical flow to a reader: HL7 message type and applications, AE titles. */
static void ev_medical(struct evidence *ev, const struct flow *f)
{
    const struct hl7_info *h = medical_hl7(f);
    const struct dicom_info *di = medical_dicom(f);

    if (h != NULL && h->have_first) {
        ev_add(ev, "hl7_message_type=%s", h->first.type);
        ev_add(ev, "hl7_sending_application=%s", h->first.sending_app);
        ev_add(ev, "hl7_receiving_application=%s", h->first.receiving_app);
    } else if (di != NULL && di->assoc != DICOM_ASSOC_NONE) {
        ev_add(ev, "dicom_calling_ae=%s", di->calling_ae);
        ev_add(ev, "dicom_called_ae=%s", di->called_ae);
    }
}

static int eval_medical_zone(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;

    ev_clear(&ev);
    if (medical_proto_of(x->f) == MEDICAL_NONE || !(medical_news(x->f) & MEDICAL_FOUND) ||
        !in_scope(r, x) || (x->sz == x->dz && !r->same_zone) ||
        (!rules_match_empty(&r->match) && !rules_match(&r->match, x->f)) || allowed(r, x))
        return 0;
    ev_add(&ev, "protocol=%s", names(x)->protocol);
    ev_add(&ev, "dest_port=%u", flow_dst_port(x->f));
    ev_add(&ev, "transport=cleartext");
    ev_medical(&ev, x->f);
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_dicom_ae(struct detect *d, struct fctx *x, unsigned ri)
{
    static const char *const what[] = {"calling_ae", "called_ae", "move_destination"};
    const struct rule *r = &d->rs->r[ri];
    const struct dicom_info *di = medical_dicom(x->f);
    const struct config_named_hosts *e;
    unsigned news = medical_news(x->f);
    struct evidence ev;
    const uint8_t *host = NULL;
    const char *ae;
    int zone = -1;

    ev_clear(&ev);
    if (di == NULL || d->cfg->ndicom_aes == 0 || !in_scope(r, x))
        return 0;
    switch (r->ae_check) {
    case AE_CALLING:
        if (!(news & DICOM_NEWS_ASSOC_RQ))
            return 0;
        ae = di->calling_ae, host = x->src, zone = x->sz;
        break;
    case AE_CALLED:
        if (!(news & DICOM_NEWS_ASSOC_RQ))
            return 0;
        ae = di->called_ae, host = x->dst, zone = x->dz;
        break;
    default:
        if (!(news & DICOM_NEWS_MOVE))
            return 0;
        ae = di->dests[di->last_dest];
        break;
    }
    e = config_named_find(d->cfg->dicom_aes, d->cfg->ndicom_aes, ae);
    if (e != NULL && (host == NULL || config_hostset_has(&e->hosts, host, zone)))
        return 0;
    ev_add(&ev, "%s=%s", what[r->ae_check], ae);
    ev_add(&ev, "reason=%s",
           e == NULL ? "AE title not in medical.dicom_ae_titles"
                     : "AE title not listed for this host");
    if (host != NULL)
        ev_addr(&ev, "host", host);
    if (r->ae_check != AE_CALLING)
        ev_add(&ev, "dicom_calling_ae=%s", di->calling_ae);
    if (r->ae_check != AE_CALLED)
        ev_add(&ev, "dicom_called_ae=%s", di->called_ae);
    if (di->impl_version[0] != '\0')
        ev_add(&ev, "implementation_version=%s", di->impl_version);
    raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_hl7_sender(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct hl7_info *h = medical_hl7(x->f);
    const struct config_named_hosts *e;
    const struct hl7_sender *s;
    struct evidence ev;
    struct fctx y = *x;

    ev_clear(&ev);
    if (h == NULL || !(medical_news(x->f) & HL7_NEWS_SENDER) || d->cfg->nhl7_apps == 0 ||
        !in_scope(r, x))
        return 0;
    s = &h->senders[h->last_sender];
    if (s->dir == FLOW_TOCLIENT) { /* the server sent it (an acknowledgment, mostly) */
        y.src = x->dst, y.dst = x->src;
        y.sz = x->dz, y.dz = x->sz;
    }
    e = config_named_find(d->cfg->hl7_apps, d->cfg->nhl7_apps, s->app);
    if (e != NULL && config_hostset_has(&e->hosts, y.src, y.sz))
        return 0;
    ev_add(&ev, "hl7_sending_application=%s", s->app[0] != '\0' ? s->app : "(empty)");
    ev_add(&ev, "hl7_sending_facility=%s", s->facility);
    ev_add(&ev, "reason=%s",
           e == NULL ? "application not in medical.hl7_applications"
                     : "application not listed for this host");
    ev_addr(&ev, "sender", y.src);
    ev_add(&ev, "hl7_message_type=%s", s->type);
    /* Folded by sender and receiver, whichever end of the connection sent. */
    raise_alert(d, &y, ri, SCOPE_PAIR, &ev);
    return 1;
}

static int eval_dicom_reject(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct dicom_info *di = medical_dicom(x->f);
    struct evidence ev;
    struct track_entry *e;
    unsigned n;

    ev_clear(&ev);
    if (di == NULL || !(medical_news(x->f) & DICOM_NEWS_ASSOC_RJ) || !in_scope(r, x))
        return 0;
    e = detect__track_get(d->track[ri], detect__hash(ri, x->src, 16), x->now);
    n = detect__track_times(d->track[ri], e, x->f->last_us, (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    ev_add(&ev, "rejections=%u", n);
    ev_add(&ev, "window_s=%u", r->window_s);
    ev_add(&ev, "dicom_calling_ae=%s", di->calling_ae);
    ev_add(&ev, "dicom_called_ae=%s", di->called_ae);
    ev_add(&ev, "reject_reason=%s", dicom_reject_reason_name(di->rj_source, di->rj_reason));
    raise_alert(d, x, ri, SCOPE_SRC, &ev);
    return 1;
}

typedef int (*eval_fn)(struct detect *, struct fctx *, unsigned);

static const eval_fn evaluators[RULE__COUNT] = {
    [RULE_SEGMENTATION] = eval_segmentation,
    [RULE_EGRESS] = eval_egress,
    [RULE_DNS_RESOLVER] = eval_dns_resolver,
    [RULE_LATERAL] = eval_lateral,
    [RULE_FANOUT] = eval_fanout,
    [RULE_MAINTENANCE] = eval_maintenance,
    [RULE_OBSOLETE] = eval_obsolete,
    [RULE_SCAN] = eval_scan,
    [RULE_BRUTE_FORCE] = eval_brute_force,
    [RULE_EXFILTRATION] = eval_exfiltration,
    [RULE_BEACONING] = eval_beaconing,
    [RULE_NDPI_RISK] = eval_ndpi_risk,
    [RULE_ROGUE_SERVICE] = eval_rogue,
    [RULE_MEDICAL_ZONE] = eval_medical_zone,
    [RULE_DICOM_AE] = eval_dicom_ae,
    [RULE_HL7_SENDER] = eval_hl7_sender,
    [RULE_DICOM_REJECT] = eval_dicom_reject,
};

/* --- events --------------------------------------------------------------------------------- */

static void on_classified(struct detect *d, struct fctx *x)
{
    unsigned i;
    int matched = 0;

    x->f->flags |= FLOW_F_EVALUATED;
    if (x->local_only)
        return;
    for (i = 0; i < d->ncl; i++)
        matched |= evaluators[d->rs->r[d->classified[i]].type](d, x, d->classified[i]);
    for (i = 0; !matched && i < d->nseg; i++)
        matched |= eval_segmentation(d, x, d->segment[i]);
}

static void on_ended(struct detect *d, struct fctx *x)
{
    unsigned i;

    for (i = 0; i < d->nend; i++) {
        const struct rule *r = &d->rs->r[d->ended[i]];
        if (x->local_only && r->type != RULE_ROGUE_SERVICE)
            continue;
        evaluators[r->type](d, x, d->ended[i]);
    }
}

void detect_flow_event(void *ud, enum flow_event ev, struct flow *f, enum flow_end_reason reason)
{
    struct detect *d = ud;
    struct fctx x;

    (void)reason;
    if (ev == FLOW_EV_STARTED || d->rs == NULL || d->rs->n == 0)
        return;
    if ((ev == FLOW_EV_CLASSIFIED && (f->flags & FLOW_F_EVALUATED)) ||
        (ev == FLOW_EV_APP && (d->nmed == 0 || !(f->flags & FLOW_F_EVALUATED))))
        return;
    x.f = f;
    x.src = flow_src_addr(f);
    x.dst = flow_dst_addr(f);
    x.sz = config_zone_of(d->cfg, x.src);
    x.dz = config_zone_of(d->cfg, x.dst);
    x.now = f->last_us;
    x.local_only = not_unicast(x.src) || not_unicast(x.dst) || (f->flags & FLOW_F_L2_GROUP);
    x.d = d;
    x.named = 0;
    detect_tick(d, x.now);
    if (ev == FLOW_EV_APP) {
        unsigned i;
        for (i = 0; i < d->nmed && !x.local_only; i++)
            evaluators[d->rs->r[d->medical[i]].type](d, &x, d->medical[i]);
        return;
    }
    if (!(f->flags & FLOW_F_EVALUATED))
        on_classified(d, &x);
    if (ev == FLOW_EV_ENDED)
        on_ended(d, &x);
}

static void sweep_one(struct detect *d, struct fold *fo, void *arg)
{
    uint64_t now_us = *(const uint64_t *)arg;

    if (fo->expires_us <= now_us)
        fold_close(d, fo);
    else if (fo->expires_us < d->next_expiry_us)
        d->next_expiry_us = fo->expires_us;
}

void detect_tick(struct detect *d, uint64_t now_us)
{
    /* Called per packet: nothing to do until a fold's window has passed, checked once a second. */
    if (now_us < d->next_sweep_us || now_us < d->next_expiry_us)
        return;
    d->next_sweep_us = now_us + US;
    d->next_expiry_us = UINT64_MAX;
    folds_each(d, sweep_one, &now_us);
}

static void close_one(struct detect *d, struct fold *fo, void *arg)
{
    (void)arg;
    fold_close(d, fo);
}

void detect_finish(struct detect *d)
{
    folds_each(d, close_one, NULL);
}

/* --- life ----------------------------------------------------------------------------------- */

/* The per-rule structures of one ruleset: evaluation lists and counters. */
struct plan {
    struct track **track;
    unsigned *classified, ncl, *segment, nseg, *ended, nend, *medical, nmed;
    int *supp_rule;
    unsigned rules_loaded, rules_disabled;
};

static int tracked(const struct rule *r)
{
    return r->type == RULE_FANOUT || r->type == RULE_SCAN || r->type == RULE_BRUTE_FORCE ||
           r->type == RULE_BEACONING || r->type == RULE_EXFILTRATION ||
           r->type == RULE_DICOM_REJECT;
}

static unsigned track_items(const struct rule *r)
{
    return r->type == RULE_EXFILTRATION ? MM_EXFIL_BUCKETS : r->threshold;
}

static void plan_free(struct plan *p, unsigned nrules)
{
    unsigned i;

    for (i = 0; p->track != NULL && i < nrules; i++)
        detect__track_destroy(p->track[i]);
    free(p->track);
    free(p->classified);
    free(p->segment);
    free(p->ended);
    free(p->medical);
    free(p->supp_rule);
    memset(p, 0, sizeof(*p));
}

/*
 * Plan cfg's ruleset. With old (the running ruleset and its plan), a rule of the same key,
 * type and counter size takes over the old rule's counters, so a reload loses no state.
 */
static int plan_build(struct plan *p, const struct mm_config *cfg, const struct ruleset *old_rs,
                      struct plan *old)
{
    const struct ruleset *rs = cfg->ruleset;
    unsigned n = rs != NULL ? rs->n : 0, i;

    memset(p, 0, sizeof(*p));
    p->track = calloc(n + 1, sizeof(*p->track));
    p->classified = calloc(n + 1, sizeof(unsigned));
    p->segment = calloc(n + 1, sizeof(unsigned));
    p->ended = calloc(n + 1, sizeof(unsigned));
    p->medical = calloc(n + 1, sizeof(unsigned));
    p->supp_rule = calloc(cfg->nsuppress + 1, sizeof(int));
    if (p->track == NULL || p->classified == NULL || p->segment == NULL || p->ended == NULL ||
        p->medical == NULL || p->supp_rule == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        const struct rule *r = &rs->r[i], *o;
        if (!r->enabled) {
            p->rules_disabled++;
            continue;
        }
        p->rules_loaded++;
        switch (r->type) {
        case RULE_SEGMENTATION:
            p->segment[p->nseg++] = i;
            break;
        case RULE_HEALTH: /* the health module's */
            break;
        case RULE_SCAN:
        case RULE_BRUTE_FORCE:
        case RULE_EXFILTRATION:
        case RULE_ROGUE_SERVICE:
            p->ended[p->nend++] = i;
            break;
        case RULE_MEDICAL_ZONE:
        case RULE_DICOM_AE:
        case RULE_HL7_SENDER:
        case RULE_DICOM_REJECT:
            /* At classification, and again whenever the parser has news. */
            p->classified[p->ncl++] = i;
            p->medical[p->nmed++] = i;
            break;
        default:
            p->classified[p->ncl++] = i;
            break;
        }
        if (!tracked(r))
            continue;
        if (old != NULL && (o = rules_find(old_rs, r->key)) != NULL && o->type == r->type &&
            track_items(o) == track_items(r) && old->track[o - old_rs->r] != NULL) {
            p->track[i] = old->track[o - old_rs->r];
            old->track[o - old_rs->r] = NULL;
        } else if (detect__track_create(&p->track[i], MM_TRACK_SLOTS, track_items(r)) != 0) {
            goto fail;
        }
    }
    for (i = 0; i < cfg->nsuppress; i++) {
        const struct rule *r = rules_find(rs, cfg->suppress[i].rule);
        p->supp_rule[i] = r != NULL ? (int)(r - rs->r) : -1;
    }
    return 0;
fail:
    plan_free(p, n);
    return MM_ENOMEM;
}

static void plan_install(struct detect *d, struct plan *p)
{
    d->track = p->track;
    d->classified = p->classified, d->ncl = p->ncl;
    d->segment = p->segment, d->nseg = p->nseg;
    d->ended = p->ended, d->nend = p->nend;
    d->medical = p->medical, d->nmed = p->nmed;
    d->supp_rule = p->supp_rule;
    d->st.rules_loaded = p->rules_loaded;
    d->st.rules_disabled = p->rules_disabled;
}

static struct plan plan_of(const struct detect *d)
{
    struct plan p = {d->track, d->classified, d->ncl,  d->segment,   d->nseg, d->ended,
                     d->nend,  d->medical,    d->nmed, d->supp_rule, 0,       0};
    return p;
}

int detect_create(struct detect **out, const struct mm_config *cfg, struct eve *eve,
                  const struct eve_ctx *ctx, const struct dnscache *dns)
{
    static const char *const svc_names[SVC__COUNT] = {"DNS", "DHCP", "NTP"};
    struct detect *d;
    struct plan p;
    unsigned i;

    *out = NULL;
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return MM_ENOMEM;
    d->cfg = cfg;
    d->rs = cfg->ruleset;
    d->eve = eve;
    d->ctx = ctx;
    d->dns = dns;
    d->next_expiry_us = UINT64_MAX;
    for (i = 0; i < SVC__COUNT; i++)
        d->svc_proto[i] = classify_lookup_protocol(svc_names[i]);
    if ((d->folds = calloc(MM_DEDUP_SLOTS, sizeof(*d->folds))) == NULL ||
        plan_build(&p, cfg, NULL, NULL) != 0) {
        free(d->folds);
        free(d);
        return MM_ENOMEM;
    }
    plan_install(d, &p);
    *out = d;
    return 0;
}

static void refold_one(struct detect *d, struct fold *fo, void *arg)
{
    const struct mm_config *cfg = arg;
    const struct rule *r = rules_find(cfg->ruleset, d->rs->r[fo->rule].key);

    if (r != NULL && r->enabled)
        fo->rule = (unsigned)(r - cfg->ruleset->r);
    else
        fold_close(d, fo);
}

int detect_reload(struct detect *d, const struct mm_config *cfg)
{
    struct plan old = plan_of(d), p;

    if (plan_build(&p, cfg, d->rs, &old) != 0)
        return MM_ENOMEM;
    /* Folds follow their rule by key; a rule that is gone reports its repeats now. */
    folds_each(d, refold_one, (void *)cfg);
    plan_free(&old, d->rs != NULL ? d->rs->n : 0);
    plan_install(d, &p);
    d->cfg = cfg;
    d->rs = cfg->ruleset;
    d->st.reloads++;
    return 0;
}

void detect_set_response(struct detect *d, struct response *r)
{
    d->resp = r;
}

void detect_destroy(struct detect *d)
{
    struct plan p;

    if (d == NULL)
        return;
    p = plan_of(d);
    plan_free(&p, d->rs != NULL ? d->rs->n : 0);
    free(d->folds);
    free(d);
}

void detect_get_stats(const struct detect *d, struct detect_stats *st)
{
    unsigned i;

    *st = d->st;
    st->track_evictions = 0;
    for (i = 0; d->rs != NULL && i < d->rs->n; i++)
        if (d->track[i] != NULL)
            st->track_evictions += detect__track_evictions(d->track[i]);
}
