/*
 * Response tests: the reset frames (decoded back: addresses, ports, the tracked sequence
 * numbers, RST|ACK, VLAN tags and MAC addresses per direction, IPv4 and TCP checksums, IPv6),
 * the choice of action (site rule key over site category over the rule), protected hosts, the
 * rate limit, dry run, and the block list: file contents, escalation, expiry. Also the response
 * section's configuration errors with their positions.
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

#include "mimamori/capture.h"
#include "mimamori/config.h"
#include "mimamori/decode.h"
#include "mimamori/error.h"
#include "mimamori/flow.h"
#include "mimamori/response.h"
#include "mimamori/rules.h"
#include "pkt_build.h"

#define S(x) ((uint64_t)(x)*1000000u)

static struct flow_table *table(void)
{
    struct flow_table_config cfg;
    struct flow_table *t;

    flow_table_config_default(&cfg);
    cfg.max_flows = 64;
    cfg.seed = 7;
    assert_int_equal(flow_table_create(&t, &cfg), 0);
    return t;
}

/* A frame of the flow: Ethernet (with a VLAN tag if vlan), IPv4, TCP with seq/ack/payload. */
static size_t frame(uint8_t *f, int vlan, const char *src, const char *dst, uint16_t sp,
                    uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
    size_t n = build_eth(f, vlan ? 0x8100 : 0x0800);

    if (vlan) {
        put16(f + n, 42);
        put16(f + n + 2, 0x0800);
        n += 4;
    }
    n += build_ipv4(f + n, 6, src, dst, (uint16_t)(20 + len));
    n += build_tcp(f + n, sp, dp, flags);
    put16(f + n - 16, (uint16_t)(seq >> 16)), put16(f + n - 14, (uint16_t)seq);
    put16(f + n - 12, (uint16_t)(ack >> 16)), put16(f + n - 10, (uint16_t)ack);
    memset(f + n, 'x', len);
    return n + len;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    return s;
}

static uint16_t folded(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static void test_reset_frames(void **state)
{
    struct flow_table *t = table();
    uint8_t f[512], out[128];
    struct pkt_view pv;
    struct flow *fl = NULL;
    size_t n;
    int dir, created, way;
    const struct {
        const char *src, *dst;
        uint16_t sp, dp;
        uint8_t flags;
        uint32_t seq, ack;
        uint16_t len;
    } conv[] = {
        {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_SYN, 1000, 0, 0},
        {"10.0.0.2", "10.0.0.1", 80, 40000, TCP_SYN | TCP_ACK, 9000, 1001, 0},
        {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK | TCP_PSH, 1001, 9001, 100},
        {"10.0.0.2", "10.0.0.1", 80, 40000, TCP_ACK | TCP_PSH, 9001, 1101, 300},
    };
    unsigned i;

    (void)state;
    for (i = 0; i < 4; i++) {
        n = frame(f, 1, conv[i].src, conv[i].dst, conv[i].sp, conv[i].dp, conv[i].flags,
                  conv[i].seq, conv[i].ack, conv[i].len);
        assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n),
                         DECODE_OK);
        fl = flow_table_update(t, &pv, (uint32_t)n, S(1) + i, &dir, &created);
    }
    /* The last packet went to the client (dir TOCLIENT); its frame is the template. */
    assert_int_equal(dir, FLOW_TOCLIENT);
    for (way = 0; way < 2; way++) {
        uint32_t s;
        n = response_build_rst(out, sizeof(out), fl, f, 18, dir, way);
        assert_int_equal(n, 18 + 20 + 20);
        assert_int_equal(out[12], 0x81); /* the VLAN tag is kept */
        assert_int_equal(out[15], 42);
        /* Toward the server the MACs are the reverse of the template's (it went to the client). */
        assert_memory_equal(out, f + (way ? 6 : 0), 6);
        assert_memory_equal(out + 6, f + (way ? 0 : 6), 6);
        assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, out, (uint32_t)n, (uint32_t)n),
                         DECODE_OK);
        assert_int_equal(pv.tcp_flags, TCP_RST | TCP_ACK);
        assert_int_equal(pv.src_port, way ? 40000 : 80);
        assert_int_equal(pv.dst_port, way ? 80 : 40000);
        assert_int_equal(pv.src[15], way ? 1 : 2);
        /* Exactly the next byte each receiver expects. */
        assert_int_equal(pv.tcp_seq, way ? 1101u : 9301u);
        assert_int_equal(pv.tcp_ack, way ? 9301u : 1101u);
        assert_int_equal(folded(sum16(out + 18, 20, 0)), 0xffff); /* IPv4 header checksum */
        s = sum16(out + 18 + 12, 8, 6 + 20);                      /* pseudo-header */
        assert_int_equal(folded(sum16(out + 38, 20, s)), 0xffff); /* TCP checksum */
    }
    assert_int_equal(response_build_rst(out, 40, fl, f, 18, dir, 1), 0); /* too small */
    flow_table_destroy(t);
}

