/*
 * The rule compiler: one mapping of a rule file into a struct rule. Its keys are checked against
 * a table of which rule types take which key; its names are resolved against the site config
 * (zones) and the classifier (protocols, categories, risks); then a table of per-type checks
 * says what a rule of its type cannot do without. Every problem is a "file:line:col: message".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/classify.h"
#include "mimamori/dcerpc.h"
#include "mimamori/rules.h"

#include "config/config_int.h"
#include "rules_int.h"

#define ALL_TYPES ((1u << RULE__COUNT) - 1)
#define T(x)      (1u << RULE_##x)

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
    [K_NEXT_JA] = {"next_ja", ALL_TYPES},
    [K_NEXT_EN] = {"next_en", ALL_TYPES},
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
                                      T(DICOM_REJECT) | T(DCERPC) | T(DNS_TUNNEL) | T(ARP_SWEEP) |
                                      T(HEALTH)},
    [K_WINDOW] = {"window", T(FANOUT) | T(SCAN) | T(BRUTE_FORCE) | T(EXFILTRATION) |
                                T(DICOM_REJECT) | T(DCERPC) | T(DNS_TUNNEL) | T(ARP_SWEEP) |
                                T(HEALTH)},
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
    [K_CHECK] = {"check", T(DICOM_AE) | T(HEALTH) | T(LEDGER) | T(BASELINE)},
    [K_PERCENT] = {"percent", T(HEALTH)},
    [K_TOLERANCE] = {"tolerance", T(HEALTH)},
    [K_RESPONSE] = {"response", ALL_TYPES & ~T(HEALTH)},
    [K_FOLD] = {"fold", ALL_TYPES & ~T(HEALTH)},
    [K_OPERATIONS] = {"operations", T(DCERPC)},
    [K_EXCEPT_SERVERS] = {"except_servers", ALL_TYPES & ~T(HEALTH)},
    [K_EXCEPT_USER_AGENTS] = {"except_user_agents", T(NDPI_RISK)},
    [K_GUESSES] = {"guesses", T(EGRESS) | T(LATERAL) | T(FANOUT) | T(MAINTENANCE) | T(OBSOLETE) |
                                  T(BRUTE_FORCE)},
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

    config__parse_protocols(&C->w, n, "protocols", m->protos, &count);
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
    int ok = config__parse_hostset(C->c, &C->w, n, what, &set);

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

/* --- the parts of a rule --------------------------------------------------------------------- */

/* The rule's keys by name into at[]; unknown ones are reported. */
static void rule_keys(struct compiler *C, const struct ynode *n, const struct ynode *at[K__COUNT])
{
    size_t i;
    int k;

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
}

/* The key and the type; the type's index, or -1 when it is missing or unknown. */
static int rule_type(struct compiler *C, const struct ynode *n, struct rule *r,
                     const struct ynode *const *at)
{
    const char *s;
    int t, k;

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
        return -1;
    }
    if ((s = ydoc_string(&C->w, at[K_TYPE], "type")) == NULL)
        return -1;
    for (t = 0; t < RULE__COUNT && strcmp(rules_type_name((enum rule_type)t), s) != 0; t++)
        ;
    if (t == RULE__COUNT) {
        char known[320] = "";
        for (t = 0; t < RULE__COUNT; t++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     t > 0 ? ", " : "", rules_type_name((enum rule_type)t));
        ydoc_error(&C->w, at[K_TYPE], "unknown rule type '%s' (%s)", s, known);
        return -1;
    }
    for (k = 0; k < K__COUNT; k++)
        if (at[k] != NULL && !(keys[k].types & (1u << t)))
            ydoc_error(&C->w, at[k], "'%s' does not apply to rules of type %s", keys[k].name,
                       rules_type_name((enum rule_type)t));
    return t;
}

