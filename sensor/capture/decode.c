/*
 * Link, network and transport layers of the decoder: Ethernet, Linux SLL/SLL2, raw IP and BSD
 * loopback framing; 802.1Q/802.1ad, MPLS and PPPoE; IPv4 with options and fragments, IPv6 with
 * extension headers; TCP, UDP, SCTP, ICMP and ICMPv6. Each layer checks length first, records
 * that it was seen, validates, and hands on. Tunnels live in decode_tunnel.c. Nothing here
 * allocates or keeps state between packets.
 */
#include <string.h>

#include "decode_int.h"
#include "mimamori/limits.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int decode_l4(struct decode_ctx *d, uint8_t proto, const uint8_t *p, uint32_t avail,
                     uint32_t claimed);

/* --- link layers ------------------------------------------------------------------------- */

int decode__ether(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /* IEEE 802.3: destination MAC (6), source MAC (6), EtherType or length (2). */
    if (len < 14)
        return decode__anomaly(d, DA_ETH_PKT_TOO_SMALL);
    decode__seen(d, DC_ETHERNET);
    /* The group bit of the destination: broadcast or multicast at layer 2 (innermost wins). */
    if (p[0] & 0x01)
        d->pv->flags |= PV_L2_GROUP;
    else
        d->pv->flags &= (uint8_t)~PV_L2_GROUP;
    return decode__ethertype(d, decode__rd16(p + 12), p + 14, len - 14);
}

static int decode_vlan(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /* IEEE 802.1Q tag after the TPID: PCP (3) DEI (1) VID (12), then the next EtherType. */
    struct pkt_view *pv = d->pv;

    if (++d->vlan_depth > MM_MAX_VLAN_LAYERS)
        return decode__anomaly(d, DA_VLAN_TOO_MANY_LAYERS);
    if (len < 4)
        return decode__anomaly(d, DA_VLAN_HEADER_TOO_SMALL);
    decode__seen(d, DC_VLAN);
    if (d->vlan_depth == 2)
        decode__seen(d, DC_VLAN_QINQ);
    if (pv->vlan_count < 2)
        pv->vlan[pv->vlan_count++] = decode__rd16(p) & 0x0fff;
    return decode__ethertype(d, decode__rd16(p + 2), p + 4, len - 4);
}

static int decode_pppoe(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /*
     * RFC 2516 session stage: VER (4) TYPE (4) CODE (8) SESSION_ID (16) LENGTH (16), then the
     * PPP protocol field (RFC 1661) and the datagram.
     */
    uint16_t plen, proto;

    if (len < 8)
        return decode__anomaly(d, DA_PPPOE_PKT_TOO_SMALL);
    if (p[1] != 0x00)
        return decode__anomaly(d, DA_PPPOE_WRONG_CODE);
    decode__seen(d, DC_PPPOE);
    plen = decode__rd16(p + 4);
    if (plen < 2)
        return decode__anomaly(d, DA_PPPOE_PKT_TOO_SMALL);
    if ((uint32_t)plen + 6 < len)
        len = (uint32_t)plen + 6;
    proto = decode__rd16(p + 6);
    switch (proto) {
    case 0x0021:
        return decode__ipv4(d, p + 8, len - 8);
    case 0x0057:
        return decode__ipv6(d, p + 8, len - 8);
    default:
        /* 0x8000-0xffff are network and link control protocols (LCP, IPCP, PAP, CHAP). */
        if (proto >= 0x8000)
            return DECODE_NOT_IP;
        return decode__anomaly(d, DA_PPP_UNSUP_PROTO);
    }
}

int decode__mpls(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /* RFC 3032 label stack entry: Label (20) TC (3) S (1) TTL (8); S marks the bottom. */
    unsigned n;

    for (n = 0;; n++) {
        int bottom;
        if (n >= MM_MAX_MPLS_LABELS)
            return decode__anomaly(d, DA_TOO_MANY_LAYERS);
        if (len < 4)
            return decode__anomaly(d, DA_MPLS_HEADER_TOO_SMALL);
        decode__seen(d, DC_MPLS);
        bottom = p[2] & 0x01;
        p += 4;
        len -= 4;
        if (bottom)
            break;
    }
    if (len < 1)
        return decode__anomaly(d, DA_MPLS_HEADER_TOO_SMALL);
    switch (p[0] >> 4) {
    case 4:
        return decode__ipv4(d, p, len);
    case 6:
        return decode__ipv6(d, p, len);
    case 0:
        /* RFC 4385 pseudowire control word, then an Ethernet frame (RFC 4448). */
        if (len < 4)
            return decode__anomaly(d, DA_MPLS_HEADER_TOO_SMALL);
        return decode__ether(d, p + 4, len - 4);
    default:
        return decode__anomaly(d, DA_MPLS_UNKNOWN_PAYLOAD);
    }
}

