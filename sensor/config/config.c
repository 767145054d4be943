/*
 * The site-config loader. The YAML document (see ydoc.h) is walked once; every unknown key,
 * wrong type, bad network, unknown zone or out-of-range number adds a "file:line:col: message"
 * diagnostic and loading carries on, so one run of --test-config shows all problems. Sections
 * that name zones (maintenance windows, suppressions) are read after the zones. The rule files
 * are compiled last, into the same snapshot, which is returned only when nothing was wrong.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/rules.h"
#include "mimamori/syslog.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

const char config_default_yaml[] =
    "# Embedded default: used when neither -c nor " MM_SYSCONF_FILE " is there.\n"
    "home_networks: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7]\n";

static const char *const default_home[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                           "fc00::/7"};

/* The zone names of the contract; the shipped ruleset refers to them whether configured or not. */
static const char *const standard_zones[] = {
    "emr",   "departmental",  "medical_devices", "clinical", "office", "infrastructure",
    "admin", "vendor_remote", "partner",         "guest",    "dmz"};

#define DEFAULT_TIMEZONE "Asia/Tokyo"

struct loader {
    struct ywalk w;
    struct mm_config *c;
    int have_home;
    const struct ynode *maintenance, *suppress, *medical, *response;
    unsigned (*rules_at)[2]; /* line and column of each rules entry (the doc is gone by then) */
    struct {                 /* configured zones named almost like a standard one */
        int zone;
        const char *standard;
        struct ynode at; /* a copy of the key's place */
    } near[8];
    unsigned nnear;
};

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
static void warn_near_standard(struct loader *L)
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

static char *dup_or_oom(struct loader *L, const struct ynode *n, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        ydoc_error(&L->w, n, "out of memory");
    return d;
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
        if (j == L->c->ninterfaces && (L->c->interfaces[j] = dup_or_oom(L, items[i], s)) != NULL)
            L->c->ninterfaces++;
    }
}

static void parse_sensor(struct loader *L, const struct ynode *n)
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
            if (capture_check_filter(s, err) != 0)
                ydoc_error(&L->w, v, "sensor.bpf: %s", err);
            else
                L->c->bpf = dup_or_oom(L, v, s);
        } else if (strcmp(k, "user") == 0 || strcmp(k, "group") == 0) {
            char **dst = k[0] == 'u' ? &L->c->user : &L->c->group;
            if ((s = ydoc_string(&L->w, v, k)) == NULL)
                continue;
            free(*dst);
            *dst = dup_or_oom(L, v, s);
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
static void parse_networks(struct loader *L, const struct ynode *n, struct zone_map *map, int value,
                           const char *what)
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
    size_t i, j;

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
            parse_networks(L, v, eg->nets, 0, "egress networks");
        } else if (strcmp(k, "domains") == 0) {
            if (!ydoc_want(&L->w, v, YN_LIST, "egress domains"))
                continue;
            if ((eg->domains = calloc(v->n + 1, sizeof(char *))) == NULL) {
                ydoc_error(&L->w, v, "out of memory");
                continue;
            }
            for (j = 0; j < v->n; j++) {
                const char *s = ydoc_string(&L->w, v->items[j], "a domain");
                if (s == NULL)
                    continue;
                if (!domain_valid(s))
                    ydoc_error(&L->w, v->items[j],
                               "bad domain '%s' (a name, or '*.' and a name for any name "
                               "below it)",
                               s);
                else if ((eg->domains[eg->ndomains] = dup_or_oom(L, v->items[j], s)) != NULL)
                    eg->ndomains++;
            }
        } else if (strcmp(k, "protocols") == 0) {
            config_parse_protocols(&L->w, v, "egress protocols", eg->protocols, &eg->nprotocols);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in egress (networks, domains, protocols)", k);
        }
    }
}

static void parse_zones(struct loader *L, const struct ynode *n)
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
                ydoc_string(&L->w, qv, "zone description");
            } else if (strcmp(k, "networks") == 0) {
                have_networks = 1;
                parse_networks(L, qv, c->zones, idx, what);
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

static void parse_services(struct loader *L, const struct ynode *n)
{
    static const char *const names[SVC__COUNT] = {"dns", "dhcp", "ntp"};
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
            ydoc_error(&L->w, YDOC_KEY(n, i), "unknown service '%s' (known: dns, dhcp, ntp)", k);
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

static void parse_rules(struct loader *L, const struct ynode *n)
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
        } else if ((L->c->rules[L->c->nrules] = dup_or_oom(L, e, s)) != NULL) {
            L->rules_at[L->c->nrules][0] = e->line;
            L->rules_at[L->c->nrules][1] = e->col;
            L->c->nrules++;
        }
    }
}

/* An output's "types": alert, flow, stats. */
static void parse_types(struct loader *L, const struct ynode *n, unsigned *types)
{
    static const char *const names[] = {"alert", "flow", "stats"};

    *types = 0;
    ydoc_flags(&L->w, n, "output types", "event type", names, 3, types);
    if (n->kind == YN_LIST && n->n == 0)
        ydoc_error(&L->w, n, "output types is an empty list");
}

/* A readable file named by a key (TLS material). */
static char *parse_file(struct loader *L, const struct ynode *v, const char *what)
{
    const char *s = ydoc_string(&L->w, v, what);

    if (s == NULL)
        return NULL;
    if (access(s, R_OK) != 0) {
        ydoc_error(&L->w, v, "%s '%s' cannot be read: %s", what, s, strerror(errno));
        return NULL;
    }
    return dup_or_oom(L, v, s);
}

