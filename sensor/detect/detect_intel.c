/*
 * Rules of type intel: a flow against the snapshot's threat-intelligence indicators — both
 * addresses, the TLS server name, client JA3 and certificate fingerprint, the HTTP host and URL
 * — once at classification and, when the table changed since (a reload), again at the flow's
 * next event and at its end; and every DNS query and answer on its own. One alert per flow, on
 * the most severe feed's match, the others named; it takes its severity and category from the
 * feed and names the feed, the indicator, where the feed has it (STIX id, MISP uuid or line),
 * which field matched and the feed's description.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mimamori/classify.h"
#include "mimamori/dnscache.h"
#include "mimamori/intel.h"
#include "detect_int.h"

#define MAX_HITS 8

/* Every indicator the flow touches (at most MAX_HITS) with the field that showed it. DNS names
 * are looked up per message (detect_dns_intel), every query of a flow on its own. */
static unsigned lookup(const struct intel *in, const struct fctx *x, int64_t now_s,
                       struct intel_hit *h, const char **field)
{
    static const struct {
        enum classify_meta_field meta;
        int type; /* -1: a name, -2: a URL */
        const char *field;
    } metas[] = {
        {META_TLS_SNI, -1, "tls.sni"},
        {META_HTTP_HOST, -1, "http.hostname"},
        {META_HTTP_URL, -2, "http.url"},
        {META_TLS_JA3, INTEL_JA3, "tls.ja3.hash"},
        {META_TLS_CERT_SHA1, INTEL_CERT_SHA1, "tls.fingerprint"},
    };
    const struct classify_meta *m = x->f->app.meta;
    unsigned n = 0, i;
    const char *s;

    if (intel_match_addr(in, x->dst, now_s, &h[n]))
        field[n++] = "dest_ip";
    if (intel_match_addr(in, x->src, now_s, &h[n]))
        field[n++] = "src_ip";
    for (i = 0; m != NULL && i < sizeof(metas) / sizeof(metas[0]); i++) {
        if ((s = classify_meta_get(m, metas[i].meta)) == NULL)
            continue;
        if (metas[i].type == -1 ? intel_match_domain(in, s, now_s, &h[n])
            : metas[i].type == -2
                ? intel_match_url(in, s, now_s, &h[n])
                : intel_match_hash(in, (enum intel_type)metas[i].type, s, now_s, &h[n]))
            field[n++] = metas[i].field;
    }
    return n;
}

/* An intel alert's evidence, afresh, and the feed's severity and category for it. */
static void evidence(struct evidence *ev, const struct config_intel_feed *feed,
                     const struct intel_hit *h, const char *field)
{
    detect__ev_clear(ev);
    ev->severity = feed->severity;
    ev->category = (uint8_t)(feed->category + 1);
    detect__ev_add(ev, "feed=%s", feed->name);
    detect__ev_add(ev, "indicator=%.100s", h->value);
    detect__ev_add(ev, "field=%s", field);
    if (h->id != NULL)
        detect__ev_add(ev, "indicator_id=%.64s", h->id);
    else if (h->line > 0)
        detect__ev_add(ev, "feed_line=%u", h->line);
    if (h->description != NULL)
        detect__ev_add(ev, "description=%.80s", h->description);
    if (h->valid_until_s > 0) {
        char day[16];
        time_t t = (time_t)h->valid_until_s;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        detect__ev_add(ev, "valid_until=%s", day);
    }
}

/* The hit the alert is about: the most severe feed's, the first of those. */
static unsigned best(const struct mm_config *c, const struct intel_hit *h, unsigned n)
{
    unsigned b = 0;

    for (unsigned i = 1; i < n; i++)
        if (c->feeds[h[i].feed].severity < c->feeds[h[b].feed].severity)
            b = i;
    return b;
}

int detect__eval_intel(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct mm_config *c = d->cfg;
    const struct config_intel_feed *feed;
    struct intel_hit h[MAX_HITS];
    const char *field[MAX_HITS];
    struct evidence ev;
    char also[96] = "";
    unsigned n, b, i;

    if (c->intel == NULL || (x->f->flags & FLOW_F_INTEL) || x->f->intel_gen == c->intel_gen)
        return 0;
    x->f->intel_gen = c->intel_gen; /* looked up in this table: not again unless it changes */
    if (!detect__zin(r->from, x->sz) || !detect__zin(r->to, x->dz) ||
        detect__zin(r->except_from, x->sz) || detect__excluded(r, x->f))
        return 0;
    if ((n = lookup(c->intel, x, (int64_t)(x->now / 1000000), h, field)) == 0)
        return 0;
    b = best(c, h, n);
    feed = &c->feeds[h[b].feed];
    x->f->flags |= FLOW_F_INTEL;
    evidence(&ev, feed, &h[b], field[b]);
    for (i = 0; i < n; i++) /* the flow's other matches, by field */
        if (i != b)
            snprintf(also + strlen(also), sizeof(also) - strlen(also), "%s%s", also[0] ? "," : "",
                     field[i]);
    if (also[0] != '\0')
        detect__ev_add(&ev, "also_matched=%s", also);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect_has_intel(const struct detect *d)
{
    return d->cfg->intel != NULL && d->intel_rule >= 0;
}

/* A DNS name or answer address matched: the alert is about the DNS flow. */
static void dns_hit(struct detect *d, struct flow *f, const struct intel_hit *h, const char *field,
                    const char *qname)
{
    const struct config_intel_feed *feed = &d->cfg->feeds[h->feed];
    struct evidence ev;
    struct fctx x;

    detect__fctx(d, &x, f);
    if (x.local_only)
        return;
    evidence(&ev, feed, h, field);
    if (qname != NULL)
        detect__ev_add(&ev, "rrname=%.80s", qname);
    detect__raise_alert(d, &x, (unsigned)d->intel_rule, SCOPE_PAIR, &ev);
}

void detect_dns_intel_query(struct detect *d, struct flow *f, const char *name)
{
    struct intel_hit h;

    if (d->cfg->intel != NULL && d->intel_rule >= 0 &&
        intel_match_domain(d->cfg->intel, name, (int64_t)(f->last_us / 1000000), &h))
        dns_hit(d, f, &h, "dns.query.rrname", NULL);
}

void detect_dns_intel_answers(struct detect *d, struct flow *f, const struct dns_answers *a)
{
    const struct intel *in = d->cfg->intel;
    struct intel_hit h;

    if (in == NULL || d->intel_rule < 0)
        return;
    for (unsigned i = 0; i < a->n; i++)
        if (intel_match_addr(in, a->addr[i], (int64_t)(f->last_us / 1000000), &h)) {
            dns_hit(d, f, &h, "dns.answer", a->qname);
            return;
        }
}
