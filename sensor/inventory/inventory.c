/*
 * An open-addressed table of devices keyed by address, filled as flows end and as ARP and DHCP
 * name addresses; written with jansson, sorted by address. A service is a server port that
 * answered (a TCP handshake completed, or UDP both ways): a device's clients do not make it a
 * server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mimamori/classify.h"
#include "mimamori/eve.h"
#include "mimamori/inventory.h"
#include "mimamori/medical.h"
#include "mimamori/oui.h"
#include "mimamori/zone.h"

struct service {
    uint8_t l4;
    uint16_t port;
    uint16_t master, app; /* protocol ids as classified */
    uint32_t flows;
};

struct device {
    uint8_t ip[16];
    uint8_t used, has_mac, nsvc;
    uint8_t mac[6];
    char name[DHCP_NAME_LEN];
    char ae[DICOM_AE_LEN], impl_class[DICOM_UID_LEN], impl_version[DICOM_AE_LEN];
    char hl7_app[HL7_NAME_LEN], hl7_facility[HL7_NAME_LEN];
    uint64_t first_us, last_us, sent, received;
    struct service svc[INVENTORY_MAX_SERVICES];
};

struct inventory {
    struct device *d;
    uint32_t mask, n, max;
    uint64_t dropped;
    const struct mm_config *cfg;
};

int inventory_create(struct inventory **out, uint32_t max_devices)
{
    struct inventory *inv = calloc(1, sizeof(*inv));
    uint32_t slots = 16;

    *out = inv;
    if (inv == NULL)
        return MM_ENOMEM;
    while (slots < max_devices * 2u && slots < (1u << 30))
        slots <<= 1;
    if ((inv->d = calloc(slots, sizeof(*inv->d))) == NULL) {
        free(inv);
        *out = NULL;
        return MM_ENOMEM;
    }
    inv->mask = slots - 1;
    inv->max = max_devices;
    return 0;
}

void inventory_destroy(struct inventory *inv)
{
    if (inv == NULL)
        return;
    free(inv->d);
    free(inv);
}

void inventory_set_config(struct inventory *inv, const struct mm_config *cfg)
{
    inv->cfg = cfg;
}

/* The device of ip, made if it is internal and there is room; NULL otherwise. */
static struct device *device_of(struct inventory *inv, const uint8_t ip[16], uint64_t ts_us)
{
    uint32_t h = 2166136261u, i;
    struct device *d;

    if (inv->cfg == NULL || config_zone_of(inv->cfg, ip) == ZONE_INTERNET)
        return NULL;
    for (i = 0; i < 16; i++)
        h = (h ^ ip[i]) * 16777619u;
    for (i = h & inv->mask;; i = (i + 1) & inv->mask) {
        d = &inv->d[i];
        if (d->used && memcmp(d->ip, ip, 16) == 0)
            break;
        if (!d->used) {
            if (inv->n >= inv->max) {
                inv->dropped++;
                return NULL;
            }
            d->used = 1;
            memcpy(d->ip, ip, 16);
            d->first_us = ts_us;
            inv->n++;
            break;
        }
    }
    if (ts_us > d->last_us)
        d->last_us = ts_us;
    if (ts_us < d->first_us)
        d->first_us = ts_us;
    return d;
}

static void add_service(struct device *d, const struct flow *f)
{
    uint16_t port = flow_dst_port(f);
    unsigned i;

    for (i = 0; i < d->nsvc; i++)
        if (d->svc[i].l4 == f->key.proto && d->svc[i].port == port)
            break;
    if (i == d->nsvc) {
        if (d->nsvc == INVENTORY_MAX_SERVICES)
            return;
        d->nsvc++;
        d->svc[i].l4 = f->key.proto;
        d->svc[i].port = port;
    }
    if (f->app.app != 0 || f->app.master != 0) { /* the latest name wins over none */
        d->svc[i].master = f->app.master;
        d->svc[i].app = f->app.app;
    }
    d->svc[i].flows++;
}

/* A server that answered: a completed handshake over TCP, packets both ways otherwise. */
static int answered(const struct flow *f)
{
    if (f->key.proto == 6)
        return (f->tcp_flags[FLOW_TOSERVER] & TCP_SYN) && (f->tcp_flags[FLOW_TOCLIENT] & TCP_SYN) &&
               (f->tcp_flags[FLOW_TOCLIENT] & TCP_ACK);
    return (f->key.proto == 17 || f->key.proto == 132) && f->pkts[FLOW_TOCLIENT] > 0;
}

