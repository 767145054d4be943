/*
 * ARP sweeps: one sender asking for many addresses of its subnet within a short window, as
 * host discovery on a local network does (nmap's default there is ARP alone, so the hosts
 * that do not exist leave no IP packet at all). Probes from 0.0.0.0 and announcements are
 * passed over before this; each target counts once in the window.
 */
#include <string.h>

#include "mimamori/detect.h"
#include "mimamori/rules.h"

#include "detect_int.h"

int detect__eval_arp_sweep(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct track_entry *e;
    struct evidence ev;
    unsigned n;

    if (!detect__zin(r->from, x->sz) || detect__zin(r->except_from, x->sz))
        return 0;
    e = detect__track_get(d->track[ri], detect__hash(ri, x->src, 16), x->now);
    n = detect__track_distinct(d->track[ri], e, detect__hash(0, x->dst, 16), x->now,
                               (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    detect__ev_clear(&ev);
    detect__ev_add(&ev, "arp_targets=%u", n);
    detect__ev_add(&ev, "window_s=%u", r->window_s);
    detect__ev_addr(&ev, "last_target", x->dst);
    detect__raise_alert(d, x, ri, SCOPE_SRC, &ev);
    return 1;
}
