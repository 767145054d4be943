/*
 * The output thread and its destinations ("sinks"). The queue is a ring of event pointers under
 * one mutex, held only to push or to take a batch. The thread delivers a batch to each sink in
 * turn: a sink that is up and has nothing spooled gets the event directly; otherwise the event
 * is appended to the sink's spool, which is replayed before anything newer once the sink is up
 * again. Stream sinks keep the messages of the last few megabytes they sent; when a connection
 * breaks, those the peer had not acknowledged (SIOCOUTQ), and with a send error the whole batch
 * since the last health check, go back into the spool. Spools are opened only when first
 * needed.
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

#define OUTPUT_LINGER_MS   50 /* longest an event waits for the output thread */
#define BATCH              256
#define RING_MSGS          4096u
#define RING_BYTES         (8u << 20)
#define BACKOFF_MIN_MS     500u
#define BACKOFF_MAX_MS     30000u
#define OUTPUT_FILE_BUFFER (256u << 10)

static const char *const type_names[] = {"alert", "flow", "stats"};

struct item {
    char *line;              /* NULL until a deferred event is rendered */
    output_render_fn render; /* deferred: makes the line on the output thread */
    void *arg;
    uint32_t len;
    uint8_t type, sev;
    uint64_t ts_us;
};

/* Messages a stream sink sent, with the byte offset each ends at. */
struct sent {
    char *msg;
    size_t len;
    uint64_t end;
};

struct sink {
    int is_file;
    unsigned types;
    const struct config_output *co; /* &oc, or NULL for --eve */
    struct config_output oc;        /* a copy: the config may be swapped by a reload; its
                                       strings are not used after start-up but path and
                                       server_name, which are copied too */
    char *server_name;
    char name[96];
    /* file */
    char *path;
    int fd;      /* -1: closed */
    int regular; /* a plain file opened here: a failed write is cut back to whole lines */
    char *fbuf;  /* lines waiting for the next write */
    size_t flen, fcap;
    uint32_t fend[BATCH]; /* where each waiting line ends in fbuf */
    unsigned nwait;
    uint64_t size; /* bytes in the file (for rotation) */
    /* syslog */
    struct syslog_target tgt;
    struct syslog_tls_ctx *tls;
    struct syslog_conn *conn;
    unsigned facility;
    uint64_t sent_bytes, checked_bytes; /* stream offset now, and at the last health check */
    uint64_t next_ns;                   /* udp: earliest time of the next datagram */
    struct sent *ring;
    unsigned ring_head, ring_n;
    uint64_t ring_bytes;
    /* delivery state */
    int up;
    uint64_t retry_ms;
    unsigned backoff_ms;
    struct spool *spool;
    int spool_failed;
    int spool_left; /* a previous run left a spool: opened (unprivileged) before delivering */
    char spool_name[OUTPUT_MAX_INSTANCE + 32];
    struct output_sink_stats st;
};

struct output {
    int live;
    int privileged; /* files are opened as root for own (output_create) */
    struct privs_owner own;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv, space;
    struct item *q;
    unsigned cap, head, n;
    int overflowing, stop;
    int waiting; /* the thread is asleep on cv */
    struct spool *overflow;
    int overflow_failed;
    atomic_int reopen;
    struct sink sink[OUTPUT_MAX_SINKS];
    unsigned nsinks;
    char spool_dir[256];
    char instance[OUTPUT_MAX_INSTANCE]; /* spool names begin with it: one process each */
    char overflow_name[OUTPUT_MAX_INSTANCE + 32];
    pthread_mutex_t lock_mu;
    int lock_fd; /* instance.lock, held while the spools are ours; -1 until taken */
    int lock_failed;
    uint64_t spool_max;
    unsigned drain_s;
    unsigned procid;
    char host[MM_MAX_SENSOR_NAME]; /* a copy: the config may be swapped by a reload */
    uint64_t queued, overflowed, overflow_dropped;
    struct output_sink_stats pub[OUTPUT_MAX_SINKS]; /* the sinks' counters, as the thread last
                                                       published them (under mu) */
};

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

static uint64_t now_ms(void)
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
static int lock_spools(struct output *o, char *err, size_t errlen)
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