static int find_key(const struct ynode *map, const char *key)
{
    size_t i;

    for (i = 0; i < map->n; i++)
        if (YDOC_KEY(map, i)->kind == YN_SCALAR && strcmp(YDOC_KEY(map, i)->str, key) == 0)
            return 1;
    return 0;
}

/* "host:port", "[v6]:port". */
static int address_valid(const char *a)
{
    const char *colon = strrchr(a, ':');
    char *end;
    unsigned long port;

    if (colon == NULL || colon == a)
        return 0;
    if (a[0] == '[' && colon[-1] != ']')
        return 0;
    if (a[0] != '[' && memchr(a, ':', (size_t)(colon - a)) != NULL)
        return 0; /* a bare IPv6 address needs brackets */
    port = strtoul(colon + 1, &end, 10);
    return *end == '\0' && port > 0 && port < 65536;
}

static void parse_output(struct loader *L, const struct ynode *n, struct config_output *o)
{
    static const char *const file_keys[] = {"type", "path", "types", "rotate_size", "rotate_keep"};
    static const char *const syslog_keys[] = {"type",     "transport",   "address",    "types",
                                              "facility", "max_message", "max_rate",   "ca",
                                              "cert",     "key",         "server_name"};
    const char *type = NULL, *s;
    const struct ynode *type_node = n, *tr_node = n;
    size_t i, j;
    int fac;
    uint32_t u;

    for (i = 0; i < n->n; i++)
        if (YDOC_KEY(n, i)->kind == YN_SCALAR && strcmp(YDOC_KEY(n, i)->str, "type") == 0) {
            type = ydoc_string(&L->w, YDOC_VAL(n, i), "outputs type");
            type_node = YDOC_VAL(n, i);
        }
    if (type == NULL) {
        ydoc_error(&L->w, type_node, "output has no type (file or syslog)");
        return;
    }
    if (strcmp(type, "file") == 0) {
        o->type = OUTPUT_FILE;
        o->types = OUTPUT_EV_ALL;
        o->rotate_keep = 5;
    } else if (strcmp(type, "syslog") == 0) {
        o->type = OUTPUT_SYSLOG;
        o->types = 1u << OUTPUT_EV_ALERT | 1u << OUTPUT_EV_STATS;
        o->facility = 16; /* local0 */
        o->max_message = 8192;
        o->max_rate = 2000;
    } else {
        ydoc_error(&L->w, type_node, "unknown output type '%s' (file or syslog)", type);
        return;
    }
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        const char *const *allowed = o->type == OUTPUT_FILE ? file_keys : syslog_keys;
        size_t nallowed = o->type == OUTPUT_FILE ? sizeof(file_keys) / sizeof(file_keys[0])
                                                 : sizeof(syslog_keys) / sizeof(syslog_keys[0]);
        if (k == NULL || strcmp(k, "type") == 0)
            continue;
        for (j = 0; j < nallowed && strcmp(allowed[j], k) != 0; j++)
            ;
        if (j == nallowed) {
            ydoc_error(&L->w, YDOC_KEY(n, i), "unknown key '%s' in a %s output", k, type);
            continue;
        }
        if (strcmp(k, "types") == 0) {
            parse_types(L, v, &o->types);
        } else if (strcmp(k, "rotate_size") == 0) {
            ydoc_size(&L->w, v, "rotate_size", &o->rotate_size);
        } else if (strcmp(k, "rotate_keep") == 0) {
            if (ydoc_uint(&L->w, v, "rotate_keep", 1, 100, &u))
                o->rotate_keep = u;
        } else if (strcmp(k, "max_message") == 0) {
            if (ydoc_uint(&L->w, v, "max_message", 480, 65507, &u))
                o->max_message = u;
        } else if (strcmp(k, "max_rate") == 0) {
            if (ydoc_uint(&L->w, v, "max_rate", 1, 1000000, &u))
                o->max_rate = u;
        } else if (strcmp(k, "facility") == 0) {
            if ((s = ydoc_string(&L->w, v, "facility")) == NULL)
                continue;
            if ((fac = syslog_facility(s)) < 0)
                ydoc_error(&L->w, v,
                           "unknown facility '%s' (local0..local7, user, daemon, auth, authpriv)",
                           s);
            else
                o->facility = (unsigned)fac;
        } else if (strcmp(k, "ca") == 0) {
            o->ca = parse_file(L, v, "ca");
        } else if (strcmp(k, "cert") == 0) {
            o->cert = parse_file(L, v, "cert");
        } else if (strcmp(k, "key") == 0) {
            o->key = parse_file(L, v, "key");
        } else if ((s = ydoc_string(&L->w, v, k)) != NULL) {
            if (strcmp(k, "path") == 0) {
                o->path = dup_or_oom(L, v, s);
                o->line = v->line;
                o->col = v->col;
            } else if (strcmp(k, "server_name") == 0) {
                o->server_name = dup_or_oom(L, v, s);
            } else if (strcmp(k, "transport") == 0) {
                tr_node = v;
                if (strcmp(s, "udp") != 0 && strcmp(s, "tcp") != 0 && strcmp(s, "tls") != 0)
                    ydoc_error(&L->w, v, "unknown transport '%s' (udp, tcp or tls)", s);
                else
                    o->transport = dup_or_oom(L, v, s);
            } else if (strcmp(k, "address") == 0) {
                if (!address_valid(s))
                    ydoc_error(&L->w, v, "address '%s' must be host:port ([v6]:port)", s);
                else
                    o->address = dup_or_oom(L, v, s);
            }
        }
    }
    if (o->type == OUTPUT_FILE && o->path == NULL)
        ydoc_error(&L->w, n, "file output needs a path");
    if (o->type == OUTPUT_SYSLOG) {
        if (o->transport == NULL && tr_node == n)
            ydoc_error(&L->w, n, "syslog output needs a transport (udp, tcp or tls)");
        if (o->address == NULL)
            ydoc_error(&L->w, n, "syslog output needs an address (host:port)");
        if (o->transport != NULL && strcmp(o->transport, "udp") != 0 &&
            (find_key(n, "max_message") || find_key(n, "max_rate")))
            ydoc_error(&L->w, n, "max_message and max_rate are for transport udp");
        if (o->transport != NULL && strcmp(o->transport, "tls") != 0 &&
            (o->ca || o->cert || o->key || o->server_name))
            ydoc_error(&L->w, n, "ca, cert, key and server_name are for transport tls");
        if ((o->cert != NULL) != (o->key != NULL))
            ydoc_error(&L->w, n, "a client certificate needs both cert and key");
    }
}

