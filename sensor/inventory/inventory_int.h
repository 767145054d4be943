/*
 * Private to the inventory: a device's record, shared by the table (inventory.c) and its
 * writers (inventory_write.c).
 */
#ifndef MIMAMORI_INVENTORY_INT_H
#define MIMAMORI_INVENTORY_INT_H

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>

#include "mimamori/dhcp.h"
#include "mimamori/dicom.h"
#include "mimamori/hl7.h"
#include "mimamori/inventory.h"

#define INVENTORY_MAX_NOTES 16 /* changes one update can report */

struct service {
    uint8_t l4;
    uint16_t port;
    uint16_t master, app; /* protocol ids as classified */
    uint32_t flows;
};

/* The product past end of support a device was flagged with, and the hint that showed it. */
struct device_eos {
    uint8_t hint;    /* enum eos_hint */
    uint8_t pending; /* found outside a flow (DHCP): reported with the device's next flow */
    char product[48], ended[11], source[48];
    char value[INVENTORY_HINT_LEN]; /* the hint as it matched */
};

/* What a device did in DICOM: requested storage or queries, was asked for either. */
#define DEVICE_DICOM_STORE   0x01u /* opened associations and sent C-STORE */
#define DEVICE_DICOM_QUERY   0x02u /* opened associations and sent C-FIND, C-MOVE or C-GET */
#define DEVICE_DICOM_STORED  0x04u /* accepted associations that sent it C-STORE */
#define DEVICE_DICOM_QUERIED 0x08u /* accepted associations that queried it */

struct device {
    uint8_t ip[16];
    uint8_t has_mac, nsvc;
    uint8_t fresh;   /* made by the update under way: its changes are one new_device event */
    uint8_t zone;    /* in a writer's copy only: its zone when the copy was taken */
    uint8_t judged;  /* checked against the ledger (in it or not) */
    uint8_t pending; /* bit per inventory_finding_kind found, to report with the next flow */
    /* what every flow end touches, next to the address: two cache lines, not four */
    uint64_t first_us, last_us, sent, received;
    struct service svc[INVENTORY_MAX_SERVICES];
    struct device_eos eos; /* product[0] == 0: not flagged; pending read per flow end */
    char
        fw_from[INVENTORY_HINT_LEN]; /* the DICOM implementation version before the latest change */
    uint8_t ua_agree;                /* browser user agents that named ua_nt, saturating */
    uint8_t ua_mixed;                /* ... and one named another Windows version: judged by none */
    uint8_t mac[6];
    char ua_nt[8]; /* "6.1" of "Mozilla/5.0 (Windows NT 6.1" */
    char name[DHCP_NAME_LEN], fqdn[DHCP_NAME_LEN], dhcp_params[DHCP_NAME_LEN];
    char netbios[16], mdns[NAMES_LEN], dns[NAMES_LEN]; /* names from name services */
    char ntlm[16];        /* the computer name its NTLMSSP sign-ins state */
    char cert[NAMES_LEN]; /* the first name its TLS certificate lists (not a wildcard) */
    char sw[EOS_HINT__COUNT][INVENTORY_HINT_LEN]; /* software hints, the latest of each kind */
    char ae[DICOM_AE_LEN], impl_class[DICOM_UID_LEN];
    char hl7_app[HL7_NAME_LEN], hl7_facility[HL7_NAME_LEN];
    char hl7_type[HL7_TYPE_LEN]; /* the first message type it sent ("ADT^A01") */
    uint8_t dicom_did;           /* DEVICE_DICOM_* bits: what it did in DICOM associations */
    uint8_t sop_other;           /* ... with SOP classes dicom.c does not name */
    uint64_t sop_classes;        /* bit per dicom_uid_index(): the SOP classes requested */
};

/*
 * addrtab.c: records that begin with their 16-byte address, in a dense array (stride bytes
 * each, the last-seen time at last_off), indexed by an open-addressed table of positions + 1.
 */
struct addrtab {
    void *rec;
    size_t stride, last_off;
    uint32_t *slot, mask;
};
uint32_t inventory__hash(const uint8_t ip[16]);

/* The index slot holding ip's record, or the empty one where it would go. */
uint32_t *inventory__slot(struct addrtab *t, const uint8_t ip[16]);
/* Of the n records, the drop silent the longest leave, the rest close up, the index is made
 * again; returns how many left (0 when there is no memory to sort). */
uint32_t inventory__evict(struct addrtab *t, uint32_t n, uint32_t drop);

/*
 * Devices live in a dense array in the order they were first seen; an open-addressed table of
 * their indexes + 1 finds them by address. Writers copy the array under the lock and format the
 * copy without it (inventory__snapshot).
 */