/*
 * RFC 826 for Ethernet and IPv4: hardware type 1, protocol 0x0800, lengths 6 and 4, then the
 * operation, sender MAC and IP, target MAC and IP. A request's sender and target IPs go to
 * src and dst for the sweep rules; ARP carries no IP flow.
 */
static void decode_arp(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    struct pkt_view *pv = d->pv;

    pv->flags &= (uint8_t)~PV_ARP_REQUEST;
    if (len < 28 || decode__rd16(p) != 1 || decode__rd16(p + 2) != 0x0800 || p[4] != 6 ||
        p[5] != 4 || decode__rd16(p + 6) != 1)
        return;
    memcpy(pv->src, v4_mapped_prefix, 12);
    memcpy(pv->src + 12, p + 14, 4);
    memcpy(pv->dst, v4_mapped_prefix, 12);
    memcpy(pv->dst + 12, p + 24, 4);
    memcpy(pv->arp_sha, p + 8, 6);
    pv->flags |= PV_ARP_REQUEST;
}

int decode__ethertype(struct decode_ctx *d, uint16_t type, const uint8_t *p, uint32_t len)
{
    switch (type) {
    case 0x0800:
        return decode__ipv4(d, p, len);
    case 0x86dd:
        return decode__ipv6(d, p, len);
    case 0x8100: /* 802.1Q */
    case 0x88a8: /* 802.1ad */
    case 0x9100: /* pre-standard QinQ */
        return decode_vlan(d, p, len);
    case 0x8847: /* MPLS unicast */
    case 0x8848: /* MPLS multicast */
        return decode__mpls(d, p, len);
    case 0x8864:
        return decode_pppoe(d, p, len);
    case 0x8903:
        /* Cisco FabricPath: the outer header's EtherType is followed by a 2-byte FTag/TTL,
         * then the original Ethernet frame. */
        if (len < 2 + 14)
            return decode__anomaly(d, DA_ETH_PKT_TOO_SMALL);
        return decode__ether(d, p + 2, len - 2);
    case 0x8863: /* PPPoE discovery */
        decode__seen(d, DC_PPPOE);
        return DECODE_NOT_IP;
    case 0x0806:
        decode__seen(d, DC_ARP);
        decode_arp(d, p, len);
        return DECODE_NOT_IP;
    default:
        /* Below 0x0600 the field is an 802.3 length (LLC: STP, CDP, ...). */
        if (type >= 0x0600)
            decode__seen(d, DC_UNKNOWN_ETHERTYPE);
        return DECODE_NOT_IP;
    }
}

static int decode_raw(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    decode__seen(d, DC_RAW);
    if (len < 1)
        return decode__anomaly(d, DA_RAW_INVALID_IP_VERSION);
    switch (p[0] >> 4) {
    case 4:
        return decode__ipv4(d, p, len);
    case 6:
        return decode__ipv6(d, p, len);
    default:
        return decode__anomaly(d, DA_RAW_INVALID_IP_VERSION);
    }
}

static int decode_null(struct decode_ctx *d, const uint8_t *p, uint32_t len, int network_order)
{
    /*
     * BSD loopback: a 4-byte address family, in the capturing host's byte order (DLT_NULL) or
     * network order (DLT_LOOP). AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 (BSDs,
     * macOS) or 10 (Linux).
     */
    uint32_t af;

    if (len < 4)
        return decode__anomaly(d, DA_NULL_PKT_TOO_SMALL);
    decode__seen(d, DC_LTNULL);
    af = decode__rd32(p);
    if (!network_order && (af & 0xffff) == 0)
        af = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    switch (af) {
    case 2:
        return decode__ipv4(d, p + 4, len - 4);
    case 10:
    case 24:
    case 28:
    case 30:
        return decode__ipv6(d, p + 4, len - 4);
    default:
        return decode__anomaly(d, DA_NULL_UNSUPPORTED_TYPE);
    }
}

/* --- network layers ---------------------------------------------------------------------- */

