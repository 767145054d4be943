/*
 * The communication baseline fed by hand: one edge per client, server and service, broadcasts
 * and transit left out, a full table counts what it leaves out; and the config it proposes,
 * loaded back with the config loader: office PCs zone their subnet, servers are listed alone in
 * infrastructure and as the approved services, a closed zone's egress is allowlisted, devices
 * with no role stay unzoned, and the running config's zones are kept.
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

#include "test_util.h"

#include "mimamori/baseline.h"
#include "mimamori/config.h"
#include "mimamori/inventory.h"
#include "mimamori/zone.h"

/* A flow from cli to srv:port (proto 6 or 17) ended; answered: the server replied. */
static void flow(struct flow *f, const char *cli, const char *srv, uint8_t proto, uint16_t port,
                 int answered, uint64_t t)
{
    memset(f, 0, sizeof(*f));
    test_addr4(f->key.addr[0], cli);
    test_addr4(f->key.addr[1], srv);
    f->key.port[0] = 50000, f->key.port[1] = port;
    f->key.proto = proto;
    f->client = 0;
    if (proto == 6) {
        f->tcp_flags[FLOW_TOSERVER] = TCP_SYN | TCP_ACK;
        f->tcp_flags[FLOW_TOCLIENT] = answered ? TCP_SYN | TCP_ACK : TCP_RST;
    }
    f->pkts[0] = 3, f->pkts[1] = answered ? 2 : 0;
    f->first_us = t, f->last_us = t + 1000;
}

static void test_edges(void **state)
{
    static const char site[] = "home_networks: [10.0.0.0/8]\n";
    struct config_diag diag = {0};
    struct baseline_stats st;
    struct mm_config *cfg;
    struct baseline *b;
    struct flow f;

    (void)state;
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(baseline_create(&b, 3), 0);
    flow(&f, "10.0.0.5", "10.0.0.6", 6, 445, 1, 1000000);
    baseline_flow_ended(b, cfg, NULL, &f);
    flow(&f, "10.0.0.5", "10.0.0.6", 6, 445, 1, 5000000); /* the same edge again */
    baseline_flow_ended(b, cfg, NULL, &f);
    flow(&f, "10.0.0.5", "224.0.0.251", 17, 5353, 0, 2000000); /* multicast: nobody's peer */
    baseline_flow_ended(b, cfg, NULL, &f);
    flow(&f, "198.51.100.1", "203.0.113.9", 6, 443, 1, 2000000); /* transit */
    baseline_flow_ended(b, cfg, NULL, &f);
    baseline_get_stats(b, &st);
    assert_int_equal(st.edges, 1);
    assert_int_equal(st.first_us, 1000000);
    assert_int_equal(st.last_us, 5001000);
    flow(&f, "10.0.0.5", "10.0.0.6", 6, 139, 1, 6000000); /* another service: another edge */
    baseline_flow_ended(b, cfg, NULL, &f);
    flow(&f, "10.0.0.7", "203.0.113.9", 6, 443, 1, 6000000);
    baseline_flow_ended(b, cfg, NULL, &f);
    flow(&f, "10.0.0.8", "203.0.113.9", 6, 443, 1, 6000000); /* the table is full */
    baseline_flow_ended(b, cfg, NULL, &f);
    baseline_get_stats(b, &st);
    assert_int_equal(st.edges, 3);
    assert_int_equal(st.dropped, 1);
    baseline_destroy(b);
    config_free(cfg);
}

/* The zone the loaded proposal gives ip, by name. */
static const char *zone_of(const struct mm_config *c, const char *ip)
{
    uint8_t a[16];

    test_addr4(a, ip);
    return config_zone_name(c, config_zone_of(c, a));
}

