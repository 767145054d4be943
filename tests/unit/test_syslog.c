/*
 * RFC 5424 formatting: the header fields in order, the time with a colon in its offset and
 * microseconds, priority from facility and severity, a hostname made safe, the message bytes
 * as given, and the needed length reported when the buffer is short.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mimamori/error.h"
#include "mimamori/syslog.h"

#define TS 1795496400123456ull /* 2026-11-24T05:00:00.123456Z */

static void test_header(void **state)
{
    static const char msg[] = "{\"event_type\":\"alert\"}";
    char buf[256];
    size_t n;

    (void)state;
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    n = syslog_format(buf, sizeof(buf), 16 * 8 + 3, TS, "hospital-a-core1", 4242, "alert", msg,
                      sizeof(msg) - 1);
    assert_string_equal(buf, "<131>1 2026-11-24T14:00:00.123456+09:00 hospital-a-core1 mimamori "
                             "4242 alert - {\"event_type\":\"alert\"}");
    assert_int_equal(n, strlen(buf));
    setenv("TZ", "UTC", 1);
    tzset();
    syslog_format(buf, sizeof(buf), 134, TS, "a b\tc", 1, "stats", "x", 1);
    assert_string_equal(buf, "<134>1 2026-11-24T05:00:00.123456+00:00 a_b_c mimamori 1 stats - x");
    syslog_format(buf, sizeof(buf), 134, TS, "", 1, "flow", "x", 1);
    assert_string_equal(buf, "<134>1 2026-11-24T05:00:00.123456+00:00 - mimamori 1 flow - x");
}

static void test_short_buffer(void **state)
{
    char small[16], big[128];
    size_t need;

    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    need = syslog_format(small, sizeof(small), 134, TS, "h", 1, "alert", "payload", 7);
    assert_int_equal(need, syslog_format(big, sizeof(big), 134, TS, "h", 1, "alert", "payload", 7));
    assert_int_equal(need, strlen(big));
}

static void test_facility_names(void **state)
{
    (void)state;
    assert_int_equal(syslog_facility("local0"), 16);
    assert_int_equal(syslog_facility("LOCAL7"), 23);
    assert_int_equal(syslog_facility("authpriv"), 10);
    assert_int_equal(syslog_facility("kern"), MM_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_short_buffer),
        cmocka_unit_test(test_facility_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
