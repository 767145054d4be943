/*
 * The table of external parties: a dense array indexed by address as the device inventory's
 * (addrtab.c), filled at flow end under the engine's lock (a mutex of its own
 * guards it against the writer). Names and protocols are kept in the order first seen; the
 * file is written with jansson, the party seen last first.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mimamori/classify.h"
#include "mimamori/connections.h"
#include "mimamori/dnscache.h"
#include "mimamori/eve.h"
#include "mimamori/zone.h"

#include "inventory_int.h"

#define NAME_LEN 64

struct party {
    uint8_t ip[16];
    uint8_t nnames, nprotos, ndevices, remote;
    char names[CONNECTIONS_MAX_NAMES][NAME_LEN];
    uint16_t protos[CONNECTIONS_MAX_PROTOCOLS][2]; /* master, app */
    uint8_t devices[CONNECTIONS_MAX_DEVICES][16];
    uint32_t more_devices;
    uint64_t first_us, last_us, outbound, inbound, sent, received; /* bytes from the party */
};

struct connections {
    pthread_mutex_t mu;
    struct party *p;
    struct addrtab tab; /* p, indexed by address */
    uint32_t n, max;
    uint64_t aged;
    int cat_remote, cat_vpn; /* nDPI category ids */
};

int connections_create(struct connections **out, uint32_t max_parties)
{
    struct connections *c = calloc(1, sizeof(*c));
    uint32_t slots = 16;

    *out = c;
    if (c == NULL)
        return MM_ENOMEM;
    while (slots < max_parties * 2u && slots < (1u << 30))
        slots <<= 1;
    if ((c->tab.slot = calloc(slots, sizeof(*c->tab.slot))) == NULL ||
        (c->p = calloc(max_parties ? max_parties : 1, sizeof(*c->p))) == NULL) {
        free(c->tab.slot);
        free(c);
        *out = NULL;
        return MM_ENOMEM;
    }
    memset(c->tab.slot, 0, (size_t)slots * sizeof(*c->tab.slot)); /* see inventory_create() */
    c->tab.mask = slots - 1;
    c->tab.rec = c->p;
    c->tab.stride = sizeof(*c->p);
    c->tab.last_off = offsetof(struct party, last_us);
    c->max = max_parties;
    c->cat_remote = classify_lookup_category("RemoteAccess");
    c->cat_vpn = classify_lookup_category("VPN");
    pthread_mutex_init(&c->mu, NULL);
    return 0;
}

void connections_destroy(struct connections *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->p);
    free(c->tab.slot);
    free(c);
}

/* A full table: the eighth silent the longest leave (addrtab.c). */
static void make_room(struct connections *c)
{
    uint32_t gone;

    if (c->n + 1 <= c->max || c->max < 8)
        return;
    gone = inventory__evict(&c->tab, c->n, c->max / 8);
    c->n -= gone;
    c->aged += gone;
}

static struct party *party_of(struct connections *c, const uint8_t ip[16], uint64_t ts_us)
{
    uint32_t *slot = inventory__slot(&c->tab, ip);
    struct party *p;

    if (*slot != 0)
        return &c->p[*slot - 1];
    if (c->n >= c->max)
        return NULL;
    p = &c->p[c->n++];
    memset(p, 0, sizeof(*p));
    *slot = c->n;
    memcpy(p->ip, ip, 16);
    p->first_us = p->last_us = ts_us;
    return p;
}

static void add_name(struct party *p, const char *name);

/* The names of the party's certificate ("a.example,b.example"), in the order it lists them. */
static void add_cert_names(struct party *p, const char *list)
{
    char name[NAME_LEN];
    size_t n;

    while (list != NULL && *list != '\0' && p->nnames < CONNECTIONS_MAX_NAMES) {
        n = strcspn(list, ",");
        if (n > 0 && n < sizeof(name) && list[0] != '*') { /* a wildcard names no host */
            memcpy(name, list, n);
            name[n] = '\0';
            add_name(p, name);
        }
        list += n + (list[n] == ',');
    }
}

static void add_name(struct party *p, const char *name)
{
    unsigned i;

    if (name == NULL || name[0] == '\0' || strlen(name) >= NAME_LEN)
        return;
    for (i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], name) == 0)
            return;
    if (p->nnames < CONNECTIONS_MAX_NAMES)
        memcpy(p->names[p->nnames++], name, strlen(name) + 1);
}