/*
 * What a DICOM or HL7 flow says of its ends: the association requester's (the client's) AE
 * title and implementation, the acceptor's AE title once it accepted; the sending application
 * and facility of each direction's messages.
 */
static void medical_identity(const struct flow *f, struct device *c, struct device *s)
{
    const struct dicom_info *di = medical_dicom(f);
    const struct hl7_info *h = medical_hl7(f);
    unsigned i;

    if (di != NULL && c != NULL && di->calling_ae[0] != '\0') {
        memcpy(c->ae, di->calling_ae, sizeof(c->ae));
        if (di->impl_class[0] != '\0')
            memcpy(c->impl_class, di->impl_class, sizeof(c->impl_class));
        if (di->impl_version[0] != '\0')
            memcpy(c->impl_version, di->impl_version, sizeof(c->impl_version));
    }
    /* The called AE title is the acceptor's only if it accepted (a reject may say "unknown"). */
    if (di != NULL && s != NULL && di->called_ae[0] != '\0' &&
        (di->assoc == DICOM_ASSOC_ACCEPTED || di->assoc == DICOM_ASSOC_RELEASED))
        memcpy(s->ae, di->called_ae, sizeof(s->ae));
    for (i = 0; h != NULL && i < h->nsenders; i++) {
        struct device *d = h->senders[i].dir == 0 ? c : s;
        if (d == NULL || h->senders[i].app[0] == '\0')
            continue;
        memcpy(d->hl7_app, h->senders[i].app, sizeof(d->hl7_app));
        memcpy(d->hl7_facility, h->senders[i].facility, sizeof(d->hl7_facility));
    }
}

void inventory_flow_event(void *ud, enum flow_event ev, struct flow *f, enum flow_end_reason reason)
{
    struct inventory *inv = ud;
    struct device *c, *s = NULL;

    (void)reason;
    if (ev != FLOW_EV_ENDED || (f->flags & FLOW_F_L2_GROUP))
        return;
    if ((c = device_of(inv, flow_src_addr(f), f->first_us)) != NULL) {
        c->sent += f->bytes[FLOW_TOSERVER];
        c->received += f->bytes[FLOW_TOCLIENT];
        if (f->last_us > c->last_us)
            c->last_us = f->last_us;
    }
    if (f->pkts[FLOW_TOCLIENT] > 0 && (s = device_of(inv, flow_dst_addr(f), f->first_us)) != NULL) {
        s->sent += f->bytes[FLOW_TOCLIENT];
        s->received += f->bytes[FLOW_TOSERVER];
        if (f->last_us > s->last_us)
            s->last_us = f->last_us;
        if (answered(f) && flow_dst_port(f) != 0)
            add_service(s, f);
    }
    if (f->app.med != NULL)
        medical_identity(f, c, s);
}

void inventory_arp(struct inventory *inv, const uint8_t ip[16], const uint8_t mac[6],
                   uint64_t ts_us)
{
    struct device *d = device_of(inv, ip, ts_us);

    if (d != NULL) {
        memcpy(d->mac, mac, 6);
        d->has_mac = 1;
    }
}

void inventory_dhcp(struct inventory *inv, const struct dhcp_msg *m, uint64_t ts_us)
{
    struct device *d;

    if (!m->has_ip || (d = device_of(inv, m->ip, ts_us)) == NULL)
        return;
    if (m->has_mac) {
        memcpy(d->mac, m->mac, 6);
        d->has_mac = 1;
    }
    if (m->hostname[0] != '\0')
        memcpy(d->name, m->hostname, sizeof(d->name));
}

void inventory_dhcp_payload(struct inventory *inv, const uint8_t *p, uint32_t n, uint64_t ts_us)
{
    struct dhcp_msg m;

    if (dhcp_parse(p, n, &m) == 0)
        inventory_dhcp(inv, &m, ts_us);
}

/* --- writing ------------------------------------------------------------------------------- */

static int by_address(const void *a, const void *b)
{
    return memcmp((*(const struct device *const *)a)->ip, (*(const struct device *const *)b)->ip,
                  16);
}

