/*
 * Every fixed limit of the sensor in one place, with its unit. Runtime-tunable values (flow
 * table size, timeouts) take their defaults from here and may be overridden in the site config.
 */
#ifndef MIMAMORI_LIMITS_H
#define MIMAMORI_LIMITS_H

/* Decoder */
#define MM_MAX_ENCAP_DEPTH  3  /* tunnel layers unwrapped (GRE, ERSPAN, VXLAN, IP-in-IP) */
#define MM_MAX_VLAN_LAYERS  3  /* 802.1Q/802.1ad tags in one frame */
#define MM_MAX_MPLS_LABELS  8  /* labels in one MPLS stack */
#define MM_MAX_IPV6_EXTHDRS 8  /* IPv6 extension headers followed */
#define MM_MAX_IPV4_OPTS    40 /* bytes of IPv4 options (IHL 15 - 5 words) */

/* Flow table */
#define MM_DEFAULT_MAX_FLOWS  262144u /* flows tracked at once; evicted oldest-idle beyond */
#define MM_MIN_MAX_FLOWS      16u
#define MM_MAX_MAX_FLOWS      16777216u
#define MM_TIMEOUT_TCP_NEW    30u  /* seconds idle, TCP before the handshake completes */
#define MM_TIMEOUT_TCP_EST    600u /* seconds idle, established TCP */
#define MM_TIMEOUT_TCP_CLOSED 10u  /* seconds after FIN from both sides or a RST */
#define MM_TIMEOUT_UDP        120u /* seconds idle, UDP */
#define MM_TIMEOUT_ICMP       30u  /* seconds idle, ICMP and ICMPv6 */
#define MM_TIMEOUT_OTHER      60u  /* seconds idle, SCTP and other IP protocols */
#define MM_EXPIRE_PER_PACKET  32u  /* flows expired at most per call on the packet path */

/* Classification (nDPI) */
#define MM_CLASSIFY_TCP_PKTS 80u /* packets given to nDPI before giving up, as ndpiReader */
#define MM_CLASSIFY_UDP_PKTS 24u
#define MM_META_MAX_STR      255u /* bytes kept of one metadata string (SNI, host, ...) */

/* Config */
#define MM_MAX_ZONES       64u /* zones in one site config, implicit ones included */
#define MM_MAX_ZONE_NAME   32u /* bytes of a zone name, NUL included */
#define MM_MAX_SENSOR_NAME 64u /* bytes of sensor.name, NUL included */

/* Events */
#define MM_STATS_INTERVAL 60u /* seconds between stats events in live mode */

#endif
