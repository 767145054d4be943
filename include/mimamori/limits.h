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
#define MM_CLASSIFY_SHARE    8u    /* by default one flow in this many may be being classified */
#define MM_CLASSIFY_MIN      1024u /* ... but at least this many */
#define MM_CLASSIFY_STATE_BYTES 1024u /* nDPI bytes a classified flow may hold on average (688
                                          for its state, the rest for what it allocates) */
#define MM_META_MAX_STR      255u /* bytes kept of one metadata string (SNI, host, ...) */

/* Hospital protocols (HL7/MLLP, DICOM) */
#define MM_MEDICAL_MAX_FLOWS 8192u /* flows followed by the HL7/DICOM parsers at once */
#define MM_DCERPC_MAX_FLOWS  8192u /* flows followed by the DCE-RPC/SMB parser at once */
#define MM_INVENTORY_MAX_DEVICES 65536u /* internal addresses the inventory records */
#define MM_DEVICE_NAME_LEN       64u    /* bytes of a device name an alert carries */
#define MM_CONNECTIONS_MAX_PARTIES 65536u /* external parties --connections lists */
#define MM_BASELINE_MAX_EDGES 262144u /* conversations (client, server, service) learned */
#define MM_LEARNING_S (7u * 86400u) /* learning.period by default: a hospital's week */

/* Live capture and the daemon */
#define MM_MAX_IFACES   8u            /* live interfaces in one process */
#define MM_MAX_IFNAME   15u           /* characters of an interface name (IFNAMSIZ - 1) */
#define MM_MAX_WORKERS  8u            /* packet workers (live capture, kernel fanout) */
#define MM_SNAPLEN      262144u       /* bytes kept of each frame */
#define MM_RING_BYTES   (64ull << 20) /* kernel capture ring (TPACKET_V3) */
#define MM_DEFAULT_USER "mimamori"    /* a live sensor runs as this user after opening */

/* Config */
#define MM_MAX_ZONES       64u /* zones in one site config, implicit ones included */
#define MM_MAX_ZONE_NAME   32u /* bytes of a zone name, NUL included */
#define MM_MAX_SENSOR_NAME 64u /* bytes of sensor.name, NUL included */
#define MM_MAX_LIST        32u /* protocols or ports in one list of a rule or allowlist */

/* Detection */
#define MM_TRACK_SLOTS     4096u  /* hosts (or host pairs) each counting rule follows at once */
#define MM_TRACK_PROBE     8u     /* slots looked at before the least recently seen is replaced */
#define MM_TRACK_MAX_ITEMS 256u   /* largest threshold: distinct hosts, ports or connections */
#define MM_EXFIL_BUCKETS   16u    /* sub-windows of an exfiltration window (sliding sum) */
#define MM_DEDUP_SLOTS     4096u  /* alerts being folded at once; the oldest is closed beyond */
#define MM_DEDUP_PROBE     16u    /* slots looked at before the oldest fold is closed early */
#define MM_MAX_EVIDENCE    12u    /* name=value strings in one alert */
#define MM_FOLD_SAMPLE     5u     /* destinations a source-folded alert's report names */
#define MM_EVIDENCE_LEN    320u   /* bytes of all evidence of one alert */
#define MM_DNS_CACHE_SLOTS 16384u /* addresses remembered from DNS answers */
#define MM_DNS_CACHE_MAX_S 86400u /* seconds an answer is remembered at most */
#define MM_DNS_MAX_ANSWERS 32u    /* answer records read from one response */

/* Events and their delivery */
#define MM_STATS_INTERVAL    60u                   /* seconds between stats events, live */
#define MM_STATS_SUPPRESS    64u                   /* suppress entries counted in stats */
#define MM_OUTPUT_QUEUE      65536u                /* events waiting for the output thread */
/* MM_SPOOL_DIR, the default spool directory, comes from the install prefix (CMakeLists.txt). */
#define MM_SPOOL_MAX         (256ull << 20)        /* bytes per spool file */
#define MM_DRAIN_S           10u                   /* at exit, wait for a down destination */
#define MM_SYSLOG_TIMEOUT_MS 5000u                 /* syslog connect and send timeout */

#endif
