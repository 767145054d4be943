/*
 * Time zones for maintenance windows and event timestamps: offsets from tzdata (Tokyo; Berlin
 * across its change to summer time), fixed offsets, the weekday and minute a window is checked
 * against, local times back to UTC, and names that must not be read (unknown zones, paths).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mimamori/error.h"
#include "mimamori/tz.h"

static void test_tz(void **state)
{
    struct tz *z;
    int wday, min;

    (void)state;
    assert_int_equal(tz_load("Asia/Tokyo", &z), 0);
    assert_int_equal(tz_offset(z, 1795496400), 9 * 3600);
    tz_local(z, 1795496400, &wday, &min); /* 2026-11-24T05:00Z: Tuesday 14:00 in Tokyo */
    assert_int_equal(wday, 2);
    assert_int_equal(min, 14 * 60);
    assert_int_equal(tz_to_utc(z, 1795496400 + 9 * 3600), 1795496400);
    tz_free(z);
    /* Daylight saving time: Berlin is +1 in winter, +2 in summer (2026-03-29 01:00Z). */
    assert_int_equal(tz_load("Europe/Berlin", &z), 0);
    assert_int_equal(tz_offset(z, 1774746000 - 1), 3600);
    assert_int_equal(tz_offset(z, 1774746000), 7200);
    tz_free(z);
    assert_int_equal(tz_load("+05:30", &z), 0);
    assert_int_equal(tz_offset(z, 0), 19800);
    tz_free(z);
    assert_int_equal(tz_load("Mars/Olympus_Mons", &z), MM_ENOTFOUND);
    assert_int_equal(tz_load("../../etc/passwd", &z), MM_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
