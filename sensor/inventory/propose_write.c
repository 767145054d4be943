/*
 * The proposed site config as a YAML file a person reviews: the running config's sensor name,
 * home networks, zones (with their egress allowlists), services and suppressions kept, and what
 * the traffic adds, each line with a comment saying what it rests on (devices by name, flows,
 * services, first and last seen). Names from the network are written only where they are safe:
 * device names in comments with control bytes and broken UTF-8 replaced.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mimamori/classify.h"
#include "mimamori/eve.h"
#include "mimamori/rules.h"
#include "mimamori/zone.h"

#include "propose_int.h"

#define LIST_HOSTS 8 /* a suppression lists this many clients; more: their zones */

static const struct {
    const char *zone, *description;
} zone_text[] = {
    {"emr", "EMR (電子カルテ) servers"},
    {"departmental", "Departmental systems: PACS, laboratory, pharmacy, billing"},
    {"medical_devices", "Medical devices: modalities, monitors"},
    {"clinical", "EMR terminals"},
    {"office", "Internet-connected staff PCs"},
    {"infrastructure", "Directory, DNS, DHCP, NTP servers"},
    {"dmz", "Servers the internet reaches"},
    {"admin", "IT administration and jump hosts"},
    {"vendor_remote", "Vendor maintenance lines (保守回線)"},
    {"partner", "Regional network and contractors"},
    {"guest", "Guest Wi-Fi"},
};

struct out {
    FILE *fp;
    const struct proposal *p;
};

/* A name from the network as a comment may carry it: one line, valid UTF-8, at most 40 bytes. */
static const char *safe(const char *s, char *buf, size_t len)
{
    size_t i = 0, n, k;

    while (*s != '\0' && i + 5 < len && i < 40) {
        unsigned char c = (unsigned char)*s;
        n = c < 0x80             ? 1
            : (c & 0xe0) == 0xc0 ? 2
            : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4
                                 : 0;
        for (k = 1; k < n; k++)
            if (((unsigned char)s[k] & 0xc0) != 0x80)
                n = 0;
        if (n == 0 || c < 0x20 || c == 0x7f || (n == 2 && c < 0xc2)) {
            buf[i++] = '?';
            s++;
            continue;
        }
        memcpy(buf + i, s, n);
        i += n;
        s += n;
    }
    buf[i] = '\0';
    return buf;
}

/* A YAML single-quoted scalar (a quote doubled), then after. */
static void quoted(FILE *fp, const char *s, const char *after)
{
    fputc('\'', fp);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputc('\'', fp);
        fputc(*s, fp);
    }
    fputc('\'', fp);
    fputs(after, fp);
}

static const char *when(uint64_t us, char buf[40])
{
    eve_format_time(us, buf, 40);
    buf[16] = '\0'; /* to the minute: 2026-11-24T21:27 */
    return buf;
}

static const char *service(const struct edge *e, char *buf, size_t len)
{
    const char *name = classify_protocol_name(e->master ? e->master : e->app);

    snprintf(buf, len, "%s/%u%s%s",
             e->l4 == 6    ? "tcp"
             : e->l4 == 17 ? "udp"
                           : "ip",
             e->port, e->master || e->app ? " " : "", e->master || e->app ? name : "");
    return buf;
}

/* The device's name, quoted, for a comment ("" when it has none). */
static const char *dev_name(const struct proposal *p, const uint8_t ip[16], char *buf, size_t len)
{
    const struct pdev *d = propose__dev(p, ip);
    char s[48];

    buf[0] = '\0';
    if (d != NULL && d->d != NULL && inventory__name(d->d)[0] != '\0')
        snprintf(buf, len, " \"%s\"", safe(inventory__name(d->d), s, sizeof(s)));
    return buf;
}

/* --- evidence of a group of needs ---------------------------------------------------------- */

struct group {
    size_t from, to; /* needs [from, to) */
    uint32_t flows, clients;
    uint64_t first_us, last_us;
    uint8_t review, unanswered;
};

static void group_sum(const struct proposal *p, struct group *g)
{
    size_t i;

    g->flows = g->clients = 0;
    g->first_us = UINT64_MAX;
    g->last_us = 0;
    g->review = 0;
    g->unanswered = 1;
    for (i = g->from; i < g->to; i++) {
        const struct edge *e = &p->edge[p->need[i].edge];
        g->flows += e->flows;
        if (i == g->from || memcmp(e->cli, p->edge[p->need[i - 1].edge].cli, 16) != 0)
            g->clients++;
        g->first_us = e->first_us < g->first_us ? e->first_us : g->first_us;
        g->last_us = e->last_us > g->last_us ? e->last_us : g->last_us;
        g->review |= p->need[i].review;
        g->unanswered &= !e->answered;
    }
}

