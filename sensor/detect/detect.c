/*
 * Rule evaluation on flow events: the dispatcher and the detector's life. When a flow's
 * classification is final (or at its end if it never was), the per-flow rules run
 * (detect_flow.c), then segmentation for flows no more specific rule matched; when a flow ends,
 * the rules that need its whole life (detect_end.c); the rules on what Mimamori's own parsers
 * found (HL7 and DICOM in detect_medical.c, DCE-RPC operations in detect_dcerpc.c) at
 * classification and again each time a parser reports news.
 * Every rule raises its alerts through detect_alert.c. A reload plans the new ruleset's lists
 * and counters beside the running ones and takes over the counters of unchanged rules.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/error.h"
#include "mimamori/dcerpc.h"
#include "mimamori/baseline.h"
#include "mimamori/medical.h"
#include "mimamori/response.h"
#include "mimamori/rules.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

#include "detect_int.h"

static const detect_eval_fn evaluators[RULE__COUNT] = {
    [RULE_SEGMENTATION] = detect__eval_segmentation,
    [RULE_EGRESS] = detect__eval_egress,
    [RULE_DNS_RESOLVER] = detect__eval_dns_resolver,
    [RULE_LATERAL] = detect__eval_lateral,
    [RULE_FANOUT] = detect__eval_fanout,
    [RULE_MAINTENANCE] = detect__eval_maintenance,
    [RULE_OBSOLETE] = detect__eval_obsolete,
    [RULE_SCAN] = detect__eval_scan,
    [RULE_BRUTE_FORCE] = detect__eval_brute_force,
    [RULE_EXFILTRATION] = detect__eval_exfiltration,
    [RULE_BEACONING] = detect__eval_beaconing,
    [RULE_NDPI_RISK] = detect__eval_ndpi_risk,
    [RULE_ROGUE_SERVICE] = detect__eval_rogue,
    [RULE_MEDICAL_ZONE] = detect__eval_medical_zone,
    [RULE_DICOM_AE] = detect__eval_dicom_ae,
    [RULE_HL7_SENDER] = detect__eval_hl7_sender,
    [RULE_DICOM_REJECT] = detect__eval_dicom_reject,
    [RULE_DCERPC] = detect__eval_dcerpc,
    [RULE_INTEL] = detect__eval_intel,
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
        matched |= detect__eval_segmentation(d, x, d->segment[i]);
    for (i = 0; i < d->nbase; i++) { /* learned even when another rule spoke */
        x->matched = matched;
        matched |= detect__eval_baseline(d, x, d->base_rules[i]);
    }
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

void detect__fctx(struct detect *d, struct fctx *x, struct flow *f)
{
    x->f = f;
    x->src = flow_src_addr(f);
    x->dst = flow_dst_addr(f);
    x->sz = config_zone_of(d->cfg, x->src);
    x->dz = config_zone_of(d->cfg, x->dst);
    x->now = f->last_us;
    x->local_only =
        detect__not_unicast(x->src) || detect__not_unicast(x->dst) || (f->flags & FLOW_F_L2_GROUP);
    x->d = d;
    x->named = 0;
}

void detect_dns_query(struct detect *d, struct flow *f, const char *name, int reg, uint16_t qtype,
                      unsigned chars)
{
    struct fctx x;
    unsigned i;

    if (d->rs == NULL)
        return;
    detect__fctx(d, &x, f);
    if (x.local_only)
        return;
    for (i = 0; i < d->rs->n; i++)
        if (d->rs->r[i].type == RULE_DNS_TUNNEL && d->rs->r[i].enabled)
            detect__eval_dns_tunnel(d, &x, i, name, reg, qtype, chars);
}