/* delivery: queue_events, spool_directory, spool_max_size, drain_timeout, timeout. */
static void parse_delivery(struct loader *L, const struct ynode *n)
{
    struct config_delivery *d = &L->c->delivery;
    const char *s;
    uint32_t u;
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, "delivery"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "queue_events") == 0) {
            if (ydoc_uint(&L->w, v, "delivery.queue_events", 16, 16777216, &u))
                d->queue_events = u;
        } else if (strcmp(k, "spool_directory") == 0) {
            if ((s = ydoc_string(&L->w, v, "delivery.spool_directory")) == NULL)
                continue;
            if (s[0] != '/') {
                ydoc_error(&L->w, v, "delivery.spool_directory must be an absolute path");
                continue;
            }
            free(d->spool_dir);
            d->spool_dir = dup_or_oom(L, v, s);
        } else if (strcmp(k, "spool_max_size") == 0) {
            ydoc_size(&L->w, v, "delivery.spool_max_size", &d->spool_max);
        } else if (strcmp(k, "drain_timeout") == 0) {
            ydoc_duration(&L->w, v, "delivery.drain_timeout", &d->drain_s);
        } else if (strcmp(k, "timeout") == 0) {
            if (ydoc_duration(&L->w, v, "delivery.timeout", &u))
                d->timeout_ms = u * 1000u;
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key 'delivery.%s' (queue_events, spool_directory, "
                       "spool_max_size, drain_timeout, timeout)",
                       k);
        }
    }
}

static void parse_outputs(struct loader *L, const struct ynode *n)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_LIST, "outputs"))
        return;
    if ((L->c->outputs = calloc(n->n + 1, sizeof(struct config_output))) == NULL) {
        ydoc_error(&L->w, n, "out of memory");
        return;
    }
    for (i = 0; i < n->n; i++)
        if (ydoc_want(&L->w, n->items[i], YN_MAP, "an output"))
            parse_output(L, n->items[i], &L->c->outputs[L->c->noutputs++]);
}

static void parse_flow(struct loader *L, const struct ynode *n)
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

/* --- maintenance windows and suppressions (after zones) ------------------------------------ */

static int parse_hhmm(const char *s, uint16_t *min)
{
    int h, m, n = 0;

    if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] != '\0' || h > 24 || m > 59 ||
        (h == 24 && m != 0))
        return -1;
    *min = (uint16_t)(h * 60 + m);
    return 0;
}

/* "2026-11-25T09:00" (local time in the configured zone) to UTC seconds. */
static int parse_datetime(const struct tz *z, const char *s, int64_t *utc)
{
    int y, mo, d, h, mi, n = 0;
    int64_t days;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || s[n] != '\0' ||
        y < 2000 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
        return -1;
    /* Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm. */
    {
        int yy = y - (mo <= 2);
        int era = yy / 400, yoe = yy - era * 400;
        int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        days = (int64_t)era * 146097 + doe - 719468;
    }
    *utc = tz_to_utc(z, days * 86400 + h * 3600 + mi * 60);
    return 0;
}

