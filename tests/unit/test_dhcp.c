/*
 * The DHCP reader on messages built as RFC 2131 lays them out: a client's REQUEST (its MAC,
 * the address it asks for, its host name), a server's ACK (the address given), a client that
 * already has an address, and what is not DHCP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/dhcp.h"

static const uint8_t mac[6] = {0xc4, 0x61, 0x8b, 0x35, 0x82, 0xa9};

/* A BOOTP header (op, Ethernet), the cookie, then the options given, then END. */
static size_t message(uint8_t *p, uint8_t op, const uint8_t *opts, size_t olen)
{
    memset(p, 0, 240);
    p[0] = op, p[1] = 1, p[2] = 6;
    memcpy(p + 28, mac, 6);
    memcpy(p + 236, "\x63\x82\x53\x63", 4);
    memcpy(p + 240, opts, olen);
    p[240 + olen] = 255;
    return 241 + olen;
}

static void test_request_and_ack(void **state)
{
    uint8_t p[400];
    struct dhcp_msg m;
    size_t n;

    (void)state;
    /* REQUEST: type 3, requested 192.168.2.17, host name "Lucas-iPhone" */
    n = message(p, 1, (const uint8_t *)"\x35\x01\x03\x32\x04\xc0\xa8\x02\x11\x0c\x0cLucas-iPhone",
                23);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_int_equal(m.type, 3);
    assert_true(m.has_mac);
    assert_memory_equal(m.mac, mac, 6);
    assert_true(m.has_ip);
    assert_memory_equal(m.ip + 12, "\xc0\xa8\x02\x11", 4);
    assert_string_equal(m.hostname, "Lucas-iPhone");
    /* ACK from the server: yiaddr 192.168.2.18 is the client's now. */
    n = message(p, 2, (const uint8_t *)"\x35\x01\x05", 3);
    memcpy(p + 16, "\xc0\xa8\x02\x12", 4);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_true(m.has_ip);
    assert_memory_equal(m.ip + 12, "\xc0\xa8\x02\x12", 4);
    /* A client renewing: ciaddr is its address, whatever it asks for. */
    n = message(p, 1, (const uint8_t *)"\x35\x01\x03\x32\x04\x0a\x00\x00\x09", 9);
    memcpy(p + 12, "\x0a\x00\x00\x05", 4);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_memory_equal(m.ip + 12, "\x0a\x00\x00\x05", 4);
    /* DISCOVER: no address yet. */
    n = message(p, 1, (const uint8_t *)"\x35\x01\x01", 3);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_false(m.has_ip);
}

static void test_not_dhcp(void **state)
{
    uint8_t p[400];
    struct dhcp_msg m;
    size_t n = message(p, 1, (const uint8_t *)"\x0c\x20short", 7), k;

    (void)state;
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), -1); /* host name runs past the end */
    n = message(p, 1, (const uint8_t *)"\x35\x01\x03", 3);
    for (k = 0; k < 240; k++) /* cut before the options begin */
        assert_int_equal(dhcp_parse(p, (uint32_t)k, &m), -1);
    p[236] = 0; /* no magic cookie: BOOTP or something else */
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), -1);
    /* A host name with control bytes keeps its printable ones. */
    n = message(p, 1,
                (const uint8_t *)"\x0c\x05"
                                 "a\x01"
                                 "b\x7f"
                                 "c",
                7);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_string_equal(m.hostname, "abc");
}

/* What a client says of its system: vendor class, parameter list, FQDN in either form. */
static void test_system_options(void **state)
{
    static const uint8_t win[] = "\x3c\x08MSFT 5.0"
                                 "\x37\x0c\x01\x0f\x03\x06\x2c\x2e\x2f\x1f\x21\x79\xf9\x2b"
                                 "\x51\x13\x05\x00\x00\x06"
                                 "DESK01\x04"
                                 "corp\x02"
                                 "jp\x00";
    uint8_t p[600], opts[300];
    struct dhcp_msg m;
    size_t n;
    unsigned k;

    (void)state;
    n = message(p, 1, win, sizeof(win) - 1);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_string_equal(m.vendor_class, "MSFT 5.0");
    assert_string_equal(m.params, "1,15,3,6,44,46,47,31,33,121,249,43");
    assert_string_equal(m.fqdn, "DESK01.corp.jp");
    /* The FQDN as text (E clear); a server's vendor class is not the client's. */
    n = message(p, 2,
                (const uint8_t *)"\x51\x0a\x00\x00\x00pc1.lan\x3c\x03"
                                 "xyz",
                17);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_string_equal(m.fqdn, "pc1.lan");
    assert_string_equal(m.vendor_class, "");
    /* A parameter list too long to keep ends at a whole number. */
    opts[0] = 0x37, opts[1] = 200;
    for (k = 0; k < 200; k++)
        opts[2 + k] = (uint8_t)(100 + k % 100);
    n = message(p, 1, opts, 202);
    assert_int_equal(dhcp_parse(p, (uint32_t)n, &m), 0);
    assert_true(strlen(m.params) > 0 && strlen(m.params) < DHCP_NAME_LEN);
    assert_int_equal(strncmp(m.params, "100,101,102,", 12), 0);
    assert_int_not_equal(m.params[strlen(m.params) - 1], ',');
    assert_int_equal(strlen(m.params) % 4, 3); /* "1xx" numbers and commas: whole ones only */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_and_ack),
        cmocka_unit_test(test_system_options),
        cmocka_unit_test(test_not_dhcp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
