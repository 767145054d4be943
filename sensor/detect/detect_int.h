/*
 * Private to the detection module: the per-rule trackers that count what one host (or host
 * pair) did within a window — distinct peers or ports, session times, byte sums. Each tracker
 * is a fixed open-addressed table sized at start-up; a full probe window replaces its least
 * recently seen entry (counted), so memory never grows with traffic.
 */
#ifndef MIMAMORI_DETECT_INT_H
#define MIMAMORI_DETECT_INT_H

#include <stdint.h>

struct track_item {
    uint64_t v;     /* a distinct value (hash of a host or port), or a bucket number */
    uint64_t ts_us; /* when it was last seen; for sums, the bytes of the bucket */
};

struct track_entry {
    uint64_t key; /* 0: empty */
    uint64_t last_us;
    uint32_t n; /* items in use */
    uint32_t pad;
    struct track_item item[];
};

struct track;

int detect__track_create(struct track **out, unsigned slots, unsigned items);
void detect__track_destroy(struct track *t);

/* The entry of key (non-zero), created empty if absent. Never NULL. */
struct track_entry *detect__track_get(struct track *t, uint64_t key, uint64_t now_us);
void detect__track_reset(struct track_entry *e);

/* Add a distinct value seen at ts; forget values older than window. Returns distinct count. */
unsigned detect__track_distinct(struct track *t, struct track_entry *e, uint64_t v, uint64_t ts_us,
                                uint64_t window_us);

/* Add an event at ts; forget those older than window. Returns how many remain. */
unsigned detect__track_times(struct track *t, struct track_entry *e, uint64_t ts_us,
                             uint64_t window_us);

/* Add bytes at ts to a sliding sum over window (MM_EXFIL_BUCKETS sub-windows); returns the sum. */
uint64_t detect__track_sum(struct track_entry *e, uint64_t bytes, uint64_t ts_us,
                           uint64_t window_us);

uint64_t detect__track_evictions(const struct track *t);

/* Mix words into a non-zero 64-bit key. */
uint64_t detect__hash(uint64_t seed, const void *data, unsigned len);

#endif
