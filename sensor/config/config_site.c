/*
 * The site's own sections of the config: interfaces and sensor settings, home networks and
 * zones, egress allowlists, named services, rule files, flow table sizes, inventory and
 * medical identities. Each parser adds a diagnostic for every wrong entry and carries on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mimamori/classify.h"
#include "mimamori/error.h"
#include "mimamori/rules.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

#include "config/config_int.h"

/* The zone names of the contract; the shipped ruleset refers to them whether configured or not. */
static const char *const standard_zones[] = {
    "emr",   "departmental",  "medical_devices", "clinical", "office", "infrastructure",
    "admin", "vendor_remote", "partner",         "guest",    "dmz"};

/* Edits (insert, delete, replace a character) from a to b, counting up to 3. */
static unsigned edits(const char *a, const char *b)
{
    unsigned row[MM_MAX_ZONE_NAME + 1], i, j, la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

    if (la > MM_MAX_ZONE_NAME || lb > MM_MAX_ZONE_NAME)
        return 3;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb] < 3 ? row[lb] : 3;
}

/* A zone not of the contract's names but within two edits of one: remembered for a warning. */
static void note_near_standard(struct loader *L, int idx, const struct ynode *kn)
{
    size_t i;

    for (i = 0; i < sizeof(standard_zones) / sizeof(standard_zones[0]); i++) {
        if (strcmp(L->c->zone_names[idx], standard_zones[i]) == 0)
            return;
    }
    for (i = 0; i < sizeof(standard_zones) / sizeof(standard_zones[0]); i++) {
        if (edits(L->c->zone_names[idx], standard_zones[i]) <= 2 &&
            L->nnear < sizeof(L->near) / sizeof(L->near[0])) {
            L->near[L->nnear].zone = idx;
            L->near[L->nnear].standard = standard_zones[i];
            L->near[L->nnear++].at = *kn;
            return;
        }
    }
}

/*
 * A misspelt standard zone ("medical_device:") is a zone of its own that no shipped rule and
 * no default protection names: its hosts fall out of every rule meant for them. Said when no
 * rule names it either.
 */
void config__warn_near_standard(struct loader *L)
{
    const struct ruleset *rs = L->c->ruleset;
    unsigned i, k;

    for (k = 0; k < L->nnear; k++) {
        zone_set bit = ZONE_BIT(L->near[k].zone);
        int used = 0;
        /* Named, not taken in by "any" or "internal" with every other zone. */
#define NAMES(set) (((set)&bit) && ((set)&ZONES_INTERNAL) != ZONES_INTERNAL)
        for (i = 0; rs != NULL && i < rs->n && !used; i++)
            used = NAMES(rs->r[i].from) || NAMES(rs->r[i].to) || NAMES(rs->r[i].except_from);
#undef NAMES
        if (!used)
            ydoc_warning(&L->w, &L->near[k].at,
                         "zone '%s' is used by no rule, and the shipped rules and default "
                         "protections name '%s': did you mean '%s'?",
                         L->c->zone_names[L->near[k].zone], L->near[k].standard,
                         L->near[k].standard);
    }
}

/* --- sections ----------------------------------------------------------------------------- */

/* sensor.interface: a name, or a list of them (read by one process). */
static void parse_interfaces(struct loader *L, const struct ynode *v)
{
    const struct ynode *const *items = &v;
    size_t n = 1, i, j;
    const char *s;

    while (L->c->ninterfaces > 0)
        free(L->c->interfaces[--L->c->ninterfaces]);
    if (v->kind == YN_LIST) {
        items = (const struct ynode *const *)v->items;
        n = v->n;
        if (n == 0 || n > MM_MAX_IFACES) {
            ydoc_error(&L->w, v, "sensor.interface lists 1 to %u interfaces", MM_MAX_IFACES);
            return;
        }
    }
    for (i = 0; i < n; i++) {
        if ((s = ydoc_string(&L->w, items[i], "sensor.interface")) == NULL)
            continue;
        if (strlen(s) > MM_MAX_IFNAME) {
            ydoc_error(&L->w, items[i], "interface name '%.40s%s' is longer than %u characters", s,
                       strlen(s) > 40 ? "..." : "", MM_MAX_IFNAME);
            continue;
        }
        for (j = 0; j < L->c->ninterfaces; j++)
            if (strcmp(L->c->interfaces[j], s) == 0)
                ydoc_error(&L->w, items[i], "interface '%s' is listed twice", s);
        if (j == L->c->ninterfaces && (L->c->interfaces[j] = config__dup(L, items[i], s)) != NULL)
            L->c->ninterfaces++;
    }
}

