/*
 * The inventory against the site's ledger (inventory.ledger): a device is looked up by address,
 * then by MAC. In no row, it is an unknown device, judged once it can be: at once when the
 * ledger lists every device by address, else when its MAC is known (a device behind a router,
 * whose MAC the mirror never shows, is matched by address only). In a row, the row's zone must
 * be the one its address maps to, and a row with an address and a MAC must match the MAC seen
 * there. What is found is reported to the detector with the flow at hand, the device named by
 * its row (or the name it goes by) and its owner. Every finding of the inventory, end of
 * support too, is reported here, as evidence lines.
 */
#include <stdio.h>
#include <string.h>

#include "mimamori/ledger.h"
#include "mimamori/oui.h"

#include "inventory_int.h"

const struct ledger *inventory__ledger(const struct inventory *inv)
{
    return inv->cfg != NULL ? inv->cfg->inventory.ledger : NULL;
}

const struct ledger_entry *inventory__ledger_row(const struct inventory *inv, const uint8_t ip[16],
                                                 const struct device *d)
{
    const struct ledger_entry *e = ledger_by_ip(inventory__ledger(inv), ip);

    return e == NULL && d != NULL && d->has_mac ? ledger_by_mac(inventory__ledger(inv), d->mac) : e;
}

void inventory__ledger_judge(struct inventory *inv, struct device *d)
{
    const struct ledger *l = inventory__ledger(inv);
    const struct ledger_entry *e;

    if (l == NULL || d->judged)
        return;
    if ((e = inventory__ledger_row(inv, d->ip, d)) == NULL) {
        if (!d->has_mac && ledger_mac_only(l) > 0)
            return; /* it may be a row listed by MAC alone: wait for its MAC */
        d->pending |= 1u << INVENTORY_UNKNOWN_DEVICE;
    } else if (e->zone >= 0 && e->zone != config_zone_of(inv->cfg, d->ip)) {
        d->pending |= 1u << INVENTORY_ZONE_MISMATCH;
    }
    d->judged = 1;
    inventory__ledger_mac(inv, d);
}

void inventory__ledger_mac(struct inventory *inv, struct device *d)
{
    const struct ledger_entry *e = ledger_by_ip(inventory__ledger(inv), d->ip);

    if (e != NULL && e->has_mac && d->has_mac && memcmp(e->mac, d->mac, 6) != 0)
        d->pending |= 1u << INVENTORY_MAC_MISMATCH;
}

void inventory__ev(struct inventory_evidence *b, const char *name, const char *v)
{
    if (b->n < INVENTORY_MAX_EVIDENCE && v != NULL && v[0] != '\0')
        snprintf(b->text[b->n++], sizeof(b->text[0]), "%s=%s", name, v);
}

void inventory__finding(struct inventory *inv, struct device *d, struct flow *f,
                        enum inventory_finding_kind kind, const struct inventory_evidence *b)
{
    struct inventory_finding fd = {.kind = kind, .ip = d->ip, .f = f};
    unsigned i;

    for (i = 0; i < b->n; i++)
        fd.evidence[i] = b->text[i];
    fd.nevidence = b->n;
    if (inv->finding != NULL)
        inv->finding(inv->finding_ud, &fd);
}

void inventory__report(struct inventory *inv, struct device *d, struct flow *f)
{
    const struct ledger_entry *e = inventory__ledger_row(inv, d->ip, d);
    const char *zones = NULL;
    char mac[INVENTORY_MAC_STR], listed[INVENTORY_MAC_STR];
    unsigned k;

    if (d->pending == 0)
        return;
    inventory__mac_str(d->mac, mac);
    for (k = INVENTORY_UNKNOWN_DEVICE; k < INVENTORY__FINDINGS; k++) {
        struct inventory_evidence b = {.n = 0};
        if (!(d->pending & (1u << k)))
            continue;
        inventory__ev(&b, "device_name",
                      e != NULL && e->name[0] != '\0' ? e->name : inventory__name(d));
        inventory__ev(&b, "owner", e != NULL ? e->owner : NULL);
        zones = inv->cfg->zone_names[config_zone_of(inv->cfg, d->ip)];
        if (k == INVENTORY_UNKNOWN_DEVICE) {
            inventory__ev(&b, "zone", zones);
            inventory__ev(&b, "mac", d->has_mac ? mac : NULL);
            inventory__ev(&b, "vendor", d->has_mac ? oui_vendor(inv->oui, d->mac) : NULL);
            inventory__ev(&b, "dicom_ae", d->ae); /* what else says what it is */
            inventory__ev(&b, "hl7_application", d->hl7_app);
        } else if (k == INVENTORY_ZONE_MISMATCH && e != NULL && e->zone >= 0) {
            inventory__ev(&b, "listed_zone", inv->cfg->zone_names[e->zone]);
            inventory__ev(&b, "seen_zone", zones);
        } else if (k == INVENTORY_MAC_MISMATCH && e != NULL) {
            inventory__mac_str(e->mac, listed);
            inventory__ev(&b, "listed_mac", listed);
            inventory__ev(&b, "seen_mac", mac);
            inventory__ev(&b, "vendor", oui_vendor(inv->oui, d->mac));
        } else if (k == INVENTORY_FIRMWARE_CHANGE) {
            inventory__ev(&b, "dicom_ae", d->ae);
            inventory__ev(&b, "implementation_version_was", d->fw_from);
            inventory__ev(&b, "implementation_version_now", d->sw[EOS_HINT_DICOM_VERSION]);
        }
        if (e != NULL && k != INVENTORY_UNKNOWN_DEVICE) {
            char line[16];
            snprintf(line, sizeof(line), "%u", e->line);
            inventory__ev(&b, "ledger_line", line);
        }
        inventory__finding(inv, d, f, (enum inventory_finding_kind)k, &b);
    }
    d->pending = 0;
}