static int ipv4_options_valid(const uint8_t *opt, uint32_t len, enum decode_anomaly *why)
{
    /* RFC 791 options: EOL (0) and NOP (1) are one byte; others are type, length, data. */
    uint32_t i = 0;

    while (i < len) {
        uint8_t type = opt[i];
        if (type == 0)
            return 1;
        if (type == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len) {
            *why = DA_IPV4_OPT_MALFORMED;
            return 0;
        }
        if (opt[i + 1] < 2 || i + opt[i + 1] > len) {
            *why = DA_IPV4_OPT_INVALID_LEN;
            return 0;
        }
        i += opt[i + 1];
    }
    return 1;
}

int decode__ipv4(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /*
     * RFC 791:
     *  |Version|  IHL  |    TOS    |          Total Length          |
     *  |        Identification      |Flags|    Fragment Offset      |
     *  |    TTL    |   Protocol     |        Header Checksum         |
     *  |                       Source Address                       |
     *  |                    Destination Address                     |
     */
    struct pkt_view *pv = d->pv;
    uint32_t hlen, tot, avail, frag_off;
    enum decode_anomaly why = DA_NONE;

    if (len < 20)
        return decode__anomaly(d, DA_IPV4_PKT_TOO_SMALL);
    if (p[0] >> 4 != 4)
        return decode__anomaly(d, DA_IPV4_WRONG_IP_VERSION);
    hlen = (uint32_t)(p[0] & 0x0f) * 4;
    if (hlen < 20)
        return decode__anomaly(d, DA_IPV4_HLEN_TOO_SMALL);
    tot = decode__rd16(p + 2);
    /*
     * A total length of 0 is what a host capturing its own traffic records for a segment its
     * NIC will cut up (TCP segmentation offload): the frame holds the whole segment. Wireshark
     * and Zeek read it so too.
     */
    if (tot == 0 && len >= hlen && len <= 65535)
        tot = len;
    if (tot < hlen)
        return decode__anomaly(d, DA_IPV4_IPLEN_SMALLER_THAN_HLEN);
    if (len < hlen || (tot > len && !d->snapped))
        return decode__anomaly(d, DA_IPV4_TRUNC_PKT);
    if (hlen > 20 && !ipv4_options_valid(p + 20, hlen - 20, &why))
        return decode__anomaly(d, why);
    frag_off = (uint32_t)(decode__rd16(p + 6) & 0x1fff) * 8;
    if (frag_off + (tot - hlen) > 65535)
        return decode__anomaly(d, DA_IPV4_FRAG_PKT_TOO_LARGE);

    avail = tot < len ? tot : len;
    decode__seen(d, DC_IPV4);
    pv->flags &= (uint8_t) ~(PV_FIRST_FRAG | PV_PORTS);
    pv->ip_version = 4;
    pv->proto = p[9];
    memcpy(pv->src, v4_mapped_prefix, 12);
    memcpy(pv->src + 12, p + 12, 4);
    memcpy(pv->dst, v4_mapped_prefix, 12);
    memcpy(pv->dst + 12, p + 16, 4);
    pv->l3 = p;
    pv->l3_len = avail;
    if (frag_off != 0)
        return DECODE_FRAGMENT;
    if (p[6] & 0x20)
        pv->flags |= PV_FIRST_FRAG;
    return decode_l4(d, p[9], p + hlen, avail - hlen, tot - hlen);
}

static int ipv6_options_valid(const uint8_t *opt, uint32_t len)
{
    /* RFC 8200 4.2: Pad1 (0) is one byte; others are type, length, data. */
    uint32_t i = 0;

    while (i < len) {
        if (opt[i] == 0) {
            i++;
            continue;
        }
        if (i + 1 >= len || i + 2 + (uint32_t)opt[i + 1] > len)
            return 0;
        i += 2 + (uint32_t)opt[i + 1];
    }
    return 1;
}

/*
 * The fragment header at off (RFC 8200 4.5): next header, reserved, offset (13 bits), reserved
 * (2), M (1), identification. DECODE_OK for a first fragment (PV_FIRST_FRAG) or an atomic one,
 * DECODE_FRAGMENT for a later one, or an anomaly.
 */
