/*
 * The DNS module: the answer parser (annotated messages, compression, every truncation, bytes
 * in labels that are escaped as RFC 1035 writes them) and the answer cache that names the
 * addresses later connections go to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/config.h"
#include "mimamori/dnscache.h"
#include "mimamori/error.h"
#include "mimamori/zone.h"

/* Response to "dl.example.org A": one CNAME, one A, one AAAA; names compressed. */
static const uint8_t response[] = {
    0x12, 0x34, 0x81, 0x80,                     /* id, QR=1 RD RA, rcode 0 */
    0x00, 0x01, 0x00, 0x03, 0,    0,    0,   0, /* 1 question, 3 answers */
    2,    'd',  'l',  7,    'e',  'x',  'a', 'm', 'p', 'l', 'e',  3,    'o',  'r',  'g',  0, /* @12
                                                                                              */
    0x00, 0x01, 0x00, 0x01,                                             /* A, IN */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0,   0,   0,   60,  0x00, 0x05, /* CNAME, rdlen 5 */
    2,    'c',  'd',  0xc0, 0x0f,                                       /* cd.example.org */
    0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0,   0,   0,   60,  0x00, 0x04, 203,  0,    113,  7, /* A */
    0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0,   0,   0,   60,  0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0,
    0,    0,    0,    0,    0,    0,    0,   0,   0,   0,   1, /* AAAA 2001:db8::1 */
};

static void test_dns_parse(void **state)
{
    struct dns_answers a;
    char s[48];
    size_t i;

    (void)state;
    assert_int_equal(dnscache_parse(response, sizeof(response), &a), 1);
    assert_string_equal(a.qname, "dl.example.org");
    assert_int_equal(a.n, 2);
    assert_string_equal(zone_addr_str(a.addr[0], s, sizeof(s)), "203.0.113.7");
    assert_string_equal(zone_addr_str(a.addr[1], s, sizeof(s)), "2001:db8::1");
    /* Every truncation is malformed or, when cut inside the answers, never reads beyond. */
    for (i = 0; i < sizeof(response); i++)
        assert_true(dnscache_parse(response, i, &a) <= 1);
    for (i = 0; i < 12; i++)
        assert_int_equal(dnscache_parse(response, i, &a), MM_EINVAL);
}

static void test_dns_hostile(void **state)
{
    uint8_t m[sizeof(response)];
    struct dns_answers a;

    (void)state;
    /* A query is not an answer. */
    memcpy(m, response, sizeof(m));
    m[2] = 0x01;
    assert_int_equal(dnscache_parse(m, sizeof(m), &a), 0);
    /* A compression pointer to itself loops: refused, not followed forever. */
    memcpy(m, response, sizeof(m));
    m[12] = 0xc0;
    m[13] = 0x0c;
    assert_int_equal(dnscache_parse(m, sizeof(m), &a), MM_EINVAL);
    /* rdlength past the end. */
    memcpy(m, response, sizeof(m));
    m[sizeof(m) - 17] = 0xff;
    assert_int_equal(dnscache_parse(m, sizeof(m), &a), MM_EINVAL);
}

