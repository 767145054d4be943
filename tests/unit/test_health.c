/*
 * Sensor health tests: each check fed with the samples the engine would give it, its alerts
 * read back from a real EVE file: a condition alerts once when it begins, folds while it holds,
 * reminds after its dedup period and starts a new episode after it ended; windows with too
 * little to go by give no verdict; live-only checks stay silent on files; a reload keeps the
 * state of a rule of the same key. Also the rule-file errors of the health type.
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

#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/eve.h"
#include "mimamori/health.h"
#include "mimamori/output.h"
#include "mimamori/rules.h"

#include "test_util.h"

#define S(x) ((uint64_t)(x)*1000000u)

#define RULE(key, sid, check, extra)                                                               \
    "  - key: " key "\n"                                                                           \
    "    signature_id: " #sid "\n"                                                                 \
    "    type: health\n"                                                                           \
    "    check: " check "\n"                                                                       \
    "    severity: 2\n"                                                                            \
    "    category: Sensor health\n"                                                                \
    "    signature: " key "\n"                                                                     \
    "    message_ja: テスト\n"                                                                  \
    "    guideline: MHLW-6.0 SO 13.2\n" extra

static const char rules_yaml[] = "rules:\n" RULE("h.silence", 1, "silence",
                                                 "    window: 10s\n    dedup: 60s\n")
    RULE("h.one_way", 2, "one_way", "    window: 10s\n    threshold: 100\n    percent: 50\n")
        RULE("h.loss", 3, "upstream_loss", "    window: 10s\n    threshold: 100\n    percent: 5\n")
            RULE("h.drops", 4, "drops", "    window: 10s\n    threshold: 100\n    percent: 1\n")
                RULE("h.clock", 5, "clock", "    tolerance: 5s\n    dedup: 60s\n");

struct fixture {
    struct mm_config *cfg;
    struct output *out;
    struct eve *eve;
    struct eve_ctx ctx;
    struct health *h;
    char path[64];
    struct flow_ack_stats ack;
    struct health_sample s; /* one interface: s.ifc[0] */
};

static struct fixture *open_fixture(int live)
{
    static const char site[] = "sensor: {name: t}\n";
    struct fixture *x = calloc(1, sizeof(*x));
    struct config_diag diag = {0};
    struct ruleset *rs;

    assert_non_null(x);
    assert_int_equal(config_load_string("site.yaml", site, sizeof(site) - 1, &x->cfg, &diag), 0);
    assert_int_equal(
        rules_load_string(x->cfg, "h.yaml", rules_yaml, sizeof(rules_yaml) - 1, &rs, &diag), 0);
    rules_free(x->cfg->ruleset);
    x->cfg->ruleset = rs;
    strcpy(x->path, "/tmp/mm-health-XXXXXX");
    test_eve_open(x->cfg, x->path, &x->out, &x->eve);
    x->ctx.cfg = x->cfg;
    x->ctx.ifaces[0] = "mirror0";
    x->ctx.nifaces = live ? 1 : 0;
    assert_int_equal(health_create(&x->h, x->cfg, x->eve, &x->ctx, live), 0);
    x->s.n = 1;
    x->s.ifc[0].ack = &x->ack;
    return x;
}

/* Close everything and return the EVE file's text (caller frees). */
static char *close_fixture(struct fixture *x)
{
    char *text;

    health_destroy(x->h);
    text = test_eve_close(x->out, x->eve, x->path);
    config_free(x->cfg);
    free(x);
    return text;
}

static void sample(struct fixture *x, uint64_t t_s)
{
    x->s.now_us = S(t_s);
    health_sample(x->h, &x->s);
}

static void test_silence(void **state)
{
    struct fixture *x = open_fixture(1);
    struct health_stats st;
    uint64_t t;
    char *text;

    (void)state;
    x->s.ifc[0].packets = 5;
    for (t = 1000; t <= 1009; t++) /* silent, but not yet for 10 s */
        sample(x, t);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 0);
    for (; t <= 1059; t++) /* silent for 10 s, then folded until the 60 s dedup has passed */
        sample(x, t);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 1);
    assert_int_equal(st.active, 1);
    for (; t <= 1070; t++) /* a reminder once the dedup period has passed */
        sample(x, t);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 2);
    x->s.ifc[0].packets = 6; /* traffic again: over */
    sample(x, t++);
    health_get_stats(x->h, &st);
    assert_int_equal(st.active, 0);
    for (; t <= 1085; t++) /* and a new episode starts with its own alert */
        sample(x, t);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 3);
    text = close_fixture(x);
    assert_int_equal(test_count(text, "\"event_type\":\"alert\""), 3);
    assert_int_equal(test_count(text, "\"signature_id\":1,"), 3);
    assert_int_equal(test_count(text, "\"category\":\"Sensor health\""), 3);
    assert_int_equal(test_count(text, "\"interface=mirror0\""), 3);
    assert_int_equal(test_count(text, "\"silent_s=10\""), 2); /* the two beginnings */
    assert_int_equal(test_count(text, "\"count\":[\"60\"]"),
                     1); /* 59 folded checks + the reminder */
    assert_int_equal(test_count(text, "\"in_iface\":\"mirror0\""), 3);
    assert_int_equal(test_count(text, "src_ip"), 0); /* about the sensor, not a flow */
    assert_int_equal(test_count(text, "src_zone"), 0);
    free(text);
}

