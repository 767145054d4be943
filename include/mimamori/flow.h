/*
 * Flow table: bidirectional flows keyed by a direction-normalised 5-tuple plus VLAN tags, in a
 * fixed pool sized at start-up (max_flows), found through a seeded hash. The client is the
 * sender of the first packet (the receiver, if that packet is a SYN-ACK). Idle flows expire per
 * protocol and TCP state from per-class LRU lists, so expiry never scans; when the pool is full
 * the longest-idle flow is evicted. Every flow that leaves the table, for whatever reason, goes
 * through the on_end callback first. No allocation after flow_table_create().
 */
#ifndef MIMAMORI_FLOW_H
#define MIMAMORI_FLOW_H

#include <stdint.h>

#include "mimamori/decode.h"
#include "mimamori/limits.h"
#include "mimamori/error.h"

enum flow_state {
    FLOW_STATE_NEW = 0,     /* one direction only, or TCP handshake not completed */
    FLOW_STATE_ESTABLISHED, /* both directions seen */
    FLOW_STATE_CLOSED,      /* TCP FIN both ways or RST */
};

enum flow_end_reason {
    FLOW_END_TIMEOUT = 0, /* idle longer than its class's timeout */
    FLOW_END_FORCED,      /* evicted to make room */
    FLOW_END_SHUTDOWN,    /* end of input or sensor stop */
};

/* Timeout classes, one LRU list each. */
enum flow_tclass {
    FT_TCP_NEW = 0,
    FT_TCP_EST,
    FT_TCP_CLOSED,
    FT_UDP,
    FT_ICMP,
    FT_OTHER,
    FT__COUNT
};

/* Directions relative to the client. */
#define FLOW_TOSERVER 0
#define FLOW_TOCLIENT 1

/* Normalised key: endpoint 0 is the lower (address, port). 44 bytes, no padding holes. */
struct flow_key {
    uint8_t addr[2][16];
    uint16_t port[2]; /* 0 for protocols without ports (ICMP is keyed by addresses) */
    uint16_t vlan[2];
    uint8_t proto;
    uint8_t pad[3];
};

/* What classification found; filled by the classify module, read by the event writer. */
struct flow_app {
    uint16_t master, app; /* nDPI protocol ids; 0 unknown */
    uint16_t category;
    uint8_t confidence;
    uint8_t done;                /* classification is final and its state freed */
    uint64_t risk;               /* nDPI risk bitmask */
    struct classify_meta *meta;  /* metadata strings, or NULL; owned by the classify module */
    struct classify_flow *state; /* nDPI state while classifying, NULL after */
    struct medical_flow *med;    /* HL7/DICOM parser state, or NULL; owned by the medical module */
    struct dcerpc_flow *rpc;     /* DCE-RPC/SMB parser state, or NULL; owned by the dcerpc module */
};

#define FLOW_F_ALERTED   0x01u /* an alert was raised (or folded) on this flow */
#define FLOW_F_EVALUATED 0x02u /* the rules for classified flows have run */
#define FLOW_F_L2_GROUP  0x04u /* its first packet went to an Ethernet broadcast/multicast */
#define FLOW_F_RESET     0x08u /* a response reset it: every later packet is answered again */
#define FLOW_F_ARP       0x10u /* no flow: an ARP request an alert is about (addresses only) */
#define FLOW_F_INTEL     0x20u /* an indicator matched: not looked up again */

/* The control-plane events of a flow's life. */
enum flow_event {
    FLOW_EV_STARTED = 0, /* first packet seen */
    FLOW_EV_CLASSIFIED,  /* classification final (or given up) */
    FLOW_EV_ENDED,       /* leaving the table; f->app is final */
    FLOW_EV_APP,         /* after classification: a protocol parser found something new */
    FLOW_EV__COUNT
};

struct flow {
    struct flow_key key;
    uint32_t hnext;               /* hash chain / free list */
    uint32_t lprev, lnext;        /* LRU list of its timeout class */
    uint8_t client;               /* key endpoint (0 or 1) that is the client */
    uint8_t state;                /* enum flow_state */
    uint8_t tclass;               /* enum flow_tclass */
    uint8_t ip_version;           /* 4 or 6 */
    uint8_t tcp_flags[2];         /* TCP flags seen, per direction */
    uint8_t icmp_type, icmp_code; /* of the first packet, for the Community ID */
    uint8_t flags;                /* FLOW_F_* */
    uint8_t tunnel_depth;
    uint8_t iface;    /* capture interface of its first packet */
    uint16_t intel_gen; /* the indicator table it was last checked against (0: none) */
    uint32_t pkts[2]; /* per direction */
    /*
     * TCP sequence space per direction: all seen up to next; beyond it a hole, then data seen
     * out of order from ooo up to high (high == next: none). Enough to tell an acknowledged
     * hole from reordering without reassembly.
     */
    uint32_t tcp_next[2], tcp_high[2], tcp_ooo[2];
    uint64_t bytes[2];
    uint64_t first_us, last_us; /* packet timestamps, microseconds */
    uint64_t id;                /* flow_id: 51 bits, stable for the flow's life */
    struct flow_app app;
};

