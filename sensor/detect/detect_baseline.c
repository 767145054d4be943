/*
 * The baseline rules: in the zones where nothing should change (medical_devices and emr in the
 * shipped rules), every answered flow in a rule's scope is learned during learning.period;
 * after it, a new peer, a new service or a new internet site is reported once, with the
 * baseline it broke (how much was learned, over which days). A flow another rule alerted on is
 * learned without a second alert.
 */
#include <stdio.h>
#include <string.h>

#include "mimamori/baseline.h"
#include "mimamori/eve.h"

#include "detect_int.h"

/* "2026-11-17T09:00..2026-11-24T09:00": the learning period, to the minute. */
static void ev_period(struct evidence *ev, const struct baseline_verdict *v)
{
    char a[40], b[40];

    eve_format_time(v->from_us, a, sizeof(a));
    eve_format_time(v->until_us, b, sizeof(b));
    a[16] = b[16] = '\0';
    detect__ev_add(ev, "learned=%s..%s", a, b);
}

int detect__eval_baseline(struct detect *d, struct fctx *x, unsigned ri)
{
    static const char *const learned_what[BASELINE__COUNT] = {"service_peers_learned",
                                                              "services_learned", "sites_learned"};
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct baseline_verdict v;
    struct evidence ev;
    const char *name = NULL, *via = "ip";

    if (d->base == NULL || !detect__in_scope(r, x) || !detect__answered(f) ||
        (r->baseline_check == BASELINE_NEW_DESTINATION) != (x->dz == ZONE_INTERNET) ||
        x->sz == ZONE_INTERNET)
        return 0;
    if (r->baseline_check == BASELINE_NEW_DESTINATION)
        name = detect__dest_name(d, f, x->dst, &via);
    baseline_judge(d->base, (enum baseline_check)r->baseline_check, f, x->sz, x->dz, name,
                   (uint64_t)(d->cfg->learning_s ? d->cfg->learning_s : MM_LEARNING_S) * US, &v);
    if (!v.news || x->matched)
        return 0;
    detect__ev_clear(&ev);
    if (r->baseline_check == BASELINE_NEW_DESTINATION && name != NULL)
        detect__ev_add(&ev, "destination=%s (%s)", name, via);
    else if (r->baseline_check == BASELINE_NEW_DESTINATION)
        detect__ev_addr(&ev, "destination", x->dst);
    detect__ev_add(&ev, "service=%s/%u",
                   f->key.proto == 6    ? "tcp"
                   : f->key.proto == 17 ? "udp"
                                        : "ip",
                   flow_dst_port(f));
    detect__ev_protocol(&ev, x);
    detect__ev_add(&ev, "%s=%u", learned_what[r->baseline_check], v.learned);
    if (r->baseline_check == BASELINE_NEW_PEER)
        detect__ev_add(&ev, "client_peers_learned=%u", v.client_peers);
    ev_period(&ev, &v);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}
