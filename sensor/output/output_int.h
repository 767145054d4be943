/*
 * Private to the output stage's files: the queue item, a sink and the output, and the functions
 * the thread's loop (output.c) calls in the sinks (output_sink.c) and the file sink
 * (output_file.c).
 */
#ifndef MIMAMORI_OUTPUT_INT_H
#define MIMAMORI_OUTPUT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/output.h"
#include "mimamori/privs.h"
#include "mimamori/syslog.h"

#define OUTPUT_LINGER_MS   50 /* longest an event waits for the output thread */
#define BATCH              256
#define RING_MSGS          4096u
#define RING_BYTES         (8u << 20)
#define BACKOFF_MIN_MS     500u
#define BACKOFF_MAX_MS     30000u
#define OUTPUT_FILE_BUFFER (256u << 10)

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
    int said_down; /* "down" was logged: "up" is owed when it delivers again */
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
    int privileged; /* files are opened as root for own (output_open) */
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

/* output.c */
extern const char *const output__type_names[]; /* by enum output_event_type */
uint64_t output__now_ms(void);
int output__lock_spools(struct output *o, char *err, size_t errlen);

/* output_sink.c: delivery to one sink. */
struct spool *output__open_spool(struct output *o, const char *name, int *failed);
void output__spool_put(struct output *o, struct sink *k, const char *msg, size_t len);
void output__ring_clear(struct sink *k);
void output__sink_down(struct output *o, struct sink *k, int send_error);
int output__sink_connect(struct output *o, struct sink *k);
int output__replay(struct output *o, struct sink *k, unsigned max);
void output__deliver(struct output *o, struct sink *k, const struct item *items, unsigned n,
                     char **buf, size_t *cap);

/* output_file.c: the file sink. */
int output__file_open(struct output *o, struct sink *k, char *err, size_t errlen);
int output__file_flush(struct output *o, struct sink *k, int replay);
int output__file_put(struct output *o, struct sink *k, const char *msg, size_t len);
void output__file_close(struct output *o, struct sink *k);
void output__file_rotate(struct output *o, struct sink *k);

#endif
