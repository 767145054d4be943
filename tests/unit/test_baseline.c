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
#include "mimamori/rules.h"
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

    /* A site with zones: they stay, the rest is proposed around them; its name and local
     * domains carry over. */
    c = propose("sensor: {name: \"it's core-1\"}\n"
                "home_networks: [10.0.0.0/8]\n"
                "local_domains: [hospital.local]\n"
                "zones:\n  emr: {description: 'EMR ''A''', networks: [10.10.1.0/24]}\n",
                small_site, text, sizeof(text));
    assert_string_equal(zone_of(c, "10.10.1.99"), "emr");
    assert_string_equal(zone_of(c, "10.20.1.11"), "office");
    assert_int_equal(c->nlocal_domains, 1);
    assert_string_equal(c->sensor_name, "it's core-1"); /* quoted as YAML wants */
    assert_string_equal(c->zone_desc[config_zone_index(c, "emr")], "EMR 'A'");
    config_free(c);
}

/* Judge a flow (zones cz, sz) at minute m of a 60-minute learning period; 1 when news. */
static int judge(struct baseline *b, enum baseline_check c, const char *cli, const char *srv,
                 uint16_t port, int cz, int sz, const char *name, unsigned m,
                 struct baseline_verdict *v)
{
    struct flow f;

    flow(&f, cli, srv, 6, port, 1, 1700000000000000ull + (uint64_t)m * 60000000ull);
    baseline_judge(b, c, &f, cz, sz, name, 3600000000ull, v);
    return v->news;
}

/* The baseline saved, and loaded into a new one in its place, as across a restart. */
static void saved_again(struct baseline **b)
{
    char path[] = "/tmp/test_learned_XXXXXX", err[256];
    struct baseline *again;
    unsigned loaded, skipped;
    FILE *fp;
    int fd;

    assert_true((fd = mkstemp(path)) >= 0);
    close(fd);
    assert_int_equal(baseline_save(*b, path, err, sizeof(err)), 0);
    assert_int_equal(baseline_create(&again, 1024), 0);
    assert_int_equal(baseline_load(again, path, &loaded, &skipped, err, sizeof(err)), 0);
    assert_true(loaded > 20);
    assert_int_equal(skipped, 0);
    baseline_destroy(*b);
    *b = again;
    assert_non_null(fp = fopen(path, "w")); /* not a baseline state: refused, said why */
    fputs("{\"format\":\"something else\"}\n", fp);
    fclose(fp);
    assert_int_equal(baseline_create(&again, 16), 0);
    assert_int_equal(baseline_load(again, path, &loaded, &skipped, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "not a Mimamori baseline state"));
    baseline_destroy(again);
    unlink(path);
}

