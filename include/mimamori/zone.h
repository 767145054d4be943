/*
 * Longest-prefix-match maps from IP networks to small integers (zone indices), and the address
 * parsing and printing every module shares. IPv4 is handled as IPv4-mapped IPv6 throughout, so
 * one binary trie serves both families. Built at config load, read-only afterwards.
 */
#ifndef MIMAMORI_ZONE_H
#define MIMAMORI_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include "mimamori/error.h"

struct zone_map;

MM_MUST_CHECK int zone_map_create(struct zone_map **out);
void zone_map_destroy(struct zone_map *m);

/*
 * Map addr/plen (plen counted on the 128-bit form) to value (>= 0). Returns 0, MM_ENOMEM, or
 * the existing value + 1 as a positive number when exactly this prefix is already mapped.
 */
int zone_map_add(struct zone_map *m, const uint8_t addr[16], unsigned plen, int value);

/* Value of the longest prefix containing addr, or -1. */
int zone_map_lookup(const struct zone_map *m, const uint8_t addr[16]);

/* Every prefix of the map with its value, in address order (shorter first where nested). */
typedef void (*zone_map_fn)(void *ud, const uint8_t addr[16], unsigned plen, int value);
void zone_map_each(const struct zone_map *m, zone_map_fn fn, void *ud);

/*
 * Parse "10.1.0.0/16", "fd00::/8" or a bare address (a host prefix). IPv4 becomes IPv4-mapped
 * with plen + 96. Returns 0 or MM_EINVAL with *why set to a static explanation.
 */
int zone_parse_cidr(const char *s, uint8_t addr[16], unsigned *plen, const char **why);

/* The IPv4-mapped form of the four bytes at a4, as every address is kept. */
void zone_addr_v4(uint8_t addr[16], const uint8_t a4[4]);

/* Whether an address is IPv4 (kept IPv4-mapped, ::ffff:a.b.c.d). */
int zone_addr_is_v4(const uint8_t addr[16]);

/* Parse a bare address; 0 or MM_EINVAL. */
int zone_parse_addr(const char *s, uint8_t addr[16]);

/* Print an address (dotted quad for IPv4-mapped) into buf of at least 46 bytes. */
const char *zone_addr_str(const uint8_t addr[16], char *buf, size_t len);

/* Print a prefix as a config names it, "10.1.0.0/16" or "fd00::/8" (plen on the 128-bit form). */
const char *zone_cidr_str(const uint8_t addr[16], unsigned plen, char *buf, size_t len);

#endif
