/*
 * Time zones for maintenance windows: the UTC offsets of one named zone (e.g. Asia/Tokyo) from
 * 2000 to 2100, computed once at load so that turning a packet timestamp into local wall-clock
 * time is a table lookup, with no global state touched while packets flow.
 */
#ifndef MIMAMORI_TZ_H
#define MIMAMORI_TZ_H

#include <stdint.h>
#include <time.h>
#include "mimamori/error.h"

struct tz;

/*
 * Load "Area/City" from the system's zoneinfo, "UTC", or a fixed offset "+09:00" / "-05:30".
 * 0, MM_ENOTFOUND (no such zone) or MM_ENOMEM. Briefly sets the process's TZ while loading.
 */
MM_MUST_CHECK int tz_load(const char *name, struct tz **out);
void tz_free(struct tz *z);
const char *tz_name(const struct tz *z);

/*
 * The sensor's own local time (the process's zone) of utc_s, for event timestamps: safe on any
 * thread, also while another loads a zone.
 */
void tz_localtime(int64_t utc_s, struct tm *tm);

/* Seconds east of UTC in effect at utc_s. */
int32_t tz_offset(const struct tz *z, int64_t utc_s);

/* The UTC time of a local wall-clock time (seconds since the epoch, as if local were UTC). */
int64_t tz_to_utc(const struct tz *z, int64_t local_s);

/* Local day of week (0 = Sunday) and minute of the day at utc_s. */
void tz_local(const struct tz *z, int64_t utc_s, int *wday, int *minute);

#endif
