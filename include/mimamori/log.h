/*
 * Diagnostics of the sensor itself (not events): a handful of functions to stderr, in the
 * style of OpenBSD daemons. fatal() exits and is for start-up only.
 */
#ifndef MIMAMORI_LOG_H
#define MIMAMORI_LOG_H

#include <stdarg.h>

void log_set_verbose(int level);
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* appends errno */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