static int ipv6_fragment(struct decode_ctx *d, const uint8_t *p, uint32_t off, uint32_t avail,
                         uint32_t tot)
{
    struct pkt_view *pv = d->pv;
    uint32_t fo, frag_len;

    if (off + 8 > avail)
        return decode__anomaly(d, DA_IPV6_TRUNC_EXTHDR);
    fo = decode__rd16(p + off + 2) & 0xfff8u;
    frag_len = tot - off - 8;
    if (fo + frag_len > 65535)
        return decode__anomaly(d, DA_IPV6_FRAG_PKT_TOO_LARGE);
    if ((p[off + 3] & 0x01) && frag_len % 8 != 0)
        return decode__anomaly(d, DA_IPV6_FRAG_INVALID_LENGTH);
    pv->proto = p[off];
    if (fo != 0)
        return DECODE_FRAGMENT;
    if (p[off + 3] & 0x01)
        pv->flags |= PV_FIRST_FRAG;
    return DECODE_OK;
}

int decode__ipv6(struct decode_ctx *d, const uint8_t *p, uint32_t len)
{
    /*
     * RFC 8200:
     *  |Version| Traffic Class |           Flow Label                  |
     *  |         Payload Length        |  Next Header  |   Hop Limit   |
     *  |                 Source Address (128) / Destination (128)      |
     */
    struct pkt_view *pv = d->pv;
    uint32_t tot, avail, off = 40;
    uint8_t nh;
    unsigned n;
    int r;

    if (len < 40)
        return decode__anomaly(d, DA_IPV6_PKT_TOO_SMALL);
    if (p[0] >> 4 != 6)
        return decode__anomaly(d, DA_IPV6_WRONG_IP_VERSION);
    tot = 40 + (uint32_t)decode__rd16(p + 4);
    if (tot == 40 && len > 40)
        tot = len; /* jumbogram or offloaded send: the length field is 0 */
    if (tot > len && !d->snapped)
        return decode__anomaly(d, DA_IPV6_TRUNC_PKT);
    avail = tot < len ? tot : len;

    decode__seen(d, DC_IPV6);
    pv->flags &= (uint8_t) ~(PV_FIRST_FRAG | PV_PORTS);
    pv->ip_version = 6;
    memcpy(pv->src, p + 8, 16);
    memcpy(pv->dst, p + 24, 16);
    pv->l3 = p;
    pv->l3_len = avail;
    nh = p[6];

    for (n = 0; n < MM_MAX_IPV6_EXTHDRS; n++) {
        uint32_t hl;
        switch (nh) {
        case 0:   /* hop-by-hop options */
        case 60:  /* destination options */
        case 43:  /* routing */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (off + 8 > avail)
                return decode__anomaly(d, DA_IPV6_TRUNC_EXTHDR);
            hl = ((uint32_t)p[off + 1] + 1) * 8;
            if (off + hl > avail)
                return decode__anomaly(d, DA_IPV6_TRUNC_EXTHDR);
            if ((nh == 0 || nh == 60) && !ipv6_options_valid(p + off + 2, hl - 2))
                return decode__anomaly(d, DA_IPV6_EXTHDR_INVALID_OPTLEN);
            break;
        case 51: /* authentication header, RFC 4302: length in 4-byte units minus 2 */
            if (off + 8 > avail)
                return decode__anomaly(d, DA_IPV6_TRUNC_EXTHDR);
            hl = ((uint32_t)p[off + 1] + 2) * 4;
            if (off + hl > avail)
                return decode__anomaly(d, DA_IPV6_TRUNC_EXTHDR);
            break;
        case 44: /* fragment */
            if ((r = ipv6_fragment(d, p, off, avail, tot)) != DECODE_OK)
                return r;
            hl = 8;
            break;
        default:
            goto upper;
        }
        nh = p[off];
        off += hl;
    }
upper:
    pv->proto = nh;
    return decode_l4(d, nh, p + off, avail - off, tot - off);
}

/* --- transport layers -------------------------------------------------------------------- */

