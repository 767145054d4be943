/*
 * The output thread and its destinations ("sinks"): the queue, the thread's loop, setting sinks
 * up from the config, the per-instance spool lock, and the counters. The queue is a ring of
 * event pointers under one mutex, held only to push or to take a batch; the thread delivers a
 * batch to each sink in turn (output_sink.c; files in output_file.c). Spools are opened only
 * when first needed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mimamori/error.h"
#include "mimamori/log.h"
#include "mimamori/output.h"
#include "mimamori/privs.h"
#include "mimamori/spool.h"
#include "mimamori/syslog.h"
#include "mimamori/syslog_tls.h"

#include "output_int.h"

const char *const output__type_names[] = {"alert", "flow", "stats", "inventory"};

/* Copy the sinks' counters where other threads may read them (called with mu held). */
static void publish(struct output *o)
{
    unsigned i;

    for (i = 0; i < o->nsinks; i++) {
        const struct sink *k = &o->sink[i];
        o->pub[i] = k->st;
        _Static_assert(sizeof(o->pub[i].name) == sizeof(k->name), "sink name sizes");
        memcpy(o->pub[i].name, k->name, sizeof(k->name));
        o->pub[i].up = (unsigned)k->up;
        o->pub[i].spool_bytes = k->spool != NULL ? spool_pending(k->spool) : 0;
    }
}

uint64_t output__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- spools ----------------------------------------------------------------------------------- */

/*
 * Take this instance's spools: an flock on instance.lock in the spool directory, whose file
 * says the holder's pid. Two processes appending to one spool would interleave and replay each
 * other's events. 0, or MM_EIO with err filled.
 */
int output__lock_spools(struct output *o, char *err, size_t errlen)
{
    char p[512], pid[32] = "";
    ssize_t n;
    int fd, r = 0;

    pthread_mutex_lock(&o->lock_mu);
    if (o->lock_fd >= 0 || o->lock_failed) {
        if (o->lock_fd < 0)
            snprintf(err, errlen, "the spools of %s/%s could not be taken (said above)",
                     o->spool_dir, o->instance);
        r = o->lock_fd >= 0 ? 0 : MM_EIO;
        goto out;
    }
    mkdir(o->spool_dir, 0700);
    snprintf(p, sizeof(p), "%s/%s.lock", o->spool_dir, o->instance);
    fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd >= 0 && !privs_own_file(fd)) { /* as a spool: its writer's own plain file */
        close(fd);
        fd = -1;
        errno = EPERM;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", p, strerror(errno));
        r = MM_EIO;
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen,
                 "%s is held by another mimamori (pid %s): give each instance its own "
                 "interfaces or delivery.spool_directory",
                 p, pid[0] != '\0' ? pid : "?");
        close(fd);
        r = MM_EIO;
    } else {
        n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
            log_warn("%s: cannot write the pid", p);
        o->lock_fd = fd;
    }
    o->lock_failed = r != 0;
out:
    pthread_mutex_unlock(&o->lock_mu);
    return r;
}

/* --- the thread ------------------------------------------------------------------------------- */

static int spools_pending(const struct output *o)
{
    unsigned i;

    for (i = 0; i < o->nsinks; i++)
        if (o->sink[i].spool != NULL && spool_pending(o->sink[i].spool) > 0)
            return 1;
    return 0;
}

/* Take up to BATCH events from the overflow spool (called with the lock held). */
static unsigned take_overflow(struct output *o, struct item *b)
{
    unsigned n = 0;
    const char *line;
    size_t len;

    if (o->overflow == NULL)
        o->overflow = output__open_spool(o, o->overflow_name, &o->overflow_failed);
    while (n < BATCH && o->overflow != NULL && spool_peek(o->overflow, &line, &len) == 1) {
        /* "T S TS_US line": type, severity, time. */
        unsigned type, sev;
        unsigned long long ts;
        char hdr[64]; /* the line is not NUL-terminated: scan a terminated copy of its start */
        size_t hl = len < sizeof(hdr) - 1 ? len : sizeof(hdr) - 1;
        int off = 0;
        memcpy(hdr, line, hl);
        hdr[hl] = '\0';
        spool_consume(o->overflow);
        if (sscanf(hdr, "%u %u %llu %n", &type, &sev, &ts, &off) != 3 || off <= 0 || type > 2 ||
            (b[n].line = malloc(len - (size_t)off + 1)) == NULL)
            continue;
        b[n].render = NULL;
        b[n].arg = NULL;
        memcpy(b[n].line, line + off, len - (size_t)off);
        b[n].line[len - (size_t)off] = '\0';
        b[n].len = (uint32_t)(len - (size_t)off);
        b[n].type = (uint8_t)type;
        b[n].sev = (uint8_t)sev;
        b[n].ts_us = ts;
        n++;
    }
    return n;
}

