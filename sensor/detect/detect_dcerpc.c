/*
 * The DCE-RPC operation rules: a client called an operation of the rule's list (DCSync's
 * replication request, a service created on another host, a remote task, ...). They run at
 * classification and whenever the parser reports an operation called for the first time on a
 * flow, and look only at the operations not looked at before. With a threshold, the flows that
 * called one of the operations are counted per host pair within the window instead (ZeroLogon
 * opens a connection per attempt).
 */
#include <string.h>

#include "mimamori/dcerpc.h"
#include "mimamori/detect.h"
#include "mimamori/rules.h"

#include "detect_int.h"

int detect__eval_dcerpc(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct dcerpc_info *in = dcerpc_info(x->f);
    struct evidence ev;
    uint64_t hit;
    unsigned op, n = 0, others;

    if (in == NULL || (hit = in->fresh & r->dcerpc_ops) == 0 || !detect__in_scope(r, x))
        return 0;
    if (r->threshold > 0) {
        uint8_t buf[32];
        struct track_entry *e;
        memcpy(buf, x->src, 16);
        memcpy(buf + 16, x->dst, 16);
        e = detect__track_get(d->track[ri], detect__hash(ri, buf, sizeof(buf)), x->now);
        n = detect__track_times(d->track[ri], e, x->now, (uint64_t)r->window_s * US);
        if (n < r->threshold)
            return 0;
        detect__track_reset(e);
    }
    op = (hit >> in->first_op & 1) ? in->first_op : (unsigned)__builtin_ctzll(hit);
    others = (unsigned)__builtin_popcountll(hit) - 1;
    detect__ev_clear(&ev);
    if (strncmp(dcerpc_op_name(op), "auth.", 5) == 0) { /* how the client authenticated */
        detect__ev_add(&ev, "auth=%s", dcerpc_op_name(op) + 5);
    } else {
        detect__ev_add(&ev, "dce_rpc=%s", dcerpc_op_name(op));
        detect__ev_add(&ev, "opnum=%u", dcerpc_op_opnum(op));
    }
    if (op == in->first_op && in->first_pipe[0] != '\0')
        detect__ev_add(&ev, "named_pipe=%s", in->first_pipe);
    detect__ev_add(&ev, "calls=%u", in->count[op]);
    if (others > 0)
        detect__ev_add(&ev, "other_operations=%u", others);
    if (n > 0) {
        detect__ev_add(&ev, "flows=%u", n);
        detect__ev_add(&ev, "window_s=%u", r->window_s);
    }
    detect__ev_add(&ev, "dest_port=%u", flow_dst_port(x->f));
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}
