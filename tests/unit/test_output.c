/*
 * Output stage tests for events made later (flow records are serialised on the output thread):
 * they come out in the order they were handed over, mixed with ready lines; each is made exactly
 * once; one that cannot be made is counted as dropped; and when the queue is full in live mode
 * they are made at once, on the caller's thread, and go to the overflow spool in order. And
 * event times made on one thread keep the sensor's zone while another loads a maintenance zone
 * (which switches the process's TZ for a moment), and match the C library's local time across
 * changes of offset though worked out once an hour. And a file output that is a FIFO nobody reads
 * yet holds neither start-up nor shutdown: its events wait in the spool for a reader. And a
 * live sensor started as root follows no link its user planted in its own directories: neither
 * the EVE file nor a spool left by an earlier run reaches root's file behind it. Two processes
 * of one instance cannot share its spools (the second is refused, naming the first's pid), two
 * instances in one spool directory keep apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>

#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/eve.h"
#include "mimamori/output.h"
#include "mimamori/tz.h"

static atomic_uint renders, renders_here, slow_first;
static pthread_t caller;

struct arg {
    unsigned n;
    int fail;
};

/* output_render_fn: "{"n":N}" for the argument, or NULL when told to fail. */
static char *render(void *p, size_t *len)
{
    struct arg *a = p;
    char *line = NULL;

    atomic_fetch_add(&renders, 1);
    if (pthread_equal(pthread_self(), caller))
        atomic_fetch_add(&renders_here, 1);
    if (atomic_exchange(&slow_first, 0))
        usleep(300 * 1000); /* hold the output thread while the caller fills the queue */
    if (!a->fail && (line = malloc(32)) != NULL)
        *len = (size_t)snprintf(line, 32, "{\"n\":%u}", a->n);
    free(a);
    return line;
}

static void deferred(struct output *o, unsigned n, int fail)
{
    struct arg *a = malloc(sizeof(*a));

    assert_non_null(a);
    a->n = n;
    a->fail = fail;
    output_submit_deferred(o, OUTPUT_EV_FLOW, 0, n, render, a);
}

static void ready(struct output *o, unsigned n)
{
    char *line = malloc(32);

    assert_non_null(line);
    output_submit(o, OUTPUT_EV_ALERT, 2, n, line, (size_t)snprintf(line, 32, "{\"n\":%u}", n));
}

struct fixture {
    struct mm_config *cfg;
    struct output *out;
    char path[96], spool[64];
};

static void open_fixture(struct fixture *x, int live, unsigned queue)
{
    char site[256], err[256];
    struct config_diag diag = {0};
    int fd;

    strcpy(x->spool, "/tmp/mm-output-spool-XXXXXX");
    assert_non_null(mkdtemp(x->spool));
    snprintf(site, sizeof(site),
             "sensor: {name: t}\ndelivery: {queue_events: %u, spool_directory: %s}\n", queue,
             x->spool);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &x->cfg, &diag), 0);
    strcpy(x->path, "/tmp/mm-output-XXXXXX");
    assert_true((fd = mkstemp(x->path)) >= 0);
    close(fd);
    assert_int_equal(output_open(&x->out, x->cfg, x->path, live, NULL, NULL, err, sizeof(err)),
                     0);
    assert_int_equal(output_start(x->out), 0);
    atomic_store(&renders, 0);
    atomic_store(&renders_here, 0);
    caller = pthread_self();
}

/* Removes the output file, a spool file and the lock in the spool directory, and the directory. */
static void remove_fixture(struct fixture *x, const char *spool_file)
{
    char p[128];

    unlink(x->path);
    snprintf(p, sizeof(p), "%s/%s", x->spool, spool_file);
    unlink(p);
    snprintf(p, sizeof(p), "%s/read.lock", x->spool);
    unlink(p);
    assert_int_equal(rmdir(x->spool), 0);
    config_free(x->cfg);
}

/* Closes the stage and checks the file holds "{"n":i}" for i in 0..n-1, skipping skip. */
static void close_and_check(struct fixture *x, unsigned n, unsigned skip)
{
    FILE *f;
    char line[64], want[64];
    unsigned i;

    output_close(x->out);
    f = fopen(x->path, "r");
    assert_non_null(f);
    for (i = 0; i < n; i++) {
        if (i == skip)
            continue;
        snprintf(want, sizeof(want), "{\"n\":%u}\n", i);
        assert_non_null(fgets(line, sizeof(line), f));
        assert_string_equal(line, want);
    }
    assert_null(fgets(line, sizeof(line), f)); /* nothing more, nothing twice */
    fclose(f);
    remove_fixture(x, "read.overflow.spool");
}