/* A deferred event gets its line (on the output thread, or when it must be spooled). */
static void render_item(struct item *it)
{
    size_t len = 0;

    if (it->render == NULL)
        return;
    it->line = it->render(it->arg, &len);
    it->len = it->line != NULL ? (uint32_t)len : 0;
    if (it->line == NULL)
        log_warnx("out of memory making a %s event: not written (counted as dropped)",
                  output__type_names[it->type]);
    it->render = NULL;
    it->arg = NULL;
}

static void *run(void *arg)
{
    struct output *o = arg;
    struct item batch[BATCH];
    char *buf = NULL;
    size_t cap = 0;
    uint64_t drain_until = 0;

    prctl(PR_SET_NAME, "mm-output", 0, 0, 0); /* top -H, ps -L, gdb */
    for (;;) {
        unsigned n = 0, i;
        int stopping;

        pthread_mutex_lock(&o->mu);
        if (o->n == 0 && !o->overflowing && !o->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += OUTPUT_LINGER_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            o->waiting = 1;
            pthread_cond_timedwait(&o->cv, &o->mu, &ts);
            o->waiting = 0;
        }
        while (n < BATCH && o->n > 0) {
            batch[n++] = o->q[o->head];
            o->head = (o->head + 1) % o->cap;
            o->n--;
        }
        if (n == 0 && o->overflowing) {
            n = take_overflow(o, batch);
            if (n == 0) { /* caught up: new events may use the queue again */
                o->overflowing = 0;
                if (o->overflowed > 0)
                    log_info("output queue caught up: %llu events went through the overflow "
                             "spool, %llu were lost",
                             (unsigned long long)o->overflowed,
                             (unsigned long long)o->overflow_dropped);
            }
        }
        stopping = o->stop && o->n == 0 && !o->overflowing;
        pthread_cond_broadcast(&o->space);
        pthread_mutex_unlock(&o->mu);

        for (i = 0; i < n; i++)
            render_item(&batch[i]);
        if (atomic_exchange(&o->reopen, 0)) {
            for (i = 0; i < o->nsinks; i++)
                if (o->sink[i].is_file && o->sink[i].fd != STDOUT_FILENO && o->sink[i].up) {
                    output__file_close(o, &o->sink[i]);
                    if (output__file_open(o, &o->sink[i], NULL, 0) != 0)
                        output__sink_down(o, &o->sink[i], 0);
                }
        }
        for (i = 0; i < o->nsinks; i++)
            output__deliver(o, &o->sink[i], batch, n, &buf, &cap);
        for (i = 0; i < n; i++)
            free(batch[i].line);
        pthread_mutex_lock(&o->mu);
        publish(o);
        pthread_mutex_unlock(&o->mu);
        if (stopping && n == 0) {
            if (drain_until == 0)
                drain_until = output__now_ms() + (uint64_t)o->drain_s * 1000u;
            if (!spools_pending(o) || output__now_ms() >= drain_until)
                break;
            usleep(50 * 1000);
        }
    }
    free(buf);
    return NULL;
}

/* --- the stage -------------------------------------------------------------------------------- */

/* Whether an earlier run left a spool file of that name (looked at, not opened). */
static int spool_left(const struct output *o, const char *name)
{
    char p[512];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", o->spool_dir, name);
    return lstat(p, &st) == 0 && st.st_size > 0;
}

