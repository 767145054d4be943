/*
 * The flow table. A pool of struct flow allocated once (pages are touched only as flows are
 * first used), a power-of-two bucket array of chain heads, and one LRU list per timeout class:
 * a packet moves its flow to the tail of its class's list, so the head is always the flow idle
 * longest in that class and expiry looks at list heads only. Indices are 32-bit to keep the
 * per-flow links small.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mimamori/error.h"
#include "mimamori/flow.h"
#include "mimamori/limits.h"

#define NIL UINT32_MAX

struct lru {
    uint32_t head, tail;
};

struct flow_table {
    struct flow_table_config cfg;
    struct flow *pool;
    uint32_t *buckets;
    uint32_t mask;        /* buckets - 1 */
    uint32_t next_unused; /* pool entries never used yet start here */
    uint32_t free_head;   /* recycled entries, chained through hnext */
    struct lru lru[FT__COUNT];
    uint64_t timeout_us[FT__COUNT];
    uint64_t expire_us; /* no flow times out before this (0: look) */
    struct flow_table_stats st;
};

_Static_assert(sizeof(struct flow_key) == 44, "flow_key must have no padding");

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t key_hash(const struct flow_key *k, uint64_t seed)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = seed;
    size_t i;

    for (i = 0; i + 8 <= sizeof(*k); i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    {
        uint32_t w;
        memcpy(&w, p + i, 4);
        h ^= w;
    }
    return mix64(h);
}

void flow_table_config_default(struct flow_table_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_flows = MM_DEFAULT_MAX_FLOWS;
    cfg->timeout[FT_TCP_NEW] = MM_TIMEOUT_TCP_NEW;
    cfg->timeout[FT_TCP_EST] = MM_TIMEOUT_TCP_EST;
    cfg->timeout[FT_TCP_CLOSED] = MM_TIMEOUT_TCP_CLOSED;
    cfg->timeout[FT_UDP] = MM_TIMEOUT_UDP;
    cfg->timeout[FT_ICMP] = MM_TIMEOUT_ICMP;
    cfg->timeout[FT_OTHER] = MM_TIMEOUT_OTHER;
}

int flow_table_create(struct flow_table **out, const struct flow_table_config *cfg)
{
    struct flow_table *t;
    uint32_t nb = 1;
    int i;

    *out = NULL;
    if (cfg->max_flows < MM_MIN_MAX_FLOWS || cfg->max_flows > MM_MAX_MAX_FLOWS)
        return MM_EINVAL;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return MM_ENOMEM;
    t->cfg = *cfg;
    if (t->cfg.seed == 0 && getrandom(&t->cfg.seed, sizeof(t->cfg.seed), 0) != sizeof(uint64_t))
        t->cfg.seed = 0x5bd1e995u;
    while (nb < cfg->max_flows)
        nb <<= 1;
    t->mask = nb - 1;
    t->pool = calloc(cfg->max_flows, sizeof(struct flow));
    t->buckets = malloc((size_t)nb * sizeof(uint32_t));
    if (t->pool == NULL || t->buckets == NULL) {
        flow_table_destroy(t);
        return MM_ENOMEM;
    }
    memset(t->buckets, 0xff, (size_t)nb * sizeof(uint32_t));
    t->free_head = NIL;
    for (i = 0; i < FT__COUNT; i++) {
        t->lru[i].head = t->lru[i].tail = NIL;
        t->timeout_us[i] = (uint64_t)cfg->timeout[i] * 1000000u;
    }
    *out = t;
    return 0;
}

void flow_table_destroy(struct flow_table *t)
{
    if (t == NULL)
        return;
    free(t->pool);
    free(t->buckets);
    free(t);
}

/* --- LRU lists ---------------------------------------------------------------------------- */

