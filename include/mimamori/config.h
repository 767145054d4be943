/*
 * Site configuration: the YAML file of ../shared/docs/contract.md (sensor, home_networks, zones,
 * services, rules, outputs) plus Mimamori's documented extension (flow). Loading builds one
 * immutable snapshot; every problem found is reported as "file:line:col: message" and the
 * snapshot is only returned when there are none.
 */
#ifndef MIMAMORI_CONFIG_H
#define MIMAMORI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/flow.h"
#include "mimamori/limits.h"

#define ZONE_INTERNET 0 /* outside home_networks */
#define ZONE_UNZONED  1 /* inside, but in no zone */

enum config_service { SVC_DNS = 0, SVC_DHCP, SVC_NTP, SVC__COUNT };

enum config_output_type { OUTPUT_FILE = 0, OUTPUT_SYSLOG };

struct config_output {
    enum config_output_type type;
    char *path;      /* file */
    char *transport; /* syslog: udp, tcp, tls */
    char *address;   /* syslog: host:port */
};

struct mm_config {
    char *source; /* file name, or "(embedded default)" */
    char sensor_name[MM_MAX_SENSOR_NAME];
    char *interface;
    unsigned nzones; /* including the implicit internet and unzoned */
    char zone_names[MM_MAX_ZONES][MM_MAX_ZONE_NAME];
    struct zone_map *zones; /* configured zones */
    struct zone_map *home;  /* home_networks */
    struct {
        uint8_t (*addr)[16];
        unsigned n;
    } services[SVC__COUNT];
    char **rules;
    unsigned nrules;
    struct config_output *outputs;
    unsigned noutputs;
    struct flow_table_config flow; /* max_flows and timeouts; callbacks unset */
};

/* Diagnostics collected while loading; each a full "file:line:col: message" line. */
#define CONFIG_MAX_DIAGS 64
struct config_diag {
    unsigned count; /* errors found (may exceed what is kept) */
    char msg[CONFIG_MAX_DIAGS][256];
};

/* Load a file. 0 with *out set, or MM_ECONFIG / MM_EIO / MM_ENOMEM with diag filled. */
int config_load_file(const char *path, struct mm_config **out, struct config_diag *diag);

/* Load YAML text; name is used in diagnostics. */
int config_load_string(const char *name, const char *text, size_t len, struct mm_config **out,
                       struct config_diag *diag);

/* The embedded default configuration (contract: RFC 1918 + RFC 4193, no zones). */
int config_load_default(struct mm_config **out, struct config_diag *diag);
extern const char config_default_yaml[];

void config_free(struct mm_config *c);

/* Zone index of an address: a configured zone, else ZONE_UNZONED or ZONE_INTERNET. */
int config_zone_of(const struct mm_config *c, const uint8_t addr[16]);
const char *config_zone_name(const struct mm_config *c, int zone);

#endif
