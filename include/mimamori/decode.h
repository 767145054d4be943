/*
 * Packet decoder: pure, bounds-checked functions that turn one captured frame into a pkt_view
 * (addresses, ports, flags, offsets) without allocating or touching global state. Every layer
 * checks length, validates, records that it was seen and hands on to the next; malformed input
 * ends in a named anomaly that the caller counts, never in a crash. Lengths are clamped to
 * min(wire, captured, IP total length). Encapsulations a mirror port delivers (802.1Q/QinQ,
 * MPLS, PPPoE, GRE, ERSPAN I/II/III, VXLAN, IP-in-IP) are unwrapped up to MM_MAX_ENCAP_DEPTH,
 * and the innermost IP packet is the one described.
 */
#ifndef MIMAMORI_DECODE_H
#define MIMAMORI_DECODE_H

#include <stdint.h>

/* Link types, translated from libpcap's DLT values by the capture module. */
enum mm_link {
    MM_LINK_UNSUPPORTED = 0,
    MM_LINK_ETHERNET,
    MM_LINK_SLL,  /* Linux cooked capture v1 */
    MM_LINK_SLL2, /* Linux cooked capture v2 */
    MM_LINK_RAW,  /* raw IP, version from the first nibble */
    MM_LINK_NULL, /* BSD loopback, address family in host byte order */
    MM_LINK_LOOP, /* OpenBSD loopback, address family in network byte order */
};

/* Layers counted in stats.decoder; the string is the EVE schema's key. */
#define DECODE_COUNTERS(X)                                                                         \
    X(ETHERNET, "ethernet")                                                                        \
    X(SLL, "sll")                                                                                  \
    X(SLL2, "sll2")                                                                                \
    X(RAW, "raw")                                                                                  \
    X(LTNULL, "null")                                                                              \
    X(VLAN, "vlan")                                                                                \
    X(VLAN_QINQ, "vlan_qinq")                                                                      \
    X(MPLS, "mpls")                                                                                \
    X(PPPOE, "pppoe")                                                                              \
    X(ARP, "arp")                                                                                  \
    X(IPV4, "ipv4")                                                                                \
    X(IPV6, "ipv6")                                                                                \
    X(TCP, "tcp")                                                                                  \
    X(UDP, "udp")                                                                                  \
    X(SCTP, "sctp")                                                                                \
    X(ICMPV4, "icmpv4")                                                                            \
    X(ICMPV6, "icmpv6")                                                                            \
    X(GRE, "gre")                                                                                  \
    X(ERSPAN, "erspan")                                                                            \
    X(VXLAN, "vxlan")                                                                              \
    X(IPV4_IN_IPV4, "ipv4_in_ipv4")                                                                \
    X(IPV6_IN_IPV4, "ipv6_in_ipv4")                                                                \
    X(IPV4_IN_IPV6, "ipv4_in_ipv6")                                                                \
    X(IPV6_IN_IPV6, "ipv6_in_ipv6")                                                                \
    X(TOO_MANY_LAYERS, "too_many_layers")                                                          \
    X(UNKNOWN_ETHERTYPE, "unknown_ethertype")

enum decode_counter {
#define DC_ENUM(id, name) DC_##id,
    DECODE_COUNTERS(DC_ENUM)
#undef DC_ENUM
        DC__COUNT
};

/*
 * Anomalies: (id, layer, name) where "layer.name" is the key under stats.decoder.event in the
 * EVE schema, so counts reach SIEMs under the names Suricata uses. A NULL layer means the
 * schema has a top-level stats.decoder counter of that name instead.
 */
