/*
 * Private to the EVE writer's files: the writer's state, the view of a flow that alerts and flow
 * records share, and the per-thread arena jansson allocates from while an event is built.
 */
#ifndef MIMAMORI_EVE_INT_H
#define MIMAMORI_EVE_INT_H

#include <pthread.h>
#include <stddef.h>

#include <jansson.h>

#include "mimamori/classify.h"
#include "mimamori/eve.h"
#include "mimamori/limits.h"

struct flow_rec;

struct eve {
    struct output *out;
    uint64_t written;
    int want_flows;
    int want_inventory; /* an output takes inventory events */
    /* flow record blocks for reuse, per worker: those at hand, and those the output thread gave
       back (under pool_mu) */
    struct flow_rec *pool_local[MM_MAX_WORKERS], *pool_shared[MM_MAX_WORKERS];
    unsigned pool_nshared[MM_MAX_WORKERS];
    pthread_mutex_t pool_mu;
};

/*
 * What an event says about a flow. On the packet path it points into the live flow and the
 * running config; a flow record made later on the output thread gets one pointing into its
 * own copies (struct flow_rec).
 */
struct flow_view {
    const struct flow *f;
    struct classify_names names;
    const char *iface;        /* in_iface, only when several interfaces are captured */
    const char *zone[2];      /* of the source and the destination */
    const char *zone_desc[2]; /* ... as the site config describes them, or NULL */
    const struct classify_meta *meta;
    const struct hl7_info *hl7;
    const struct dicom_info *dicom;
};

/* --- eve_arena.c ------------------------------------------------------------------------------ */

/* Makes jansson allocate through the arena (process-wide; idempotent). */
void eve__arena_install(void);

/* Starts an event on this thread: its objects come from the arena until eve__event_line. */
void eve__arena_begin(void);

/*
 * The event as one JSON line (malloc'd, its length in *len), or NULL when out of memory; the
 * event is freed and this thread's arena emptied either way.
 */
char *eve__event_line(json_t *ev, size_t *len);

/* An alert's own blocks: begun before its event, ended (returning them) once it is built. */
struct carried;
int eve__carry_begin(void);
struct carried *eve__carry_end(json_t *ev);

/* output_render_fn: the alert's line, dumped on the output thread, and its blocks freed. */
char *eve__carry_render(void *arg, size_t *len);

/* --- eve.c: the start and end of every event -------------------------------------------------- */

/*
 * A string Mimamori made or already checked (ASCII, or UTF-8 from the config): not validated
 * again. Strings from packets and from the command line go through json_string().
 */
json_t *eve__ours(const char *s);
/* Starts an event in this thread's arena: timestamp, event_type, host, in_iface when given. */
json_t *eve__event_begin(const char *type, uint64_t ts_us, const char *host, const char *iface);
json_t *eve__event_new(const struct eve_ctx *ctx, const char *type, uint64_t ts_us);
/* The one capture interface's name, or NULL with several. */
const char *eve__single_iface(const struct eve_ctx *ctx);
/* Serialises ev and hands the line to the output stage. */
int eve__emit(struct eve *e, json_t *ev, unsigned type, unsigned severity, uint64_t ts_us);
/* One more event written (flow records are made by several workers at once). */
void eve__counted(struct eve *e);

/* --- eve_flow.c ------------------------------------------------------------------------------- */

void eve__view_of(struct flow_view *v, const struct eve_ctx *ctx, const struct flow *f);
/* The fields common to every event about a flow. */
void eve__add_flow_common(json_t *ev, const struct flow_view *v);
/* Counters by name, only those that are not zero; NULL when all are. */
json_t *eve__counters(const uint32_t *v, unsigned n, const char *(*name)(unsigned));
/* Frees a list of recycled flow record blocks. */
void eve__rec_list_free(struct flow_rec *r);

#endif
