/*
 * The external connections list fed by hand: only flows between an internal and an outside
 * address count; direction by who opened the flow; devices listed (8) then counted; nDPI's
 * RemoteAccess category marks remote access; a full table lets the silent longest go; the file
 * lists the party seen last first.
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

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/connections.h"

static const char site[] = "home_networks: [10.0.0.0/8]\n";

static void flow(struct connections *c, const struct mm_config *cfg, const char *cli,
                 const char *srv, uint16_t proto, uint16_t category, uint64_t t)
{
    struct flow f;

    memset(&f, 0, sizeof(f));
    test_addr4(f.key.addr[0], cli);
    test_addr4(f.key.addr[1], srv);
    f.key.port[0] = 50000, f.key.port[1] = 443;
    f.key.proto = 6;
    f.bytes[0] = 100, f.bytes[1] = 1000;
    f.first_us = t, f.last_us = t + 1000;
    f.app.master = proto;
    f.app.category = category;
    connections_flow_ended(c, cfg, NULL, &f);
}

static json_t *line(FILE *fp)
{
    char buf[4096];

    assert_non_null(fgets(buf, sizeof(buf), fp));
    return json_loads(buf, 0, NULL);
}

static void test_connections(void **state)
{
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct connections *c;
    struct connections_stats st;
    char path[] = "/tmp/test_conn_XXXXXX", err[256], ip[32], buf[1024];
    int tls = classify_lookup_protocol("TLS"), rdp = classify_lookup_protocol("RDP");
    int remote = classify_lookup_category("RemoteAccess");
    json_t *o;
    FILE *fp;
    unsigned i;

    (void)state;
    assert_true(tls > 0 && rdp > 0 && remote > 0);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(connections_create(&c, 16), 0);
    flow(c, cfg, "10.0.0.5", "10.0.0.6", (uint16_t)tls, 0, 1000000);        /* inside: not listed */
    flow(c, cfg, "198.51.100.1", "203.0.113.9", (uint16_t)tls, 0, 1000000); /* transit */
    for (i = 0; i < 10; i++) { /* ten PCs to one cloud service */
        snprintf(ip, sizeof(ip), "10.0.0.%u", 10 + i);
        flow(c, cfg, ip, "203.0.113.10", (uint16_t)tls, 0, 2000000 + i);
    }
    flow(c, cfg, "198.51.100.7", "10.0.0.20", (uint16_t)rdp, (uint16_t)remote, 3000000);
    connections_get_stats(c, &st);
    assert_int_equal(st.parties, 2);
    assert_int_equal(mkstemp(path) >= 0, 1);
    assert_int_equal(connections_write(c, path, CONNECTIONS_JSON, err, sizeof(err)), 0);
    fp = fopen(path, "r");
    o = line(fp); /* the party seen last first: the remote desktop from outside */
    assert_string_equal(json_string_value(json_object_get(o, "ip")), "198.51.100.7");
    assert_string_equal(json_string_value(json_object_get(o, "direction")), "inbound");
    assert_true(json_is_true(json_object_get(o, "remote_access")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "devices"), 0)),
                        "10.0.0.20");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "bytes"), "from_party")),
                     100);
    json_decref(o);
    o = line(fp);
    assert_string_equal(json_string_value(json_object_get(o, "direction")), "outbound");
    assert_false(json_is_true(json_object_get(o, "remote_access")));
    assert_int_equal(json_array_size(json_object_get(o, "devices")), CONNECTIONS_MAX_DEVICES);
    assert_int_equal(json_integer_value(json_object_get(o, "more_devices")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "flows"), "outbound")),
                     10);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "protocols"), 0)),
                        "TLS");
    json_decref(o);
    fclose(fp);
    /* As CSV: a byte order mark, the header, one CRLF row per party, lists joined. */
    assert_int_equal(connections_write(c, path, CONNECTIONS_CSV, err, sizeof(err)), 0);
    fp = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof(buf), fp));
    assert_memory_equal(buf, "\xef\xbb\xbfip,names,protocols,direction,remote_access,",
                        sizeof("\xef\xbb\xbfip,names,protocols,direction,remote_access,") - 1);
    assert_non_null(strstr(buf, ",more_devices\r\n"));
    assert_non_null(fgets(buf, sizeof(buf), fp));
    assert_memory_equal(buf, "198.51.100.7,,RDP,inbound,yes,",
                        sizeof("198.51.100.7,,RDP,inbound,yes,") - 1);
    assert_non_null(strstr(buf, ",10.0.0.20,0\r\n"));
    assert_non_null(fgets(buf, sizeof(buf), fp));
    assert_non_null(strstr(buf, ",10.0.0.10; 10.0.0.11; 10.0.0.12; 10.0.0.13; 10.0.0.14; "
                                "10.0.0.15; 10.0.0.16; 10.0.0.17,2\r\n"));
    assert_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    /* A full table (16): the two silent longest go to make room. */
    for (i = 0; i < 15; i++) {
        snprintf(ip, sizeof(ip), "192.0.2.%u", i);
        flow(c, cfg, "10.0.0.5", ip, (uint16_t)tls, 0, 4000000 + i);
    }
    connections_get_stats(c, &st);
    assert_int_equal(st.aged, 2);
    assert_int_equal(st.parties, 15);
    unlink(path);
    connections_destroy(c);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connections),
    };

    return setenv("TZ", "UTC", 1) == 0 ? cmocka_run_group_tests(tests, NULL, NULL) : 1;
}
