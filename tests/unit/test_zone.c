/*
 * Zone map tests: longest prefix wins in both families, IPv4 does not leak into IPv6 space,
 * IPv4 lookups that start below the v4-mapped prefix still see the prefixes above it,
 * duplicate prefixes are reported, CIDR parsing refuses what a typo produces, and a map's
 * prefixes come back as they were given, in address order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/error.h"
#include "mimamori/zone.h"

static void add(struct zone_map *m, const char *cidr, int v)
{
    uint8_t a[16];
    unsigned plen;
    const char *why;

    assert_int_equal(zone_parse_cidr(cidr, a, &plen, &why), 0);
    assert_int_equal(zone_map_add(m, a, plen, v), 0);
}

static int look(const struct zone_map *m, const char *ip)
{
    uint8_t a[16];
    assert_int_equal(zone_parse_addr(ip, a), 0);
    return zone_map_lookup(m, a);
}

static void test_longest_prefix(void **state)
{
    struct zone_map *m;

    (void)state;
    assert_int_equal(zone_map_create(&m), 0);
    add(m, "10.0.0.0/8", 1);
    add(m, "10.10.0.0/16", 2);
    add(m, "10.10.1.5/32", 3);
    add(m, "2001:db8::/32", 4);
    add(m, "2001:db8:ff::/48", 5);
    assert_int_equal(look(m, "10.1.2.3"), 1);
    assert_int_equal(look(m, "10.10.9.9"), 2);
    assert_int_equal(look(m, "10.10.1.5"), 3);
    assert_int_equal(look(m, "10.10.1.6"), 2);
    assert_int_equal(look(m, "11.0.0.1"), -1);
    assert_int_equal(look(m, "2001:db8::1"), 4);
    assert_int_equal(look(m, "2001:db8:ff::1"), 5);
    assert_int_equal(look(m, "2001:db9::1"), -1);
    assert_int_equal(look(m, "::a00:1"), -1); /* IPv4-compatible, not IPv4 */
    zone_map_destroy(m);
}

static void test_default_route_and_duplicates(void **state)
{
    struct zone_map *m;
    uint8_t a[16];
    unsigned plen;
    const char *why;

    (void)state;
    assert_int_equal(zone_map_create(&m), 0);
    add(m, "0.0.0.0/0", 7);
    assert_int_equal(look(m, "203.0.113.1"), 7);
    assert_int_equal(look(m, "2001:db8::1"), -1); /* IPv4 /0 covers only IPv4 */
    assert_int_equal(zone_parse_cidr("0.0.0.0/0", a, &plen, &why), 0);
    assert_int_equal(zone_map_add(m, a, plen, 9), 7 + 1);
    zone_map_destroy(m);
}

/* IPv4 lookups start below the v4-mapped prefix: what lies on the way there must still count,
 * whichever order the prefixes came in. */
static void test_ipv4_below_mapped_prefix(void **state)
{
    struct zone_map *m;

    (void)state;
    assert_int_equal(zone_map_create(&m), 0);
    assert_int_equal(look(m, "10.1.2.3"), -1); /* empty map */
    add(m, "2001:db8::/32", 4);
    assert_int_equal(look(m, "10.1.2.3"), -1); /* the mapped prefix is not in the trie */
    add(m, "10.0.0.0/8", 1);
    assert_int_equal(look(m, "10.1.2.3"), 1);
    assert_int_equal(look(m, "11.1.2.3"), -1);
    add(m, "::/0", 6); /* added after the IPv4 prefix, covers IPv4 too */
    assert_int_equal(look(m, "11.1.2.3"), 6);
    assert_int_equal(look(m, "10.1.2.3"), 1);
    add(m, "::ffff:0:0/96", 8); /* all of IPv4, as an IPv6 prefix */
    assert_int_equal(look(m, "11.1.2.3"), 8);
    assert_int_equal(look(m, "10.1.2.3"), 1);
    assert_int_equal(look(m, "2001:db9::1"), 6);
    zone_map_destroy(m);
}

