/*
 * The output stage: events leave the packet path through a bounded queue to one output thread,
 * which writes them to every destination (file, syslog over UDP, TCP or TLS) that takes their
 * type. A destination that fails or is too slow is marked down; its events go to its spool on
 * disk and are sent, in order, once it is back (reconnecting with backoff). Events a broken
 * stream connection may have lost (unacknowledged bytes, the batch in flight) are sent again.
 * When the queue is full in live mode the event goes to an overflow spool instead, and
 * everything after it too until the thread has caught up, so order holds and capture never
 * waits; reading files, the producer waits instead. Every event is counted as sent, spooled,
 * replayed or dropped; nothing is dropped silently.
 */
#ifndef MIMAMORI_OUTPUT_H
#define MIMAMORI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mimamori/config.h"
#include "mimamori/privs.h"
#include "mimamori/error.h"

#define OUTPUT_MAX_SINKS    8
#define OUTPUT_MAX_INSTANCE 160 /* an instance's name: its interfaces, joined with '+' */

struct output;

/*
 * Set up the stage for cfg's outputs, or for eve_path alone ("-" is stdout) when it is set:
 * files opened, receivers connected. live: never block the caller of output_submit().
 * instance: what this process is (its interfaces; NULL: reading files), which names its spools
 * (INSTANCE.outputN.spool, INSTANCE.overflow.spool, INSTANCE.lock) so that instances sharing a
 * spool directory keep apart. own: the user a sensor started as root becomes (NULL if none);
 * files are then opened with privs_open_file() for it, and no spool is opened until
 * output_start(). 0, or an error with err filled.
 */
MM_MUST_CHECK int output_open(struct output **out, const struct mm_config *cfg,
                              const char *eve_path, int live, const char *instance,
                              const struct privs_owner *own, char *err, size_t errlen);

/* name made fit for a file name (other than letters, digits, '.', '-', '_', '+' become '_'). */
void output_instance_name(char *buf, size_t size, const char *name);

/*
 * Take this instance's spools for this process (an flock on INSTANCE.lock, which names the
 * holder's pid); a live sensor does so at start, after dropping privileges, and refuses to run
 * beside another process on the same spools. Otherwise taken when a spool is first needed (a
 * reader of files that finds them taken drops what it cannot deliver, counted). 0, or MM_EIO
 * with err filled.
 */
MM_MUST_CHECK int output_lock(struct output *o, char *err, size_t errlen);

/*
 * Start the output thread. A live sensor does this after dropping its privileges, so that the
 * thread runs with none either (capability bounding set and no_new_privs are per thread) and
 * cannot create a spool file as root. Until then events wait in the queue. 0 or MM_ENOMEM.
 */
MM_MUST_CHECK int output_start(struct output *o);

/*
 * Hand over one EVE line (malloc'd, without newline; the stage frees it) of type OUTPUT_EV_*
 * with its alert severity (1-3, 0 for other events) and time.
 */
void output_submit(struct output *o, unsigned type, unsigned severity, uint64_t ts_us, char *line,
                   size_t len);

/*
 * Makes a deferred event's line: returns it malloc'd (its length in *len), or NULL when out of
 * memory; frees arg either way. Must not touch what the packet path may change or free.
 */
typedef char *(*output_render_fn)(void *arg, size_t *len);

/*
 * Hand over an event whose line is made later, on the output thread (or at once when it must
 * go to the overflow spool), so the packet path does not pay for serialising it. Same order
 * and delivery as output_submit.
 */
void output_submit_deferred(struct output *o, unsigned type, unsigned severity, uint64_t ts_us,
                            output_render_fn render, void *arg);

/* Before a privilege drop: make the spool directory own's (privs_make_dir), so the stage can
 * spool afterwards; spool files are opened only by the unprivileged output thread. 0, or an
 * error with err filled. */
int output_give_spool(struct output *o, const struct privs_owner *own, char *err, size_t errlen);

/* Whether any destination takes events of type OUTPUT_EV_* (if none, they need not be made). */
int output_wants(const struct output *o, unsigned type);

/*
 * Reopen file destinations (after logrotate moved them); done by the output thread. Only sets a
 * flag: safe in a signal handler.
 */
void output_reopen(struct output *o);

/* Deliver what is queued (waiting up to the drain time for destinations that are down), stop
 * the thread and free. Events still undelivered stay in the spool for the next run. */
void output_close(struct output *o);

struct output_sink_stats {
    char name[96];
    unsigned up;
    uint64_t sent, spooled, replayed, resent, dropped, errors, reconnects, spool_bytes;
};

struct output_stats {
    uint64_t queued;           /* events handed to the stage */
    uint64_t overflowed;       /* went to the overflow spool because the queue was full */
    uint64_t overflow_dropped; /* could not be spooled either (counted, logged) */
    unsigned nsinks;
    struct output_sink_stats sink[OUTPUT_MAX_SINKS];
};
void output_get_stats(struct output *o, struct output_stats *st);

#endif
