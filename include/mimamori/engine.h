/*
 * The pipeline of one worker: decode, flow table, classification (nDPI and the HL7/DICOM
 * parsers), and the control-plane flow events (started, classified, app news, ended) that
 * handlers subscribe to. The EVE flow record is one such handler; detection rules attach the
 * same way. Packets in, events out; no I/O of its own.
 */
#ifndef MIMAMORI_ENGINE_H
#define MIMAMORI_ENGINE_H

#include <stdint.h>

#include "mimamori/capture.h"
#include "mimamori/config.h"
#include "mimamori/eve.h"
#include "mimamori/flow.h"

/*
 * A subscriber to flow events. reason is meaningful for FLOW_EV_ENDED only. Handlers may set
 * flow flags (FLOW_F_*); the EVE flow record is written after every handler has seen the end.
 */
struct flow_event_handler {
    void (*fn)(void *ud, enum flow_event ev, struct flow *f, enum flow_end_reason reason);
    void *ud;
};

struct engine;

/*
 * cfg must outlive the engine; eve may be NULL (no records written). ifaces name the nifaces
 * live interfaces (packets carry their index), none when reading files.
 */
int engine_create(struct engine **out, const struct mm_config *cfg, struct eve *eve,
                  const char *const *ifaces, unsigned nifaces);
void engine_destroy(struct engine *e);

/*
 * Use a new config snapshot from now on (zones, rules, inventories; not the flow table size or
 * the outputs, which need a restart). Flows and detector state are kept. 0 or MM_ENOMEM (the
 * old snapshot stays in use). The caller frees the old snapshot afterwards.
 */
int engine_reload(struct engine *e, const struct mm_config *cfg, uint64_t wall_us);

/* A reload that failed: counted, the running snapshot stays. */
void engine_reload_failed(struct engine *e, unsigned errors);

/* Subscribe to flow events (at most 8 handlers). 0 or MM_EFULL. */
int engine_subscribe(struct engine *e, const struct flow_event_handler *h);

/* Process one captured packet. */
void engine_packet(struct engine *e, const struct capture_pkt *pkt);

/* Live mode housekeeping with the wall clock: periodic stats. */
void engine_tick(struct engine *e, uint64_t wall_us, struct capture *cap);

/* End of input: end every flow and write the final stats event. */
void engine_finish(struct engine *e, struct capture *cap);

struct engine_stats {
    struct decode_stats decode;
    struct flow_table_stats flow;
    uint64_t flow_events[FLOW_EV__COUNT];
};
void engine_get_stats(const struct engine *e, struct engine_stats *st);

#endif