/* Everything a sink holds: connection, file, buffers, spool, TLS context. */
static void sink_release(struct output *o, struct sink *k)
{
    if (k->conn != NULL)
        syslog_close(k->conn);
    if (k->is_file)
        output__file_close(o, k);
    free(k->fbuf);
    output__ring_clear(k);
    free(k->ring);
    free(k->path);
    free(k->server_name);
    spool_close(k->spool);
    syslog_tls_ctx_destroy(k->tls);
    memset(k, 0, sizeof(*k));
    k->fd = -1;
}

static int sink_setup(struct output *o, const struct mm_config *cfg, const struct config_output *co,
                      const char *eve_path, char *err, size_t errlen);

/* Add a destination; what a failed one had set up is released. */
static int add_sink(struct output *o, const struct mm_config *cfg, const struct config_output *co,
                    const char *eve_path, char *err, size_t errlen)
{
    int r;

    if (o->nsinks == OUTPUT_MAX_SINKS) {
        snprintf(err, errlen, "at most %u outputs", OUTPUT_MAX_SINKS);
        return MM_EINVAL;
    }
    if ((r = sink_setup(o, cfg, co, eve_path, err, errlen)) != 0)
        sink_release(o, &o->sink[o->nsinks]);
    else
        o->nsinks++;
    return r;
}

static int sink_setup(struct output *o, const struct mm_config *cfg, const struct config_output *co,
                      const char *eve_path, char *err, size_t errlen)
{
    struct sink *k = &o->sink[o->nsinks];
    char *colon;

    memset(k, 0, sizeof(*k));
    k->fd = -1;
    if (co != NULL) {
        k->oc = *co;
        k->co = &k->oc;
    }
    if (co == NULL || co->type == OUTPUT_FILE) {
        k->is_file = 1;
        if ((k->path = strdup(co != NULL ? co->path : eve_path)) == NULL)
            return MM_ENOMEM;
        k->types = co != NULL ? co->types : OUTPUT_EV_ALL;
        snprintf(k->name, sizeof(k->name), "file %s", k->path);
        if (output__file_open(o, k, err, errlen) == 0) {
            k->up = 1;
        } else if (errno == ENXIO) { /* a FIFO whose reader has not started yet */
            log_warnx("%s: no reader on this FIFO yet, spooling until one opens it", k->name);
            k->said_down = 1; /* just said, in other words */
            output__sink_down(o, k, 0);
        } else {
            return MM_EIO;
        }
    } else {
        k->types = co->types;
        k->facility = co->facility;
        k->tgt.transport = strcmp(co->transport, "udp") == 0   ? SYSLOG_UDP
                           : strcmp(co->transport, "tls") == 0 ? SYSLOG_TLS
                                                               : SYSLOG_TCP;
        snprintf(k->tgt.host, sizeof(k->tgt.host), "%s", co->address);
        if ((colon = strrchr(k->tgt.host, ':')) != NULL) {
            *colon = '\0';
            snprintf(k->tgt.port, sizeof(k->tgt.port), "%s", colon + 1);
        }
        if (k->tgt.host[0] == '[') { /* [v6]:port */
            memmove(k->tgt.host, k->tgt.host + 1, strlen(k->tgt.host));
            k->tgt.host[strlen(k->tgt.host) - 1] = '\0';
        }
        if (co->server_name != NULL && (k->server_name = strdup(co->server_name)) == NULL)
            return MM_ENOMEM;
        k->tgt.server_name = k->server_name;
        k->tgt.timeout_ms = cfg->delivery.timeout_ms;
        if (k->tgt.transport == SYSLOG_TLS &&
            syslog_tls_ctx_create(&k->tls, co->ca, co->cert, co->key, err, errlen) != 0)
            return MM_ECONFIG;
        k->tgt.tls = k->tls;
        if ((k->ring = calloc(RING_MSGS, sizeof(*k->ring))) == NULL)
            return MM_ENOMEM;
        snprintf(k->name, sizeof(k->name), "syslog %s/%s", co->address, co->transport);
        if (output__sink_connect(o, k) != 0)
            output__sink_down(o, k, 0); /* not fatal: spooled until it answers */
    }
    snprintf(k->spool_name, sizeof(k->spool_name), "%s.output%u.spool", o->instance, o->nsinks);
    /* A spool left by an earlier run is delivered first, opened by the output thread (which a
     * live sensor starts unprivileged): root never opens what the user can replace. */
    k->spool_left = spool_left(o, k->spool_name);
    return 0;
}

