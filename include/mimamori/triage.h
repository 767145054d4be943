/*
 * Reading the sensor's EVE output back, for people: alerts are kept with the fields a reader
 * needs (time, rule, severity, hosts with their zones and names, evidence, next steps) and
 * grouped into incidents, so that an attack of twenty alerts reads as one thing to handle.
 * Alerts join one incident when they share a host (as source or target) within a window of
 * each other, across rules. The on-call view (mimamori-alerts) and the report
 * (mimamori-report) are both built on this; nothing here runs in the sensor itself.
 */
#ifndef MIMAMORI_TRIAGE_H
#define MIMAMORI_TRIAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>

#include "mimamori/error.h"

#define TRIAGE_WINDOW_US (30 * 60 * 1000000LL) /* default gap that still joins an incident */

enum triage_lang { TRIAGE_JA, TRIAGE_EN };

/* One alert as read back. Strings are owned by the triage and live as long as it does. */
struct triage_alert {
    int64_t ts_us; /* UTC */
    int tz_min;    /* the offset the sensor wrote, minutes east of UTC */
    uint32_t sid;
    uint32_t count;   /* repetitions folded into this alert by the sensor */
    uint16_t port[2]; /* source, target */
    uint8_t severity; /* 1 high, 2 medium, 3 low */
    uint8_t blocked;
    uint64_t flow_id;
    const char *ip[2], *zone[2], *zone_desc[2], *device[2];
    const char *rule, *category, *signature, *message_ja, *next_ja, *next_en, *guideline;
    const char *proto, *app_proto;
    const char *evidence; /* "name=value, ..." */
    size_t incident;      /* index into the incidents, after triage_group */
};

/* An incident: alerts sharing hosts within the window. */
struct triage_incident {
    unsigned id;      /* 1, 2, ... in the order incidents began */
    uint8_t severity; /* the highest (lowest number) of its alerts */
    int64_t first_us, last_us;
    size_t nalerts;
    uint64_t count;       /* alerts with their folded repetitions */
    const size_t *alerts; /* alert indices, in time order */
    size_t lead;          /* the alert that names it: the first of the highest severity */
};

/* Which alerts are kept. Zero fields do not filter. */
struct triage_filter {
    int64_t since_us, until_us; /* [since, until) */
    int severity;               /* keep severity <= this */
    const char *zone;           /* either end in this zone */
    const char *host;           /* either end this address or device name (any case) */
    const char *rule;           /* rule key, signature id or category (any case) */
};

struct triage;

MM_MUST_CHECK int triage_create(struct triage **out);
void triage_destroy(struct triage *t);

/* Set before reading; the strings are used in place and must outlive the triage. */
void triage_set_filter(struct triage *t, const struct triage_filter *f);

/*
 * Names for devices, from an inventory (mimamori --inventory) or connections (--connections)
 * file: an alert end without a device name of its own takes the first name a line gives its
 * address. fn, when not NULL, also sees each line (borrowed for the call); a negative return
 * stops the reading, its message in why. Returns 0, or a negative code with err filled
 * ("file:line: why" for a bad line).
 */
typedef int (*triage_line_fn)(void *ud, json_t *line, char *why, size_t whylen);
int triage_load_names(struct triage *t, const char *path, triage_line_fn fn, void *ud, char *err,
                      size_t errlen);

/*
 * An event other than an alert, for a reader that wants them too (the report); ev is
 * borrowed for the call. A NULL callback leaves such lines unparsed, which is most of the
 * time a plain alert view would spend.
 */
typedef void (*triage_event_fn)(void *ud, const char *type, json_t *ev);

/*
 * Read EVE lines from f until its end: alerts passing the filter are kept, other events go to
 * fn. A line that is not JSON is counted (triage_bad_lines; without a callback only one that
 * mentions "alert", the others being skipped unread), never fatal. A last line without
 * its newline in a seekable file is left unread, the file positioned before it, so that a
 * later call on a growing file reads it whole (triage_partial says so meanwhile).
 * Returns 0 or MM_EIO.
 */
int triage_read(struct triage *t, FILE *f, triage_event_fn fn, void *ud);

/*
 * Read the alerts of a regular file with up to `threads` parsers on parts of it, as
 * triage_read without a callback would; *end is where the reading stopped (before a last line
 * still being written), for following the file from there. Returns 0, or a negative code with
 * err naming the file and the failure.
 */