static void add_device(struct party *p, const uint8_t ip[16])
{
    unsigned i;

    for (i = 0; i < p->ndevices; i++)
        if (memcmp(p->devices[i], ip, 16) == 0)
            return;
    if (p->ndevices < CONNECTIONS_MAX_DEVICES)
        memcpy(p->devices[p->ndevices++], ip, 16);
    else if (p->more_devices < UINT32_MAX)
        p->more_devices++; /* a device beyond the list (counted again if it comes back) */
}

static void add_protocol(struct party *p, const struct flow_app *a)
{
    unsigned i;

    if (a->master == 0 && a->app == 0)
        return;
    for (i = 0; i < p->nprotos; i++)
        if (p->protos[i][0] == a->master && p->protos[i][1] == a->app)
            return;
    if (p->nprotos < CONNECTIONS_MAX_PROTOCOLS) {
        p->protos[p->nprotos][0] = a->master;
        p->protos[p->nprotos++][1] = a->app;
    }
}

void connections_flow_ended(struct connections *c, const struct mm_config *cfg,
                            const struct dnscache *dns, const struct flow *f)
{
    const uint8_t *cli = flow_src_addr(f), *srv = flow_dst_addr(f);
    int cz, sz, outbound;
    struct party *p;

    if ((f->flags & FLOW_F_L2_GROUP) || cfg == NULL)
        return;
    cz = config_zone_of(cfg, cli);
    sz = config_zone_of(cfg, srv);
    if ((cz == ZONE_INTERNET) == (sz == ZONE_INTERNET))
        return; /* inside, or between two outside addresses (a transit mirror) */
    outbound = sz == ZONE_INTERNET;
    pthread_mutex_lock(&c->mu);
    make_room(c);
    if ((p = party_of(c, outbound ? srv : cli, f->first_us)) != NULL) {
        if (f->first_us < p->first_us)
            p->first_us = f->first_us;
        if (f->last_us > p->last_us)
            p->last_us = f->last_us;
        *(outbound ? &p->outbound : &p->inbound) += 1;
        p->sent += f->bytes[outbound ? FLOW_TOCLIENT : FLOW_TOSERVER];
        p->received += f->bytes[outbound ? FLOW_TOSERVER : FLOW_TOCLIENT];
        add_device(p, outbound ? cli : srv);
        add_protocol(p, &f->app);
        if (outbound && dns != NULL)
            add_name(p, dnscache_lookup(dns, srv, f->first_us));
        if (outbound && f->app.meta != NULL) {
            add_name(p, classify_meta_get(f->app.meta, META_TLS_SNI));
            add_name(p, classify_meta_get(f->app.meta, META_HTTP_HOST));
            add_cert_names(p, classify_meta_get(f->app.meta, META_TLS_CERT_NAMES));
        }
        if ((c->cat_remote > 0 && f->app.category == c->cat_remote) ||
            (c->cat_vpn > 0 && f->app.category == c->cat_vpn))
            p->remote = 1;
    }
    pthread_mutex_unlock(&c->mu);
}

static int by_recent(const void *a, const void *b)
{
    const struct party *x = a, *y = b;

    return x->last_us > y->last_us ? -1 : x->last_us < y->last_us;
}

static json_t *party_json(const struct party *p)
{
    json_t *o = json_object(), *a = json_array();
    char s[48], t[40];
    unsigned i;

    json_object_set_new(o, "ip", json_string(zone_addr_str(p->ip, s, sizeof(s))));
    for (i = 0; i < p->nnames; i++)
        json_array_append_new(a, json_string(p->names[i]));
    json_object_set_new(o, "names", a);
    a = json_array();
    for (i = 0; i < p->nprotos; i++) { /* as nDPI writes them: "TLS.Google" */
        uint16_t m = p->protos[i][0], x = p->protos[i][1];
        if (m != 0 && x != 0 && m != x)
            snprintf(t, sizeof(t), "%s.%s", classify_protocol_name(m), classify_protocol_name(x));
        else
            snprintf(t, sizeof(t), "%s", classify_protocol_name(x ? x : m));
        json_array_append_new(a, json_string(t));
    }
    json_object_set_new(o, "protocols", a);
    json_object_set_new(o, "direction",
                        json_string(p->outbound && p->inbound ? "both"
                                    : p->outbound             ? "outbound"
                                                              : "inbound"));
    json_object_set_new(o, "remote_access", json_boolean(p->remote));
    eve_format_time(p->first_us, t, sizeof(t));
    json_object_set_new(o, "first_seen", json_string(t));
    eve_format_time(p->last_us, t, sizeof(t));
    json_object_set_new(o, "last_seen", json_string(t));
    json_object_set_new(o, "flows",
                        json_pack("{sIsI}", "outbound", (json_int_t)p->outbound, "inbound",
                                  (json_int_t)p->inbound));
    json_object_set_new(o, "bytes",
                        json_pack("{sIsI}", "to_party", (json_int_t)p->received, "from_party",
                                  (json_int_t)p->sent));
    a = json_array();
    for (i = 0; i < p->ndevices; i++)
        json_array_append_new(a, json_string(zone_addr_str(p->devices[i], s, sizeof(s))));
    json_object_set_new(o, "devices", a);
    if (p->more_devices > 0)
        json_object_set_new(o, "more_devices", json_integer(p->more_devices));
    return o;
}