int output_open(struct output **out, const struct mm_config *cfg, const char *eve_path, int live,
                  const char *instance, const struct privs_owner *own, char *err, size_t errlen)
{
    struct output *o;
    unsigned i;
    int r = 0;

    *out = NULL;
    if ((o = calloc(1, sizeof(*o))) == NULL)
        return MM_ENOMEM;
    o->live = live;
    o->lock_fd = -1;
    pthread_mutex_init(&o->lock_mu, NULL);
    output_instance_name(o->instance, sizeof(o->instance), instance ? instance : "read");
    snprintf(o->overflow_name, sizeof(o->overflow_name), "%s.overflow.spool", o->instance);
    if (own != NULL) {
        o->privileged = 1;
        o->own = *own;
    }
    o->cap = cfg->delivery.queue_events;
    o->spool_max = cfg->delivery.spool_max;
    o->drain_s = cfg->delivery.drain_s;
    o->procid = (unsigned)getpid();
    snprintf(o->host, sizeof(o->host), "%s", cfg->sensor_name);
    snprintf(o->spool_dir, sizeof(o->spool_dir), "%s", cfg->delivery.spool_dir);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    pthread_cond_init(&o->space, NULL);
    if ((o->q = calloc(o->cap, sizeof(*o->q))) == NULL) {
        output_close(o);
        return MM_ENOMEM;
    }
    if (eve_path != NULL)
        r = add_sink(o, cfg, NULL, eve_path, err, errlen);
    for (i = 0; r == 0 && eve_path == NULL && i < cfg->noutputs; i++)
        r = add_sink(o, cfg, &cfg->outputs[i], NULL, err, errlen);
    if (r == 0 && eve_path == NULL && cfg->noutputs == 0) {
        snprintf(err, errlen, "no outputs (use --eve PATH or outputs: in the config)");
        r = MM_ECONFIG;
    }
    /* Events a previous run left in the overflow spool go out before anything new (the spool
     * is opened when first read or appended to, unprivileged in a live sensor). */
    if (r == 0 && spool_left(o, o->overflow_name))
        o->overflowing = 1;
    if (r != 0) {
        output_close(o);
        return r;
    }
    publish(o); /* names and spools left by a previous run, before the first batch */
    *out = o;
    return 0;
}

void output_instance_name(char *buf, size_t size, const char *name)
{
    size_t i;

    snprintf(buf, size, "%s", name);
    for (i = 0; buf[i] != '\0'; i++)
        if (!(isalnum((unsigned char)buf[i]) || buf[i] == '.' || buf[i] == '-' || buf[i] == '_' ||
              buf[i] == '+'))
            buf[i] = '_';
}

int output_lock(struct output *o, char *err, size_t errlen)
{
    return output__lock_spools(o, err, errlen);
}

int output_start(struct output *o)
{
    if (pthread_create(&o->thread, NULL, run, o) != 0)
        return MM_ENOMEM;
    o->started = 1;
    return 0;
}

