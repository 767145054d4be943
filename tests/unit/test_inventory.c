/*
 * The inventory on flows, ARP and DHCP fed by hand: internal addresses only, a server's
 * answered services (not its clients'), MAC and name from DHCP, MAC from ARP, the table's
 * cap, and the JSON lines written (fields, order by address, no vendor without a registry);
 * end of support judged at the packet's date; the CSV for spreadsheets.
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
#include <jansson.h>

#include "test_util.h"

#include "mimamori/config.h"
#include "mimamori/inventory.h"

static const char site[] = "home_networks: [10.0.0.0/8]\n"
                           "zones:\n"
                           "  medical_devices: {networks: [10.30.0.0/16]}\n"
                           "  clinical: {networks: [10.20.0.0/16]}\n";

/* A flow from cli to srv:port ended; answered: the server's SYN-ACK and data came back. */
static void flow_end(struct inventory *inv, const char *cli, const char *srv, uint16_t port,
                     int answered, uint64_t t)
{
    struct flow f;

    memset(&f, 0, sizeof(f));
    test_addr4(f.key.addr[0], cli);
    test_addr4(f.key.addr[1], srv);
    f.key.port[0] = 50000, f.key.port[1] = port;
    f.key.proto = 6;
    f.client = 0;
    f.tcp_flags[FLOW_TOSERVER] = TCP_SYN | TCP_ACK;
    f.tcp_flags[FLOW_TOCLIENT] = answered ? TCP_SYN | TCP_ACK : TCP_RST;
    f.pkts[0] = 4, f.pkts[1] = 3;
    f.bytes[0] = 400, f.bytes[1] = 300;
    f.first_us = t, f.last_us = t + 1000;
    inventory_flow_event(inv, FLOW_EV_ENDED, &f, FLOW_END_TIMEOUT);
}

static void test_inventory(void **state)
{
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct inventory *inv;
    struct inventory_stats st;
    struct dhcp_msg m;
    uint8_t ip[16], mac[6] = {0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42};
    char path[] = "/tmp/test_inv_XXXXXX", err[256], line[2048];
    json_t *o;
    FILE *fp;

    (void)state;
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(inventory_create(&inv, 3), 0);
    inventory_set_config(inv, cfg);
    flow_end(inv, "10.20.0.5", "10.30.3.21", 104, 1, 1000000); /* a PACS query to a CT */
    flow_end(inv, "10.20.0.5", "10.30.3.21", 104, 1, 2000000);
    flow_end(inv, "10.20.0.5", "10.30.3.21", 23, 0, 3000000);     /* refused: no service */
    flow_end(inv, "10.20.0.5", "93.184.216.34", 443, 1, 4000000); /* internet: no device */
    memset(&m, 0, sizeof(m));
    test_addr4(m.ip, "10.30.3.21");
    m.has_ip = m.has_mac = 1;
    memcpy(m.mac, mac, 6);
    strcpy(m.hostname, "CT-3F");
    inventory_dhcp(inv, &m, 500000);
    test_addr4(ip, "10.20.0.5");
    inventory_arp(inv, ip, (const uint8_t[6]){0x02, 0, 0, 0, 0, 1}, 900000);
    test_addr4(ip, "10.40.0.9"); /* a third device: the cap is 3, so the fourth is dropped */
    inventory_arp(inv, ip, mac, 1);
    test_addr4(ip, "10.40.0.10");
    inventory_arp(inv, ip, mac, 1);
    inventory_get_stats(inv, &st);
    assert_int_equal(st.devices, 3);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(mkstemp(path) >= 0, 1);
    assert_int_equal(inventory_write(inv, NULL, path, INVENTORY_JSON, err, sizeof(err)), 0);
    fp = fopen(path, "r");
    assert_non_null(fgets(line, sizeof(line), fp)); /* 10.20.0.5 first: ordered by address */
    o = json_loads(line, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "ip")), "10.20.0.5");
    assert_string_equal(json_string_value(json_object_get(o, "zone")), "clinical");
    assert_string_equal(json_string_value(json_object_get(o, "mac")), "02:00:00:00:00:01");
    assert_int_equal(json_array_size(json_object_get(o, "services")), 0); /* a client only */
    /* Sent over its four flows, the one to the internet included. */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "bytes"), "sent")),
                     4 * 400);
    json_decref(o);
    assert_non_null(fgets(line, sizeof(line), fp));
    o = json_loads(line, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "ip")), "10.30.3.21");
    assert_string_equal(json_string_value(json_object_get(o, "zone")), "medical_devices");
    assert_string_equal(json_string_value(json_object_get(o, "mac")), "00:0b:82:01:fc:42");
    assert_true(json_is_null(json_object_get(o, "vendor"))); /* no registry given */
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "names"), 0)), "CT-3F");
    assert_string_equal(json_string_value(json_object_get(o, "first_seen")),
                        "1970-01-01T00:00:00.500000+0000");
    assert_int_equal(json_array_size(json_object_get(o, "services")), 1); /* 104, not 23 */
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(o, "services"), 0), "port")),
                     104);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(o, "services"), 0), "flows")),
                     2);
    json_decref(o);
    fclose(fp);
    unlink(path);
    inventory_destroy(inv);
    config_free(cfg);
}