static struct spool *open_spool(struct output *o, const char *name, int *failed)
{
    struct spool *s = NULL;
    char err[640];
    int r;

    if (*failed)
        return NULL;
    if (lock_spools(o, err, sizeof(err)) != 0) {
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
static void spool_put(struct output *o, struct sink *k, const char *msg, size_t len)
{
    if (k->spool == NULL && (k->spool = open_spool(o, k->spool_name, &k->spool_failed)) == NULL) {
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

/* --- sinks ------------------------------------------------------------------------------------ */

/* Open a file sink; MM_EIO with errno set, and err filled when given. */
static int file_open(struct output *o, struct sink *k, char *err, size_t errlen)
{
    const int flags = O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC;
    char why[512];
    struct stat st;
    int fd, fl;

    if (k->fbuf == NULL) {
        if ((k->fbuf = malloc(OUTPUT_FILE_BUFFER)) == NULL) {
            errno = ENOMEM;
            return MM_ENOMEM;
        }
        k->fcap = OUTPUT_FILE_BUFFER;
    }
    if (strcmp(k->path, "-") == 0) {
        k->fd = STDOUT_FILENO;
        k->regular = 0; /* not ours to cut back */
        return 0;
    }
    /* Opened without waiting: a FIFO nobody reads yet fails (ENXIO) rather than holding the
     * output thread, and shutdown, until a reader comes; the sink is retried like a receiver
     * that is down. Writes block again (a slow reader is what the queue is for). As root for
     * the user a live sensor becomes, opened so that the user cannot point it elsewhere. */
    if (o->privileged && geteuid() == 0)
        fd = privs_open_file(k->path, flags, 0644, &o->own, why, sizeof(why));
    else if ((fd = open(k->path, flags, 0666)) < 0)
        snprintf(why, sizeof(why), "cannot open %s: %s", k->path, strerror(errno));
    if (fd < 0) {
        int e = errno; /* ENXIO: a FIFO without a reader, which add_sink looks for */
        if (err != NULL)
            snprintf(err, errlen, "%s", why);
        errno = e;
        return MM_EIO;
    }
    if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
        fstat(fd, &st) != 0) {
        close(fd);
        return MM_EIO;
    }
    k->fd = fd;
    k->regular = S_ISREG(st.st_mode);
    k->size = (uint64_t)st.st_size;
    return 0;
}

/*
 * Write the waiting lines: one write() for a batch. A write that fails (a full disk, a reader
 * gone) leaves no part of a line behind: a plain file is cut back to the end of the last line
 * written whole. Lines written whole count as sent (unless replay: the caller counts the one
 * line replayed); the others go to the sink's spool, or are counted dropped. 0, or MM_EIO: the
 * caller takes the sink down.
 */
static int file_flush(struct output *o, struct sink *k, int replay)
{
    size_t off = 0, whole = 0;
    off_t start = -1;
    unsigned i = 0;
    int e = 0, failed;

    if (k->flen == 0)
        return 0;
    if (k->regular) /* O_APPEND writes at the end: where this one begins */
        start = lseek(k->fd, 0, SEEK_END);
    while (off < k->flen) {
        ssize_t w = write(k->fd, k->fbuf + off, k->flen - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : ENOSPC;
            break;
        }
        off += (size_t)w;
    }
    failed = off < k->flen;
    while (i < k->nwait && k->fend[i] <= off)
        i++;
    whole = i > 0 ? k->fend[i - 1] : 0;
    if (!replay)
        k->st.sent += i;
    k->size += whole;
    if (failed) {
        if (off > whole &&
            !(k->regular && start >= 0 && ftruncate(k->fd, start + (off_t)whole) == 0))
            log_warnx("%s: half a line could not be taken back", k->name);
        if (k->st.errors++ == 0 || k->up)
            log_warnx("%s: write failed (%s): %u %s", k->name, strerror(e),
                      replay ? 1 : k->nwait - i,
                      replay ? "event stays in the spool" : "events to the spool");
        for (; !replay && i < k->nwait; i++) {
            size_t from = i > 0 ? k->fend[i - 1] : 0;
            spool_put(o, k, k->fbuf + from, k->fend[i] - from - 1);
        }
    }
    k->flen = 0;
    k->nwait = 0;
    return failed ? MM_EIO : 0;
}

/* Add a line to those waiting; 0, or MM_EIO when writing them to make room failed. */
static int file_put(struct output *o, struct sink *k, const char *msg, size_t len)
{
    if ((k->flen + len + 1 > k->fcap || k->nwait == BATCH) && file_flush(o, k, 0) != 0)
        return MM_EIO;
    if (len + 1 > k->fcap) { /* a line longer than the buffer: the buffer grows to it */
        char *b = realloc(k->fbuf, len + 1);
        if (b == NULL)
            return MM_ENOMEM;
        k->fbuf = b;
        k->fcap = len + 1;
    }
    memcpy(k->fbuf + k->flen, msg, len);
    k->fbuf[k->flen + len] = '\n';
    k->flen += len + 1;
    k->fend[k->nwait++] = (uint32_t)k->flen;
    return 0;
}

/* Close a file sink; lines still waiting are written first (or spooled). */
static void file_close(struct output *o, struct sink *k)
{
    if (k->fd < 0)
        return;
    (void)file_flush(o, k, 0);
    if (k->fd != STDOUT_FILENO)
        close(k->fd);
    k->fd = -1;
}

/* Size-based rotation: path -> path.1 -> ... -> path.N (the oldest is removed). */
static void file_rotate(struct output *o, struct sink *k)
{
    char from[4096], to[4096];
    unsigned i, keep = k->co->rotate_keep;

    file_close(o, k);
    for (i = keep; i > 0; i--) {
        snprintf(to, sizeof(to), "%s.%u", k->path, i);
        if (i == 1)
            snprintf(from, sizeof(from), "%s", k->path);
        else
            snprintf(from, sizeof(from), "%s.%u", k->path, i - 1);
        rename(from, to);
    }
    if (file_open(o, k, NULL, 0) != 0)
        k->up = 0;
}

static void ring_clear(struct sink *k)
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

static void sink_down(struct output *o, struct sink *k, int send_error)
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
                spool_put(o, k, e->msg, e->len);
                k->st.resent++;
            }
        }
        ring_clear(k);
        syslog_close(k->conn);
        k->conn = NULL;
    }
    if (k->is_file && k->fd >= 0) { /* what waits is spooled, the file closed */
        (void)file_flush(o, k, 0);
        if (k->fd != STDOUT_FILENO)
            close(k->fd);
        k->fd = -1;
    }
    if (k->up)
        log_warnx("%s: down, spooling until it is back", k->name);
    k->up = 0;
    k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (k->backoff_ms > BACKOFF_MAX_MS)
        k->backoff_ms = BACKOFF_MAX_MS;
    k->retry_ms = now_ms() + k->backoff_ms;
}

