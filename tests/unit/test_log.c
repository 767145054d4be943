/*
 * The sensor's own diagnostics on stderr: "mimamori: " and the message, errno's text after
 * log_warn's, information always (a down must be followed by its up in the journal), debug
 * only with -v.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/log.h"

/* What fn wrote to stderr. */
static void captured(void (*fn)(void), char *buf, size_t len)
{
    char path[] = "/tmp/mm-log-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    ssize_t n;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = pread(fd, buf, len - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
}

static void quiet(void)
{
    log_set_verbose(0);
    log_info("output %s: up", "syslog");
    log_debug("not shown %d", 1);
    errno = ENOSPC;
    log_warn("spool %s", "/var/spool/x");
    log_warnx("plain %u", 7u);
}

static void verbose(void)
{
    log_set_verbose(1);
    log_debug("shown %d", 2);
    log_set_verbose(0);
}

static void test_levels(void **state)
{
    char buf[1024];

    (void)state;
    captured(quiet, buf, sizeof(buf));
    assert_string_equal(buf, "mimamori: output syslog: up\n"
                             "mimamori: spool /var/spool/x: No space left on device\n"
                             "mimamori: plain 7\n");
    captured(verbose, buf, sizeof(buf));
    assert_string_equal(buf, "mimamori: shown 2\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
