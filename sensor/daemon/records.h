/*
 * Private to the daemon: what the sensor keeps beside its events (records.c): the device
 * inventory and its state file, the external connections list, the communication baseline and
 * the config it proposes; written at exit and, live, every inventory.interval on a thread of
 * their own (the proposal once learning.period has passed, on the capture thread).
 */
#ifndef MIMAMORI_RECORDS_H
#define MIMAMORI_RECORDS_H

#include <limits.h>
#include <stdint.h>

#include "mimamori/config.h"

struct records {
    struct inventory *inv;     /* the devices seen */
    struct connections *conns; /* --connections: the external parties, else NULL */
    struct baseline *base;     /* --propose-config: who talked with whom, else NULL */
    struct oui *oui;           /* the IEEE registry, when a vendor is written */
    const char *inventory_path, *inventory_csv, *connections_path, *connections_csv; /* or NULL */
    const char *propose_path;                                                        /* or NULL */
    char state[PATH_MAX];        /* inventory.state, for this instance; "" none */
    char learned[PATH_MAX + 16]; /* the baseline rules' learning beside it (.baseline); "" none */
    uint64_t next_us;            /* live: when the files are written next (0: not yet set) */
    uint64_t propose_us;         /* live: when the proposal is due (0: not yet set) */
    int proposed;                /* live: written once learning.period passed */
};

struct engine;
struct eve;

/*
 * Make the tables and subscribe them to the engine; instance (or NULL) names this instance's
 * state file. 0, or -1 with err filled.
 */
int records_open(struct records *r, const struct mm_config *cfg, struct engine *eng,
                 struct eve *eve, const char *instance, char *err, size_t errlen);

/* Live, on each pass of the capture loop (wall clock). */
void records_tick(struct records *r, const struct mm_config *cfg, uint64_t now_us);

/* At exit: the live writer finished, every file written once more. 0, or 1 if one failed. */
int records_finish(struct records *r, const struct mm_config *cfg);

void records_close(struct records *r);

#endif