static void parse_window(struct loader *L, const struct ynode *n, struct config_window *win)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    const struct ynode *start = NULL, *end = NULL;
    size_t i, j;

    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i), *s;
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "name") == 0 || strcmp(k, "ticket") == 0) {
            if ((s = ydoc_string(&L->w, v, k)) == NULL)
                continue;
            if (*s == '\0' || strlen(s) >= sizeof(win->name))
                ydoc_error(&L->w, v, "%s must be 1 to %zu characters", k, sizeof(win->name) - 1);
            else
                strcpy(strcmp(k, "name") == 0 ? win->name : win->ticket, s);
        } else if (strcmp(k, "days") == 0) {
            if (!ydoc_want(&L->w, v, YN_LIST, "days"))
                continue;
            for (j = 0; j < v->n; j++) {
                int d;
                if ((s = ydoc_string(&L->w, v->items[j], "a day")) == NULL)
                    continue;
                for (d = 0; d < 7 && strcasecmp(s, days[d]) != 0; d++)
                    ;
                if (d == 7)
                    ydoc_error(&L->w, v->items[j], "unknown day '%s' (sun, mon, ... sat)", s);
                else
                    win->days |= (uint8_t)(1u << d);
            }
        } else if (strcmp(k, "start") == 0) {
            start = v;
        } else if (strcmp(k, "end") == 0) {
            end = v;
        } else if (strcmp(k, "sources") == 0) {
            config_parse_hostset(L->c, &L->w, v, "sources", &win->sources);
        } else if (strcmp(k, "targets") == 0) {
            config_parse_hostset(L->c, &L->w, v, "targets", &win->targets);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in a maintenance window (name, ticket, days, start, "
                       "end, sources, targets)",
                       k);
        }
    }
    if (win->name[0] == '\0' && win->ticket[0] == '\0')
        ydoc_error(&L->w, n, "a maintenance window needs a name or a ticket");
    if (win->name[0] == '\0')
        strcpy(win->name, win->ticket);
    if (start == NULL || end == NULL) {
        ydoc_error(&L->w, n, "a maintenance window needs start and end");
        return;
    }
    if (ydoc_string(&L->w, start, "start") == NULL || ydoc_string(&L->w, end, "end") == NULL)
        return;
    if (win->days != 0) {
        if (parse_hhmm(start->str, &win->start_min) != 0)
            ydoc_error(&L->w, start, "start of a weekly window must be HH:MM, not '%s'",
                       start->str);
        if (parse_hhmm(end->str, &win->end_min) != 0)
            ydoc_error(&L->w, end, "end of a weekly window must be HH:MM, not '%s'", end->str);
        return;
    }
    if (parse_datetime(L->c->tz, start->str, &win->from_s) != 0)
        ydoc_error(&L->w, start,
                   "start of a one-off window must be YYYY-MM-DDTHH:MM (or give days for a "
                   "weekly one), not '%s'",
                   start->str);
    else if (parse_datetime(L->c->tz, end->str, &win->until_s) != 0)
        ydoc_error(&L->w, end, "end of a one-off window must be YYYY-MM-DDTHH:MM, not '%s'",
                   end->str);
    else if (win->until_s <= win->from_s)
        ydoc_error(&L->w, end, "window ends before it starts");
    if (win->ticket[0] == '\0')
        ydoc_error(&L->w, n, "a one-off window needs the ticket that approved it");
}

static void parse_maintenance(struct loader *L, const struct ynode *n)
{
    const struct ynode *windows = NULL, *tzn = NULL;
    const char *tz_name = DEFAULT_TIMEZONE;
    size_t i;

    if (n != NULL) {
        if (!ydoc_want(&L->w, n, YN_MAP, "maintenance"))
            return;
        for (i = 0; i < n->n; i++) {
            const char *k = ydoc_key(&L->w, n, i);
            if (k == NULL)
                continue;
            if (strcmp(k, "timezone") == 0)
                tzn = YDOC_VAL(n, i);
            else if (strcmp(k, "windows") == 0)
                windows = YDOC_VAL(n, i);
            else
                ydoc_error(&L->w, YDOC_KEY(n, i),
                           "unknown key 'maintenance.%s' (timezone, windows)", k);
        }
    }
    if (tzn != NULL && (tz_name = ydoc_string(&L->w, tzn, "maintenance.timezone")) == NULL)
        return;
    switch (tz_load(tz_name, &L->c->tz)) {
    case 0:
        break;
    case MM_ENOMEM:
        ydoc_error(&L->w, tzn, "out of memory");
        return;
    default:
        if (tzn == NULL) /* the system lacks tzdata: Japan has had no DST since 1951 */
            tz_load("+09:00", &L->c->tz);
        else
            ydoc_error(&L->w, tzn,
                       "unknown time zone '%s' (an Area/City of tzdata, UTC, or +HH:MM)", tz_name);
        if (L->c->tz == NULL)
            return;
    }
    if (windows == NULL || !ydoc_want(&L->w, windows, YN_LIST, "maintenance.windows"))
        return;
    if ((L->c->windows = calloc(windows->n + 1, sizeof(*L->c->windows))) == NULL) {
        ydoc_error(&L->w, windows, "out of memory");
        return;
    }
    for (i = 0; i < windows->n; i++)
        if (ydoc_want(&L->w, windows->items[i], YN_MAP, "a maintenance window"))
            parse_window(L, windows->items[i], &L->c->windows[L->c->nwindows++]);
}

static void parse_suppress(struct loader *L, const struct ynode *n)
{
    size_t i, j;

    if (!ydoc_want(&L->w, n, YN_LIST, "suppress"))
        return;
    if ((L->c->suppress = calloc(n->n + 1, sizeof(*L->c->suppress))) == NULL) {
        ydoc_error(&L->w, n, "out of memory");
        return;
    }
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        struct config_suppress *s;
        uint32_t port;
        if (!ydoc_want(&L->w, e, YN_MAP, "a suppression"))
            continue;
        s = &L->c->suppress[L->c->nsuppress++];
        s->line = e->line;
        s->col = e->col;
        for (j = 0; j < e->n; j++) {
            const char *k = ydoc_key(&L->w, e, j), *v;
            const struct ynode *vn = YDOC_VAL(e, j);
            if (k == NULL)
                continue;
            if (strcmp(k, "rule") == 0) {
                if ((v = ydoc_string(&L->w, vn, "suppress rule")) == NULL)
                    continue;
                if (*v == '\0' || strlen(v) >= sizeof(s->rule))
                    ydoc_error(&L->w, vn, "suppress rule must be a rule key");
                else
                    strcpy(s->rule, v);
                s->line = vn->line;
                s->col = vn->col;
            } else if (strcmp(k, "source") == 0) {
                config_parse_hostset(L->c, &L->w, vn, "suppress source", &s->src);
            } else if (strcmp(k, "destination") == 0) {
                config_parse_hostset(L->c, &L->w, vn, "suppress destination", &s->dst);
            } else if (strcmp(k, "port") == 0) {
                if (ydoc_uint(&L->w, vn, "suppress port", 1, 65535, &port))
                    s->port = (uint16_t)port;
            } else if (strcmp(k, "reason") == 0) {
                ydoc_string(&L->w, vn, "suppress reason");
            } else {
                ydoc_error(&L->w, YDOC_KEY(e, j),
                           "unknown key '%s' in a suppression (rule, source, destination, port, "
                           "reason)",
                           k);
            }
        }
        if (s->rule[0] == '\0')
            ydoc_error(&L->w, e, "a suppression needs the rule it silences");
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
        config_parse_hostset(L->c, &L->w, YDOC_VAL(n, i), what, &e->hosts);
    }
}