/* A party as a CSV row, from its JSON record. */
static void party_csv(FILE *fp, json_t *o)
{
    static const char *const num[][2] = {{"flows", "outbound"},
                                         {"flows", "inbound"},
                                         {"bytes", "to_party"},
                                         {"bytes", "from_party"}};
    char list[1024], v[32];
    unsigned i;

    inventory__csv_field(fp, json_string_value(json_object_get(o, "ip")), 0);
    inventory__csv_join(list, sizeof(list), json_object_get(o, "names"), NULL);
    inventory__csv_field(fp, list, 0);
    inventory__csv_join(list, sizeof(list), json_object_get(o, "protocols"), NULL);
    inventory__csv_field(fp, list, 0);
    inventory__csv_field(fp, json_string_value(json_object_get(o, "direction")), 0);
    inventory__csv_field(fp, json_is_true(json_object_get(o, "remote_access")) ? "yes" : "no", 0);
    inventory__csv_field(fp, json_string_value(json_object_get(o, "first_seen")), 0);
    inventory__csv_field(fp, json_string_value(json_object_get(o, "last_seen")), 0);
    for (i = 0; i < sizeof(num) / sizeof(num[0]); i++) {
        snprintf(v, sizeof(v), "%lld",
                 (long long)json_integer_value(
                     json_object_get(json_object_get(o, num[i][0]), num[i][1])));
        inventory__csv_field(fp, v, 0);
    }
    inventory__csv_join(list, sizeof(list), json_object_get(o, "devices"), NULL);
    inventory__csv_field(fp, list, 0);
    snprintf(v, sizeof(v), "%lld",
             (long long)json_integer_value(json_object_get(o, "more_devices")));
    inventory__csv_field(fp, v, 1);
}

static const char *const csv_columns[] = {"ip",
                                          "names",
                                          "protocols",
                                          "direction",
                                          "remote_access",
                                          "first_seen",
                                          "last_seen",
                                          "flows_outbound",
                                          "flows_inbound",
                                          "bytes_to_party",
                                          "bytes_from_party",
                                          "devices",
                                          "more_devices"};

int connections_write(struct connections *c, const char *path, enum connections_format format,
                      char *err, size_t errlen)
{
    struct party *list;
    char tmp[4096];
    uint32_t n, i;
    FILE *fp;
    int r = 0;

    pthread_mutex_lock(&c->mu);
    n = c->n;
    if ((list = malloc(((size_t)n + 1) * sizeof(*list))) != NULL)
        memcpy(list, c->p, (size_t)n * sizeof(*list));
    pthread_mutex_unlock(&c->mu);
    if (list == NULL) {
        snprintf(err, errlen, "out of memory");
        return MM_ENOMEM;
    }
    qsort(list, n, sizeof(*list), by_recent);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fp = fopen(tmp, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(list);
        return MM_EIO;
    }
    if (format == CONNECTIONS_CSV) {
        inventory__csv_header(fp, csv_columns, sizeof(csv_columns) / sizeof(csv_columns[0]));
    }
    for (i = 0; i < n && r == 0; i++) {
        json_t *o = party_json(&list[i]);
        if (format == CONNECTIONS_CSV)
            party_csv(fp, o);
        else if (json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
                 fputc('\n', fp) == EOF)
            r = MM_EIO;
        json_decref(o);
    }
    if (ferror(fp))
        r = MM_EIO;
    free(list);
    if (fclose(fp) != 0 || r != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return MM_EIO;
    }
    return 0;
}

void connections_get_stats(struct connections *c, struct connections_stats *st)
{
    pthread_mutex_lock(&c->mu);
    st->parties = c->n;
    st->aged = c->aged;
    pthread_mutex_unlock(&c->mu);
}