static void lru_unlink(struct flow_table *t, uint32_t i)
{
    struct flow *f = &t->pool[i];
    struct lru *l = &t->lru[f->tclass];

    if (f->lprev != NIL) {
        t->pool[f->lprev].lnext = f->lnext;
    } else {
        l->head = f->lnext;
        t->expire_us = 0; /* a new head, whose deadline may come sooner (time stepped back) */
    }
    if (f->lnext != NIL)
        t->pool[f->lnext].lprev = f->lprev;
    else
        l->tail = f->lprev;
}

static void lru_push_tail(struct flow_table *t, uint32_t i)
{
    struct flow *f = &t->pool[i];
    struct lru *l = &t->lru[f->tclass];

    f->lnext = NIL;
    f->lprev = l->tail;
    if (l->tail != NIL) {
        t->pool[l->tail].lnext = i;
    } else {
        l->head = i;
        t->expire_us = 0; /* a new head: its time is not in expire_us yet */
    }
    l->tail = i;
}

/* --- ending flows ------------------------------------------------------------------------- */

static void hash_unlink(struct flow_table *t, uint32_t i)
{
    uint32_t *pp = &t->buckets[key_hash(&t->pool[i].key, t->cfg.seed) & t->mask];

    while (*pp != NIL && *pp != i)
        pp = &t->pool[*pp].hnext;
    if (*pp == i)
        *pp = t->pool[i].hnext;
}

static void flow_end(struct flow_table *t, uint32_t i, enum flow_end_reason reason)
{
    struct flow *f = &t->pool[i];

    if (t->cfg.on_end != NULL)
        t->cfg.on_end(t->cfg.ud, f, reason);
    switch (reason) {
    case FLOW_END_TIMEOUT:
        t->st.timeouts++;
        break;
    case FLOW_END_FORCED:
        t->st.evicted++;
        break;
    case FLOW_END_SHUTDOWN:
        t->st.shutdown++;
        break;
    }
    t->st.end_state[f->state]++;
    hash_unlink(t, i);
    lru_unlink(t, i);
    t->st.active--;
    f->hnext = t->free_head;
    t->free_head = i;
}

/*
 * Called per packet. Each list's head is its longest idle flow, so the earliest time any flow
 * can time out is the least of the heads' deadlines; until then there is nothing to look at.
 * Whenever a list gets a new head the deadline is looked at again (expire_us = 0): it is
 * usually later, but not when packet times stepped back.
 */
unsigned flow_table_expire(struct flow_table *t, uint64_t now_us, unsigned budget)
{
    uint64_t next = UINT64_MAX;
    unsigned n = 0;
    int c;

    if (now_us < t->expire_us)
        return 0;
    for (c = 0; c < FT__COUNT; c++) {
        while (t->lru[c].head != NIL) {
            uint32_t i = t->lru[c].head;
            uint64_t due = t->pool[i].last_us + t->timeout_us[c];
            if (due > now_us || (budget != 0 && n >= budget)) {
                if (due < next)
                    next = due;
                break;
            }
            flow_end(t, i, FLOW_END_TIMEOUT);
            n++;
        }
    }
    t->expire_us = budget != 0 && n >= budget ? 0 : next;
    return n;
}

void flow_table_flush(struct flow_table *t, enum flow_end_reason reason)
{
    int c;

    for (c = 0; c < FT__COUNT; c++)
        while (t->lru[c].head != NIL)
            flow_end(t, t->lru[c].head, reason);
}

/* Pick a victim when the pool is full: a closed flow if any, else the longest idle. */
static uint32_t evict_one(struct flow_table *t)
{
    uint32_t victim = t->lru[FT_TCP_CLOSED].head;
    int c;

    if (victim == NIL) {
        for (c = 0; c < FT__COUNT; c++) {
            uint32_t h = t->lru[c].head;
            if (h != NIL && (victim == NIL || t->pool[h].last_us < t->pool[victim].last_us))
                victim = h;
        }
    }
    flow_end(t, victim, FLOW_END_FORCED);
    return victim;
}