/* Why a group is marked for review: the rule its suppression is for says. */
static const char *review_text(const struct proposal *p, const struct group *g)
{
    const struct need *n = &p->need[g->from];

    if (!g->review)
        return "";
    if (n->kind == NEED_SUPPRESS && p->cfg->ruleset->r[n->rule].type == RULE_DNS_RESOLVER)
        return "; REVIEW: a resolver the site did not approve";
    if (n->kind == NEED_SUPPRESS && !rules_match_empty(&p->cfg->ruleset->r[n->rule].match))
        return "; REVIEW: a tunnel or remote-access application";
    return "; REVIEW: from a device no zone holds";
}

static void evidence(struct out *o, const struct group *g, const char *indent)
{
    const struct edge *e = &o->p->edge[o->p->need[g->from].edge];
    char a[46], n[64], s[64], t1[40], t2[40];

    fprintf(o->fp, "%s# %u flow%s from %u device%s (%s%s%s), %s, %s to %s%s%s\n", indent, g->flows,
            g->flows == 1 ? "" : "s", g->clients, g->clients == 1 ? "" : "s",
            zone_addr_str(e->cli, a, sizeof(a)), dev_name(o->p, e->cli, n, sizeof(n)),
            g->clients > 1 ? ", ..." : "", service(e, s, sizeof(s)), when(g->first_us, t1),
            when(g->last_us, t2), g->unanswered ? ", never answered" : "", review_text(o->p, g));
}

/* The needs from i on of the same group: kind, zone or rule, destination (and port). */
static size_t group_end(const struct proposal *p, size_t i)
{
    const struct need *a = &p->need[i];
    const struct edge *ea = &p->edge[a->edge];
    size_t j;

    for (j = i + 1; j < p->nneed; j++) {
        const struct need *b = &p->need[j];
        const struct edge *eb = &p->edge[b->edge];
        if (b->kind != a->kind ||
            (a->kind == NEED_SUPPRESS ? b->rule != a->rule : b->zone != a->zone))
            break;
        if (a->kind == NEED_EGRESS_NAME ? strcasecmp(ea->name, eb->name) != 0
                                        : memcmp(ea->srv, eb->srv, 16) != 0)
            break;
        if (a->kind == NEED_SUPPRESS && ea->port != eb->port)
            break;
    }
    return j;
}

/* --- prefixes of the running config --------------------------------------------------------- */

struct pfx {
    uint8_t addr[16];
    unsigned plen;
    int value;
};

struct pfx_list {
    struct pfx *v;
    size_t n, cap;
    int oom;
};

