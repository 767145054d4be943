/*
 * Flow classification with nDPI. A flow gets nDPI state when it starts; packets are fed until
 * the protocol is final (no more metadata to gain) or a packet budget is spent, then the result
 * and the metadata worth keeping (TLS SNI and version, HTTP host and user agent, DNS query name,
 * SSH software) are copied into the flow and the nDPI state is freed. Payload bytes are never
 * kept. Names for the event writer come from here, so no other module includes nDPI.
 */
#ifndef MIMAMORI_CLASSIFY_H
#define MIMAMORI_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/flow.h"
#include "mimamori/error.h"

enum classify_meta_field {
    META_TLS_SNI = 0,
    META_TLS_VERSION,
    META_TLS_JA3,
    META_TLS_JA3S,
    META_HTTP_HOST,
    META_HTTP_USER_AGENT,
    META_DNS_RRNAME,
    META_SSH_CLIENT,
    META_SSH_SERVER,
    META_SHELL, /* the shell of a cleartext_shell flow and how it was reached: "cmd.exe, bind" */
    META_TLS_CERT_NAMES, /* the server certificate's DNS names (subjectAltName), comma-separated */
    META_HTTP_URL,       /* the request's host and path (nDPI's http.url: "host/path?q") */
    META_TLS_CERT_SHA1,  /* the server certificate's SHA-1 fingerprint, hex */
    META__COUNT
};

/*
 * Protocols found by Mimamori's own parsers (medical.h), outside nDPI's id space. Rule files and
 * site configs name them "HL7" and "DICOM"; their nDPI category is "Health".
 */
#define CLASSIFY_PROTO_HL7   1001
#define CLASSIFY_PROTO_DICOM 1002

struct classify;

/* Load nDPI with every protocol enabled. 0 or MM_ENOMEM. */
MM_MUST_CHECK int classify_create(struct classify **out);
void classify_destroy(struct classify *c);

/*
 * Bound the flows classified at once (max_states) and nDPI's memory for them in bytes (memcap,
 * raised to hold max_states states at least); 0: no bound. Until called, none.
 */
void classify_set_limits(struct classify *c, uint32_t max_states, uint64_t memcap);

/*
 * Before a new flow starts: when the classifier is at a limit, finish the flow fed the longest
 * ago as if its packet budget had run out (nDPI's guess) and return it, for its classified
 * event; NULL when there is room. Call until NULL. Leaving its limits (a tenth below them)
 * ends the emergency; both are counted.
 */
struct flow *classify_make_room(struct classify *c);

/* Give a new flow its nDPI state. 0, or MM_ENOMEM (the flow is then left unclassified). */
int classify_flow_start(struct classify *c, struct flow *f);

/*
 * Feed one packet of a flow still being classified (f->app.state != NULL), going dir
 * (FLOW_TOSERVER or FLOW_TOCLIENT, as the flow table said). Returns 1 when the result became
 * final with this packet (state freed, f->app filled), else 0.
 */
int classify_packet(struct classify *c, struct flow *f, const struct pkt_view *pv, int dir,
                    uint64_t ts_us);

/* End classification with one of Mimamori's own protocols (CLASSIFY_PROTO_*): state freed. */
void classify_flow_set(struct classify *c, struct flow *f, uint16_t proto);

/* At flow end: finish classification if still running (nDPI's give-up and guess). */
void classify_flow_finish(struct classify *c, struct flow *f);

/* Release what the flow holds (state, metadata); call before the flow slot is reused. */
void classify_flow_release(struct classify *c, struct flow *f);

/* Names for events. */
struct classify_names {
    char protocol[64];      /* "TLS.Google", as ndpiReader prints it */
    const char *app_proto;  /* EVE app_proto ("tls", "http", "smb", ...), NULL when unknown */
    const char *master;     /* "TLS" */
    const char *app;        /* "Google" */
    const char *category;   /* "Web" */
    const char *confidence; /* "DPI", "Match by port", ... */
};
void classify_names(const struct classify *c, const struct flow_app *a, struct classify_names *n);

/*
 * Risks the sensor finds itself, beside nDPI's (which stay below NDPI_MAX_RISK, 43 in 4.2):
 * (id, bit, name in rule files, name in ndpi.risks).
 *   SHELL: a command shell spoken in clear text (a cmd.exe or PowerShell banner, or a Unix
 *     shell prompt, opening one side of a TCP flow nDPI could not name).
 *   SNMP_COMMUNITY: SNMP v1 or v2c, whose community travels in clear text, with a community
 *     that is not a well-known default.
 *   SNMP_DEFAULT_COMMUNITY: SNMP v1 or v2c with a well-known default community (snmp.h). The
 *     community is never kept.
 *   R_COMMAND: rexec, rlogin or rsh (TCP 512-514) answered by its server; nDPI 4.2 calls rsh
 *     Syslog by its port.
 */
#define CLASSIFY_OWN_RISKS_X(X)                                                                    \
    X(SHELL, 63, "cleartext_shell", "Command Shell in Clear Text")                                 \
    X(SNMP_COMMUNITY, 62, "snmp_cleartext_community", "SNMP Community in Clear Text")              \
    X(SNMP_DEFAULT_COMMUNITY, 61, "snmp_default_community", "SNMP Default Community")              \
    X(R_COMMAND, 60, "r_command", "BSD r-command (rsh, rlogin, rexec)")

enum classify_own_risk {
#define X(id, bit, key, text) CLASSIFY_RISK_##id = bit,
    CLASSIFY_OWN_RISKS_X(X)
#undef X
};

/* Risk names of a risk bitmask, at most max; returns how many were written. */
unsigned classify_risk_names(uint64_t risk, const char **names, unsigned max);

/* Bytes of a flow's metadata block, for a copy that outlives the flow (memcpy is enough). */
size_t classify_meta_size(const struct classify_meta *m);

/* Whether nDPI named the flow DCE-RPC or SMB (the carriers of dcerpc.h's operations). */
int classify_is_rpc_carrier(const struct flow_app *a);

/* Whether the flow's protocol is only nDPI's guess from its port or address. */
int classify_is_guess(const struct flow_app *a);

/* A metadata string of the flow, or NULL. */
const char *classify_meta_get(const struct classify_meta *m, enum classify_meta_field field);

/*
 * Names the site config and rule files use, resolved without a flow (thread-safe after the
 * first call, which loads nDPI's tables once). MM_ENOTFOUND when unknown.
 *   protocol: nDPI's protocol names, any case ("SMBv1", "RDP", "TeamViewer", "DoH_DoT")
 *   category: nDPI's category names ("VPN", "RemoteAccess")
 *   risk:     nDPI's risk identifiers in lower case without NDPI_ ("suspicious_dga_domain")
 */
int classify_lookup_protocol(const char *name);
int classify_lookup_category(const char *name);
int classify_lookup_risk(const char *name);
const char *classify_protocol_name(uint16_t id);
const char *classify_risk_key(unsigned risk);

/* Whether a flow's result is protocol id (as master or application protocol). */
static inline int classify_is(const struct flow_app *a, uint16_t id)
{
    return a->master == id || a->app == id;
}

struct classify_stats {
    uint64_t started, finished, detected, guessed, unknown, state_allocs, state_failures;
    uint64_t active;
    uint64_t evicted;                   /* given up on to make room */
    uint64_t emerg_entered, emerg_over; /* times a limit was reached, and left */
    uint64_t memuse, memcap;            /* bytes of nDPI state now, and the bound (0: none) */
};
void classify_get_stats(const struct classify *c, struct classify_stats *st);

#endif