static void test_silence_per_interface(void **state)
{
    struct fixture *x = open_fixture(1);
    uint64_t t;
    char *text;

    (void)state;
    x->ctx.ifaces[1] = "mirror1";
    x->ctx.nifaces = 2;
    x->s.n = 2;
    x->s.ifc[1].ack = &x->ack;
    for (t = 1000; t <= 1015; t++) { /* mirror0 busy, mirror1 silent */
        x->s.ifc[0].packets += 100;
        sample(x, t);
    }
    text = close_fixture(x);
    assert_int_equal(test_count(text, "\"event_type\":\"alert\""), 1);
    assert_int_equal(test_count(text, "\"interface=mirror1\""), 1);
    assert_int_equal(test_count(text, "\"in_iface\":\"mirror1\""), 1);
    assert_int_equal(test_count(text, "mirror0"), 0);
    free(text);
}

static void test_silence_not_from_files(void **state)
{
    struct fixture *x = open_fixture(0);
    struct health_stats st;
    uint64_t t;

    (void)state;
    for (t = 0; t < 100; t++)
        sample(x, 1000 + t);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 0);
    free(close_fixture(x));
}

static void test_one_way(void **state)
{
    struct fixture *x = open_fixture(0);
    struct health_stats st;
    char *text;

    (void)state;
    memset(x->ack.one_way_example.src, 0, 16);
    x->ack.one_way_example.src[10] = x->ack.one_way_example.src[11] = 0xff;
    x->ack.one_way_example.src[12] = 10, x->ack.one_way_example.src[15] = 7;
    x->ack.one_way_example.dst[10] = x->ack.one_way_example.dst[11] = 0xff;
    x->ack.one_way_example.dst[12] = 10, x->ack.one_way_example.dst[15] = 9;
    x->ack.one_way_example.sport = 50000, x->ack.one_way_example.dport = 443;
    sample(x, 0); /* the window starts */
    x->ack.acks = 99, x->ack.one_way = 99;
    sample(x, 10); /* all one way, but 99 ACKs are too few to go by */
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 0);
    x->ack.acks += 200, x->ack.one_way += 100; /* exactly 50 % */
    sample(x, 20);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 1);
    x->ack.acks += 200, x->ack.one_way += 99; /* just under: over */
    sample(x, 30);
    health_get_stats(x->h, &st);
    assert_int_equal(st.active, 0);
    x->ack.acks += 1000, x->ack.one_way += 1000;
    sample(x, 35); /* mid-window: nothing yet */
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 1);
    health_finish(x->h, &x->s); /* a window cut short by the end of input, with enough in it */
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 2);
    text = close_fixture(x);
    assert_int_equal(test_count(text, "\"signature_id\":2,"), 2);
    assert_int_equal(test_count(text, "\"one_way_percent=50.00\""), 1);
    assert_int_equal(test_count(text, "\"one_way_percent=100.00\""), 1);
    assert_int_equal(test_count(text, "\"example=10.0.0.7:50000->10.0.0.9:443\""), 2);
    assert_int_equal(test_count(text, "interface="), 0); /* from a file */
    free(text);
}

static void test_upstream_loss_and_drops(void **state)
{
    struct fixture *live = open_fixture(1), *file = open_fixture(0);
    struct fixture *both[2] = {live, file};
    struct health_stats st;
    char *text;
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        struct fixture *x = both[i];
        x->s.ifc[0].packets = 1;
        sample(x, 0);
        x->ack.checked = 1000, x->ack.gaps = 60; /* 6 % of ACKs for data never seen */
        x->s.ifc[0].kernel_packets = 10000, x->s.ifc[0].kernel_drops = 200; /* 2 % dropped */
        x->s.ifc[0].packets = 2;
        sample(x, 10);
    }
    health_get_stats(live->h, &st);
    assert_int_equal(st.alerts, 2); /* loss and drops */
    health_get_stats(file->h, &st);
    assert_int_equal(st.alerts, 1); /* loss only: drops are the live interface's */
    text = close_fixture(live);
    assert_int_equal(test_count(text, "\"loss_percent=6.00\""), 1);
    assert_int_equal(test_count(text, "\"drop_percent=2.00\""), 1);
    assert_int_equal(test_count(text, "\"kernel_drops=200\""), 1);
    free(text);
    free(close_fixture(file));
}

