/*
 * The rule-file compiler. A file holds "rules:", a list of mappings; each mapping is checked
 * against a table of keys (which rule types take which key), its names are resolved against
 * the site config (zones) and the classifier (protocols, categories, risks), and it becomes a
 * struct rule. Every problem is a "file:line:col: message"; keys and signature ids must be
 * unique across all files of a ruleset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mimamori/classify.h"
#include "mimamori/error.h"
#include "mimamori/rules.h"

#include "config/config_int.h"

#define ALL_TYPES ((1u << RULE__COUNT) - 1)
#define T(x)      (1u << RULE_##x)

enum rule_key {
    K_KEY,
    K_SID,
    K_REV,
    K_TYPE,
    K_SEVERITY,
    K_CATEGORY,
    K_SIGNATURE,
    K_MESSAGE_JA,
    K_MITRE,
    K_GUIDELINE,
    K_DEDUP,
    K_ENABLED,
    K_DESCRIPTION,
    K_FROM,
    K_TO,
    K_EXCEPT_FROM,
    K_SAME_ZONE,
    K_PROTOCOLS,
    K_CATEGORIES,
    K_PORTS,
    K_EXCLUDE_PROTOCOLS,
    K_EXCLUDE_PORTS,
    K_ALLOW,
    K_THRESHOLD,
    K_WINDOW,
    K_BYTES,
    K_MAX_DURATION,
    K_MIN_INTERVAL,
    K_JITTER,
    K_MODE,
    K_MAINT_WINDOW,
    K_SERVICES,
    K_SKIP_ALLOWED,
    K_TLS_VERSIONS,
    K_RISKS,
    K_CHECK,
    K_PERCENT,
    K_TOLERANCE,
    K_RESPONSE,
    K__COUNT
};

static const struct {
    const char *name;
    unsigned types; /* rule types that take the key */
} keys[K__COUNT] = {
    [K_KEY] = {"key", ALL_TYPES},
    [K_SID] = {"signature_id", ALL_TYPES},
    [K_REV] = {"rev", ALL_TYPES},
    [K_TYPE] = {"type", ALL_TYPES},
    [K_SEVERITY] = {"severity", ALL_TYPES},
    [K_CATEGORY] = {"category", ALL_TYPES},
    [K_SIGNATURE] = {"signature", ALL_TYPES},
    [K_MESSAGE_JA] = {"message_ja", ALL_TYPES},
    [K_MITRE] = {"mitre_attack", ALL_TYPES},
    [K_GUIDELINE] = {"guideline", ALL_TYPES},
    [K_DEDUP] = {"dedup", ALL_TYPES},
    [K_ENABLED] = {"enabled", ALL_TYPES},
    [K_DESCRIPTION] = {"description", ALL_TYPES},
    [K_FROM] = {"from", ALL_TYPES},
    [K_TO] = {"to", ALL_TYPES},
    [K_EXCEPT_FROM] = {"except_from", ALL_TYPES},
    [K_SAME_ZONE] = {"same_zone", T(SEGMENTATION) | T(LATERAL) | T(MEDICAL_ZONE)},
    [K_PROTOCOLS] = {"protocols", T(EGRESS) | T(LATERAL) | T(FANOUT) | T(MAINTENANCE) |
                                      T(OBSOLETE) | T(BRUTE_FORCE) | T(MEDICAL_ZONE)},
    [K_CATEGORIES] = {"categories", T(EGRESS) | T(LATERAL) | T(FANOUT) | T(MAINTENANCE) |
                                        T(OBSOLETE) | T(BRUTE_FORCE)},
    [K_PORTS] = {"ports", T(EGRESS) | T(LATERAL) | T(FANOUT) | T(MAINTENANCE) | T(OBSOLETE) |
                              T(BRUTE_FORCE)},
    [K_EXCLUDE_PROTOCOLS] = {"exclude_protocols", ALL_TYPES & ~T(SEGMENTATION)},
    [K_EXCLUDE_PORTS] = {"exclude_ports", ALL_TYPES & ~T(SEGMENTATION)},
    [K_ALLOW] = {"allow", T(SEGMENTATION) | T(MEDICAL_ZONE)},
    [K_THRESHOLD] = {"threshold", T(FANOUT) | T(SCAN) | T(BRUTE_FORCE) | T(BEACONING) |
                                      T(DICOM_REJECT) | T(HEALTH)},
    [K_WINDOW] = {"window", T(FANOUT) | T(SCAN) | T(BRUTE_FORCE) | T(EXFILTRATION) |
                                T(DICOM_REJECT) | T(HEALTH)},
    [K_BYTES] = {"bytes", T(EXFILTRATION)},
    [K_MAX_DURATION] = {"max_duration", T(BRUTE_FORCE)},
    [K_MIN_INTERVAL] = {"min_interval", T(BEACONING)},
    [K_JITTER] = {"jitter", T(BEACONING)},
    [K_MODE] = {"mode", T(SCAN)},
    [K_MAINT_WINDOW] = {"maintenance_window", T(MAINTENANCE)},
    [K_SERVICES] = {"services", T(ROGUE_SERVICE)},
    [K_SKIP_ALLOWED] = {"skip_allowed", T(EXFILTRATION) | T(BEACONING)},
    [K_TLS_VERSIONS] = {"tls_versions", T(OBSOLETE)},
    [K_RISKS] = {"risks", T(OBSOLETE) | T(NDPI_RISK)},
    [K_CHECK] = {"check", T(DICOM_AE) | T(HEALTH)},
    [K_PERCENT] = {"percent", T(HEALTH)},
    [K_TOLERANCE] = {"tolerance", T(HEALTH)},
    [K_RESPONSE] = {"response", ALL_TYPES & ~T(HEALTH)},
};