static void test_deferred_in_order(void **state)
{
    struct fixture x;
    unsigned i;

    (void)state;
    open_fixture(&x, 0, 16);
    for (i = 0; i < 5000; i++) {
        if (i % 3 == 0)
            ready(x.out, i);
        else
            deferred(x.out, i, 0);
    }
    close_and_check(&x, 5000, ~0u);
    assert_int_equal(atomic_load(&renders), 5000 - 1667);
}

static void test_deferred_failure_counted(void **state)
{
    struct fixture x;
    struct output_stats st;
    unsigned i;

    (void)state;
    open_fixture(&x, 0, 16);
    for (i = 0; i < 10; i++)
        deferred(x.out, i, i == 4);
    for (i = 0; i < 200; i++) { /* wait (at most 2 s) for the thread to get through them */
        output_get_stats(x.out, &st);
        if (st.sink[0].sent + st.sink[0].dropped == 10)
            break;
        usleep(10 * 1000);
    }
    assert_int_equal(st.sink[0].sent, 9);
    assert_int_equal(st.sink[0].dropped, 1);
    close_and_check(&x, 10, 4);
}

static void test_deferred_overflow_in_order(void **state)
{
    struct fixture x;
    struct output_stats st;
    unsigned i;

    (void)state;
    open_fixture(&x, 1, 16);
    atomic_store(&slow_first, 1);
    for (i = 0; i < 1000; i++)
        deferred(x.out, i, 0);
    output_get_stats(x.out, &st);
    /* The output thread was held by the first: the rest filled the queue and overflowed,
     * made here rather than on the output thread. */
    assert_true(st.overflowed > 0);
    assert_int_equal(atomic_load(&renders_here), st.overflowed);
    close_and_check(&x, 1000, ~0u);
    assert_int_equal(atomic_load(&renders), 1000);
}