struct found {
    unsigned n;
    char product[64], value[64];
    uint16_t port; /* of the flow it was reported with */
};

static void on_finding(void *ud, const struct inventory_finding *fd)
{
    struct found *fo = ud;
    unsigned i;

    fo->n++;
    for (i = 0; i < fd->nevidence; i++) { /* "product=...", "dhcp_vendor=..." */
        if (strncmp(fd->evidence[i], "product=", 8) == 0)
            snprintf(fo->product, sizeof(fo->product), "%s", fd->evidence[i] + 8);
        if (strncmp(fd->evidence[i], "dhcp_vendor=", 12) == 0)
            snprintf(fo->value, sizeof(fo->value), "%s", fd->evidence[i] + 12);
    }
    fo->port = fd->f->key.port[1];
}

/*
 * End of support from a DHCP vendor class (the shipped table's Windows 98 entry): judged by the
 * packet's date, not today's; found outside a flow, reported once, with the device's next flow.
 */
static void test_end_of_support(void **state)
{
    static const uint64_t y2005 = 1104537600ull * 1000000u, y2007 = 1167609600ull * 1000000u;
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct inventory *inv;
    struct found fo = {0};
    struct dhcp_msg m;
    char path[] = "/tmp/test_inv_XXXXXX", err[256], line[2048];
    json_t *o, *eos;
    FILE *fp;

    (void)state;
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(inventory_create(&inv, 16), 0);
    inventory_set_config(inv, cfg);
    inventory_set_outputs(inv, on_finding, &fo, NULL, NULL);
    memset(&m, 0, sizeof(m));
    m.has_ip = 1;
    strcpy(m.vendor_class, "MSFT 98");
    test_addr4(m.ip, "10.20.0.7"); /* in 2005 Windows 98 was still supported */
    inventory_dhcp(inv, &m, y2005);
    flow_end(inv, "10.20.0.7", "10.30.3.21", 104, 1, y2005 + 1000000);
    assert_int_equal(fo.n, 0);
    test_addr4(m.ip, "10.20.0.8"); /* in 2007 it was not */
    inventory_dhcp(inv, &m, y2007);
    inventory_dhcp(inv, &m, y2007 + 1);
    assert_int_equal(fo.n, 0); /* no flow yet to report it with */
    flow_end(inv, "10.20.0.8", "10.30.3.21", 104, 1, y2007 + 2000000);
    flow_end(inv, "10.20.0.8", "10.30.3.21", 443, 1, y2007 + 3000000);
    assert_int_equal(fo.n, 1); /* once per device */
    assert_int_equal(fo.port, 104);
    assert_string_equal(fo.product, "Windows 98 / Me");
    assert_string_equal(fo.value, "MSFT 98");
    assert_int_equal(mkstemp(path) >= 0, 1);
    assert_int_equal(inventory_write(inv, NULL, path, INVENTORY_JSON, err, sizeof(err)), 0);
    fp = fopen(path, "r");
    assert_non_null(fgets(line, sizeof(line), fp));
    o = json_loads(line, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "ip")), "10.20.0.7");
    assert_null(json_object_get(o, "end_of_support"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "software"), "dhcp_vendor")),
        "MSFT 98");
    json_decref(o);
    assert_non_null(fgets(line, sizeof(line), fp));
    o = json_loads(line, 0, NULL);
    eos = json_object_get(o, "end_of_support");
    assert_string_equal(json_string_value(json_object_get(eos, "ended")), "2006-07-11");
    assert_string_equal(json_string_value(json_object_get(eos, "hint")), "dhcp_vendor");
    json_decref(o);
    fclose(fp);
    unlink(path);
    inventory_destroy(inv);
    config_free(cfg);
}