static void test_clock(void **state)
{
    struct fixture *x = open_fixture(1), *file = open_fixture(0);
    struct health_stats st;
    char *text;

    (void)state;
    health_clock(x->h, S(1000) - S(3), S(1000)); /* within the 5 s tolerance */
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 0);
    assert_int_equal(st.steps_back, 1);
    health_clock(x->h, S(900), S(1000));
    health_clock(x->h, S(950), S(1010)); /* within dedup: folded */
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 1);
    health_clock(x->h, S(1000), S(1100)); /* after it */
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 2);
    health_clock(file->h, S(900), S(1000)); /* from a file: counted only */
    health_get_stats(file->h, &st);
    assert_int_equal(st.alerts, 0);
    assert_int_equal(st.steps_back, 1);
    free(close_fixture(file));
    text = close_fixture(x);
    assert_int_equal(test_count(text, "\"step_back_s=100.000000\""), 2);
    free(text);
}

static void test_reload_keeps_state(void **state)
{
    struct fixture *x = open_fixture(1);
    struct mm_config *cfg2;
    struct config_diag diag = {0};
    struct ruleset *rs;
    struct health_stats st;
    uint64_t t;
    static const char site[] = "sensor: {name: t}\n";

    (void)state;
    for (t = 1000; t <= 1011; t++)
        sample(x, t);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 1);
    assert_int_equal(config_load_string("site.yaml", site, sizeof(site) - 1, &cfg2, &diag), 0);
    assert_int_equal(
        rules_load_string(cfg2, "h.yaml", rules_yaml, sizeof(rules_yaml) - 1, &rs, &diag), 0);
    rules_free(cfg2->ruleset);
    cfg2->ruleset = rs;
    assert_int_equal(health_reload(x->h, cfg2), 0);
    config_free(x->cfg);
    x->cfg = cfg2;
    x->ctx.cfg = cfg2;
    for (; t <= 1030; t++) /* the same silence: still folded, no second alert */
        sample(x, t);
    health_get_stats(x->h, &st);
    assert_int_equal(st.alerts, 1);
    assert_int_equal(st.active, 1);
    free(close_fixture(x));
}

static void load_bad(const char *extra, const char *want)
{
    char yaml[1024];
    struct mm_config *cfg;
    struct config_diag diag = {0};
    struct ruleset *rs = NULL;
    static const char site[] = "sensor: {name: t}\n";

    snprintf(yaml, sizeof(yaml),
             "rules:\n  - key: h.x\n    signature_id: 7\n    type: health\n    severity: 2\n"
             "    category: Sensor health\n    signature: x\n    message_ja: x\n"
             "    guideline: MHLW-6.0 SO 13.2\n%s",
             extra);
    assert_int_equal(config_load_string("site.yaml", site, sizeof(site) - 1, &cfg, &diag), 0);
    assert_int_equal(rules_load_string(cfg, "h.yaml", yaml, strlen(yaml), &rs, &diag), MM_ECONFIG);
    if (strstr(diag.msg[0], want) == NULL)
        fail_msg("got '%s', wanted '%s'", diag.msg[0], want);
    config_free(cfg);
}

static void test_rule_errors(void **state)
{
    (void)state;
    load_bad("", "h.yaml:2:5: health rule 'h.x' needs check");
    load_bad("    check: loss\n", "h.yaml:10:12: check must be silence, one_way");
    load_bad("    check: one_way\n    window: 5m\n",
             "health rule 'h.x' (check: one_way) needs window, threshold and percent");
    load_bad("    check: clock\n", "(check: clock) needs tolerance");
    load_bad("    check: drops\n    window: 1m\n    threshold: 10\n    percent: 101\n",
             "h.yaml:13:14:");
    load_bad("    check: silence\n    window: 1m\n    ports: [22]\n",
             "'ports' does not apply to rules of type health");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silence),
        cmocka_unit_test(test_silence_per_interface),
        cmocka_unit_test(test_silence_not_from_files),
        cmocka_unit_test(test_one_way),
        cmocka_unit_test(test_upstream_loss_and_drops),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_reload_keeps_state),
        cmocka_unit_test(test_rule_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
