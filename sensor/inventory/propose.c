/*
 * The site config proposed from the baseline (--propose-config): roles and zones. Each internal
 * device gets the first role it shows (propose_int.h lists them in order): what it answered
 * (Kerberos or LDAP, DNS, DHCP, NTP: infrastructure; TCP from the internet: dmz), what it did
 * in DICOM (archived or answered queries: a PACS; stored images: a modality; only queried: a
 * viewer) and HL7 (sent admissions or orders: the EMR or HIS; results: a departmental
 * system), the web sites it used (three or more: office), and the EMR or departmental servers
 * it used without the internet (clinical). A /24 (IPv6: /64) takes the zone most of its
 * endpoints' roles point to, else that of its servers when they are most of it; a device whose
 * role says otherwise is listed alone. Devices the running config already zones keep their
 * zones. What the zones then need to stay quiet is propose_needs.c's, the file
 * propose_write.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/baseline.h"
#include "mimamori/classify.h"
#include "mimamori/zone.h"

#include "baseline_int.h"
#include "inventory_int.h"
#include "propose_int.h"

/* --- devices and their roles ---------------------------------------------------------------- */

const struct role_info propose_roles[ROLE__COUNT] = {
#define X(id, zone, what, host) {zone, what, host},
    PROPOSE_ROLES_X(X)
#undef X
};

static struct pdev *pdev_of(struct proposal *p, const uint8_t ip[16])
{
    uint32_t *s = inventory__slot(&p->tab, ip);

    if (*s == 0) {
        memset(&p->dev[p->ndev], 0, sizeof(p->dev[0]));
        memcpy(p->dev[p->ndev].ip, ip, 16);
        p->dev[p->ndev].zone = -1;
        *s = ++p->ndev;
    }
    return &p->dev[*s - 1];
}

int propose__is_proto(const struct edge *e, int id)
{
    return id > 0 && (e->master == id || e->app == id);
}

/* Kerberos or LDAP answered: a domain controller, as far as a sensor can tell. */
static enum propose_role server_role(const struct proposal *p, const struct edge *e)
{
    if (e->port == 88 || (e->port == 389 && e->l4 == 6))
        return ROLE_DC;
    if (e->port == 53 || propose__is_proto(e, p->proto_dns))
        return ROLE_DNS;
    if (e->port == 67 && e->l4 == 17)
        return ROLE_DHCP;
    if (e->port == 123 && e->l4 == 17)
        return ROLE_NTP;
    return ROLE_NONE;
}

static int web_port(const struct edge *e)
{
    return (e->l4 == 6 && (e->port == 80 || e->port == 443)) || (e->l4 == 17 && e->port == 443);
}

/* What each edge says of its ends. */
static void edge_signals(struct proposal *p, const struct edge *e)
{
    int cin = config_zone_of(p->cfg, e->cli) != ZONE_INTERNET;
    int sin = config_zone_of(p->cfg, e->srv) != ZONE_INTERNET;
    struct pdev *c = cin ? pdev_of(p, e->cli) : NULL, *s = sin ? pdev_of(p, e->srv) : NULL;
    enum propose_role r;

    if (s != NULL && e->answered) {
        if ((r = server_role(p, e)) != ROLE_NONE)
            s->signal[r] += e->flows;
        if (!cin && e->l4 == 6 && e->port < 1024)
            s->signal[ROLE_PUBLIC] += e->flows;
        s->served += e->flows;
        s->clients++;
    }
    if (c != NULL) {
        c->opened += e->flows;
        if (!sin && e->answered && web_port(e))
            c->web_sites++; /* edges for now: sites once counted (count_sites) */
    }
}

/*
 * HL7 by the message types a device sends (HL7 v2 chapters 3 and 4): admissions, orders,
 * scheduling and charges come from the EMR or HIS, results and the filler's order answers
 * from the departmental systems.
 */
static enum propose_role hl7_role(const char *type)
{
    static const char *const orders[] = {"ADT", "ORM", "OMG", "OML", "OMP", "OMI",
                                         "RDE", "RDS", "SIU", "BAR", "DFT"};
    static const char *const results[] = {"ORU", "OUL", "ORL", "OSU"};
    size_t i;