#define DECODE_ANOMALIES(X)                                                                        \
    X(ETH_PKT_TOO_SMALL, "ethernet", "pkt_too_small")                                              \
    X(SLL_PKT_TOO_SMALL, "sll", "pkt_too_small")                                                   \
    X(SLL2_PKT_TOO_SMALL, "sll2", "pkt_too_small")                                                 \
    X(NULL_PKT_TOO_SMALL, "ltnull", "pkt_too_small")                                               \
    X(NULL_UNSUPPORTED_TYPE, "ltnull", "unsupported_type")                                         \
    X(RAW_INVALID_IP_VERSION, "ipraw", "invalid_ip_version")                                       \
    X(VLAN_HEADER_TOO_SMALL, "vlan", "header_too_small")                                           \
    X(VLAN_TOO_MANY_LAYERS, "vlan", "too_many_layers")                                             \
    X(MPLS_HEADER_TOO_SMALL, "mpls", "header_too_small")                                           \
    X(MPLS_UNKNOWN_PAYLOAD, "mpls", "unknown_payload_type")                                        \
    X(PPPOE_PKT_TOO_SMALL, "pppoe", "pkt_too_small")                                               \
    X(PPPOE_WRONG_CODE, "pppoe", "wrong_code")                                                     \
    X(PPP_UNSUP_PROTO, "ppp", "unsup_proto")                                                       \
    X(IPV4_PKT_TOO_SMALL, "ipv4", "pkt_too_small")                                                 \
    X(IPV4_HLEN_TOO_SMALL, "ipv4", "hlen_too_small")                                               \
    X(IPV4_IPLEN_SMALLER_THAN_HLEN, "ipv4", "iplen_smaller_than_hlen")                             \
    X(IPV4_TRUNC_PKT, "ipv4", "trunc_pkt")                                                         \
    X(IPV4_WRONG_IP_VERSION, "ipv4", "wrong_ip_version")                                           \
    X(IPV4_OPT_INVALID_LEN, "ipv4", "opt_invalid_len")                                             \
    X(IPV4_OPT_MALFORMED, "ipv4", "opt_malformed")                                                 \
    X(IPV4_FRAG_PKT_TOO_LARGE, "ipv4", "frag_pkt_too_large")                                       \
    X(IPV6_PKT_TOO_SMALL, "ipv6", "pkt_too_small")                                                 \
    X(IPV6_TRUNC_PKT, "ipv6", "trunc_pkt")                                                         \
    X(IPV6_WRONG_IP_VERSION, "ipv6", "wrong_ip_version")                                           \
    X(IPV6_TRUNC_EXTHDR, "ipv6", "trunc_exthdr")                                                   \
    X(IPV6_EXTHDR_INVALID_OPTLEN, "ipv6", "exthdr_invalid_optlen")                                 \
    X(IPV6_FRAG_INVALID_LENGTH, "ipv6", "frag_invalid_length")                                     \
    X(IPV6_FRAG_PKT_TOO_LARGE, "ipv6", "frag_pkt_too_large")                                       \
    X(TCP_PKT_TOO_SMALL, "tcp", "pkt_too_small")                                                   \
    X(TCP_HLEN_TOO_SMALL, "tcp", "hlen_too_small")                                                 \
    X(TCP_INVALID_OPTLEN, "tcp", "invalid_optlen")                                                 \
    X(UDP_PKT_TOO_SMALL, "udp", "pkt_too_small")                                                   \
    X(UDP_LEN_INVALID, "udp", "len_invalid")                                                       \
    X(ICMPV4_PKT_TOO_SMALL, "icmpv4", "pkt_too_small")                                             \
    X(ICMPV6_PKT_TOO_SMALL, "icmpv6", "pkt_too_small")                                             \
    X(SCTP_PKT_TOO_SMALL, "sctp", "pkt_too_small")                                                 \
    X(GRE_PKT_TOO_SMALL, "gre", "pkt_too_small")                                                   \
    X(GRE_WRONG_VERSION, "gre", "wrong_version")                                                   \
    X(GRE_V0_HDR_TOO_BIG, "gre", "version0_hdr_too_big")                                           \
    X(GRE_V1_WRONG_PROTOCOL, "gre", "version1_wrong_protocol")                                     \
    X(ERSPAN_HEADER_TOO_SMALL, "erspan", "header_too_small")                                       \
    X(ERSPAN_UNSUPPORTED_VERSION, "erspan", "unsupported_version")                                 \
    X(VXLAN_UNKNOWN_PAYLOAD, "vxlan", "unknown_payload_type")                                      \
    X(TOO_MANY_LAYERS, NULL, "too_many_layers")

