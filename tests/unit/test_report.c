/*
 * The report on event sets built so that its figures are known: escaping of text from the
 * network, the sensor's runs told apart by uptime (packets, drops, restarts, time watched and
 * the gap between runs), the period cutting events and counters, maintenance sessions with
 * their window, ticket, length and volume from the flow record, and the inventory and
 * connections files told apart (a bad line named by file and line).
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

#include "mimamori/report.h"

#define H  (3600 * 1000000LL)
#define T0 1795478400000000LL /* 2026-11-24T00:00:00Z */

static char *render(const char *events, const struct report_options *opt, const char *inventory)
{
    struct report_options o = {TRIAGE_EN, 0, 0, 0, T0};
    FILE *in = fmemopen((void *)events, strlen(events), "r");
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct report *r;

    if (opt != NULL)
        o = *opt;
    assert_int_equal(report_create(&r, &o), 0);
    if (inventory != NULL)
        assert_int_equal(report_read_inventory(r, inventory, err, sizeof(err)), 0);
    assert_int_equal(report_read(r, in), 0);
    assert_int_equal(report_write(r, out), 0);
    fclose(out);
    fclose(in);
    report_destroy(r);
    return buf;
}

/* The text of the first element after `key` ("data-k=\"packets\">"), up to the next tag. */
static void value_after(const char *html, const char *key, char *out, size_t len)
{
    const char *p = strstr(html, key);

    assert_non_null(p);
    p += strlen(key);
    snprintf(out, len, "%.*s", (int)strcspn(p, "<"), p);
}

