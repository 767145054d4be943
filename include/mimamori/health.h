/*
 * Sensor health: the rules of type health applied to what the capture itself shows, so that a
 * mirror port that went quiet, lost a direction or drops packets is an alert like any other
 * rather than a blind spot. Silence and kernel drops are measured on the wall clock in live
 * capture; one-way traffic and upstream loss come from TCP acknowledgments (flow_ack_stats) in
 * fixed windows, of wall time live and of packet time from files; a step back of packet time
 * is checked on every packet, live. A destination that is down or failing to write (output) is
 * checked at every sample. A condition raises one alert when it begins and a reminder each
 * dedup period while it lasts (its count says for how many checks it held); its end is logged,
 * and for output also written as an alert that says it recovered and what the outage cost.
 * Every check but clock is kept per capture interface, so one dead mirror port among several
 * is named.
 */
#ifndef MIMAMORI_HEALTH_H
#define MIMAMORI_HEALTH_H

#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/eve.h"
#include "mimamori/flow.h"
#include "mimamori/limits.h"
#include "mimamori/output.h"
#include "mimamori/error.h"

struct health;

/* What the engine knows about one capture interface at one moment. */
struct health_iface {
    const char *name;                      /* live interface, NULL for files */
    uint64_t packets;                      /* delivered to the sensor so far */
    uint64_t kernel_packets, kernel_drops; /* live only */
    const struct flow_ack_stats *ack;      /* of the packets from this interface */
};

struct health_sample {
    uint64_t now_us; /* wall clock (live) or the latest packet time (files) */
    unsigned n;      /* interfaces (one for files) */
    struct health_iface ifc[MM_MAX_IFACES];
    const struct output_stats *out; /* the destinations' delivery, or NULL */
};

/*
 * Health checks for the health rules of cfg->ruleset, writing alerts to eve (may be NULL) with
 * ctx (whose ifaces name the interfaces). live: silence, drops and clock are checked only live.
 * 0 or MM_ENOMEM.
 */
MM_MUST_CHECK int health_create(struct health **out, const struct mm_config *cfg, struct eve *eve,
                                const struct eve_ctx *ctx, int live);
void health_destroy(struct health *h);

/* Use cfg's health rules from now on; a rule of the same key and check keeps its state. */
int health_reload(struct health *h, const struct mm_config *cfg);

/* Called at least once a second: silence, and the windows that have ended. */
void health_sample(struct health *h, const struct health_sample *s);

/*
 * A packet stamped ts_us arrived after one stamped latest_us, more than a second later: counted;
 * live, checked against the clock rules (from files it is how they were recorded).
 */
void health_clock(struct health *h, uint64_t ts_us, uint64_t latest_us);

/* End of input: windows cut short are judged if they hold enough to go by. */
void health_finish(struct health *h, const struct health_sample *s);

struct health_stats {
    uint64_t alerts;     /* alert events written */
    uint64_t active;     /* conditions holding now */
    uint64_t steps_back; /* packets stamped over a second before the latest */
};
void health_get_stats(const struct health *h, struct health_stats *st);

#endif
