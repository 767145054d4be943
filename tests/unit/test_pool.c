/*
 * The block pool: zeroed blocks, the cap, blocks reused after being given back, and blocks
 * smaller than a pointer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/pool.h"

static void test_cap_and_reuse(void **state)
{
    struct pool *p;
    unsigned char *a, *b, *c;

    (void)state;
    assert_int_equal(pool_create(&p, 64, 2), 0);
    a = pool_get(p);
    b = pool_get(p);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(pool_get(p)); /* the cap */
    assert_int_equal(pool_active(p), 2);
    memset(a, 0xab, 64);
    pool_put(p, a);
    assert_int_equal(pool_active(p), 1);
    c = pool_get(p);
    assert_ptr_equal(c, a); /* the block given back is reused ... */
    for (unsigned i = 0; i < 64; i++)
        assert_int_equal(c[i], 0); /* ... and zeroed */
    pool_put(p, NULL);
    pool_put(p, b);
    pool_put(p, c);
    assert_int_equal(pool_active(p), 0);
    pool_destroy(p); /* frees the two blocks on the list (valgrind and ASan check) */
}

static void test_tiny_blocks(void **state)
{
    struct pool *p;
    void *a, *b;

    (void)state;
    assert_int_equal(pool_create(&p, 1, 8), 0);
    a = pool_get(p);
    b = pool_get(p);
    pool_put(p, a);
    pool_put(p, b);
    assert_ptr_equal(pool_get(p), b);
    assert_ptr_equal(pool_get(p), a);
    pool_put(p, a);
    pool_put(p, b);
    pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_and_reuse),
        cmocka_unit_test(test_tiny_blocks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