static void test_parse_errors(void **state)
{
    uint8_t a[16];
    unsigned plen;
    const char *why = NULL;

    (void)state;
    assert_int_equal(zone_parse_cidr("10.0.0.0/8", a, &plen, &why), 0);
    assert_int_equal(plen, 104);
    assert_int_equal(zone_parse_cidr("10.0.0.1", a, &plen, &why), 0);
    assert_int_equal(plen, 128);
    assert_int_equal(zone_parse_cidr("fd00::/8", a, &plen, &why), 0);
    assert_int_equal(plen, 8);
    assert_int_equal(zone_parse_cidr("10.0.0.0/", a, &plen, &why), MM_EINVAL);
    assert_string_equal(why, "prefix length is not a number");
    assert_int_equal(zone_parse_cidr("10.0.0.0/8x", a, &plen, &why), MM_EINVAL);
    assert_int_equal(zone_parse_cidr("fd00::/129", a, &plen, &why), MM_EINVAL);
    assert_string_equal(why, "prefix length must be 0-128");
    assert_int_equal(zone_parse_cidr("10.0.0.0.0/8", a, &plen, &why), MM_EINVAL);
    assert_int_equal(zone_parse_cidr("/8", a, &plen, &why), MM_EINVAL);
    assert_int_equal(zone_parse_cidr("192.168.1.1/24", a, &plen, &why), MM_EINVAL);
    assert_string_equal(why, "host bits set after the prefix length");
}

static void test_addr_str(void **state)
{
    uint8_t a[16];
    char buf[64];

    static const char *const v4[] = {"192.0.2.7", "0.0.0.0", "255.255.255.255", "10.100.9.0",
                                     "1.20.199.250"};
    unsigned i;

    (void)state;
    for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) { /* every digit count in every place */
        assert_int_equal(zone_parse_addr(v4[i], a), 0);
        assert_string_equal(zone_addr_str(a, buf, sizeof(buf)), v4[i]);
    }
    assert_null(zone_addr_str(a, buf, 15)); /* room for the longest, with its NUL, is asked */
    zone_parse_addr("2001:db8::7", a);
    assert_string_equal(zone_addr_str(a, buf, sizeof(buf)), "2001:db8::7");
}

struct listed {
    char text[8][64];
    int value[8];
    unsigned n;
};

static void list_one(void *ud, const uint8_t addr[16], unsigned plen, int value)
{
    struct listed *l = ud;

    assert_true(l->n < 8);
    zone_cidr_str(addr, plen, l->text[l->n], sizeof(l->text[0]));
    l->value[l->n++] = value;
}

static void test_each(void **state)
{
    static const char *const want[] = {"::/0", "10.0.0.0/8", "10.10.1.5/32", "192.168.0.0/16",
                                       "2001:db8::/32"};
    struct zone_map *m;
    struct listed l = {.n = 0};
    uint8_t a[16];
    unsigned i;

    (void)state;
    assert_int_equal(zone_map_create(&m), 0);
    add(m, "2001:db8::/32", 4);
    add(m, "10.10.1.5/32", 2);
    add(m, "192.168.0.0/16", 3);
    add(m, "10.0.0.0/8", 1);
    add(m, "::/0", 0);
    zone_map_each(m, list_one, &l);
    assert_int_equal(zone_parse_addr("10.1.2.3", a), 0);
    assert_true(zone_addr_is_v4(a));
    assert_int_equal(zone_parse_addr("2001:db8::1", a), 0);
    assert_false(zone_addr_is_v4(a));
    assert_int_equal(l.n, 5);
    for (i = 0; i < 5; i++)
        assert_string_equal(l.text[i], want[i]);
    assert_int_equal(l.value[1], 1);
    assert_int_equal(l.value[2], 2);
    assert_int_equal(l.value[4], 4);
    zone_map_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_prefix),
        cmocka_unit_test(test_default_route_and_duplicates),
        cmocka_unit_test(test_ipv4_below_mapped_prefix),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_addr_str),
        cmocka_unit_test(test_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
