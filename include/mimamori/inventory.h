/*
 * The passive asset inventory: one record per internal address seen (inside home_networks),
 * with the MAC address its ARP requests and DHCP messages give it, the host name its DHCP
 * requests carry, when it was first and last seen, the bytes it sent and received, and the
 * services it answered on (protocol, port, what nDPI or Mimamori's parsers named, flows).
 * Fed by flows as they end (a flow event handler), ARP requests and DHCP messages; written as
 * JSON lines, one device per line. A fixed table sized at start: devices beyond it are counted,
 * not recorded.
 */
#ifndef MIMAMORI_INVENTORY_H
#define MIMAMORI_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/dhcp.h"
#include "mimamori/error.h"
#include "mimamori/flow.h"

#define INVENTORY_MAX_SERVICES 8 /* services kept per device, the first seen */

struct inventory;
struct oui;

/* At most max_devices devices. 0 or MM_ENOMEM. */
MM_MUST_CHECK int inventory_create(struct inventory **out, uint32_t max_devices);
void inventory_destroy(struct inventory *inv);

/* The config whose home_networks say what is internal and whose zones name devices. */
void inventory_set_config(struct inventory *inv, const struct mm_config *cfg);

/* A flow_event_handler function (ud: the inventory): flows are counted when they end. */
void inventory_flow_event(void *ud, enum flow_event ev, struct flow *f,
                          enum flow_end_reason reason);

/* An ARP request's sender (address, MAC), and a DHCP message, seen at ts_us. */
void inventory_arp(struct inventory *inv, const uint8_t ip[16], const uint8_t mac[6],
                   uint64_t ts_us);
void inventory_dhcp(struct inventory *inv, const struct dhcp_msg *m, uint64_t ts_us);
/* The same from a UDP payload to port 67 or 68 (anything that is not DHCP is passed over). */
void inventory_dhcp_payload(struct inventory *inv, const uint8_t *p, uint32_t n, uint64_t ts_us);

/*
 * Write every device as a JSON line to path (a temporary file renamed over it), ordered by
 * address; vendors from oui (NULL: none). 0, or MM_EIO with err filled.
 */
MM_MUST_CHECK int inventory_write(const struct inventory *inv, const struct oui *oui,
                                  const char *path, char *err, size_t errlen);

struct inventory_stats {
    uint32_t devices;
    uint64_t dropped; /* updates for devices beyond the table */
};
void inventory_get_stats(const struct inventory *inv, struct inventory_stats *st);

#endif
