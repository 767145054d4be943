/*
 * Detection tests: flows built field by field are handed to the detector as the engine would
 * (classified, then ended), and the alerts are read back from a real EVE file. Each rule type
 * is checked on a flow it must match and on its near misses (zones outside the rule's scope,
 * an excepted source, an unanswered attempt); then what happens to a match on the way out:
 * folding of repeats into one alert with their count, suppression by the site, counting rules
 * that fire at their threshold and not before, and a reload that keeps a rule's counters.
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

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/detect.h"
#include "mimamori/error.h"
#include "mimamori/eve.h"
#include "mimamori/output.h"
#include "mimamori/rules.h"

#include "test_util.h"
#include "mimamori/zone.h"

#define S(x) ((uint64_t)(x)*1000000u)
#define T0   S(1795496400) /* 2026-11-24T05:00:00Z, a Tuesday (14:00 in Tokyo) */

#define RULE(key, sid, type, extra)                                                                \
    "  - key: " key "\n"                                                                           \
    "    signature_id: " #sid "\n"                                                                 \
    "    type: " type "\n"                                                                         \
    "    severity: 1\n"                                                                            \
    "    category: Lateral movement\n"                                                             \
    "    signature: " key "\n"                                                                     \
    "    message_ja: テスト\n"                                                                  \
    "    mitre_attack: [T1021]\n"                                                                  \
    "    guideline: MHLW-6.0 SO 13.2\n" extra

static const char rules_yaml[] =
    "rules:\n" RULE("t.lateral", 1, "lateral",
                    "    from: [internal]\n    to: [emr]\n    except_from: [admin]\n"
                    "    protocols: [RDP]\n    dedup: 60s\n")
        RULE("t.egress", 2, "egress", "    from: [emr]\n")
            RULE("t.scan", 3, "scan", "    mode: ports\n    threshold: 5\n    window: 60s\n")
                RULE("t.segment", 4, "segmentation", "    from: [guest]\n    to: [emr]\n")
                    RULE("t.browse", 5, "egress", "    from: [office]\n    fold: source\n");

/* The site, with the rules above in a file of their own (%s), so that suppress is checked. */
static const char site_yaml[] =
    "sensor: {name: t}\n"
    "rules: [%s]\n"
    "zones:\n"
    "  emr: {description: 電子カルテ servers, networks: [10.1.0.0/16]}\n"
    "  office: {networks: [10.2.0.0/16]}\n"
    "  admin: {networks: [10.9.0.0/16]}\n"
    "  guest: {networks: [10.7.0.0/16]}\n"
    "suppress:\n"
    "  - {rule: t.lateral, source: 10.2.0.99}\n";

struct fixture {
    struct mm_config *cfg;
    struct classify *cls;
    struct output *out;
    struct eve *eve;
    struct eve_ctx ctx;
    struct detect *d;
    char path[64], rules_path[64];
};

static struct fixture *open_fixture(void)
{
    struct fixture *x = calloc(1, sizeof(*x));
    static struct config_diag diag;
    char site[1024];
    FILE *f;
    int fd;

    assert_non_null(x);
    strcpy(x->rules_path, "/tmp/mm-detect-rules-XXXXXX");
    assert_true((fd = mkstemp(x->rules_path)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    fputs(rules_yaml, f);
    fclose(f);
    snprintf(site, sizeof(site), site_yaml, x->rules_path);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &x->cfg, &diag), 0);
    assert_int_equal(x->cfg->ruleset->n, 5);
    strcpy(x->path, "/tmp/mm-detect-XXXXXX");
    test_eve_open(x->cfg, x->path, &x->out, &x->eve);
    assert_int_equal(classify_create(&x->cls), 0);
    x->ctx.cfg = x->cfg;
    x->ctx.cls = x->cls;
    assert_int_equal(detect_create(&x->d, x->cfg, x->eve, &x->ctx, NULL), 0);
    return x;
}

/* Finish and close everything; the EVE file's text, its alerts (caller frees). */
static char *close_fixture(struct fixture *x, struct detect_stats *st)
{
    char *text;

    detect_finish(x->d);
    if (st != NULL)
        detect_get_stats(x->d, st);
    detect_destroy(x->d);
    text = test_eve_close(x->out, x->eve, x->path);
    classify_destroy(x->cls);
    unlink(x->rules_path);
    config_free(x->cfg);
    free(x);
    return text;
}

