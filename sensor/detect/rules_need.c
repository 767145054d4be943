/*
 * What a rule of each type cannot do without: a table of checks, one per type, run on a rule
 * whose keys all parsed, each reporting at the rule what it lacks ("scan rule 'x' needs
 * threshold and window").
 */
#include "mimamori/classify.h"
#include "mimamori/rules.h"

#include "rules_int.h"

/* Each reports, at the rule n, what a rule of its type lacks. */
typedef void (*need_fn)(struct compiler *C, const struct ynode *n, const struct rule *r,
                        const struct ynode *const *at);

#define NEED(cond, ...)                                                                            \
    do {                                                                                           \
        if (cond)                                                                                  \
            ydoc_error(&C->w, n, __VA_ARGS__);                                                     \
    } while (0)

static void need_segmentation(struct compiler *C, const struct ynode *n, const struct rule *r,
                              const struct ynode *const *at)
{
    NEED(at[K_FROM] == NULL || at[K_TO] == NULL, "segmentation rule '%s' needs from and to",
         r->key);
}

static void need_lateral(struct compiler *C, const struct ynode *n, const struct rule *r,
                         const struct ynode *const *at)
{
    NEED(at[K_TO] == NULL || rules_match_empty(&r->match),
         "lateral rule '%s' needs to and protocols or ports", r->key);
}

static void need_counting(struct compiler *C, const struct ynode *n, const struct rule *r,
                          const struct ynode *const *at)
{
    (void)at;
    NEED(rules_match_empty(&r->match) || r->threshold == 0 || r->window_s == 0,
         "%s rule '%s' needs protocols or ports, threshold and window",
         rules_type_name((enum rule_type)r->type), r->key);
}

static void need_maintenance(struct compiler *C, const struct ynode *n, const struct rule *r,
                             const struct ynode *const *at)
{
    NEED(at[K_MAINT_WINDOW] == NULL || (at[K_FROM] == NULL && rules_match_empty(&r->match)),
         "remote_maintenance rule '%s' needs maintenance_window and from or protocols", r->key);
}

static void need_obsolete(struct compiler *C, const struct ynode *n, const struct rule *r,
                          const struct ynode *const *at)
{
    (void)at;
    NEED(rules_match_empty(&r->match) && r->tls_versions == 0 && r->risks == 0,
         "obsolete rule '%s' needs protocols, ports, tls_versions or risks", r->key);
}

static void need_scan(struct compiler *C, const struct ynode *n, const struct rule *r,
                      const struct ynode *const *at)
{
    NEED(at[K_MODE] == NULL || r->threshold == 0 || r->window_s == 0,
         "scan rule '%s' needs mode, threshold and window", r->key);
}

static void need_exfiltration(struct compiler *C, const struct ynode *n, const struct rule *r,
                              const struct ynode *const *at)
{
    (void)at;
    NEED(r->bytes == 0 || r->window_s == 0, "exfiltration rule '%s' needs bytes and window",
         r->key);
}

static void need_beaconing(struct compiler *C, const struct ynode *n, const struct rule *r,
                           const struct ynode *const *at)
{
    (void)at;
    NEED(r->threshold == 0, "beaconing rule '%s' needs threshold (connections)", r->key);
}

static void need_ndpi_risk(struct compiler *C, const struct ynode *n, const struct rule *r,
                           const struct ynode *const *at)
{
    (void)at;
    NEED(r->risks == 0, "ndpi_risk rule '%s' needs risks", r->key);
}

static void need_rogue(struct compiler *C, const struct ynode *n, const struct rule *r,
                       const struct ynode *const *at)
{
    (void)at;
    NEED(r->services == 0, "rogue_service rule '%s' needs services", r->key);
}

