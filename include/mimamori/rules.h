/*
 * Detection rules: YAML files (see rules/README.md) compiled against a site config into a
 * read-only ruleset. Each rule has a stable key and signature_id, the words an on-call reader
 * needs (English signature, Japanese message, category, severity, MITRE ATT&CK ids, guideline
 * section) and a type that says what it checks and which keys it takes. Zone, protocol and
 * risk names are resolved at load, so evaluation compares integers.
 */
#ifndef MIMAMORI_RULES_H
#define MIMAMORI_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/config.h"
#include "mimamori/flow.h"
#include "mimamori/ydoc.h"
#include "mimamori/error.h"

#define RULES_X(X)                                                                                 \
    X(SEGMENTATION, "segmentation")                                                                \
    X(EGRESS, "egress")                                                                            \
    X(DNS_RESOLVER, "dns_resolver")                                                                \
    X(LATERAL, "lateral")                                                                          \
    X(FANOUT, "fanout")                                                                            \
    X(MAINTENANCE, "remote_maintenance")                                                           \
    X(OBSOLETE, "obsolete")                                                                        \
    X(SCAN, "scan")                                                                                \
    X(BRUTE_FORCE, "brute_force")                                                                  \
    X(EXFILTRATION, "exfiltration")                                                                \
    X(BEACONING, "beaconing")                                                                      \
    X(NDPI_RISK, "ndpi_risk")                                                                      \
    X(ROGUE_SERVICE, "rogue_service")                                                              \
    X(MEDICAL_ZONE, "medical_zone")                                                                \
    X(DICOM_AE, "dicom_ae")                                                                        \
    X(HL7_SENDER, "hl7_sender")                                                                    \
    X(DICOM_REJECT, "dicom_reject")                                                                \
    X(DCERPC, "dcerpc")                                                                            \
    X(DNS_TUNNEL, "dns_tunnel")                                                                    \
    X(ARP_SWEEP, "arp_sweep")                                                                      \
    X(END_OF_SUPPORT, "end_of_support")                                                            \
    X(LEDGER, "ledger")                                                                            \
    X(BASELINE, "baseline")                                                                        \
    X(HEALTH, "health")                                                                            \
    X(INTEL, "intel")

enum rule_type {
#define X(id, name) RULE_##id,
    RULES_X(X)
#undef X
        RULE__COUNT
};

/* alert.category, exactly the contract's strings. */
#define CATEGORIES_X(X)                                                                            \
    X(EGRESS, "Unexpected egress")                                                                 \
    X(LATERAL, "Lateral movement")                                                                 \
    X(MAINTENANCE, "Remote maintenance")                                                           \
    X(OBSOLETE, "Obsolete protocol")                                                               \
    X(RECON, "Reconnaissance")                                                                     \
    X(BRUTE_FORCE, "Brute force")                                                                  \
    X(EXFILTRATION, "Exfiltration")                                                                \
    X(C2, "Command and control")                                                                   \
    X(ROGUE, "Rogue service")                                                                      \
    X(SEGMENTATION, "Segmentation violation")                                                      \
    X(MEDICAL, "Medical protocol")                                                                 \
    X(HEALTH, "Sensor health")

enum alert_category {
#define X(id, name) CAT_##id,
    CATEGORIES_X(X)
#undef X
        CAT__COUNT
};

/* A port or port range, for TCP, UDP or either (l4 == 0). */
struct rule_port {
    uint8_t l4;
    uint16_t lo, hi;
};

/* Which flows: any listed protocol, category or port matches; an empty match matches all. */
struct rule_match {
    uint16_t protos[MM_MAX_LIST];
    uint16_t cats[8];
    struct rule_port ports[MM_MAX_LIST];
    uint8_t nprotos, ncats, nports;
    uint8_t no_guess; /* protocols and categories match only what nDPI found in the payload */
};

/* One exception of a segmentation rule: from/to narrow the rule's zones (0: all of them). */
struct rule_allow {
    zone_set from, to;
    struct rule_match match;
};

/* scan: distinct ports of one server, distinct servers, or distinct servers of one service. */
enum scan_mode { SCAN_PORTS = 0, SCAN_HOSTS, SCAN_SERVICE };

/*
 * fold: which repeats within dedup are one alert. By default each rule type's own (the host
 * pair for most; the server for obsolete servers, the source for counting rules). source: every
 * match of one source, whatever it reached, with a sample of the destinations in the report.
 */
