/*
 * Detection: the compiled rules of a config snapshot applied to flow events (see rules.h for
 * what each rule type checks), the host-keyed counters the threshold rules need, and the
 * alert folding and suppression that keep one problem one alert. Alerts are written as EVE
 * events; everything suppressed or folded is counted, and folded repeats are reported with
 * their count when the fold's window closes.
 */
#ifndef MIMAMORI_DETECT_H
#define MIMAMORI_DETECT_H

#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/dnscache.h"
#include "mimamori/eve.h"
#include "mimamori/flow.h"
#include "mimamori/inventory.h"
#include "mimamori/error.h"

struct detect;

/*
 * A detector for cfg->ruleset, writing alerts to eve (may be NULL) with ctx. dns (may be NULL)
 * names destinations. All memory is sized here. 0 or MM_ENOMEM.
 */
MM_MUST_CHECK int detect_create(struct detect **out, const struct mm_config *cfg, struct eve *eve,
                                const struct eve_ctx *ctx, const struct dnscache *dns);
void detect_destroy(struct detect *d);

/*
 * Switch to a new config snapshot (cfg must outlive the detector; the caller frees the old one
 * afterwards). Counters and folds follow their rules by key, so hosts being counted toward a
 * threshold and folded repeats survive; a rule whose type or threshold changed starts afresh,
 * and a removed rule reports its folded repeats now. 0 or MM_ENOMEM (nothing changed).
 */
int detect_reload(struct detect *d, const struct mm_config *cfg);

/* Matches of rules with a response action go to r (NULL: none). */
struct response;
void detect_set_response(struct detect *d, struct response *r);

/* A flow event (a flow_event_handler function; ud is the detector). */
void detect_flow_event(void *ud, enum flow_event ev, struct flow *f, enum flow_end_reason reason);

/*
 * A DNS query on flow f whose name carries data (dnscache_data_chars() gave chars): the
 * dns_tunnel rules count such names per client and registered domain (reg, from
 * dnscache_registered(); -1 when the name has none).
 */
void detect_dns_query(struct detect *d, struct flow *f, const char *name, int reg, uint16_t qtype,
                      unsigned chars);

/*
 * Threat intelligence on DNS, each query and answer on its own: whether the snapshot has
 * indicators (cheap, for a caller deciding whether to take the lock), the name a query on flow
 * f asks (as dnscache_data_query() read it), and the answers of a response on f (as
 * dnscache_feed() read them), looked up by the intel rules.
 */
struct dns_answers;
int detect_has_intel(const struct detect *d);
void detect_dns_intel_query(struct detect *d, struct flow *f, const char *name);
void detect_dns_intel_answers(struct detect *d, struct flow *f, const struct dns_answers *a);

/*
 * An IPv4 ARP request (decode's PV_ARP_REQUEST: pv->src the sender, pv->dst the target) seen at
 * ts_us on capture interface iface: the arp_sweep rules count targets per sender.
 */
void detect_arp_request(struct detect *d, const struct pkt_view *pv, uint64_t ts_us, int iface);

/*
 * The inventory whose findings the detector reports (it is told so here) and whose device
 * names its alerts carry (metadata src_device, dest_device); its changes go to eve with ctx.
 */
void detect_set_inventory(struct detect *d, struct inventory *inv, struct eve *eve,
                          const struct eve_ctx *ctx);

/*
 * An inventory_finding_fn (ud: the detector): what the inventory found about a device, raised
 * by the end_of_support rules whose zones hold it.
 */
void detect_inventory_finding(void *ud, const struct inventory_finding *fd);

/* Packet time advanced to now_us: close folds whose window has passed. */
void detect_tick(struct detect *d, uint64_t now_us);

/* End of input: close every fold (reporting folded repeats). */
void detect_finish(struct detect *d);

struct detect_stats {
    uint64_t alerts;     /* alert events written, fold reports included */
    uint64_t folded;     /* repeats folded into an earlier alert */
    uint64_t suppressed; /* matches silenced by a suppress entry */
    uint64_t fold_reports, fold_evictions, track_evictions;
    unsigned rules_loaded, rules_disabled;
    uint64_t reloads;
    /* Per suppress entry of the running config (the first MM_STATS_SUPPRESS): its place, what
     * it silenced, whether its until has passed. */
    const struct config_suppress *supp;
    const char *supp_source;
    unsigned nsupp;
    uint64_t supp_count[MM_STATS_SUPPRESS];
    uint8_t supp_ended[MM_STATS_SUPPRESS];
};
void detect_get_stats(const struct detect *d, struct detect_stats *st);

#endif