static void parse_medical(struct loader *L, const struct ynode *n)
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

static void parse_root(struct loader *L, const struct ynode *root)
{
    size_t i;

    if (root == NULL)
        return; /* an empty file: all defaults */
    if (!ydoc_want(&L->w, root, YN_MAP, "the configuration"))
        return;
    for (i = 0; i < root->n; i++) {
        const char *k = ydoc_key(&L->w, root, i);
        const struct ynode *v = YDOC_VAL(root, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "sensor") == 0)
            parse_sensor(L, v);
        else if (strcmp(k, "home_networks") == 0) {
            L->have_home = 1;
            parse_networks(L, v, L->c->home, ZONE_UNZONED, "home_networks");
        } else if (strcmp(k, "zones") == 0)
            parse_zones(L, v);
        else if (strcmp(k, "services") == 0)
            parse_services(L, v);
        else if (strcmp(k, "rules") == 0)
            parse_rules(L, v);
        else if (strcmp(k, "outputs") == 0)
            parse_outputs(L, v);
        else if (strcmp(k, "delivery") == 0)
            parse_delivery(L, v);
        else if (strcmp(k, "flow") == 0)
            parse_flow(L, v);
        else if (strcmp(k, "maintenance") == 0)
            L->maintenance = v;
        else if (strcmp(k, "suppress") == 0)
            L->suppress = v;
        else if (strcmp(k, "medical") == 0)
            L->medical = v;
        else if (strcmp(k, "response") == 0)
            L->response = v;
        else
            ydoc_error(&L->w, YDOC_KEY(root, i), "unknown key '%s'", k);
    }
}

/* Register the contract's standard zone names that the file did not configure. */
static void add_standard_zones(struct mm_config *c)
{
    size_t i;

    for (i = 0; i < sizeof(standard_zones) / sizeof(standard_zones[0]); i++)
        if (config_zone_index(c, standard_zones[i]) < 0 && c->nzones < MM_MAX_ZONES)
            strcpy(c->zone_names[c->nzones++], standard_zones[i]);
}

/* --- rules ---------------------------------------------------------------------------------- */

/* A message about rules entry i, at its place in the file (the built-in default has none). */
static void rules_entry_error(struct loader *L, unsigned i, const char *what)
{
    unsigned line = 1, col = 1;

    if (L->rules_at != NULL && L->rules_at[i][0] > 0) {
        line = L->rules_at[i][0];
        col = L->rules_at[i][1];
    }
    ydoc_diag_line(L->w.diag, "%s:%u:%u: %s '%s'", L->w.file, line, col, what, L->c->rules[i]);
}

static int regular_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void load_rules(struct loader *L)
{
    struct mm_config *c = L->c;
    const char **files = NULL;
    size_t nfiles = 0, cap = 0, k;
    glob_t *globs;
    unsigned i, found;
    int embedded = 0;

    if ((globs = calloc(c->nrules + 1, sizeof(glob_t))) == NULL) {
        ydoc_diag_line(L->w.diag, "%s:1:1: out of memory", L->w.file);
        return;
    }
    for (i = 0; i < c->nrules; i++) {
        int r = glob(c->rules[i], 0, NULL, &globs[i]);
        if (r == GLOB_NOMATCH && strcmp(c->rules[i], MM_RULES_GLOB) == 0 && c->nrules == 1) {
            embedded = 1; /* not installed: the ruleset built into the binary */
            continue;
        }
        if (r != 0) {
            rules_entry_error(L, i, "no rule files match");
            continue;
        }
        for (k = 0, found = 0; k < globs[i].gl_pathc; k++) {
            if (!regular_file(globs[i].gl_pathv[k]))
                continue; /* a directory the pattern also matches, say */
            found++;
            if (nfiles == cap) {
                const char **f = realloc(files, (cap = cap ? cap * 2 : 16) * sizeof(*f));
                if (f == NULL)
                    goto out;
                files = f;
            }
            files[nfiles++] = globs[i].gl_pathv[k];
        }
        if (found == 0)
            rules_entry_error(L, i, "no rule files (regular files) match");
    }
    if (L->w.diag->count == 0) {
        if (embedded)
            rules_load_embedded(c, &c->ruleset, L->w.diag);
        else
            rules_load_files(c, files, nfiles, &c->ruleset, L->w.diag);
    }
out:
    for (i = 0; i < c->nrules; i++)
        if (globs[i].gl_pathv != NULL)
            globfree(&globs[i]);
    free(globs);
    free(files);
}