/* A TCP flow from src:sport to dst:dport carrying proto (nDPI's name, or NULL), answered or not. */
static void make_flow(struct flow *f, const char *src, uint16_t sport, const char *dst,
                      uint16_t dport, const char *proto, int answered, uint64_t t)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(zone_parse_addr(src, f->key.addr[0]), 0);
    assert_int_equal(zone_parse_addr(dst, f->key.addr[1]), 0);
    f->key.port[0] = sport;
    f->key.port[1] = dport;
    f->key.proto = 6;
    f->client = 0;
    f->ip_version = 4;
    f->tcp_flags[FLOW_TOSERVER] = 0x02 | (answered ? 0x10 : 0); /* SYN (ACK) */
    f->tcp_flags[FLOW_TOCLIENT] = answered ? 0x12 : 0;          /* SYN-ACK */
    f->pkts[FLOW_TOSERVER] = answered ? 10 : 1;
    f->pkts[FLOW_TOCLIENT] = answered ? 10 : 0;
    f->bytes[FLOW_TOSERVER] = answered ? 2000 : 60;
    f->bytes[FLOW_TOCLIENT] = answered ? 9000 : 0;
    f->first_us = t;
    f->last_us = t + S(1);
    f->state = answered ? FLOW_STATE_ESTABLISHED : FLOW_STATE_NEW;
    if (proto != NULL) {
        int id = classify_lookup_protocol(proto);
        assert_true(id > 0);
        f->app.app = (uint16_t)id;
        f->app.done = 1;
    }
}

/* What the engine does for a flow: its classification is final, then it ends. */
static void flow_life(struct fixture *x, struct flow *f)
{
    detect_flow_event(x->d, FLOW_EV_CLASSIFIED, f, FLOW_END_TIMEOUT);
    detect_flow_event(x->d, FLOW_EV_ENDED, f, FLOW_END_TIMEOUT);
}

static void test_lateral_scope(void **state)
{
    struct fixture *x = open_fixture();
    struct detect_stats st;
    struct flow f;
    char *al;

    (void)state;
    make_flow(&f, "10.2.0.5", 50000, "10.1.0.10", 3389, "RDP", 1, T0); /* office -> emr */
    flow_life(x, &f);
    assert_true(f.flags & FLOW_F_ALERTED);
    make_flow(&f, "10.9.0.5", 50001, "10.1.0.10", 3389, "RDP", 1, T0 + S(1)); /* from admin */
    flow_life(x, &f);
    assert_false(f.flags & FLOW_F_ALERTED);
    make_flow(&f, "10.2.0.5", 50002, "10.2.0.10", 3389, "RDP", 1, T0 + S(2)); /* to office */
    flow_life(x, &f);
    make_flow(&f, "10.2.0.5", 50003, "10.1.0.10", 445, "SMBv23", 1, T0 + S(3)); /* not RDP */
    flow_life(x, &f);
    al = close_fixture(x, &st);
    assert_int_equal(test_count(al, "\"rule\":[\"t.lateral\"]"), 1);
    assert_int_equal(test_count(al, "\"src_ip\":\"10.2.0.5\",\"src_port\":50000"), 1);
    assert_int_equal(test_count(al, "\"src_zone\":[\"office\"],\"dest_zone\":[\"emr\"]"), 1);
    /* the site's words for the zones that have them: the EMR's, not the office's (none) */
    assert_int_equal(test_count(al, "\"dest_zone_description\":[\"電子カルテ servers\"]"), 1);
    assert_int_equal(test_count(al, "src_zone_description"), 0);
    assert_int_equal(st.alerts, 1);
    free(al);
}

static void test_fold_and_suppress(void **state)
{
    struct fixture *x = open_fixture();
    struct detect_stats st;
    struct flow f;
    unsigned i;
    char *al;

    (void)state;
    /* Five connections of one pair within the rule's 60 s dedup: one alert, then its count. */
    for (i = 0; i < 5; i++) {
        make_flow(&f, "10.2.0.5", (uint16_t)(50000 + i), "10.1.0.10", 3389, "RDP", 1,
                  T0 + S(i * 5));
        flow_life(x, &f);
        assert_true(f.flags & FLOW_F_ALERTED); /* folded ones are marked too */
    }
    /* The suppressed source raises nothing, and is counted. */
    make_flow(&f, "10.2.0.99", 50100, "10.1.0.10", 3389, "RDP", 1, T0 + S(30));
    flow_life(x, &f);
    assert_false(f.flags & FLOW_F_ALERTED);
    al = close_fixture(x, &st);
    assert_int_equal(st.suppressed, 1);
    assert_int_equal(st.folded, 4);
    assert_int_equal(test_count(al, "\"rule\":[\"t.lateral\"]"), 2); /* the first, the report */
    assert_int_equal(test_count(al, "\"count\":[\"1\"]"), 1);
    /* The report stands for the four repeats, since the first alert's time. */
    assert_int_equal(test_count(al, "\"count\":[\"4\"]"), 1);
    assert_int_equal(test_count(al, "repeats_since=2026-11-24T05:00:01.000000+0000"), 1);
    assert_int_equal(test_count(al, "10.2.0.99"), 0);
    free(al);
}

