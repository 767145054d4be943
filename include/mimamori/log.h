/*
 * Diagnostics of the sensor itself (not events): a handful of functions to stderr, in the
 * style of OpenBSD daemons. log_warnx/log_warn say something is wrong, and every such
 * condition that can end says so again with log_info when it does ("down" / "up"); log_info
 * is always written, log_debug only with -v. fatalx() exits and is for start-up only.
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