static void need_medical_zone(struct compiler *C, const struct ynode *n, const struct rule *r,
                              const struct ynode *const *at)
{
    unsigned j;

    (void)n;
    for (j = 0; j < r->match.nprotos; j++)
        if (r->match.protos[j] != CLASSIFY_PROTO_HL7 && r->match.protos[j] != CLASSIFY_PROTO_DICOM)
            ydoc_error(&C->w, at[K_PROTOCOLS], "medical_zone rule '%s': protocols are HL7, DICOM",
                       r->key);
}

/* dicom_ae, ledger and baseline: what to check. */
static void need_dicom_ae(struct compiler *C, const struct ynode *n, const struct rule *r,
                          const struct ynode *const *at)
{
    NEED(at[K_CHECK] == NULL, "%s rule '%s' needs check", rules_type_name((enum rule_type)r->type),
         r->key);
}

/* dicom_reject, dns_tunnel and arp_sweep: a threshold within a window, nothing else. */
static void need_dicom_reject(struct compiler *C, const struct ynode *n, const struct rule *r,
                              const struct ynode *const *at)
{
    (void)at;
    NEED(r->threshold == 0 || r->window_s == 0, "%s rule '%s' needs threshold and window",
         rules_type_name((enum rule_type)r->type), r->key);
}

/* Each check names what it needs: the clock a tolerance, silence a window, the rest all three. */
static void need_health(struct compiler *C, const struct ynode *n, const struct rule *r,
                        const struct ynode *const *at)
{
    unsigned c = r->health_check;

    if (at[K_CHECK] == NULL) {
        ydoc_error(&C->w, n, "health rule '%s' needs check", r->key);
        return;
    }
    if (c == HEALTH_OUTPUT)
        return; /* nothing to set: a destination is failing or it is not */
    NEED(c == HEALTH_CLOCK     ? at[K_TOLERANCE] == NULL
         : c == HEALTH_SILENCE ? r->window_s == 0
                               : r->window_s == 0 || r->threshold == 0 || r->percent == 0,
         "health rule '%s' (check: %s) needs %s", r->key,
         rules_health_check_name((enum health_check)c),
         c == HEALTH_CLOCK     ? "tolerance"
         : c == HEALTH_SILENCE ? "window"
                               : "window, threshold and percent");
}

static void need_dcerpc(struct compiler *C, const struct ynode *n, const struct rule *r,
                        const struct ynode *const *at)
{
    NEED(r->dcerpc_ops == 0, "dcerpc rule '%s' needs operations", r->key);
    NEED((at[K_THRESHOLD] == NULL) != (at[K_WINDOW] == NULL),
         "dcerpc rule '%s': threshold and window go together", r->key);
}

#undef NEED

static const need_fn needs[RULE__COUNT] = {
    [RULE_SEGMENTATION] = need_segmentation,
    [RULE_LATERAL] = need_lateral,
    [RULE_FANOUT] = need_counting,
    [RULE_BRUTE_FORCE] = need_counting,
    [RULE_MAINTENANCE] = need_maintenance,
    [RULE_OBSOLETE] = need_obsolete,
    [RULE_SCAN] = need_scan,
    [RULE_EXFILTRATION] = need_exfiltration,
    [RULE_BEACONING] = need_beaconing,
    [RULE_NDPI_RISK] = need_ndpi_risk,
    [RULE_ROGUE_SERVICE] = need_rogue,
    [RULE_MEDICAL_ZONE] = need_medical_zone,
    [RULE_DICOM_AE] = need_dicom_ae,
    [RULE_DICOM_REJECT] = need_dicom_reject,
    [RULE_DCERPC] = need_dcerpc,
    [RULE_DNS_TUNNEL] = need_dicom_reject,
    [RULE_ARP_SWEEP] = need_dicom_reject,
    [RULE_HEALTH] = need_health,
    [RULE_LEDGER] = need_dicom_ae,
    [RULE_BASELINE] = need_dicom_ae,
};

void rules__need(struct compiler *C, const struct ynode *n, const struct rule *r,
                 const struct ynode *const *at)
{
    if (needs[r->type] != NULL)
        needs[r->type](C, n, r, at);
}
