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
#include "mimamori/intel.h"
#include "mimamori/ledger.h"
#include "mimamori/error.h"
#include "mimamori/rules.h"
#include "mimamori/syslog.h"
#include "mimamori/tz.h"
#include "mimamori/zone.h"

#include "config/config_int.h"

const char config_default_yaml[] =
    "# Embedded default: used when neither -c nor " MM_SYSCONF_FILE " is there.\n"
    "home_networks: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7]\n";

static const char *const default_home[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                           "fc00::/7"};

/* strdup, or an "out of memory" diagnostic at n. */
char *config__dup(struct loader *L, const struct ynode *n, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        ydoc_error(&L->w, n, "out of memory");
    return d;
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
            config__parse_sensor(L, v);
        else if (strcmp(k, "home_networks") == 0) {
            L->have_home = 1;
            config__parse_networks(L, v, L->c->home, ZONE_UNZONED, "home_networks");
        } else if (strcmp(k, "zones") == 0)
            config__parse_zones(L, v);
        else if (strcmp(k, "services") == 0)
            config__parse_services(L, v);
        else if (strcmp(k, "local_domains") == 0)
            config__parse_domains(L, v, "local_domains", &L->c->local_domains,
                                  &L->c->nlocal_domains);
        else if (strcmp(k, "rules") == 0)
            config__parse_rules(L, v);
        else if (strcmp(k, "outputs") == 0)
            config__parse_outputs(L, v);
        else if (strcmp(k, "delivery") == 0)
            config__parse_delivery(L, v);
        else if (strcmp(k, "flow") == 0)
            config__parse_flow(L, v);
        else if (strcmp(k, "inventory") == 0)
            config__parse_inventory(L, v);
        else if (strcmp(k, "learning") == 0)
            config__parse_learning(L, v);
        else if (strcmp(k, "intel") == 0)
            config__parse_intel(L, v);
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
        int r = embedded ? rules_load_embedded(c, &c->ruleset, L->w.diag)
                         : rules_load_files(c, files, nfiles, &c->ruleset, L->w.diag);
        /* A refused rule file has said why; out of memory has not, and must not pass for a
         * site without rules. */
        if (r == MM_ENOMEM)
            ydoc_diag_line(L->w.diag, "%s: out of memory loading the rules", L->w.file);
    }
out:
    for (i = 0; i < c->nrules; i++)
        if (globs[i].gl_pathv != NULL)
            globfree(&globs[i]);
    free(globs);
    free(files);
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
    config__add_standard_zones(L.c);
    config__parse_maintenance(&L, L.maintenance);
    if (L.suppress != NULL)
        config__parse_suppress(&L, L.suppress);
    if (L.medical != NULL)
        config__parse_medical(&L, L.medical);
    config__parse_response(&L, L.response);
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
    if (diag->count == 0 && L.c->inventory.ledger_path != NULL &&
        ledger_load(L.c->inventory.ledger_path, L.c, &L.c->inventory.ledger, diag) == MM_ENOMEM)
        ydoc_diag_line(diag, "%s: out of memory loading the ledger", L.w.file);
    free(L.rules_at);
    if (diag->count == 0)
        config__check_suppressions(&L);
    if (diag->count == 0)
        config__check_response_actions(&L);
    if (diag->count == 0)
        config__warn_near_standard(&L);
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
    for (i = 0; i < MM_MAX_ZONES; i++)
        free(c->zone_desc[i]);
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
    for (i = 0; i < c->nlocal_domains; i++)
        free(c->local_domains[i]);
    free(c->local_domains);
    tz_free(c->tz);
    for (i = 0; i < c->nwindows; i++) {
        config_hostset_free(&c->windows[i].sources);
        config_hostset_free(&c->windows[i].targets);
    }
    free(c->windows);
    for (i = 0; i < c->nsuppress; i++) {
        free(c->suppress[i].reason);
        config_hostset_free(&c->suppress[i].src);
        config_hostset_free(&c->suppress[i].dst);
    }
    free(c->suppress);
    for (i = 0; i < c->nfeeds; i++) {
        free(c->feeds[i].name);
        free(c->feeds[i].path);
    }
    free(c->feeds);
    intel_destroy(c->intel);
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
    free(c->inventory.state);
    free(c->inventory.ledger_path);
    ledger_free(c->inventory.ledger);
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
    return MM_ENOTFOUND;
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

const char *const config_service_keys[SVC__COUNT] = {
#define X(id, key, proto, port) key,
    CONFIG_SERVICES_X(X)
#undef X
};

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

int config_is_local_name(const struct mm_config *c, const char *name)
{
    unsigned i;

    for (i = 0; name != NULL && i < c->nlocal_domains; i++)
        if (config_domain_match(c->local_domains[i], name))
            return 1;
    return 0;
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