static void submit(struct output *o, struct item *in)
{
    pthread_mutex_lock(&o->mu);
    o->queued++;
    while (!o->live && o->started && o->n == o->cap)
        pthread_cond_wait(&o->space, &o->mu);
    if (o->overflowing || o->n == o->cap) {
        /* Live capture never waits: the event, and every one after it until the thread has
         * caught up, goes to the overflow spool, so the order holds. */
        char hdr[48];
        int h;
        char *rec = NULL;
        render_item(in);
        h = snprintf(hdr, sizeof(hdr), "%u %u %llu ", in->type, in->sev,
                     (unsigned long long)in->ts_us);
        if (in->line != NULL)
            rec = malloc((size_t)h + in->len);
        if (o->overflow == NULL)
            o->overflow = output__open_spool(o, o->overflow_name, &o->overflow_failed);
        if (rec != NULL && o->overflow != NULL) {
            memcpy(rec, hdr, (size_t)h);
            memcpy(rec + h, in->line, in->len);
        }
        if (rec != NULL && o->overflow != NULL &&
            spool_append(o->overflow, rec, (size_t)h + in->len) == 0) {
            if (!o->overflowing)
                log_warnx("output queue full: events wait in the overflow spool");
            o->overflowed++;
            o->overflowing = 1;
        } else if (o->overflow_dropped++ == 0) {
            log_warnx("output queue full and overflow spool unavailable: dropping (counted)");
        }
        free(rec);
        free(in->line);
    } else {
        o->q[(o->head + o->n) % o->cap] = *in;
        o->n++;
    }
    /*
     * Waking the thread for every event costs more than writing it: it comes by itself every
     * OUTPUT_LINGER_MS and is woken early only for a batch's worth, a filling queue, an
     * overflow, or (live) an alert.
     */
    if (o->waiting && (o->n >= BATCH / 2 || o->n >= o->cap / 2 || o->overflowing ||
                       (o->live && in->type == OUTPUT_EV_ALERT)))
        pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

void output_submit(struct output *o, unsigned type, unsigned severity, uint64_t ts_us, char *line,
                   size_t len)
{
    struct item it = {.line = line,
                      .len = (uint32_t)len,
                      .type = (uint8_t)type,
                      .sev = (uint8_t)severity,
                      .ts_us = ts_us};
    submit(o, &it);
}

void output_submit_deferred(struct output *o, unsigned type, unsigned severity, uint64_t ts_us,
                            output_render_fn render, void *arg)
{
    struct item it = {.render = render,
                      .arg = arg,
                      .type = (uint8_t)type,
                      .sev = (uint8_t)severity,
                      .ts_us = ts_us};
    submit(o, &it);
}

int output_wants(const struct output *o, unsigned type)
{
    unsigned i;

    for (i = 0; i < o->nsinks; i++)
        if (o->sink[i].types & (1u << type))
            return 1;
    return 0;
}

int output_give_spool(struct output *o, const struct privs_owner *own, char *err, size_t errlen)
{
    return privs_make_dir(o->spool_dir, 0700, own, err, errlen);
}

void output_reopen(struct output *o)
{
    atomic_store(&o->reopen, 1);
}

void output_get_stats(struct output *o, struct output_stats *st)
{
    unsigned i;

    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&o->mu);
    st->queued = o->queued;
    st->overflowed = o->overflowed;
    st->overflow_dropped = o->overflow_dropped;
    st->nsinks = o->nsinks;
    for (i = 0; i < o->nsinks; i++)
        st->sink[i] = o->pub[i];
    pthread_mutex_unlock(&o->mu);
}

void output_close(struct output *o)
{
    unsigned i;

    if (o == NULL)
        return;
    if (o->started) {
        pthread_mutex_lock(&o->mu);
        o->stop = 1;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
    }
    log_info("outputs: %llu events handed over, %llu through the overflow spool, %llu lost there",
             (unsigned long long)o->queued, (unsigned long long)o->overflowed,
             (unsigned long long)o->overflow_dropped);
    for (i = 0; i < o->nsinks; i++) {
        struct sink *k = &o->sink[i];
        if (k->is_file)
            output__file_close(o, k); /* what waits is written, or spooled, before it is counted */
        log_info("%s: sent %llu, spooled %llu, replayed %llu, re-sent %llu, dropped %llu", k->name,
                 (unsigned long long)k->st.sent, (unsigned long long)k->st.spooled,
                 (unsigned long long)k->st.replayed, (unsigned long long)k->st.resent,
                 (unsigned long long)k->st.dropped);
        if (k->spool != NULL && spool_pending(k->spool) > 0)
            log_warnx("%s: %llu bytes of events left in the spool for the next run", k->name,
                      (unsigned long long)spool_pending(k->spool));
        sink_release(o, k);
    }
    while (o->n > 0) {               /* only when the thread never started */
        render_item(&o->q[o->head]); /* which frees a deferred event's argument */
        free(o->q[o->head].line);
        o->head = (o->head + 1) % o->cap;
        o->n--;
    }
    spool_close(o->overflow);
    if (o->lock_fd >= 0)
        close(o->lock_fd); /* the spools are free for the next process */
    pthread_mutex_destroy(&o->lock_mu);
    free(o->q);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    pthread_cond_destroy(&o->space);
    free(o);
}