static void check_suppressions(struct loader *L)
{
    unsigned i;

    for (i = 0; i < L->c->nsuppress; i++) {
        const struct config_suppress *s = &L->c->suppress[i];
        if (s->rule[0] != '\0' && rules_find(L->c->ruleset, s->rule) == NULL)
            ydoc_diag_line(L->w.diag, "%s:%u:%u: suppress names unknown rule '%s'", L->w.file,
                           s->line, s->col, s->rule);
    }
}

/* --- response ------------------------------------------------------------------------------ */

static int action_of(struct loader *L, const struct ynode *v, uint8_t *out)
{
    const char *s = ydoc_string(&L->w, v, "a response action");

    if (s == NULL)
        return 0;
    if (strcmp(s, "alert") == 0)
        *out = RESP_ALERT;
    else if (strcmp(s, "reset") == 0)
        *out = RESP_RESET;
    else if (strcmp(s, "block") == 0)
        *out = RESP_BLOCK;
    else {
        ydoc_error(&L->w, v, "response action must be alert, reset or block, not '%s'", s);
        return 0;
    }
    return 1;
}

static void parse_response_block(struct loader *L, const struct ynode *n)
{
    struct config_response *r = &L->c->response;
    size_t i, j;

    if (!ydoc_want(&L->w, n, YN_MAP, "response.block"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i), *s;
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "durations") == 0) {
            if (!ydoc_want(&L->w, v, YN_LIST, "response.block.durations"))
                continue;
            if (v->n == 0 || v->n > MM_MAX_BLOCK_STEPS) {
                ydoc_error(&L->w, v, "response.block.durations lists 1 to %d durations",
                           MM_MAX_BLOCK_STEPS);
                continue;
            }
            r->nblock_s = 0;
            for (j = 0; j < v->n; j++)
                if (ydoc_duration(&L->w, v->items[j], "a block duration", &r->block_s[r->nblock_s]))
                    r->nblock_s++;
        } else if (strcmp(k, "file") == 0 || strcmp(k, "command") == 0) {
            char **dst = k[0] == 'f' ? &r->block_file : &r->block_command;
            if ((s = ydoc_string(&L->w, v,
                                 k[0] == 'f' ? "response.block.file" : "response.block.command")) ==
                NULL)
                continue;
            if (s[0] != '/')
                ydoc_error(&L->w, v, "response.block.%s must be an absolute path", k);
            free(*dst);
            *dst = dup_or_oom(L, v, s);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in response.block (durations, file, command)", k);
        }
    }
}

/*
 * response: (after the rules, whose keys response.actions may name). Defaults: dry run, the
 * medical_devices and emr zones protected, 30 responses a minute, blocks of 10 min, 1 h, 24 h.
 */
static void parse_response(struct loader *L, const struct ynode *n)
{
    struct config_response *r = &L->c->response;
    size_t i, j;

    r->max_per_minute = 30;
    r->block_s[0] = 600, r->block_s[1] = 3600, r->block_s[2] = 86400;
    r->nblock_s = 3;
    r->protect.zones = (zone_set)1 << config_zone_index(L->c, "medical_devices") |
                       (zone_set)1 << config_zone_index(L->c, "emr");
    if (n == NULL || !ydoc_want(&L->w, n, YN_MAP, "response"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i), *s;
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "mode") == 0) {
            if ((s = ydoc_string(&L->w, v, "response.mode")) == NULL)
                continue;
            if (strcmp(s, "enforce") == 0)
                r->enforce = 1;
            else if (strcmp(s, "dry_run") == 0)
                r->enforce = 0;
            else
                ydoc_error(&L->w, v, "response.mode must be dry_run or enforce, not '%s'", s);
        } else if (strcmp(k, "interface") == 0) {
            if ((s = ydoc_string(&L->w, v, "response.interface")) != NULL) {
                free(r->interface);
                r->interface = dup_or_oom(L, v, s);
            }
        } else if (strcmp(k, "protected") == 0) {
            r->protect.zones = 0;
            config_parse_hostset(L->c, &L->w, v, "response.protected", &r->protect);
        } else if (strcmp(k, "max_per_minute") == 0) {
            ydoc_uint(&L->w, v, "response.max_per_minute", 1, 100000, &r->max_per_minute);
        } else if (strcmp(k, "actions") == 0) {
            if (!ydoc_want(&L->w, v, YN_MAP, "response.actions"))
                continue;
            free(r->actions);
            r->nactions = 0;
            if ((r->actions = calloc(v->n + 1, sizeof(*r->actions))) == NULL) {
                ydoc_error(&L->w, v, "out of memory");
                continue;
            }
            for (j = 0; j < v->n; j++) {
                const char *name = ydoc_key(&L->w, v, j);
                struct config_response_action *a = &r->actions[r->nactions];
                if (name == NULL)
                    continue;
                if (strlen(name) >= sizeof(a->name)) {
                    ydoc_error(&L->w, YDOC_KEY(v, j), "response.actions: name too long");
                    continue;
                }
                if (!action_of(L, YDOC_VAL(v, j), &a->action))
                    continue;
                strcpy(a->name, name);
                a->line = YDOC_KEY(v, j)->line; /* checked against the rules once loaded */
                a->col = YDOC_KEY(v, j)->col;
                r->nactions++;
            }
        } else if (strcmp(k, "block") == 0) {
            parse_response_block(L, v);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in response (mode, interface, protected, "
                       "max_per_minute, actions, block)",
                       k);
        }
    }
}