static void test_reset_frame_ipv6(void **state)
{
    struct flow_table *t = table();
    uint8_t f[512], out[128];
    struct pkt_view pv;
    struct flow *fl;
    size_t n = build_eth(f, 0x86dd);
    uint32_t s;
    int dir, created;

    (void)state;
    n += build_ipv6(f + n, 6, "2001:db8::1", "2001:db8::2", 20);
    n += build_tcp(f + n, 50000, 443, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n), DECODE_OK);
    fl = flow_table_update(t, &pv, (uint32_t)n, S(1), &dir, &created);
    n = response_build_rst(out, sizeof(out), fl, f, 14, dir, 1);
    assert_int_equal(n, 14 + 40 + 20);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, out, (uint32_t)n, (uint32_t)n),
                     DECODE_OK);
    assert_int_equal(pv.ip_version, 6);
    assert_int_equal(pv.tcp_flags, TCP_RST | TCP_ACK);
    assert_int_equal(pv.tcp_seq, 0x01000000u + 1); /* after the SYN (build_tcp's sequence) */
    s = sum16(out + 14 + 8, 32, 6 + 20);
    assert_int_equal(folded(sum16(out + 54, 20, s)), 0xffff);
    flow_table_destroy(t);
}

/* --- policy and block list ----------------------------------------------------------------- */

static const char rules_yaml[] =
    "rules:\n"
    "  - {key: t.a, signature_id: 1, type: lateral, severity: 2, category: Lateral movement,\n"
    "     signature: a, message_ja: a, mitre_attack: [T1021], guideline: g, to: [emr],\n"
    "     ports: [tcp/1], response: reset}\n"
    "  - {key: t.b, signature_id: 2, type: lateral, severity: 2, category: Lateral movement,\n"
    "     signature: b, message_ja: b, mitre_attack: [T1021], guideline: g, to: [emr],\n"
    "     ports: [tcp/2]}\n"
    "  - {key: t.c, signature_id: 3, type: scan, severity: 2, category: Reconnaissance,\n"
    "     signature: c, message_ja: c, mitre_attack: [T1046], guideline: g, mode: ports,\n"
    "     threshold: 5, window: 60, response: block}\n";

struct fixture {
    char dir[64], rules[96], site[96], list[96];
    struct mm_config *cfg;
    struct response *r;
    struct flow_table *t;
    struct response_pkt cur;
};

static struct fixture *open_fixture(const char *response)
{
    struct fixture *x = calloc(1, sizeof(*x));
    struct config_diag diag = {0};
    char site[1024];
    FILE *fp;

    strcpy(x->dir, "/tmp/mm-response-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->rules, sizeof(x->rules), "%s/r.yaml", x->dir);
    snprintf(x->list, sizeof(x->list), "%s/blocklist.txt", x->dir);
    fp = fopen(x->rules, "w");
    fputs(rules_yaml, fp);
    fclose(fp);
    snprintf(site, sizeof(site),
             "zones:\n  emr: {networks: [10.1.0.0/16]}\n  clinical: {networks: [10.2.0.0/16]}\n"
             "rules: [%s]\nresponse:\n%s  block: {durations: [10m, 1h], file: %s}\n",
             x->rules, response, x->list);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &x->cfg, &diag), 0);
    assert_int_equal(response_create(&x->r, x->cfg, NULL, NULL, NULL, &x->cur), 0);
    x->t = table();
    return x;
}

