/*
 * The IEEE registry of MAC address blocks (MA-L, the first three bytes), read from Debian's
 * ieee-data package at start, never copied into the repository: a device's vendor from its
 * MAC address. Locally administered addresses (random MACs of phones and VMs) have none.
 */
#ifndef MIMAMORI_OUI_H
#define MIMAMORI_OUI_H

#include <stdint.h>

#include "mimamori/error.h"

#define OUI_DEFAULT_PATH "/usr/share/ieee-data/oui.txt"

struct oui;

/* Read the registry's text form ("00-22-72   (hex)\t\tVendor"). 0, MM_EIO, MM_ENOMEM. */
MM_MUST_CHECK int oui_load(struct oui **out, const char *path);
void oui_free(struct oui *o);

/* The vendor of mac, or NULL. */
const char *oui_vendor(const struct oui *o, const uint8_t mac[6]);

/* Blocks read. */
unsigned oui_count(const struct oui *o);

#endif