    for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
        if (strncmp(type, orders[i], 3) == 0)
            return ROLE_HL7_ORDERS;
    for (i = 0; i < sizeof(results) / sizeof(results[0]); i++)
        if (strncmp(type, results[i], 3) == 0)
            return ROLE_HL7_RESULTS;
    return ROLE_NONE;
}

/*
 * DICOM by what the associations asked: a device queried, or sent images by one that does not
 * query it, is an archive; one that sends images a modality; one that only queries a viewer.
 */
static void medical_signals(struct pdev *d)
{
    uint8_t did = d->d != NULL ? d->d->dicom_did : 0;

    if ((did & DEVICE_DICOM_QUERIED) ||
        ((did & DEVICE_DICOM_STORED) && !(did & DEVICE_DICOM_QUERY)))
        d->signal[ROLE_PACS]++;
    else if (did & DEVICE_DICOM_STORE)
        d->signal[ROLE_MODALITY]++;
    else if (did & DEVICE_DICOM_QUERY)
        d->signal[ROLE_VIEWER]++;
    if (d->d != NULL && hl7_role(d->d->hl7_type) != ROLE_NONE)
        d->signal[hl7_role(d->d->hl7_type)]++;
}

static int by_site(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;

    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Web sites on the internet per device: distinct sites, not servers (a CDN has many). */
static int count_sites(struct proposal *p)
{
    uint32_t(*v)[2], n = 0, i;

    if ((v = malloc(((size_t)p->nedge + 1) * sizeof(*v))) == NULL)
        return MM_ENOMEM;
    for (i = 0; i < p->nedge; i++) {
        const struct edge *e = &p->edge[i];
        uint32_t s;
        if (!e->answered || !web_port(e) || config_zone_of(p->cfg, e->cli) == ZONE_INTERNET ||
            config_zone_of(p->cfg, e->srv) != ZONE_INTERNET ||
            (s = *inventory__slot(&p->tab, e->cli)) == 0)
            continue;
        v[n][0] = s - 1;
        v[n++][1] = e->site;
    }
    qsort(v, n, sizeof(*v), by_site);
    for (i = 0; i < p->ndev; i++)
        p->dev[i].web_sites = 0;
    for (i = 0; i < n; i++)
        if (i == 0 || v[i][0] != v[i - 1][0] || v[i][1] != v[i - 1][1])
            p->dev[v[i][0]].web_sites++;
    free(v);
    return 0;
}

/* The role that decides, in the order of propose_roles; clinical is worked out after. */
static void pick_role(struct pdev *d)
{
    unsigned r;

    d->role = ROLE_NONE;
    medical_signals(d);
    if (d->web_sites >= PROPOSE_OFFICE_SITES)
        d->signal[ROLE_OFFICE] = d->web_sites;
    for (r = ROLE_NONE + 1; r < ROLE__COUNT; r++)
        if (d->signal[r] > 0) {
            d->role = (enum propose_role)r;
            return;
        }
}

/* A device that used an EMR or departmental server and no internet site: a clinical terminal. */
static void clinical_roles(struct proposal *p)
{
    uint32_t i;

    for (i = 0; i < p->nedge; i++) {
        const struct edge *e = &p->edge[i];
        const struct pdev *s;
        struct pdev *c;
        if (!e->answered || config_zone_of(p->cfg, e->cli) == ZONE_INTERNET ||
            config_zone_of(p->cfg, e->srv) == ZONE_INTERNET)
            continue;
        c = pdev_of(p, e->cli);
        s = pdev_of(p, e->srv);
        if (c->role == ROLE_NONE && c->web_sites == 0 &&
            (s->role == ROLE_PACS || s->role == ROLE_HL7_ORDERS || s->role == ROLE_HL7_RESULTS ||
             s->zone == p->z_emr || s->zone == p->z_departmental))
            c->role = ROLE_CLINICAL;
    }
}

static int by_ip(const void *a, const void *b)
{
    return memcmp(((const struct pdev *)a)->ip, ((const struct pdev *)b)->ip, 16);
}

/* --- zones ----------------------------------------------------------------------------------- */

/* The subnet's prefix bytes: 15 of an IPv4-mapped address (a /24), 8 of IPv6 (a /64). */
static size_t subnet_bytes(const uint8_t ip[16])
{
    return zone_addr_is_v4(ip) ? 15 : 8;
}

static int add_net(struct proposal *p, const uint8_t ip[16], unsigned plen, int zone,
                   uint32_t first, uint32_t count)
{
    struct pnet *n;

    if (p->nnet == p->capnet) {
        size_t cap = p->capnet ? p->capnet * 2 : 64;
        struct pnet *nn = realloc(p->net, cap * sizeof(*nn));
        if (nn == NULL)
            return MM_ENOMEM;
        p->net = nn;
        p->capnet = cap;
    }
    n = &p->net[p->nnet++];
    memset(n, 0, sizeof(*n));
    memcpy(n->addr, ip, 16);
    memset(n->addr + plen / 8, 0, 16 - plen / 8);
    n->plen = plen;
    n->zone = zone;
    n->first = first;
    n->count = count;
    return zone_map_add(p->map, n->addr, plen, zone) < 0 ? MM_ENOMEM : 0;
}

/*
 * One subnet, devices [i, j) of the sorted list: the zone most of its endpoints' roles point to;
 * without endpoints, the zone of its servers when they are most of it (two at least); the
 * devices a role puts elsewhere alone. None when neither: its servers alone, the rest unzoned.
 */
static int place_subnet(struct proposal *p, uint32_t i, uint32_t j)
{
    uint32_t vote[2][MM_MAX_ZONES] = {{0}}, k, best = 0;
    int zone = -1, z, host;

    for (k = i; k < j; k++)
        if (p->dev[k].role != ROLE_NONE && (z = p->zone_of_role[p->dev[k].role]) >= 0)
            vote[propose_roles[p->dev[k].role].host][z]++;
    for (host = 0; host < 2 && zone < 0; host++)
        for (z = 0; z < (int)MM_MAX_ZONES; z++)
            if (vote[host][z] > best &&
                (!host || (vote[host][z] >= 2 && vote[host][z] * 2 > j - i)))
                best = vote[host][z], zone = z;
    if (zone >= 0 &&
        add_net(p, p->dev[i].ip, zone_addr_is_v4(p->dev[i].ip) ? 120 : 64, zone, i, j - i) != 0)
        return MM_ENOMEM;
    for (k = i; k < j; k++) {
        struct pdev *d = &p->dev[k];
        z = d->role != ROLE_NONE ? p->zone_of_role[d->role] : zone;
        if (z >= 0 && z != zone && add_net(p, d->ip, 128, z, k, 1) != 0)
            return MM_ENOMEM;
        d->zone = z;
    }
    return 0;
}

/* A device the running config does not zone but a role would: listed alone. */
static int place_alone(struct proposal *p, uint32_t k)
{
    struct pdev *d = &p->dev[k];

    if (d->configured || d->role == ROLE_NONE)
        return 0;
    d->zone = p->zone_of_role[d->role];
    return add_net(p, d->ip, 128, d->zone, k, 1);
}

/*
 * Zones for the internal devices no configured zone holds, subnet by subnet; in a subnet the
 * config zones in part, only the devices a role places, alone.
 */
int propose__zones(struct proposal *p)
{
    uint32_t i, j, k, configured;

    qsort(p->dev, p->ndev, sizeof(p->dev[0]), by_ip); /* the index is not used after this */
    for (i = 0; i < p->ndev; i++) {
        int z = config_zone_of(p->cfg, p->dev[i].ip);
        if (z != ZONE_UNZONED)
            p->dev[i].zone = z, p->dev[i].configured = 1;
    }
    for (i = 0; i < p->ndev; i = j) {
        size_t sb = subnet_bytes(p->dev[i].ip);
        configured = p->dev[i].configured;
        for (j = i + 1; j < p->ndev && memcmp(p->dev[j].ip, p->dev[i].ip, sb) == 0; j++)
            configured |= p->dev[j].configured;
        if (!configured && place_subnet(p, i, j) != 0)
            return MM_ENOMEM;
        for (k = i; configured && k < j; k++)
            if (place_alone(p, k) != 0)
                return MM_ENOMEM;
    }
    return 0;
}

const struct pdev *propose__dev(const struct proposal *p, const uint8_t ip[16])
{
    struct pdev key;

    memcpy(key.ip, ip, 16);
    return bsearch(&key, p->dev, p->ndev, sizeof(p->dev[0]), by_ip);
}

int propose__is_service(const struct proposal *p, enum config_service svc, const uint8_t ip[16])
{
    static const uint8_t role[SVC__COUNT] = {ROLE_DNS, ROLE_DHCP, ROLE_NTP, ROLE_DC};
    const struct pdev *d = propose__dev(p, ip);

    return d != NULL && d->signal[role[svc]] > 0;
}

/* The zone an address has under the proposal. */
int propose__zone_of(const struct proposal *p, const uint8_t ip[16])
{
    int z = config_zone_of(p->cfg, ip), m;

    if (z != ZONE_UNZONED)
        return z;
    return (m = zone_map_lookup(p->map, ip)) >= 0 ? m : ZONE_UNZONED;
}

/* --- the whole ------------------------------------------------------------------------------- */

static int devices(struct proposal *p, struct inventory *inv)
{
    uint32_t i, n, slots = 16;
    struct device *list;

    while (slots < (p->nedge * 2 + 16) * 2u && slots < (1u << 30))
        slots <<= 1;
    if ((p->tab.slot = calloc(slots, sizeof(*p->tab.slot))) == NULL ||
        (p->dev = calloc((size_t)p->nedge * 2 + 1, sizeof(*p->dev))) == NULL)
        return MM_ENOMEM;
    p->tab.mask = slots - 1;
    p->tab.rec = p->dev;
    p->tab.stride = sizeof(*p->dev);
    p->tab.last_off = offsetof(struct pdev, ip);
    for (i = 0; i < p->nedge; i++)
        edge_signals(p, &p->edge[i]);
    if ((list = inventory__snapshot(inv, &n, NULL)) == NULL)
        return MM_ENOMEM;
    p->inv = list;
    p->ninv = n;
    for (i = 0; i < n; i++) {
        uint32_t s = *inventory__slot(&p->tab, list[i].ip);
        if (s != 0)
            p->dev[s - 1].d = &list[i];
    }
    if (count_sites(p) != 0)
        return MM_ENOMEM;
    for (i = 0; i < p->ndev; i++)
        pick_role(&p->dev[i]);
    return 0;
}

int baseline_propose(struct baseline *b, struct inventory *inv, const struct mm_config *cfg,
                     const char *path, char *err, size_t errlen)
{
    struct proposal p;
    unsigned r;
    int rc = MM_ENOMEM;

    memset(&p, 0, sizeof(p));
    p.cfg = cfg;
    p.proto_dns = classify_lookup_protocol("DNS");
    p.z_emr = config_zone_index(cfg, "emr");
    p.z_departmental = config_zone_index(cfg, "departmental");
    for (r = ROLE_NONE + 1; r < ROLE__COUNT; r++)
        p.zone_of_role[r] = config_zone_index(cfg, propose_roles[r].zone);
    baseline_get_stats(b, &p.stats);
    if ((p.edge = baseline__copy(b, &p.nedge)) != NULL && zone_map_create(&p.map) == 0 &&
        devices(&p, inv) == 0) {
        clinical_roles(&p);
        if (propose__zones(&p) == 0 && propose__needs(&p) == 0)
            rc = propose__write(&p, path, err, errlen);
    }
    if (rc == MM_ENOMEM)
        snprintf(err, errlen, "out of memory proposing a config");
    propose__free_needs(&p);
    zone_map_destroy(p.map);
    free(p.net);
    free(p.inv);
    free(p.dev);
    free(p.tab.slot);
    free(p.edge);
    return rc;
}
