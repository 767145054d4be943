/*
 * Site configuration: the YAML file README.md documents under "Configuration" (sensor,
 * home_networks, zones, services, rules, outputs) plus its extensions (zone egress allowlists,
 * maintenance windows, suppressions, flow, the medical inventory of DICOM AE titles and HL7
 * applications). Loading builds one immutable snapshot, rules included; every problem found
 * is reported as "file:line:col: message" and the snapshot is only returned when there are none.
 */
#ifndef MIMAMORI_CONFIG_H
#define MIMAMORI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/capture.h"
#include "mimamori/flow.h"
#include "mimamori/intel.h"
#include "mimamori/limits.h"
#include "mimamori/ydoc.h"
#include "mimamori/error.h"

#define ZONE_INTERNET 0 /* outside home_networks */
#define ZONE_UNZONED  1 /* inside, but in no zone */

typedef uint64_t zone_set; /* bit z: zone index z (MM_MAX_ZONES <= 64) */
#define ZONE_BIT(z)    ((zone_set)1 << (z))
#define ZONES_INTERNAL (~ZONE_BIT(ZONE_INTERNET))

/*
 * The site's approved servers (services:): the key, the protocol nDPI names it by, and the
 * port a server answers on. domain_controllers is a Mimamori extension.
 */
#define CONFIG_SERVICES_X(X)                                                                       \
    X(DNS, "dns", "DNS", 53)                                                                       \
    X(DHCP, "dhcp", "DHCP", 67)                                                                    \
    X(NTP, "ntp", "NTP", 123)                                                                      \
    X(DC, "domain_controllers", "Kerberos", 88)

enum config_service {
#define X(id, key, proto, port) SVC_##id,
    CONFIG_SERVICES_X(X)
#undef X
        SVC__COUNT
};

enum config_output_type { OUTPUT_FILE = 0, OUTPUT_SYSLOG };

/* Event types, as bits of an output's types. */
#define OUTPUT_EV_ALERT     0
#define OUTPUT_EV_FLOW      1
#define OUTPUT_EV_STATS     2
#define OUTPUT_EV_INVENTORY 3
#define OUTPUT_EV_ALL       0xfu

struct config_output {
    enum config_output_type type;
    unsigned types;        /* bit (1 << OUTPUT_EV_*) per event type it receives */
    char *path;            /* file */
    uint64_t rotate_size;  /* file: rotate when it would grow beyond (0: never) */
    uint32_t rotate_keep;  /* file: rotated files kept */
    char *transport;       /* syslog: udp, tcp, tls */
    char *address;         /* syslog: host:port */
    unsigned facility;     /* syslog facility number */
    uint32_t max_message;  /* syslog udp: largest datagram */
    uint32_t max_rate;     /* syslog udp: datagrams per second (a burst overruns receivers) */
    char *ca, *cert, *key; /* tls: trust anchors, client certificate and key */
    char *server_name;     /* tls: name the server certificate must carry (default: host) */
    unsigned line, col;    /* file: where path was written */
};

/* How events reach the outputs (Mimamori extension "delivery:"). */
struct config_delivery {
    uint32_t queue_events; /* events waiting for the output thread */
    char *spool_dir;
    uint64_t spool_max;  /* bytes per spool file */
    uint32_t drain_s;    /* at exit, how long to wait for a destination that is down */
    uint32_t timeout_ms; /* connect and send timeout of syslog destinations */
};

/* A set of hosts named by zones and networks; empty means "any host". */
struct config_hostset {
    zone_set zones;
    struct zone_map *nets; /* NULL when no networks were given */
};

/* What a zone may reach on the internet without an Unexpected egress alert. */
struct config_egress {
    struct zone_map *nets;
    char **domains; /* "host.example" exactly, or "*.example" for any name below it */
    unsigned ndomains;
    uint16_t protocols[MM_MAX_LIST]; /* classify protocol ids */
    unsigned nprotocols;
};

/* A maintenance window: weekly (days != 0) or one-off (from_s..until_s, UTC). */
struct config_window {
    char name[64];               /* name, or the ticket id */
    char ticket[64];             /* "" when none */
    uint8_t days;                /* bit 0 Sunday .. bit 6 Saturday */
    uint16_t start_min, end_min; /* minutes of the local day; end < start crosses midnight */
    int64_t from_s, until_s;
    struct config_hostset sources, targets;
};

