/*
 * The site's ledger (台帳) of devices: a CSV file the site keeps (or the inventory's own
 * --inventory-csv export, filled in), one device per row, with a header row naming the columns:
 * ip (or address), mac, name, zone, owner, vendor; others are ignored. A row needs an address or
 * a MAC; a zone must be one of the site config's. Loaded with the config, so a bad row is a
 * config error at file:line:col and a reload with one keeps the running config.
 */
#ifndef MIMAMORI_LEDGER_H
#define MIMAMORI_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/ydoc.h"
#include "mimamori/error.h"

#define LEDGER_TEXT_LEN 64 /* bytes of a name, owner or vendor kept, NUL included */

struct ledger_entry {
    uint8_t ip[16];
    uint8_t mac[6];
    uint8_t has_ip, has_mac;
    int zone; /* config zone index, or -1 when the row names none */
    char name[LEDGER_TEXT_LEN], owner[LEDGER_TEXT_LEN], vendor[LEDGER_TEXT_LEN];
    unsigned line;
};

struct ledger;
struct mm_config;

/*
 * Read path against the config's zones. 0 with *out set; MM_ECONFIG with every problem in diag
 * ("file:line:col: message"); MM_EIO (diag filled) or MM_ENOMEM.
 */
MM_MUST_CHECK int ledger_load(const char *path, const struct mm_config *cfg, struct ledger **out,
                              struct config_diag *diag);
/* The same from text in memory (name for messages). */
MM_MUST_CHECK int ledger_parse(const char *name, const char *text, size_t len,
                               const struct mm_config *cfg, struct ledger **out,
                               struct config_diag *diag);
void ledger_free(struct ledger *l);

/* The row listing an address, or a MAC; NULL when none does. */
const struct ledger_entry *ledger_by_ip(const struct ledger *l, const uint8_t ip[16]);
const struct ledger_entry *ledger_by_mac(const struct ledger *l, const uint8_t mac[6]);
/* Rows, and rows with a MAC but no address (devices matched by MAC alone). */
unsigned ledger_count(const struct ledger *l);
unsigned ledger_mac_only(const struct ledger *l);

#endif
