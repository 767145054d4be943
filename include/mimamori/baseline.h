/*
 * The communication baseline: who talked with whom on which service, learned from the flows
 * that ended. One edge per client, server, transport, server port and (toward the internet) the
 * server's name as the flow gave it (TLS server name, HTTP host), with flows, first and last
 * seen and what nDPI named it. From it the sensor proposes a site config
 * (baseline_propose): zones from subnets and device roles, egress allowlists of the zones the
 * rules close, the approved servers, and suppressions for the zone-to-zone services seen, each
 * line with its evidence; run on the same traffic, that config raises no segmentation or egress
 * alert. A fixed table: when it is full, new edges are counted and left out.
 */
#ifndef MIMAMORI_BASELINE_H
#define MIMAMORI_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/flow.h"

#define BASELINE_NAME_LEN 48 /* bytes of a server name kept, NUL included; longer: none kept */

struct baseline;
struct inventory;

/* At most max_edges edges. 0 or MM_ENOMEM. */
MM_MUST_CHECK int baseline_create(struct baseline **out, uint32_t max_edges);
void baseline_destroy(struct baseline *b);

/*
 * A flow that ended: an edge when one end is inside cfg's home networks and the server is a
 * unicast address (broadcasts and multicasts are nobody's peer); dns (or NULL) names internet
 * servers by the answers internal hosts had for them, to tell sites apart.
 */
struct dnscache;
void baseline_flow_ended(struct baseline *b, const struct mm_config *cfg,
                         const struct dnscache *dns, const struct flow *f);

struct baseline_stats {
    uint32_t edges;
    uint64_t dropped; /* new edges the full table left out */
    uint64_t first_us, last_us;
};
void baseline_get_stats(struct baseline *b, struct baseline_stats *st);

/*
 * Write the proposed site config to path (a temporary file renamed over it): cfg is the running
 * config (its home networks, configured zones and rules are kept; its ruleset says which zones
 * are closed to the internet and which zone pairs are segmented), inv names the devices and
 * tells their DICOM and HL7 identities. 0, or MM_EIO / MM_ENOMEM with err filled.
 */
MM_MUST_CHECK int baseline_propose(struct baseline *b, struct inventory *inv,
                                   const struct mm_config *cfg, const char *path, char *err,
                                   size_t errlen);

#endif