static void test_escape(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    (void)state;
    report_html_text(f, "<script>alert('x')</script> & \"q\"\x01\x1b[31m");
    fclose(f);
    assert_string_equal(buf,
                        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;[31m");
    free(buf);
}

#define STATS(ts, up, pk, dr)                                                                      \
    "{\"timestamp\":\"" ts                                                                         \
    "\",\"event_type\":\"stats\",\"host\":\"s1\",\"stats\":{\"uptime\":" #up                       \
    ",\"capture\":{\"kernel_packets\":" #pk ",\"kernel_drops\":" #dr                               \
    ",\"kernel_ifdrops\":0},\"decoder\":{\"invalid\":1}}}\n"

/*
 * Run 1: up at 00:00, stats at 01:00 and 02:00 (1000 packets, 10 dropped). The sensor is down
 * from 02:00 to 03:00. Run 2: up at 03:00, stats at 03:59 (500 packets). Packets 1500, drops
 * 10, one restart, watched 2 h 59 min of the 4 h period, a gap 02:00-03:00.
 */
static void test_runs(void **state)
{
    const char *ev = STATS("2026-11-24T01:00:00.000000+0000", 3600, 400, 5)
        STATS("2026-11-24T02:00:00.000000+0000", 7200, 1000, 10)
            STATS("2026-11-24T03:59:00.000000+0000", 3540, 500, 0);
    struct report_options o = {TRIAGE_EN, T0, T0 + 4 * H, 0, T0};
    char *html = render(ev, &o, NULL), v[64];

    (void)state;
    value_after(html, "data-k=\"packets\">", v, sizeof(v));
    assert_string_equal(v, "1,500");
    value_after(html, "data-k=\"drops\">", v, sizeof(v));
    assert_string_equal(v, "10 (0.662%)");
    value_after(html, "data-k=\"restarts\">", v, sizeof(v));
    assert_string_equal(v, "1");
    value_after(html, "data-k=\"coverage\">", v, sizeof(v));
    assert_string_equal(v, "74.6%"); /* 179 / 240 */
    assert_non_null(strstr(html, "2026-11-24 02:00 〜 2026-11-24 03:00"));
    free(html);

    /* From 01:30: the first run counts from its 01:00 sample (before the period); watched
     * 01:30-02:00 and 03:00-03:59 of 150 minutes. */
    o.from_us = T0 + 3 * H / 2;
    html = render(ev, &o, NULL);
    value_after(html, "data-k=\"packets\">", v, sizeof(v));
    assert_string_equal(v, "1,100"); /* 1000 - 400 + 500 */
    value_after(html, "data-k=\"coverage\">", v, sizeof(v));
    assert_string_equal(v, "59.3%"); /* 89 / 150 */
    free(html);
}

#define ALERT(ts, rule, sev, cat, ev, fid)                                                         \
    "{\"timestamp\":\"" ts "\",\"event_type\":\"alert\",\"flow_id\":" #fid                         \
    ",\"src_ip\":\"10.8.0.5\",\"dest_ip\":\"10.2.0.9\",\"dest_port\":3389,\"alert\":{"             \
    "\"signature_id\":9100401,\"severity\":" #sev                                                  \
    ",\"signature\":\"Maintenance\",\"category\":\"" cat "\",\"metadata\":{\"rule\":[\"" rule      \
    "\"],\"evidence\":[" ev "]}}}\n"

/* Events at 2026-11-24 (hour h, minute m), numbered i, for the parallel reader. */
#define STAMP "\"timestamp\":\"2026-11-%02dT%02d:%02d:00.000000+0000\""
#define STATS_AT(h, m, i)                                                                          \
    "{" STAMP ",\"event_type\":\"stats\",\"host\":\"s1\",\"stats\":{\"uptime\":%d,\"capture\":"    \
    "{\"kernel_packets\":%d,\"kernel_drops\":1}}}\n",                                              \
        24 + (h) / 24, (h) % 24, (m) % 60, (i)*60, (i)*10
#define ALERT_AT(h, m, sev, i)                                                                                      \
    "{" STAMP ",\"event_type\":\"alert\",\"src_ip\":\"10.0.%d.%d\",\"dest_ip\":\"10.1.0.%d\","                      \
    "\"alert\":{\"signature_id\":%d,\"severity\":%d,\"signature\":\"S\",\"category\":"                              \
    "\"Obsolete protocol\",\"metadata\":{\"rule\":[\"obsolete.r%d\"],\"message_ja\":"                               \
    "[\"旧式プロトコルの利用を検知しました\"],\"evidence\":[\"protocol=Telnet\",\"dest_port=23\"]" \
    "}}}\n",                                                                                                        \
        24 + (h) / 24, (h) % 24, (m) % 60, (i) / 250 % 250, (i) % 250 + 1, (i) % 7 + 1, (i) % 5,                    \
        sev, (i) % 5
#define FLOW_AT(h, m, i)                                                                           \
    "{" STAMP ",\"event_type\":\"flow\",\"flow_id\":%d,\"flow\":{\"bytes_toserver\":100,"          \
    "\"bytes_toclient\":200,\"start\":\"2026-11-24T00:00:00.000000+0000\",\"end\":"                \
    "\"2026-11-24T00:00:01.000000+0000\",\"alerted\":true}}\n",                                    \
        24 + (h) / 24, (h) % 24, (m) % 60, (i) + 1

static void test_maintenance(void **state)
{
    const char *ev = ALERT("2026-11-24T05:00:00.000000+0000", "maintenance.session_recorded", 3,
                           "Remote maintenance",
                           "\"protocol=RDP\",\"window=pacs-weekly\",\"ticket=CHG-1234\"", 77)
        ALERT("2026-11-24T06:00:00.000000+0000", "maintenance.session_unapproved", 1,
              "Remote maintenance", "\"protocol=VNC\",\"reason=no window\"",
              78) "{\"timestamp\":\"2026-11-24T05:30:00.000000+0000\",\"event_type\":\"flow\","
                  "\"flow_id\":77,\"flow\":{\"bytes_toserver\":1500000,\"bytes_toclient\":500000,"
                  "\"start\":\"2026-11-24T05:00:00.000000+0000\",\"end\":\"2026-11-24T05:42:30."
                  "000000+0000\",\"alerted\":true}}\n";
    char *html = render(ev, NULL, NULL), v[64];
    const char *m;

    (void)state;
    value_after(html, "data-k=\"maintenance_approved\">", v, sizeof(v));
    assert_string_equal(v, "1");
    value_after(html, "data-k=\"maintenance_unapproved\">", v, sizeof(v));
    assert_string_equal(v, "1");
    m = strstr(html, "<section id=\"maintenance\">");
    assert_non_null(m);
    assert_non_null(strstr(m, "<td>pacs-weekly</td><td>CHG-1234</td>"));
    assert_non_null(strstr(m, "42m30s"));
    assert_non_null(strstr(m, "2.0 MB"));
    assert_non_null(strstr(m, "not approved"));
    value_after(html, "data-k=\"flows\">", v, sizeof(v));
    assert_string_equal(v, "1");
    value_after(html, "data-k=\"events\">", v, sizeof(v));
    assert_string_equal(v, "3");
    assert_null(strstr(html, "<script"));
    free(html);
}

#define INTEL(ts, src, ind)                                                                        \
    "{\"timestamp\":\"" ts "\",\"event_type\":\"alert\",\"src_ip\":\"" src "\",\"dest_ip\":\"" ind \
    "\",\"alert\":{\"signature_id\":9101301,\"severity\":1,\"signature\":\"Intel\",\"category\":"  \
    "\"Command and control\",\"metadata\":{\"rule\":[\"intel.indicator_match\"],\"evidence\":["    \
    "\"feed=jpcert\",\"indicator=" ind "\",\"field=dest_ip\",\"description=C2 server\"]}}}\n"

/* Matches with the feeds: one row per indicator, its feed, field, sources and count. */
static void test_intel_matches(void **state)
{
    const char *ev = INTEL("2026-11-24T05:00:00.000000+0000", "10.4.0.1", "198.51.100.9")
        INTEL("2026-11-24T06:00:00.000000+0000", "10.4.0.2", "198.51.100.9")
            INTEL("2026-11-24T07:00:00.000000+0000", "10.4.0.3", "203.0.113.5");
    char *html = render(ev, NULL, NULL), v[64];
    const char *sec;

    (void)state;
    value_after(html, "data-k=\"intel_alerts\">", v, sizeof(v));
    assert_string_equal(v, "Traffic matching feed indicators: 3");
    sec = strstr(html, "<section id=\"intel\">");
    assert_non_null(sec);
    assert_non_null(strstr(sec,
                           "<td>198.51.100.9</td><td>jpcert</td><td>dest_ip</td><td>C2 server</td>"
                           "<td>10.4.0.1<br>10.4.0.2</td><td class=\"n\">2</td>"));
    assert_non_null(strstr(sec, "<td>203.0.113.5</td><td>jpcert</td>"));
    free(html);
}

static void test_inventory(void **state)
{
    char path[] = "/tmp/test_report_XXXXXX";
    FILE *f = fdopen(mkstemp(path), "w");
    struct report_options o = {TRIAGE_JA, 0, 0, 0, T0};
    struct report *r;
    char err[256], *html;

    (void)state;
    fputs(
        "{\"ip\":\"10.1.0.5\",\"names\":[\"EMR-DB01\"],\"zone\":\"emr\",\"end_of_support\":"
        "{\"product\":\"Windows Server 2008 R2\",\"ended\":\"2020-01-14\"}}\n"
        "{\"ip\":\"10.1.0.6\",\"names\":[],\"zone\":\"emr\"}\n"
        "{\"ip\":\"203.0.113.9\",\"names\":[\"<b>vendor</b>\"],\"direction\":\"inbound\","
        "\"remote_access\":true,\"protocols\":[\"RDP\"],\"devices\":[\"10.1.0.5\"],"
        "\"flows\":{\"inbound\":3,\"outbound\":0},\"bytes\":{\"to_party\":10,\"from_party\":20}}\n",
        f);
    fclose(f);
    html = render("", &o, path);
    assert_non_null(strstr(html, "data-k=\"devices\">2<"));
    assert_non_null(strstr(html, "Windows Server 2008 R2"));
    assert_non_null(strstr(html, "data-k=\"parties\">1<"));
    assert_non_null(strstr(html, "&lt;b&gt;vendor&lt;/b&gt;"));
    assert_non_null(strstr(html, "<html lang=\"ja\">"));
    free(html);

    f = fopen(path, "a");
    fputs("not json\n", f);
    fclose(f);
    assert_int_equal(report_create(&r, &o), 0);
    assert_int_equal(report_read_inventory(r, path, err, sizeof(err)), MM_EINVAL);
    assert_non_null(strstr(err, ":4: "));
    report_destroy(r);
    unlink(path);
}

static char *write_report(struct report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    assert_int_equal(report_write(r, out), 0);
    fclose(out);
    return buf;
}

/* A file read in parts on threads gives the report one reader gives, byte for byte. */
static void test_parallel(void **state)
{
    char path[] = "/tmp/test_report_XXXXXX", err[256], *a, *b;
    FILE *f = fdopen(mkstemp(path), "w");
    struct report_options o = {TRIAGE_EN, 0, 0, 0, T0};
    struct report *r1, *r2;
    int i;

    (void)state;
    for (i = 0; i < 40000; i++) { /* 30 MB: past the size read in parts */
        int m = i % 600, h = i / 2400;
        fprintf(f, STATS_AT(h, m, i));
        fprintf(f, ALERT_AT(h, m, i % 3 + 1, i));
        fprintf(f, FLOW_AT(h, m, i));
    }
    fclose(f);
    assert_int_equal(report_create(&r1, &o), 0);
    assert_int_equal(report_create(&r2, &o), 0);
    f = fopen(path, "r");
    assert_int_equal(report_read(r1, f), 0);
    fclose(f);
    assert_int_equal(report_read_path(r2, path, 4, err, sizeof(err)), 0);
    a = write_report(r1);
    b = write_report(r2);
    assert_true(strlen(a) > 10000);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "data-k=\"events\">120,000<"));
    free(a);
    free(b);
    report_destroy(r1);
    report_destroy(r2);
    assert_int_equal(report_create(&r1, &o), 0);
    assert_int_equal(report_read_path(r1, "/nonexistent.json", 2, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "/nonexistent.json"));
    report_destroy(r1);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),      cmocka_unit_test(test_runs),
        cmocka_unit_test(test_maintenance), cmocka_unit_test(test_inventory),
        cmocka_unit_test(test_parallel),    cmocka_unit_test(test_intel_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