void config__parse_sensor(struct loader *L, const struct ynode *n)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, "sensor"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i), *s;
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "name") == 0) {
            if ((s = ydoc_string(&L->w, v, "sensor.name")) == NULL)
                continue;
            if (*s == '\0' || strlen(s) >= sizeof(L->c->sensor_name))
                ydoc_error(&L->w, v, "sensor.name must be 1 to %zu characters",
                           sizeof(L->c->sensor_name) - 1);
            else
                strcpy(L->c->sensor_name, s);
        } else if (strcmp(k, "interface") == 0) {
            parse_interfaces(L, v);
        } else if (strcmp(k, "snaplen") == 0) {
            ydoc_uint(&L->w, v, "sensor.snaplen", 96, 262144, &L->c->live.snaplen);
        } else if (strcmp(k, "promiscuous") == 0) {
            ydoc_bool(&L->w, v, "sensor.promiscuous", &L->c->live.promisc);
        } else if (strcmp(k, "buffer_size") == 0) {
            ydoc_size(&L->w, v, "sensor.buffer_size", &L->c->live.buffer_size);
        } else if (strcmp(k, "bpf") == 0) {
            char err[CAPTURE_ERRBUF_SIZE];
            if ((s = ydoc_string(&L->w, v, "sensor.bpf")) == NULL)
                continue;
            if (capture_check_filter(s, err, sizeof(err)) != 0)
                ydoc_error(&L->w, v, "sensor.bpf: %s", err);
            else
                L->c->bpf = config__dup(L, v, s);
        } else if (strcmp(k, "user") == 0 || strcmp(k, "group") == 0) {
            char **dst = k[0] == 'u' ? &L->c->user : &L->c->group;
            if ((s = ydoc_string(&L->w, v, k)) == NULL)
                continue;
            free(*dst);
            *dst = config__dup(L, v, s);
        } else if (strcmp(k, "workers") == 0) {
            ydoc_uint(&L->w, v, "sensor.workers", 1, MM_MAX_WORKERS, &L->c->workers);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key 'sensor.%s' (name, interface, snaplen, promiscuous, "
                       "buffer_size, bpf, user, group, workers)",
                       k);
        }
    }
}

/* Add a list of networks to map with value; what names the list in messages. */
void config__parse_networks(struct loader *L, const struct ynode *n, struct zone_map *map,
                            int value, const char *what)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_LIST, what))
        return;
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        const char *s = ydoc_string(&L->w, e, what), *why = NULL;
        uint8_t addr[16];
        unsigned plen;
        int r;
        if (s == NULL)
            continue;
        if (zone_parse_cidr(s, addr, &plen, &why) != 0) {
            ydoc_error(&L->w, e, "bad network '%s' in %s: %s", s, what, why);
            continue;
        }
        r = zone_map_add(map, addr, plen, value);
        if (r < 0)
            ydoc_error(&L->w, e, "out of memory");
        else if (r > 0 && r - 1 != value)
            ydoc_error(&L->w, e, "network '%s' is already in zone '%s'", s,
                       L->c->zone_names[r - 1]);
        else if (r > 0)
            ydoc_error(&L->w, e, "network '%s' is listed twice in %s", s, what);
    }
}

static int zone_name_valid(const char *s)
{
    size_t i;

    if (s[0] < 'a' || s[0] > 'z' || strlen(s) >= MM_MAX_ZONE_NAME)
        return 0;
    for (i = 1; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int domain_valid(const char *s)
{
    size_t i, len = strlen(s);

    if (strncmp(s, "*.", 2) == 0)
        s += 2, len -= 2;
    if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.' || strstr(s, "..") != NULL)
        return 0;
    for (i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
            return 0;
    return 1;
}

static void parse_egress(struct loader *L, const struct ynode *n, int zone)
{
    struct config_egress *eg;
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, "egress"))
        return;
    if ((eg = calloc(1, sizeof(*eg))) == NULL || zone_map_create(&eg->nets) != 0) {
        if (eg != NULL)
            free(eg);
        ydoc_error(&L->w, n, "out of memory");
        return;
    }
    L->c->egress[zone] = eg;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "networks") == 0) {
            config__parse_networks(L, v, eg->nets, 0, "egress networks");
        } else if (strcmp(k, "domains") == 0) {
            config__parse_domains(L, v, "egress domains", &eg->domains, &eg->ndomains);
        } else if (strcmp(k, "protocols") == 0) {
            config__parse_protocols(&L->w, v, "egress protocols", eg->protocols, &eg->nprotocols);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in egress (networks, domains, protocols)", k);
        }
    }
}