/* A one-line string every rule must have. */
static char *rule_text(struct compiler *C, const struct ynode *n, const struct rule *r,
                       const struct ynode *v, const char *what, const char *hint)
{
    if (v == NULL) {
        ydoc_error(&C->w, n, "rule '%s' needs a %s (%s)", r->key, what, hint);
        return NULL;
    }
    return dup_string(C, v, what);
}

static void rule_mitre(struct compiler *C, const struct ynode *n, struct rule *r, int t,
                       const struct ynode *const *at)
{
    const char *s;
    size_t j;

    if (at[K_MITRE] == NULL) {
        /* A fault of the capture is no adversary's technique, unless a rule says so. */
        if (t != RULE_HEALTH)
            ydoc_error(&C->w, n, "rule '%s' needs mitre_attack (technique ids)", r->key);
        return;
    }
    if (!ydoc_want(&C->w, at[K_MITRE], YN_LIST, "mitre_attack"))
        return;
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

/* What every rule says: its identity, severity, category, texts and references. */
static void rule_common(struct compiler *C, const struct ynode *n, struct rule *r, int t,
                        const struct ynode *const *at)
{
    const char *s;
    uint32_t u;
    int k;

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
        if ((k = rules_category_lookup(s, 0)) < 0)
            ydoc_error(&C->w, at[K_CATEGORY],
                       "unknown category '%s' (one of the contract's alert categories, e.g. "
                       "'Lateral movement')",
                       s);
        else
            r->category = (uint8_t)k;
    }
    r->signature = rule_text(C, n, r, at[K_SIGNATURE], "signature", "English, one line");
    r->message_ja = rule_text(C, n, r, at[K_MESSAGE_JA], "message_ja", "Japanese, one line");
    r->guideline = rule_text(C, n, r, at[K_GUIDELINE], "guideline", "e.g. MHLW-6.0 SO 13.2");
    rule_mitre(C, n, r, t, at);
    if (at[K_DEDUP] != NULL)
        ydoc_duration(&C->w, at[K_DEDUP], "dedup", &r->dedup_s);
    if (at[K_ENABLED] != NULL && ydoc_bool(&C->w, at[K_ENABLED], "enabled", &k))
        r->enabled = (uint8_t)k;
    if (at[K_DESCRIPTION] != NULL)
        ydoc_string(&C->w, at[K_DESCRIPTION], "description");
    rules__guideline_text(r);
    if (at[K_NEXT_JA] != NULL) /* what to do next: optional for a site's rules */
        r->next_ja = dup_string(C, at[K_NEXT_JA], "next_ja");
    if (at[K_NEXT_EN] != NULL)
        r->next_en = dup_string(C, at[K_NEXT_EN], "next_en");
}

/* Which flows the rule looks at: zones, protocols, ports, exceptions. */
static void rule_scope(struct compiler *C, struct rule *r, const struct ynode *const *at)
{
    int k;

    if (at[K_FROM] != NULL)
        parse_zones(C, at[K_FROM], "from", &r->from);
    if (at[K_TO] != NULL)
        parse_zones(C, at[K_TO], "to", &r->to);
    if (at[K_EXCEPT_FROM] != NULL)
        parse_zones(C, at[K_EXCEPT_FROM], "except_from", &r->except_from);
    if (at[K_SAME_ZONE] != NULL && ydoc_bool(&C->w, at[K_SAME_ZONE], "same_zone", &k))
        r->same_zone = (uint8_t)k;
    if (at[K_GUESSES] != NULL && ydoc_bool(&C->w, at[K_GUESSES], "guesses", &k))
        r->match.no_guess = (uint8_t)!k;
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
}