static void pfx_add(void *ud, const uint8_t addr[16], unsigned plen, int value)
{
    struct pfx_list *l = ud;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct pfx *nv = realloc(l->v, cap * sizeof(*nv));
        if (nv == NULL) {
            l->oom = 1;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    memcpy(l->v[l->n].addr, addr, 16);
    l->v[l->n].plen = plen;
    l->v[l->n++].value = value;
}

static void collect(const struct zone_map *m, struct pfx_list *l)
{
    memset(l, 0, sizeof(*l));
    if (m != NULL)
        zone_map_each(m, pfx_add, l);
}

/* A map's prefixes (value == want, or any when want < 0) as block list items, commented. */
static unsigned write_items(struct out *o, const struct zone_map *m, int want, const char *note)
{
    struct pfx_list l;
    unsigned n = 0;
    char a[64];
    size_t i;

    collect(m, &l);
    for (i = 0; i < l.n; i++)
        if (want < 0 || l.v[i].value == want) {
            fprintf(o->fp, "      %s- %s  # %s\n", want < 0 ? "  " : "",
                    zone_cidr_str(l.v[i].addr, l.v[i].plen, a, sizeof(a)), note);
            n++;
        }
    free(l.v);
    return n;
}

/* A YAML flow list of a map's prefixes (value == want, or any when want < 0) and zones. */
static void write_hosts(struct out *o, const struct zone_map *m, int want, zone_set zones)
{
    struct pfx_list l;
    char a[64];
    size_t i;
    int z, first = 1;

    fputc('[', o->fp);
    for (z = 0; z < (int)o->p->cfg->nzones; z++)
        if (zones & ZONE_BIT(z)) {
            fprintf(o->fp, "%s%s", first ? "" : ", ", o->p->cfg->zone_names[z]);
            first = 0;
        }
    collect(m, &l);
    for (i = 0; i < l.n; i++)
        if (want < 0 || l.v[i].value == want) {
            fprintf(o->fp, "%s%s", first ? "" : ", ",
                    zone_cidr_str(l.v[i].addr, l.v[i].plen, a, sizeof(a)));
            first = 0;
        }
    fputc(']', o->fp);
    free(l.v);
}

/* --- sections --------------------------------------------------------------------------------- */

static void header(struct out *o)
{
    const struct proposal *p = o->p;
    char t1[40], t2[40];
    unsigned i;

    fprintf(o->fp,
            "# Site configuration proposed by mimamori from the traffic it saw\n"
            "# (%s to %s: %u devices inside home_networks, %u conversations%s).\n"
            "#\n"
            "# Nothing here is approved yet. Every line says what it rests on: check it with the\n"
            "# people who run the network, delete what should not happen, then\n"
            "#   mimamori -c THIS_FILE --test-config\n"
            "# On the traffic it came from it raises no segmentation or egress alert, because it\n"
            "# allows all of it; an unwanted connection left in here is allowed from then on.\n"
            "# Not carried from the running config: outputs, maintenance, medical, response,\n"
            "# inventory and flow settings (copy them over).\n\n",
            p->stats.first_us ? when(p->stats.first_us, t1) : "-",
            p->stats.last_us ? when(p->stats.last_us, t2) : "-", p->ndev, p->nedge,
            p->stats.dropped ? "; the table was full, some were not kept" : "");
    fputs("sensor:\n  name: ", o->fp);
    quoted(o->fp, p->cfg->sensor_name, "\n");
    fputs("home_networks: ", o->fp);
    write_hosts(o, p->cfg->home, -1, 0);
    fputs("\n", o->fp);
    for (i = 0; i < p->cfg->nlocal_domains; i++) {
        fputs(i ? ", " : "local_domains: [", o->fp);
        quoted(o->fp, p->cfg->local_domains[i], "");
    }
    fputs(p->cfg->nlocal_domains ? "]\n" : "", o->fp);
}

static const char *zone_description(const char *zone)
{
    size_t i;

    for (i = 0; i < sizeof(zone_text) / sizeof(zone_text[0]); i++)
        if (strcmp(zone_text[i].zone, zone) == 0)
            return zone_text[i].description;
    return NULL;
}

static void net_line(struct out *o, const struct pnet *n)
{
    const struct proposal *p = o->p;
    const struct pdev *d = &p->dev[n->first];
    uint32_t role[ROLE__COUNT] = {0}, i, none;
    char a[64], s[64];

    fprintf(o->fp, "      - %s", zone_cidr_str(n->addr, n->plen, a, sizeof(a)));
    if (n->plen == 128) {
        fprintf(o->fp, "  #%s %s; answered %u flow%s, opened %u\n",
                dev_name(p, d->ip, s, sizeof(s)), propose_roles[d->role].what, d->served,
                d->served == 1 ? "" : "s", d->opened);
        return;
    }
    for (i = n->first; i < n->first + n->count; i++)
        role[p->dev[i].zone == n->zone ? p->dev[i].role : ROLE_NONE]++;
    none = role[ROLE_NONE];
    fprintf(o->fp, "  # %u device%s seen", n->count, n->count == 1 ? "" : "s");
    for (i = ROLE_NONE + 1; i < ROLE__COUNT; i++)
        if (role[i] > 0)
            fprintf(o->fp, "; %s: %u", propose_roles[i].what, role[i]);
    if (none > 0)
        fprintf(o->fp, "; no role seen: %u", none);
    fputs("\n", o->fp);
}

/* The needs of one kind (and zone) as list entries, each after its evidence. */
static unsigned need_entries(struct out *o, enum need_kind kind, int zone)
{
    const struct proposal *p = o->p;
    struct group g;
    char a[64];
    unsigned n = 0;
    size_t i;

    for (i = 0; i < p->nneed; i = g.to) {
        const struct edge *e = &p->edge[p->need[i].edge];
        g.from = i;
        g.to = group_end(p, i);
        if (p->need[i].kind != kind || p->need[i].zone != zone)
            continue;
        group_sum(p, &g);
        evidence(o, &g, "        ");
        if (kind == NEED_EGRESS_NAME)
            fprintf(o->fp, "        - '%s'\n", e->name);
        else
            fprintf(o->fp, "        - %s\n", zone_cidr_str(e->srv, 128, a, sizeof(a)));
        n++;
    }
    return n;
}

static int has_need(const struct proposal *p, enum need_kind kind, int zone)
{
    size_t i;

    for (i = 0; i < p->nneed; i++)
        if (p->need[i].kind == kind && p->need[i].zone == zone)
            return 1;
    return 0;
}

static void egress(struct out *o, int z)
{
    const struct config_egress *eg = o->p->cfg->egress[z];
    unsigned i;

    struct pfx_list l;

    collect(eg != NULL ? eg->nets : NULL, &l);
    free(l.v);
    if (eg == NULL && !has_need(o->p, NEED_EGRESS_NET, z) && !has_need(o->p, NEED_EGRESS_NAME, z))
        return;
    fputs("    egress:\n", o->fp);
    if (l.n > 0 || has_need(o->p, NEED_EGRESS_NET, z)) {
        fputs("      networks:\n", o->fp);
        write_items(o, eg != NULL ? eg->nets : NULL, -1, "from the running config");
        need_entries(o, NEED_EGRESS_NET, z);
    }
    if ((eg != NULL && eg->ndomains > 0) || has_need(o->p, NEED_EGRESS_NAME, z)) {
        fputs("      domains:\n", o->fp);
        for (i = 0; eg != NULL && i < eg->ndomains; i++)
            fprintf(o->fp, "        - '%s'  # from the running config\n", eg->domains[i]);
        need_entries(o, NEED_EGRESS_NAME, z);
    }
    if (eg != NULL && eg->nprotocols > 0) {
        fputs("      protocols: [", o->fp);
        for (i = 0; i < eg->nprotocols; i++)
            fprintf(o->fp, "%s%s", i ? ", " : "", classify_protocol_name(eg->protocols[i]));
        fputs("]  # from the running config\n", o->fp);
    }
}

static int zone_has_nets(const struct proposal *p, const struct pfx_list *conf, int z)
{
    size_t i;

    for (i = 0; i < conf->n; i++)
        if (conf->v[i].value == z)
            return 1;
    for (i = 0; i < p->nnet; i++)
        if (p->net[i].zone == z)
            return 1;
    return 0;
}

static void zones(struct out *o)
{
    const struct proposal *p = o->p;
    struct pfx_list conf;
    unsigned z, any = 0;
    size_t i;

    collect(p->cfg->zones, &conf);
    for (z = ZONE_UNZONED + 1; z < p->cfg->nzones; z++) {
        const char *desc = p->cfg->zone_desc[z] != NULL ? p->cfg->zone_desc[z]
                                                        : zone_description(p->cfg->zone_names[z]);
        if (!zone_has_nets(p, &conf, (int)z))
            continue;
        fprintf(o->fp, "%s  %s:\n", any++ ? "" : "zones:\n", p->cfg->zone_names[z]);
        if (desc != NULL) {
            fputs("    description: ", o->fp);
            quoted(o->fp, desc, "\n");
        }
        fputs("    networks:\n", o->fp);
        write_items(o, p->cfg->zones, (int)z, "from the running config");
        for (i = 0; i < p->nnet; i++)
            if (p->net[i].zone == (int)z)
                net_line(o, &p->net[i]);
        egress(o, (int)z);
    }
    free(conf.v);
    if (any == 0)
        fputs("# zones: none proposed (no device was seen doing what a role needs)\n", o->fp);
}

static void services(struct out *o)
{
    const struct proposal *p = o->p;
    char a[64], n[64];
    unsigned s, i, any = 0;

    for (s = 0; s < SVC__COUNT; s++) {
        if (!p->services[s] && p->cfg->services[s].n == 0)
            continue;
        fprintf(o->fp, "%s  %s:\n", any++ ? "" : "services:\n", config_service_keys[s]);
        for (i = 0; i < p->cfg->services[s].n; i++)
            fprintf(o->fp, "    - %s  # from the running config\n",
                    zone_addr_str(p->cfg->services[s].addr[i], a, sizeof(a)));
        for (i = 0; p->services[s] && i < p->ndev; i++) {
            const struct pdev *d = &p->dev[i];
            if (!propose__is_service(p, (enum config_service)s, d->ip) ||
                config_is_service(p->cfg, (enum config_service)s, d->ip))
                continue;
            fprintf(o->fp, "    - %s  #%s answered %u flow%s from %u client%s\n",
                    zone_addr_str(d->ip, a, sizeof(a)), dev_name(p, d->ip, n, sizeof(n)), d->served,
                    d->served == 1 ? "" : "s", d->clients, d->clients == 1 ? "" : "s");
        }
    }
}

/* A suppression's sources: the clients, or their zones when there are many. */
static void sources(struct out *o, const struct group *g)
{
    const struct proposal *p = o->p;
    zone_set zones = 0;
    char a[64];
    size_t i;
    int first = 1;

    if (g->clients > LIST_HOSTS) {
        for (i = g->from; i < g->to; i++)
            zones |= ZONE_BIT(propose__zone_of(p, p->edge[p->need[i].edge].cli));
        write_hosts(o, NULL, -1, zones);
        return;
    }
    fputc('[', o->fp);
    for (i = g->from; i < g->to; i++) {
        const uint8_t *cli = p->edge[p->need[i].edge].cli;
        if (i > g->from && memcmp(cli, p->edge[p->need[i - 1].edge].cli, 16) == 0)
            continue;
        fprintf(o->fp, "%s%s", first ? "" : ", ", zone_addr_str(cli, a, sizeof(a)));
        first = 0;
    }
    fputc(']', o->fp);
}

static void suppressions(struct out *o)
{
    const struct proposal *p = o->p;
    const struct config_suppress *cs;
    struct group g;
    char a[64];
    unsigned any = 0;
    size_t i;

    for (i = 0; i < p->cfg->nsuppress; i++) {
        cs = &p->cfg->suppress[i];
        fprintf(o->fp, "%s  - rule: %s\n", any++ ? "" : "suppress:\n", cs->rule);
        if (cs->src.zones != 0 || cs->src.nets != NULL) {
            fputs("    source: ", o->fp);
            write_hosts(o, cs->src.nets, -1, cs->src.zones);
            fputs("\n", o->fp);
        }
        if (cs->dst.zones != 0 || cs->dst.nets != NULL) {
            fputs("    destination: ", o->fp);
            write_hosts(o, cs->dst.nets, -1, cs->dst.zones);
            fputs("\n", o->fp);
        }
        if (cs->port != 0)
            fprintf(o->fp, "    port: %u\n", cs->port);
        fprintf(o->fp, "    reason: 'from the running config (line %u)'\n", cs->line);
    }
    for (i = 0; i < p->nneed; i = g.to) {
        const struct edge *e = &p->edge[p->need[i].edge];
        g.from = i;
        g.to = group_end(p, i);
        if (p->need[i].kind != NEED_SUPPRESS)
            continue;
        group_sum(p, &g);
        fputs(any++ ? "" : "suppress:\n", o->fp);
        evidence(o, &g, "  ");
        fprintf(o->fp, "  - rule: %s\n    source: ", p->cfg->ruleset->r[p->need[i].rule].key);
        sources(o, &g);
        fprintf(o->fp, "\n    destination: [%s]\n", zone_addr_str(e->srv, a, sizeof(a)));
        if (e->port != 0)
            fprintf(o->fp, "    port: %u\n", e->port);
        fputs("    reason: 'seen while learning (proposed)'\n", o->fp);
    }
}

int propose__write(struct proposal *p, const char *path, char *err, size_t errlen)
{
    struct out o = {NULL, p};
    char tmp[4096];
    unsigned i;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((o.fp = fopen(tmp, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return MM_EIO;
    }
    header(&o);
    zones(&o);
    services(&o);
    suppressions(&o);
    if (p->cfg->nrules > 0 &&
        !(p->cfg->nrules == 1 && strcmp(p->cfg->rules[0], MM_RULES_GLOB) == 0))
        for (i = 0; i < p->cfg->nrules; i++) {
            fputs(i ? "  - " : "rules:\n  - ", o.fp);
            quoted(o.fp, p->cfg->rules[i], "\n");
        }
    if (ferror(o.fp) | (fclose(o.fp) != 0) || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return MM_EIO;
    }
    return 0;
}
