/*
 * Private to the daemon: loading a new config snapshot (reload.c) on a thread of its own, so
 * that parsing the site config, compiling the rules and reading a million indicators does not
 * stop the capture; the capture loop only switches to the snapshot once it is ready. Also
 * watches the intel feed files, asking for a reload when one changes.
 */
#ifndef MIMAMORI_RELOAD_H
#define MIMAMORI_RELOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mimamori/config.h"

/* Loads path (NULL: the default) into *cfg: 0, or a negative code with *nerr errors printed. */
typedef int (*reload_load_fn)(const char *path, struct mm_config **cfg, unsigned *nerr);

struct reloader {
    reload_load_fn load;
    const char *path;
    pthread_t tid;
    int running;         /* a load was started and not yet collected */
    atomic_int finished; /* the thread is done with next, rc and nerr */
    struct mm_config *next;
    unsigned nerr;
    int rc;
    uint64_t next_watch_us; /* wall clock of the next look at the feed files */
    uint64_t tried_stamp;   /* the feed files' stamp a reload was last started for */
};

void reloader_init(struct reloader *r, const char *path, reload_load_fn load);

/* Start loading, unless a load is under way already (then the request joins it). */
void reloader_start(struct reloader *r);

/*
 * A finished load: 1 with *next (NULL when it failed: *nerr errors) and the thread joined; 0
 * while none is finished.
 */
int reloader_collect(struct reloader *r, struct mm_config **next, unsigned *nerr);

/*
 * Every few seconds (wall clock): whether a feed file of the running snapshot changed since it
 * was read and no reload was started for that change yet.
 */
int reloader_feeds_changed(struct reloader *r, const struct mm_config *running, uint64_t now_us);

/*
 * The snapshot a reload replaced, freed on a thread of its own: a million indicators take
 * milliseconds to give back, which the capture thread would spend not reading packets.
 */
void reloader_retire(struct mm_config *old);

/* At exit: wait for a load under way and drop what it made. */
void reloader_stop(struct reloader *r);

#endif
