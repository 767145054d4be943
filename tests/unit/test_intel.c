/*
 * The indicator table on feed files written here in the three formats: what each line or
 * object becomes, what each lookup finds (addresses, networks, names under a domain, URLs with
 * and without their query, hashes with separators), validity ends at load and at lookup,
 * duplicates across feeds, and a broken feed failing whole with its file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/intel.h"
#include "mimamori/zone.h"

#define NOW 1795478400 /* 2026-11-24T00:00:00Z */

static char *feed_file(const char *text)
{
    static char path[64];
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/test_intel_XXXXXX");
    f = fdopen(mkstemp(path), "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static int load(struct intel *in, unsigned feed, const char *text, struct intel_load_stats *st,
                char *err)
{
    char *path = feed_file(text);
    int rc = intel_load(in, feed, path, INTEL_AUTO, NOW, st, err, 256);

    unlink(path);
    return rc;
}

static int addr(const struct intel *in, const char *a, struct intel_hit *h)
{
    uint8_t b[16];
    unsigned plen;
    const char *why;

    assert_int_equal(zone_parse_cidr(a, b, &plen, &why), 0);
    return intel_match_addr(in, b, NOW, h);
}

static void test_plain(void **state)
{
    struct intel *in;
    struct intel_load_stats st;
    struct intel_hit h;
    char err[256];

    (void)state;
    assert_int_equal(intel_create(&in), 0);
    assert_int_equal(load(in, 0,
                          "# JPCERT/CC list\n"
                          "198.51.100.7   # Emotet C2\n"
                          "\n"
                          "203.0.113.0/24\n"
                          "2001:db8::66\n"
                          "Evil.Example.\n"
                          "*.wild.example\n"
                          "http://bad.example/dl/x.exe\n"
                          "E7D705A3286E19EA42F587B344EE6865\n"
                          "3f:2a:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11\n",
                          &st, err),
                     0);
    assert_int_equal(st.loaded, 8);
    assert_int_equal(intel_count(in), 8);
    assert_int_equal(addr(in, "198.51.100.7", &h), 1);
    assert_int_equal(h.line, 2);
    assert_string_equal(h.description, "Emotet C2");
    assert_int_equal(h.type, INTEL_IP);
    assert_int_equal(addr(in, "198.51.100.8", &h), 0);
    assert_int_equal(addr(in, "203.0.113.200", &h), 1);
    assert_int_equal(h.type, INTEL_NET);
    assert_int_equal(addr(in, "2001:db8::66", &h), 1);
    assert_int_equal(intel_match_domain(in, "evil.example", NOW, &h), 1);
    assert_int_equal(intel_match_domain(in, "cdn.EVIL.example.", NOW, &h), 1);
    assert_string_equal(h.value, "Evil.Example.");
    assert_int_equal(intel_match_domain(in, "notevil.example", NOW, &h), 0);
    assert_int_equal(intel_match_domain(in, "example", NOW, &h), 0);
    assert_int_equal(intel_match_domain(in, "a.wild.example", NOW, &h), 1);
    assert_int_equal(intel_match_url(in, "BAD.example/dl/x.exe?session=1", NOW, &h), 1);
    assert_int_equal(intel_match_url(in, "bad.example/dl/y.exe", NOW, &h), 0);
    assert_int_equal(intel_match_hash(in, INTEL_JA3, "e7d705a3286e19ea42f587b344ee6865", NOW, &h),
                     1);
    assert_int_equal(
        intel_match_hash(in, INTEL_CERT_SHA1, "3F2A00112233445566778899AABBCCDDEEFF0011", NOW, &h),
        1);
    assert_int_equal(intel_match_hash(in, INTEL_JA3, "3f2a00112233445566778899aabbccdd", NOW, &h),
                     0);

    /* a typo fails the feed whole, with its line; what was there stays */
    assert_int_equal(load(in, 1, "192.0.2.1\nnot an indicator!\n", &st, err), MM_EINVAL);
    assert_non_null(strstr(err, ":2: not an address"));
    assert_int_equal(intel_count(in), 8);
    assert_int_equal(addr(in, "192.0.2.1", &h), 0);
    assert_int_equal(addr(in, "198.51.100.7", &h), 1);
    /* a country's or a public suffix would match whole countries */
    assert_int_equal(load(in, 1, "co.jp\n", &st, err), MM_EINVAL);
    assert_non_null(strstr(err, ":1: 'co.jp': a top-level or public suffix"));
    assert_int_equal(load(in, 1, "jp\n", &st, err), MM_EINVAL);
    assert_int_equal(load(in, 1, "hospital.co.jp\nexample.jp\n", &st, err), 0);
    intel_destroy(in);
}

static void test_misp(void **state)
{
    struct intel *in;
    struct intel_load_stats st;
    struct intel_hit h;
    char err[256];

    (void)state;
    assert_int_equal(intel_create(&in), 0);
    assert_int_equal(
        load(in, 0,
             "uuid,event_id,category,type,value,comment,to_ids,date\n"
             "5f1c-1,12,Network activity,ip-dst|port,192.0.2.10|8443,\"C2, stage 2\",1,1700000000\n"
             "5f1c-2,12,Network activity,domain|ip,c2.example|192.0.2.11,,1,1700000000\n"
             "5f1c-3,12,Network activity,url,https://c2.example/gate.php,,True,1700000000\n"
             "5f1c-4,12,Network activity,ip-src,192.0.2.12,not for IDS,0,1700000000\n"
             "5f1c-5,12,Payload delivery,md5,d41d8cd98f00b204e9800998ecf8427e,,1,1700000000\n"
             "5f1c-6,12,Network activity,ja3-fingerprint-md5,\"e7d705a3286e19ea42f587b344ee6865\""
             ",,1,1700000000\n",
             &st, err),
        0);
    assert_int_equal(st.loaded, 5);
    assert_int_equal(st.skipped, 2); /* to_ids 0, md5 */
    assert_int_equal(addr(in, "192.0.2.10", &h), 1);
    assert_string_equal(h.description, "C2, stage 2");
    assert_string_equal(h.id, "5f1c-1");
    assert_int_equal(h.line, 2);
    assert_int_equal(addr(in, "192.0.2.11", &h), 1);
    assert_int_equal(intel_match_domain(in, "c2.example", NOW, &h), 1);
    assert_int_equal(intel_match_url(in, "https://c2.example/gate.php", NOW, &h), 1);
    assert_int_equal(addr(in, "192.0.2.12", &h), 0);
    assert_int_equal(load(in, 1, "uuid,type,value\n1,domain,\"open.example\n", &st, err),
                     MM_EINVAL);
    assert_non_null(strstr(err, ":2: a quoted field"));
    intel_destroy(in);
}

static void test_stix(void **state)
{
    struct intel *in;
    struct intel_load_stats st;
    struct intel_hit h;
    char err[256];

    (void)state;
    assert_int_equal(intel_create(&in), 0);
    assert_int_equal(
        load(
            in, 0,
            "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[\n"
            "{\"type\":\"indicator\",\"id\":\"indicator--a\",\"name\":\"Cobalt Strike\","
            "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '198.51.100.20'] OR "
            "[domain-name:value = 'cs.example']\",\"valid_until\":\"2027-01-01T00:00:00Z\"},\n"
            "{\"type\":\"indicator\",\"id\":\"indicator--b\",\"description\":\"old\","
            "\"pattern\":\"[ipv4-addr:value = '198.51.100.21']\","
            "\"valid_until\":\"2026-01-01T00:00:00.000Z\"},\n"
            "{\"type\":\"indicator\",\"id\":\"indicator--c\",\"pattern\":"
            "\"[ipv4-addr:value = '198.51.100.22' AND network-traffic:dst_port = 443]\"},\n"
            "{\"type\":\"indicator\",\"id\":\"indicator--d\",\"revoked\":true,"
            "\"pattern\":\"[ipv4-addr:value = '198.51.100.23']\"},\n"
            "{\"type\":\"indicator\",\"id\":\"indicator--e\",\"pattern\":"
            "\"[x509-certificate:hashes.'SHA-1' = '0011223344556677889900112233445566778899']\"},\n"
            "{\"type\":\"indicator\",\"id\":\"indicator--f\",\"pattern_type\":\"sigma\","
            "\"pattern\":\"title: x\"},\n"
            "{\"type\":\"indicator\",\"id\":\"indicator--g\",\"pattern\":"
            "\"[ipv4-addr:value = 'not-an-address'] OR [domain-name:value = 'com']\"},\n"
            "{\"type\":\"malware\",\"id\":\"malware--1\",\"name\":\"x\"}]}\n",
            &st, err),
        0);
    assert_int_equal(st.loaded, 3);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.skipped, 5); /* AND, revoked, sigma, and two values not what they say */
    assert_int_equal(addr(in, "198.51.100.20", &h), 1);
    assert_string_equal(h.id, "indicator--a");
    assert_string_equal(h.description, "Cobalt Strike");
    assert_int_equal(h.line, 0);
    assert_int_equal(intel_match_domain(in, "x.cs.example", NOW, &h), 1);
    assert_int_equal(intel_match_domain(in, "x.cs.example", 1798761600 + 1, &h), 0); /* 2027 */
    assert_int_equal(addr(in, "198.51.100.21", &h), 0);
    assert_int_equal(addr(in, "198.51.100.22", &h), 0);
    assert_int_equal(intel_match_hash(in, INTEL_CERT_SHA1,
                                      "00:11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:88:99",
                                      NOW, &h),
                     1);
    assert_int_equal(load(in, 1, "{\"type\":\"bundle\",\n\"objects\":[}\n", &st, err), MM_EINVAL);
    assert_non_null(strstr(err, ":2: "));
    intel_destroy(in);
}

/* The same indicator in two feeds: the first still valid answers. */
static void test_duplicates(void **state)
{
    struct intel *in;
    struct intel_load_stats st;
    struct intel_hit h;
    char err[256];

    (void)state;
    assert_int_equal(intel_create(&in), 0);
    assert_int_equal(load(in, 0,
                          "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":"
                          "\"indicator--x\",\"pattern\":\"[domain-name:value = 'dup.example']\","
                          "\"valid_until\":\"2026-12-01T00:00:00Z\"}]}",
                          &st, err),
                     0);
    assert_int_equal(load(in, 1, "dup.example # from the second feed\n", &st, err), 0);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(intel_match_domain(in, "dup.example", NOW, &h), 1);
    assert_int_equal(h.feed, 0);
    assert_int_equal(intel_match_domain(in, "dup.example", NOW + 30 * 86400, &h), 1);
    assert_int_equal(h.feed, 1);
    assert_true(intel_memory(in) > 0);
    intel_destroy(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_misp),
        cmocka_unit_test(test_stix),
        cmocka_unit_test(test_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