/* Propose from the flows of feed() under the running config site; the proposal loaded back. */
static struct mm_config *propose(const char *site, void (*feed)(struct inventory *), char *text,
                                 size_t len)
{
    struct config_diag diag = {0};
    struct mm_config *cfg, *out = NULL;
    struct inventory *inv;
    struct baseline *b;
    char path[] = "/tmp/test_baseline_XXXXXX", err[256];
    FILE *fp;
    size_t n;
    int fd;

    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    assert_int_equal(inventory_create(&inv, 64), 0);
    assert_int_equal(baseline_create(&b, 256), 0);
    inventory_set_config(inv, cfg);
    inventory_set_baseline(inv, b);
    feed(inv);
    assert_true((fd = mkstemp(path)) >= 0);
    close(fd);
    assert_int_equal(baseline_propose(b, inv, cfg, path, err, sizeof(err)), 0);
    assert_non_null(fp = fopen(path, "r"));
    n = fread(text, 1, len - 1, fp);
    text[n] = '\0';
    fclose(fp);
    if (config_load_file(path, &out, &diag) != 0)
        fail_msg("the proposal does not load:\n%s", text);
    unlink(path);
    baseline_destroy(b);
    inventory_destroy(inv);
    config_free(cfg);
    return out;
}

static void end(struct inventory *inv, const char *cli, const char *srv, uint8_t proto,
                uint16_t port)
{
    struct flow f;

    flow(&f, cli, srv, proto, port, 1, 1700000000000000ull);
    inventory_flow_event(inv, FLOW_EV_ENDED, &f, FLOW_END_TIMEOUT);
}

static void small_site(struct inventory *inv)
{
    static const char *const pcs[] = {"10.20.1.10", "10.20.1.11", "10.20.1.12"};
    static const char *const sites[] = {"203.0.113.1", "198.51.100.1", "192.0.2.1"};
    unsigned i, j;

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 3; j++) /* web sites: office PCs */
            end(inv, pcs[i], sites[j], 6, 443);
        end(inv, pcs[i], "10.20.1.53", 17, 53); /* their resolver */
        end(inv, pcs[i], "10.30.2.5", 6, 88);   /* their domain controller */
    }
    end(inv, "10.20.1.53", "198.51.100.53", 17, 53); /* the resolver asks upstream */
    end(inv, "10.40.1.7", "10.40.1.8", 6, 9100);     /* neither has a role */
    end(inv, "10.10.1.5", "10.20.1.53", 17, 53);
}

static void test_propose(void **state)
{
    static char text[65536];
    struct mm_config *c;
    uint8_t a[16];
    int infra;

    (void)state;
    c = propose("home_networks: [10.0.0.0/8]\n", small_site, text, sizeof(text));
    assert_string_equal(zone_of(c, "10.20.1.10"), "office");
    assert_string_equal(zone_of(c, "10.20.1.200"), "office"); /* the subnet, not only the PCs */
    assert_string_equal(zone_of(c, "10.20.1.53"), "infrastructure");
    assert_string_equal(zone_of(c, "10.30.2.5"), "infrastructure");
    assert_string_equal(zone_of(c, "10.30.2.6"), "unzoned"); /* one server: alone */
    assert_string_equal(zone_of(c, "10.40.1.7"), "unzoned");
    test_addr4(a, "10.20.1.53");
    assert_true(config_is_service(c, SVC_DNS, a));
    test_addr4(a, "10.30.2.5");
    assert_true(config_is_service(c, SVC_DC, a));
    infra = config_zone_index(c, "infrastructure");
    assert_non_null(c->egress[infra]);
    test_addr4(a, "198.51.100.53");
    assert_true(zone_map_lookup(c->egress[infra]->nets, a) >= 0);
    assert_null(c->egress[config_zone_index(c, "office")]); /* office is not closed */
    if (strstr(text, "10.20.1.53/32  # answers DNS; answered 4 flows") == NULL)
        fail_msg("no evidence for the resolver:\n%s", text);
    config_free(c);

    /* A site with zones: they stay, the rest is proposed around them. */
    c = propose("home_networks: [10.0.0.0/8]\n"
                "local_domains: [hospital.local]\n"
                "zones:\n  emr: {networks: [10.10.1.0/24]}\n",
                small_site, text, sizeof(text));
    assert_string_equal(zone_of(c, "10.10.1.99"), "emr");
    assert_string_equal(zone_of(c, "10.20.1.11"), "office");
    assert_int_equal(c->nlocal_domains, 1);
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_propose),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