void config__parse_zones(struct loader *L, const struct ynode *n)
{
    struct mm_config *c = L->c;
    size_t i, j;

    if (!ydoc_want(&L->w, n, YN_MAP, "zones"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *name = ydoc_key(&L->w, n, i);
        const struct ynode *kn = YDOC_KEY(n, i), *v = YDOC_VAL(n, i);
        char what[MM_MAX_ZONE_NAME + 16];
        int idx, have_networks = 0;
        if (name == NULL)
            continue;
        if (!zone_name_valid(name)) {
            ydoc_error(&L->w, kn,
                       "zone name '%s' must be lower-case letters, digits and '_' "
                       "(at most %u), starting with a letter",
                       name, MM_MAX_ZONE_NAME - 1);
            continue;
        }
        if (strcmp(name, "internet") == 0 || strcmp(name, "unzoned") == 0) {
            ydoc_error(&L->w, kn, "zone '%s' is implicit and cannot be configured", name);
            continue;
        }
        if (strcmp(name, "internal") == 0 || strcmp(name, "any") == 0) {
            ydoc_error(&L->w, kn, "zone name '%s' is reserved (it means a set of zones in rules)",
                       name);
            continue;
        }
        if (c->nzones >= MM_MAX_ZONES) {
            ydoc_error(&L->w, kn, "too many zones (at most %u)", MM_MAX_ZONES - 2);
            return;
        }
        idx = (int)c->nzones++;
        c->nconfigured++;
        strcpy(c->zone_names[idx], name);
        note_near_standard(L, idx, kn);
        snprintf(what, sizeof(what), "zones.%s", name);
        if (!ydoc_want(&L->w, v, YN_MAP, what))
            continue;
        for (j = 0; j < v->n; j++) {
            const char *k = ydoc_key(&L->w, v, j);
            const struct ynode *qv = YDOC_VAL(v, j);
            if (k == NULL)
                continue;
            if (strcmp(k, "description") == 0) {
                const char *s = ydoc_string(&L->w, qv, "zone description");
                free(c->zone_desc[idx]);
                c->zone_desc[idx] = s != NULL && s[0] != '\0' ? config__dup(L, qv, s) : NULL;
            } else if (strcmp(k, "networks") == 0) {
                have_networks = 1;
                config__parse_networks(L, qv, c->zones, idx, what);
            } else if (strcmp(k, "egress") == 0) {
                parse_egress(L, qv, idx);
            } else {
                ydoc_error(&L->w, YDOC_KEY(v, j), "unknown key '%s' in zone '%s'", k, name);
            }
        }
        if (!have_networks)
            ydoc_error(&L->w, v, "zone '%s' has no networks", name);
    }
}

void config__parse_domains(struct loader *L, const struct ynode *v, const char *what, char ***out,
                           unsigned *n)
{
    size_t j;

    if (!ydoc_want(&L->w, v, YN_LIST, what))
        return;
    if ((*out = calloc(v->n + 1, sizeof(char *))) == NULL) {
        ydoc_error(&L->w, v, "out of memory");
        return;
    }
    for (j = 0; j < v->n; j++) {
        const char *s = ydoc_string(&L->w, v->items[j], "a domain");
        if (s == NULL)
            continue;
        if (!domain_valid(s))
            ydoc_error(&L->w, v->items[j],
                       "bad domain '%s' (a name, or '*.' and a name for any name below it)", s);
        else if (((*out)[*n] = config__dup(L, v->items[j], s)) != NULL)
            (*n)++;
    }
}

void config__parse_services(struct loader *L, const struct ynode *n)
{
    const char *const *names = config_service_keys;
    size_t i, j;

    if (!ydoc_want(&L->w, n, YN_MAP, "services"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        int s;
        if (k == NULL)
            continue;
        for (s = 0; s < SVC__COUNT && strcmp(k, names[s]) != 0; s++)
            ;
        if (s == SVC__COUNT) {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown service '%s' (known: dns, dhcp, ntp, domain_controllers)", k);
            continue;
        }
        if (!ydoc_want(&L->w, v, YN_LIST, "a service"))
            continue;
        free(L->c->services[s].addr);
        L->c->services[s].n = 0;
        if ((L->c->services[s].addr = calloc(v->n + 1, 16)) == NULL) {
            ydoc_error(&L->w, v, "out of memory");
            continue;
        }
        for (j = 0; j < v->n; j++) {
            const char *a = ydoc_string(&L->w, v->items[j], "a service address");
            if (a == NULL)
                continue;
            if (zone_parse_addr(a, L->c->services[s].addr[L->c->services[s].n]) != 0)
                ydoc_error(&L->w, v->items[j], "bad address '%s' in services.%s", a, k);
            else
                L->c->services[s].n++;
        }
    }
}

void config__parse_rules(struct loader *L, const struct ynode *n)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_LIST, "rules"))
        return;
    if ((L->c->rules = calloc(n->n + 1, sizeof(char *))) == NULL ||
        (L->rules_at = calloc(n->n + 1, sizeof(*L->rules_at))) == NULL) {
        ydoc_error(&L->w, n, "out of memory");
        return;
    }
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        const char *s = ydoc_string(&L->w, e, "a rules entry");
        if (s == NULL)
            continue;
        if (*s == '\0') {
            ydoc_error(&L->w, e, "empty rules path");
        } else if ((L->c->rules[L->c->nrules] = config__dup(L, e, s)) != NULL) {
            L->rules_at[L->c->nrules][0] = e->line;
            L->rules_at[L->c->nrules][1] = e->col;
            L->c->nrules++;
        }
    }
}