static int sink_connect(struct output *o, struct sink *k)
{
    char err[512];

    if (k->is_file) {
        if (file_open(o, k, err, sizeof(err)) != 0) {
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
    if (!k->up && k->st.sent + k->st.spooled > 0)
        log_info("%s: up", k->name);
    k->up = 1;
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
        /* Waits for file_flush, which counts it sent once written (files are not counted here). */
        if (k->co != NULL && k->co->rotate_size > 0 &&
            k->size + k->flen + len + 1 > k->co->rotate_size && k->size + k->flen > 0)
            file_rotate(o, k);
        if (k->fd < 0 || file_put(o, k, msg, len) != 0) {
            sink_down(o, k, 1);
            return MM_EIO;
        }
        return 0;
    }
    if (k->tgt.transport == SYSLOG_UDP)
        pace(k);
    if (syslog_send(k->conn, msg, len) != 0) {
        k->st.errors++;
        sink_down(o, k, 1);
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
    n = syslog_format(*buf, *cap, pri, it->ts_us, o->host, o->procid, type_names[it->type],
                      it->line, it->len);
    if (n >= *cap) {
        char *b = realloc(*buf, n + 1);
        if (b == NULL)
            return 0;
        *buf = b;
        *cap = n + 1;
        n = syslog_format(*buf, *cap, pri, it->ts_us, o->host, o->procid, type_names[it->type],
                          it->line, it->len);
    }
    return n;
}

/* Replay a sink's spool while it stays up, at most max messages; returns 1 when emptied. */
static int replay(struct output *o, struct sink *k, unsigned max)
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
        if (k->is_file && file_flush(o, k, 1) != 0) {
            sink_down(o, k, 1);
            return 0;
        }
        spool_consume(k->spool);
        k->st.replayed++;
    }
    return k->spool == NULL || spool_pending(k->spool) == 0;
}

