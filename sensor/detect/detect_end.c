/*
 * The rules that need a flow's whole life, run when it ends: scans (probes that got no
 * conversation), brute force (short sessions to one service), exfiltration volume (bytes out over
 * a sliding window) and rogue services (a server where the site names none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/rules.h"
#include "mimamori/zone.h"

#include "detect_int.h"

/* --- end-of-flow rules ---------------------------------------------------------------------- */

/*
 * A connection attempt that failed, went unanswered, or stopped after the handshake; or a
 * segment without SYN or ACK (NULL, FIN, Xmas scans), which no connection sends.
 */
int detect__is_probe(const struct flow *f)
{
    const uint8_t cs = f->tcp_flags[FLOW_TOSERVER], sc = f->tcp_flags[FLOW_TOCLIENT];

    switch (f->key.proto) {
    case 6:
        if (!(cs & TCP_SYN)) /* NULL, FIN and Xmas probes carry no ACK; mid-stream data does */
            return !(cs & (TCP_ACK | TCP_RST)) && f->pkts[FLOW_TOSERVER] <= 3;
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

/*
 * What kind of probe a flow was, as a scanner's manual names them: syn (unanswered, refused,
 * or answered and dropped: half-open), connect (the handshake completed, then nothing), fin,
 * null, xmas (FIN, PSH and URG), udp, icmp_echo.
 */
static const char *probe_kind(const struct flow *f)
{
    const uint8_t cs = f->tcp_flags[FLOW_TOSERVER], sc = f->tcp_flags[FLOW_TOCLIENT];

    switch (f->key.proto) {
    case 6:
        if (cs & TCP_SYN)
            return (sc & TCP_SYN) && (cs & TCP_ACK) && !(cs & TCP_RST) ? "connect" : "syn";
        if (cs == 0)
            return "null";
        if ((cs & (TCP_FIN | TCP_PSH | 0x20u)) == (TCP_FIN | TCP_PSH | 0x20u))
            return "xmas";
        return cs & TCP_FIN ? "fin" : "tcp";
    case 17:
        return "udp";
    case 1:
        return f->icmp_type == 8 ? "icmp_echo" : "icmp";
    case 58:
        return f->icmp_type == 128 ? "icmp_echo" : "icmp";
    default:
        return "ip";
    }
}

int detect__eval_scan(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;
    struct track_entry *e;
    uint8_t buf[32];
    uint64_t v;
    unsigned n;

    detect__ev_clear(&ev);
    if (!detect__in_scope(r, x) || !detect__is_probe(x->f))
        return 0;
    memcpy(buf, x->src, 16);
    memcpy(buf + 16, x->dst, 16);
    if (r->scan_mode == SCAN_PORTS) {
        if (x->f->key.proto != 6 && x->f->key.proto != 17)
            return 0;
        e = detect__track_get(d->track[ri], detect__hash(ri, buf, 32), x->now);
        v = (uint64_t)x->f->key.proto << 16 | flow_dst_port(x->f);
    } else if (r->scan_mode == SCAN_SERVICE) {
        /* One service across many servers: a worm's or a sweep's fixed port. */
        uint16_t dport = flow_dst_port(x->f);
        buf[16] = x->f->key.proto;
        memcpy(buf + 17, &dport, 2);
        e = detect__track_get(d->track[ri], detect__hash(ri, buf, 19), x->now);
        v = detect__hash(0, x->dst, 16);
    } else {
        e = detect__track_get(d->track[ri], detect__hash(ri, buf, 16), x->now);
        v = detect__hash(0, x->dst, 16);
    }
    n = detect__track_distinct(d->track[ri], e, v, x->f->first_us, (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    detect__ev_add(&ev, r->scan_mode == SCAN_PORTS ? "distinct_ports=%u" : "distinct_hosts=%u", n);
    if (r->scan_mode == SCAN_SERVICE)
        detect__ev_add(&ev, "service=%s/%u",
                       x->f->key.proto == 6    ? "tcp"
                       : x->f->key.proto == 17 ? "udp"
                                               : "icmp",
                       flow_dst_port(x->f));
    detect__ev_add(&ev, "window_s=%u", r->window_s);
    detect__ev_add(&ev, "probe=%s", probe_kind(x->f));
    detect__ev_add(&ev, "last_probe=%s/%u",
                   x->f->key.proto == 6    ? "tcp"
                   : x->f->key.proto == 17 ? "udp"
                                           : "icmp",
                   flow_dst_port(x->f));
    detect__raise_alert(d, x, ri, r->scan_mode == SCAN_PORTS ? SCOPE_PAIR : SCOPE_SRC, &ev);
    return 1;
}

int detect__eval_brute_force(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    struct track_entry *e;
    uint8_t buf[34];
    uint16_t dport = flow_dst_port(f);
    unsigned n;

    detect__ev_clear(&ev);
    if (!detect__in_scope(r, x) || !rules_match(&r->match, f) || f->pkts[FLOW_TOCLIENT] == 0 ||
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
    detect__ev_add(&ev, "sessions=%u", n);
    detect__ev_add(&ev, "window_s=%u", r->window_s);
    detect__ev_add(&ev, "max_duration_s=%u", r->max_duration_s);
    detect__ev_protocol(&ev, x);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_exfiltration(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    const uint8_t *in, *out;
    struct track_entry *e;
    uint8_t buf[32];
    uint64_t sent, sum;
    int iz, oz;

    detect__ev_clear(&ev);
    if (x->sz != ZONE_INTERNET && x->dz == ZONE_INTERNET) {
        in = x->src, out = x->dst, iz = x->sz, oz = x->dz, sent = f->bytes[FLOW_TOSERVER];
    } else if (x->sz == ZONE_INTERNET && x->dz != ZONE_INTERNET) {
        in = x->dst, out = x->src, iz = x->dz, oz = x->sz, sent = f->bytes[FLOW_TOCLIENT];
    } else {
        return 0;
    }
    if (!detect__zin(r->from, iz) || detect__zin(r->except_from, iz) || !detect__zin(r->to, oz) ||
        detect__excluded(r, f) || sent == 0 ||
        (r->skip_allowed && detect__egress_allowed(d, iz, f, out)))
        return 0;
    memcpy(buf, in, 16);
    memcpy(buf + 16, out, 16);
    e = detect__track_get(d->track[ri], detect__hash(ri, buf, sizeof(buf)), x->now);
    sum = detect__track_sum(e, sent, f->last_us, (uint64_t)r->window_s * US);
    if (sum < r->bytes)
        return 0;
    detect__track_reset(e);
    detect__ev_add(&ev, "bytes_out=%llu", (unsigned long long)sum);
    detect__ev_add(&ev, "window_s=%u", r->window_s);
    detect__ev_add(&ev, "threshold_bytes=%llu", (unsigned long long)r->bytes);
    detect__ev_addr(&ev, "internal_host", in);
    detect__ev_protocol(&ev, x);
    detect__ev_dest_name(d, &ev, f, out);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_rogue(struct detect *d, struct fctx *x, unsigned ri)
{
    static const uint16_t port[SVC__COUNT] = {
#define X(id, key, proto, port) port,
        CONFIG_SERVICES_X(X)
#undef X
    };
    const char *const *name = config_service_keys;
    const struct rule *r = &d->rs->r[ri];
    const struct flow *f = x->f;
    struct evidence ev;
    const uint8_t *server;
    int s, zone;
    char a[48];

    detect__ev_clear(&ev);
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
        if (zone == ZONE_INTERNET || !detect__zin(r->to, zone) ||
            config_is_service(d->cfg, s, server))
            continue;
        detect__ev_add(&ev, "service=%s", name[s]);
        detect__ev_addr(&ev, "server", server);
        detect__ev_add(&ev, "approved=%s%s",
                       zone_addr_str(d->cfg->services[s].addr[0], a, sizeof(a)),
                       d->cfg->services[s].n > 1 ? ",..." : "");
        /* Fold by the rogue server, whichever end it is. */
        if (server == x->src) {
            struct fctx y = *x;
            y.dst = x->src;
            detect__raise_alert(d, &y, ri, SCOPE_DST, &ev);
        } else {
            detect__raise_alert(d, x, ri, SCOPE_DST, &ev);
        }
        return 1;
    }
    return 0;
}
