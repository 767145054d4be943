/*
 * Telling systemd: the messages arrive on a datagram socket named by NOTIFY_SOCKET, as
 * systemd's own would receive them (READY=1 with the status, STOPPING=1, WATCHDOG=1), the
 * watchdog interval comes from WATCHDOG_USEC for this process only, and nothing is sent (and
 * nothing fails) without NOTIFY_SOCKET.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/notify.h"

static int sock = -1;
static char path[64];

static int open_socket(void **state)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {2, 0};

    (void)state;
    snprintf(path, sizeof(path), "/tmp/mm-notify-%d", (int)getpid());
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    if ((sock = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
        bind(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return -1;
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return 0;
}

static int close_socket(void **state)
{
    (void)state;
    close(sock);
    unlink(path);
    return 0;
}

static void received(const char *want)
{
    char buf[256];
    ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_messages(void **state)
{
    char pid[32];

    (void)state;
    setenv("NOTIFY_SOCKET", path, 1);
    notify_ready("capturing on eth1");
    received("READY=1\nSTATUS=capturing on eth1");
    notify_status("configuration reloaded");
    received("STATUS=configuration reloaded");
    notify_watchdog();
    received("WATCHDOG=1");
    notify_stopping();
    received("STOPPING=1");

    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    setenv("WATCHDOG_USEC", "20000000", 1);
    assert_int_equal(notify_watchdog_usec(), 20000000u);
    setenv("WATCHDOG_PID", "1", 1); /* another process's watchdog */
    assert_int_equal(notify_watchdog_usec(), 0);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void test_without_systemd(void **state)
{
    char buf[16];

    (void)state;
    unsetenv("NOTIFY_SOCKET");
    notify_ready("x");
    notify_stopping();
    assert_int_equal(notify_watchdog_usec(), 0);
    assert_true(recv(sock, buf, sizeof(buf), MSG_DONTWAIT) < 0); /* nothing was sent */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_without_systemd),
    };
    return cmocka_run_group_tests(tests, open_socket, close_socket);
}
