/*
 * The EVE writer: events built from a flow made field by field are read back from a real EVE
 * file, parsed with jansson and compared with what went in and with Suricata's conventions
 * (field names and types, the client as src, TCP flags as two hex digits, a flow's age in
 * whole seconds, its end reason's name). Timestamps are compared with the C library's own
 * strftime() around both of Berlin's 2026 clock changes and at every 7 minutes of a day, since
 * the writer caches the calendar per hour and must not be wrong at a change of offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/eve.h"
#include "mimamori/output.h"
#include "mimamori/rules.h"

#include "test_util.h"
#include "mimamori/zone.h"

#define S(x) ((uint64_t)(x)*1000000u)

static const char rules_yaml[] = "rules:\n"
                                 "  - key: t.rule\n"
                                 "    signature_id: 4242\n"
                                 "    rev: 3\n"
                                 "    type: lateral\n"
                                 "    severity: 2\n"
                                 "    category: Lateral movement\n"
                                 "    signature: Test rule\n"
                                 "    message_ja: テスト規則\n"
                                 "    mitre_attack: [T1021.001]\n"
                                 "    guideline: MHLW-6.0 SO 13.2\n"
                                 "    to: [emr]\n"
                                 "    protocols: [RDP]\n";

/* A libc-made timestamp, as EVE writes them: local time, microseconds, numeric offset. */
static void libc_time(uint64_t ts_us, char *buf, size_t len)
{
    time_t t = (time_t)(ts_us / 1000000u);
    struct tm tm;
    char a[32], z[8];

    localtime_r(&t, &tm);
    strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof(z), "%z", &tm);
    snprintf(buf, len, "%s.%06u%s", a, (unsigned)(ts_us % 1000000u), z);
}

static void test_time(void **state)
{
    /* 2026-03-29 01:00Z: Berlin goes from +0100 to +0200; 2026-10-25 01:00Z: back. */
    static const int64_t changes[] = {1774746000, 1792890000};
    char got[48], want[48];
    int64_t t;
    unsigned i;

    (void)state;
    for (i = 0; i < 2; i++)
        for (t = changes[i] - 7200; t < changes[i] + 7200; t += 59) {
            uint64_t us = S(t) + (uint64_t)(t % 1000) * 997u;
            eve_format_time(us, got, sizeof(got));
            libc_time(us, want, sizeof(want));
            assert_string_equal(got, want);
        }
    for (t = 1795496400; t < 1795496400 + 86400; t += 420) {
        eve_format_time(S(t), got, sizeof(got));
        libc_time(S(t), want, sizeof(want));
        assert_string_equal(got, want);
    }
}

struct fixture {
    struct mm_config *cfg;
    struct classify *cls;
    struct output *out;
    struct eve *eve;
    struct eve_ctx ctx;
    char path[64];
};

static void open_fixture(struct fixture *x)
{
    static const char site[] = "sensor: {name: ward-7}\n"
                               "zones:\n"
                               "  emr: {networks: [10.1.0.0/16]}\n"
                               "  office: {networks: [10.2.0.0/16]}\n";
    static struct config_diag diag;
    struct ruleset *rs;

    memset(x, 0, sizeof(*x));
    assert_int_equal(config_load_string("s.yaml", site, sizeof(site) - 1, &x->cfg, &diag), 0);
    assert_int_equal(
        rules_load_string(x->cfg, "r.yaml", rules_yaml, sizeof(rules_yaml) - 1, &rs, &diag), 0);
    rules_free(x->cfg->ruleset);
    x->cfg->ruleset = rs;
    strcpy(x->path, "/tmp/mm-eve-XXXXXX");
    test_eve_open(x->cfg, x->path, &x->out, &x->eve);
    assert_int_equal(classify_create(&x->cls), 0);
    x->ctx.cfg = x->cfg;
    x->ctx.cls = x->cls;
}

/* Closes everything; the events written, parsed (caller frees with json_decref). */
static json_t *close_fixture(struct fixture *x)
{
    json_t *all = json_array();
    json_error_t je;
    char line[8192];
    FILE *f;

    output_close(x->out);
    eve_destroy(x->eve);
    classify_destroy(x->cls);
    assert_non_null(f = fopen(x->path, "r"));
    while (fgets(line, sizeof(line), f) != NULL) {
        json_t *ev = json_loads(line, 0, &je);
        if (ev == NULL)
            fail_msg("not JSON: %s (%s)", line, je.text);
        json_array_append_new(all, ev);
    }
    fclose(f);
    unlink(x->path);
    config_free(x->cfg);
    return all;
}

/* The client 10.2.0.5:51000 (stored as key endpoint 1) to 10.1.0.10:3389, RDP, closed. */
static void rdp_flow(struct flow *f)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(zone_parse_addr("10.1.0.10", f->key.addr[0]), 0);
    assert_int_equal(zone_parse_addr("10.2.0.5", f->key.addr[1]), 0);
    f->key.port[0] = 3389;
    f->key.port[1] = 51000;
    f->key.proto = 6;
    f->client = 1;
    f->ip_version = 4;
    f->tcp_flags[FLOW_TOSERVER] = 0x1b; /* FIN PSH ACK SYN */
    f->tcp_flags[FLOW_TOCLIENT] = 0x13; /* FIN ACK SYN */
    f->pkts[FLOW_TOSERVER] = 12;
    f->pkts[FLOW_TOCLIENT] = 9;
    f->bytes[FLOW_TOSERVER] = 3456;
    f->bytes[FLOW_TOCLIENT] = 7890;
    f->first_us = S(1795496400) + 250000;
    f->last_us = S(1795496400 + 95) + 100;
    f->state = FLOW_STATE_CLOSED;
    f->id = 123456789;
    f->app.app = (uint16_t)classify_lookup_protocol("RDP");
    f->app.done = 1;
}

