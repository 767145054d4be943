/*
 * The communication baseline: who talked with whom on which service, learned from the flows
 * that ended. One edge per client, server, transport, server port and (toward the internet) the
 * server's name as the flow gave it (TLS server name, HTTP host), with flows, first and last
 * seen and what nDPI named it. From it the sensor proposes a site config
 * (baseline_propose): zones from subnets and device roles, egress allowlists of the zones the
 * rules close, the approved servers, and suppressions for the zone-to-zone services seen, each
 * line with its evidence; run on the same traffic, that config raises no segmentation or egress
 * alert. The detector keeps a table of its own for the baseline rules (baseline_judge): what
 * the devices of the watched zones did during learning.period, after which communication
 * outside it is news, reported once. A fixed table: when it is full, new edges are counted and
 * left out (and, once learning is over, not reported: a full table says nothing new).
 */
#ifndef MIMAMORI_BASELINE_H
#define MIMAMORI_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/flow.h"
#include "mimamori/rules.h"

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

/*
 * A classified flow (answered) in a baseline rule's scope, cz and sz its ends' zones, name the
 * server's name (TLS server name, HTTP host or DNS answer; NULL: none). While the flow starts
 * within period_us of the first flow judged, it is learned; after, v->news says whether check
 * finds it outside the baseline: a peer never seen on that service (a service used by
 * BASELINE_BUSY or more peers of the flow's zone takes any peer of that zone), a service the
 * server never answered, a site (baseline_site) neither the client nor its zone used. News is
 * learned as it is reported, so each is reported once.
 */
#define BASELINE_BUSY 8

struct baseline_verdict {
    int learning, news;
    uint32_t learned;           /* peers of the service, services of the server, or sites */
    uint32_t client_peers;      /* new_peer: the servers the client used */
    uint64_t from_us, until_us; /* the learning period */
};

void baseline_judge(struct baseline *b, enum baseline_check check, const struct flow *f, int cz,
                    int sz, const char *name, uint64_t period_us, struct baseline_verdict *v);

/*
 * The baseline kept across restarts (JSON lines; a temporary file renamed over path). Load: a
 * missing file is a first start (0); lines that do not parse or fit are skipped and counted;
 * MM_EIO when it cannot be read or is not a baseline state. Either while the engine runs.
 */
MM_MUST_CHECK int baseline_save(struct baseline *b, const char *path, char *err, size_t errlen);
MM_MUST_CHECK int baseline_load(struct baseline *b, const char *path, unsigned *loaded,
                                unsigned *skipped, char *err, size_t errlen);

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
