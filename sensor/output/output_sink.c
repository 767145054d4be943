/*
 * Delivery to one sink: an event goes straight to a sink that is up and has nothing spooled,
 * else to the sink's spool, replayed before anything newer once the sink is up again. A sink
 * that fails goes down and is retried with a backoff. Stream sinks keep the messages of the last
 * few megabytes they sent; when a connection breaks, those the peer had not acknowledged
 * (SIOCOUTQ), and with a send error the whole batch since the last health check, go back into
 * the spool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mimamori/error.h"
#include "mimamori/log.h"
#include "mimamori/spool.h"
#include "mimamori/syslog.h"
#include "mimamori/syslog_tls.h"

#include "output_int.h"

struct spool *output__open_spool(struct output *o, const char *name, int *failed)
{
    struct spool *s = NULL;
    char err[640];
    int r;

    if (*failed)
        return NULL;
    if (output__lock_spools(o, err, sizeof(err)) != 0) {
        log_warnx("%s: events that cannot be delivered are dropped and counted", err);
        *failed = 1;
        return NULL;
    }
    mkdir(o->spool_dir, 0700);
    if ((r = spool_open(&s, o->spool_dir, name, o->spool_max)) != 0) {
        log_warn("cannot open spool %s/%s: events that cannot be delivered are dropped and "
                 "counted",
                 o->spool_dir, name);
        *failed = 1;
        return NULL;
    }
    return s;
}

/* Put a message in the sink's spool, or count it dropped. */
void output__spool_put(struct output *o, struct sink *k, const char *msg, size_t len)
{
    if (k->spool == NULL &&
        (k->spool = output__open_spool(o, k->spool_name, &k->spool_failed)) == NULL) {
        k->st.dropped++;
        return;
    }
    if (spool_append(k->spool, msg, len) != 0) {
        if (k->st.dropped++ == 0)
            log_warnx("%s: spool full or unwritable, dropping (counted)", k->name);
        return;
    }
    k->st.spooled++;
}

void output__ring_clear(struct sink *k)
{
    while (k->ring_n > 0) {
        free(k->ring[k->ring_head].msg);
        k->ring_head = (k->ring_head + 1) % RING_MSGS;
        k->ring_n--;
    }
    k->ring_bytes = 0;
}

static void ring_push(struct sink *k, const char *msg, size_t len)
{
    struct sent *e;

    while (k->ring_n > 0 && (k->ring_n == RING_MSGS || k->ring_bytes + len > RING_BYTES)) {
        e = &k->ring[k->ring_head];
        k->ring_bytes -= e->len;
        free(e->msg);
        k->ring_head = (k->ring_head + 1) % RING_MSGS;
        k->ring_n--;
    }
    e = &k->ring[(k->ring_head + k->ring_n) % RING_MSGS];
    if ((e->msg = malloc(len)) == NULL)
        return;
    memcpy(e->msg, msg, len);
    e->len = len;
    e->end = k->sent_bytes;
    k->ring_bytes += len;
    k->ring_n++;
}

void output__sink_down(struct output *o, struct sink *k, int send_error)
{
    uint64_t keep_from = k->sent_bytes;
    unsigned i;

    if (k->conn != NULL) {
        /* What may not have reached the receiver: unacknowledged bytes, and after a send error
         * everything since the last health check. Those messages are sent again. */
        uint64_t unacked = syslog_unacked(k->conn);
        keep_from = k->sent_bytes > unacked ? k->sent_bytes - unacked : 0;
        if (send_error && k->checked_bytes < keep_from)
            keep_from = k->checked_bytes;
        for (i = 0; i < k->ring_n; i++) {
            const struct sent *e = &k->ring[(k->ring_head + i) % RING_MSGS];
            if (e->end > keep_from) {
                output__spool_put(o, k, e->msg, e->len);
                k->st.resent++;
            }
        }
        output__ring_clear(k);
        syslog_close(k->conn);
        k->conn = NULL;
    }
    if (k->is_file && k->fd >= 0) { /* what waits is spooled, the file closed */
        (void)output__file_flush(o, k, 0);
        if (k->fd != STDOUT_FILENO)
            close(k->fd);
        k->fd = -1;
    }
    if (!k->said_down)
        log_warnx("%s: down, spooling until it is back", k->name);
    k->said_down = 1;
    k->up = 0;
    k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (k->backoff_ms > BACKOFF_MAX_MS)
        k->backoff_ms = BACKOFF_MAX_MS;
    k->retry_ms = output__now_ms() + k->backoff_ms;
}

int output__sink_connect(struct output *o, struct sink *k)
{
    char err[512];

    if (k->is_file) {
        if (output__file_open(o, k, err, sizeof(err)) != 0) {
            log_warnx("%s: %s", k->name, err);
            return MM_EIO;
        }
    } else {
        if (syslog_open(&k->conn, &k->tgt, err, sizeof(err)) != 0) {
            if (k->st.reconnects == 0 && k->st.errors++ == 0)
                log_warnx("%s: %s", k->name, err);
            return MM_EIO;
        }
        k->sent_bytes = k->checked_bytes = 0;
        k->st.reconnects++;
    }
    k->up = 1;
    if (k->is_file)
        return 0; /* a file that opens may still be full: up once a write succeeds */
    if (k->said_down)
        log_info("%s: up", k->name);
    k->said_down = 0;
    k->backoff_ms = 0;
    return 0;
}

/*
 * UDP has no flow control: a burst overruns the receiver's socket buffer and is lost without a
 * trace, so datagrams are spaced to max_rate per second.
 */