#define STR(ev, path) json_string_value(json_object_get_path(ev, path))
#define INT(ev, path) json_integer_value(json_object_get_path(ev, path))

/* jansson has no path lookup: "a.b.c" through nested objects. */
static json_t *json_object_get_path(json_t *o, const char *path)
{
    char buf[128], *part, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (part = strtok_r(buf, ".", &save); part != NULL && o != NULL;
         part = strtok_r(NULL, ".", &save))
        o = json_object_get(o, part);
    return o;
}

static void test_flow_and_alert(void **state)
{
    struct fixture x;
    struct flow f;
    struct eve_alert a = {0};
    json_t *all, *fl = NULL, *al = NULL, *ev;
    size_t i;

    (void)state;
    open_fixture(&x);
    rdp_flow(&f);
    a.rule = rules_find(x.cfg->ruleset, "t.rule");
    assert_non_null(a.rule);
    a.ts_us = f.first_us;
    a.count = 1;
    a.iface = -1;
    a.nevidence = 2;
    a.evidence[0] = "protocol=RDP";
    a.evidence[1] = "dest_port=3389";
    assert_int_equal(eve_write_alert(x.eve, &x.ctx, &f, &a), 0);
    assert_int_equal(eve_write_flow(x.eve, &x.ctx, &f, FLOW_END_TIMEOUT), 0);
    all = close_fixture(&x);
    json_array_foreach(all, i, ev)
    {
        if (strcmp(STR(ev, "event_type"), "flow") == 0)
            fl = ev;
        else if (strcmp(STR(ev, "event_type"), "alert") == 0)
            al = ev;
    }
    assert_non_null(fl);
    assert_non_null(al);
    for (i = 0; i < 2; i++) {
        ev = i == 0 ? fl : al;
        assert_string_equal(STR(ev, "host"), "ward-7");
        assert_string_equal(STR(ev, "src_ip"), "10.2.0.5"); /* the client, whatever the key */
        assert_int_equal(INT(ev, "src_port"), 51000);
        assert_string_equal(STR(ev, "dest_ip"), "10.1.0.10");
        assert_int_equal(INT(ev, "dest_port"), 3389);
        assert_string_equal(STR(ev, "proto"), "TCP");
        assert_string_equal(STR(ev, "app_proto"), "rdp");
        assert_int_equal(INT(ev, "flow_id"), 123456789);
        assert_string_equal(STR(ev, "ndpi.protocol"), "RDP");
        assert_string_equal(STR(ev, "ndpi.src_zone"), "office");
        assert_string_equal(STR(ev, "ndpi.dest_zone"), "emr");
        assert_string_equal(STR(ev, "timestamp"), "2026-11-24T06:00:00.250000+0100");
    }
    assert_int_equal(INT(fl, "flow.pkts_toserver"), 12);
    assert_int_equal(INT(fl, "flow.pkts_toclient"), 9);
    assert_int_equal(INT(fl, "flow.bytes_toserver"), 3456);
    assert_int_equal(INT(fl, "flow.bytes_toclient"), 7890);
    assert_int_equal(INT(fl, "flow.age"), 94); /* whole seconds, cut not rounded */
    assert_string_equal(STR(fl, "flow.start"), "2026-11-24T06:00:00.250000+0100");
    assert_string_equal(STR(fl, "flow.end"), "2026-11-24T06:01:35.000100+0100");
    assert_string_equal(STR(fl, "flow.state"), "closed");
    assert_string_equal(STR(fl, "flow.reason"), "timeout");
    assert_true(json_is_false(json_object_get_path(fl, "flow.alerted")));
    assert_string_equal(STR(fl, "tcp.tcp_flags"), "1b");
    assert_string_equal(STR(fl, "tcp.tcp_flags_ts"), "1b");
    assert_string_equal(STR(fl, "tcp.tcp_flags_tc"), "13");
    assert_true(json_is_true(json_object_get_path(fl, "tcp.syn")));
    assert_true(json_is_true(json_object_get_path(fl, "tcp.fin")));

    assert_int_equal(INT(al, "alert.signature_id"), 4242);
    assert_int_equal(INT(al, "alert.rev"), 3);
    assert_int_equal(INT(al, "alert.gid"), 1);
    assert_int_equal(INT(al, "alert.severity"), 2);
    assert_string_equal(STR(al, "alert.action"), "allowed");
    assert_string_equal(STR(al, "alert.signature"), "Test rule");
    assert_string_equal(STR(al, "alert.category"), "Lateral movement");
    ev = json_object_get_path(al, "alert.metadata");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "rule"), 0)),
                        "t.rule");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "message_ja"), 0)),
                        "テスト規則");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "mitre_attack"), 0)),
                        "T1021.001");
    assert_int_equal(json_array_size(json_object_get(ev, "evidence")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "evidence"), 1)),
                        "dest_port=3389");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "count"), 0)), "1");
    assert_int_equal(INT(al, "flow.pkts_toserver"), 12);
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_flow_and_alert),
    };

    setenv("TZ", "Europe/Berlin", 1); /* before the first timestamp: the writer caches hours */
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