void config__parse_flow(struct loader *L, const struct ynode *n)
{
    static const char *const tnames[FT__COUNT] = {
        "tcp_new", "tcp_established", "tcp_closed", "udp", "icmp", "other"};
    size_t i, j;

    if (!ydoc_want(&L->w, n, YN_MAP, "flow"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "max_flows") == 0) {
            ydoc_uint(&L->w, v, "flow.max_flows", MM_MIN_MAX_FLOWS, MM_MAX_MAX_FLOWS,
                      &L->c->flow.max_flows);
        } else if (strcmp(k, "max_classifying") == 0) {
            ydoc_uint(&L->w, v, "flow.max_classifying", MM_MIN_MAX_FLOWS, MM_MAX_MAX_FLOWS,
                      &L->c->max_classifying);
        } else if (strcmp(k, "classify_memcap") == 0) {
            ydoc_size(&L->w, v, "flow.classify_memcap", &L->c->classify_memcap);
        } else if (strcmp(k, "timeouts") == 0) {
            if (!ydoc_want(&L->w, v, YN_MAP, "flow.timeouts"))
                continue;
            for (j = 0; j < v->n; j++) {
                const char *tk = ydoc_key(&L->w, v, j);
                int t;
                if (tk == NULL)
                    continue;
                for (t = 0; t < FT__COUNT && strcmp(tk, tnames[t]) != 0; t++)
                    ;
                if (t == FT__COUNT)
                    ydoc_error(&L->w, YDOC_KEY(v, j),
                               "unknown timeout '%s' (tcp_new, tcp_established, tcp_closed, "
                               "udp, icmp, other)",
                               tk);
                else
                    ydoc_uint(&L->w, YDOC_VAL(v, j), "a timeout (seconds)", 1, 86400,
                              &L->c->flow.timeout[t]);
            }
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key 'flow.%s' (max_flows, max_classifying, classify_memcap, "
                       "timeouts)",
                       k);
        }
    }
}

/* inventory: where the device table is kept across restarts, how often written, how big. */
void config__parse_inventory(struct loader *L, const struct ynode *n)
{
    const char *s;
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, "inventory"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "state") == 0) {
            if ((s = ydoc_string(&L->w, v, "inventory.state")) == NULL)
                continue;
            free(L->c->inventory.state);
            L->c->inventory.state = s[0] != '\0' ? config__dup(L, v, s) : NULL;
        } else if (strcmp(k, "ledger") == 0) {
            if ((s = ydoc_string(&L->w, v, "inventory.ledger")) == NULL)
                continue;
            if (access(s, R_OK) != 0)
                ydoc_error(&L->w, v, "inventory.ledger: cannot read '%s': %s", s, strerror(errno));
            else
                L->c->inventory.ledger_path = config__dup(L, v, s);
        } else if (strcmp(k, "interval") == 0) {
            ydoc_duration(&L->w, v, "inventory.interval", &L->c->inventory.interval_s);
        } else if (strcmp(k, "max_devices") == 0) {
            ydoc_uint(&L->w, v, "inventory.max_devices", 16, 1u << 24,
                      &L->c->inventory.max_devices);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key 'inventory.%s' (state, ledger, interval, max_devices)", k);
        }
    }
}

/* learning: how long the baseline learns before new communication is reported. */
void config__parse_learning(struct loader *L, const struct ynode *n)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, "learning"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        if (k != NULL && strcmp(k, "period") == 0)
            ydoc_duration(&L->w, YDOC_VAL(n, i), "learning.period", &L->c->learning_s);
        else if (k != NULL)
            ydoc_error(&L->w, YDOC_KEY(n, i), "unknown key 'learning.%s' (period)", k);
    }
}

