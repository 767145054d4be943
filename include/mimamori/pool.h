/*
 * Per-flow parser state: fixed-size blocks handed out from a free list, with a cap on how many
 * are in use at once. A block returned is kept for the next flow, so a busy sensor stops
 * calling malloc once its working set is allocated; memory is given back at destroy.
 */
#ifndef MIMAMORI_POOL_H
#define MIMAMORI_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/error.h"

struct pool;

/* Blocks of size bytes, at most max in use. 0 or MM_ENOMEM. */
MM_MUST_CHECK int pool_create(struct pool **out, size_t size, uint32_t max);
void pool_destroy(struct pool *p);

/* A zeroed block, or NULL when max are in use or memory ran out. */
void *pool_get(struct pool *p);

/* Give a block of this pool back (NULL: nothing). */
void pool_put(struct pool *p, void *block);

/* Blocks in use. */
uint32_t pool_active(const struct pool *p);

#endif
