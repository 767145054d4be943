/*
 * Detection helpers: the DNS answer parser (annotated messages, compression, every
 * truncation), the answer cache, time zones for maintenance windows, domain patterns of egress
 * allowlists, and the site-config sections that feed detection (egress, maintenance,
 * suppress) with their error positions.
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
#include "mimamori/tz.h"
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
    struct dns_answers a;
    struct dnscache_stats st;
    uint8_t addr[16];

    (void)state;
    assert_int_equal(dnscache_create(&c, 64), 0);
    dnscache_feed(c, response, sizeof(response), 1000000);
    assert_int_equal(zone_parse_addr("203.0.113.7", addr), 0);
    assert_string_equal(dnscache_lookup(c, addr, 2000000), "dl.example.org");
    assert_null(dnscache_lookup(c, addr, 1000000 + (uint64_t)(MM_DNS_CACHE_MAX_S + 1) * 1000000));
    assert_int_equal(zone_parse_addr("203.0.113.8", addr), 0);
    assert_null(dnscache_lookup(c, addr, 2000000));
    dnscache_feed(c, response, 20, 3000000);
    dnscache_get_stats(c, &st);
    assert_int_equal(st.responses, 1);
    assert_int_equal(st.answers, 2);
    assert_int_equal(st.malformed, 1);
    (void)a;
    dnscache_destroy(c);
}

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

static void test_domains(void **state)
{
    (void)state;
    assert_true(config_domain_match("update.vendor.example", "update.vendor.example"));
    assert_true(config_domain_match("update.vendor.example", "UPDATE.Vendor.example."));
    assert_false(config_domain_match("update.vendor.example", "x.update.vendor.example"));
    assert_true(config_domain_match("*.vendor.example", "a.b.vendor.example"));
    assert_false(config_domain_match("*.vendor.example", "vendor.example"));
    assert_false(config_domain_match("*.vendor.example", "evilvendor.example"));
    /* A dot escaped inside a DNS label is not a label boundary; an escaped backslash is. */
    assert_false(config_domain_match("*.vendor.example", "evil\\.vendor.example"));
    assert_true(config_domain_match("*.vendor.example", "a\\\\.vendor.example"));
}

static struct config_diag diag;

static void load_bad(const char *yaml, const char *want)
{
    struct mm_config *c = NULL;

    assert_int_equal(config_load_string("site.yaml", yaml, strlen(yaml), &c, &diag), MM_ECONFIG);
    assert_true(diag.count >= 1);
    assert_string_equal(diag.msg[0], want);
}

static void test_site_sections(void **state)
{
    static const char ok[] = "zones:\n"
                             "  emr:\n"
                             "    networks: [10.1.0.0/16]\n"
                             "    egress: {networks: [192.0.2.0/24], domains: ['*.x.example'],"
                             " protocols: [NTP]}\n"
                             "maintenance:\n"
                             "  timezone: Asia/Tokyo\n"
                             "  windows:\n"
                             "    - {name: w, days: [sat, sun], start: '22:00', end: '02:00',"
                             " sources: [vendor_remote], targets: [emr, 10.2.0.1]}\n"
                             "    - {ticket: CHG-9, start: 2026-11-25T09:00, end: "
                             "2026-11-25T12:00}\n"
                             "suppress:\n"
                             "  - {rule: obsolete.ftp, source: 10.1.0.0/16, port: 21}\n";
    struct mm_config *c = NULL;
    uint8_t a[16];

    (void)state;
    assert_int_equal(config_load_string("site.yaml", ok, sizeof(ok) - 1, &c, &diag), 0);
    assert_non_null(c->egress[config_zone_index(c, "emr")]);
    assert_int_equal(c->nwindows, 2);
    assert_int_equal(c->windows[0].days, 0x41);
    assert_int_equal(c->windows[0].start_min, 22 * 60);
    assert_int_equal(c->windows[1].from_s, 1795564800); /* 09:00 JST = 00:00Z */
    assert_int_equal(c->nsuppress, 1);
    assert_int_equal(zone_parse_addr("10.2.0.1", a), 0);
    assert_true(config_hostset_has(&c->windows[0].targets, a, ZONE_UNZONED));
    assert_int_equal(zone_parse_addr("10.2.0.2", a), 0);
    assert_false(config_hostset_has(&c->windows[0].targets, a, ZONE_UNZONED));
    config_free(c);

    load_bad("zones:\n  emr:\n    networks: [10.1.0.0/16]\n    egress: {domains: ['a..b']}\n",
             "site.yaml:4:24: bad domain 'a..b' (a name, or '*.' and a name for any name "
             "below it)");
    load_bad("zones:\n  emr:\n    networks: [10.1.0.0/16]\n    egress: {protocols: [Gopher2]}\n",
             "site.yaml:4:26: unknown protocol 'Gopher2' (nDPI's protocol names)");
    load_bad("maintenance: {timezone: Asia/Atlantis}\n",
             "site.yaml:1:25: unknown time zone 'Asia/Atlantis' (an Area/City of tzdata, UTC, or "
             "+HH:MM)");
    load_bad("maintenance:\n  windows:\n    - {name: w, days: [tue], start: '25:00', end: "
             "'17:00'}\n",
             "site.yaml:3:37: start of a weekly window must be HH:MM, not '25:00'");
    load_bad("maintenance:\n  windows:\n    - {name: w, start: 2026-11-25T09:00, end: "
             "2026-11-25T12:00}\n",
             "site.yaml:3:7: a one-off window needs the ticket that approved it");
    load_bad("maintenance:\n  windows:\n    - {ticket: T, start: 2026-11-25T09:00, end: "
             "2026-11-25T08:00}\n",
             "site.yaml:3:49: window ends before it starts");
    load_bad("maintenance:\n  windows:\n    - {ticket: T, days: [tue], start: '09:00', end: "
             "'10:00', sources: [ward9]}\n",
             "site.yaml:3:72: unknown zone 'ward9' in sources");
    load_bad("suppress:\n  - {rule: no.such.rule}\n",
             "site.yaml:2:12: suppress names unknown rule 'no.such.rule'");
    load_bad("suppress:\n  - {source: 10.0.0.0/8}\n",
             "site.yaml:2:5: a suppression needs the rule it silences");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_parse),
        cmocka_unit_test(test_dns_hostile),
        cmocka_unit_test(test_dns_label_bytes),
        cmocka_unit_test(test_dns_cache),
        cmocka_unit_test(test_tz),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_site_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