/* One inventory: a mapping of names (AE titles, applications) to hosts. */
static void parse_inventory(struct loader *L, const struct ynode *n, const char *what,
                            size_t max_len, struct config_named_hosts **out, unsigned *count)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, what))
        return;
    if ((*out = calloc(n->n + 1, sizeof(**out))) == NULL) {
        ydoc_error(&L->w, n, "out of memory");
        return;
    }
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        struct config_named_hosts *e;
        if (k == NULL)
            continue;
        if (*k == '\0' || strlen(k) > max_len) {
            ydoc_error(&L->w, YDOC_KEY(n, i), "'%s' in %s: names are 1 to %zu characters", k, what,
                       max_len);
            continue;
        }
        e = &(*out)[(*count)++];
        strcpy(e->name, k);
        config__parse_hostset(L->c, &L->w, YDOC_VAL(n, i), what, &e->hosts);
    }
}

void config__parse_medical(struct loader *L, const struct ynode *n)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, "medical"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "dicom_ae_titles") == 0)
            parse_inventory(L, YDOC_VAL(n, i), "medical.dicom_ae_titles", 16, &L->c->dicom_aes,
                            &L->c->ndicom_aes);
        else if (strcmp(k, "hl7_applications") == 0)
            parse_inventory(L, YDOC_VAL(n, i), "medical.hl7_applications", MM_MAX_MEDICAL_NAME - 1,
                            &L->c->hl7_apps, &L->c->nhl7_apps);
        else
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key 'medical.%s' (dicom_ae_titles, hl7_applications)", k);
    }
}

/* Register the contract's standard zone names that the file did not configure. */
void config__add_standard_zones(struct mm_config *c)
{
    size_t i;

    for (i = 0; i < sizeof(standard_zones) / sizeof(standard_zones[0]); i++)
        if (config_zone_index(c, standard_zones[i]) < 0 && c->nzones < MM_MAX_ZONES)
            strcpy(c->zone_names[c->nzones++], standard_zones[i]);
}

int config__parse_hostset(const struct mm_config *c, struct ywalk *w, const struct ynode *n,
                          const char *what, struct config_hostset *set)
{
    const struct ynode *one[1] = {n};
    const struct ynode *const *items = one;
    size_t i, count = 1;
    unsigned before = w->diag->count;

    if (n->kind == YN_LIST) {
        items = (const struct ynode *const *)n->items;
        count = n->n;
        if (count == 0)
            ydoc_error(w, n, "%s is an empty list", what);
    }
    for (i = 0; i < count; i++) {
        const char *s = ydoc_string(w, items[i], what), *why;
        uint8_t addr[16];
        unsigned plen;
        int z;
        if (s == NULL)
            continue;
        if (strcmp(s, "any") == 0) {
            set->zones |= ~(zone_set)0;
        } else if (strcmp(s, "internal") == 0) {
            set->zones |= ZONES_INTERNAL;
        } else if ((z = config_zone_index(c, s)) >= 0) {
            set->zones |= ZONE_BIT(z);
        } else if (strchr(s, '.') == NULL && strchr(s, ':') == NULL) {
            ydoc_error(w, items[i], "unknown zone '%s' in %s", s, what);
        } else if (zone_parse_cidr(s, addr, &plen, &why) != 0) {
            ydoc_error(w, items[i], "bad network '%s' in %s: %s", s, what, why);
        } else if ((set->nets == NULL && zone_map_create(&set->nets) != 0) ||
                   zone_map_add(set->nets, addr, plen, 0) < 0) {
            ydoc_error(w, items[i], "out of memory");
        }
    }
    return w->diag->count == before;
}

void config__parse_protocols(struct ywalk *w, const struct ynode *n, const char *what,
                             uint16_t out[MM_MAX_LIST], unsigned *count)
{
    size_t i;

    if (!ydoc_want(w, n, YN_LIST, what))
        return;
    for (i = 0; i < n->n; i++) {
        const char *s = ydoc_string(w, n->items[i], "a protocol");
        int id;
        if (s == NULL)
            continue;
        if ((id = classify_lookup_protocol(s)) < 0)
            ydoc_error(w, n->items[i], "unknown protocol '%s' (nDPI's protocol names)", s);
        else if (*count == MM_MAX_LIST)
            ydoc_error(w, n->items[i], "too many protocols (at most %u)", MM_MAX_LIST);
        else
            out[(*count)++] = (uint16_t)id;
    }
}
