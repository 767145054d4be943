/*
 * Private interface between the decoder's files: the bounds-checked readers and the layer
 * functions each file provides to the others. Not installed, not for other modules.
 */
#ifndef MIMAMORI_DECODE_INT_H
#define MIMAMORI_DECODE_INT_H

#include <stdint.h>

#include "mimamori/decode.h"

/* Decoding state of one frame: the view being filled and how deep in tunnels we are. */
struct decode_ctx {
    struct pkt_view *pv;
    unsigned depth;      /* tunnel layers entered */
    unsigned vlan_depth; /* VLAN tags in the current (innermost) frame */
    int snapped;         /* the capture holds less than the wire carried */
};

static inline uint16_t decode__rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t decode__rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline int decode__anomaly(struct decode_ctx *d, enum decode_anomaly a)
{
    d->pv->anomaly = (uint8_t)a;
    return DECODE_ANOMALY;
}

static inline void decode__seen(struct decode_ctx *d, enum decode_counter c)
{
    d->pv->seen |= 1ull << c;
}

/* Layer entry points; each returns a decode_result. */
int decode__ether(struct decode_ctx *d, const uint8_t *p, uint32_t len);
int decode__ethertype(struct decode_ctx *d, uint16_t type, const uint8_t *p, uint32_t len);
int decode__ipv4(struct decode_ctx *d, const uint8_t *p, uint32_t len);
int decode__ipv6(struct decode_ctx *d, const uint8_t *p, uint32_t len);
int decode__mpls(struct decode_ctx *d, const uint8_t *p, uint32_t len);

/*
 * Tunnels (decode_tunnel.c). Each returns DECODE_OK etc. for the inner packet, or
 * DECODE__OPAQUE when the payload is not one we unwrap, in which case the caller keeps the
 * outer packet as the flow.
 */
#define DECODE__OPAQUE 100
int decode__gre(struct decode_ctx *d, const uint8_t *p, uint32_t len);
int decode__vxlan(struct decode_ctx *d, const uint8_t *p, uint32_t len);
int decode__ip_in_ip(struct decode_ctx *d, uint8_t outer_version, uint8_t inner_proto,
                     const uint8_t *p, uint32_t len);

/* Enter one more tunnel layer; DECODE_ANOMALY-free refusal when the depth cap is reached. */
int decode__tunnel_enter(struct decode_ctx *d);

#define VXLAN_PORT 4789u

#endif