static void test_egress(void **state)
{
    struct fixture *x = open_fixture();
    struct flow f;
    char *al;

    (void)state;
    make_flow(&f, "10.1.0.10", 40000, "203.0.113.5", 443, "TLS", 1, T0); /* emr -> internet */
    flow_life(x, &f);
    make_flow(&f, "10.9.0.10", 40001, "203.0.113.5", 443, "TLS", 1, T0); /* admin: no rule */
    flow_life(x, &f);
    make_flow(&f, "10.1.0.10", 40002, "224.0.0.251", 5353, NULL, 1, T0); /* multicast */
    f.key.proto = 17;
    flow_life(x, &f);
    al = close_fixture(x, NULL);
    assert_int_equal(test_count(al, "\"rule\":[\"t.egress\"]"), 1);
    assert_int_equal(test_count(al, "\"dest_ip\":\"203.0.113.5\""), 1);
    assert_int_equal(test_count(al, "zone_allowlist=none"), 1);
    free(al);
}

/* One office host browsing eight internet hosts: one alert that says more may follow, then one
 * report of the seven repeats with the first destinations it reached. */
static void test_fold_by_source(void **state)
{
    struct fixture *x = open_fixture();
    char dst[32];
    struct flow f;
    unsigned i;
    char *al;

    (void)state;
    for (i = 0; i < 8; i++) {
        snprintf(dst, sizeof(dst), "203.0.113.%u", 10 + i);
        make_flow(&f, "10.2.0.7", (uint16_t)(41000 + i), dst, 443, "TLS", 1, T0 + S(i));
        flow_life(x, &f);
    }
    al = close_fixture(x, NULL);
    assert_int_equal(test_count(al, "\"rule\":[\"t.browse\"]"), 2);
    assert_int_equal(test_count(al, "more_from_source=one report after 3600s"), 1);
    assert_int_equal(test_count(al, "\"count\":[\"7\"]"), 1);
    assert_int_equal(test_count(al, "destinations=203.0.113.10,203.0.113.11,203.0.113.12,"
                                    "203.0.113.13,203.0.113.14,..."),
                     1);
    free(al);
}

static void test_scan_threshold(void **state)
{
    struct fixture *x = open_fixture();
    struct flow f;
    unsigned i;
    char *al;

    (void)state;
    /* Four unanswered SYNs to four ports: under the threshold of five. */
    for (i = 0; i < 4; i++) {
        make_flow(&f, "10.2.0.66", 60000, "10.2.0.20", (uint16_t)(20 + i), NULL, 0, T0 + S(i));
        flow_life(x, &f);
    }
    /* An answered connection is no probe, whatever its port. */
    make_flow(&f, "10.2.0.66", 60001, "10.2.0.20", 8080, NULL, 1, T0 + S(5));
    flow_life(x, &f);
    al = close_fixture(x, NULL);
    assert_int_equal(test_count(al, "t.scan"), 0);
    free(al);

    x = open_fixture();
    for (i = 0; i < 5; i++) {
        make_flow(&f, "10.2.0.66", 60000, "10.2.0.20", (uint16_t)(20 + i), NULL, 0, T0 + S(i));
        flow_life(x, &f);
    }
    al = close_fixture(x, NULL);
    assert_int_equal(test_count(al, "\"rule\":[\"t.scan\"]"), 1);
    assert_int_equal(test_count(al, "distinct_ports=5"), 1);
    free(al);
}

static void test_segmentation_after_specific(void **state)
{
    struct fixture *x = open_fixture();
    struct flow f;
    char *al;

    (void)state;
    /* guest -> emr with RDP: the lateral rule matches, so segmentation stays quiet. */
    make_flow(&f, "10.7.0.5", 50000, "10.1.0.10", 3389, "RDP", 1, T0);
    flow_life(x, &f);
    /* guest -> emr with HTTP: only segmentation speaks. */
    make_flow(&f, "10.7.0.5", 50001, "10.1.0.10", 80, "HTTP", 1, T0 + S(1));
    flow_life(x, &f);
    al = close_fixture(x, NULL);
    assert_int_equal(test_count(al, "\"rule\":[\"t.lateral\"]"), 1);
    assert_int_equal(test_count(al, "\"rule\":[\"t.segment\"]"), 1);
    assert_int_equal(test_count(al, "\"dest_port\":80"), 1);
    free(al);
}

