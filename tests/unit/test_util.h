/*
 * Helpers shared by the unit tests.
 */
#ifndef MIMAMORI_TEST_UTIL_H
#define MIMAMORI_TEST_UTIL_H

#include <stddef.h>
#include <string.h>

/* Whether needle occurs anywhere in n bytes of memory (a parser state, an event). */
static inline int test_contains(const void *hay, size_t n, const char *needle)
{
    const char *h = hay;
    size_t k = strlen(needle), i;

    for (i = 0; i + k <= n; i++)
        if (memcmp(h + i, needle, k) == 0)
            return 1;
    return 0;
}

#endif
