/*
 * The passive asset inventory: one record per internal address seen (inside home_networks),
 * with the MAC address its ARP requests and DHCP messages give it, the host name its DHCP
 * requests carry, when it was first and last seen, the bytes it sent and received, and the
 * services it answered on (protocol, port, what nDPI or Mimamori's parsers named, flows).
 * Fed by flows as they end (a flow event handler), ARP requests and DHCP messages; written as
 * JSON lines, one device per line. A fixed table sized at start: when it is full, the eighth of
 * its devices silent the longest leave (counted) to make room.
 */
#ifndef MIMAMORI_INVENTORY_H
#define MIMAMORI_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/dhcp.h"
#include "mimamori/error.h"
#include "mimamori/decode.h"
#include "mimamori/flow.h"
#include "mimamori/names.h"
#include "mimamori/rules.h"

#define INVENTORY_MAX_SERVICES 8  /* services kept per device, the first seen */
#define INVENTORY_HINT_LEN     64 /* bytes of a software hint kept, NUL included */
#define INVENTORY_UA_AGREE     3  /* browser user agents that must agree before one judges */

struct inventory;
struct oui;

/* At most max_devices devices. 0 or MM_ENOMEM. */
MM_MUST_CHECK int inventory_create(struct inventory **out, uint32_t max_devices);
void inventory_destroy(struct inventory *inv);

/* The config whose home_networks say what is internal and whose zones name devices. */
void inventory_set_config(struct inventory *inv, const struct mm_config *cfg);

/*
 * What the inventory finds about a device and reports: its software past end of support (the
 * table entry's product and dates, the hint that matched); with a ledger (inventory.ledger),
 * a device in no row, in another zone than its row's, or at an address listed with another
 * MAC; and a DICOM implementation version that changed (new firmware or software). Each once
 * per device (a MAC mismatch once per MAC), with the flow that showed it or, when it came
 * without one (ARP, DHCP), the device's next flow.
 */
enum inventory_finding_kind {
    INVENTORY_END_OF_SUPPORT = 0,
    INVENTORY_UNKNOWN_DEVICE,  /* in no row of the site's ledger */
    INVENTORY_ZONE_MISMATCH,   /* its row names another zone than the one it is seen in */
    INVENTORY_MAC_MISMATCH,    /* its address's row names another MAC */
    INVENTORY_FIRMWARE_CHANGE, /* its DICOM implementation version changed */
    INVENTORY__FINDINGS
};

#define INVENTORY_MAX_EVIDENCE 8

struct inventory_finding {
    enum inventory_finding_kind kind;
    const uint8_t *ip; /* the device */
    struct flow *f;
    /*
     * What the alert says, "name=value": for end of support the table entry's product, date
     * and source around the hint that matched ("windows=6.1.7601"); for the ledger findings
     * the device's name (its row's, else its own) and owner first.
     */
    const char *evidence[INVENTORY_MAX_EVIDENCE];
    unsigned nevidence;
};

typedef void (*inventory_finding_fn)(void *ud, const struct inventory_finding *fd);

/*
 * Where findings go (fn, ud: the detector), and where changes go as events (eve, ctx; NULL:
 * nowhere): a new device, a new service, an identity learned or changed (MAC, names, DICOM and
 * HL7 identity, Windows version, end of support), each with the device's record. Changes are
 * written when the update that made them ends, so the record is whole.
 */
struct eve;
struct eve_ctx;
void inventory_set_outputs(struct inventory *inv, inventory_finding_fn fn, void *ud,
                           struct eve *eve, const struct eve_ctx *ctx);
/*
 * The name to call the device at ip by: its ledger row's, else the most telling it goes by
 * (DHCP, NetBIOS, mDNS, DNS); 1 with out filled, 0 when it has none. Any thread.
 */
int inventory_device_name(struct inventory *inv, const uint8_t ip[16], char *out, size_t size);

/* The external connections table fed with the flows the inventory sees end (NULL: none). */
struct connections;
void inventory_set_connections(struct inventory *inv, struct connections *c);
/* The communication baseline fed with the same flows (NULL: none). */
struct baseline;
void inventory_set_baseline(struct inventory *inv, struct baseline *b);
/* The baseline rules' learned baseline (the detector's, or NULL), saved with the state file. */
void inventory_set_learned(struct inventory *inv, struct baseline *b);
struct baseline *inventory_learned(struct inventory *inv);
/* The DNS answers seen, which name external parties (read under the engine's lock). */
struct dnscache;
void inventory_set_dns(struct inventory *inv, const struct dnscache *dns);

/* Vendors for the records of events (NULL: none). */
void inventory_set_oui(struct inventory *inv, const struct oui *oui);

/* A flow_event_handler function (ud: the inventory): flows are counted when they end. */
void inventory_flow_event(void *ud, enum flow_event ev, struct flow *f,
                          enum flow_end_reason reason);

/* An ARP request's sender (address, MAC), and a DHCP message, seen at ts_us. */
void inventory_arp(struct inventory *inv, const uint8_t ip[16], const uint8_t mac[6],
                   uint64_t ts_us);
void inventory_dhcp(struct inventory *inv, const struct dhcp_msg *m, uint64_t ts_us);
/*
 * A UDP packet that may name hosts or tell their MAC: DHCP (to port 67 or 68), NetBIOS name
 * service, mDNS, LLMNR, DNS answers (names.h). Names go to devices already seen, or to the
 * sender when the name is its own; anything else in the payload is passed over.
 */
static inline int inventory_udp_port(uint16_t sport, uint16_t dport)
{
    return dport == 67 || dport == 68 || names_port(sport, dport);
}
void inventory_udp(struct inventory *inv, const struct pkt_view *pv, uint64_t ts_us);

/*
 * Write every device to path (a temporary file renamed over it), ordered by address, vendors
 * from oui (NULL: none): as JSON lines, one device per line, or as CSV for a spreadsheet (UTF-8
 * with a byte order mark, CRLF, a header row; the ledger's columns first: ip, mac, name, zone,
 * owner, vendor). 0, or MM_EIO with err filled.
 */
enum inventory_format { INVENTORY_JSON = 0, INVENTORY_CSV };
MM_MUST_CHECK int inventory_write(struct inventory *inv, const struct oui *oui, const char *path,
                                  enum inventory_format format, char *err, size_t errlen);

/*
 * The state file, so a restart keeps what was learned: JSON lines, a header line then one
 * device per line with everything the table holds (a format of its own, not the inventory's).
 * Load: a missing file is a first start (0); lines that do not parse, or devices outside the
 * home networks now, are skipped and counted; MM_EIO when it cannot be read. Save: to a
 * temporary file, flushed to disk, renamed over path. Both safe while the engine runs.
 */
MM_MUST_CHECK int inventory_load(struct inventory *inv, const char *path, unsigned *loaded,
                                 unsigned *skipped, char *err, size_t errlen);
MM_MUST_CHECK int inventory_save(struct inventory *inv, const char *path, char *err, size_t errlen);

struct inventory_stats {
    uint32_t devices;
    uint64_t dropped; /* updates for new devices the table had no room for */
    uint64_t aged;    /* devices that left a full table, silent the longest */
};
void inventory_get_stats(struct inventory *inv, struct inventory_stats *st);

#endif