static int tcp_options_valid(const uint8_t *opt, uint32_t len)
{
    /* RFC 9293 3.1: End (0) and NOP (1) are one byte; others are kind, length, data. */
    uint32_t i = 0;

    while (i < len) {
        if (opt[i] == 0)
            return 1;
        if (opt[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
            return 0;
        i += opt[i + 1];
    }
    return 1;
}

static int decode_tcp(struct decode_ctx *d, const uint8_t *p, uint32_t avail, uint32_t claimed)
{
    /*
     * RFC 9293:
     *  |          Source Port          |       Destination Port        |
     *  |                        Sequence Number                        |
     *  |                    Acknowledgment Number                      |
     *  | DOff  | Rsrvd |   Flags       |            Window             |
     *  |           Checksum            |         Urgent Pointer        |
     */
    struct pkt_view *pv = d->pv;
    uint32_t doff;

    if (avail < 20)
        return decode__anomaly(d, DA_TCP_PKT_TOO_SMALL);
    doff = (uint32_t)(p[12] >> 4) * 4;
    if (doff < 20)
        return decode__anomaly(d, DA_TCP_HLEN_TOO_SMALL);
    if (doff > avail)
        return decode__anomaly(d, DA_TCP_PKT_TOO_SMALL);
    if (doff > 20 && !tcp_options_valid(p + 20, doff - 20))
        return decode__anomaly(d, DA_TCP_INVALID_OPTLEN);
    decode__seen(d, DC_TCP);
    pv->src_port = decode__rd16(p);
    pv->dst_port = decode__rd16(p + 2);
    pv->tcp_seq = decode__rd32(p + 4);
    pv->tcp_ack = decode__rd32(p + 8);
    pv->tcp_flags = p[13];
    pv->tcp_win = decode__rd16(p + 14);
    pv->payload = p + doff;
    pv->payload_len = avail - doff;
    pv->tcp_seg_len = claimed > doff ? claimed - doff : 0; /* snaplen may have cut the payload */
    pv->flags |= PV_PORTS;
    return DECODE_OK;
}

static int decode_udp(struct decode_ctx *d, const uint8_t *p, uint32_t avail, uint32_t claimed)
{
    /* RFC 768: Source Port, Destination Port, Length (header included), Checksum. */
    struct pkt_view *pv = d->pv;
    uint32_t ulen, end;

    if (avail < 8)
        return decode__anomaly(d, DA_UDP_PKT_TOO_SMALL);
    ulen = decode__rd16(p + 4);
    if (ulen < 8 || (ulen > claimed && !(pv->flags & PV_FIRST_FRAG)))
        return decode__anomaly(d, DA_UDP_LEN_INVALID);
    decode__seen(d, DC_UDP);
    pv->src_port = decode__rd16(p);
    pv->dst_port = decode__rd16(p + 2);
    pv->flags |= PV_PORTS;
    end = ulen < avail ? ulen : avail;
    pv->payload = p + 8;
    pv->payload_len = end - 8;
    if (pv->dst_port == VXLAN_PORT && !(pv->flags & PV_FIRST_FRAG)) {
        int r = decode__vxlan(d, p + 8, end - 8);
        if (r != DECODE__OPAQUE)
            return r;
    }
    return DECODE_OK;
}

static int decode_sctp(struct decode_ctx *d, const uint8_t *p, uint32_t avail)
{
    /* RFC 9260 common header: Source Port, Destination Port, Verification Tag, Checksum. */
    struct pkt_view *pv = d->pv;

    if (avail < 12)
        return decode__anomaly(d, DA_SCTP_PKT_TOO_SMALL);
    decode__seen(d, DC_SCTP);
    pv->src_port = decode__rd16(p);
    pv->dst_port = decode__rd16(p + 2);
    pv->payload = p + 12;
    pv->payload_len = avail - 12;
    pv->flags |= PV_PORTS;
    return DECODE_OK;
}

static int decode_icmp(struct decode_ctx *d, const uint8_t *p, uint32_t avail, int v6)
{
    /* RFC 792 / RFC 4443: Type, Code, Checksum, then a type-specific body. */
    struct pkt_view *pv = d->pv;

    if (avail < 4)
        return decode__anomaly(d, v6 ? DA_ICMPV6_PKT_TOO_SMALL : DA_ICMPV4_PKT_TOO_SMALL);
    decode__seen(d, v6 ? DC_ICMPV6 : DC_ICMPV4);
    pv->icmp_type = p[0];
    pv->icmp_code = p[1];
    pv->src_port = p[0];
    pv->dst_port = p[1];
    pv->payload = p + 4;
    pv->payload_len = avail - 4;
    return DECODE_OK;
}

static int decode_l4(struct decode_ctx *d, uint8_t proto, const uint8_t *p, uint32_t avail,
                     uint32_t claimed)
{
    struct pkt_view *pv = d->pv;
    int r;

    switch (proto) {
    case 6:
        return decode_tcp(d, p, avail, claimed);
    case 17:
        return decode_udp(d, p, avail, claimed);
    case 132:
        return decode_sctp(d, p, avail);
    case 1:
        return decode_icmp(d, p, avail, 0);
    case 58:
        return decode_icmp(d, p, avail, 1);
    case 4:  /* IPv4 in IP, RFC 2003 */
    case 41: /* IPv6 in IP, RFC 4213 */
    case 47: /* GRE */
        if (pv->flags & PV_FIRST_FRAG)
            return DECODE_OK; /* an incomplete inner packet: keep the outer one */
        r = proto == 47 ? decode__gre(d, p, avail)
                        : decode__ip_in_ip(d, pv->ip_version, proto, p, avail);
        return r == DECODE__OPAQUE ? DECODE_OK : r;
    default:
        pv->payload = p;
        pv->payload_len = avail;
        return DECODE_OK;
    }
}

/* --- entry point and accounting ---------------------------------------------------------- */

int decode_packet(struct pkt_view *pv, enum mm_link link, const uint8_t *data, uint32_t caplen,
                  uint32_t wire_len)
{
    struct decode_ctx d = {.pv = pv, .snapped = caplen < wire_len};

    memset(pv, 0, sizeof(*pv));
    switch (link) {
    case MM_LINK_ETHERNET:
        return decode__ether(&d, data, caplen);
    case MM_LINK_SLL:
        /* Packet type (2), ARPHRD (2), address length (2), address (8), protocol (2). */
        if (caplen < 16)
            return decode__anomaly(&d, DA_SLL_PKT_TOO_SMALL);
        decode__seen(&d, DC_SLL);
        return decode__ethertype(&d, decode__rd16(data + 14), data + 16, caplen - 16);
    case MM_LINK_SLL2:
        /* Protocol (2), reserved (2), ifindex (4), ARPHRD (2), type (1), addr len (1), addr (8). */
        if (caplen < 20)
            return decode__anomaly(&d, DA_SLL2_PKT_TOO_SMALL);
        decode__seen(&d, DC_SLL2);
        return decode__ethertype(&d, decode__rd16(data), data + 20, caplen - 20);
    case MM_LINK_RAW:
        return decode_raw(&d, data, caplen);
    case MM_LINK_NULL:
        return decode_null(&d, data, caplen, 0);
    case MM_LINK_LOOP:
        return decode_null(&d, data, caplen, 1);
    default:
        return DECODE_NOT_IP;
    }
}

void decode_stats_add(struct decode_stats *to, const struct decode_stats *from)
{
    unsigned i;

    to->pkts += from->pkts;
    to->bytes += from->bytes;
    to->invalid += from->invalid;
    to->fragments_v4 += from->fragments_v4;
    to->fragments_v6 += from->fragments_v6;
    for (i = 0; i < DC__COUNT; i++)
        to->layer[i] += from->layer[i];
    for (i = 0; i < DA__COUNT; i++)
        to->anomaly[i] += from->anomaly[i];
}

_Static_assert(DC__COUNT <= 64, "pv->seen holds a bit per layer");

void decode_stats_account(struct decode_stats *st, const struct pkt_view *pv, int result,
                          uint32_t wire_len)
{
    uint64_t seen = pv->seen;

    st->pkts++;
    st->bytes += wire_len;
    for (; seen != 0; seen &= seen - 1) /* each layer seen: a few, of DC__COUNT */
        st->layer[__builtin_ctzll(seen)]++;
    if (result == DECODE_ANOMALY) {
        st->invalid++;
        st->anomaly[pv->anomaly]++;
    } else if (result == DECODE_FRAGMENT) {
        if (pv->ip_version == 4)
            st->fragments_v4++;
        else
            st->fragments_v6++;
    }
}

static const char *const counter_names[DC__COUNT] = {
#define DC_NAME(id, name) name,
    DECODE_COUNTERS(DC_NAME)
#undef DC_NAME
};

static const char *const anomaly_layers[DA__COUNT] = {NULL,
#define DA_LAYER(id, layer, name) layer,
                                                      DECODE_ANOMALIES(DA_LAYER)
#undef DA_LAYER
};

static const char *const anomaly_names[DA__COUNT] = {"none",
#define DA_NAME(id, layer, name) name,
                                                     DECODE_ANOMALIES(DA_NAME)
#undef DA_NAME
};

const char *decode_counter_name(enum decode_counter c)
{
    return c < DC__COUNT ? counter_names[c] : NULL;
}

const char *decode_anomaly_layer(enum decode_anomaly a)
{
    return a < DA__COUNT ? anomaly_layers[a] : NULL;
}

const char *decode_anomaly_name(enum decode_anomaly a)
{
    return a < DA__COUNT ? anomaly_names[a] : NULL;
}