typedef void (*flow_end_fn)(void *ud, struct flow *f, enum flow_end_reason reason);

struct flow_table_config {
    uint32_t max_flows;
    uint32_t timeout[FT__COUNT]; /* seconds */
    uint64_t seed;               /* hash seed; 0 picks a random one */
    flow_end_fn on_end;
    void *ud;
};

/* A packet's addresses and ports as sent, to point at an example of what a counter counts. */
struct flow_tuple {
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
};

/*
 * What TCP acknowledgments say about the capture (Zeek's capture-loss idea): an ACK for data
 * the sensor never saw means the mirror lost it upstream; an ACK from a host whose peer is never
 * seen means only one direction is mirrored.
 */
struct flow_ack_stats {
    uint64_t acks;      /* TCP packets with ACK set (not RST) */
    uint64_t one_way;   /* ... in a flow whose other direction was never seen */
    uint64_t checked;   /* ... in a flow with both directions seen */
    uint64_t gaps;      /* ... of those, acknowledging data never seen */
    uint64_t gap_bytes; /* bytes acknowledged but never seen */
    struct flow_tuple one_way_example, gap_example; /* the latest of each */
};

struct flow_table_stats {
    uint64_t total, tcp, udp, icmpv4, icmpv6, other;
    uint64_t timeouts, evicted, shutdown;
    uint64_t end_state[3]; /* by enum flow_state at the end */
    uint32_t active, max_active;
    uint64_t memuse;                          /* bytes of pool and hash in use; the engine adds
                                                 the classifier's nDPI state */
    uint64_t memcap;                          /* bytes they may grow to (table at max_flows,
                                                 and the classifier's memcap) */
    uint64_t classifying, classify_evicted;   /* being classified; given up on for room */
    uint64_t emerg_entered, emerg_over;       /* the classifier reached a limit, and left it */
    struct flow_ack_stats ack[MM_MAX_IFACES]; /* by the capture interface of the packets */
};

struct flow_table;

/* Fill cfg with the defaults from limits.h. */
void flow_table_config_default(struct flow_table_config *cfg);

/* Create a table; 0 or MM_ENOMEM / MM_EINVAL. */
MM_MUST_CHECK int flow_table_create(struct flow_table **out, const struct flow_table_config *cfg);

/* Destroy without calling on_end; call flow_table_flush() first to write flows out. */
void flow_table_destroy(struct flow_table *t);

/*
 * Find or create the flow of a decoded packet (DECODE_OK) seen at ts_us and update its counters
 * and state. *dir receives FLOW_TOSERVER or FLOW_TOCLIENT, *created 1 for a new flow. May evict
 * (calling on_end) to make room. Never returns NULL.
 */
struct flow *flow_table_update(struct flow_table *t, const struct pkt_view *pv, uint32_t wire_len,
                               uint64_t ts_us, int *dir, int *created);

/* End flows idle at now_us, at most budget of them (0: no limit); returns how many ended. */
unsigned flow_table_expire(struct flow_table *t, uint64_t now_us, unsigned budget);

/* End every flow with the given reason. */
void flow_table_flush(struct flow_table *t, enum flow_end_reason reason);

void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *st);

/* The ACK accounting alone (MM_MAX_IFACES entries), read in place. */
const struct flow_ack_stats *flow_table_ack(const struct flow_table *t);

/* Add one table's counters to another's (several workers: one table each). */
void flow_table_stats_add(struct flow_table_stats *to, const struct flow_table_stats *from);

/* Endpoint helpers: the client's and server's address and port. */
static inline const uint8_t *flow_src_addr(const struct flow *f)
{
    return f->key.addr[f->client];
}
static inline const uint8_t *flow_dst_addr(const struct flow *f)
{
    return f->key.addr[!f->client];
}
static inline uint16_t flow_src_port(const struct flow *f)
{
    return f->key.port[f->client];
}
static inline uint16_t flow_dst_port(const struct flow *f)
{
    return f->key.port[!f->client];
}

const char *flow_state_name(enum flow_state s);
const char *flow_end_reason_name(enum flow_end_reason r);

#endif
