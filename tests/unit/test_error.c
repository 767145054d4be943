/*
 * Error codes: every code has its own message, codes are negative and distinct, and a code
 * that is not one still gets a message (never NULL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/error.h"

static void test_messages(void **state)
{
    static const int codes[] = {
#define CODE(name, code, msg) MM_E##name,
        MM_ERRORS(CODE)
#undef CODE
    };
    const size_t n = sizeof(codes) / sizeof(codes[0]);
    size_t i, j;

    (void)state;
    for (i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_non_null(mm_strerror(codes[i]));
        for (j = 0; j < i; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(mm_strerror(codes[i]), mm_strerror(codes[j]));
        }
    }
    assert_string_equal(mm_strerror(MM_ENOMEM), "out of memory");
    assert_string_equal(mm_strerror(MM_ENOTFOUND), "not found");
    assert_non_null(mm_strerror(-1000));
    assert_non_null(mm_strerror(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
