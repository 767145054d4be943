/*
 * Telling systemd how the daemon is doing (Type=notify): ready once capturing, a status line,
 * watchdog pings, stopping. The only module that includes libsystemd; every call does nothing
 * when the sensor was not started by systemd.
 */
#ifndef MIMAMORI_NOTIFY_H
#define MIMAMORI_NOTIFY_H

#include <stdint.h>

void notify_ready(const char *status);
void notify_status(const char *status);
void notify_stopping(void);

/* Microseconds between the watchdog pings systemd expects (0: no watchdog). */
uint64_t notify_watchdog_usec(void);
void notify_watchdog(void);

#endif