int triage_read_path(struct triage *t, const char *path, unsigned threads, off_t *end, char *err,
                     size_t errlen);

/*
 * Reading one file in parts on threads, for any reader of EVE lines (triage_read_path, the
 * report): the file is cut at line starts into one part per thread (one part for a small or
 * not regular file); for each, create makes the part's own state from ud, read reads the lines
 * starting in [from, to) (to < 0: to the end) on the part's thread, setting *end where it
 * stopped; then, in file order, merge adds each part to ud and destroy frees it. Returns 0,
 * or a negative code with err naming the file.
 */
struct triage_split {
    int (*create)(void *ud, void **part);
    int (*read)(void *part, const char *path, off_t from, off_t to, off_t *end);
    int (*merge)(void *ud, void *part);
    void (*destroy)(void *part);
};
int triage_split_read(const char *path, unsigned threads, const struct triage_split *ops, void *ud,
                      off_t *end, char *err, size_t errlen);
/* The pieces for a part that is, or holds, a triage: triage_read_range reads the lines
 * starting in [from, to) as triage_read does; triage_create_part makes a triage with t's
 * filter and names (shared, read-only); triage_merge takes a part's alerts over after t's. */
int triage_read_range(struct triage *t, const char *path, off_t from, off_t to, triage_event_fn fn,
                      void *ud, off_t *end);
MM_MUST_CHECK int triage_create_part(struct triage **out, const struct triage *of);
int triage_merge(struct triage *t, const struct triage *part);

/* Keep one event if it is an alert passing the filter: 1 kept, 0 not (an alert event without
 * its timestamp or alert object counts as a bad line), MM_ENOMEM. */
int triage_add(struct triage *t, json_t *ev);

/*
 * Group the alerts kept so far into incidents, window_us the longest gap within one.
 * Alerts are put in time order first (files from several sensors interleave). Incidents
 * come out in the order of triage_incident_at: by severity, then the latest activity first.
 */
MM_MUST_CHECK int triage_group(struct triage *t, int64_t window_us);

/*
 * Following a live file: group the alerts added since the last call, in the order they came,
 * onto the existing incidents. Returns 0 or MM_ENOMEM; triage_alert_at(i)->incident tells
 * each new alert's incident.
 */
MM_MUST_CHECK int triage_group_more(struct triage *t);

size_t triage_alerts(const struct triage *t);
const struct triage_alert *triage_alert_at(const struct triage *t, size_t i);
size_t triage_incidents(const struct triage *t);
const struct triage_incident *triage_incident_at(const struct triage *t, size_t i);
/* The incident an alert belongs to (after triage_group or triage_group_more). */
const struct triage_incident *triage_incident_of(const struct triage *t, size_t alert);
size_t triage_bad_lines(const struct triage *t);
/* How many distinct addresses one end (0 source, 1 target) of the alerts idx[0..n) has. */
size_t triage_distinct_hosts(const struct triage *t, const size_t *idx, size_t n, int end);
/* Whether the last read stopped before a line without its newline. */
int triage_partial(const struct triage *t);

/*
 * A time from the command line: "2026-11-24", "2026-11-24 05:00", "2026-11-24T05:00:00+09:00"
 * (without an offset: the machine's local time), or a span before now: "30m", "2h", "7d".
 * Returns 0 or MM_EINVAL.
 */
int triage_parse_time(const char *s, int64_t now_us, int64_t *out_us);
/* A duration "90s", "30m", "2h", "1d" (a bare number is seconds). Returns 0 or MM_EINVAL. */
int triage_parse_span(const char *s, int64_t *out_us);
/* An EVE timestamp; the offset it carries in *tz_min. Returns 0 or MM_EINVAL. */
int triage_parse_eve_time(const char *s, int64_t *out_us, int *tz_min);
/* "2026-11-24 05:00:00" at the offset tz_min (no date when with_date is 0). */
void triage_format_time(char *buf, size_t len, int64_t ts_us, int tz_min, int with_date);

/* Words for a reader: the category and severity in the language asked for. */
const char *triage_category_text(const char *category, enum triage_lang lang);
const char *triage_severity_text(int severity, enum triage_lang lang);

#endif