static void test_judge(void **state)
{
    struct baseline_verdict v;
    struct baseline *b;
    char pc[16];
    unsigned i;

    (void)state;
    assert_int_equal(baseline_create(&b, 1024), 0);
    /* Learning: the CT (zone 3) stores on the PACS (zone 2); nine ward PCs (zone 4) use the
     * EMR's web service (zone 5); two PCs of the office (zone 6) one of its other services. */
    assert_false(judge(b, BASELINE_NEW_PEER, "10.3.0.20", "10.2.0.5", 104, 3, 2, NULL, 0, &v));
    assert_true(v.learning);
    for (i = 0; i < 9; i++) {
        snprintf(pc, sizeof(pc), "10.4.0.%u", 10 + i);
        judge(b, BASELINE_NEW_PEER, pc, "10.1.0.10", 443, 4, 5, NULL, 1, &v);
        judge(b, BASELINE_NEW_SERVICE, pc, "10.1.0.10", 443, 4, 5, NULL, 1, &v);
    }
    judge(b, BASELINE_NEW_PEER, "10.6.0.1", "10.1.0.10", 8443, 6, 5, NULL, 2, &v);
    judge(b, BASELINE_NEW_PEER, "10.6.0.2", "10.1.0.10", 8443, 6, 5, NULL, 2, &v);
    judge(b, BASELINE_NEW_DESTINATION, "10.3.0.20", "203.0.113.5", 443, 3, 0,
          "api.ct-vendor.example", 3, &v);
    judge(b, BASELINE_NEW_DESTINATION, "10.3.0.21", "198.51.100.7", 443, 3, 0, NULL, 3, &v);
    /* After: what was learned is not news; new things are, once. */
    assert_false(judge(b, BASELINE_NEW_PEER, "10.3.0.20", "10.2.0.5", 104, 3, 2, NULL, 61, &v));
    assert_false(v.learning);
    assert_int_equal(v.from_us, 1700000000000000ull);
    assert_int_equal(v.until_us, 1700000000000000ull + 3600000000ull);
    assert_true(judge(b, BASELINE_NEW_PEER, "10.3.0.20", "10.4.0.50", 9100, 3, 4, NULL, 62, &v));
    assert_int_equal(v.learned, 0);      /* nobody used that printer port while learning */
    assert_int_equal(v.client_peers, 1); /* the CT had one peer: the PACS */
    assert_false(judge(b, BASELINE_NEW_PEER, "10.3.0.20", "10.4.0.50", 9100, 3, 4, NULL, 63, &v));
    /* The EMR's web service had nine ward PCs: a tenth is not news, an office PC is; its other
     * service had two office PCs, too few to stand for the zone. */
    assert_false(judge(b, BASELINE_NEW_PEER, "10.4.0.99", "10.1.0.10", 443, 4, 5, NULL, 64, &v));
    assert_true(judge(b, BASELINE_NEW_PEER, "10.6.0.9", "10.1.0.10", 443, 6, 5, NULL, 64, &v));
    assert_int_equal(v.learned, 9); /* the clients the baseline had */
    assert_true(judge(b, BASELINE_NEW_PEER, "10.6.0.3", "10.1.0.10", 8443, 6, 5, NULL, 65, &v));
    /* Services: 443 and 8443 were offered, 22 was not. */
    assert_false(judge(b, BASELINE_NEW_SERVICE, "10.4.0.10", "10.1.0.10", 443, 4, 5, NULL, 66, &v));
    assert_true(judge(b, BASELINE_NEW_SERVICE, "10.4.0.10", "10.1.0.10", 22, 4, 5, NULL, 66, &v));
    assert_int_equal(v.learned, 2); /* 443 and 8443 */
    /* Sites: another host of the vendor's domain is not news, nor a site another CT of the zone
     * used; a new site is. */
    assert_false(judge(b, BASELINE_NEW_DESTINATION, "10.3.0.20", "203.0.113.99", 443, 3, 0,
                       "update.ct-vendor.example", 67, &v));
    assert_false(
        judge(b, BASELINE_NEW_DESTINATION, "10.3.0.20", "198.51.100.8", 443, 3, 0, NULL, 67, &v));
    assert_true(judge(b, BASELINE_NEW_DESTINATION, "10.3.0.20", "192.0.2.44", 443, 3, 0,
                      "files.example", 68, &v));
    assert_int_equal(v.learned, 1);
    saved_again(&b);
    /* After a restart: what was learned, and what was reported, is known; the period stays. */
    assert_false(judge(b, BASELINE_NEW_PEER, "10.3.0.20", "10.4.0.50", 9100, 3, 4, NULL, 70, &v));
    assert_int_equal(v.from_us, 1700000000000000ull);
    assert_false(judge(b, BASELINE_NEW_DESTINATION, "10.3.0.20", "192.0.2.44", 443, 3, 0,
                       "files.example", 70, &v));
    assert_true(judge(b, BASELINE_NEW_SERVICE, "10.4.0.10", "10.1.0.10", 23, 4, 5, NULL, 70, &v));
    assert_int_equal(v.learned, 3); /* 443, 8443 and 22 */
    baseline_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_propose),
        cmocka_unit_test(test_judge),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
