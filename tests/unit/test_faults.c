/*
 * Faults the system can hand the sensor, injected at the C library's edge with the linker's
 * --wrap: write() to the EVE file failing with ENOSPC after half a batch went out (a disk that
 * fills mid-write), and malloc() failing while an alert is built. The file must hold whole
 * lines only, every event must be either written or spooled (none lost, none twice), and a
 * failed allocation must cost that one event, reported, not the process.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/eve.h"
#include "mimamori/output.h"
#include "mimamori/rules.h"

/* --- the wrapped functions --------------------------------------------------------------- */

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

static ino_t fail_ino;        /* write(): the file that fills up (0: none) */
static int fail_half_done;    /* its first failing write went out half */
static int fail_malloc_calls; /* malloc(): the next n calls fail */

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    struct stat st;

    if (fail_ino != 0 && fstat(fd, &st) == 0 && st.st_ino == fail_ino) {
        if (!fail_half_done && n > 1) {
            fail_half_done = 1;
            return __real_write(fd, buf, n / 2); /* the disk took half */
        }
        errno = ENOSPC;
        return -1;
    }
    return __real_write(fd, buf, n);
}

void *__wrap_malloc(size_t n)
{
    if (fail_malloc_calls > 0) {
        fail_malloc_calls--;
        return NULL;
    }
    return __real_malloc(n);
}

/* --- tests ---------------------------------------------------------------------------------- */

static char top[] = "/tmp/mm-faults-XXXXXX";

static struct output *open_output(struct mm_config **cfg, const char *eve, const char *spool)
{
    static struct config_diag diag;
    char site[256], err[256];
    struct output *o;

    snprintf(site, sizeof(site),
             "sensor: {name: t}\ndelivery: {spool_directory: %s, drain_timeout: 1s}\n", spool);
    assert_int_equal(config_load_string("s.yaml", site, strlen(site), cfg, &diag), 0);
    assert_int_equal(output_open(&o, *cfg, eve, 0, "read", NULL, err, sizeof(err)), 0);
    assert_int_equal(output_start(o), 0);
    return o;
}

/* Waits (10 s at most) until the output thread has placed n events, written or spooled. */
static void wait_placed(struct output *o, uint64_t n, struct output_stats *st)
{
    unsigned i;

    for (i = 0; i < 1000; i++) {
        output_get_stats(o, st);
        if (st->nsinks == 1 && st->sink[0].sent + st->sink[0].spooled + st->sink[0].dropped >= n)
            return;
        usleep(10000);
    }
    fail_msg("the output thread did not place %llu events", (unsigned long long)n);
}

/* The EVE file's lines must be events 0, 1, ... in order, whole; how many. */
static unsigned whole_lines(const char *eve)
{
    char line[128], want[64];
    unsigned n = 0;
    FILE *f;

    assert_non_null(f = fopen(eve, "r"));
    while (fgets(line, sizeof(line), f) != NULL) {
        snprintf(want, sizeof(want), "{\"event_type\":\"alert\",\"n\":%u}\n", n);
        assert_string_equal(line, want);
        n++;
    }
    fclose(f);
    return n;
}

static void test_disk_fills_mid_write(void **state)
{
    char eve[128], spool[128], *msg;
    struct mm_config *cfg;
    struct output *o;
    struct output_stats st;
    struct stat sb;
    unsigned i, whole;
    FILE *f;

    (void)state;
    snprintf(eve, sizeof(eve), "%s/eve.json", top);
    snprintf(spool, sizeof(spool), "%s/spool1", top);
    assert_non_null(f = fopen(eve, "w"));
    fclose(f);
    assert_int_equal(stat(eve, &sb), 0);
    fail_ino = sb.st_ino;
    fail_half_done = 0;
    o = open_output(&cfg, eve, spool);
    for (i = 0; i < 40; i++) {
        assert_non_null(msg = malloc(64));
        snprintf(msg, 64, "{\"event_type\":\"alert\",\"n\":%u}", i);
        output_submit(o, OUTPUT_EV_ALERT, 1, 1795496400000000ull + i, msg, strlen(msg));
    }
    wait_placed(o, 40, &st);
    output_close(o);
    config_free(cfg);
    whole = whole_lines(eve); /* no torn line: the half-written batch was cut back */
    assert_true(whole > 0 && whole < 40);
    assert_int_equal(st.sink[0].sent, whole);
    assert_int_equal(st.sink[0].spooled, 40 - whole);
    assert_int_equal(st.sink[0].dropped, 0);

    /* Room again: the next run of the instance writes the spooled events after the others. */
    fail_ino = 0;
    o = open_output(&cfg, eve, spool);
    output_close(o);
    config_free(cfg);
    assert_int_equal(whole_lines(eve), 40);
}

static void test_alert_without_memory(void **state)
{
    static const char rules[] = "rules:\n  - key: t.r\n    signature_id: 1\n    type: lateral\n"
                                "    severity: 1\n    category: Lateral movement\n"
                                "    signature: t\n    message_ja: t\n    mitre_attack: [T1021]\n"
                                "    guideline: g\n    to: [emr]\n    protocols: [RDP]\n";
    static struct config_diag diag;
    char eve[128], line[4096];
    struct mm_config *cfg;
    struct output *o;
    struct eve *e;
    struct ruleset *rs;
    struct eve_ctx ctx = {0};
    struct eve_alert a = {0};
    unsigned n = 0;
    FILE *f;

    (void)state;
    snprintf(eve, sizeof(eve), "%s/eve2.json", top);
    snprintf(line, sizeof(line), "%s/spool2", top);
    o = open_output(&cfg, eve, line);
    assert_int_equal(rules_load_string(cfg, "r.yaml", rules, sizeof(rules) - 1, &rs, &diag), 0);
    assert_int_equal(eve_create(&e, o), 0);
    ctx.cfg = cfg;
    a.rule = &rs->r[0];
    a.ts_us = 1795496400000000ull;
    a.iface = -1;
    fail_malloc_calls = 1;
    assert_int_equal(eve_write_alert(e, &ctx, NULL, &a), MM_ENOMEM);
    assert_int_equal(fail_malloc_calls, 0);
    assert_int_equal(eve_write_alert(e, &ctx, NULL, &a), 0); /* the next one is written */
    output_close(o);
    eve_destroy(e);
    assert_non_null(f = fopen(eve, "r"));
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, "\"rule\":[\"t.r\"]") != NULL;
    fclose(f);
    assert_int_equal(n, 1);
    rules_free(rs);
    config_free(cfg);
}

static int make_top(void **state)
{
    (void)state;
    return mkdtemp(top) != NULL ? 0 : -1;
}

static int remove_top(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_fills_mid_write),
        cmocka_unit_test(test_alert_without_memory),
    };
    return cmocka_run_group_tests(tests, make_top, remove_top);
}