static const char *const type_names[RULE__COUNT] = {
#define X(id, name) name,
    RULES_X(X)
#undef X
};

static const char *const category_names[CAT__COUNT] = {
#define X(id, name) name,
    CATEGORIES_X(X)
#undef X
};

const char *rules_type_name(enum rule_type t)
{
    return (unsigned)t < RULE__COUNT ? type_names[t] : "unknown";
}

const char *rules_category_name(enum alert_category c)
{
    return (unsigned)c < CAT__COUNT ? category_names[c] : "unknown";
}

static const char *const health_check_names[HEALTH__COUNT] = {
#define X(id, name) name,
    HEALTH_CHECKS_X(X)
#undef X
};

const char *rules_health_check_name(enum health_check c)
{
    return (unsigned)c < HEALTH__COUNT ? health_check_names[c] : "unknown";
}

unsigned rules_tls_version_bit(const char *name)
{
    if (strcmp(name, "SSLv2") == 0)
        return TLS_V_SSL2;
    if (strcmp(name, "SSLv3") == 0)
        return TLS_V_SSL3;
    if (strcmp(name, "TLSv1") == 0 || strcmp(name, "TLSv1.0") == 0)
        return TLS_V_TLS10;
    if (strcmp(name, "TLSv1.1") == 0)
        return TLS_V_TLS11;
    return 0;
}

struct compiler {
    struct ywalk w;
    const struct mm_config *c;
    struct ruleset *rs;
    unsigned cap;
};

/* --- value parsers -------------------------------------------------------------------------- */

/* "tcp/445", "udp/53", "tcp/5985-5986", "161" (either protocol). */
static int parse_port(const char *s, struct rule_port *p)
{
    unsigned lo, hi;
    int n = 0;

    p->l4 = 0;
    if (strncmp(s, "tcp/", 4) == 0)
        p->l4 = 6, s += 4;
    else if (strncmp(s, "udp/", 4) == 0)
        p->l4 = 17, s += 4;
    if (sscanf(s, "%5u%n", &lo, &n) != 1)
        return -1;
    hi = lo;
    if (s[n] == '-') {
        int m = 0;
        if (sscanf(s + n + 1, "%5u%n", &hi, &m) != 1)
            return -1;
        n += 1 + m;
    }
    if (s[n] != '\0' || lo == 0 || hi > 65535 || hi < lo)
        return -1;
    p->lo = (uint16_t)lo;
    p->hi = (uint16_t)hi;
    return 0;
}

static void parse_protocols(struct compiler *C, const struct ynode *n, struct rule_match *m)
{
    unsigned count = m->nprotos;

    config_parse_protocols(&C->w, n, "protocols", m->protos, &count);
    m->nprotos = (uint8_t)count;
}