static void pace(struct sink *k)
{
    struct timespec ts;
    uint64_t now;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (k->next_ns > now) {
        uint64_t d = k->next_ns - now;
        ts.tv_sec = (time_t)(d / 1000000000u);
        ts.tv_nsec = (long)(d % 1000000000u);
        nanosleep(&ts, NULL);
        now = k->next_ns;
    }
    k->next_ns = now + 1000000000u / k->co->max_rate;
}

/* Send one message on a sink that is up; 0, or MM_EIO (the sink is then down). */
static int sink_send(struct output *o, struct sink *k, const char *msg, size_t len)
{
    if (k->is_file) {
        /* Waits for the file flush, which counts it sent once written (files are not counted here).
         */
        if (k->co != NULL && k->co->rotate_size > 0 &&
            k->size + k->flen + len + 1 > k->co->rotate_size && k->size + k->flen > 0)
            output__file_rotate(o, k);
        if (k->fd < 0 || output__file_put(o, k, msg, len) != 0) {
            output__sink_down(o, k, 1);
            return MM_EIO;
        }
        return 0;
    }
    if (k->tgt.transport == SYSLOG_UDP)
        pace(k);
    if (syslog_send(k->conn, msg, len) != 0) {
        k->st.errors++;
        output__sink_down(o, k, 1);
        return MM_EIO;
    }
    /* The octet-counting frame is "LEN " before the message. */
    k->sent_bytes +=
        len + (k->tgt.transport == SYSLOG_UDP ? 0 : (size_t)snprintf(NULL, 0, "%zu ", len));
    if (k->tgt.transport != SYSLOG_UDP)
        ring_push(k, msg, len);
    return 0;
}

/* The message a sink sends for an event, in buf (grown as needed); its length. */
static size_t format(const struct output *o, const struct sink *k, const struct item *it,
                     char **buf, size_t *cap)
{
    /* Alert severity 1/2/3 -> syslog crit/err/warning; other events info. */
    static const unsigned sev[] = {6, 2, 3, 4};
    size_t n;
    unsigned pri;

    if (k->is_file)
        return 0; /* files take the line as it is */
    pri = k->facility * 8 + sev[it->sev <= 3 ? it->sev : 0];
    n = syslog_format(*buf, *cap, pri, it->ts_us, o->host, o->procid, output__type_names[it->type],
                      it->line, it->len);
    if (n >= *cap) {
        char *b = realloc(*buf, n + 1);
        if (b == NULL)
            return 0;
        *buf = b;
        *cap = n + 1;
        n = syslog_format(*buf, *cap, pri, it->ts_us, o->host, o->procid,
                          output__type_names[it->type], it->line, it->len);
    }
    return n;
}

/* Replay a sink's spool while it stays up, at most max messages; returns 1 when emptied. */
int output__replay(struct output *o, struct sink *k, unsigned max)
{
    const char *line;
    size_t len;

    while (k->spool != NULL && max-- > 0) {
        int r = spool_peek(k->spool, &line, &len);
        if (r <= 0)
            return r == 0;
        if (!k->up || sink_send(o, k, line, len) != 0)
            return 0;
        /* A file writes it now: the line leaves the spool only once it is in the file. */
        if (k->is_file && output__file_flush(o, k, 1) != 0) {
            output__sink_down(o, k, 1);
            return 0;
        }
        spool_consume(k->spool);
        k->st.replayed++;
    }
    return k->spool == NULL || spool_pending(k->spool) == 0;
}

/* A sink's turn at a batch of events. */
void output__deliver(struct output *o, struct sink *k, const struct item *items, unsigned n,
                     char **buf, size_t *cap)
{
    unsigned i;

    if (!k->up && output__now_ms() >= k->retry_ms && output__sink_connect(o, k) != 0)
        output__sink_down(o, k, 0);
    if (k->up && k->conn != NULL) {
        if (!syslog_alive(k->conn)) {
            log_info("%s: the receiver closed the connection", k->name);
            output__sink_down(o, k, 0);
        } else
            k->checked_bytes = k->sent_bytes;
    }
    if (k->spool_left && k->spool == NULL)
        k->spool = output__open_spool(o, k->spool_name, &k->spool_failed);
    k->spool_left = 0;
    if (k->up && k->spool != NULL && spool_pending(k->spool) > 0)
        output__replay(o, k, n > 0 ? 4 * BATCH : 16 * BATCH);
    for (i = 0; i < n; i++) {
        const struct item *it = &items[i];
        const char *msg = it->line;
        size_t len = it->len;
        if (!(k->types & (1u << it->type)))
            continue;
        if (msg == NULL) { /* a deferred event that could not be made (out of memory) */
            k->st.dropped++;
            continue;
        }
        if (!k->is_file) {
            if ((len = format(o, k, it, buf, cap)) == 0) {
                k->st.dropped++;
                continue;
            }
            msg = *buf;
        }
        if (!k->is_file && k->tgt.transport == SYSLOG_UDP && len > k->co->max_message) {
            /* Too big for one datagram: never cut (half a JSON object is useless). */
            if (k->st.dropped++ == 0)
                log_warnx("%s: event of %zu bytes exceeds max_message %u, not sent (use tcp or "
                          "tls for large events)",
                          k->name, len, k->co->max_message);
            continue;
        }
        if (k->up && (k->spool == NULL || spool_pending(k->spool) == 0)) {
            if (sink_send(o, k, msg, len) == 0) {
                k->st.sent += !k->is_file;
                continue;
            }
        }
        output__spool_put(o, k, msg,
                          len); /* after the lines that were waiting, if a write failed */
    }
    if (k->is_file && k->fd >= 0 && output__file_flush(o, k, 0) != 0)
        output__sink_down(o, k, 1);
}