/* A FIFO as the only output, no reader; the stage gives up on it 1 s after being closed. */
static void open_fifo(struct fixture *x)
{
    char site[256], err[256];
    struct config_diag diag = {0};

    strcpy(x->spool, "/tmp/mm-output-spool-XXXXXX");
    assert_non_null(mkdtemp(x->spool));
    snprintf(x->path, sizeof(x->path), "%s/eve.fifo", x->spool);
    assert_int_equal(mkfifo(x->path, 0600), 0);
    snprintf(site, sizeof(site),
             "sensor: {name: t}\ndelivery: {spool_directory: %s, drain_timeout: 1s}\n", x->spool);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &x->cfg, &diag), 0);
    alarm(30); /* opening the FIFO used to wait for a reader: fail, rather than hang, if so */
    assert_int_equal(output_open(&x->out, x->cfg, x->path, 1, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(output_start(x->out), 0);
}

static void close_fifo(struct fixture *x)
{
    alarm(0);
    remove_fixture(x, "read.output0.spool");
}

static void test_fifo_reader_comes_later(void **state)
{
    struct fixture x;
    char buf[4096], want[64];
    size_t have = 0;
    ssize_t r;
    unsigned i;
    int fd;

    (void)state;
    open_fifo(&x);
    for (i = 0; i < 100; i++)
        ready(x.out, i);
    usleep(200 * 1000);
    fd = open(x.path, O_RDONLY | O_NONBLOCK); /* the reader starts: 100 short lines fit the pipe */
    assert_true(fd >= 0);
    output_close(x.out); /* waits (up to 1 s) for the spool to reach the reader */
    while ((r = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
        have += (size_t)r;
    buf[have] = '\0';
    close(fd);
    for (i = 0, r = 0; i < 100; i++) {
        snprintf(want, sizeof(want), "{\"n\":%u}\n", i);
        assert_memory_equal(buf + r, want, strlen(want));
        r += (ssize_t)strlen(want);
    }
    assert_int_equal(have, (size_t)r); /* in order, nothing twice */
    close_fifo(&x);
}

static void test_fifo_never_read(void **state)
{
    struct fixture x;
    struct stat st;
    char p[96];
    unsigned i;

    (void)state;
    open_fifo(&x);
    for (i = 0; i < 100; i++)
        ready(x.out, i);
    output_close(x.out); /* returns after the drain timeout */
    snprintf(p, sizeof(p), "%s/read.output0.spool", x.spool);
    assert_int_equal(stat(p, &st), 0); /* the events are kept for the next run */
    assert_true(st.st_size >= 100 * 8);
    close_fifo(&x);
}

static atomic_int loads_done, formats_done;

/* Loads zones until the other thread has formatted 1,000 times (and at least 20 times): the
 * two overlap however fast either one is on the machine at hand. */
static void *load_zones(void *arg)
{
    unsigned i;

    (void)arg;
    for (i = 0; i < 20 || atomic_load(&formats_done) < 1000; i++) {
        struct tz *z;
        if (tz_load("Asia/Tokyo", &z) == 0)
            tz_free(z);
    }
    atomic_store(&loads_done, 1);
    return NULL;
}

static void test_event_time_zone_during_load(void **state)
{
    struct tz *z;
    pthread_t t;
    char buf[48];
    uint64_t sec = 1700000000u, n = 0;

    (void)state;
    if (tz_load("Asia/Tokyo", &z) != 0)
        skip(); /* no tzdata here */
    tz_free(z);
    eve_format_time(sec * 1000000u, buf, sizeof(buf));
    assert_string_equal(buf + strlen(buf) - 5, "+0000"); /* the tests run with TZ=UTC */
    atomic_store(&loads_done, 0);
    atomic_store(&formats_done, 0);
    assert_int_equal(pthread_create(&t, NULL, load_zones, NULL), 0);
    while (!atomic_load(&loads_done)) {
        /* A new hour each time, so the time is worked out afresh, not taken from the cache. */
        eve_format_time((sec + ++n * 3600u) * 1000000u, buf, sizeof(buf));
        assert_string_equal(buf + strlen(buf) - 5, "+0000");
        atomic_store(&formats_done, (int)(n < 1000000 ? n : 1000000));
    }
    pthread_join(t, NULL);
}

/* What eve_format_time() should print, straight from the C library. */
static void reference_time(int64_t sec, unsigned us, char *buf, size_t len)
{
    time_t t = (time_t)sec;
    struct tm tm;
    size_t n;

    localtime_r(&t, &tm);
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, len - n, ".%06u", us);
    strftime(buf + n, len - n, "%z", &tm);
}

/*
 * Event times are worked out once per local hour and counted on from there. Every second within
 * two hours of a change of offset in New York (a whole hour, at 02:00) and on Lord Howe Island
 * (half an hour, at 02:00, so that the local hour after the change began before it) and in
 * St. John's in 2010 (at 00:01, so that the local hour before the change ends after it), each
 * followed by its mirror image across the change, and a second every 7,919 over the year, each
 * followed by one an hour earlier, match the C library's own local time.
 */
static void test_event_time_hours(void **state)
{
    static const struct {
        const char *zone;
        int64_t change; /* a change of offset (UTC seconds) */
    } zones[] = {
        {"America/New_York", 1772953200},    /* 2026-03-08 02:00 EST -> 03:00 EDT */
        {"America/New_York", 1793512800},    /* 2026-11-01 02:00 EDT -> 01:00 EST */
        {"Australia/Lord_Howe", 1775314800}, /* 2026-04-05 02:00 +11 -> 01:30 +1030 */
        {"Australia/Lord_Howe", 1791041400}, /* 2026-10-04 02:00 +1030 -> 02:30 +11 */
        {"America/St_Johns", 1268537460},    /* 2010-03-14 00:01 NST -> 01:01 NDT */
    };
    char got[48], want[48];
    unsigned i;
    int64_t s;

    (void)state;
    for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        struct tz *z;
        if (tz_load(zones[i].zone, &z) != 0)
            skip(); /* no tzdata here */
        tz_free(z);
        setenv("TZ", zones[i].zone, 1);
        tzset();
        for (s = zones[i].change - 7200; s < zones[i].change + 7200; s++) {
            int64_t mirror = 2 * zones[i].change - 1 - s; /* the other side of the change */
            eve_format_time((uint64_t)s * 1000000u + 123456u, got, sizeof(got));
            reference_time(s, 123456u, want, sizeof(want));
            assert_string_equal(got, want);
            eve_format_time((uint64_t)mirror * 1000000u, got, sizeof(got));
            reference_time(mirror, 0, want, sizeof(want));
            assert_string_equal(got, want);
        }
        for (s = 1767225600; s < 1798761600; s += 7919) { /* 2026, and back an hour each time */
            eve_format_time((uint64_t)s * 1000000u, got, sizeof(got));
            reference_time(s, 0, want, sizeof(want));
            assert_string_equal(got, want);
            eve_format_time((uint64_t)(s - 3600) * 1000000u + 999999u, got, sizeof(got));
            reference_time(s - 3600, 999999u, want, sizeof(want));
            assert_string_equal(got, want);
        }
    }
    setenv("TZ", "UTC", 1);
    tzset();
}

/* The whole of file p is want. */
static void f_expect_lines(const char *p, const char *want)
{
    char buf[256];
    size_t n;
    FILE *f = fopen(p, "r");

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

/* A root-owned 0600 file with a line in it, and whether it is still exactly that. */
static void make_secret(const char *p)
{
    FILE *f = fopen(p, "w");

    assert_non_null(f);
    fputs("{\"secret\":1}\n", f);
    fclose(f);
    assert_int_equal(chmod(p, 0600), 0);
}

static void assert_secret(const char *p)
{
    struct stat st;
    char line[64] = "";
    FILE *f = fopen(p, "r");

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_string_equal(line, "{\"secret\":1}\n");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_root_start_follows_no_planted_link(void **state)
{
    const struct privs_owner user = {65534, 65534};
    char top[] = "/tmp/mm-output-root-XXXXXX", site[512], err[512], p[256], q[256], cmd[300];
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct output *out = NULL;

    (void)state;
    if (geteuid() != 0)
        skip();
    assert_non_null(mkdtemp(top));
    snprintf(p, sizeof(p), "%s/secret", top);
    make_secret(p);
    snprintf(q, sizeof(q), "%s/log", top); /* the user's log and spool directories */
    assert_int_equal(mkdir(q, 0700), 0);
    assert_int_equal(chown(q, user.uid, user.gid), 0);
    snprintf(q, sizeof(q), "%s/spool", top);
    assert_int_equal(mkdir(q, 0700), 0);
    assert_int_equal(chown(q, user.uid, user.gid), 0);
    snprintf(site, sizeof(site), "sensor: {name: t}\ndelivery: {spool_directory: %s/spool}\n", top);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);

    /* The EVE file is a link to root's file: refused, and saying why. */
    snprintf(q, sizeof(q), "%s/log/eve.json", top);
    assert_int_equal(symlink(p, q), 0);
    assert_int_not_equal(output_open(&out, cfg, q, 1, "eth9", &user, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "symbolic link"));
    assert_secret(p);
    unlink(q);

    /* The spool an earlier run left is a link to it: not given away, emptied or replayed. */
    snprintf(q, sizeof(q), "%s/spool/eth9.output0.spool", top);
    assert_int_equal(symlink(p, q), 0);
    snprintf(q, sizeof(q), "%s/log/eve.json", top);
    assert_int_equal(output_open(&out, cfg, q, 1, "eth9", &user, err, sizeof(err)), 0);
    assert_int_equal(output_give_spool(out, &user, err, sizeof(err)), 0);
    assert_int_equal(output_start(out), 0);
    ready(out, 1);
    output_close(out);
    assert_secret(p);
    f_expect_lines(q, "{\"n\":1}\n");

    config_free(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
    assert_int_equal(system(cmd), 0);
}

static void test_instances_lock_their_spools(void **state)
{
    char top[] = "/tmp/mm-output-lock-XXXXXX", site[256], err[640], eve[128], p[256], pid[32];
    struct config_diag diag = {0};
    struct mm_config *cfg;
    struct output *a, *b, *c;
    const char *names[] = {"eth1.lock", "eth2.lock", "eth1.output0.spool", NULL};
    unsigned i;

    (void)state;
    assert_non_null(mkdtemp(top));
    snprintf(site, sizeof(site), "sensor: {name: t}\ndelivery: {spool_directory: %s}\n", top);
    assert_int_equal(config_load_string("site.yaml", site, strlen(site), &cfg, &diag), 0);
    snprintf(eve, sizeof(eve), "%s/eve.json", top);
    assert_int_equal(output_open(&a, cfg, eve, 1, "eth1", NULL, err, sizeof(err)), 0);
    assert_int_equal(output_open(&b, cfg, eve, 1, "eth1", NULL, err, sizeof(err)), 0);
    assert_int_equal(output_open(&c, cfg, eve, 1, "eth2", NULL, err, sizeof(err)), 0);
    assert_int_equal(output_lock(a, err, sizeof(err)), 0);
    assert_int_equal(output_lock(b, err, sizeof(err)), MM_EIO);
    snprintf(pid, sizeof(pid), "(pid %ld)", (long)getpid());
    assert_non_null(strstr(err, pid));
    assert_non_null(strstr(err, "eth1.lock"));
    assert_int_equal(output_lock(c, err, sizeof(err)), 0);
    output_close(b);
    output_close(c);
    /* Freed at close: the next process takes them. */
    output_close(a);
    assert_int_equal(output_open(&b, cfg, eve, 1, "eth1", NULL, err, sizeof(err)), 0);
    assert_int_equal(output_lock(b, err, sizeof(err)), 0);
    output_close(b);
    output_instance_name(p, sizeof(p), "eth0.10+br/0 x");
    assert_string_equal(p, "eth0.10+br_0_x");
    for (i = 0; names[i] != NULL; i++) {
        snprintf(p, sizeof(p), "%s/%s", top, names[i]);
        unlink(p);
    }
    unlink(eve);
    assert_int_equal(rmdir(top), 0);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deferred_in_order),
        cmocka_unit_test(test_deferred_failure_counted),
        cmocka_unit_test(test_deferred_overflow_in_order),
        cmocka_unit_test(test_event_time_zone_during_load),
        cmocka_unit_test(test_event_time_hours),
        cmocka_unit_test(test_fifo_reader_comes_later),
        cmocka_unit_test(test_fifo_never_read),
        cmocka_unit_test(test_root_start_follows_no_planted_link),
        cmocka_unit_test(test_instances_lock_their_spools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
