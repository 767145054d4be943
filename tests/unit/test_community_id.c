/*
 * Community ID v1 against the published test vectors of the spec (baseline_deflt.json in
 * corelight/community-id-spec): both directions of each flow must give the listed string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mimamori/community_id.h"
#include "mimamori/zone.h"

struct vector {
    uint8_t proto;
    const char *saddr, *daddr;
    uint16_t sport, dport; /* ICMP: type and code */
    const char *want;
};

static const struct vector vectors[] = {
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    /* ICMP echo request and reply (type 8 / 0, code 0). */
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    /* ICMP time exceeded: one-way, no counterpart. */
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
    /* ICMPv6 neighbor solicitation / advertisement. */
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
    /* RSVP (46): no ports. */
    {46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
};

static void test_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint8_t s[16], d[16];
        char out[COMMUNITY_ID_LEN];
        assert_int_equal(zone_parse_addr(vectors[i].saddr, s), 0);
        assert_int_equal(zone_parse_addr(vectors[i].daddr, d), 0);
        assert_int_equal(community_id_v1(s, d, vectors[i].sport, vectors[i].dport, vectors[i].proto,
                                         0, out, sizeof(out)),
                         0);
        assert_string_equal(out, vectors[i].want);
    }
}

static void test_rejects_mixed_families(void **state)
{
    uint8_t s[16], d[16];
    char out[COMMUNITY_ID_LEN];

    (void)state;
    zone_parse_addr("10.0.0.1", s);
    zone_parse_addr("2001:db8::1", d);
    assert_true(community_id_v1(s, d, 1, 2, 6, 0, out, sizeof(out)) < 0);
    assert_true(community_id_v1(s, s, 1, 2, 6, 0, out, 10) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_rejects_mixed_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
