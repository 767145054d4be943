/*
 * External connections (外部接続先), the list the guideline's checklist asks a hospital to keep:
 * every party on the internet that internal devices talked with, by address, with the names
 * the flows gave it (the DNS name its address was answered for, TLS server name, HTTP host), the
 * protocols spoken, which way the connections went (outbound from the hospital, inbound to it),
 * when, how much, which internal devices, and whether any of it was remote access (nDPI's
 * RemoteAccess and VPN categories). Fed by the inventory as flows end (inventory_set_connections);
 * written as JSON lines, one party per line, the most recent first. A fixed table: when it is full,
 * the eighth of its parties silent the longest leave.
 */
#ifndef MIMAMORI_CONNECTIONS_H
#define MIMAMORI_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/flow.h"

#define CONNECTIONS_MAX_NAMES     4 /* names kept per party, the first seen */
#define CONNECTIONS_MAX_PROTOCOLS 8
#define CONNECTIONS_MAX_DEVICES   8 /* internal devices listed per party (more are counted) */

struct connections;

/* At most max_parties parties. 0 or MM_ENOMEM. */
MM_MUST_CHECK int connections_create(struct connections **out, uint32_t max_parties);
void connections_destroy(struct connections *c);

/*
 * A flow that ended, judged internal or not by cfg's home networks (the inventory passes its
 * own config, which reloads replace under the engine's lock); dns (or NULL) names the party by
 * the DNS answer an internal host had for its address.
 */
struct dnscache;
void connections_flow_ended(struct connections *c, const struct mm_config *cfg,
                            const struct dnscache *dns, const struct flow *f);

/*
 * Write every party to path (a temporary file renamed over it): JSON lines, or CSV for a
 * spreadsheet as the inventory's (UTF-8 with a byte order mark, CRLF, a header row, lists
 * joined with "; ", formulas defused). 0, or MM_EIO with err.
 */
enum connections_format { CONNECTIONS_JSON = 0, CONNECTIONS_CSV };
MM_MUST_CHECK int connections_write(struct connections *c, const char *path,
                                    enum connections_format format, char *err, size_t errlen);

struct connections_stats {
    uint32_t parties;
    uint64_t aged; /* parties that left a full table */
};
void connections_get_stats(struct connections *c, struct connections_stats *st);

#endif