/* A response for the name made of labels (each given with its length), with one A answer. */
static size_t response_for(uint8_t *m, const char *const *labels, const size_t *lens)
{
    static const uint8_t hdr[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
    static const uint8_t answer[] = {0, 1, 0, 1,  0xc0, 0x0c, 0,   1,  0,   1,
                                     0, 0, 0, 60, 0,    4,    198, 51, 100, 9};
    size_t n = sizeof(hdr), i;

    memcpy(m, hdr, n);
    for (i = 0; labels[i] != NULL; i++) {
        m[n++] = (uint8_t)lens[i];
        memcpy(m + n, labels[i], lens[i]);
        n += lens[i];
    }
    m[n++] = 0;
    memcpy(m + n, answer, sizeof(answer));
    return n + sizeof(answer);
}

/*
 * Label bytes that are not a hostname's are escaped as RFC 1035 writes them, so the name cannot
 * read as another: a NUL once cut "update.vendor.example\0.attacker.test" to an allowlisted
 * name, and the attacker's address would have been cached under it.
 */
static void test_dns_label_bytes(void **state)
{
    const char *attack[] = {"update", "vendor", "example\0", "attacker", "test", NULL};
    const size_t attack_len[] = {6, 6, 8, 8, 4};
    const char *odd[] = {"a.b", "c\\d", "E\x7f", "x y", NULL};
    const size_t odd_len[] = {3, 3, 2, 3};
    char big[63];
    const char *huge[] = {big, big, NULL};
    const size_t huge_len[] = {63, 63};
    uint8_t m[512];
    struct dns_answers a;
    size_t n;

    (void)state;
    n = response_for(m, attack, attack_len);
    assert_int_equal(dnscache_parse(m, n, &a), 1);
    assert_string_equal(a.qname, "update.vendor.example\\000.attacker.test");
    assert_int_equal(a.n, 1);
    assert_false(config_domain_match("update.vendor.example", a.qname));
    assert_false(config_domain_match("*.vendor.example", a.qname));
    n = response_for(m, odd, odd_len);
    assert_int_equal(dnscache_parse(m, n, &a), 1);
    assert_string_equal(a.qname, "a\\.b.c\\\\d.e\\127.x\\032y");
    /* 126 bytes that each take four characters: longer than a name can be, refused. */
    memset(big, 0x01, sizeof(big));
    n = response_for(m, huge, huge_len);
    assert_int_equal(dnscache_parse(m, n, &a), MM_EINVAL);
}

static void test_dns_cache(void **state)
{
    struct dnscache *c;
    struct dns_answers a, parsed;
    struct dnscache_stats st;
    uint8_t addr[16];

    (void)state;
    assert_int_equal(dnscache_create(&c, 64), 0);
    assert_int_equal(dnscache_feed(c, response, sizeof(response), 1000000, &parsed), 1);
    assert_int_equal(parsed.n, 2); /* what it read, for the intel rules */
    assert_int_equal(zone_parse_addr("203.0.113.7", addr), 0);
    assert_string_equal(dnscache_lookup(c, addr, 2000000), "dl.example.org");
    assert_null(dnscache_lookup(c, addr, 1000000 + (uint64_t)(MM_DNS_CACHE_MAX_S + 1) * 1000000));
    assert_int_equal(zone_parse_addr("203.0.113.8", addr), 0);
    assert_null(dnscache_lookup(c, addr, 2000000));
    dnscache_feed(c, response, 20, 3000000, &parsed);
    dnscache_get_stats(c, &st);
    assert_int_equal(st.responses, 1);
    assert_int_equal(st.answers, 2);
    assert_int_equal(st.malformed, 1);
    (void)a;
    dnscache_destroy(c);
}

/* The question as sent: case and every byte kept (escaped), for queries and responses alike. */
static void test_question(void **state)
{
    /* From a DNS tunnel (tshark: "H4sICN03*2QAA3Rlc3QudHh0....test.txt"), cut short here. */
    static const char *const tunnel[] = {"H4sI*Q==-", "4S2F", "test", "txt", NULL};
    static const size_t tunnel_len[] = {9, 4, 4, 3};
    static const char *const odd[] = {"A\001b", "Example", NULL};
    static const size_t odd_len[] = {3, 7};
    char name[DNS_NAME_MAX];
    uint8_t m[512];
    size_t n;

    (void)state;
    n = response_for(m, tunnel, tunnel_len);
    assert_int_equal(dnscache_question(m, n, name), 0);
    assert_string_equal(name, "H4sI*Q==-.4S2F.test.txt");
    m[2] = 0x01; /* the query: QR clear, RD set */
    assert_int_equal(dnscache_question(m, n, name), 0);
    assert_string_equal(name, "H4sI*Q==-.4S2F.test.txt");
    n = response_for(m, odd, odd_len);
    assert_int_equal(dnscache_question(m, n, name), 0);
    assert_string_equal(name, "A\\001b.Example");
    m[2] = 0x28; /* opcode 5, UPDATE: its zone section is no question */
    assert_int_equal(dnscache_question(m, n, name), MM_EINVAL);
    assert_string_equal(name, "");
    assert_int_equal(dnscache_question(m, 16, name), MM_EINVAL); /* cut in the name */
}

/* Queries read byte for byte, registered domains, and names that carry data. */
static void test_query_shape(void **state)
{
    static const char *const raw[] = {"a\xbc\x00.b", "pirate", "sea", NULL};
    static const size_t raw_len[] = {5, 6, 3};
    char name[DNS_NAME_MAX];
    uint16_t qtype = 0;
    uint8_t m[512];
    size_t n = response_for(m, raw, raw_len);

    (void)state;
    assert_int_equal(dnscache_query(m, n, name, &qtype), MM_EINVAL); /* a response */
    m[2] = 0x01;
    assert_int_equal(dnscache_query(m, n, name, &qtype), 0);
    assert_int_equal(qtype, 1);
    assert_string_equal(name, "a\xbc??b.pirate.sea"); /* NUL and dot in a label: '?' */
    assert_int_equal(dnscache_registered("www.example.com"), 4);
    assert_int_equal(dnscache_registered("example.com"), 0);
    assert_int_equal(dnscache_registered("www.city.okayama.jp"), 9);
    assert_int_equal(dnscache_registered("a.b.example.co.jp"), 4);
    assert_int_equal(dnscache_registered("co.jp"), 0);
    assert_int_equal(dnscache_registered("host.example.com."), 5);
    assert_int_equal(dnscache_registered("dnscat.546b03f5.5a03b5b1e1aa"), -1); /* no TLD */
    assert_int_equal(dnscache_registered("x.xn--wgv71a"), 0);
    /*
     * 40 base32 characters carry data; so, by this measure, does a long host name (the rule
     * counts distinct names per domain); one letter repeated and an address do not.
     */
    assert_int_equal(
        dnscache_data_chars(
            "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dz.t.evil.example",
            dnscache_registered("mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dz.t.evil.example")),
        41);
    assert_int_equal(dnscache_data_chars("czfe105.front01.iad01.production.nest.com", 33), 29);
    assert_int_equal(dnscache_data_chars("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com", 35), 0);
    assert_int_equal(dnscache_data_chars("4.3.2.1.zen.spamhaus.org", 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_parse),       cmocka_unit_test(test_dns_hostile),
        cmocka_unit_test(test_dns_label_bytes), cmocka_unit_test(test_dns_cache),
        cmocka_unit_test(test_question),        cmocka_unit_test(test_query_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
