/*
 * What the config loader's files share, and the two loader helpers the rule compiler uses
 * (zone/network lists and protocol lists read the same way in the site file and in rules).
 * Private to sensor/: the public interface is mimamori/config.h.
 */
#ifndef MIMAMORI_CONFIG_INT_H
#define MIMAMORI_CONFIG_INT_H

#include "mimamori/config.h"
#include "mimamori/ydoc.h"

/* Where the site names no sensor.timezone: windows are read in Japan's time. */
#define CONFIG_DEFAULT_TIMEZONE "Asia/Tokyo"

/* One load: the walk with its diagnostics, the snapshot being built, sections read late. */
struct loader {
    struct ywalk w;
    struct mm_config *c;
    int have_home;
    const struct ynode *maintenance, *suppress, *medical, *response;
    unsigned (*rules_at)[2]; /* line and column of each rules entry (the doc is gone by then) */
    struct {                 /* configured zones named almost like a standard one */
        int zone;
        const char *standard;
        struct ynode at; /* a copy of the key's place */
    } near[8];
    unsigned nnear;
};

/* strdup, or an "out of memory" diagnostic at n. */
char *config__dup(struct loader *L, const struct ynode *n, const char *s);

/* config_intel.c: the threat-intelligence feeds, loaded as they are read. */
void config__parse_intel(struct loader *L, const struct ynode *n);

/* config_site.c: the site's sections, read in the order of the file. */
void config__parse_sensor(struct loader *L, const struct ynode *n);
void config__parse_networks(struct loader *L, const struct ynode *n, struct zone_map *map,
                            int value, const char *what);
void config__parse_zones(struct loader *L, const struct ynode *n);
void config__parse_services(struct loader *L, const struct ynode *n);
/* A list of domains ("host.example", "*.example") into a new array *out of *n strings. */
void config__parse_domains(struct loader *L, const struct ynode *v, const char *what, char ***out,
                           unsigned *n);
void config__parse_rules(struct loader *L, const struct ynode *n);
void config__parse_flow(struct loader *L, const struct ynode *n);
void config__parse_inventory(struct loader *L, const struct ynode *n);
void config__parse_learning(struct loader *L, const struct ynode *n);
void config__parse_medical(struct loader *L, const struct ynode *n);
/* The contract's zone names the file did not configure, registered after it was read. */
void config__add_standard_zones(struct mm_config *c);
/* After the rules are compiled: a zone named almost like a standard one that no rule uses. */
void config__warn_near_standard(struct loader *L);

/* config_output.c */
void config__parse_outputs(struct loader *L, const struct ynode *n);
void config__parse_delivery(struct loader *L, const struct ynode *n);

/* config_policy.c: read after the zones; the checks run after the rules are compiled. */
void config__parse_maintenance(struct loader *L, const struct ynode *n);
void config__parse_suppress(struct loader *L, const struct ynode *n);
void config__parse_response(struct loader *L, const struct ynode *n);
void config__check_suppressions(struct loader *L);
void config__check_response_actions(struct loader *L);

/*
 * Parse a zone or network list (a scalar or a list of zone names, "internal", "any" and
 * networks) into set; what names it in messages. Returns 1 when it parsed cleanly.
 */
int config__parse_hostset(const struct mm_config *c, struct ywalk *w, const struct ynode *n,
                          const char *what, struct config_hostset *set);

/* Parse a list of nDPI protocol names into out (at most MM_MAX_LIST), reporting unknown ones. */
void config__parse_protocols(struct ywalk *w, const struct ynode *n, const char *what,
                             uint16_t out[MM_MAX_LIST], unsigned *count);

#endif