/* A sink's turn at a batch of events. */
static void deliver(struct output *o, struct sink *k, const struct item *items, unsigned n,
                    char **buf, size_t *cap)
{
    unsigned i;

    if (!k->up && now_ms() >= k->retry_ms && sink_connect(o, k) != 0)
        sink_down(o, k, 0);
    if (k->up && k->conn != NULL) {
        if (!syslog_alive(k->conn)) {
            log_info("%s: the receiver closed the connection", k->name);
            sink_down(o, k, 0);
        } else
            k->checked_bytes = k->sent_bytes;
    }
    if (k->spool_left && k->spool == NULL)
        k->spool = open_spool(o, k->spool_name, &k->spool_failed);
    k->spool_left = 0;
    if (k->up && k->spool != NULL && spool_pending(k->spool) > 0)
        replay(o, k, n > 0 ? 4 * BATCH : 16 * BATCH);
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
        spool_put(o, k, msg, len); /* after the lines that were waiting, if a write failed */
    }
    if (k->is_file && k->fd >= 0 && file_flush(o, k, 0) != 0)
        sink_down(o, k, 1);
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
        o->overflow = open_spool(o, o->overflow_name, &o->overflow_failed);
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
                  type_names[it->type]);
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
            if (n == 0) /* caught up: new events may use the queue again */
                o->overflowing = 0;
        }
        stopping = o->stop && o->n == 0 && !o->overflowing;
        pthread_cond_broadcast(&o->space);
        pthread_mutex_unlock(&o->mu);

        for (i = 0; i < n; i++)
            render_item(&batch[i]);
        if (atomic_exchange(&o->reopen, 0)) {
            for (i = 0; i < o->nsinks; i++)
                if (o->sink[i].is_file && o->sink[i].fd != STDOUT_FILENO && o->sink[i].up) {
                    file_close(o, &o->sink[i]);
                    if (file_open(o, &o->sink[i], NULL, 0) != 0)
                        sink_down(o, &o->sink[i], 0);
                }
        }
        for (i = 0; i < o->nsinks; i++)
            deliver(o, &o->sink[i], batch, n, &buf, &cap);
        for (i = 0; i < n; i++)
            free(batch[i].line);
        pthread_mutex_lock(&o->mu);
        publish(o);
        pthread_mutex_unlock(&o->mu);
        if (stopping && n == 0) {
            if (drain_until == 0)
                drain_until = now_ms() + (uint64_t)o->drain_s * 1000u;
            if (!spools_pending(o) || now_ms() >= drain_until)
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
        file_close(o, k);
    free(k->fbuf);
    ring_clear(k);
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
        if (file_open(o, k, err, errlen) == 0) {
            k->up = 1;
        } else if (errno == ENXIO) { /* a FIFO whose reader has not started yet */
            log_warnx("%s: no reader on this FIFO yet, spooling until one opens it", k->name);
            sink_down(o, k, 0);
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
        if (sink_connect(o, k) != 0)
            sink_down(o, k, 0); /* not fatal: spooled until it answers */
    }
    snprintf(k->spool_name, sizeof(k->spool_name), "%s.output%u.spool", o->instance, o->nsinks);
    /* A spool left by an earlier run is delivered first, opened by the output thread (which a
     * live sensor starts unprivileged): root never opens what the user can replace. */
    k->spool_left = spool_left(o, k->spool_name);
    return 0;
}

int output_create(struct output **out, const struct mm_config *cfg, const char *eve_path, int live,
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
    return lock_spools(o, err, errlen);
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
            o->overflow = open_spool(o, o->overflow_name, &o->overflow_failed);
        if (rec != NULL && o->overflow != NULL) {
            memcpy(rec, hdr, (size_t)h);
            memcpy(rec + h, in->line, in->len);
        }
        if (rec != NULL && o->overflow != NULL &&
            spool_append(o->overflow, rec, (size_t)h + in->len) == 0) {
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
            file_close(o, k); /* what waits is written, or spooled, before it is counted */
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