static void close_fixture(struct fixture *x)
{
    char cmd[160];

    response_destroy(x->r);
    config_free(x->cfg);
    flow_table_destroy(x->t);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
    assert_int_equal(system(cmd), 0);
    free(x);
}

static struct flow *flow_of(struct fixture *x, const char *src, const char *dst, uint16_t dp)
{
    uint8_t f[128];
    size_t n = frame(f, 0, src, dst, 40000, dp, TCP_SYN, 1, 0, 0);
    struct pkt_view pv;
    int dir, created;

    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n), DECODE_OK);
    return flow_table_update(x->t, &pv, (uint32_t)n, S(1), &dir, &created);
}

static const struct rule *rule(struct fixture *x, const char *key)
{
    const struct rule *r = rules_find(x->cfg->ruleset, key);
    assert_non_null(r);
    return r;
}

static void test_actions(void **state)
{
    struct fixture *x;

    (void)state;
    x = open_fixture("  actions: {t.b: block, Lateral movement: alert}\n");
    assert_int_equal(response_action(x->r, rule(x, "t.a")), RESP_ALERT); /* by category */
    assert_int_equal(response_action(x->r, rule(x, "t.b")), RESP_BLOCK); /* by key, first */
    assert_int_equal(response_action(x->r, rule(x, "t.c")), RESP_BLOCK); /* the rule's own */
    close_fixture(x);
}

static void test_protected_rate_dry_run(void **state)
{
    struct fixture *x = open_fixture("  max_per_minute: 2\n");
    struct response_outcome o;
    struct response_stats st;
    int i;

    (void)state;
    /* Default protection: the emr zone, either end. */
    response_match(x->r, rule(x, "t.a"), flow_of(x, "10.2.0.5", "10.1.0.9", 1), S(10), &o);
    assert_false(o.blocked);
    assert_string_equal(o.text, "not reset: 10.1.0.9 (zone emr) is protected");
    /* Dry run by default: recorded, nothing done, and the rate limit counts them too. */
    for (i = 0; i < 3; i++)
        response_match(x->r, rule(x, "t.a"), flow_of(x, "10.2.0.5", "10.3.0.9", 1), S(20), &o);
    assert_string_equal(o.text, "not reset: over 2 responses a minute");
    response_match(x->r, rule(x, "t.a"), flow_of(x, "10.2.0.5", "10.3.0.9", 1), S(81), &o);
    assert_string_equal(o.text, "would_reset (dry run)");
    response_get_stats(x->r, &st);
    assert_int_equal(st.protected_skips, 1);
    assert_int_equal(st.rate_limited, 1);
    assert_int_equal(st.dry_run, 3);
    assert_int_equal(access(x->list, F_OK), -1); /* dry run touches nothing */
    close_fixture(x);
}

