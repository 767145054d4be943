/*
 * Spool tests in a temporary directory: lines come back in order, the size bound holds, the
 * file empties once read, unread lines survive a close and reopen (and read ones do not), and a
 * torn last line left by a crash is skipped. A spool name that is a symbolic link or a hard
 * link to another file is refused, and that file is left as it was.
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

#include "mimamori/error.h"
#include "mimamori/spool.h"

static char dir[] = "/tmp/mm-spool-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL;
}

static int teardown(void **state)
{
    char path[512];

    (void)state;
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    return system(path) != 0;
}

static void expect_line(struct spool *s, const char *want)
{
    const char *line;
    size_t len;

    assert_int_equal(spool_peek(s, &line, &len), 1);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(line, want, len);
    spool_consume(s);
}

static void test_fifo_and_bound(void **state)
{
    struct spool *s;
    const char *line;
    size_t len;
    struct stat st;
    char path[512];

    (void)state;
    assert_int_equal(spool_open(&s, dir, "a.spool", 40), 0);
    assert_int_equal(spool_append(s, "first event", 11), 0);
    assert_int_equal(spool_append(s, "second event", 12), 0);
    /* 25 bytes used: a 20-byte line would pass the 40-byte bound. */
    assert_int_equal(spool_append(s, "this one is too long", 20), MM_EFULL);
    assert_int_equal(spool_pending(s), 25);
    expect_line(s, "first event");
    expect_line(s, "second event");
    assert_int_equal(spool_peek(s, &line, &len), 0);
    assert_int_equal(spool_pending(s), 0);
    snprintf(path, sizeof(path), "%s/a.spool", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0); /* emptied once read */
    /* Room again after emptying. */
    assert_int_equal(spool_append(s, "this one fits now", 17), 0);
    spool_close(s);
}

static void test_survives_restart(void **state)
{
    struct spool *s;
    const char *line;
    size_t len;

    (void)state;
    assert_int_equal(spool_open(&s, dir, "b.spool", 1 << 20), 0);
    spool_append(s, "one", 3);
    spool_append(s, "two", 3);
    spool_append(s, "three", 5);
    expect_line(s, "one"); /* delivered before the stop */
    spool_close(s);
    assert_int_equal(spool_open(&s, dir, "b.spool", 1 << 20), 0);
    assert_int_equal(spool_pending(s), 10);
    expect_line(s, "two");
    expect_line(s, "three");
    assert_int_equal(spool_peek(s, &line, &len), 0);
    spool_close(s);
}

static void test_torn_tail(void **state)
{
    struct spool *s;
    const char *line;
    size_t len;
    char path[512];
    FILE *fp;

    (void)state;
    snprintf(path, sizeof(path), "%s/c.spool", dir);
    fp = fopen(path, "w");
    fputs("whole line\nhalf a li", fp); /* a crash in the middle of an append */
    fclose(fp);
    assert_int_equal(spool_open(&s, dir, "c.spool", 1 << 20), 0);
    expect_line(s, "whole line");
    assert_int_equal(spool_peek(s, &line, &len), 0);
    assert_int_equal(spool_pending(s), 0);
    spool_close(s);
}

static void test_links_refused(void **state)
{
    struct spool *s = NULL;
    char target[512], p[512], buf[32] = "";
    FILE *fp;

    (void)state;
    snprintf(target, sizeof(target), "%s/target", dir);
    fp = fopen(target, "w");
    assert_non_null(fp);
    fputs("kept\n", fp);
    fclose(fp);
    snprintf(p, sizeof(p), "%s/sym.spool", dir);
    assert_int_equal(symlink(target, p), 0);
    assert_int_equal(spool_open(&s, dir, "sym.spool", 1 << 20), MM_EIO);
    assert_null(s);
    snprintf(p, sizeof(p), "%s/hard.spool", dir);
    assert_int_equal(link(target, p), 0);
    assert_int_equal(spool_open(&s, dir, "hard.spool", 1 << 20), MM_EIO);
    assert_int_equal(errno, EPERM);
    fp = fopen(target, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "kept\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_bound),
        cmocka_unit_test(test_survives_restart),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_links_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
