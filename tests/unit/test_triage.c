/*
 * Reading alerts back and grouping them: EVE and command-line times against values worked out
 * by hand, incidents on alert sets built so that the right grouping is known (a pivot, a
 * bridge between two incidents, a gap longer than the window, alerts without addresses), the
 * display order, the filters, a line still being written, and the parallel reader against the
 * plain one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/triage.h"

#define MIN (60 * 1000000LL)
#define T0  1764000000000000LL /* 2025-11-24T16:00:00Z */

/* An alert event as the sensor writes one, at T0 + minutes. */
static json_t *alert(double minutes, int sev, const char *rule, const char *src, const char *dst)
{
    char ts[64];
    int64_t us = T0 + (int64_t)(minutes * MIN);
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    json_t *md, *ev;

    gmtime_r(&s, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%06d+0000", (int)(us % 1000000));
    md = json_pack("{s:[s], s:[s], s:[s], s:[s], s:[s], s:[s]}", "rule", rule, "src_zone",
                   "clinical", "dest_zone", strstr(rule, "emr") ? "emr" : "departmental",
                   "evidence", "dest_port=445", "count", "2", "message_ja", "検知しました");
    ev = json_pack("{s:s, s:s, s:{s:i, s:i, s:s, s:s, s:o}}", "timestamp", ts, "event_type",
                   "alert", "alert", "signature_id", (int)strlen(rule), "severity", sev,
                   "signature", "A signature", "category", "Lateral movement", "metadata", md);
    if (src != NULL)
        json_object_set_new(ev, "src_ip", json_string(src));
    if (dst != NULL)
        json_object_set_new(ev, "dest_ip", json_string(dst));
    return ev;
}

static struct triage *with(json_t **evs, size_t n, const struct triage_filter *f)
{
    struct triage *t;

    assert_int_equal(triage_create(&t), 0);
    if (f != NULL)
        triage_set_filter(t, f);
    for (size_t i = 0; i < n; i++) {
        triage_add(t, evs[i]);
        json_decref(evs[i]);
    }
    assert_int_equal(triage_group(t, 30 * MIN), 0);
    return t;
}

/* The minutes of an incident's alerts, in order, as "0 10". */
static void minutes_of(const struct triage *t, const struct triage_incident *in, char *out)
{
    out[0] = '\0';
    for (size_t i = 0; i < in->nalerts; i++)
        sprintf(out + strlen(out), "%s%lld", i ? " " : "",
                (long long)((triage_alert_at(t, in->alerts[i])->ts_us - T0) / MIN));
}

static void test_times(void **state)
{
    int64_t us;
    int tz;

    (void)state;
    /* 2026-11-24 05:00:00 UTC is 1795496400 (date -d @1795496400 -u) */
    assert_int_equal(triage_parse_eve_time("2026-11-24T05:00:00.003000+0000", &us, &tz), 0);
    assert_int_equal(us, 1795496400003000LL);
    assert_int_equal(tz, 0);
    assert_int_equal(triage_parse_eve_time("2026-11-24T14:00:00.000000+0900", &us, &tz), 0);
    assert_int_equal(us, 1795496400000000LL);
    assert_int_equal(tz, 540);
    assert_int_equal(triage_parse_eve_time("2026-11-24T01:30:00.5-03:30", &us, &tz), 0);
    assert_int_equal(us, 1795496400500000LL);
    assert_int_equal(tz, -210);
    assert_int_equal(triage_parse_eve_time("2026-11-24T05:00:00", &us, &tz), MM_EINVAL);
    assert_int_equal(triage_parse_eve_time("2026-13-24T05:00:00+0000", &us, &tz), MM_EINVAL);
    assert_int_equal(triage_parse_eve_time("yesterday", &us, &tz), MM_EINVAL);

    assert_int_equal(triage_parse_time("2026-11-24T14:00+09:00", 0, &us), 0);
    assert_int_equal(us, 1795496400000000LL);
    assert_int_equal(triage_parse_time("2026-11-24", 0, &us), 0); /* TZ=UTC (ctest) */
    assert_int_equal(us, 1795478400000000LL);
    assert_int_equal(triage_parse_time("2h", 10 * 3600 * 1000000LL, &us), 0);
    assert_int_equal(us, 8 * 3600 * 1000000LL);
    assert_int_equal(triage_parse_time("2026-11-24 25:00", 0, &us), MM_EINVAL);
    assert_int_equal(triage_parse_span("90s", &us), 0);
    assert_int_equal(us, 90 * 1000000LL);
    assert_int_equal(triage_parse_span("1d", &us), 0);
    assert_int_equal(us, 86400 * 1000000LL);
    assert_int_equal(triage_parse_span("5w", &us), MM_EINVAL);
    assert_int_equal(triage_parse_span("-5m", &us), MM_EINVAL);

    char buf[32];
    triage_format_time(buf, sizeof(buf), 1795496400003000LL, 540, 1);
    assert_string_equal(buf, "2026-11-24 14:00:00");
}

/*
 * A -> B, then B -> C ten minutes later (the attacker moved on from B): one incident. D -> E
 * in between: its own. A -> F two hours later: beyond the window, its own. Two sensor-health
 * alerts without addresses 39 minutes apart: two incidents.
 */
static void test_grouping(void **state)
{
    json_t *evs[] = {
        alert(0, 2, "lateral.smb2", "10.0.0.1", "10.0.0.2"),
        alert(1, 2, "health.silent", NULL, NULL),
        alert(5, 3, "recon.sweep", "10.0.0.4", "10.0.0.5"),
        alert(10, 1, "lateral.rdp_emr", "10.0.0.2", "10.0.0.3"),
        alert(40, 2, "health.silent", NULL, NULL),
        alert(120, 2, "lateral.smb2", "10.0.0.1", "10.0.0.6"),
    };
    struct triage *t = with(evs, 6, NULL);
    const struct triage_incident *in;
    char m[64];

    (void)state;
    assert_int_equal(triage_alerts(t), 6);
    assert_int_equal(triage_incidents(t), 5);
    /* severity first, then the latest activity first */
    in = triage_incident_at(t, 0);
    minutes_of(t, in, m);
    assert_string_equal(m, "0 10");
    assert_int_equal(in->severity, 1);
    assert_int_equal(in->id, 1);
    assert_int_equal(in->count, 4);
    assert_string_equal(triage_alert_at(t, in->lead)->rule, "lateral.rdp_emr");
    assert_int_equal(triage_distinct_hosts(t, in->alerts, in->nalerts, 0), 2); /* A, B */
    assert_int_equal(triage_distinct_hosts(t, in->alerts, in->nalerts, 1), 2); /* B, C */
    assert_int_equal(triage_distinct_hosts(t, in->alerts, 1, 1), 1);
    const char *order[] = {"0 10", "120", "40", "1", "5"};
    const unsigned ids[] = {1, 5, 4, 2, 3};
    for (size_t i = 0; i < 5; i++) {
        in = triage_incident_at(t, i);
        minutes_of(t, in, m);
        assert_string_equal(m, order[i]);
        assert_int_equal(in->id, ids[i]);
    }
    triage_destroy(t);
}

/* X -> Y and Z -> W are two incidents until X -> W joins them; the input's order does not
 * matter. */
static void test_bridge(void **state)
{
    for (int rev = 0; rev < 2; rev++) {
        json_t *evs[] = {
            alert(0, 3, "recon.sweep", "10.1.0.1", "10.1.0.2"),
            alert(1, 2, "lateral.smb2", "10.1.0.3", "10.1.0.4"),
            alert(2, 3, "recon.sweep", "10.1.0.1", "10.1.0.4"),
            alert(3, 3, "recon.sweep", "10.9.0.1", "10.9.0.2"),
        };
        json_t *r[4];
        struct triage *t;
        char m[64];

        (void)state;
        for (int i = 0; i < 4; i++)
            r[i] = evs[rev ? 3 - i : i];
        t = with(r, 4, NULL);
        assert_int_equal(triage_incidents(t), 2);
        minutes_of(t, triage_incident_at(t, 0), m);
        assert_string_equal(m, "0 1 2");
        assert_int_equal(triage_incident_at(t, 0)->id, 1);
        assert_int_equal(triage_incident_at(t, 0)->severity, 2);
        minutes_of(t, triage_incident_at(t, 1), m);
        assert_string_equal(m, "3");
        triage_destroy(t);
    }
}

static size_t kept(const struct triage_filter *f)
{
    json_t *evs[] = {
        alert(0, 1, "lateral.rdp_emr", "10.0.0.1", "10.0.0.2"),
        alert(10, 2, "lateral.smb2", "10.0.0.3", "10.0.0.4"),
        alert(20, 3, "recon.sweep", "10.0.0.5", "10.0.0.1"),
    };
    struct triage *t = with(evs, 3, f);
    size_t n = triage_alerts(t);

    triage_destroy(t);
    return n;
}

static void test_filters(void **state)
{
    (void)state;
    assert_int_equal(kept(&(struct triage_filter){0}), 3);
    assert_int_equal(kept(&(struct triage_filter){.severity = 2}), 2);
    assert_int_equal(kept(&(struct triage_filter){.severity = 1}), 1);
    assert_int_equal(kept(&(struct triage_filter){.zone = "EMR"}), 1);
    assert_int_equal(kept(&(struct triage_filter){.zone = "clinical"}), 3);
    assert_int_equal(kept(&(struct triage_filter){.host = "10.0.0.1"}), 2);
    assert_int_equal(kept(&(struct triage_filter){.rule = "lateral"}), 2);
    assert_int_equal(kept(&(struct triage_filter){.rule = "lateral.smb2"}), 1);
    assert_int_equal(kept(&(struct triage_filter){.rule = "later"}), 0);
    assert_int_equal(kept(&(struct triage_filter){.rule = "11"}), 1); /* strlen("recon.sweep") */
    assert_int_equal(kept(&(struct triage_filter){.rule = "12"}), 1);
    assert_int_equal(kept(&(struct triage_filter){.rule = "lateral movement"}), 3);
    assert_int_equal(kept(&(struct triage_filter){.since_us = T0 + 10 * MIN}), 2);
    assert_int_equal(kept(&(struct triage_filter){.until_us = T0 + 10 * MIN}), 1);
}

static void write_event(FILE *f, json_t *ev)
{
    json_dumpf(ev, f, JSON_COMPACT);
    json_decref(ev);
}

/* A line still being written is read once it is whole; garbage is counted, not fatal. */
static void test_growing_file(void **state)
{
    char path[] = "/tmp/test_triage_XXXXXX";
    FILE *w = fdopen(mkstemp(path), "w"), *r = fopen(path, "r");
    char *text;
    size_t half;
    struct triage *t;
    json_t *ev = alert(1, 2, "lateral.smb2", "10.0.0.3", "10.0.0.4");

    (void)state;
    assert_int_equal(triage_create(&t), 0);
    write_event(w, alert(0, 1, "lateral.rdp_emr", "10.0.0.1", "10.0.0.2"));
    fputs("\n{\"event_type\":\"alert\", cut\nnot json\n{\"event_type\":\"flow\"}\n"
          "{\"event_type\":\"alert\",\"alert\":{}}\n",
          w);
    text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    half = strlen(text) / 2;
    fwrite(text, 1, half, w);
    fflush(w);
    assert_int_equal(triage_read(t, r, NULL, NULL), 0);
    assert_int_equal(triage_alerts(t), 1);
    assert_int_equal(triage_bad_lines(t), 2); /* the broken alert, the one without its time */
    assert_true(triage_partial(t));
    fprintf(w, "%s\n", text + half);
    fflush(w);
    clearerr(r);
    assert_int_equal(triage_read(t, r, NULL, NULL), 0);
    assert_int_equal(triage_alerts(t), 2);
    assert_int_equal(triage_bad_lines(t), 2);
    assert_false(triage_partial(t));
    assert_string_equal(triage_alert_at(t, 1)->rule, "lateral.smb2");
    assert_int_equal(triage_group(t, 0), 0);
    free(text);
    fclose(w);
    fclose(r);
    unlink(path);
    triage_destroy(t);
}

/* Parts read in parallel give what one reader gives, in the same order, names included. */
static void test_parallel(void **state)
{
    char path[] = "/tmp/test_triage_XXXXXX", inv[] = "/tmp/test_triage_inv_XXXXXX";
    FILE *w = fdopen(mkstemp(path), "w"), *iw = fdopen(mkstemp(inv), "w");
    struct triage *a, *b;
    char err[256];
    struct stat st;
    off_t end;
    int i;

    (void)state;
    fputs("{\"ip\":\"10.0.0.7\",\"names\":[\"EMR-DB01\"]}\n", iw);
    fclose(iw);
    for (i = 0; i < 30000; i++) { /* 10 MB: past the size read in parts */
        char src[32];
        snprintf(src, sizeof(src), "10.0.%d.%d", i / 250, i % 250 + 1);
        write_event(
            w, alert(i / 20.0, 1 + i % 3, i % 2 ? "lateral.smb2" : "recon.sweep", src, "10.0.0.7"));
        fputc('\n', w);
        if (i % 1000 == 0)
            fputs("{\"event_type\":\"flow\",\"flow\":{}}\n", w);
    }
    fclose(w);
    assert_int_equal(triage_create(&a), 0);
    assert_int_equal(triage_create(&b), 0);
    assert_int_equal(triage_load_names(a, inv, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(triage_load_names(b, inv, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(triage_read_path(a, path, 1, &end, err, sizeof(err)), 0);
    assert_int_equal(triage_read_path(b, path, 7, &end, err, sizeof(err)), 0);
    assert_int_equal(triage_alerts(a), 30000);
    assert_int_equal(triage_alerts(b), 30000);
    for (size_t k = 0; k < 30000; k++) {
        const struct triage_alert *x = triage_alert_at(a, k), *y = triage_alert_at(b, k);
        assert_int_equal(x->ts_us, y->ts_us);
        assert_string_equal(x->ip[0], y->ip[0]);
        assert_string_equal(y->device[1], "EMR-DB01");
    }
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(end, st.st_size);
    assert_int_equal(triage_read_path(a, "/nonexistent/eve.json", 2, &end, err, sizeof(err)),
                     MM_EIO);
    assert_non_null(strstr(err, "/nonexistent/eve.json"));
    triage_destroy(a);
    triage_destroy(b);
    unlink(path);
    unlink(inv);
}

static void test_words(void **state)
{
    (void)state;
    assert_string_equal(triage_category_text("Lateral movement", TRIAGE_EN), "Lateral movement");
    assert_string_equal(triage_category_text("Remote maintenance", TRIAGE_JA), "リモート保守");
    assert_string_equal(triage_category_text("Something new", TRIAGE_JA), "Something new");
    assert_string_equal(triage_severity_text(1, TRIAGE_JA), "高");
    assert_string_equal(triage_severity_text(3, TRIAGE_EN), "Low");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_bridge),       cmocka_unit_test(test_filters),
        cmocka_unit_test(test_growing_file), cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
