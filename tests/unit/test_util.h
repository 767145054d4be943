/*
 * Helpers shared by the unit tests. Include after <cmocka.h>: the helpers assert.
 */
#ifndef MIMAMORI_TEST_UTIL_H
#define MIMAMORI_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mimamori/config.h"
#include "mimamori/eve.h"
#include "mimamori/output.h"

/* A dotted IPv4 address as the sensor keeps it: IPv4-mapped IPv6. */
static inline void test_addr4(uint8_t a[16], const char *dotted)
{
    unsigned b[4];

    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    assert_int_equal(sscanf(dotted, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]), 4);
    for (int i = 0; i < 4; i++)
        a[12 + i] = (uint8_t)b[i];
}

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

/*
 * An EVE writer to a new temporary file, named from path's template ("/tmp/mm-x-XXXXXX"), with
 * its output thread started: what a test reads back to see the events a module wrote.
 */
static inline void test_eve_open(const struct mm_config *cfg, char *path, struct output **out,
                                 struct eve **eve)
{
    char err[256];
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(output_open(out, cfg, path, 0, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(output_start(*out), 0);
    assert_int_equal(eve_create(eve, *out), 0);
}

/* Closes what test_eve_open() opened (the queue drained) and returns the file's text, which it
 * removes (caller frees). */
static inline char *test_eve_close(struct output *out, struct eve *eve, const char *path)
{
    size_t cap = 1 << 20, n;
    char *text = calloc(1, cap);
    FILE *f;

    output_close(out);
    eve_destroy(eve);
    assert_non_null(text);
    assert_non_null(f = fopen(path, "r"));
    n = fread(text, 1, cap - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    return text;
}

/* Occurrences of needle in text, not overlapping. */
static inline unsigned test_count(const char *text, const char *needle)
{
    unsigned n = 0;

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

#endif
