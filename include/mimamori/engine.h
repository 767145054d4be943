/*
 * The pipeline: per worker decode, flow table, classification (nDPI and the HL7/DICOM parsers);
 * shared by the workers the control-plane flow events (started, classified, app news, ended)
 * that handlers subscribe to, the rules among them, then the EVE flow record. Packets in,
 * events out; no I/O of its own.
 */
#ifndef MIMAMORI_ENGINE_H
#define MIMAMORI_ENGINE_H

#include <stdint.h>

#include "mimamori/capture.h"
#include "mimamori/config.h"
#include "mimamori/eve.h"
#include "mimamori/flow.h"
#include "mimamori/error.h"

/*
 * A subscriber to flow events. reason is meaningful for FLOW_EV_ENDED only. Handlers may set
 * flow flags (FLOW_F_*); the EVE flow record is written after every handler has seen the end.
 */
struct flow_event_handler {
    void (*fn)(void *ud, enum flow_event ev, struct flow *f, enum flow_end_reason reason);
    void *ud;
    unsigned events; /* bit (1 << FLOW_EV_x) per event it takes; 0: all of them */
};

struct engine;

/*
 * An engine with workers packet workers (1 to MM_MAX_WORKERS; several only for live capture,
 * ifaces given), writing to eve. 0, MM_EINVAL or MM_ENOMEM.
 */
MM_MUST_CHECK int engine_create(struct engine **out, const struct mm_config *cfg, struct eve *eve,
                                const char *const *ifaces, unsigned nifaces, unsigned workers);
void engine_destroy(struct engine *e);

/* The packet source of a worker: its counters feed the stats and health checks. */
void engine_attach(struct engine *e, unsigned worker, struct capture *cap);

/*
 * Switch to a new config snapshot (on worker 0's thread). With several workers it returns once
 * every other worker has moved past the packet it was on, so the caller may free the old one.
 */
int engine_reload(struct engine *e, const struct mm_config *cfg, uint64_t wall_us);

void engine_reload_failed(struct engine *e, unsigned errors);

int engine_subscribe(struct engine *e, const struct flow_event_handler *h);

/* Keep inv (NULL: none) up to date with ARP and DHCP as packets pass, and with the config on
 * reload; flows reach it by subscribing inventory_flow_event. Before the first packet. */
struct inventory;
void engine_set_inventory(struct engine *e, struct inventory *inv);

/* One packet of worker's source, on that worker's thread. */
void engine_packet(struct engine *e, unsigned worker, const struct capture_pkt *pkt);

/* Live, on each worker's thread after every read: expiry by the clock, counters published. */
void engine_worker_tick(struct engine *e, unsigned worker, uint64_t wall_us);

/* A worker's thread is ending: reloads no longer wait for it. */
void engine_worker_done(struct engine *e, unsigned worker);

/* Live, on the main thread: health samples, responses expiring, periodic stats. */
void engine_tick(struct engine *e, uint64_t wall_us);

/* After the last packet, every worker stopped: health, every flow written out, final stats. */
void engine_finish(struct engine *e);

#endif
