/*
 * Config reloads off the capture thread: SIGHUP (or a changed intel feed) starts a thread that
 * loads the site config, its rules and feeds into a new snapshot; the capture loop collects it
 * when done and switches the engine to it between two batches of packets. One load at a time;
 * a request during a load is served by it (it reads the files afterwards anyway).
 */
#include <stdlib.h>

#include "reload.h"

#define WATCH_US (5 * 1000000ULL) /* how often the feed files are looked at */

void reloader_init(struct reloader *r, const char *path, reload_load_fn load)
{
    r->load = load;
    r->path = path;
    r->running = 0;
    atomic_init(&r->finished, 0);
    r->next = NULL;
    r->nerr = 0;
    r->rc = 0;
    r->next_watch_us = 0;
    r->tried_stamp = 0;
}

static void *loading(void *arg)
{
    struct reloader *r = arg;

    r->next = NULL;
    r->nerr = 0;
    r->rc = r->load(r->path, &r->next, &r->nerr);
    if (r->rc != 0) {
        config_free(r->next);
        r->next = NULL;
    }
    atomic_store(&r->finished, 1);
    return NULL;
}

void reloader_start(struct reloader *r)
{
    if (r->running)
        return;
    atomic_store(&r->finished, 0);
    if (pthread_create(&r->tid, NULL, loading, r) != 0) {
        loading(r); /* no thread to be had: load here, as before */
        r->tid = pthread_self();
        r->running = 2;
        return;
    }
    r->running = 1;
}

int reloader_collect(struct reloader *r, struct mm_config **next, unsigned *nerr)
{
    if (!r->running || !atomic_load(&r->finished))
        return 0;
    if (r->running == 1)
        pthread_join(r->tid, NULL);
    r->running = 0;
    *next = r->next;
    *nerr = r->nerr > 0 ? r->nerr : (r->rc != 0);
    r->next = NULL;
    return 1;
}

int reloader_feeds_changed(struct reloader *r, const struct mm_config *running, uint64_t now_us)
{
    uint64_t stamp;

    if (running->nfeeds == 0 || now_us < r->next_watch_us)
        return 0;
    r->next_watch_us = now_us + WATCH_US;
    stamp = config_intel_stamp(running);
    if (stamp == running->intel_stamp || stamp == r->tried_stamp)
        return 0;
    r->tried_stamp = stamp; /* once per change: a broken feed is not loaded again and again */
    return 1;
}

static void *retiring(void *arg)
{
    config_free(arg);
    return NULL;
}

void reloader_retire(struct mm_config *old)
{
    pthread_attr_t a;
    pthread_t tid;
    int started;

    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&tid, &a, retiring, old) == 0;
    pthread_attr_destroy(&a);
    if (!started)
        config_free(old);
}

void reloader_stop(struct reloader *r)
{
    if (r->running == 1)
        pthread_join(r->tid, NULL);
    if (r->running != 0)
        config_free(r->next);
    r->next = NULL;
    r->running = 0;
}
