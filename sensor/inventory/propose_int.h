/*
 * Private to the proposal: its devices and roles, the networks it zones (propose.c), the lines
 * the ruleset needs to stay quiet (propose_needs.c) and the file (propose_write.c).
 */
#ifndef MIMAMORI_PROPOSE_INT_H
#define MIMAMORI_PROPOSE_INT_H

#include <stdint.h>

#include "mimamori/baseline.h"
#include "mimamori/config.h"

#include "baseline_int.h"
#include "inventory_int.h"

/*
 * Roles in the order they decide (the first a device shows wins): id, the zone it points to,
 * what the proposal says of it, and whether it is a server's (1: listed alone when its
 * subnet's zone is another) or an endpoint's (0: its subnet's zone is voted by these).
 */
#define PROPOSE_ROLES_X(X)                                                                         \
    X(NONE, "", "", 0)                                                                             \
    X(PACS, "departmental", "archives DICOM images or answers queries (PACS)", 1)                  \
    X(HL7_ORDERS, "emr", "sends HL7 admissions or orders (EMR or HIS)", 1)                         \
    X(DC, "infrastructure", "answers Kerberos or LDAP (domain controller)", 1)                     \
    X(DNS, "infrastructure", "answers DNS", 1)                                                     \
    X(DHCP, "infrastructure", "answers DHCP", 1)                                                   \
    X(NTP, "infrastructure", "answers NTP", 1)                                                     \
    X(PUBLIC, "dmz", "answers connections from the internet", 1)                                   \
    X(HL7_RESULTS, "departmental", "sends HL7 results (laboratory, radiology)", 1)                 \
    X(MODALITY, "medical_devices", "sends DICOM images (modality)", 0)                             \
    X(VIEWER, "clinical", "queries DICOM images (viewer)", 0)                                      \
    X(OFFICE, "office", "uses web sites on the internet", 0)                                       \
    X(CLINICAL, "clinical", "uses EMR or departmental servers, not the internet", 0)

enum propose_role {
#define X(id, zone, what, host) ROLE_##id,
    PROPOSE_ROLES_X(X)
#undef X
        ROLE__COUNT
};

struct role_info {
    const char *zone, *what;
    int host;
};
extern const struct role_info propose_roles[ROLE__COUNT];

#define PROPOSE_OFFICE_SITES 3 /* web sites (domains) a device must use to be an office PC */

/* An internal device as the proposal sees it. */
struct pdev {
    uint8_t ip[16];
    const struct device *d; /* its inventory record, or NULL */
    uint32_t signal[ROLE__COUNT];
    uint32_t web_sites;      /* web sites on the internet it used (count_sites) */
    uint32_t served, opened; /* flows it answered, flows it opened */
    uint32_t clients;        /* edges it answered */
    int zone;                /* proposed (or configured) zone index, -1 none */
    uint8_t role;            /* enum propose_role */
    uint8_t configured;      /* the running config zones it */
};

/* A network the proposal zones: a subnet, or a device alone. */
struct pnet {
    uint8_t addr[16];
    unsigned plen;
    int zone;
    uint32_t first, count; /* its devices: [first, first + count) of the sorted list */
};

/* A line the proposal must have for an edge: an egress allowlist entry or a suppression. */
enum need_kind { NEED_EGRESS_NAME = 0, NEED_EGRESS_NET, NEED_SUPPRESS };

struct need {
    uint8_t kind;   /* enum need_kind */
    uint8_t review; /* a tunnel, remote access or another resolver: say so */
    int16_t zone;   /* egress: the client's zone */
    uint16_t rule;  /* suppress: the segmentation rule's index */
    uint32_t edge;  /* index in the proposal's edges */
};

struct proposal {
    const struct mm_config *cfg;
    struct baseline_stats stats;
    struct edge *edge;
    uint32_t nedge;
    struct pdev *dev; /* sorted by address once zoned */
    uint32_t ndev;
    struct addrtab tab; /* dev by address, until sorted */
    struct device *inv; /* the inventory's copy */
    uint32_t ninv;
    struct pnet *net;
    size_t nnet, capnet;
    struct zone_map *map; /* net, as the proposal zones */
    int zone_of_role[ROLE__COUNT];
    int z_emr, z_departmental, proto_dns;
    struct need *need;
    size_t nneed, capneed;
    uint8_t services[SVC__COUNT]; /* 1: services.<key> proposed */
};

/* Whether nDPI named the edge's protocol id, as master or application (id <= 0: never). */
int propose__is_proto(const struct edge *e, int id);
int propose__zones(struct proposal *p);
int propose__zone_of(const struct proposal *p, const uint8_t ip[16]);
/* The device at ip (after zoning), or NULL. */
const struct pdev *propose__dev(const struct proposal *p, const uint8_t ip[16]);
/* Whether the device at ip is proposed as a server of svc. */
int propose__is_service(const struct proposal *p, enum config_service svc, const uint8_t ip[16]);
/* A server name fit for an allowlist (else the proposal lists the address). */
int propose__plain_name(const char *s);
int propose__needs(struct proposal *p);
void propose__free_needs(struct proposal *p);
int propose__write(struct proposal *p, const char *path, char *err, size_t errlen);

#endif