static uint32_t flow_alloc(struct flow_table *t)
{
    uint32_t i;

    if (t->free_head != NIL) {
        i = t->free_head;
        t->free_head = t->pool[i].hnext;
    } else if (t->next_unused < t->cfg.max_flows) {
        i = t->next_unused++;
    } else {
        evict_one(t);
        i = t->free_head;
        t->free_head = t->pool[i].hnext;
    }
    return i;
}

/* --- packet path -------------------------------------------------------------------------- */

static enum flow_tclass tclass_for(const struct flow *f)
{
    switch (f->key.proto) {
    case 6:
        return f->state == FLOW_STATE_CLOSED        ? FT_TCP_CLOSED
               : f->state == FLOW_STATE_ESTABLISHED ? FT_TCP_EST
                                                    : FT_TCP_NEW;
    case 17:
        return FT_UDP;
    case 1:
    case 58:
        return FT_ICMP;
    default:
        return FT_OTHER;
    }
}

/* Build the normalised key; returns which key endpoint (0 or 1) sent the packet. */
static int key_build(struct flow_key *k, const struct pkt_view *pv)
{
    uint16_t sp = 0, dp = 0;
    int c, sender;

    if (pv->flags & PV_PORTS) {
        sp = pv->src_port;
        dp = pv->dst_port;
    }
    memset(k, 0, sizeof(*k));
    c = memcmp(pv->src, pv->dst, 16);
    sender = c > 0 || (c == 0 && sp > dp);
    memcpy(k->addr[sender], pv->src, 16);
    memcpy(k->addr[!sender], pv->dst, 16);
    k->port[sender] = sp;
    k->port[!sender] = dp;
    k->vlan[0] = pv->vlan_count > 0 ? pv->vlan[0] : 0;
    k->vlan[1] = pv->vlan_count > 1 ? pv->vlan[1] : 0;
    k->proto = pv->proto;
    return sender;
}

