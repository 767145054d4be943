/*
 * What the device inventory and the external connections list share: records that begin with
 * their address, kept in a dense array and found through an open-addressed index of their
 * positions + 1; when the array is full, the eighth of the records silent the longest leave at
 * once (one sort per eighth of the table, however fast new addresses come) and the index is
 * built again.
 */
#include <stdlib.h>
#include <string.h>

#include "inventory_int.h"

uint32_t inventory__hash(const uint8_t ip[16])
{
    uint32_t h = 2166136261u, i;

    for (i = 0; i < 16; i++)
        h = (h ^ ip[i]) * 16777619u;
    return h;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

#define REC(t, i) ((unsigned char *)(t)->rec + (size_t)(i) * (t)->stride)

static uint64_t last_seen(const struct addrtab *t, uint32_t i)
{
    uint64_t v;

    memcpy(&v, REC(t, i) + t->last_off, sizeof(v));
    return v;
}

uint32_t *inventory__slot(struct addrtab *t, const uint8_t ip[16])
{
    uint32_t s;

    for (s = inventory__hash(ip) & t->mask; t->slot[s] != 0; s = (s + 1) & t->mask)
        if (memcmp(REC(t, t->slot[s] - 1), ip, 16) == 0)
            break;
    return &t->slot[s];
}

uint32_t inventory__evict(struct addrtab *t, uint32_t n, uint32_t drop)
{
    uint32_t i, j, k;
    uint64_t *seen, cut;

    if (drop == 0 || drop > n || (seen = malloc(n * sizeof(*seen))) == NULL)
        return 0;
    for (i = 0; i < n; i++)
        seen[i] = last_seen(t, i);
    qsort(seen, n, sizeof(*seen), by_value);
    cut = seen[drop - 1];
    free(seen);
    for (i = j = k = 0; i < n; i++) {
        if (last_seen(t, i) <= cut && k < drop) {
            k++;
            continue;
        }
        if (i != j)
            memcpy(REC(t, j), REC(t, i), t->stride);
        j++;
    }
    memset(t->slot, 0, ((size_t)t->mask + 1) * sizeof(*t->slot));
    for (i = 0; i < j; i++)
        *inventory__slot(t, REC(t, i)) = i + 1;
    return k;
}