static void parse_categories(struct compiler *C, const struct ynode *n, struct rule_match *m)
{
    size_t i;

    if (!ydoc_want(&C->w, n, YN_LIST, "categories"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *s = ydoc_string(&C->w, n->items[i], "a category");
        int id;
        if (s == NULL)
            continue;
        if ((id = classify_lookup_category(s)) < 0)
            ydoc_error(&C->w, n->items[i], "unknown category '%s' (nDPI's category names)", s);
        else if (m->ncats == sizeof(m->cats) / sizeof(m->cats[0]))
            ydoc_error(&C->w, n->items[i], "too many categories");
        else
            m->cats[m->ncats++] = (uint16_t)id;
    }
}

static void parse_ports(struct compiler *C, const struct ynode *n, struct rule_match *m)
{
    size_t i;

    if (!ydoc_want(&C->w, n, YN_LIST, "ports"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *s = ydoc_string(&C->w, n->items[i], "a port");
        if (s == NULL)
            continue;
        if (m->nports == MM_MAX_LIST)
            ydoc_error(&C->w, n->items[i], "too many ports (at most %u)", MM_MAX_LIST);
        else if (parse_port(s, &m->ports[m->nports]) != 0)
            ydoc_error(&C->w, n->items[i],
                       "bad port '%s' (tcp/445, udp/53, tcp/5985-5986 or a bare number)", s);
        else
            m->nports++;
    }
}

/* Zones only (rules are shared between sites; networks belong in the site config). */
static int parse_zones(struct compiler *C, const struct ynode *n, const char *what, zone_set *out)
{
    struct config_hostset set = {0};
    int ok = config_parse_hostset(C->c, &C->w, n, what, &set);

    if (set.nets != NULL) {
        ydoc_error(&C->w, n, "%s takes zone names; put networks in the site config", what);
        config_hostset_free(&set);
        return 0;
    }
    *out = set.zones;
    return ok;
}

static void parse_allow(struct compiler *C, const struct ynode *n, struct rule *r)
{
    size_t i, j;

    if (!ydoc_want(&C->w, n, YN_LIST, "allow"))
        return;
    if ((r->allow = calloc(n->n + 1, sizeof(*r->allow))) == NULL) {
        ydoc_error(&C->w, n, "out of memory");
        return;
    }
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        struct rule_allow *a;
        if (!ydoc_want(&C->w, e, YN_MAP, "an allow entry"))
            continue;
        a = &r->allow[r->nallow++];
        for (j = 0; j < e->n; j++) {
            const char *k = ydoc_key(&C->w, e, j);
            const struct ynode *v = YDOC_VAL(e, j);
            if (k == NULL)
                continue;
            if (strcmp(k, "from") == 0)
                parse_zones(C, v, "allow from", &a->from);
            else if (strcmp(k, "to") == 0)
                parse_zones(C, v, "allow to", &a->to);
            else if (strcmp(k, "protocols") == 0)
                parse_protocols(C, v, &a->match);
            else if (strcmp(k, "categories") == 0)
                parse_categories(C, v, &a->match);
            else if (strcmp(k, "ports") == 0)
                parse_ports(C, v, &a->match);
            else
                ydoc_error(&C->w, YDOC_KEY(e, j),
                           "unknown key '%s' in an allow entry (from, to, protocols, categories, "
                           "ports)",
                           k);
        }
    }
}

static char *dup_string(struct compiler *C, const struct ynode *n, const char *what)
{
    const char *s = ydoc_string(&C->w, n, what);
    char *d;

    if (s == NULL)
        return NULL;
    if (*s == '\0' || strchr(s, '\n') != NULL) {
        ydoc_error(&C->w, n, "%s must be one non-empty line", what);
        return NULL;
    }
    if ((d = strdup(s)) == NULL)
        ydoc_error(&C->w, n, "out of memory");
    return d;
}

static int key_valid(const char *s)
{
    size_t i, len = strlen(s);

    if (len == 0 || len >= 64 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.' || s[i] == '-'))
            return 0;
    return 1;
}

static int mitre_valid(const char *s)
{
    size_t i;

    /* T1021 or T1021.002 */
    if (s[0] != 'T' || (strlen(s) != 5 && strlen(s) != 9))
        return 0;
    for (i = 1; i < 5; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    if (s[5] == '\0')
        return 1;
    return s[5] == '.' && s[6] >= '0' && s[6] <= '9' && s[7] >= '0' && s[7] <= '9' && s[8] >= '0' &&
           s[8] <= '9';
}

/* --- one rule ------------------------------------------------------------------------------- */

static void compile_rule(struct compiler *C, const struct ynode *n, struct rule *r)
{
    const struct ynode *at[K__COUNT] = {0};
    const char *s;
    uint32_t u;
    size_t i, j;
    unsigned before = C->w.diag->count;
    int t = -1, k;

    r->rev = 1;
    r->enabled = 1;
    r->dedup_s = 3600;
    r->skip_allowed = 1;
    r->jitter_pct = 10;
    r->min_interval_s = 10;
    r->max_duration_s = 30;
    for (i = 0; i < n->n; i++) {
        const char *name = ydoc_key(&C->w, n, i);
        if (name == NULL)
            continue;
        for (k = 0; k < K__COUNT && strcmp(keys[k].name, name) != 0; k++)
            ;
        if (k == K__COUNT)
            ydoc_error(&C->w, YDOC_KEY(n, i), "unknown key '%s' in a rule", name);
        else
            at[k] = YDOC_VAL(n, i);
    }
    if (at[K_KEY] == NULL) {
        ydoc_error(&C->w, n, "a rule needs a key");
    } else if ((s = ydoc_string(&C->w, at[K_KEY], "key")) != NULL) {
        if (!key_valid(s))
            ydoc_error(&C->w, at[K_KEY],
                       "rule key '%s' must be lower-case letters, digits, '.', '_' and '-' "
                       "(at most 63), starting with a letter",
                       s);
        else
            strcpy(r->key, s);
    }
    if (at[K_TYPE] == NULL) {
        ydoc_error(&C->w, n, "rule '%s' needs a type", r->key);
        return;
    }
    if ((s = ydoc_string(&C->w, at[K_TYPE], "type")) == NULL)
        return;
    for (t = 0; t < RULE__COUNT && strcmp(type_names[t], s) != 0; t++)
        ;
    if (t == RULE__COUNT) {
        char known[320] = "";
        for (t = 0; t < RULE__COUNT; t++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     t > 0 ? ", " : "", type_names[t]);
        ydoc_error(&C->w, at[K_TYPE], "unknown rule type '%s' (%s)", s, known);
        return;
    }
    r->type = (uint8_t)t;
    for (k = 0; k < K__COUNT; k++)
        if (at[k] != NULL && !(keys[k].types & (1u << t)))
            ydoc_error(&C->w, at[k], "'%s' does not apply to rules of type %s", keys[k].name,
                       type_names[t]);

    /* What every rule says. */
    if (at[K_SID] == NULL)
        ydoc_error(&C->w, n, "rule '%s' needs a signature_id", r->key);
    else
        ydoc_uint(&C->w, at[K_SID], "signature_id", 1, 2147483647ul, &r->sid);
    if (at[K_REV] != NULL)
        ydoc_uint(&C->w, at[K_REV], "rev", 1, 1000000, &r->rev);
    if (at[K_SEVERITY] == NULL)
        ydoc_error(&C->w, n, "rule '%s' needs a severity (1 high, 2 medium, 3 low)", r->key);
    else if (ydoc_uint(&C->w, at[K_SEVERITY], "severity (1 high, 2 medium, 3 low)", 1, 3, &u))
        r->severity = (uint8_t)u;
    if (at[K_CATEGORY] == NULL) {
        ydoc_error(&C->w, n, "rule '%s' needs a category", r->key);
    } else if ((s = ydoc_string(&C->w, at[K_CATEGORY], "category")) != NULL) {
        for (k = 0; k < CAT__COUNT && strcmp(category_names[k], s) != 0; k++)
            ;
        if (k == CAT__COUNT)
            ydoc_error(&C->w, at[K_CATEGORY],
                       "unknown category '%s' (one of the contract's alert categories, e.g. "
                       "'Lateral movement')",
                       s);
        else
            r->category = (uint8_t)k;
    }
    if (at[K_SIGNATURE] == NULL)
        ydoc_error(&C->w, n, "rule '%s' needs a signature (English, one line)", r->key);
    else
        r->signature = dup_string(C, at[K_SIGNATURE], "signature");
    if (at[K_MESSAGE_JA] == NULL)
        ydoc_error(&C->w, n, "rule '%s' needs a message_ja (Japanese, one line)", r->key);
    else
        r->message_ja = dup_string(C, at[K_MESSAGE_JA], "message_ja");
    if (at[K_GUIDELINE] == NULL)
        ydoc_error(&C->w, n, "rule '%s' needs a guideline (e.g. MHLW-6.0 SO 13.2)", r->key);
    else
        r->guideline = dup_string(C, at[K_GUIDELINE], "guideline");
    if (at[K_MITRE] == NULL) {
        /* A fault of the capture is no adversary's technique, unless a rule says so. */
        if (t != RULE_HEALTH)
            ydoc_error(&C->w, n, "rule '%s' needs mitre_attack (technique ids)", r->key);
    } else if (ydoc_want(&C->w, at[K_MITRE], YN_LIST, "mitre_attack")) {
        for (j = 0; j < at[K_MITRE]->n; j++) {
            const struct ynode *e = at[K_MITRE]->items[j];
            if ((s = ydoc_string(&C->w, e, "a technique id")) == NULL)
                continue;
            if (!mitre_valid(s))
                ydoc_error(&C->w, e, "bad ATT&CK technique id '%s' (T1021 or T1021.002)", s);
            else if (r->nmitre == RULE_MAX_MITRE)
                ydoc_error(&C->w, e, "at most %u technique ids", RULE_MAX_MITRE);
            else if ((r->mitre[r->nmitre] = strdup(s)) != NULL)
                r->nmitre++;
        }
    }
    if (at[K_DEDUP] != NULL)
        ydoc_duration(&C->w, at[K_DEDUP], "dedup", &r->dedup_s);
    if (at[K_ENABLED] != NULL && ydoc_bool(&C->w, at[K_ENABLED], "enabled", &k))
        r->enabled = (uint8_t)k;
    if (at[K_DESCRIPTION] != NULL)
        ydoc_string(&C->w, at[K_DESCRIPTION], "description");

    /* Scope. */
    if (at[K_FROM] != NULL)
        parse_zones(C, at[K_FROM], "from", &r->from);
    if (at[K_TO] != NULL)
        parse_zones(C, at[K_TO], "to", &r->to);
    if (at[K_EXCEPT_FROM] != NULL)
        parse_zones(C, at[K_EXCEPT_FROM], "except_from", &r->except_from);
    if (at[K_SAME_ZONE] != NULL && ydoc_bool(&C->w, at[K_SAME_ZONE], "same_zone", &k))
        r->same_zone = (uint8_t)k;
    if (at[K_PROTOCOLS] != NULL)
        parse_protocols(C, at[K_PROTOCOLS], &r->match);
    if (at[K_CATEGORIES] != NULL)
        parse_categories(C, at[K_CATEGORIES], &r->match);
    if (at[K_PORTS] != NULL)
        parse_ports(C, at[K_PORTS], &r->match);
    if (at[K_EXCLUDE_PROTOCOLS] != NULL)
        parse_protocols(C, at[K_EXCLUDE_PROTOCOLS], &r->exclude);
    if (at[K_EXCLUDE_PORTS] != NULL)
        parse_ports(C, at[K_EXCLUDE_PORTS], &r->exclude);
    if (at[K_ALLOW] != NULL)
        parse_allow(C, at[K_ALLOW], r);

    /* Thresholds. */
    if (at[K_THRESHOLD] != NULL)
        ydoc_uint(&C->w, at[K_THRESHOLD], "threshold",
                  t == RULE_BEACONING ? 4
                  : t == RULE_HEALTH  ? 1
                                      : 2,
                  t == RULE_HEALTH ? UINT32_MAX : MM_TRACK_MAX_ITEMS, &r->threshold);
    if (at[K_WINDOW] != NULL)
        ydoc_duration(&C->w, at[K_WINDOW], "window", &r->window_s);
    if (at[K_BYTES] != NULL)
        ydoc_size(&C->w, at[K_BYTES], "bytes", &r->bytes);
    if (at[K_MAX_DURATION] != NULL)
        ydoc_duration(&C->w, at[K_MAX_DURATION], "max_duration", &r->max_duration_s);
    if (at[K_MIN_INTERVAL] != NULL)
        ydoc_duration(&C->w, at[K_MIN_INTERVAL], "min_interval", &r->min_interval_s);
    if (at[K_JITTER] != NULL)
        ydoc_uint(&C->w, at[K_JITTER], "jitter (percent)", 1, 100, &r->jitter_pct);
    if (at[K_MODE] != NULL && (s = ydoc_string(&C->w, at[K_MODE], "mode")) != NULL) {
        if (strcmp(s, "ports") == 0)
            r->scan_mode = SCAN_PORTS;
        else if (strcmp(s, "hosts") == 0)
            r->scan_mode = SCAN_HOSTS;
        else
            ydoc_error(&C->w, at[K_MODE], "mode must be ports or hosts, not '%s'", s);
    }
    if (at[K_MAINT_WINDOW] != NULL &&
        (s = ydoc_string(&C->w, at[K_MAINT_WINDOW], "maintenance_window")) != NULL) {
        if (strcmp(s, "inside") == 0)
            r->inside_window = 1;
        else if (strcmp(s, "outside") != 0)
            ydoc_error(&C->w, at[K_MAINT_WINDOW],
                       "maintenance_window must be inside or outside, not '%s'", s);
    }
    if (at[K_SERVICES] != NULL) {
        static const char *const svc[SVC__COUNT] = {"dns", "dhcp", "ntp"};
        unsigned bits = 0;
        ydoc_flags(&C->w, at[K_SERVICES], "services", "service", svc, SVC__COUNT, &bits);
        r->services = (uint8_t)bits;
    }
    if (at[K_SKIP_ALLOWED] != NULL && ydoc_bool(&C->w, at[K_SKIP_ALLOWED], "skip_allowed", &k))
        r->skip_allowed = (uint8_t)k;
    if (at[K_TLS_VERSIONS] != NULL &&
        ydoc_want(&C->w, at[K_TLS_VERSIONS], YN_LIST, "tls_versions")) {
        for (j = 0; j < at[K_TLS_VERSIONS]->n; j++) {
            const struct ynode *e = at[K_TLS_VERSIONS]->items[j];
            unsigned bit;
            if ((s = ydoc_string(&C->w, e, "a TLS version")) == NULL)
                continue;
            if ((bit = rules_tls_version_bit(s)) == 0)
                ydoc_error(&C->w, e, "unknown TLS version '%s' (SSLv2, SSLv3, TLSv1, TLSv1.1)", s);
            r->tls_versions |= (uint8_t)bit;
        }
    }
    if (at[K_RISKS] != NULL && ydoc_want(&C->w, at[K_RISKS], YN_LIST, "risks")) {
        for (j = 0; j < at[K_RISKS]->n; j++) {
            const struct ynode *e = at[K_RISKS]->items[j];
            if ((s = ydoc_string(&C->w, e, "a risk")) == NULL)
                continue;
            if ((k = classify_lookup_risk(s)) < 0)
                ydoc_error(&C->w, e, "unknown nDPI risk '%s' (e.g. suspicious_dga_domain)", s);
            else
                r->risks |= 1ULL << k;
        }
    }
    if (at[K_RESPONSE] != NULL && (s = ydoc_string(&C->w, at[K_RESPONSE], "response")) != NULL) {
        if (strcmp(s, "alert") == 0)
            r->response = RESP_ALERT;
        else if (strcmp(s, "reset") == 0)
            r->response = RESP_RESET;
        else if (strcmp(s, "block") == 0)
            r->response = RESP_BLOCK;
        else
            ydoc_error(&C->w, at[K_RESPONSE], "response must be alert, reset or block, not '%s'",
                       s);
    }
    if (at[K_PERCENT] != NULL)
        ydoc_uint(&C->w, at[K_PERCENT], "percent", 1, 100, &r->percent);
    if (at[K_TOLERANCE] != NULL)
        ydoc_duration(&C->w, at[K_TOLERANCE], "tolerance", &r->tolerance_s);
    if (t == RULE_HEALTH && at[K_CHECK] != NULL &&
        (s = ydoc_string(&C->w, at[K_CHECK], "check")) != NULL) {
        for (k = 0; k < HEALTH__COUNT && strcmp(health_check_names[k], s) != 0; k++)
            ;
        if (k == HEALTH__COUNT)
            ydoc_error(&C->w, at[K_CHECK],
                       "check must be silence, one_way, upstream_loss, drops or clock, not '%s'",
                       s);
        r->health_check = (uint8_t)k;
    } else if (at[K_CHECK] != NULL && (s = ydoc_string(&C->w, at[K_CHECK], "check")) != NULL) {
        if (strcmp(s, "calling_ae") == 0)
            r->ae_check = AE_CALLING;
        else if (strcmp(s, "called_ae") == 0)
            r->ae_check = AE_CALLED;
        else if (strcmp(s, "move_destination") == 0)
            r->ae_check = AE_MOVE_DESTINATION;
        else
            ydoc_error(&C->w, at[K_CHECK],
                       "check must be calling_ae, called_ae or move_destination, not '%s'", s);
    }
    if (C->w.diag->count != before)
        return;

    /* What each type cannot do without. */
    switch (t) {
    case RULE_SEGMENTATION:
        if (at[K_FROM] == NULL || at[K_TO] == NULL)
            ydoc_error(&C->w, n, "segmentation rule '%s' needs from and to", r->key);
        break;
    case RULE_LATERAL:
        if (at[K_TO] == NULL || rules_match_empty(&r->match))
            ydoc_error(&C->w, n, "lateral rule '%s' needs to and protocols or ports", r->key);
        break;
    case RULE_FANOUT:
    case RULE_BRUTE_FORCE:
        if (rules_match_empty(&r->match) || r->threshold == 0 || r->window_s == 0)
            ydoc_error(&C->w, n, "%s rule '%s' needs protocols or ports, threshold and window",
                       type_names[t], r->key);
        break;
    case RULE_MAINTENANCE:
        if (at[K_MAINT_WINDOW] == NULL || (at[K_FROM] == NULL && rules_match_empty(&r->match)))
            ydoc_error(&C->w, n,
                       "remote_maintenance rule '%s' needs maintenance_window and from or "
                       "protocols",
                       r->key);
        break;
    case RULE_OBSOLETE:
        if (rules_match_empty(&r->match) && r->tls_versions == 0 && r->risks == 0)
            ydoc_error(&C->w, n, "obsolete rule '%s' needs protocols, ports, tls_versions or risks",
                       r->key);
        break;
    case RULE_SCAN:
        if (at[K_MODE] == NULL || r->threshold == 0 || r->window_s == 0)
            ydoc_error(&C->w, n, "scan rule '%s' needs mode, threshold and window", r->key);
        break;
    case RULE_EXFILTRATION:
        if (r->bytes == 0 || r->window_s == 0)
            ydoc_error(&C->w, n, "exfiltration rule '%s' needs bytes and window", r->key);
        break;
    case RULE_BEACONING:
        if (r->threshold == 0)
            ydoc_error(&C->w, n, "beaconing rule '%s' needs threshold (connections)", r->key);
        break;
    case RULE_NDPI_RISK:
        if (r->risks == 0)
            ydoc_error(&C->w, n, "ndpi_risk rule '%s' needs risks", r->key);
        break;
    case RULE_ROGUE_SERVICE:
        if (r->services == 0)
            ydoc_error(&C->w, n, "rogue_service rule '%s' needs services", r->key);
        break;
    case RULE_MEDICAL_ZONE:
        for (j = 0; j < r->match.nprotos; j++)
            if (r->match.protos[j] != CLASSIFY_PROTO_HL7 &&
                r->match.protos[j] != CLASSIFY_PROTO_DICOM)
                ydoc_error(&C->w, at[K_PROTOCOLS],
                           "medical_zone rule '%s': protocols are HL7, DICOM", r->key);
        break;
    case RULE_DICOM_AE:
        if (at[K_CHECK] == NULL)
            ydoc_error(&C->w, n, "dicom_ae rule '%s' needs check", r->key);
        break;
    case RULE_DICOM_REJECT:
        if (r->threshold == 0 || r->window_s == 0)
            ydoc_error(&C->w, n, "dicom_reject rule '%s' needs threshold and window", r->key);
        break;
    case RULE_HEALTH:
        if (at[K_CHECK] == NULL)
            ydoc_error(&C->w, n, "health rule '%s' needs check", r->key);
        else if (r->health_check == HEALTH_OUTPUT)
            ; /* nothing to set: a destination is failing or it is not */
        else if (r->health_check == HEALTH_CLOCK ? at[K_TOLERANCE] == NULL
                 : r->health_check == HEALTH_SILENCE
                     ? r->window_s == 0
                     : r->window_s == 0 || r->threshold == 0 || r->percent == 0)
            ydoc_error(&C->w, n, "health rule '%s' (check: %s) needs %s", r->key,
                       health_check_names[r->health_check],
                       r->health_check == HEALTH_CLOCK     ? "tolerance"
                       : r->health_check == HEALTH_SILENCE ? "window"
                                                           : "window, threshold and percent");
        break;
    default:
        break;
    }
    if (r->from == 0 && t != RULE_MAINTENANCE) /* there, from names vendor zones only */
        r->from = ~(zone_set)0;
    if (r->to == 0)
        r->to = ~(zone_set)0;
}

static void rule_release(struct rule *r)
{
    unsigned i;

    free(r->signature);
    free(r->message_ja);
    free(r->guideline);
    for (i = 0; i < r->nmitre; i++)
        free(r->mitre[i]);
    free(r->allow);
}

static void compile_file(struct compiler *C, const struct ynode *root)
{
    const struct ynode *list = NULL;
    size_t i;
    unsigned j;

    if (root == NULL)
        return; /* an empty file holds no rules */
    if (!ydoc_want(&C->w, root, YN_MAP, "a rule file"))
        return;
    for (i = 0; i < root->n; i++) {
        const char *k = ydoc_key(&C->w, root, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "rules") == 0)
            list = YDOC_VAL(root, i);
        else
            ydoc_error(&C->w, YDOC_KEY(root, i), "unknown key '%s' in a rule file (rules)", k);
    }
    if (list == NULL || !ydoc_want(&C->w, list, YN_LIST, "rules"))
        return;
    for (i = 0; i < list->n; i++) {
        const struct ynode *e = list->items[i];
        struct rule *r;
        unsigned before = C->w.diag->count;
        if (!ydoc_want(&C->w, e, YN_MAP, "a rule"))
            continue;
        if (C->rs->n == C->cap) {
            unsigned cap = C->cap ? C->cap * 2 : 32;
            struct rule *nr = realloc(C->rs->r, cap * sizeof(*nr));
            if (nr == NULL) {
                ydoc_error(&C->w, e, "out of memory");
                return;
            }
            C->rs->r = nr;
            C->cap = cap;
        }
        r = &C->rs->r[C->rs->n];
        memset(r, 0, sizeof(*r));
        compile_rule(C, e, r);
        for (j = 0; C->w.diag->count == before && j < C->rs->n; j++) {
            if (strcmp(C->rs->r[j].key, r->key) == 0)
                ydoc_error(&C->w, e, "rule key '%s' is used twice", r->key);
            else if (C->rs->r[j].sid == r->sid)
                ydoc_error(&C->w, e, "signature_id %u of '%s' is already used by '%s'", r->sid,
                           r->key, C->rs->r[j].key);
        }
        if (C->w.diag->count != before)
            rule_release(r);
        else
            C->rs->n++;
    }
}

static int finish(struct compiler *C, struct ruleset **out)
{
    if (C->w.diag->count > 0) {
        rules_free(C->rs);
        return MM_ECONFIG;
    }
    *out = C->rs;
    return 0;
}

static int compiler_init(struct compiler *C, const struct mm_config *c, struct config_diag *diag)
{
    memset(C, 0, sizeof(*C));
    C->c = c;
    C->w.diag = diag;
    return (C->rs = calloc(1, sizeof(*C->rs))) == NULL ? MM_ENOMEM : 0;
}

/*
 * Compile one document that ydoc_parse*() returned r for. A parse error is already in the
 * diagnostics and the other documents are still compiled; only MM_ENOMEM stops the load.
 */
static int compile_doc(struct compiler *C, const char *name, int r, struct ydoc *doc)
{
    if (r == MM_ENOMEM)
        return r;
    if (r == 0) {
        C->w.file = name;
        compile_file(C, ydoc_root(doc));
        ydoc_free(doc);
    }
    return 0;
}

int rules_load_string(const struct mm_config *c, const char *name, const char *text, size_t len,
                      struct ruleset **out, struct config_diag *diag)
{
    struct compiler C;
    struct ydoc *doc;
    int r;

    *out = NULL;
    if (compiler_init(&C, c, diag) != 0)
        return MM_ENOMEM;
    r = ydoc_parse(name, text, len, &doc, diag);
    if (compile_doc(&C, name, r, doc) != 0) {
        rules_free(C.rs);
        return MM_ENOMEM;
    }
    return finish(&C, out);
}

int rules_load_files(const struct mm_config *c, const char *const *paths, size_t n,
                     struct ruleset **out, struct config_diag *diag)
{
    struct compiler C;
    struct ydoc *doc;
    size_t i;

    *out = NULL;
    if (compiler_init(&C, c, diag) != 0)
        return MM_ENOMEM;
    for (i = 0; i < n; i++) {
        int r = ydoc_parse_file(paths[i], &doc, diag);
        if (compile_doc(&C, paths[i], r, doc) != 0) {
            rules_free(C.rs);
            return MM_ENOMEM;
        }
    }
    return finish(&C, out);
}

int rules_load_embedded(const struct mm_config *c, struct ruleset **out, struct config_diag *diag)
{
    const struct rules_embedded_file *e;
    struct compiler C;
    struct ydoc *doc;

    *out = NULL;
    if (compiler_init(&C, c, diag) != 0)
        return MM_ENOMEM;
    for (e = rules_embedded; e < rules_embedded + rules_embedded_count; e++) {
        int r = ydoc_parse(e->name, e->text, e->len, &doc, diag);
        if (compile_doc(&C, e->name, r, doc) != 0) {
            rules_free(C.rs);
            return MM_ENOMEM;
        }
    }
    return finish(&C, out);
}

void rules_free(struct ruleset *rs)
{
    unsigned i;

    if (rs == NULL)
        return;
    for (i = 0; i < rs->n; i++)
        rule_release(&rs->r[i]);
    free(rs->r);
    free(rs);
}

const struct rule *rules_find(const struct ruleset *rs, const char *key)
{
    unsigned i;

    for (i = 0; rs != NULL && i < rs->n; i++)
        if (strcmp(rs->r[i].key, key) == 0)
            return &rs->r[i];
    return NULL;
}

int rules_match(const struct rule_match *m, const struct flow *f)
{
    uint16_t dport = flow_dst_port(f);
    unsigned i;

    if (rules_match_empty(m))
        return 1;
    for (i = 0; i < m->nprotos; i++)
        if (classify_is(&f->app, m->protos[i]))
            return 1;
    for (i = 0; i < m->ncats; i++)
        if (f->app.category == m->cats[i] && (f->app.app != 0 || f->app.master != 0))
            return 1;
    for (i = 0; i < m->nports; i++)
        if ((m->ports[i].l4 == 0 ? f->key.proto == 6 || f->key.proto == 17
                                 : f->key.proto == m->ports[i].l4) &&
            dport >= m->ports[i].lo && dport <= m->ports[i].hi)
            return 1;
    return 0;
}