static int seq_after(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static void tuple_of(struct flow_tuple *t, const struct pkt_view *pv)
{
    memcpy(t->src, pv->src, 16);
    memcpy(t->dst, pv->dst, 16);
    t->sport = pv->src_port;
    t->dport = pv->dst_port;
}

/* Sequence space [seq, end) of direction dir was seen (end == seq: a bare ACK, a marker). */
static void seq_seen(struct flow *f, int dir, uint32_t seq, uint32_t end)
{
    uint32_t *next = &f->tcp_next[dir], *high = &f->tcp_high[dir], *ooo = &f->tcp_ooo[dir];

    if (f->pkts[dir] == 1) {
        *next = *high = end;
        return;
    }
    if (!seq_after(seq, *next)) {
        if (seq_after(end, *next))
            *next = end;
        if (seq_after(*high, *next) && !seq_after(*ooo, *next))
            *next = *high; /* the hole filled up to data seen out of order */
    } else if (*high == *next || seq_after(*ooo, seq)) {
        *ooo = seq; /* data beyond a hole */
    }
    if (seq_after(end, *high))
        *high = end;
    if (seq_after(*next, *high))
        *high = *next;
}

/*
 * What this packet's ACK says about the other direction: acknowledging beyond the contiguous
 * data seen means the mirror lost some before it reached the sensor. Each hole is counted once
 * (the mark moves up to the ACK). A RST's ACK field proves nothing.
 */
static void tcp_track(struct flow_ack_stats *st, struct flow *f, int dir, const struct pkt_view *pv)
{
    uint32_t end = pv->tcp_seq + pv->tcp_seg_len + ((pv->tcp_flags & TCP_SYN) ? 1u : 0u) +
                   ((pv->tcp_flags & TCP_FIN) ? 1u : 0u);
    uint32_t a = pv->tcp_ack;
    int peer = !dir;

    seq_seen(f, dir, pv->tcp_seq, end);
    if ((pv->tcp_flags & (TCP_ACK | TCP_RST)) != TCP_ACK)
        return;
    st->acks++;
    if (f->pkts[peer] == 0) {
        st->one_way++;
        tuple_of(&st->one_way_example, pv);
        return;
    }
    st->checked++;
    if (!seq_after(a, f->tcp_next[peer]))
        return;
    st->gaps++;
    st->gap_bytes += (uint32_t)(a - f->tcp_next[peer]);
    tuple_of(&st->gap_example, pv);
    seq_seen(f, peer, f->tcp_next[peer], a); /* the hole is behind us: counted once */
}

static void tcp_update(struct flow *f, int dir, uint8_t flags)
{
    f->tcp_flags[dir] |= flags;
    if (f->state == FLOW_STATE_CLOSED)
        return;
    if (flags & TCP_RST) {
        f->state = FLOW_STATE_CLOSED;
    } else if ((f->tcp_flags[0] & TCP_FIN) && (f->tcp_flags[1] & TCP_FIN)) {
        f->state = FLOW_STATE_CLOSED;
    } else if (f->state == FLOW_STATE_NEW && f->pkts[0] > 0 && f->pkts[1] > 0) {
        /* With a SYN seen, the server must have answered it with SYN-ACK. */
        if (!(f->tcp_flags[0] & TCP_SYN) ||
            (f->tcp_flags[1] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
            f->state = FLOW_STATE_ESTABLISHED;
    }
}

/*
 * A flow picked up after its start (no TCP SYN, or UDP from a service port): when the sender's
 * port looks like a service and the receiver's like an ephemeral one, the sender is the server.
 */
static int reply_first(const struct pkt_view *pv)
{
    uint16_t sp = pv->src_port, dp = pv->dst_port;

    if (!(pv->flags & PV_PORTS) || (pv->proto == 6 && (pv->tcp_flags & TCP_SYN)) ||
        (pv->proto != 6 && pv->proto != 17))
        return 0;
    return (sp < 1024 && dp >= 1024) || (sp < dp && sp < 32768 && dp >= 32768);
}

/* A new flow in slot i for key k, first seen from sender at ts_us, linked into its bucket. */
static struct flow *flow_start(struct flow_table *t, uint32_t i, const struct flow_key *k,
                               int sender, uint64_t h, const struct pkt_view *pv, uint64_t ts_us)
{
    struct flow *f = &t->pool[i];
    uint32_t *bucket = &t->buckets[h & t->mask]; /* after eviction, which may have changed it */

    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->client = (uint8_t)sender;
    if (pv->proto == 6 && (pv->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        f->client = (uint8_t)!sender; /* first seen is the server's SYN-ACK */
    else if (reply_first(pv))
        f->client = (uint8_t)!sender;
    if (pv->flags & PV_L2_GROUP)
        f->flags |= FLOW_F_L2_GROUP;
    f->ip_version = pv->ip_version;
    f->icmp_type = pv->icmp_type;
    f->icmp_code = pv->icmp_code;
    f->tunnel_depth = pv->tunnel_depth;
    f->iface = pv->iface;
    f->first_us = ts_us;
    f->id = mix64(h ^ mix64(ts_us) ^ 0x6d696d616d6f7269ULL) & ((1ULL << 51) - 1);
    f->state = FLOW_STATE_NEW;
    f->tclass = (uint8_t)tclass_for(f);
    f->hnext = *bucket;
    *bucket = i;
    lru_push_tail(t, i);
    t->st.total++;
    t->st.active++;
    if (t->st.active > t->st.max_active)
        t->st.max_active = t->st.active;
    switch (pv->proto) {
    case 6:
        t->st.tcp++;
        break;
    case 17:
        t->st.udp++;
        break;
    case 1:
        t->st.icmpv4++;
        break;
    case 58:
        t->st.icmpv6++;
        break;
    default:
        t->st.other++;
    }
    return f;
}

struct flow *flow_table_update(struct flow_table *t, const struct pkt_view *pv, uint32_t wire_len,
                               uint64_t ts_us, int *dir, int *created)
{
    struct flow_key k;
    int sender = key_build(&k, pv);
    uint64_t h = key_hash(&k, t->cfg.seed);
    uint32_t i;
    struct flow *f;
    enum flow_tclass tc;

    for (i = t->buckets[h & t->mask]; i != NIL; i = t->pool[i].hnext)
        if (memcmp(&t->pool[i].key, &k, sizeof(k)) == 0)
            break;

    *created = i == NIL;
    if (i == NIL) {
        i = flow_alloc(t);
        f = flow_start(t, i, &k, sender, h, pv, ts_us);
    } else {
        f = &t->pool[i];
        if (t->lru[f->tclass].tail != i) { /* a run of packets of one flow moves nothing */
            lru_unlink(t, i);
            lru_push_tail(t, i);
        }
    }

    *dir = sender == f->client ? FLOW_TOSERVER : FLOW_TOCLIENT;
    f->pkts[*dir]++;
    f->bytes[*dir] += wire_len;
    if (ts_us > f->last_us)
        f->last_us = ts_us;
    if (pv->proto == 6) {
        tcp_track(&t->st.ack[pv->iface % MM_MAX_IFACES], f, *dir, pv);
        tcp_update(f, *dir, pv->tcp_flags);
    } else if (f->state == FLOW_STATE_NEW && f->pkts[0] > 0 && f->pkts[1] > 0)
        f->state = FLOW_STATE_ESTABLISHED;

    tc = tclass_for(f);
    if (tc != f->tclass) {
        lru_unlink(t, i);
        f->tclass = (uint8_t)tc;
        lru_push_tail(t, i);
    }
    return f;
}

void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *st)
{
    *st = t->st;
    st->memuse = (uint64_t)t->next_unused * sizeof(struct flow) +
                 ((uint64_t)t->mask + 1) * sizeof(uint32_t) + sizeof(*t);
    st->memcap = (uint64_t)t->cfg.max_flows * sizeof(struct flow) +
                 ((uint64_t)t->mask + 1) * sizeof(uint32_t) + sizeof(*t);
}

void flow_table_stats_add(struct flow_table_stats *to, const struct flow_table_stats *from)
{
    unsigned i;

    to->total += from->total;
    to->tcp += from->tcp;
    to->udp += from->udp;
    to->icmpv4 += from->icmpv4;
    to->icmpv6 += from->icmpv6;
    to->other += from->other;
    to->timeouts += from->timeouts;
    to->evicted += from->evicted;
    to->shutdown += from->shutdown;
    for (i = 0; i < 3; i++)
        to->end_state[i] += from->end_state[i];
    to->active += from->active;
    to->max_active += from->max_active; /* each table's own peak: an upper bound of the sum's */
    to->memuse += from->memuse;
    to->memcap += from->memcap;
    to->classifying += from->classifying;
    to->classify_evicted += from->classify_evicted;
    to->emerg_entered += from->emerg_entered;
    to->emerg_over += from->emerg_over;
    for (i = 0; i < MM_MAX_IFACES; i++) {
        struct flow_ack_stats *a = &to->ack[i];
        const struct flow_ack_stats *b = &from->ack[i];
        a->acks += b->acks;
        a->one_way += b->one_way;
        a->checked += b->checked;
        if (b->one_way > 0)
            a->one_way_example = b->one_way_example;
        if (b->gaps > 0)
            a->gap_example = b->gap_example;
        a->gaps += b->gaps;
        a->gap_bytes += b->gap_bytes;
    }
}

const char *flow_state_name(enum flow_state s)
{
    static const char *const names[] = {"new", "established", "closed"};
    return (unsigned)s < 3 ? names[s] : "unknown";
}

const char *flow_end_reason_name(enum flow_end_reason r)
{
    static const char *const names[] = {"timeout", "forced", "shutdown"};
    return (unsigned)r < 3 ? names[r] : "unknown";
}

const struct flow_ack_stats *flow_table_ack(const struct flow_table *t)
{
    return t->st.ack;
}
