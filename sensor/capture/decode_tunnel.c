/*
 * Tunnel layers of the decoder: GRE (RFC 2784/2890) with the payloads a mirror port or a
 * site's own tunnels carry (IPv4, IPv6, transparent Ethernet bridging, MPLS, ERSPAN types I, II
 * and III), VXLAN (RFC 7348) and IP-in-IP (RFC 2003, RFC 4213). The inner packet becomes the
 * one described; the depth is capped at MM_MAX_ENCAP_DEPTH. Payloads we do not unwrap (PPTP's
 * enhanced GRE, unknown GRE protocols) leave the outer packet as the flow.
 */
#include "decode_int.h"
#include "mimamori/limits.h"

int decode__tunnel_enter(struct decode_ctx *d)
{
    if (d->depth >= MM_MAX_ENCAP_DEPTH)
        return decode__anomaly(d, DA_TOO_MANY_LAYERS);
    d->depth++;
    d->pv->tunnel_depth = (uint8_t)d->depth;
    /* VLAN tags of the transport are not those of the mirrored traffic. */
    d->vlan_depth = 0;
    d->pv->vlan_count = 0;
    return DECODE_OK;
}

static int erspan_v2(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /* ERSPAN type II: Ver (4) = 1, VLAN (12), COS (3), En (2), T (1), Session ID (10),
     * Reserved (12), Index (20); then the mirrored Ethernet frame. */
    if (len < 8)
        return decode__anomaly(d, DA_ERSPAN_HEADER_TOO_SMALL);
    if (p[0] >> 4 != 1)
        return decode__anomaly(d, DA_ERSPAN_UNSUPPORTED_VERSION);
    return decode__ether(d, p + 8, len - 8);
}

static int erspan_v3(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /* ERSPAN type III: Ver (4) = 2, VLAN, COS, BSO, T, Session ID; Timestamp (32);
     * SGT (16) P (1) FT (5) HW ID (6) D (1) Gra (2) O (1); with O set, an 8-byte
     * platform-specific subheader follows. */
    uint32_t hl = 12;

    if (len < 12)
        return decode__anomaly(d, DA_ERSPAN_HEADER_TOO_SMALL);
    if (p[0] >> 4 != 2)
        return decode__anomaly(d, DA_ERSPAN_UNSUPPORTED_VERSION);
    if (p[11] & 0x01)
        hl += 8;
    if (len < hl)
        return decode__anomaly(d, DA_ERSPAN_HEADER_TOO_SMALL);
    return decode__ether(d, p + hl, len - hl);
}

int decode__gre(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /*
     * RFC 2784 with RFC 2890 key and sequence:
     *  |C|R|K|S| Reserved0 | Ver |        Protocol Type          |
     *  |   Checksum (if C or R)    |      Reserved1 / Offset       |
     *  |                        Key (if K)                         |
     *  |                  Sequence Number (if S)                   |
     */
    uint16_t flags, proto;
    uint32_t hl = 4;
    int r;

    if (len < 4)
        return decode__anomaly(d, DA_GRE_PKT_TOO_SMALL);
    decode__seen(d, DC_GRE);
    flags = decode__rd16(p);
    proto = decode__rd16(p + 2);
    switch (flags & 0x7) {
    case 0:
        break;
    case 1:
        /* RFC 2637 enhanced GRE carries PPTP's PPP frames: the tunnel itself is the flow. */
        if (proto != 0x880b)
            return decode__anomaly(d, DA_GRE_V1_WRONG_PROTOCOL);
        return DECODE__OPAQUE;
    default:
        return decode__anomaly(d, DA_GRE_WRONG_VERSION);
    }
    if (flags & 0x4000)
        return DECODE__OPAQUE; /* RFC 1701 source routing: obsolete, not unwrapped */
    if (flags & 0x8000)
        hl += 4;
    if (flags & 0x2000)
        hl += 4;
    if (flags & 0x1000)
        hl += 4;
    if (hl > len)
        return decode__anomaly(d, DA_GRE_V0_HDR_TOO_BIG);
    p += hl;
    len -= hl;

    switch (proto) {
    case 0x0800:
    case 0x86dd:
    case 0x6558: /* transparent Ethernet bridging (NVGRE, Cisco's L2 GRE) */
    case 0x8847:
    case 0x88be: /* ERSPAN type I (no sequence number) or II */
    case 0x22eb: /* ERSPAN type III */
        break;
    default:
        return DECODE__OPAQUE;
    }
    if ((r = decode__tunnel_enter(d)) != DECODE_OK)
        return r;
    switch (proto) {
    case 0x0800:
        return decode__ipv4(d, p, len);
    case 0x86dd:
        return decode__ipv6(d, p, len);
    case 0x6558:
        return decode__ether(d, p, len);
    case 0x8847:
        return decode__mpls(d, p, len);
    case 0x88be:
        decode__seen(d, DC_ERSPAN);
        return (flags & 0x1000) ? erspan_v2(d, p, len) : decode__ether(d, p, len);
    default:
        decode__seen(d, DC_ERSPAN);
        return erspan_v3(d, p, len);
    }
}

int decode__vxlan(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /* RFC 7348: |R|R|R|R|I|R|R|R| Reserved (24) | VNI (24) | Reserved (8) |, then Ethernet. */
    int r;

    if (len < 8 + 14 || !(p[0] & 0x08))
        return DECODE__OPAQUE; /* not VXLAN after all: an ordinary UDP flow */
    if ((r = decode__tunnel_enter(d)) != DECODE_OK)
        return r;
    decode__seen(d, DC_VXLAN);
    return decode__ether(d, p + 8, len - 8);
}

int decode__ip_in_ip(struct decode_ctx *d, uint8_t outer_version, uint8_t inner_proto,
                     const uint8_t *p, uint32_t len)
{
    int r;
    int inner6 = inner_proto == 41;

    if ((r = decode__tunnel_enter(d)) != DECODE_OK)
        return r;
    if (outer_version == 4)
        decode__seen(d, inner6 ? DC_IPV6_IN_IPV4 : DC_IPV4_IN_IPV4);
    else
        decode__seen(d, inner6 ? DC_IPV6_IN_IPV6 : DC_IPV4_IN_IPV6);
    return inner6 ? decode__ipv6(d, p, len) : decode__ipv4(d, p, len);
}
