/*
 * Private to the detection module: the per-rule trackers that count what one host (or host
 * pair) did within a window — distinct peers or ports, session times, byte sums. Each tracker
 * is a fixed open-addressed table sized at start-up; a full probe window replaces its least
 * recently seen entry (counted), so memory never grows with traffic.
 */
#ifndef MIMAMORI_DETECT_INT_H
#define MIMAMORI_DETECT_INT_H

#include <stdint.h>

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/detect.h"
#include "mimamori/rules.h"

/* --- the detector's state, shared by the rule files ----------------------------------------- */

#define US 1000000ull /* microseconds in a second */

struct evidence {
    char buf[MM_EVIDENCE_LEN];
    unsigned len, n;
    uint8_t severity; /* the alert's, when not the rule's (an intel feed's); 0: the rule's */
    uint8_t category; /* likewise, as the alert_category + 1; 0: the rule's */
};

/* A suppress entry's life: the rule it silences, the alerts it silenced, and whether its until
 * has passed (and was said in the log). */
struct supp_state {
    uint64_t count;
    int rule; /* the index of the rule it silences, -1: none (or by category) */
    uint8_t ended;
};

struct fold {
    uint64_t key; /* 0: empty */
    uint64_t first_us, last_us, expires_us, count;
    unsigned rule;
    struct flow flow; /* the latest occurrence, without classifier pointers */
    struct evidence ev;
    uint8_t by_source;                 /* folds a source's matches, whatever they reached */
    uint8_t ndests;                    /* of the sample below */
    uint8_t more;                      /* destinations beyond the sample were reached */
    uint8_t dests[MM_FOLD_SAMPLE][16]; /* by_source: the first distinct destinations */
};

struct detect {
    const struct mm_config *cfg;
    const struct ruleset *rs;
    struct eve *eve;
    const struct eve_ctx *ctx;
    const struct dnscache *dns;
    struct track **track;    /* per rule, for the counting types */
    struct supp_state *supp; /* per suppression: what it silenced, whether it ended */
    int intel_rule;          /* the first enabled intel rule (DNS messages), -1: none */
    unsigned *classified, ncl, *segment, nseg, *ended, nend, *app, napp;
    struct fold *folds;
    uint64_t fold_used[MM_DEDUP_SLOTS / 64]; /* a bit per open fold: walks skip the rest */
    uint64_t next_sweep_us;
    uint64_t next_expiry_us; /* earliest end of an open fold (UINT64_MAX: none) */
    int svc_proto[SVC__COUNT];
    uint64_t dga_risk; /* the bit of nDPI's suspicious_dga_domain risk (0: unknown) */
    struct detect_stats st;
    struct response *resp;       /* or NULL */
    struct inventory *inv;       /* device names for alerts, or NULL */
    unsigned *base_rules, nbase; /* baseline rules: every in-scope flow is learned or judged */
    struct baseline *base;       /* what they learned (kept across reloads), or NULL */
};

/* What every rule looks at, computed once per event. */
struct fctx {
    struct flow *f;
    const uint8_t *src, *dst;
    int sz, dz; /* zones */
    uint64_t now;
    int local_only; /* a multicast, broadcast or unspecified end */
    const struct detect *d;
    int named;   /* names filled (only when an alert needs them) */
    int matched; /* another rule alerted on the flow at this event */
    struct classify_names names;
};

/* What "the same alert" means for folding: the address pair, the source, or the server. */
enum scope { SCOPE_PAIR, SCOPE_SRC, SCOPE_DST };

typedef int (*detect_eval_fn)(struct detect *, struct fctx *, unsigned);

