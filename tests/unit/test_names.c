/*
 * Names from name services, built byte by byte after RFC 1002 (NetBIOS) and RFC 1035/6762/4795
 * (DNS, mDNS, LLMNR): a workstation's registration, not a group's, not a query; an answer to a
 * query; an mDNS host announcing itself (its address in the additional section), not another
 * host; a DNS PTR answer; and truncations at every length, which must name nothing wrongly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/names.h"

static const uint8_t me[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 4, 24};

/* The first-level encoding of a 15-character name padded with spaces and its type. */
static size_t nb_encode(uint8_t *p, const char *name, uint8_t type)
{
    char c[16];
    int i;

    memset(c, ' ', 15);
    memcpy(c, name, strlen(name));
    c[15] = (char)type;
    p[0] = 32;
    for (i = 0; i < 16; i++) {
        p[1 + 2 * i] = (uint8_t)('A' + ((uint8_t)c[i] >> 4));
        p[2 + 2 * i] = (uint8_t)('A' + ((uint8_t)c[i] & 0xf));
    }
    p[33] = 0;
    return 34;
}

/* A registration request of name (type, group or not) for 10.0.4.24. */
static size_t registration(uint8_t *p, const char *name, uint8_t type, int group)
{
    static const uint8_t hdr[12] = {0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1};
    size_t n = 12;

    memcpy(p, hdr, 12);
    n += nb_encode(p + n, name, type);
    memcpy(p + n, "\x00\x20\x00\x01", 4), n += 4;
    memcpy(p + n, "\xc0\x0c\x00\x20\x00\x01\x00\x04\x93\xe0\x00\x06", 12), n += 12;
    p[n++] = group ? 0x80 : 0x00, p[n++] = 0x00;
    memcpy(p + n, "\x0a\x00\x04\x18", 4), n += 4;
    return n;
}

static void test_netbios(void **state)
{
    struct host_name h[NAMES_MAX];
    uint8_t p[128];
    size_t n, k;

    (void)state;
    n = registration(p, "GUNNAR", 0x00, 0);
    assert_int_equal(names_from_udp(p, (uint32_t)n, 137, 137, me, h, NAMES_MAX), 1);
    assert_string_equal(h[0].name, "GUNNAR");
    assert_int_equal(h[0].source, NAME_NETBIOS);
    assert_memory_equal(h[0].ip, me, 16);
    n = registration(p, "WORKGROUP", 0x00, 1); /* a group name names no host */
    assert_int_equal(names_from_udp(p, (uint32_t)n, 137, 137, me, h, NAMES_MAX), 0);
    n = registration(p, "GUNNAR", 0x03, 0); /* the messenger name: not the host's */
    assert_int_equal(names_from_udp(p, (uint32_t)n, 137, 137, me, h, NAMES_MAX), 0);
    n = registration(p, "GUNNAR", 0x20, 0);
    p[2] = 0x01; /* opcode 0: a query for the name, which the asker does not own */
    assert_int_equal(names_from_udp(p, (uint32_t)n, 137, 137, me, h, NAMES_MAX), 0);
    /* The answer to that query (response, opcode 0, the name in the answer record). */
    memcpy(p, "\x12\x34\x85\x00\x00\x00\x00\x01\x00\x00\x00\x00", 12);
    n = 12 + nb_encode(p + 12, "GURU", 0x20);
    memcpy(p + n, "\x00\x20\x00\x01\x00\x04\x93\xe0\x00\x06\x60\x00\x0a\x00\x05\x01", 16);
    n += 16;
    assert_int_equal(names_from_udp(p, (uint32_t)n, 137, 49152, me, h, NAMES_MAX), 1);
    assert_string_equal(h[0].name, "GURU");
    assert_int_equal(h[0].ip[15], 1);
    for (k = 0; k < n; k++) /* cut anywhere: nothing, never a read past the end */
        assert_int_equal(names_from_udp(p, (uint32_t)k, 137, 49152, me, h, NAMES_MAX), 0);
}

/* An mDNS response: a PTR answer, then the host's A record in the additional section. */
static size_t mdns(uint8_t *p, const uint8_t addr[4])
{
    static const uint8_t msg[] = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 1,
                                  /* _printer._tcp.local PTR lab-printer._printer._tcp.local */
                                  8, '_', 'p', 'r', 'i', 'n', 't', 'e', 'r', 4, '_', 't', 'c', 'p',
                                  5, 'l', 'o', 'c', 'a', 'l', 0, 0, 12, 0, 1, 0, 0, 0x11, 0x94, 0,
                                  14, 11, 'l', 'a', 'b', '-', 'p', 'r', 'i', 'n', 't', 'e', 'r',
                                  0xc0, 12,
                                  /* lab-printer.local A addr */
                                  11, 'l', 'a', 'b', '-', 'p', 'r', 'i', 'n', 't', 'e', 'r', 0xc0,
                                  26, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4};

    memcpy(p, msg, sizeof(msg));
    memcpy(p + sizeof(msg), addr, 4);
    return sizeof(msg) + 4;
}

static void test_mdns_and_dns(void **state)
{
    static const uint8_t ptr[] = {0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                                  /* 24.4.0.10.in-addr.arpa PTR */
                                  2, '2', '4', 1, '4', 1, '0', 2, '1', '0', 7, 'i', 'n', '-', 'a',
                                  'd', 'd', 'r', 4, 'a', 'r', 'p', 'a', 0, 0, 12, 0, 1,
                                  /* the answer: emr-db01.hospital.local */
                                  0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 25, 8, 'e', 'm', 'r', '-',
                                  'd', 'b', '0', '1', 8, 'h', 'o', 's', 'p', 'i', 't', 'a', 'l', 5,
                                  'l', 'o', 'c', 'a', 'l', 0};
    struct host_name h[NAMES_MAX];
    uint8_t p[256];
    size_t n;

    (void)state;
    n = mdns(p, me + 12);
    assert_int_equal(names_from_udp(p, (uint32_t)n, 5353, 5353, me, h, NAMES_MAX), 1);
    assert_string_equal(h[0].name, "lab-printer.local");
    assert_int_equal(h[0].source, NAME_MDNS);
    n = mdns(p, (const uint8_t *)"\x0a\x00\x04\x63"); /* about another host: not believed */
    assert_int_equal(names_from_udp(p, (uint32_t)n, 5353, 5353, me, h, NAMES_MAX), 0);
    assert_int_equal(names_from_udp(ptr, sizeof(ptr), 53, 40000, me, h, NAMES_MAX), 1);
    assert_string_equal(h[0].name, "emr-db01.hospital.local");
    assert_int_equal(h[0].source, NAME_DNS);
    assert_memory_equal(h[0].ip, me, 16);
    /* The same to port 53 is a query's place: not read as an answer. */
    assert_int_equal(names_from_udp(ptr, sizeof(ptr), 40000, 53, me, h, NAMES_MAX), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netbios),
        cmocka_unit_test(test_mdns_and_dns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
