/*
 * EVE JSON writer: one JSON object per line, in the shape of Suricata's EVE so that existing SIEM
 * parsers read it unchanged (every event validates against Suricata's schema). Mimamori's own
 * fields go where the schema allows them: nDPI results, the zones of both ends, HL7/DICOM
 * summaries and the delivery counters in "ndpi". Lines go to the output stage (output.h).
 * No payload bytes are ever written.
 */
#ifndef MIMAMORI_EVE_H
#define MIMAMORI_EVE_H

#include <stdint.h>

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/decode.h"
#include "mimamori/flow.h"
#include "mimamori/limits.h"
#include "mimamori/output.h"
#include "mimamori/error.h"

struct eve;
struct output;

/*
 * A writer handing its lines to the output stage o. 0 or MM_ENOMEM. Flow records are made on
 * the output thread from copies the writer owns: close o (which drains it) before the writer.
 */
MM_MUST_CHECK int eve_create(struct eve **out, struct output *o);
void eve_destroy(struct eve *e);
uint64_t eve_events_written(const struct eve *e);

/* What every event needs to know about the sensor. */
struct eve_ctx {
    const struct mm_config *cfg;
    const struct classify *cls;
    const char *ifaces[MM_MAX_IFACES]; /* live interfaces (in_iface), none for files */
    unsigned nifaces;
    unsigned worker; /* the worker writing (flow records: whose recycled blocks) */
};

int eve_write_flow(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                   enum flow_end_reason reason);

/* An alert about a flow: the rule that fired and what it saw. */
struct rule;
struct eve_alert {
    const struct rule *rule;
    uint64_t ts_us;
    uint64_t count;       /* occurrences this event stands for */
    int iface;            /* without a flow: the live interface it is about, or -1 */
    int blocked;          /* a response really happened: alert.action is "blocked" */
    const char *response; /* what the response did or why not (metadata "response"), or NULL */
    const char *src_device, *dest_device; /* the ends' device names (metadata), or NULL */
    const char
        *incident_key;      /* the same for an alert and its repeats' report (metadata), or NULL */
    int severity, category; /* when not the rule's (an intel feed's): 1-3 and alert_category + 1;
                               0: the rule's */
    unsigned nevidence;
    const char *evidence[MM_MAX_EVIDENCE]; /* "name=value" */
};

/* The delivery counters of the outputs events are written to (output_get_stats). */
void eve_get_output_stats(struct eve *e, struct output_stats *st);

/* f is NULL for an alert about the sensor itself (no flow fields, no zones). */
int eve_write_alert(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                    const struct eve_alert *a);

/* A response to a rule's match (event_type "drop", Suricata's record of what IPS did). */
struct eve_response {
    uint64_t ts_us;
    const struct rule *rule;
    const char *action;  /* reset, block, would_reset, would_block, not_reset, not_blocked */
    const char *reason;  /* one line: what was done, or why not */
    int reset;           /* a TCP reset (verdict reject) rather than a block (verdict drop) */
    int done;            /* it really happened */
    const char *address; /* block: the address */
    uint32_t ttl_s;      /* block: for how long */
    unsigned level;      /* block: the step of the escalation (1 = first) */
};

/* f may be NULL. With copy, *copy receives a malloc'd copy of the line (for a hook). */
int eve_write_response(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                       const struct eve_response *r, char **copy);

/* Detection counters for stats events. */
struct eve_detect_stats {
    uint64_t alerts, suppressed;
    unsigned rules_loaded, rules_disabled;
    unsigned rules_failed;   /* errors of the last reload, when it failed */
    uint64_t last_reload_us; /* when the running snapshot was loaded (0: unknown) */
    /* The suppress entries (nsupp of supp, in the config named source): what each silenced,
     * whether its until has passed; reported under ndpi.suppressions. */
    const char *supp_source;
    const struct config_suppress *supp;
    unsigned nsupp;
    const uint64_t *supp_count;
    const uint8_t *supp_ended;
};

/* One live interface's capture counters. */
struct eve_iface_stats {
    const char *name;
    uint64_t packets, kernel_packets, kernel_drops, kernel_ifdrops;
};

/* The counters a stats event reports. */
struct eve_stats {
    uint64_t uptime_s;
    uint64_t kernel_packets, kernel_drops, kernel_ifdrops, capture_errors;
    const struct decode_stats *decode;
    const struct flow_table_stats *flow;
    const struct eve_detect_stats *detect; /* or NULL */
    uint64_t hl7_flows, dicom_flows, medical_not_followed, medical_gaps;
    uint64_t clock_steps_back; /* packets stamped over a second before the latest */
    unsigned nifaces;          /* live interfaces, each with its counters */
    struct eve_iface_stats ifaces[MM_MAX_IFACES];
    unsigned nworkers; /* several packet workers: what each one took */
    struct {
        uint64_t packets, flows;
    } workers[MM_MAX_WORKERS];
};

int eve_write_stats(struct eve *e, const struct eve_ctx *ctx, const struct eve_stats *st,
                    uint64_t ts_us);

/*
 * A change to the device inventory (event_type "inventory"): the device's address as src_ip,
 * and in ndpi.inventory what changed (change: new_device, new_service, identity; what, from,
 * to) and the device's whole record as the inventory file has it. The size bytes at data are
 * copied, and the event is made from the copy on the output thread: record(copy) makes the
 * record. Nothing is made when no output takes inventory events.
 */
struct json_t;
struct eve_inventory {
    uint64_t ts_us;
    const uint8_t *ip;
    const char *change;           /* a string literal */
    const char *what, *from, *to; /* or NULL */
    struct json_t *(*record)(const void *copy);
    const void *data;
    size_t size;
};
int eve_write_inventory(struct eve *e, const struct eve_ctx *ctx, const struct eve_inventory *c);
/* Whether an output takes inventory events (else there is nothing to note for them). */
int eve_wants_inventory(const struct eve *e);

/* Format a packet timestamp as EVE does: 2026-11-24T21:27:09.534255+0900 (local time). */
void eve_format_time(uint64_t ts_us, char *buf, size_t len);

#endif