enum rule_fold { FOLD_DEFAULT = 0, FOLD_PAIR, FOLD_SOURCE, FOLD_DESTINATION };

/* dicom_ae: which AE title of an association is checked against the site inventory. */
enum ae_check { AE_CALLING = 0, AE_CALLED, AE_MOVE_DESTINATION };

/* ledger: what about a device the inventory checks against the site's ledger. */
#define LEDGER_CHECKS_X(X)                                                                         \
    X(UNKNOWN_DEVICE, "unknown_device")                                                            \
    X(ZONE_MISMATCH, "zone_mismatch")                                                              \
    X(MAC_MISMATCH, "mac_mismatch")                                                                \
    X(FIRMWARE_CHANGE, "firmware_change")

enum ledger_check {
#define X(id, name) LEDGER_##id,
    LEDGER_CHECKS_X(X)
#undef X
        LEDGER__COUNT
};

/* baseline: what new communication of a watched device is reported once learning is over. */
#define BASELINE_CHECKS_X(X)                                                                       \
    X(NEW_PEER, "new_peer")                                                                        \
    X(NEW_SERVICE, "new_service")                                                                  \
    X(NEW_DESTINATION, "new_destination")

enum baseline_check {
#define X(id, name) BASELINE_##id,
    BASELINE_CHECKS_X(X)
#undef X
        BASELINE__COUNT
};

/* health: what about the capture itself is checked (see health.h). */
#define HEALTH_CHECKS_X(X)                                                                         \
    X(SILENCE, "silence")                                                                          \
    X(ONE_WAY, "one_way")                                                                          \
    X(UPSTREAM_LOSS, "upstream_loss")                                                              \
    X(DROPS, "drops")                                                                              \
    X(CLOCK, "clock")                                                                              \
    X(OUTPUT, "output")

enum health_check {
#define X(id, name) HEALTH_##id,
    HEALTH_CHECKS_X(X)
#undef X
        HEALTH__COUNT
};

#define RULE_MAX_MITRE 8

struct rule {
    char key[64];
    uint32_t sid, rev;
    uint8_t type;     /* enum rule_type */
    uint8_t category; /* enum alert_category */
    uint8_t severity; /* 1 high, 2 medium, 3 low */
    uint8_t enabled;
    char *signature, *message_ja, *guideline;
    char *next_ja, *next_en;           /* what the reader does next (one line each), or NULL */
    char *guideline_ja, *guideline_en; /* the guideline reference spelled out, or NULL */
    char *mitre[RULE_MAX_MITRE];
    unsigned nmitre;
    uint32_t dedup_s; /* repeats for the same source and destination fold for this long */

    zone_set from, to, except_from; /* zones of the client and the server */
    uint8_t except_servers;         /* bit per enum config_service: not from the site's servers */
    uint8_t same_zone;              /* also flows inside one zone */
    struct rule_match match;        /* protocols, categories, ports the rule is about */
    struct rule_match exclude;      /* flows it never concerns */

    struct rule_allow *allow; /* segmentation exceptions */
    unsigned nallow;

    uint32_t threshold;      /* distinct hosts or ports, sessions, connections */
    uint32_t window_s;       /* counting window */
    uint64_t bytes;          /* exfiltration: bytes sent in the window */
    uint32_t max_duration_s; /* brute force: sessions shorter than this count */
    uint32_t min_interval_s; /* beaconing: shortest period considered */
    uint32_t jitter_pct;     /* beaconing: largest spread of intervals, % of their mean */
    uint8_t scan_mode;       /* enum scan_mode */
    uint8_t inside_window;   /* remote_maintenance: 1 sessions inside a window, 0 outside */
    uint8_t services;        /* rogue_service: bit per enum config_service */
    uint8_t skip_allowed;    /* exfiltration, beaconing: not to allowlisted destinations */
    uint8_t tls_versions;    /* obsolete: bit per TLS_V_* */
    uint8_t ae_check;        /* dicom_ae: enum ae_check */
    uint8_t health_check;    /* health: enum health_check */
    uint8_t ledger_check;    /* ledger: enum ledger_check */
    uint8_t baseline_check;  /* baseline: enum baseline_check */
    uint8_t response;        /* enum response_action (the site's response.actions may override) */
    uint8_t fold;            /* enum rule_fold: what "the same alert" is for dedup */
    uint32_t percent;        /* health: share of the window's sample that fires it */
    uint32_t tolerance_s;    /* health clock: how far back packet time may step unnoticed */
    uint64_t risks;          /* nDPI risk bits */
    uint64_t dcerpc_ops;     /* dcerpc: bit per operation of the dcerpc.h table */
    char **except_agents;    /* ndpi_risk: HTTP user agents (fnmatch patterns) left alone */
    unsigned nexcept_agents;
};

