/*
 * The table of edges: a dense array in the order edges were first seen, found through an
 * open-addressed index of their positions + 1 keyed by client, server, transport, port and
 * name. Filled at flow end under the engine's lock; a mutex of its own guards it against the
 * proposal, which copies it. The array's pages are touched only as edges arrive.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/baseline.h"
#include "mimamori/classify.h"
#include "mimamori/dnscache.h"
#include "mimamori/zone.h"

#include "baseline_int.h"

int baseline_create(struct baseline **out, uint32_t max_edges)
{
    struct baseline *b = calloc(1, sizeof(*b));
    uint32_t slots = 16;

    *out = NULL;
    if (b == NULL)
        return MM_ENOMEM;
    while (slots < max_edges * 2u && slots < (1u << 30))
        slots <<= 1;
    if ((b->slot = calloc(slots, sizeof(*b->slot))) == NULL ||
        (b->e = calloc(max_edges ? max_edges : 1, sizeof(*b->e))) == NULL) {
        free(b->slot);
        free(b);
        return MM_ENOMEM;
    }
    b->mask = slots - 1;
    b->max = max_edges;
    pthread_mutex_init(&b->mu, NULL);
    *out = b;
    return 0;
}

void baseline_destroy(struct baseline *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b->e);
    free(b->slot);
    free(b);
}

_Static_assert(offsetof(struct edge, name) == 40, "the key's fixed part is five words");

/* The key's fixed part eight bytes at a time, then the name's bytes. */
static uint32_t edge_hash(const struct edge *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 0x9e3779b97f4a7c15ull, w;
    size_t i;

    for (i = 0; i + 8 <= offsetof(struct edge, name); i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (i = 0; k->name[i] != '\0'; i++)
        h = (h ^ (uint8_t)k->name[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static int edge_same(const struct edge *a, const struct edge *k)
{
    return memcmp(a, k, offsetof(struct edge, name)) == 0 && strcmp(a->name, k->name) == 0;
}

/* Broadcasts and multicasts (IPv4 224/4 and the limited broadcast, IPv6 ff00::/8). */
static int group_address(const uint8_t a[16])
{
    if (zone_addr_is_v4(a))
        return (a[12] & 0xf0) == 0xe0 || (a[12] == 255 && a[13] == 255 && a[14] == 255);
    return a[0] == 0xff;
}

/* The name the flow gave its server: TLS server name, else HTTP host; "" when too long. */
static void server_name(const struct flow *f, char out[BASELINE_NAME_LEN])
{
    const char *s = classify_meta_get(f->app.meta, META_TLS_SNI);
    size_t n;

    if (s == NULL)
        s = classify_meta_get(f->app.meta, META_HTTP_HOST);
    out[0] = '\0';
    if (s != NULL && (n = strlen(s)) < BASELINE_NAME_LEN)
        memcpy(out, s, n + 1);
}

/* Whether a name is an address written out ("198.51.100.9", "2001:db8::1"), no site's name. */
static int literal(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == ':'))
            return 0;
    return 1;
}

/*
 * The site an internet server belongs to, as a hash: the last two labels of the name the flow
 * or an earlier DNS answer gave it ("vendor-update.example" for any host of it), else its /24
 * (IPv6: /48). An office PC uses many sites; a clinical terminal one vendor's servers.
 */
uint32_t baseline__site(const char *name, const uint8_t srv[16])
{
    const char *q, *dot = NULL, *prev = NULL;
    uint32_t h = 2166136261u;
    size_t i, n;

    for (q = name; name != NULL && !literal(name) && *q != '\0'; q++)
        if (*q == '.' && q[1] != '\0')
            prev = dot, dot = q;
    if (dot != NULL) {
        for (q = prev != NULL ? prev + 1 : name; *q != '\0' && !(*q == '.' && q[1] == '\0'); q++)
            h = (h ^ (uint8_t)(*q | 0x20)) * 16777619u; /* a trailing dot left out */
        return h;
    }
    n = zone_addr_is_v4(srv) ? 15 : 6;
    for (i = 0; i < n; i++)
        h = (h ^ srv[i]) * 16777619u;
    return h;
}

/*
 * The edge of key k (its key fields set, the rest zero), made when missing and create is set:
 * NULL when missing, or when the table is full (counted). Under b->mu.
 */
struct edge *baseline__get(struct baseline *b, const struct edge *k, uint64_t t_us, int create,
                           int *made)
{
    uint32_t *s;

    *made = 0;
    for (s = &b->slot[edge_hash(k) & b->mask]; *s != 0; s = &b->slot[(s - b->slot + 1) & b->mask])
        if (edge_same(&b->e[*s - 1], k))
            return &b->e[*s - 1];
    if (!create)
        return NULL;
    if (b->n == b->max) {
        b->dropped++;
        return NULL;
    }
    b->e[b->n] = *k;
    b->e[b->n].first_us = b->e[b->n].last_us = t_us;
    *s = ++b->n;
    *made = 1;
    if (b->first_us == 0 || t_us < b->first_us)
        b->first_us = t_us;
    return &b->e[b->n - 1];
}

void baseline_flow_ended(struct baseline *b, const struct mm_config *cfg,
                         const struct dnscache *dns, const struct flow *f)
{
    const uint8_t *cli = flow_src_addr(f), *srv = flow_dst_addr(f);
    struct edge k, *e;
    int cz, sz, made;

    if ((f->flags & FLOW_F_L2_GROUP) || group_address(srv) || group_address(cli))
        return;
    cz = config_zone_of(cfg, cli), sz = config_zone_of(cfg, srv);
    if (cz == ZONE_INTERNET && sz == ZONE_INTERNET)
        return;
    memset(&k, 0, sizeof(k));
    memcpy(k.cli, cli, 16);
    memcpy(k.srv, srv, 16);
    k.l4 = f->key.proto;
    k.port = flow_dst_port(f);
    k.master = f->app.master;
    k.app = f->app.app;
    if (sz == ZONE_INTERNET)
        server_name(f, k.name);
    pthread_mutex_lock(&b->mu);
    if ((e = baseline__get(b, &k, f->first_us, 1, &made)) != NULL) {
        if (made && sz == ZONE_INTERNET) /* the site, by the names the first flow had */
            e->site = baseline__site(k.name[0] != '\0' ? k.name
                                     : dns != NULL     ? dnscache_lookup(dns, srv, f->last_us)
                                                       : NULL,
                                     srv);
        e->flows++;
        e->answered |= f->pkts[FLOW_TOCLIENT] > 0;
        e->category = f->app.category;
        e->guessed |= classify_is_guess(&f->app) != 0;
        if (f->first_us < e->first_us)
            e->first_us = f->first_us;
        if (f->last_us > e->last_us)
            e->last_us = f->last_us;
        if (f->last_us > b->last_us)
            b->last_us = f->last_us;
    }
    pthread_mutex_unlock(&b->mu);
}

void baseline_get_stats(struct baseline *b, struct baseline_stats *st)
{
    pthread_mutex_lock(&b->mu);
    st->edges = b->n;
    st->dropped = b->dropped;
    st->first_us = b->first_us;
    st->last_us = b->last_us;
    pthread_mutex_unlock(&b->mu);
}

struct edge *baseline__copy(struct baseline *b, uint32_t *n)
{
    struct edge *copy;

    pthread_mutex_lock(&b->mu);
    *n = b->n;
    if ((copy = malloc(((size_t)b->n + 1) * sizeof(*copy))) != NULL)
        memcpy(copy, b->e, (size_t)b->n * sizeof(*copy));
    pthread_mutex_unlock(&b->mu);
    return copy;
}