static void test_reload_keeps_counters(void **state)
{
    struct fixture *x = open_fixture();
    struct flow f;
    unsigned i;
    char *al;

    (void)state;
    for (i = 0; i < 3; i++) {
        make_flow(&f, "10.2.0.66", 60000, "10.2.0.20", (uint16_t)(20 + i), NULL, 0, T0 + S(i));
        flow_life(x, &f);
    }
    /* The same ruleset again: t.scan keeps its three ports, so two more reach five. */
    assert_int_equal(detect_reload(x->d, x->cfg), 0);
    for (i = 3; i < 5; i++) {
        make_flow(&f, "10.2.0.66", 60000, "10.2.0.20", (uint16_t)(20 + i), NULL, 0, T0 + S(i));
        flow_life(x, &f);
    }
    al = close_fixture(x, NULL);
    assert_int_equal(test_count(al, "distinct_ports=5"), 1);
    free(al);
}

/* A config with one intel rule and one feed holding `feed`; the rule file and feed in files. */
static struct mm_config *intel_config(const char *feed, char *rules, char *list)
{
    static struct config_diag diag;
    struct mm_config *c;
    char site[1024];
    FILE *f = fopen(rules, "w");

    fputs("rules:\n" RULE("t.intel", 6, "intel", ""), f);
    fclose(f);
    f = fopen(list, "w");
    fputs(feed, f);
    fclose(f);
    snprintf(site, sizeof(site),
             "rules: [%s]\nintel:\n  - {name: t, path: %s, severity: 1, category: Exfiltration}\n",
             rules, list);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &c, &diag), 0);
    return c;
}

/*
 * A flow still open when the indicators change is looked up again at its next event: classified
 * against a feed without its server, then the feed holds it (a reload), and the flow's end
 * raises the alert, with the feed's severity and category. A flow already matched is not
 * looked up again.
 */
static void test_intel_reload(void **state)
{
    char rules[] = "/tmp/mm-intel-rules-XXXXXX", list[] = "/tmp/mm-intel-list-XXXXXX",
         path[] = "/tmp/mm-intel-eve-XXXXXX";
    struct mm_config *before, *after;
    struct classify *cls;
    struct output *out;
    struct eve *eve;
    struct eve_ctx ctx = {0};
    struct detect *d;
    struct flow f, g;
    char *al;

    (void)state;
    close(mkstemp(rules));
    close(mkstemp(list));
    before = intel_config("192.0.2.1\n", rules, list);
    after = intel_config("192.0.2.1\n198.51.100.9  # the test's C2\n", rules, list);
    assert_int_not_equal(before->intel_gen, after->intel_gen);
    test_eve_open(before, path, &out, &eve);
    assert_int_equal(classify_create(&cls), 0);
    ctx.cfg = before;
    ctx.cls = cls;
    assert_int_equal(detect_create(&d, before, eve, &ctx, NULL), 0);
    make_flow(&f, "10.2.0.5", 50000, "198.51.100.9", 443, "TLS", 1, T0);
    detect_flow_event(d, FLOW_EV_CLASSIFIED, &f, FLOW_END_TIMEOUT);
    assert_int_equal(detect_reload(d, after), 0);
    ctx.cfg = after;
    make_flow(&g, "10.2.0.6", 50001, "198.51.100.9", 443, "TLS", 1, T0 + S(1));
    detect_flow_event(d, FLOW_EV_CLASSIFIED, &g, FLOW_END_TIMEOUT);
    detect_flow_event(d, FLOW_EV_ENDED, &g, FLOW_END_TIMEOUT);
    detect_flow_event(d, FLOW_EV_ENDED, &f, FLOW_END_TIMEOUT);
    detect_finish(d);
    detect_destroy(d);
    al = test_eve_close(out, eve, path);
    classify_destroy(cls);
    assert_int_equal(test_count(al, "indicator=198.51.100.9"), 2);
    assert_int_equal(test_count(al, "\"src_ip\":\"10.2.0.5\""), 1);
    assert_int_equal(test_count(al, "\"src_ip\":\"10.2.0.6\""), 1);
    assert_int_equal(test_count(al, "\"severity\":1"), 2);
    assert_int_equal(test_count(al, "\"category\":\"Exfiltration\""), 2);
    assert_int_equal(test_count(al, "description=the test's C2"), 2);
    free(al);
    config_free(before);
    config_free(after);
    unlink(rules);
    unlink(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intel_reload),
        cmocka_unit_test(test_lateral_scope),
        cmocka_unit_test(test_fold_and_suppress),
        cmocka_unit_test(test_egress),
        cmocka_unit_test(test_fold_by_source),
        cmocka_unit_test(test_scan_threshold),
        cmocka_unit_test(test_segmentation_after_specific),
        cmocka_unit_test(test_reload_keeps_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