enum decode_anomaly {
    DA_NONE = 0,
#define DA_ENUM(id, layer, name) DA_##id,
    DECODE_ANOMALIES(DA_ENUM)
#undef DA_ENUM
        DA__COUNT
};

enum decode_result {
    DECODE_OK = 0,       /* an IP packet with a flow key */
    DECODE_NOT_IP = 1,   /* well formed but nothing to track (ARP, LLDP, STP, ...) */
    DECODE_FRAGMENT = 2, /* a non-first IP fragment: counted, not tracked */
    DECODE_ANOMALY = 3,  /* malformed: pv->anomaly says where */
};

/* pkt_view.flags */
#define PV_FIRST_FRAG  0x01u /* first fragment of a fragmented datagram */
#define PV_PORTS       0x02u /* src_port/dest_port are meaningful (TCP, UDP, SCTP) */
#define PV_L2_GROUP    0x04u /* sent to an Ethernet broadcast or multicast address */
#define PV_ARP_REQUEST 0x08u /* an IPv4 ARP request (DECODE_NOT_IP): src sender, dst target */

/* TCP flags as on the wire */
#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u

/*
 * What the decoder found. Addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d)
 * so that one representation serves hashing, zone lookup and printing. Pointers refer into
 * the caller's frame buffer and are valid as long as it is.
 */
struct pkt_view {
    const uint8_t *l3;      /* innermost IP header */
    const uint8_t *payload; /* L4 payload */
    uint32_t l3_len;        /* IP datagram bytes available (clamped) */
    uint32_t payload_len;   /* L4 payload bytes available (clamped) */
    uint8_t src[16], dst[16];
    uint16_t src_port, dst_port; /* ICMP: type and code */
    uint32_t tcp_seq, tcp_ack;
    uint32_t tcp_seg_len; /* TCP payload bytes the IP length gives (payload_len may be cut) */
    uint16_t tcp_win;
    uint16_t vlan[2];
    uint8_t vlan_count;
    uint8_t ip_version; /* 4 or 6 */
    uint8_t proto;      /* IP protocol of the innermost packet */
    uint8_t tcp_flags;
    uint8_t icmp_type, icmp_code;
    uint8_t tunnel_depth; /* tunnel layers unwrapped */
    uint8_t flags;        /* PV_* */
    uint8_t anomaly;      /* enum decode_anomaly */
    uint8_t iface;        /* capture interface index: set by the caller, not the decoder */
    uint8_t arp_sha[6];   /* PV_ARP_REQUEST: the sender's hardware address */
    uint64_t seen;        /* bit (1 << DC_x) per layer seen */
};

/*
 * Decode one frame of caplen captured bytes (wire_len on the wire; a shorter capture means
 * snaplen cut it, which is not an anomaly). Fills *pv, even on failure, and returns a
 * decode_result. Never reads outside data[0..caplen).
 */
int decode_packet(struct pkt_view *pv, enum mm_link link, const uint8_t *data, uint32_t caplen,
                  uint32_t wire_len);

/* Counters kept by the caller and reported in stats events. */
struct decode_stats {
    uint64_t pkts, bytes, invalid, fragments_v4, fragments_v6;
    uint64_t layer[DC__COUNT];
    uint64_t anomaly[DA__COUNT];
};

/* Add one decoded frame's outcome to the counters. */
void decode_stats_account(struct decode_stats *st, const struct pkt_view *pv, int result,
                          uint32_t wire_len);

/* Add one worker's counters to another's. */
void decode_stats_add(struct decode_stats *to, const struct decode_stats *from);

const char *decode_counter_name(enum decode_counter c);
const char *decode_anomaly_layer(enum decode_anomaly a);
const char *decode_anomaly_name(enum decode_anomaly a);

#endif