#define TLS_V_SSL2  0x01u
#define TLS_V_SSL3  0x02u
#define TLS_V_TLS10 0x04u
#define TLS_V_TLS11 0x08u

/*
 * End of support: the software hints the inventory reads off a device, and the table of rule
 * files' `end_of_support:` entries that says which of them name a product its vendor no longer
 * supports. windows: "major.minor.build" as NTLMSSP states it; the others as seen.
 */
#define EOS_HINTS_X(X)                                                                             \
    X(WINDOWS, "windows")                                                                          \
    X(USER_AGENT, "user_agent")                                                                    \
    X(SSH, "ssh")                                                                                  \
    X(DHCP_VENDOR, "dhcp_vendor")                                                                  \
    X(DICOM_VERSION, "dicom_version")

enum eos_hint {
#define X(id, name) EOS_HINT_##id,
    EOS_HINTS_X(X)
#undef X
        EOS_HINT__COUNT
};

struct eos_entry {
    char *product, *source;      /* source: where the date comes from (optional) */
    char ended[11];              /* "YYYY-MM-DD", the last day of support */
    uint64_t ended_us;           /* the first microsecond after that day, UTC */
    char **pat[EOS_HINT__COUNT]; /* fnmatch patterns per hint */
    unsigned npat[EOS_HINT__COUNT];
    unsigned line;
};

struct ruleset {
    struct rule *r;
    unsigned n;
    struct eos_entry *eos; /* in load order: shipped first, then the site's */
    unsigned neos;
};

/* Compile rule files for a site config. 0, MM_ECONFIG or MM_EIO (diag filled), MM_ENOMEM. */
MM_MUST_CHECK int rules_load_files(const struct mm_config *c, const char *const *paths, size_t n,
                                   struct ruleset **out, struct config_diag *diag);

/* Compile one rule file held in memory; name is used in messages. */
MM_MUST_CHECK int rules_load_string(const struct mm_config *c, const char *name, const char *text,
                                    size_t len, struct ruleset **out, struct config_diag *diag);

/* Compile the shipped ruleset built into the binary. */
MM_MUST_CHECK int rules_load_embedded(const struct mm_config *c, struct ruleset **out,
                                      struct config_diag *diag);

void rules_free(struct ruleset *rs);
const struct rule *rules_find(const struct ruleset *rs, const char *key);

/*
 * The entry a software hint matches (the last loaded of those that match) when the support it
 * names had ended at ts_us; NULL otherwise (no entry, or still supported then).
 */
const struct eos_entry *rules_eos_match(const struct ruleset *rs, enum eos_hint hint,
                                        const char *value, uint64_t ts_us);
const char *rules_eos_hint_name(enum eos_hint h);

const char *rules_type_name(enum rule_type t);
const char *rules_category_name(enum alert_category c);
/* The category a name spells (any_case: in any case), or MM_ENOTFOUND. */
int rules_category_lookup(const char *name, int any_case);
const char *rules_health_check_name(enum health_check c);
const char *rules_ledger_check_name(enum ledger_check c);
const char *rules_baseline_check_name(enum baseline_check c);

/* Whether a flow matches m (an empty match matches every flow). */
int rules_match(const struct rule_match *m, const struct flow *f);
static inline int rules_match_empty(const struct rule_match *m)
{
    return m->nprotos == 0 && m->ncats == 0 && m->nports == 0;
}

/* The TLS_V_* bit of a version name ("SSLv3", "TLSv1", "TLSv1.1"), or 0. */
unsigned rules_tls_version_bit(const char *name);

/* The shipped rule files, built into the binary from the yaml files in rules/. */
struct rules_embedded_file {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct rules_embedded_file rules_embedded[];
extern const size_t rules_embedded_count;

#endif