/* The CSV for Excel: BOM, header, CRLF, quoting, and a host name that starts like a formula. */
static void test_csv(void **state)
{
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct inventory *inv;
    struct dhcp_msg m;
    char path[] = "/tmp/test_inv_XXXXXX", err[256], buf[4096];
    size_t n;
    FILE *fp;

    (void)state;
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(inventory_create(&inv, 16), 0);
    inventory_set_config(inv, cfg);
    memset(&m, 0, sizeof(m));
    m.has_ip = 1;
    test_addr4(m.ip, "10.20.0.9");
    strcpy(m.hostname, "=HYPERLINK(\"x\")");
    strcpy(m.fqdn, "pc9.example,jp");
    inventory_dhcp(inv, &m, 1000000);
    flow_end(inv, "10.20.0.5", "10.20.0.9", 445, 1, 2000000);
    assert_int_equal(mkstemp(path) >= 0, 1);
    assert_int_equal(inventory_write(inv, NULL, path, INVENTORY_CSV, err, sizeof(err)), 0);
    fp = fopen(path, "rb");
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    unlink(path);
    assert_int_equal(strncmp(buf, "\xef\xbb\xbfip,mac,name,zone,owner,vendor,names,", 39), 0);
    assert_non_null(strstr(buf, "bytes_received\r\n10.20.0.5,,,clinical,"));
    /* The name led by an apostrophe, then quoted for its quotes; the list quoted for a comma. */
    assert_non_null(strstr(buf, "\r\n10.20.0.9,,\"'=HYPERLINK(\"\"x\"\")\",clinical,,,"
                                "\"'=HYPERLINK(\"\"x\"\"); pc9.example,jp\",TCP/445 Unknown,"));
    assert_int_equal(buf[n - 2], '\r');
    inventory_destroy(inv);
    config_free(cfg);
}

/*
 * The state file: a table saved and loaded into a new one is the same table (its JSON lines
 * equal); lines that do not parse are skipped and counted; a file of another kind is refused.
 */