/* A threat-intelligence feed (intel:): its file and what an alert on its indicators says. */
struct config_intel_feed {
    char *name, *path;
    uint8_t severity; /* 1-3 */
    uint8_t category; /* enum alert_category */
};

struct config_suppress {
    char rule[64];    /* rule key, or "" with a category */
    uint8_t category; /* alert_category + 1, 0: by rule */
    struct config_hostset src, dst;
    uint16_t port;  /* destination port, 0 any */
    int64_t until_s; /* UTC seconds it stops applying at, 0: never */
    char *reason;   /* the ticket or why, or NULL */
    unsigned line, col;
};

/*
 * An entry of the medical inventory: a name the protocol carries (a DICOM AE title, an HL7
 * sending application) and the hosts that may use it.
 */
#define MM_MAX_MEDICAL_NAME 41 /* bytes, NUL included (HL7_NAME_LEN; AE titles are 16) */
struct config_named_hosts {
    char name[MM_MAX_MEDICAL_NAME];
    struct config_hostset hosts;
};

/* What a rule's match does besides alerting (response:). */
enum response_action { RESP_ALERT = 0, RESP_RESET, RESP_BLOCK };

#define MM_MAX_BLOCK_STEPS 8

/* response.actions: a rule key or alert category, and what it does. */
struct config_response_action {
    char name[64];
    uint8_t action;     /* enum response_action */
    unsigned line, col; /* of the name, for errors found once the rules are loaded */
};

struct config_response {
    int enforce;                   /* mode: enforce; 0 is dry_run (records only) */
    char *interface;               /* where resets are sent; NULL: the flow's capture interface */
    struct config_hostset protect; /* never reset or blocked */
    uint32_t max_per_minute;       /* responses beyond are skipped and counted */
    struct config_response_action *actions;
    unsigned nactions;
    uint32_t block_s[MM_MAX_BLOCK_STEPS]; /* block durations, escalating on repeat */
    unsigned nblock_s;
    char *block_file;    /* block list file, rewritten on change; NULL: none */
    char *block_command; /* run on block and unblock, the alert on stdin; NULL: none */
};

struct ruleset;
struct tz;

struct mm_config {
    char *source; /* file name, or "(embedded default)" */
    char sensor_name[MM_MAX_SENSOR_NAME];
    char *interfaces[MM_MAX_IFACES]; /* sensor.interface: one name or a list */
    unsigned ninterfaces;
    uint32_t workers; /* sensor.workers: packet workers for live capture (1 to MM_MAX_WORKERS) */
    struct capture_live_config live; /* sensor.snaplen, promiscuous, buffer_size, bpf */
    char *bpf;                       /* sensor.bpf (live.bpf points here) */
    char *user, *group;   /* sensor.user/group: who a live sensor runs as after start-up */
    unsigned nzones;      /* including the implicit internet and unzoned */
    unsigned nconfigured; /* zones given in the file */
    char zone_names[MM_MAX_ZONES][MM_MAX_ZONE_NAME];
    char *zone_desc[MM_MAX_ZONES];              /* zones.<zone>.description, or NULL */
    struct zone_map *zones;                     /* configured zones */
    struct zone_map *home;                      /* home_networks */
    struct config_egress *egress[MM_MAX_ZONES]; /* per zone, or NULL */
    struct {
        uint8_t (*addr)[16];
        unsigned n;
    } services[SVC__COUNT];
    struct tz *tz; /* maintenance.timezone (default Asia/Tokyo) */
    struct config_window *windows;
    unsigned nwindows;
    struct config_suppress *suppress;
    unsigned nsuppress;
    struct config_intel_feed *feeds; /* intel: */
    unsigned nfeeds;
    struct intel *intel;  /* their indicators, loaded with the config; NULL without feeds */
    uint16_t intel_gen;   /* tells this snapshot's table from the last one's (never 0) */
    uint64_t intel_stamp; /* the feed files as they were when read (config_intel_stamp) */
    size_t intel_count, intel_expired, intel_skipped, intel_duplicates, intel_bytes;
    struct config_named_hosts *dicom_aes; /* medical.dicom_ae_titles */
    unsigned ndicom_aes;
    struct config_named_hosts *hl7_apps; /* medical.hl7_applications */
    unsigned nhl7_apps;
    char **local_domains; /* local_domains: the site's own names ("*.hospital.local") */
    unsigned nlocal_domains;
    char **rules; /* rule file paths or globs */
    unsigned nrules;
    struct ruleset *ruleset; /* compiled from rules */
    struct config_output *outputs;
    unsigned noutputs;
    struct config_delivery delivery;
    struct flow_table_config flow; /* max_flows and timeouts; callbacks unset */
    uint32_t max_classifying;      /* flows classified at once (0: max_flows / MM_CLASSIFY_SHARE) */
    uint64_t classify_memcap;      /* bytes of nDPI state (0: MM_CLASSIFY_STATE_BYTES each) */
    struct config_response response;
    struct {
        char *state;          /* inventory.state: the state file, or NULL (none) */
        uint32_t interval_s;  /* inventory.interval: live, how often files are written (0: 300) */
        uint32_t max_devices; /* inventory.max_devices (0: MM_INVENTORY_MAX_DEVICES) */
        char *ledger_path;    /* inventory.ledger: the site's CSV ledger, or NULL */
        struct ledger *ledger;
    } inventory;
    uint32_t learning_s; /* learning.period: the baseline learns this long (0: MM_LEARNING_S) */
};