/* A value that must be one of words; its index, or -1 (reported with the words listed). */
static int rule_word(struct compiler *C, const struct ynode *v, const char *what,
                     const char *const *words, int nwords, const char *list)
{
    const char *s = ydoc_string(&C->w, v, what);
    int i;

    if (s == NULL)
        return -1;
    for (i = 0; i < nwords; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    ydoc_error(&C->w, v, "%s must be %s, not '%s'", what, list, s);
    return -1;
}

/* The numbers of counting rules, and the few words some types take. */
static void rule_numbers(struct compiler *C, struct rule *r, int t, const struct ynode *const *at)
{
    static const char *const modes[] = {"ports", "hosts", "service"},
                             *const sides[] = {"outside", "inside"},
                             *const *svc = config_service_keys;
    unsigned bits = 0;
    int k;

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
    if (at[K_MODE] != NULL &&
        (k = rule_word(C, at[K_MODE], "mode", modes, 3, "ports, hosts or service")) >= 0)
        r->scan_mode = (uint8_t)k; /* the words are in enum scan_mode's order */
    if (at[K_MAINT_WINDOW] != NULL && (k = rule_word(C, at[K_MAINT_WINDOW], "maintenance_window",
                                                     sides, 2, "inside or outside")) >= 0)
        r->inside_window = (uint8_t)k;
    if (at[K_SERVICES] != NULL) {
        ydoc_flags(&C->w, at[K_SERVICES], "services", "service", svc, SVC__COUNT, &bits);
        r->services = (uint8_t)bits;
    }
    if (at[K_EXCEPT_SERVERS] != NULL) {
        bits = 0;
        ydoc_flags(&C->w, at[K_EXCEPT_SERVERS], "except_servers", "service", svc, SVC__COUNT,
                   &bits);
        r->except_servers = (uint8_t)bits;
    }
    if (at[K_SKIP_ALLOWED] != NULL && ydoc_bool(&C->w, at[K_SKIP_ALLOWED], "skip_allowed", &k))
        r->skip_allowed = (uint8_t)k;
}

/* except_user_agents: patterns as fnmatch(3) reads them, one line each. */
static void rule_agents(struct compiler *C, struct rule *r, const struct ynode *n)
{
    size_t j;

    if (!ydoc_want(&C->w, n, YN_LIST, "except_user_agents") ||
        (r->except_agents = calloc(n->n + 1, sizeof(char *))) == NULL)
        return;
    for (j = 0; j < n->n; j++) {
        char *s = dup_string(C, n->items[j], "a user agent pattern");
        if (s != NULL)
            r->except_agents[r->nexcept_agents++] = s;
    }
}

/* tls_versions, operations and risks: lists of names. */
static void rule_lists(struct compiler *C, struct rule *r, const struct ynode *const *at)
{
    const char *s;
    size_t j;
    int k;

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
    if (at[K_EXCEPT_USER_AGENTS] != NULL)
        rule_agents(C, r, at[K_EXCEPT_USER_AGENTS]);
    if (at[K_OPERATIONS] != NULL && ydoc_want(&C->w, at[K_OPERATIONS], YN_LIST, "operations")) {
        for (j = 0; j < at[K_OPERATIONS]->n; j++) {
            const struct ynode *e = at[K_OPERATIONS]->items[j];
            if ((s = ydoc_string(&C->w, e, "a DCE-RPC operation")) == NULL)
                continue;
            if ((k = dcerpc_op_lookup(s)) < 0)
                ydoc_error(&C->w, e,
                           "unknown DCE-RPC operation '%s' (e.g. svcctl.CreateServiceW; "
                           "rules/README.md lists them)",
                           s);
            else
                r->dcerpc_ops |= 1ULL << k;
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
}

/* response, fold, percent, tolerance, and check (a health rule's condition, or which AE title a
 * dicom_ae rule checks). */
static void rule_words(struct compiler *C, struct rule *r, int t, const struct ynode *const *at)
{
    static const char *const responses[] = {"alert", "reset", "block"}, *const ae[] = {
                                                                            "calling_ae",
                                                                            "called_ae",
                                                                            "move_destination"};
    static const enum response_action resp_of[] = {RESP_ALERT, RESP_RESET, RESP_BLOCK};
    static const enum ae_check ae_of[] = {AE_CALLING, AE_CALLED, AE_MOVE_DESTINATION};
    static const char *const folds[] = {"pair", "source", "destination"};
    static const enum rule_fold fold_of[] = {FOLD_PAIR, FOLD_SOURCE, FOLD_DESTINATION};
    int k;

    if (at[K_RESPONSE] != NULL &&
        (k = rule_word(C, at[K_RESPONSE], "response", responses, 3, "alert, reset or block")) >= 0)
        r->response = resp_of[k];
    if (at[K_FOLD] != NULL &&
        (k = rule_word(C, at[K_FOLD], "fold", folds, 3, "pair, source or destination")) >= 0)
        r->fold = fold_of[k];
    if (at[K_PERCENT] != NULL)
        ydoc_uint(&C->w, at[K_PERCENT], "percent", 1, 100, &r->percent);
    if (at[K_TOLERANCE] != NULL)
        ydoc_duration(&C->w, at[K_TOLERANCE], "tolerance", &r->tolerance_s);
    if (at[K_CHECK] == NULL)
        return;
    if (t == RULE_HEALTH) {
        static const char *const checks[] = {HEALTH_CHECKS_X(RULES_NAME_OF)};
        k = rule_word(C, at[K_CHECK], "check", checks, HEALTH__COUNT,
                      "silence, one_way, upstream_loss, drops, clock or output");
        r->health_check = (uint8_t)(k < 0 ? HEALTH__COUNT : k);
    } else if (t == RULE_LEDGER) {
        static const char *const checks[] = {LEDGER_CHECKS_X(RULES_NAME_OF)};
        k = rule_word(C, at[K_CHECK], "check", checks, LEDGER__COUNT,
                      "unknown_device, zone_mismatch, mac_mismatch or firmware_change");
        r->ledger_check = (uint8_t)(k < 0 ? LEDGER__COUNT : k);
    } else if (t == RULE_BASELINE) {
        static const char *const checks[] = {BASELINE_CHECKS_X(RULES_NAME_OF)};
        k = rule_word(C, at[K_CHECK], "check", checks, BASELINE__COUNT,
                      "new_peer, new_service or new_destination");
        r->baseline_check = (uint8_t)(k < 0 ? BASELINE__COUNT : k);
    } else if ((k = rule_word(C, at[K_CHECK], "check", ae, 3,
                              "calling_ae, called_ae or move_destination")) >= 0) {
        r->ae_check = ae_of[k];
    }
}

/* --- one rule ------------------------------------------------------------------------------- */

void rules__compile_rule(struct compiler *C, const struct ynode *n, struct rule *r)
{
    const struct ynode *at[K__COUNT] = {0};
    unsigned before = C->w.diag->count;
    int t;

    r->rev = 1;
    r->enabled = 1;
    r->dedup_s = 3600;
    r->skip_allowed = 1;
    r->jitter_pct = 10;
    r->min_interval_s = 10;
    r->max_duration_s = 30;
    rule_keys(C, n, at);
    if ((t = rule_type(C, n, r, at)) < 0)
        return;
    r->type = (uint8_t)t;
    rule_common(C, n, r, t, at);
    rule_scope(C, r, at);
    rule_numbers(C, r, t, at);
    rule_lists(C, r, at);
    rule_words(C, r, t, at);
    if (C->w.diag->count != before)
        return;
    rules__need(C, n, r, at);
    if (r->from == 0 && t != RULE_MAINTENANCE) /* there, from names vendor zones only */
        r->from = ~(zone_set)0;
    if (r->to == 0)
        r->to = ~(zone_set)0;
}

void rules__rule_release(struct rule *r)
{
    unsigned i;

    free(r->signature);
    free(r->message_ja);
    free(r->next_ja);
    free(r->next_en);
    free(r->guideline_ja);
    free(r->guideline_en);
    free(r->guideline);
    for (i = 0; i < r->nmitre; i++)
        free(r->mitre[i]);
    free(r->allow);
    for (i = 0; i < r->nexcept_agents; i++)
        free(r->except_agents[i]);
    free(r->except_agents);
}
