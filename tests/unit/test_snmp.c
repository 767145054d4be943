/*
 * The SNMP reader on messages built by hand in BER (RFC 1157, RFC 3416, RFC 3412): versions,
 * default and site communities, agents' answers, long-form lengths, and what is not SNMP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/snmp.h"

/* A v1/v2c message: SEQUENCE { INTEGER version, OCTET STRING community, PDU tag {} }. */
static size_t message(uint8_t *p, unsigned version, const char *community, uint8_t pdu)
{
    size_t c = strlen(community), n = 0;

    p[n++] = 0x30;
    p[n++] = (uint8_t)(3 + 2 + c + 2);
    p[n++] = 0x02, p[n++] = 0x01, p[n++] = (uint8_t)version;
    p[n++] = 0x04, p[n++] = (uint8_t)c;
    memcpy(p + n, community, c), n += c;
    p[n++] = pdu, p[n++] = 0x00;
    return n;
}

static void test_versions_and_communities(void **state)
{
    uint8_t b[64];
    struct snmp_msg m;
    size_t n;

    (void)state;
    n = message(b, 0, "public", 0xa0); /* v1 GetRequest */
    assert_int_equal(snmp_parse(b, (uint32_t)n, &m), 0);
    assert_int_equal(m.version, SNMP_V1);
    assert_true(m.default_community);
    assert_false(m.response);
    n = message(b, 1, "hosp-ro-7f3a", 0xa2); /* v2c GetResponse, a site's own community */
    assert_int_equal(snmp_parse(b, (uint32_t)n, &m), 0);
    assert_int_equal(m.version, SNMP_V2C);
    assert_false(m.default_community);
    assert_true(m.response);
    n = message(b, 1, "Public", 0xa0); /* communities are case-sensitive */
    assert_int_equal(snmp_parse(b, (uint32_t)n, &m), 0);
    assert_false(m.default_community);
    /* v3: version 3, then a header SEQUENCE; no community to judge. */
    memcpy(b, "\x30\x0e\x02\x01\x03\x30\x09\x02\x01\x01\x02\x01\x00\x04\x01\x04", 16);
    assert_int_equal(snmp_parse(b, 16, &m), 0);
    assert_int_equal(m.version, SNMP_V3);
    assert_false(m.default_community);
}

static void test_long_form_length(void **state)
{
    uint8_t b[300];
    struct snmp_msg m;

    (void)state;
    /* SEQUENCE with a two-octet length (0x81 0x..), as agents write larger answers. */
    memset(b, 0, sizeof(b));
    memcpy(b, "\x30\x81\xf0\x02\x01\x01\x04\x07private\xa2\x00", 17);
    assert_int_equal(snmp_parse(b, 243, &m), 0);
    assert_true(m.default_community);
    assert_true(m.response);
    /* The same length when the datagram is shorter: not taken. */
    assert_int_equal(snmp_parse(b, 100, &m), -1);
}

static void test_not_snmp(void **state)
{
    uint8_t b[64];
    struct snmp_msg m;
    size_t n = message(b, 1, "public", 0xa0), k;

    (void)state;
    for (k = 0; k < n - 1; k++) /* every cut short */
        assert_int_equal(snmp_parse(b, (uint32_t)k, &m), -1);
    b[4] = 2; /* version 2 does not exist */
    assert_int_equal(snmp_parse(b, (uint32_t)n, &m), -1);
    n = message(b, 1, "public", 0x30); /* no PDU after the community */
    assert_int_equal(snmp_parse(b, (uint32_t)n, &m), -1);
    assert_int_equal(snmp_parse((const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18, &m), -1);
    memcpy(b, "\x30\x84\x7f\xff\xff\xff", 6); /* a 4-octet length: refused, not trusted */
    assert_int_equal(snmp_parse(b, 6, &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_communities),
        cmocka_unit_test(test_long_form_length),
        cmocka_unit_test(test_not_snmp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