/* Each response.actions name must be a category or a rule key of the loaded ruleset. */
static void check_response_actions(struct loader *L)
{
    const struct config_response *r = &L->c->response;
    unsigned i, c;

    for (i = 0; i < r->nactions; i++) {
        const struct config_response_action *a = &r->actions[i];
        for (c = 0; c < CAT__COUNT && strcmp(rules_category_name(c), a->name) != 0; c++)
            ;
        if (c == CAT__COUNT && rules_find(L->c->ruleset, a->name) == NULL)
            ydoc_diag_line(L->w.diag,
                           "%s:%u:%u: response.actions: '%s' is neither a rule key nor a category",
                           L->w.file, a->line, a->col, a->name);
    }
}

/* --- entry points ------------------------------------------------------------------------- */

static struct mm_config *config_new(const char *name)
{
    struct mm_config *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->source = strdup(name);
    c->nzones = 2;
    strcpy(c->zone_names[ZONE_INTERNET], "internet");
    strcpy(c->zone_names[ZONE_UNZONED], "unzoned");
    if (gethostname(c->sensor_name, sizeof(c->sensor_name)) != 0 || c->sensor_name[0] == '\0')
        strcpy(c->sensor_name, "mimamori");
    c->sensor_name[sizeof(c->sensor_name) - 1] = '\0';
    flow_table_config_default(&c->flow);
    c->live.snaplen = MM_SNAPLEN;
    c->workers = 1;
    c->live.promisc = 1;
    c->live.buffer_size = MM_RING_BYTES;
    c->user = strdup(MM_DEFAULT_USER);
    c->delivery.queue_events = MM_OUTPUT_QUEUE;
    c->delivery.spool_dir = strdup(MM_SPOOL_DIR);
    c->delivery.spool_max = MM_SPOOL_MAX;
    c->delivery.drain_s = MM_DRAIN_S;
    c->delivery.timeout_ms = MM_SYSLOG_TIMEOUT_MS;
    if (c->source == NULL || c->delivery.spool_dir == NULL || c->user == NULL ||
        zone_map_create(&c->zones) != 0 || zone_map_create(&c->home) != 0) {
        config_free(c);
        return NULL;
    }
    return c;
}

/* Build a snapshot from a parsed document; takes ownership of doc. */
static int config_from_doc(const char *name, struct ydoc *doc, struct mm_config **out,
                           struct config_diag *diag)
{
    struct loader L = {.w = {.file = name, .diag = diag}};
    size_t i;

    if ((L.c = config_new(name)) == NULL) {
        ydoc_free(doc);
        return MM_ENOMEM;
    }
    parse_root(&L, ydoc_root(doc));
    add_standard_zones(L.c);
    parse_maintenance(&L, L.maintenance);
    if (L.suppress != NULL)
        parse_suppress(&L, L.suppress);
    if (L.medical != NULL)
        parse_medical(&L, L.medical);
    parse_response(&L, L.response);
    L.c->live.bpf = L.c->bpf;
    L.c->live.responding = L.c->response.enforce;
    ydoc_free(doc);

    for (i = 0; !L.have_home && i < sizeof(default_home) / sizeof(default_home[0]); i++) {
        uint8_t addr[16];
        unsigned plen;
        const char *why;
        zone_parse_cidr(default_home[i], addr, &plen, &why);
        zone_map_add(L.c->home, addr, plen, ZONE_UNZONED);
    }
    if (L.c->nrules == 0 && diag->count == 0) {
        free(L.c->rules); /* an empty list's */
        L.c->rules = calloc(2, sizeof(char *));
        if (L.c->rules == NULL || (L.c->rules[0] = strdup(MM_RULES_GLOB)) == NULL) {
            free(L.rules_at);
            config_free(L.c);
            return MM_ENOMEM;
        }
        L.c->nrules = 1;
        if (L.rules_at != NULL)
            L.rules_at[0][0] = 0; /* the built-in default: no place in the file */
    }
    if (diag->count == 0)
        load_rules(&L);
    free(L.rules_at);
    if (diag->count == 0)
        check_suppressions(&L);
    if (diag->count == 0)
        check_response_actions(&L);
    if (diag->count == 0)
        warn_near_standard(&L);
    if (diag->count > 0) {
        config_free(L.c);
        return MM_ECONFIG;
    }
    *out = L.c;
    return 0;
}

int config_load_string(const char *name, const char *text, size_t len, struct mm_config **out,
                       struct config_diag *diag)
{
    struct ydoc *doc;
    int r;

    *out = NULL;
    diag->count = 0;
    if ((r = ydoc_parse(name, text, len, &doc, diag)) != 0)
        return r;
    return config_from_doc(name, doc, out, diag);
}

int config_load_file(const char *path, struct mm_config **out, struct config_diag *diag)
{
    struct ydoc *doc;
    int r;

    *out = NULL;
    diag->count = 0;
    if ((r = ydoc_parse_file(path, &doc, diag)) != 0)
        return r;
    return config_from_doc(path, doc, out, diag);
}

int config_load_default(struct mm_config **out, struct config_diag *diag)
{
    return config_load_string("(embedded default)", config_default_yaml,
                              sizeof(config_default_yaml) - 1, out, diag);
}

void config_hostset_free(struct config_hostset *set)
{
    zone_map_destroy(set->nets);
    set->nets = NULL;
}