/* detect_alert.c: evidence, names, suppression and folding. */
const struct classify_names *detect__names(struct fctx *x);
void detect__ev_clear(struct evidence *ev);
void detect__ev_add(struct evidence *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void detect__ev_protocol(struct evidence *ev, struct fctx *x);
void detect__ev_addr(struct evidence *ev, const char *name, const uint8_t a[16]);
/* A name for the server: TLS SNI, HTTP host, else a DNS answer's (via: which); or NULL. */
const char *detect__dest_name(const struct detect *d, const struct flow *f, const uint8_t *addr,
                              const char **via);
void detect__ev_dest_name(const struct detect *d, struct evidence *ev, const struct flow *f,
                          const uint8_t *addr);
void detect__fold_close(struct detect *d, struct fold *fo);
void detect__folds_each(struct detect *d, void (*fn)(struct detect *, struct fold *, void *),
                        void *arg);
void detect__raise_alert(struct detect *d, struct fctx *x, unsigned ri, enum scope scope,
                         const struct evidence *ev);

/* detect_flow.c and detect_end.c: what a rule's scope and exceptions say about a flow. */
int detect__zin(zone_set s, int z);
int detect__not_unicast(const uint8_t a[16]);
int detect__answered(const struct flow *f);
int detect__excluded(const struct rule *r, const struct flow *f);
int detect__in_scope(const struct rule *r, const struct fctx *x);
int detect__egress_allowed(const struct detect *d, int zone, const struct flow *f,
                           const uint8_t *ext);
int detect__allowed(const struct rule *r, const struct fctx *x);
int detect__is_probe(const struct flow *f);

/* The evaluators, one per rule type: each returns 1 when its rule matched the flow. */
/* detect_baseline.c: learn or judge the flow (an alert only when x->matched is 0). */
int detect__eval_baseline(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_segmentation(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_egress(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_dns_resolver(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_lateral(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_fanout(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_maintenance(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_obsolete(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_ndpi_risk(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_beaconing(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_scan(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_brute_force(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_exfiltration(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_rogue(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_medical_zone(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_dicom_ae(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_hl7_sender(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_dicom_reject(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_dcerpc(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_intel(struct detect *d, struct fctx *x, unsigned ri);
/* The context of flow f for the evaluators. */
void detect__fctx(struct detect *d, struct fctx *x, struct flow *f);
int detect__eval_arp_sweep(struct detect *d, struct fctx *x, unsigned ri);
int detect__eval_dns_tunnel(struct detect *d, struct fctx *x, unsigned ri, const char *name,
                            int reg, uint16_t qtype, unsigned chars);

/* --- trackers (detect_track.c) -------------------------------------------------------------- */

struct track_item {
    uint64_t v;     /* a distinct value (hash of a host or port), or a bucket number */
    uint64_t ts_us; /* when it was last seen; for sums, the bytes of the bucket */
};

struct track_entry {
    uint64_t key; /* 0: empty */
    uint64_t last_us;
    uint32_t n; /* items in use */
    uint32_t pad;
    struct track_item item[];
};

struct track;

int detect__track_create(struct track **out, unsigned slots, unsigned items);
void detect__track_destroy(struct track *t);

/* The entry of key (non-zero), created empty if absent. Never NULL. */
struct track_entry *detect__track_get(struct track *t, uint64_t key, uint64_t now_us);
void detect__track_reset(struct track_entry *e);

/* Add a distinct value seen at ts; forget values older than window. Returns distinct count. */
unsigned detect__track_distinct(struct track *t, struct track_entry *e, uint64_t v, uint64_t ts_us,
                                uint64_t window_us);

/* Add an event at ts; forget those older than window. Returns how many remain. */
unsigned detect__track_times(struct track *t, struct track_entry *e, uint64_t ts_us,
                             uint64_t window_us);

/* Add bytes at ts to a sliding sum over window (MM_EXFIL_BUCKETS sub-windows); returns the sum. */
uint64_t detect__track_sum(struct track_entry *e, uint64_t bytes, uint64_t ts_us,
                           uint64_t window_us);

uint64_t detect__track_evictions(const struct track *t);

/* Mix words into a non-zero 64-bit key. */
uint64_t detect__hash(uint64_t seed, const void *data, unsigned len);

#endif