struct inventory {
    pthread_mutex_t mu; /* updates (under the engine's lock) against writers (any thread) */
    struct device *d;
    struct addrtab tab; /* d, indexed by address */
    uint32_t n, max;
    uint64_t dropped, aged;
    const struct mm_config *cfg;
    inventory_finding_fn finding;
    void *finding_ud;
    struct eve *eve; /* changes as events, or NULL */
    const struct eve_ctx *ctx;
    const struct oui *oui;
    struct connections *conns;  /* or NULL */
    struct baseline *base;      /* or NULL */
    struct baseline *learned;   /* the baseline rules', or NULL (only kept here) */
    const struct dnscache *dns; /* the engine's, for the connections' names (or NULL) */
    struct note {
        uint32_t dev;       /* index in d: no device moves during an update */
        const char *change; /* a literal */
        char what[40], from[INVENTORY_HINT_LEN], to[INVENTORY_HINT_LEN];
    } note[INVENTORY_MAX_NOTES]; /* changes of the update under way */
    unsigned nnotes;
    uint64_t notes_lost; /* beyond INVENTORY_MAX_NOTES in one update */
};

/*
 * inventory_state.c: state files. A save goes to PATH.tmp (mode 0640; NULL with err when it
 * cannot be made), then is flushed to disk and renamed over PATH (failed: the writer's own
 * error; MM_EIO with err). A load reads JSON lines whose first is a header naming format and
 * version (what names it in the error): fn gets the header (header 1), then each line (o NULL when
 * it does not parse); a missing file is a first start (0), another format MM_EIO with err.
 */
#define INVENTORY_TMP_LEN 4096
struct json_t;
FILE *inventory__save_open(const char *path, char tmp[INVENTORY_TMP_LEN], char *err, size_t errlen);
int inventory__save_close(FILE *fp, int failed, const char *tmp, const char *path, char *err,
                          size_t errlen);
typedef void (*inventory__line_fn)(void *ud, struct json_t *o, int header);
int inventory__load_lines(const char *path, const char *format, int version, const char *what,
                          inventory__line_fn fn, void *ud, char *err, size_t errlen);

/*
 * inventory_write.c: one CSV field (quoted as RFC 4180 asks, a formula's first character led by
 * an apostrophe), then ',' or, last, CRLF; a JSON list as CSV text, joined with "; " (key: a
 * list of service objects).
 */
void inventory__csv_field(FILE *fp, const char *s, int last);
/* The byte order mark by which Excel knows UTF-8, then the header row. */
void inventory__csv_header(FILE *fp, const char *const *columns, size_t n);
void inventory__csv_join(char *out, size_t size, struct json_t *v, const char *key);

/* inventory_write.c: a MAC as the inventory writes it, "00:0b:82:01:fc:42"; returns out. */
#define INVENTORY_MAC_STR 18
char *inventory__mac_str(const uint8_t mac[6], char out[INVENTORY_MAC_STR]);

/*
 * What an event's record is made of, copied on the packet path and made into JSON on the
 * output thread, where the config and the registry it came from may be gone.
 */
struct inventory_snapshot {
    struct device d;
    char zone[MM_MAX_ZONE_NAME];
    char vendor[128];
};
void inventory__snapshot_of(const struct inventory *inv, const struct device *d,
                            struct inventory_snapshot *s);
struct json_t *inventory__snapshot_json(const void *snapshot);

/*
 * inventory_ledger.c: the site's ledger (NULL: none); the row of address ip, else of device
 * d's MAC (d may be NULL); a device against the ledger (once), its MAC against its row;
 * findings.
 */
const struct ledger *inventory__ledger(const struct inventory *inv);
const struct ledger_entry *inventory__ledger_row(const struct inventory *inv, const uint8_t ip[16],
                                                 const struct device *d);
void inventory__ledger_judge(struct inventory *inv, struct device *d);
void inventory__ledger_mac(struct inventory *inv, struct device *d);
void inventory__report(struct inventory *inv, struct device *d, struct flow *f);

/* A finding's evidence lines, "name=value", and the finding reported with them. */
struct inventory_evidence {
    char text[INVENTORY_MAX_EVIDENCE][96];
    unsigned n;
};
/* Adds "name=v" when there is a v. */
void inventory__ev(struct inventory_evidence *b, const char *name, const char *v);
void inventory__finding(struct inventory *inv, struct device *d, struct flow *f,
                        enum inventory_finding_kind kind, const struct inventory_evidence *b);

/* The device's most telling name (DHCP, NetBIOS, NTLM, mDNS or LLMNR, DNS, TLS certificate,
 * FQDN), or "". */
static inline const char *inventory__name(const struct device *d)
{
    return d->name[0]      ? d->name
           : d->netbios[0] ? d->netbios
           : d->ntlm[0]    ? d->ntlm
           : d->mdns[0]    ? d->mdns
           : d->dns[0]     ? d->dns
           : d->cert[0]    ? d->cert
                           : d->fqdn;
}

/*
 * A copy of the devices, sorted by address, for a writer on any thread: each with its zone,
 * and the zones' names (names: MM_MAX_ZONES of them) as the config had them, so that a reload
 * freeing that config meanwhile changes nothing. NULL when out of memory.
 */
struct device *inventory__snapshot(struct inventory *inv, uint32_t *n,
                                   char (*names)[MM_MAX_ZONE_NAME]);

#endif
