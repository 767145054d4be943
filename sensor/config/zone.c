/*
 * A binary trie over 128-bit keys. Nodes live in one growable array addressed by index; a
 * node carries a value when a prefix ends there. Lookups walk at most 128 levels and remember
 * the last value passed, which is the longest match. Maps are small (hundreds of prefixes) and
 * consulted per flow event, not per packet. IPv4 addresses are stored v4-mapped
 * (::ffff:a.b.c.d), so the map also keeps where the 96 bits of that prefix lead: an IPv4
 * lookup starts there and walks at most 32 levels.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/error.h"
#include "mimamori/zone.h"

struct trie_node {
    uint32_t child[2]; /* 0: none (node 0 is the root, never a child) */
    int32_t value;     /* -1: no prefix ends here */
};

struct zone_map {
    struct trie_node *nodes;
    uint32_t n, cap;
    uint32_t v4node; /* the node ::ffff:0:0/96 leads to; 0 when no IPv4 prefix is stored */
    int32_t v4best;  /* the longest match on the way there */
};

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void v4_prepare(struct zone_map *m);

static int node_new(struct zone_map *m, uint32_t *idx)
{
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 64;
        struct trie_node *nn = realloc(m->nodes, cap * sizeof(*nn));
        if (nn == NULL)
            return MM_ENOMEM;
        m->nodes = nn;
        m->cap = cap;
    }
    m->nodes[m->n].child[0] = m->nodes[m->n].child[1] = 0;
    m->nodes[m->n].value = -1;
    *idx = m->n++;
    return 0;
}

int zone_map_create(struct zone_map **out)
{
    struct zone_map *m = calloc(1, sizeof(*m));
    uint32_t root;

    *out = NULL;
    if (m == NULL || node_new(m, &root) != 0) {
        zone_map_destroy(m);
        return MM_ENOMEM;
    }
    v4_prepare(m);
    *out = m;
    return 0;
}

void zone_map_destroy(struct zone_map *m)
{
    if (m == NULL)
        return;
    free(m->nodes);
    free(m);
}

static inline int bit_at(const uint8_t *a, unsigned i)
{
    return (a[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Walk the IPv4-mapped prefix once, after each change, so IPv4 lookups can start below it. */
static void v4_prepare(struct zone_map *m)
{
    uint32_t cur = 0;
    unsigned i;

    m->v4best = m->nodes[0].value;
    m->v4node = 0;
    for (i = 0; i < 96; i++) {
        cur = m->nodes[cur].child[bit_at(v4_mapped, i)];
        if (cur == 0)
            return;
        if (m->nodes[cur].value >= 0)
            m->v4best = m->nodes[cur].value;
    }
    m->v4node = cur;
}

int zone_map_add(struct zone_map *m, const uint8_t addr[16], unsigned plen, int value)
{
    uint32_t cur = 0;
    unsigned i;

    if (plen > 128 || value < 0)
        return MM_EINVAL;
    for (i = 0; i < plen; i++) {
        int b = bit_at(addr, i);
        if (m->nodes[cur].child[b] == 0) {
            uint32_t nidx;
            if (node_new(m, &nidx) != 0)
                return MM_ENOMEM;
            m->nodes[cur].child[b] = nidx;
        }
        cur = m->nodes[cur].child[b];
    }
    if (m->nodes[cur].value >= 0)
        return m->nodes[cur].value + 1;
    m->nodes[cur].value = value;
    v4_prepare(m);
    return 0;
}

static void each_below(const struct zone_map *m, uint32_t node, uint8_t addr[16], unsigned depth,
                       zone_map_fn fn, void *ud)
{
    unsigned b;

    if (m->nodes[node].value >= 0)
        fn(ud, addr, depth, m->nodes[node].value);
    for (b = 0; b < 2 && depth < 128; b++) {
        if (m->nodes[node].child[b] == 0)
            continue;
        if (b)
            addr[depth >> 3] |= (uint8_t)(0x80u >> (depth & 7));
        each_below(m, m->nodes[node].child[b], addr, depth + 1, fn, ud);
        addr[depth >> 3] &= (uint8_t) ~(0x80u >> (depth & 7));
    }
}

void zone_map_each(const struct zone_map *m, zone_map_fn fn, void *ud)
{
    uint8_t addr[16] = {0};

    each_below(m, 0, addr, 0, fn, ud);
}

int zone_map_lookup(const struct zone_map *m, const uint8_t addr[16])
{
    uint32_t cur = 0;
    int best = m->nodes[0].value;
    unsigned i = 0;

    if (memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0) {
        if (m->v4node == 0)
            return m->v4best;
        cur = m->v4node;
        best = m->v4best;
        i = 96;
    }
    for (; i < 128; i++) {
        cur = m->nodes[cur].child[bit_at(addr, i)];
        if (cur == 0)
            break;
        if (m->nodes[cur].value >= 0)
            best = m->nodes[cur].value;
    }
    return best;
}

void zone_addr_v4(uint8_t addr[16], const uint8_t a4[4])
{
    memcpy(addr, v4_mapped, sizeof(v4_mapped));
    memcpy(addr + 12, a4, 4);
}

int zone_parse_addr(const char *s, uint8_t addr[16])
{
    struct in_addr a4;

    if (inet_pton(AF_INET, s, &a4) == 1) {
        zone_addr_v4(addr, (const uint8_t *)&a4);
        return 0;
    }
    if (inet_pton(AF_INET6, s, addr) == 1)
        return 0;
    return MM_EINVAL;
}

int zone_parse_cidr(const char *s, uint8_t addr[16], unsigned *plen, const char **why)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    int v4;
    unsigned max, len, i;

    if (alen == 0 || alen >= sizeof(buf)) {
        *why = "not an IP address";
        return MM_EINVAL;
    }
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (zone_parse_addr(buf, addr) != 0) {
        *why = "not an IP address";
        return MM_EINVAL;
    }
    v4 = strchr(buf, ':') == NULL;
    max = v4 ? 32 : 128;
    len = max;
    if (slash != NULL) {
        char *end;
        unsigned long l;
        if (slash[1] < '0' || slash[1] > '9') {
            *why = "prefix length is not a number";
            return MM_EINVAL;
        }
        l = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || l > max) {
            *why = v4 ? "prefix length must be 0-32" : "prefix length must be 0-128";
            return MM_EINVAL;
        }
        len = (unsigned)l;
    }
    if (v4)
        len += 96;
    for (i = len; i < 128; i++) {
        if (bit_at(addr, i)) {
            *why = "host bits set after the prefix length";
            return MM_EINVAL;
        }
    }
    *plen = len;
    return 0;
}

/* Dotted quad without printf, which glibc's inet_ntop uses for IPv4: two per flow record. */
static const char *v4_str(const uint8_t a[4], char *buf, size_t len)
{
    char *p = buf;
    int i;

    if (len < 16)
        return NULL;
    for (i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
    return buf;
}

const char *zone_addr_str(const uint8_t addr[16], char *buf, size_t len)
{
    if (memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0)
        return v4_str(addr + 12, buf, len);
    return inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
}

int zone_addr_is_v4(const uint8_t addr[16])
{
    return memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0;
}

const char *zone_cidr_str(const uint8_t addr[16], unsigned plen, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];
    int v4 = memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0 && plen >= 96;

    snprintf(buf, len, "%s/%u", zone_addr_str(addr, a, sizeof(a)), v4 ? plen - 96 : plen);
    return buf;
}