/* Load a file. 0 with *out set, or MM_ECONFIG / MM_EIO / MM_ENOMEM with diag filled. */
MM_MUST_CHECK int config_load_file(const char *path, struct mm_config **out,
                                   struct config_diag *diag);

/* Load YAML text; name is used in diagnostics. */
MM_MUST_CHECK int config_load_string(const char *name, const char *text, size_t len,
                                     struct mm_config **out, struct config_diag *diag);

/* The embedded default configuration (contract: RFC 1918 + RFC 4193, no zones). */
MM_MUST_CHECK int config_load_default(struct mm_config **out, struct config_diag *diag);
extern const char config_default_yaml[];

/*
 * The feed files of a config as they are now: a hash of each one's device, inode, size and
 * modification time, equal to the snapshot's intel_stamp while none has changed since it was
 * loaded.
 */
uint64_t config_intel_stamp(const struct mm_config *c);

void config_free(struct mm_config *c);

/*
 * What --test-config checks beyond loading, on this machine: each file output's directory
 * exists (the sensor makes no log directory). Problems are added to diag at their places; 0
 * or MM_ECONFIG.
 */
int config_check_paths(const struct mm_config *c, struct config_diag *diag);

/* Zone index of an address: a configured zone, else ZONE_UNZONED or ZONE_INTERNET. */
int config_zone_of(const struct mm_config *c, const uint8_t addr[16]);
const char *config_zone_name(const struct mm_config *c, int zone);

/* Zone index of a name (configured, implicit or standard), or MM_ENOTFOUND. */
int config_zone_index(const struct mm_config *c, const char *name);

void config_hostset_free(struct config_hostset *set);

/* Whether a host (address and its zone) is in set; an empty set holds every host. */
int config_hostset_has(const struct config_hostset *set, const uint8_t addr[16], int zone);

/* The inventory entry called name (exactly), or NULL. */
const struct config_named_hosts *config_named_find(const struct config_named_hosts *list,
                                                   unsigned n, const char *name);

/* Whether addr is a listed server for svc. */
int config_is_service(const struct mm_config *c, enum config_service svc, const uint8_t addr[16]);

/* The services: key of a service ("domain_controllers"), for messages and rule files. */
extern const char *const config_service_keys[SVC__COUNT];

/*
 * Whether name matches a domain pattern ("a.example" exactly, "*.example" below it). A dot that
 * a DNS name escaped inside its label ("a\.example", as dnscache writes it) does not separate
 * labels.
 */
int config_domain_match(const char *pattern, const char *name);

/* Whether name is one of the site's own (local_domains). */
int config_is_local_name(const struct mm_config *c, const char *name);

#endif