void detect_arp_request(struct detect *d, const struct pkt_view *pv, uint64_t ts_us, int iface)
{
    static const uint8_t unspecified[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct flow f;
    struct fctx x;
    unsigned i;

    /* Probes (RFC 5227: from 0.0.0.0) and announcements (sender = target) look for no one. */
    if (d->rs == NULL || memcmp(pv->src, unspecified, 16) == 0 || memcmp(pv->src, pv->dst, 16) == 0)
        return;
    memset(&f, 0, sizeof(f));
    memcpy(f.key.addr[0], pv->src, 16);
    memcpy(f.key.addr[1], pv->dst, 16);
    f.ip_version = 4;
    f.flags = FLOW_F_ARP;
    f.iface = (uint8_t)iface;
    f.first_us = f.last_us = ts_us;
    detect__fctx(d, &x, &f);
    x.local_only = 0; /* ARP is broadcast by nature */
    detect_tick(d, ts_us);
    for (i = 0; i < d->rs->n; i++)
        if (d->rs->r[i].type == RULE_ARP_SWEEP && d->rs->r[i].enabled)
            detect__eval_arp_sweep(d, &x, i);
}

void detect_set_inventory(struct detect *d, struct inventory *inv, struct eve *eve,
                          const struct eve_ctx *ctx)
{
    d->inv = inv;
    inventory_set_outputs(inv, detect_inventory_finding, d, eve, ctx);
    inventory_set_dns(inv, d->dns);
    inventory_set_learned(inv, d->base); /* kept beside its state file */
}

/* Whether rule r is the one for what the inventory found. */
static int finding_rule(const struct rule *r, enum inventory_finding_kind kind)
{
    static const enum ledger_check check_of[INVENTORY__FINDINGS] = {
        [INVENTORY_UNKNOWN_DEVICE] = LEDGER_UNKNOWN_DEVICE,
        [INVENTORY_ZONE_MISMATCH] = LEDGER_ZONE_MISMATCH,
        [INVENTORY_MAC_MISMATCH] = LEDGER_MAC_MISMATCH,
        [INVENTORY_FIRMWARE_CHANGE] = LEDGER_FIRMWARE_CHANGE,
    };

    if (!r->enabled)
        return 0;
    if (kind == INVENTORY_END_OF_SUPPORT)
        return r->type == RULE_END_OF_SUPPORT;
    return r->type == RULE_LEDGER && r->ledger_check == check_of[kind];
}

/*
 * What the inventory found about a device, with the flow that showed it: its software past
 * end of support, what its ledger row says. The alert is about the device, whichever end of
 * the flow it was; the rule's zones are the device's.
 */
void detect_inventory_finding(void *ud, const struct inventory_finding *fd)
{
    struct detect *d = ud;
    struct evidence ev;
    struct fctx x;
    unsigned i, k;
    int server, z;

    if (d->rs == NULL || fd->f == NULL)
        return;
    detect__fctx(d, &x, fd->f);
    server = memcmp(fd->ip, x.src, 16) != 0;
    z = server ? x.dz : x.sz;
    detect_tick(d, x.now);
    for (i = 0; i < d->rs->n; i++) {
        const struct rule *r = &d->rs->r[i];
        if (!finding_rule(r, fd->kind) || !detect__zin(r->from, z) ||
            detect__zin(r->except_from, z))
            continue;
        detect__ev_clear(&ev);
        detect__ev_addr(&ev, "device", fd->ip);
        for (k = 0; k < fd->nevidence; k++)
            detect__ev_add(&ev, "%s", fd->evidence[k]);
        detect__raise_alert(d, &x, i, server ? SCOPE_DST : SCOPE_SRC, &ev);
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
        (ev == FLOW_EV_APP && (d->napp == 0 || !(f->flags & FLOW_F_EVALUATED))))
        return;
    detect__fctx(d, &x, f);
    detect_tick(d, x.now);
    if (ev == FLOW_EV_APP) {
        unsigned i;
        for (i = 0; i < d->napp && !x.local_only; i++)
            evaluators[d->rs->r[d->app[i]].type](d, &x, d->app[i]);
        dcerpc_clear_fresh(f);
        return;
    }
    if (!(f->flags & FLOW_F_EVALUATED)) {
        on_classified(d, &x);
        dcerpc_clear_fresh(f); /* the operations called so far have been looked at */
    }
    if (ev == FLOW_EV_ENDED)
        on_ended(d, &x);
}

static void sweep_one(struct detect *d, struct fold *fo, void *arg)
{
    uint64_t now_us = *(const uint64_t *)arg;

    if (fo->expires_us <= now_us)
        detect__fold_close(d, fo);
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
    detect__folds_each(d, sweep_one, &now_us);
}

static void close_one(struct detect *d, struct fold *fo, void *arg)
{
    (void)arg;
    detect__fold_close(d, fo);
}

void detect_finish(struct detect *d)
{
    detect__folds_each(d, close_one, NULL);
}

/* --- life ----------------------------------------------------------------------------------- */

/* The per-rule structures of one ruleset: evaluation lists and counters. */
struct plan {
    struct track **track;
    unsigned *classified, ncl, *segment, nseg, *ended, nend, *app, napp, *base_rules, nbase;
    int intel_rule;
    unsigned rules_loaded, rules_disabled;
    struct supp_state *supp; /* per suppress entry */
};

static int tracked(const struct rule *r)
{
    return r->type == RULE_FANOUT || r->type == RULE_SCAN || r->type == RULE_BRUTE_FORCE ||
           r->type == RULE_BEACONING || r->type == RULE_EXFILTRATION ||
           r->type == RULE_DICOM_REJECT || r->type == RULE_DNS_TUNNEL ||
           r->type == RULE_ARP_SWEEP || (r->type == RULE_DCERPC && r->threshold > 0);
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
    free(p->app);
    free(p->base_rules);
    free(p->supp);
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
    p->intel_rule = -1;
    p->track = calloc(n + 1, sizeof(*p->track));
    p->classified = calloc(n + 1, sizeof(unsigned));
    p->segment = calloc(n + 1, sizeof(unsigned));
    p->ended = calloc(n + 1, sizeof(unsigned));
    p->app = calloc(n + 1, sizeof(unsigned));
    p->base_rules = calloc(n + 1, sizeof(unsigned));
    p->supp = calloc(cfg->nsuppress + 1, sizeof(*p->supp));
    if (p->track == NULL || p->classified == NULL || p->segment == NULL || p->ended == NULL ||
        p->app == NULL || p->base_rules == NULL || p->supp == NULL)
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
        case RULE_BASELINE:
            p->base_rules[p->nbase++] = i;
            break;
        case RULE_HEALTH:         /* the health module's */
        case RULE_DNS_TUNNEL:     /* per DNS query: detect_dns_query() */
        case RULE_ARP_SWEEP:      /* per ARP request: detect_arp_request() */
        case RULE_END_OF_SUPPORT: /* per device: detect_inventory_finding() */
        case RULE_LEDGER:
            break;
        case RULE_SCAN:
        case RULE_BRUTE_FORCE:
        case RULE_EXFILTRATION:
        case RULE_ROGUE_SERVICE:
            p->ended[p->nend++] = i;
            break;
        case RULE_INTEL: /* as below, and after a reload at the flow's end too */
            p->intel_rule = p->intel_rule < 0 ? (int)i : p->intel_rule;
            p->ended[p->nend++] = i;
            /* fall through */
        case RULE_MEDICAL_ZONE:
        case RULE_DICOM_AE:
        case RULE_HL7_SENDER:
        case RULE_DICOM_REJECT:
        case RULE_DCERPC:
            /* At classification, and again whenever the parser has news. */
            p->classified[p->ncl++] = i;
            p->app[p->napp++] = i;
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
        p->supp[i].rule = r != NULL ? (int)(r - rs->r) : -1;
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
    d->app = p->app, d->napp = p->napp;
    d->base_rules = p->base_rules, d->nbase = p->nbase;
    d->intel_rule = p->intel_rule;
    d->supp = p->supp;
    d->st.rules_loaded = p->rules_loaded;
    d->st.rules_disabled = p->rules_disabled;
}

static struct plan plan_of(const struct detect *d)
{
    struct plan p = {d->track, d->classified, d->ncl, d->segment, d->nseg,
                     d->ended, d->nend,       d->app, d->napp,    d->base_rules,
                     d->nbase, d->intel_rule, 0,      0,          d->supp};
    return p;
}

int detect_create(struct detect **out, const struct mm_config *cfg, struct eve *eve,
                  const struct eve_ctx *ctx, const struct dnscache *dns)
{
    static const char *const svc_names[SVC__COUNT] = {
#define X(id, key, proto, port) proto,
        CONFIG_SERVICES_X(X)
#undef X
    };
    struct detect *d;
    struct plan p;
    unsigned i;
    int k;

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
    k = classify_lookup_risk("suspicious_dga_domain");
    d->dga_risk = k >= 0 ? 1ULL << k : 0;
    if ((d->folds = calloc(MM_DEDUP_SLOTS, sizeof(*d->folds))) == NULL ||
        plan_build(&p, cfg, NULL, NULL) != 0) {
        free(d->folds);
        free(d);
        return MM_ENOMEM;
    }
    if (p.nbase > 0 && baseline_create(&d->base, MM_BASELINE_MAX_EDGES) != 0) {
        plan_free(&p, cfg->ruleset != NULL ? cfg->ruleset->n : 0);
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
        detect__fold_close(d, fo);
}

int detect_reload(struct detect *d, const struct mm_config *cfg)
{
    struct plan old = plan_of(d), p;

    if (plan_build(&p, cfg, d->rs, &old) != 0)
        return MM_ENOMEM;
    /* What was learned stays: a reload that adds baseline rules starts learning. */
    if (p.nbase > 0 && d->base == NULL && baseline_create(&d->base, MM_BASELINE_MAX_EDGES) != 0) {
        plan_free(&p, cfg->ruleset != NULL ? cfg->ruleset->n : 0);
        return MM_ENOMEM;
    }
    /* Folds follow their rule by key; a rule that is gone reports its repeats now. */
    detect__folds_each(d, refold_one, (void *)cfg);
    plan_free(&old, d->rs != NULL ? d->rs->n : 0);
    plan_install(d, &p);
    d->cfg = cfg;
    d->rs = cfg->ruleset;
    d->st.reloads++;
    if (d->inv != NULL)
        inventory_set_learned(d->inv, d->base);
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
    baseline_destroy(d->base);
    free(d->folds);
    free(d);
}

void detect_get_stats(const struct detect *d, struct detect_stats *st)
{
    unsigned i;

    *st = d->st;
    st->supp = d->cfg->suppress;
    st->supp_source = d->cfg->source;
    st->nsupp = d->cfg->nsuppress < MM_STATS_SUPPRESS ? d->cfg->nsuppress : MM_STATS_SUPPRESS;
    for (i = 0; i < st->nsupp; i++)
        st->supp_count[i] = d->supp[i].count, st->supp_ended[i] = d->supp[i].ended;
    st->track_evictions = 0;
    for (i = 0; d->rs != NULL && i < d->rs->n; i++)
        if (d->track[i] != NULL)
            st->track_evictions += detect__track_evictions(d->track[i]);
}