static void test_block_list(void **state)
{
    struct fixture *x = open_fixture("  mode: enforce\n  protected: [10.9.9.9]\n");
    struct response_outcome o;
    struct response_stats st;
    struct capture *cap;
    char *files[1] = {MM_DEMO_PCAP}, err[CAPTURE_ERRBUF_SIZE], text[512] = "";
    FILE *fp;

    (void)state;
    /* Reading files, even enforcing, nothing is done. */
    response_match(x->r, rule(x, "t.c"), flow_of(x, "10.2.0.5", "10.3.0.9", 3), S(100), &o);
    assert_string_equal(o.text, "would_block 10.2.0.5 for 600 s (reading files)");
    /* As live: a capture to send through (blocks send nothing, so a file's will do). */
    assert_int_equal(capture_open_files(&cap, files, 1, err, sizeof(err)), 0);
    response_set_capture(x->r, cap);
    response_match(x->r, rule(x, "t.c"), flow_of(x, "10.2.0.5", "10.3.0.9", 3), S(100), &o);
    assert_true(o.blocked);
    assert_string_equal(o.text, "blocked 10.2.0.5 for 600 s (step 1)");
    fp = fopen(x->list, "r");
    assert_non_null(fp);
    assert_true(fread(text, 1, sizeof(text) - 1, fp) > 0);
    fclose(fp);
    assert_non_null(strstr(text, "\n10.2.0.5 # until "));
    assert_non_null(strstr(text, " rule=t.c level=1\n"));
    response_match(x->r, rule(x, "t.c"), flow_of(x, "10.2.0.5", "10.3.0.9", 3), S(200), &o);
    assert_true(o.blocked);
    assert_non_null(strstr(o.text, "already blocked until"));
    response_tick(x->r, S(100 + 599));
    response_get_stats(x->r, &st);
    assert_int_equal(st.active_blocks, 1);
    response_tick(x->r, S(100 + 600)); /* expired: gone from the file */
    response_get_stats(x->r, &st);
    assert_int_equal(st.active_blocks, 0);
    assert_int_equal(st.expired, 1);
    fp = fopen(x->list, "r");
    memset(text, 0, sizeof(text));
    assert_true(fread(text, 1, sizeof(text) - 1, fp) > 0);
    fclose(fp);
    assert_null(strstr(text, "10.2.0.5"));
    /* Again within a day: the next step; and the last step is kept after that. */
    response_match(x->r, rule(x, "t.c"), flow_of(x, "10.2.0.5", "10.3.0.9", 3), S(1000), &o);
    assert_string_equal(o.text, "blocked 10.2.0.5 for 3600 s (step 2)");
    response_tick(x->r, S(1000 + 3600));
    response_match(x->r, rule(x, "t.c"), flow_of(x, "10.2.0.5", "10.3.0.9", 3), S(5000), &o);
    assert_string_equal(o.text, "blocked 10.2.0.5 for 3600 s (step 3)");
    /* A site-protected host is never blocked, whichever end it is. */
    response_match(x->r, rule(x, "t.c"), flow_of(x, "10.9.9.9", "10.3.0.9", 3), S(5000), &o);
    assert_false(o.blocked);
    assert_string_equal(o.text, "not blocked: 10.9.9.9 (zone unzoned) is protected");
    capture_close(cap);
    close_fixture(x);
}

static void load_bad(const char *yaml, const char *want)
{
    struct mm_config *c = NULL;
    struct config_diag diag = {0};

    assert_int_equal(config_load_string("site.yaml", yaml, strlen(yaml), &c, &diag), MM_ECONFIG);
    if (strstr(diag.msg[0], want) == NULL)
        fail_msg("got '%s', wanted '%s'", diag.msg[0], want);
}

static void test_config_errors(void **state)
{
    (void)state;
    load_bad("response: {mode: block}\n",
             "site.yaml:1:18: response.mode must be dry_run or enforce, not 'block'");
    load_bad("response:\n  actions: {egress.unexpected: drop}\n",
             "site.yaml:2:32: response action must be alert, reset or block, not 'drop'");
    load_bad("response:\n  actions: {egress.unexpectd: block}\n",
             "site.yaml:2:13: response.actions: 'egress.unexpectd' is neither a rule key nor a "
             "category");
    load_bad("response:\n  block: {file: blocklist.txt}\n",
             "site.yaml:2:17: response.block.file must be an absolute path");
    load_bad("response:\n  block: {durations: [10m, forever]}\n",
             "site.yaml:2:28: a block duration must be a duration");
    load_bad("response: {protected: [nowhere]}\n", "site.yaml:1:24:");
    load_bad("response: {colour: red}\n", "site.yaml:1:12: unknown key 'colour' in response");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_frames), cmocka_unit_test(test_reset_frame_ipv6),
        cmocka_unit_test(test_actions),      cmocka_unit_test(test_protected_rate_dry_run),
        cmocka_unit_test(test_block_list),   cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