/*
 * The protocol a service speaks: nDPI's master protocol where it has one ("DNS" for a resolver,
 * however many applications' names it answered for), else the protocol itself ("SMBv23").
 */
static const char *protocol_name(const struct service *s)
{
    if (s->master != 0)
        return classify_protocol_name(s->master);
    return s->app != 0 ? classify_protocol_name(s->app) : "Unknown";
}

static json_t *device_json(const struct inventory *inv, const struct device *d,
                           const struct oui *oui)
{
    char a[48], mac[18], t[40];
    const char *vendor = d->has_mac ? oui_vendor(oui, d->mac) : NULL;
    int zone = config_zone_of(inv->cfg, d->ip);
    json_t *o = json_object(), *names = json_array(), *svcs = json_array();
    unsigned i;

    json_object_set_new(o, "ip", json_string(zone_addr_str(d->ip, a, sizeof(a))));
    if (d->has_mac) {
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", d->mac[0], d->mac[1], d->mac[2],
                 d->mac[3], d->mac[4], d->mac[5]);
        json_object_set_new(o, "mac", json_string(mac));
    } else {
        json_object_set_new(o, "mac", json_null());
    }
    json_object_set_new(o, "vendor", vendor != NULL ? json_string(vendor) : json_null());
    if (d->name[0] != '\0')
        json_array_append_new(names, json_string(d->name));
    json_object_set_new(o, "names", names);
    json_object_set_new(o, "zone", json_string(inv->cfg->zone_names[zone]));
    eve_format_time(d->first_us, t, sizeof(t));
    json_object_set_new(o, "first_seen", json_string(t));
    eve_format_time(d->last_us, t, sizeof(t));
    json_object_set_new(o, "last_seen", json_string(t));
    for (i = 0; i < d->nsvc; i++) {
        const struct service *s = &d->svc[i];
        json_array_append_new(svcs, json_pack("{sssisssI}", "proto",
                                              s->l4 == 6    ? "TCP"
                                              : s->l4 == 17 ? "UDP"
                                                            : "SCTP",
                                              "port", (int)s->port, "protocol", protocol_name(s),
                                              "flows", (json_int_t)s->flows));
    }
    json_object_set_new(o, "services", svcs);
    if (d->ae[0] != '\0' || d->impl_class[0] != '\0') {
        json_t *m = json_object();
        if (d->ae[0] != '\0')
            json_object_set_new(m, "ae_title", json_string(d->ae));
        if (d->impl_class[0] != '\0')
            json_object_set_new(m, "implementation_class_uid", json_string(d->impl_class));
        if (d->impl_version[0] != '\0')
            json_object_set_new(m, "implementation_version", json_string(d->impl_version));
        json_object_set_new(o, "dicom", m);
    }
    if (d->hl7_app[0] != '\0')
        json_object_set_new(o, "hl7",
                            json_pack("{ssss}", "sending_application", d->hl7_app,
                                      "sending_facility", d->hl7_facility));
    json_object_set_new(
        o, "bytes",
        json_pack("{sIsI}", "sent", (json_int_t)d->sent, "received", (json_int_t)d->received));
    return o;
}

int inventory_write(const struct inventory *inv, const struct oui *oui, const char *path, char *err,
                    size_t errlen)
{
    const struct device **list = calloc(inv->n + 1, sizeof(*list));
    char tmp[4096];
    unsigned i, n = 0;
    FILE *fp;
    int r = 0;

    if (list == NULL) {
        snprintf(err, errlen, "out of memory");
        return MM_ENOMEM;
    }
    for (i = 0; i <= inv->mask; i++)
        if (inv->d[i].used)
            list[n++] = &inv->d[i];
    qsort(list, n, sizeof(*list), by_address);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fp = fopen(tmp, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(list);
        return MM_EIO;
    }
    for (i = 0; i < n && r == 0; i++) {
        json_t *o = device_json(inv, list[i], oui);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s == NULL || fprintf(fp, "%s\n", s) < 0)
            r = MM_EIO;
        free(s);
        json_decref(o);
    }
    free(list);
    if (fclose(fp) != 0 || r != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return MM_EIO;
    }
    return 0;
}

void inventory_get_stats(const struct inventory *inv, struct inventory_stats *st)
{
    st->devices = inv->n;
    st->dropped = inv->dropped;
}
