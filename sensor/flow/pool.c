/*
 * A free list threaded through the free blocks themselves: a block on the list holds the
 * pointer to the next, so blocks carry no header and the pool no table.
 */
#include <stdlib.h>
#include <string.h>

#include "mimamori/pool.h"

struct pool {
    void *free_list;
    size_t size;
    uint32_t max, active;
};

int pool_create(struct pool **out, size_t size, uint32_t max)
{
    struct pool *p = calloc(1, sizeof(*p));

    *out = p;
    if (p == NULL)
        return MM_ENOMEM;
    p->size = size < sizeof(void *) ? sizeof(void *) : size;
    p->max = max;
    return 0;
}

void pool_destroy(struct pool *p)
{
    void *b, *next;

    if (p == NULL)
        return;
    for (b = p->free_list; b != NULL; b = next) {
        memcpy(&next, b, sizeof(next));
        free(b);
    }
    free(p);
}

void *pool_get(struct pool *p)
{
    void *b = p->free_list;

    if (p->active >= p->max)
        return NULL;
    if (b != NULL)
        memcpy(&p->free_list, b, sizeof(void *));
    else if ((b = malloc(p->size)) == NULL)
        return NULL;
    memset(b, 0, p->size);
    p->active++;
    return b;
}

void pool_put(struct pool *p, void *block)
{
    if (block == NULL)
        return;
    memcpy(block, &p->free_list, sizeof(void *));
    p->free_list = block;
    p->active--;
}

uint32_t pool_active(const struct pool *p)
{
    return p->active;
}