static void test_state(void **state)
{
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct inventory *a, *b;
    struct dhcp_msg m;
    char st[] = "/tmp/test_inv_XXXXXX", pa[] = "/tmp/test_inv_XXXXXX",
         pb[] = "/tmp/test_inv_XXXXXX";
    char err[256], la[8192], lb[8192];
    unsigned loaded, skipped;
    size_t na, nb;
    FILE *fp;

    (void)state;
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(inventory_create(&a, 16), 0);
    inventory_set_config(a, cfg);
    memset(&m, 0, sizeof(m));
    m.has_ip = m.has_mac = 1;
    test_addr4(m.ip, "10.30.3.21");
    memcpy(m.mac, "\x00\x0b\x82\x01\xfc\x42", 6);
    strcpy(m.hostname, "CT-3F");
    strcpy(m.fqdn, "ct-3f.hospital.local");
    strcpy(m.vendor_class, "MSFT 98");
    strcpy(m.params, "1,15,3,6");
    inventory_dhcp(a, &m, 1167609600ull * 1000000u); /* 2007: Windows 98 past its support */
    flow_end(a, "10.20.0.5", "10.30.3.21", 104, 1, 1167609601ull * 1000000u);
    flow_end(a, "10.20.0.5", "10.30.3.21", 104, 1, 1167609602ull * 1000000u);
    assert_int_equal(mkstemp(st) >= 0 && mkstemp(pa) >= 0 && mkstemp(pb) >= 0, 1);
    assert_int_equal(inventory_save(a, st, err, sizeof(err)), 0);
    fp = fopen(st, "a"); /* a line cut short and one that is no device: skipped */
    fputs("{\"ip\":\"10.20.0.77\",\"t\":[5,\n{\"ip\":\"not an address\"}\n", fp);
    fclose(fp);
    assert_int_equal(inventory_create(&b, 16), 0);
    inventory_set_config(b, cfg);
    assert_int_equal(inventory_load(b, st, &loaded, &skipped, err, sizeof(err)), 0);
    assert_int_equal(loaded, 2);
    assert_int_equal(skipped, 2);
    assert_int_equal(inventory_write(a, NULL, pa, INVENTORY_JSON, err, sizeof(err)), 0);
    assert_int_equal(inventory_write(b, NULL, pb, INVENTORY_JSON, err, sizeof(err)), 0);
    fp = fopen(pa, "r");
    na = fread(la, 1, sizeof(la) - 1, fp);
    fclose(fp);
    fp = fopen(pb, "r");
    nb = fread(lb, 1, sizeof(lb) - 1, fp);
    fclose(fp);
    la[na] = lb[nb] = '\0';
    assert_string_equal(la, lb);
    assert_non_null(strstr(lb, "\"end_of_support\":{\"product\":\"Windows 98 / Me\""));
    assert_non_null(strstr(lb, "\"names\":[\"CT-3F\",\"ct-3f.hospital.local\"]"));
    /* A missing file is a first start; another kind of file is refused. */
    unlink(pa);
    assert_int_equal(inventory_load(b, pa, &loaded, &skipped, err, sizeof(err)), 0);
    assert_int_equal(loaded + skipped, 0);
    assert_int_equal(inventory_load(b, pb, &loaded, &skipped, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "not a Mimamori inventory state"));
    unlink(st);
    unlink(pb);
    inventory_destroy(a);
    inventory_destroy(b);
    config_free(cfg);
}

/* A full table: the eighth of its devices silent the longest leave to make room. */
static void test_aging(void **state)
{
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct inventory *inv;
    struct inventory_stats st;
    char ip[32], path[] = "/tmp/test_inv_XXXXXX", err[256], line[2048];
    unsigned i, old = 0;
    FILE *fp;

    (void)state;
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(inventory_create(&inv, 64), 0);
    inventory_set_config(inv, cfg);
    for (i = 0; i < 64; i++) { /* 10.20.0.0-63, seen at times 1000 + i seconds, and a server */
        snprintf(ip, sizeof(ip), "10.20.0.%u", i);
        flow_end(inv, ip, "10.30.0.1", 104, 0, (1000ull + i) * 1000000u);
    }
    /* Full at 10.20.0.62 (the server and 0-61: 63, no room for two more): 0-7 left. */
    inventory_get_stats(inv, &st);
    assert_int_equal(st.aged, 8);
    assert_int_equal(st.devices, 64 - 1 - 8 + 2);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(mkstemp(path) >= 0, 1);
    assert_int_equal(inventory_write(inv, NULL, path, INVENTORY_JSON, err, sizeof(err)), 0);
    fp = fopen(path, "r");
    while (fgets(line, sizeof(line), fp) != NULL)
        for (i = 0; i <= 8; i++) {
            snprintf(ip, sizeof(ip), "\"ip\":\"10.20.0.%u\"", i);
            old += (strstr(line, ip) != NULL) << i;
        }
    fclose(fp);
    unlink(path);
    assert_int_equal(old, 1u << 8); /* 10.20.0.8 stayed, 0-7 left */
    inventory_destroy(inv);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inventory), cmocka_unit_test(test_end_of_support),
        cmocka_unit_test(test_csv),       cmocka_unit_test(test_state),
        cmocka_unit_test(test_aging),
    };

    return setenv("TZ", "UTC", 1) == 0 ? cmocka_run_group_tests(tests, NULL, NULL) : 1;
}
