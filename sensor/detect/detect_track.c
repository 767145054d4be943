/*
 * Host-keyed counters for the threshold rules (fan-out, scans, brute force, beaconing,
 * exfiltration). Items of an entry are kept in arrival order as far as possible; windows are
 * enforced by dropping items older than the window at each addition, with time taken from
 * packets so that a replayed capture gives the same answers as the live traffic did.
 */
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "mimamori/error.h"
#include "mimamori/limits.h"

struct track {
    uint8_t *mem;
    size_t entry_size;
    unsigned mask, items;
    uint64_t evictions;
};

uint64_t detect__hash(uint64_t seed, const void *data, unsigned len)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ 0x9E3779B97F4A7C15ull;
    unsigned i;

    for (i = 0; i < len; i++) { /* FNV-1a, then a finaliser */
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h != 0 ? h : 1;
}

int detect__track_create(struct track **out, unsigned slots, unsigned items)
{
    struct track *t;
    unsigned n = 1;

    while (n < slots)
        n <<= 1;
    *out = NULL;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return MM_ENOMEM;
    t->entry_size = sizeof(struct track_entry) + (size_t)items * sizeof(struct track_item);
    t->mask = n - 1;
    t->items = items;
    if ((t->mem = calloc(n, t->entry_size)) == NULL) {
        free(t);
        return MM_ENOMEM;
    }
    *out = t;
    return 0;
}

void detect__track_destroy(struct track *t)
{
    if (t == NULL)
        return;
    free(t->mem);
    free(t);
}

static struct track_entry *slot(struct track *t, unsigned i)
{
    return (struct track_entry *)(t->mem + (size_t)(i & t->mask) * t->entry_size);
}

struct track_entry *detect__track_get(struct track *t, uint64_t key, uint64_t now_us)
{
    struct track_entry *e, *oldest = NULL;
    unsigned i, h = (unsigned)(key ^ (key >> 32));

    for (i = 0; i < MM_TRACK_PROBE; i++) {
        e = slot(t, h + i);
        if (e->key == key) {
            if (now_us > e->last_us)
                e->last_us = now_us;
            return e;
        }
        if (e->key == 0) {
            oldest = e;
            break;
        }
        if (oldest == NULL || e->last_us < oldest->last_us)
            oldest = e;
    }
    if (oldest->key != 0)
        t->evictions++;
    memset(oldest, 0, t->entry_size);
    oldest->key = key;
    oldest->last_us = now_us;
    return oldest;
}

void detect__track_reset(struct track_entry *e)
{
    e->n = 0;
}

/* Drop items seen before now - window, keeping order. */
static void expire(struct track_entry *e, uint64_t ts_us, uint64_t window_us)
{
    uint32_t i, k = 0;

    for (i = 0; i < e->n; i++)
        if (e->item[i].ts_us + window_us >= ts_us)
            e->item[k++] = e->item[i];
    e->n = k;
}

unsigned detect__track_distinct(struct track *t, struct track_entry *e, uint64_t v, uint64_t ts_us,
                                uint64_t window_us)
{
    uint32_t i;

    expire(e, ts_us, window_us);
    for (i = 0; i < e->n; i++) {
        if (e->item[i].v == v) {
            if (ts_us > e->item[i].ts_us)
                e->item[i].ts_us = ts_us;
            return e->n;
        }
    }
    if (e->n == t->items) { /* full: the oldest goes */
        memmove(e->item, e->item + 1, (e->n - 1) * sizeof(e->item[0]));
        e->n--;
    }
    e->item[e->n].v = v;
    e->item[e->n].ts_us = ts_us;
    return ++e->n;
}

unsigned detect__track_times(struct track *t, struct track_entry *e, uint64_t ts_us,
                             uint64_t window_us)
{
    expire(e, ts_us, window_us);
    if (e->n == t->items) {
        memmove(e->item, e->item + 1, (e->n - 1) * sizeof(e->item[0]));
        e->n--;
    }
    e->item[e->n].v = 0;
    e->item[e->n].ts_us = ts_us;
    return ++e->n;
}

uint64_t detect__track_sum(struct track_entry *e, uint64_t bytes, uint64_t ts_us,
                           uint64_t window_us)
{
    uint64_t width = window_us / MM_EXFIL_BUCKETS ? window_us / MM_EXFIL_BUCKETS : 1;
    uint64_t b = ts_us / width, sum = 0;
    uint32_t i, k = 0;

    /* item.v is the bucket number, item.ts_us its byte count (at most MM_EXFIL_BUCKETS). */
    for (i = 0; i < e->n; i++)
        if (e->item[i].v + MM_EXFIL_BUCKETS > b)
            e->item[k++] = e->item[i];
    e->n = k;
    for (i = 0; i < e->n && e->item[i].v != b; i++)
        ;
    if (i == e->n) {
        if (e->n == MM_EXFIL_BUCKETS) { /* a bucket from the future (clock stepped back) */
            memmove(e->item, e->item + 1, (e->n - 1) * sizeof(e->item[0]));
            i = --e->n;
        }
        e->item[i].v = b;
        e->item[i].ts_us = 0;
        e->n++;
    }
    e->item[i].ts_us += bytes;
    for (i = 0; i < e->n; i++)
        sum += e->item[i].ts_us;
    return sum;
}

uint64_t detect__track_evictions(const struct track *t)
{
    return t->evictions;
}
