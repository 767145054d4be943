/*
 * Sensor diagnostics to stderr: "mimamori: message" (journald stamps and keeps them under
 * systemd). Warnings and information always; debug output only with -v. Events never go
 * through here; they go through the EVE writer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/log.h"

static int log_verbose;

void log_set_verbose(int level)
{
    log_verbose = level;
}

static void log_vwrite(const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 1, 0)));

static void log_vwrite(const char *fmt, va_list ap, const char *suffix)
{
    fputs("mimamori: ", stderr);
    vfprintf(stderr, fmt, ap);
    if (suffix != NULL)
        fprintf(stderr, ": %s", suffix);
    fputc('\n', stderr);
}

void log_warnx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(fmt, ap, NULL);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    const char *err = strerror(errno);
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(fmt, ap, err);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(fmt, ap, NULL);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;
    if (log_verbose < 1)
        return;
    va_start(ap, fmt);
    log_vwrite(fmt, ap, NULL);
    va_end(ap);
}

void fatalx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(fmt, ap, NULL);
    va_end(ap);
    exit(1);
}
