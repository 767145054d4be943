/*
 * The rules that judge a flow once its classification is final: egress to the internet, DNS
 * resolvers, lateral movement, fan-out, remote maintenance outside its windows, obsolete
 * protocols, nDPI risks, beaconing, and segmentation for flows no more specific rule matched.
 * Multicast and broadcast destinations are never "the internet".
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/rules.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

#include "detect_int.h"

/* --- helpers -------------------------------------------------------------------------------- */

int detect__zin(zone_set s, int z)
{
    return z >= 0 && (s & ZONE_BIT(z)) != 0;
}

int detect__not_unicast(const uint8_t a[16])
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
int detect__answered(const struct flow *f)
{
    if (f->key.proto == 6 && (f->tcp_flags[FLOW_TOSERVER] & TCP_SYN))
        return (f->tcp_flags[FLOW_TOCLIENT] & TCP_SYN) != 0;
    return f->pkts[FLOW_TOCLIENT] > 0;
}

int detect__is_probe(const struct flow *f);

int detect__excluded(const struct rule *r, const struct flow *f)
{
    return !rules_match_empty(&r->exclude) && rules_match(&r->exclude, f);
}

/* The client zone in from and not in except_from, the server zone in to. */
int detect__in_scope(const struct rule *r, const struct fctx *x)
{
    unsigned s;

    if (!detect__zin(r->from, x->sz) || detect__zin(r->except_from, x->sz) ||
        !detect__zin(r->to, x->dz) || detect__excluded(r, x->f))
        return 0;
    for (s = 0; r->except_servers != 0 && s < SVC__COUNT; s++)
        if ((r->except_servers & 1u << s) && config_is_service(x->d->cfg, s, x->src))
            return 0;
    return 1;
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

int detect__egress_allowed(const struct detect *d, int zone, const struct flow *f,
                           const uint8_t *ext)
{
    return egress_covers(d, zone, f, ext, 1);
}

/* --- per-flow rules ------------------------------------------------------------------------- */

/* Whether one of the rule's allow entries covers the flow. */
int detect__allowed(const struct rule *r, const struct fctx *x)
{
    unsigned i;

    for (i = 0; i < r->nallow; i++) {
        const struct rule_allow *a = &r->allow[i];
        if ((a->from == 0 || detect__zin(a->from, x->sz)) &&
            (a->to == 0 || detect__zin(a->to, x->dz)) && rules_match(&a->match, x->f))
            return 1;
    }
    return 0;
}

int detect__eval_segmentation(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;

    detect__ev_clear(&ev);
    if (!detect__in_scope(r, x) || (x->sz == x->dz && !r->same_zone) || detect__allowed(r, x))
        return 0;
    detect__ev_protocol(&ev, x);
    detect__ev_add(&ev, "dest_port=%u", flow_dst_port(x->f));
    detect__ev_add(&ev, "allowed_exceptions=%u", r->nallow);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_egress(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;

    detect__ev_clear(&ev);
    if (x->dz != ZONE_INTERNET || x->sz == ZONE_INTERNET || !detect__in_scope(r, x))
        return 0;
    if (!rules_match_empty(&r->match)) {
        /* A refused attempt uses no tunnel (port scans try these ports); names do not allow
         * a tunnel, only the zone's protocols and networks do. */
        if (!rules_match(&r->match, f) || !detect__answered(f) ||
            egress_covers(d, x->sz, f, x->dst, 0))
            return 0;
        detect__ev_protocol(&ev, x);
        detect__ev_add(&ev, "category=%s", detect__names(x)->category);
    } else {
        /* Approved resolvers and time servers ask upstream servers: that is their job. */
        if ((classify_is(&f->app, (uint16_t)d->svc_proto[SVC_DNS]) &&
             config_is_service(d->cfg, SVC_DNS, x->src)) ||
            (classify_is(&f->app, (uint16_t)d->svc_proto[SVC_NTP]) &&
             config_is_service(d->cfg, SVC_NTP, x->src)))
            return 0;
        if (detect__egress_allowed(d, x->sz, f, x->dst))
            return 0;
        detect__ev_protocol(&ev, x);
        detect__ev_dest_name(d, &ev, f, x->dst);
    }
    detect__ev_add(&ev, "zone_allowlist=%s", d->cfg->egress[x->sz] != NULL ? "no match" : "none");
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_dns_resolver(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    char a[48];

    detect__ev_clear(&ev);
    if (d->cfg->services[SVC_DNS].n == 0 || x->sz == ZONE_INTERNET || !detect__in_scope(r, x))
        return 0;
    if (!classify_is(&f->app, (uint16_t)d->svc_proto[SVC_DNS]) &&
        !((f->key.proto == 17 || f->key.proto == 6) && flow_dst_port(f) == 53))
        return 0;
    if (config_is_service(d->cfg, SVC_DNS, x->src) || config_is_service(d->cfg, SVC_DNS, x->dst))
        return 0;
    detect__ev_addr(&ev, "resolver", x->dst);
    detect__ev_add(&ev, "approved_resolvers=%s%s",
                   zone_addr_str(d->cfg->services[SVC_DNS].addr[0], a, sizeof(a)),
                   d->cfg->services[SVC_DNS].n > 1 ? ",..." : "");
    if (classify_meta_get(f->app.meta, META_DNS_RRNAME) != NULL)
        detect__ev_add(&ev, "query=%s", classify_meta_get(f->app.meta, META_DNS_RRNAME));
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_lateral(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;

    detect__ev_clear(&ev);
    if (!detect__in_scope(r, x) || (x->sz == x->dz && !r->same_zone) ||
        !rules_match(&r->match, x->f))
        return 0;
    detect__ev_protocol(&ev, x);
    detect__ev_add(&ev, "dest_port=%u", flow_dst_port(x->f));
    detect__ev_add(&ev, "answered=%s", x->f->pkts[FLOW_TOCLIENT] > 0 ? "yes" : "no");
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_fanout(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;
    struct track_entry *e;
    unsigned n;

    detect__ev_clear(&ev);
    if (!detect__in_scope(r, x) || !rules_match(&r->match, x->f))
        return 0;
    e = detect__track_get(d->track[ri], detect__hash(ri, x->src, 16), x->now);
    n = detect__track_distinct(d->track[ri], e, detect__hash(0, x->dst, 16), x->f->first_us,
                               (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    detect__ev_add(&ev, "distinct_hosts=%u", n);
    detect__ev_add(&ev, "window_s=%u", r->window_s);
    detect__ev_protocol(&ev, x);
    detect__raise_alert(d, x, ri, SCOPE_SRC, &ev);
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

int detect__eval_maintenance(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct config_window *hit = NULL, *partial = NULL;
    const uint8_t *target, *source;
    struct evidence ev;
    int tz_, sz_, session;
    unsigned i;

    detect__ev_clear(&ev);
    if (x->sz == x->dz || detect__excluded(r, x->f))
        return 0;
    /* From a vendor zone, or a remote-access protocol from outside the internal zones. */
    session = detect__zin(r->to, x->dz) &&
              (detect__zin(r->from, x->sz) ||
               (!detect__zin(r->to, x->sz) && !rules_match_empty(&r->match) &&
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
    detect__ev_protocol(&ev, x);
    detect__ev_addr(&ev, "target", target);
    detect__ev_addr(&ev, "remote", source);
    if (hit != NULL) {
        detect__ev_add(&ev, "window=%s", hit->name);
        if (hit->ticket[0] != '\0')
            detect__ev_add(&ev, "ticket=%s", hit->ticket);
    } else if (partial != NULL) {
        detect__ev_add(&ev, "reason=target not approved in window %s", partial->name);
    } else {
        detect__ev_add(&ev, "reason=no maintenance window open for this source");
    }
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_obsolete(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    const char *tv = classify_meta_get(f->app.meta, META_TLS_VERSION);
    struct evidence ev;
    uint64_t risk = f->app.risk & r->risks;
    int hit = 0;
    unsigned i;

    detect__ev_clear(&ev);
    /* A refused or probed port is no use of the protocol (scans try 21 and 23). */
    if (!detect__in_scope(r, x) || !detect__answered(f) || detect__is_probe(f))
        return 0;
    if (!rules_match_empty(&r->match) && rules_match(&r->match, f)) {
        detect__ev_protocol(&ev, x);
        hit = 1;
    }
    if (tv != NULL && (r->tls_versions & rules_tls_version_bit(tv))) {
        detect__ev_add(&ev, "tls_version=%s", tv);
        hit = 1;
    }
    for (i = 1; i < 64 && risk != 0; i++) {
        if (risk & (1ull << i)) {
            detect__ev_add(&ev, "risk=%s", classify_risk_key(i));
            risk &= ~(1ull << i);
            hit = 1;
        }
    }
    if (!hit)
        return 0;
    detect__ev_addr(&ev, "server", x->dst);
    detect__ev_add(&ev, "dest_port=%u", flow_dst_port(f));
    if (classify_meta_get(f->app.meta, META_SSH_SERVER) != NULL)
        detect__ev_add(&ev, "ssh_server=%s", classify_meta_get(f->app.meta, META_SSH_SERVER));
    detect__raise_alert(d, x, ri, SCOPE_DST, &ev);
    return 1;
}

int detect__eval_ndpi_risk(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    uint64_t risk = f->app.risk & r->risks;
    struct evidence ev;
    const char *ja3 = classify_meta_get(f->app.meta, META_TLS_JA3);
    const char *ua = classify_meta_get(f->app.meta, META_HTTP_USER_AGENT);
    unsigned i;

    detect__ev_clear(&ev);
    /* The site's own names are no generated domains (Chrome probes random ones under them). */
    if ((risk & d->dga_risk) &&
        (config_is_local_name(d->cfg, classify_meta_get(f->app.meta, META_DNS_RRNAME)) ||
         config_is_local_name(d->cfg, classify_meta_get(f->app.meta, META_TLS_SNI)) ||
         config_is_local_name(d->cfg, classify_meta_get(f->app.meta, META_HTTP_HOST))))
        risk &= ~d->dga_risk;
    if (risk == 0 || !detect__in_scope(r, x))
        return 0;
    if (ua != NULL)
        for (i = 0; i < r->nexcept_agents; i++)
            if (fnmatch(r->except_agents[i], ua, 0) == 0)
                return 0;
    for (i = 1; i < 64; i++)
        if (risk & (1ull << i))
            detect__ev_add(&ev, "risk=%s", classify_risk_key(i));
    detect__ev_protocol(&ev, x);
    detect__ev_dest_name(d, &ev, f, x->dst);
    if (ja3 != NULL)
        detect__ev_add(&ev, "ja3=%s", ja3);
    if (classify_meta_get(f->app.meta, META_DNS_RRNAME) != NULL)
        detect__ev_add(&ev, "dns_query=%s", classify_meta_get(f->app.meta, META_DNS_RRNAME));
    if (classify_meta_get(f->app.meta, META_SHELL) != NULL)
        detect__ev_add(&ev, "shell=%s", classify_meta_get(f->app.meta, META_SHELL));
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_beaconing(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;
    struct track_entry *e;
    uint8_t buf[34];
    uint16_t dport = flow_dst_port(x->f);
    uint64_t t = x->f->first_us, mean, dev = 0;
    unsigned n, i;

    detect__ev_clear(&ev);
    if (x->sz == ZONE_INTERNET || !detect__in_scope(r, x) ||
        (r->skip_allowed && detect__egress_allowed(d, x->sz, x->f, x->dst)))
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
    detect__ev_add(&ev, "connections=%u", n);
    detect__ev_add(&ev, "interval_s=%.1f", (double)mean / US);
    detect__ev_add(&ev, "max_deviation_pct=%.1f", 100.0 * (double)dev / (double)mean);
    detect__ev_protocol(&ev, x);
    detect__ev_dest_name(d, &ev, x->f, x->dst);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}
