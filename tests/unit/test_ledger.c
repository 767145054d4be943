/*
 * The ledger's CSV as spreadsheets write it: a byte order mark, CRLF, quoted fields with
 * commas, doubled quotes and a line break; columns found by their header in any order and
 * case; rows found by address and by MAC; Japanese names cut whole; and each problem at its
 * file:line:col, every row checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/config.h"
#include "mimamori/ledger.h"
#include "mimamori/zone.h"

static struct mm_config *cfg;
static struct config_diag diag;

static int setup(void **state)
{
    static const char site[] = "home_networks: [10.0.0.0/8]\n"
                               "zones:\n"
                               "  medical_devices: {networks: [10.30.0.0/16]}\n"
                               "  emr: {networks: [10.1.0.0/16]}\n";

    (void)state;
    return config_load_string("site.yaml", site, strlen(site), &cfg, &diag);
}

static int teardown(void **state)
{
    (void)state;
    config_free(cfg);
    return 0;
}

static void test_parse(void **state)
{
    static const char text[] =
        "\xef\xbb\xbfOwner,NAME,zone,Address,MAC,notes\r\n"
        "放射線部,\"CT-3F, 本体\",medical_devices,10.30.3.21,00:0B:82:01:FC:42,\r\n"
        "\r\n"
        "医療情報部,\"EMR \"\"main\"\"\",emr,10.1.0.10,,\"two\r\nlines\"\r\n"
        ",laptop,,,aa-bb-cc-dd-ee-ff,\n";
    struct ledger *l;
    const struct ledger_entry *e;
    uint8_t ip[16], mac[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

    (void)state;
    assert_int_equal(ledger_parse("ledger.csv", text, sizeof(text) - 1, cfg, &l, &diag), 0);
    assert_int_equal(ledger_count(l), 3);
    assert_int_equal(ledger_mac_only(l), 1);
    assert_int_equal(zone_parse_addr("10.30.3.21", ip), 0);
    e = ledger_by_ip(l, ip);
    assert_non_null(e);
    assert_string_equal(e->name, "CT-3F, 本体");
    assert_string_equal(e->owner, "放射線部");
    assert_int_equal(e->zone, config_zone_index(cfg, "medical_devices"));
    assert_memory_equal(e->mac, "\x00\x0b\x82\x01\xfc\x42", 6);
    assert_int_equal(e->line, 2);
    assert_int_equal(zone_parse_addr("10.1.0.10", ip), 0);
    e = ledger_by_ip(l, ip);
    assert_string_equal(e->name, "EMR \"main\"");
    assert_int_equal(e->line, 4);
    e = ledger_by_mac(l, mac);
    assert_non_null(e);
    assert_string_equal(e->name, "laptop");
    assert_int_equal(e->line, 6); /* the quoted line break counted */
    assert_int_equal(e->zone, -1);
    assert_int_equal(zone_parse_addr("10.1.0.11", ip), 0);
    assert_null(ledger_by_ip(l, ip));
    ledger_free(l);
}

/* A name longer than the field keeps whole characters: valid UTF-8 for the events. */
static void test_cut(void **state)
{
    char text[512] = "ip,name\n10.30.0.1,";
    struct ledger *l;
    uint8_t ip[16];
    size_t n;
    int i;

    (void)state;
    for (i = 0; i < 30; i++)
        strcat(text, "機"); /* 3 bytes each: 90 bytes, more than the 63 kept */
    strcat(text, "\n");
    assert_int_equal(ledger_parse("l.csv", text, strlen(text), cfg, &l, &diag), 0);
    assert_int_equal(zone_parse_addr("10.30.0.1", ip), 0);
    n = strlen(ledger_by_ip(l, ip)->name);
    assert_int_equal(n, 63 - 63 % 3);
    ledger_free(l);
}

static void test_errors(void **state)
{
    static const char bad[] = "ip,mac,zone\n"
                              "10.30.0.300,,medical_devices\n"
                              "10.30.0.1,00:11:22:33:44,medical_devices\n"
                              "10.30.0.2,,wards\n"
                              ",,emr\n"
                              "10.30.0.3,\"open\n";
    struct ledger *l;

    (void)state;
    diag.count = 0;
    assert_int_equal(ledger_parse("l.csv", bad, sizeof(bad) - 1, cfg, &l, &diag), MM_ECONFIG);
    assert_null(l);
    assert_int_equal(diag.count, 5);
    assert_string_equal(diag.msg[0], "l.csv:2:1: bad address '10.30.0.300' in the ledger");
    assert_string_equal(diag.msg[1],
                        "l.csv:3:11: bad MAC '00:11:22:33:44' in the ledger (aa:bb:cc:dd:ee:ff)");
    assert_string_equal(diag.msg[2], "l.csv:4:12: unknown zone 'wards' in the ledger");
    assert_string_equal(diag.msg[3], "l.csv:5:1: a ledger row needs an ip or a mac");
    assert_string_equal(diag.msg[4], "l.csv:6:1: a quote is never closed");
    diag.count = 0;
    assert_int_equal(ledger_parse("l.csv", "name,owner\nx,y\n", 15, cfg, &l, &diag), MM_ECONFIG);
    assert_string_equal(diag.msg[0], "l.csv:1:1: the ledger's first row must name its columns "
                                     "(ip or address, mac, name, zone, owner, vendor)");
    diag.count = 0;
    assert_int_equal(ledger_load("/nonexistent/l.csv", cfg, &l, &diag), MM_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