void config_free(struct mm_config *c)
{
    unsigned i, j;

    if (c == NULL)
        return;
    rules_free(c->ruleset);
    free(c->source);
    for (i = 0; i < c->ninterfaces; i++)
        free(c->interfaces[i]);
    zone_map_destroy(c->zones);
    zone_map_destroy(c->home);
    for (i = 0; i < MM_MAX_ZONES; i++) {
        if (c->egress[i] == NULL)
            continue;
        zone_map_destroy(c->egress[i]->nets);
        for (j = 0; j < c->egress[i]->ndomains; j++)
            free(c->egress[i]->domains[j]);
        free(c->egress[i]->domains);
        free(c->egress[i]);
    }
    for (i = 0; i < SVC__COUNT; i++)
        free(c->services[i].addr);
    tz_free(c->tz);
    for (i = 0; i < c->nwindows; i++) {
        config_hostset_free(&c->windows[i].sources);
        config_hostset_free(&c->windows[i].targets);
    }
    free(c->windows);
    for (i = 0; i < c->nsuppress; i++) {
        config_hostset_free(&c->suppress[i].src);
        config_hostset_free(&c->suppress[i].dst);
    }
    free(c->suppress);
    for (i = 0; i < c->ndicom_aes; i++)
        config_hostset_free(&c->dicom_aes[i].hosts);
    free(c->dicom_aes);
    for (i = 0; i < c->nhl7_apps; i++)
        config_hostset_free(&c->hl7_apps[i].hosts);
    free(c->hl7_apps);
    config_hostset_free(&c->response.protect);
    free(c->response.actions);
    free(c->response.interface);
    free(c->response.block_file);
    free(c->response.block_command);
    for (i = 0; i < c->nrules; i++)
        free(c->rules[i]);
    free(c->rules);
    for (i = 0; i < c->noutputs; i++) {
        free(c->outputs[i].path);
        free(c->outputs[i].transport);
        free(c->outputs[i].address);
        free(c->outputs[i].ca);
        free(c->outputs[i].cert);
        free(c->outputs[i].key);
        free(c->outputs[i].server_name);
    }
    free(c->delivery.spool_dir);
    free(c->bpf);
    free(c->user);
    free(c->group);
    free(c->outputs);
    free(c);
}

/* --- queries -------------------------------------------------------------------------------- */

int config_zone_of(const struct mm_config *c, const uint8_t addr[16])
{
    int z = zone_map_lookup(c->zones, addr);

    if (z >= 0)
        return z;
    return zone_map_lookup(c->home, addr) >= 0 ? ZONE_UNZONED : ZONE_INTERNET;
}

const char *config_zone_name(const struct mm_config *c, int zone)
{
    return zone >= 0 && (unsigned)zone < c->nzones ? c->zone_names[zone] : "unknown";
}

int config_zone_index(const struct mm_config *c, const char *name)
{
    unsigned i;

    for (i = 0; i < c->nzones; i++)
        if (strcmp(c->zone_names[i], name) == 0)
            return (int)i;
    return -1;
}

int config_parse_hostset(const struct mm_config *c, struct ywalk *w, const struct ynode *n,
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

void config_parse_protocols(struct ywalk *w, const struct ynode *n, const char *what,
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

int config_hostset_has(const struct config_hostset *set, const uint8_t addr[16], int zone)
{
    if (set->zones == 0 && set->nets == NULL)
        return 1;
    if (zone >= 0 && (set->zones & ZONE_BIT(zone)))
        return 1;
    return set->nets != NULL && zone_map_lookup(set->nets, addr) >= 0;
}

const struct config_named_hosts *config_named_find(const struct config_named_hosts *list,
                                                   unsigned n, const char *name)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

int config_is_service(const struct mm_config *c, enum config_service svc, const uint8_t addr[16])
{
    unsigned i;

    for (i = 0; i < c->services[svc].n; i++)
        if (memcmp(c->services[svc].addr[i], addr, 16) == 0)
            return 1;
    return 0;
}

int config_domain_match(const char *pattern, const char *name)
{
    size_t pl, nl = strlen(name);

    if (nl > 0 && name[nl - 1] == '.')
        nl--;
    if (strncmp(pattern, "*.", 2) == 0) {
        size_t esc = 0;
        pattern += 1; /* ".example": name must end with it and be longer */
        pl = strlen(pattern);
        if (nl <= pl || strncasecmp(name + nl - pl, pattern, pl) != 0)
            return 0;
        /* ... at a label boundary: not a dot a DNS name escaped inside its label ("a\.example") */
        while (esc < nl - pl && name[nl - pl - 1 - esc] == '\\')
            esc++;
        return esc % 2 == 0;
    }
    pl = strlen(pattern);
    return nl == pl && strncasecmp(name, pattern, pl) == 0;
}

int config_check_paths(const struct mm_config *c, struct config_diag *diag)
{
    unsigned i, before = diag->count;

    for (i = 0; i < c->noutputs; i++) {
        const struct config_output *o = &c->outputs[i];
        char dir[4096];
        const char *slash;
        struct stat st;
        int e;
        if (o->type != OUTPUT_FILE || o->path == NULL || (slash = strrchr(o->path, '/')) == NULL)
            continue;
        snprintf(dir, sizeof(dir), "%.*s", slash == o->path ? 1 : (int)(slash - o->path), o->path);
        e = stat(dir, &st) != 0 ? errno : 0;
        if (e != 0 || !S_ISDIR(st.st_mode))
            ydoc_diag_line(diag,
                           "%s:%u:%u: output directory %s: %s: make it first (the sensor "
                           "does not)",
                           c->source, o->line, o->col, dir,
                           e == ENOENT ? "does not exist"
                           : e         ? strerror(e)
                                       : "not a directory");
    }
    return diag->count > before ? MM_ECONFIG : 0;
}
