/*
 * The device table, filled as flows end and as ARP and DHCP name addresses. A service is a
 * server port that answered (a TCP handshake completed, or UDP both ways): a device's clients
 * do not make it a server. Software hints (NTLMSSP versions, browsers, SSH banners, DHCP vendor
 * classes, DICOM implementations) are kept and looked up in the end-of-support table.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/baseline.h"
#include "mimamori/classify.h"
#include "mimamori/connections.h"
#include "mimamori/dcerpc.h"
#include "mimamori/eve.h"
#include "mimamori/inventory.h"
#include "mimamori/ledger.h"
#include "mimamori/medical.h"

#include "inventory_int.h"

int inventory_create(struct inventory **out, uint32_t max_devices)
{
    struct inventory *inv = calloc(1, sizeof(*inv));
    uint32_t slots = 16;

    *out = inv;
    if (inv == NULL)
        return MM_ENOMEM;
    while (slots < max_devices * 2u && slots < (1u << 30))
        slots <<= 1;
    if ((inv->tab.slot = calloc(slots, sizeof(*inv->tab.slot))) == NULL ||
        (inv->d = calloc(max_devices ? max_devices : 1, sizeof(*inv->d))) == NULL) {
        free(inv->tab.slot);
        free(inv);
        *out = NULL;
        return MM_ENOMEM;
    }
    /* Written now, not on first use: a page first read (as the zero page) and then written is
     * copied and flushed from every thread's TLB, an interrupt to every core on the way. */
    memset(inv->tab.slot, 0, (size_t)slots * sizeof(*inv->tab.slot));
    inv->tab.mask = slots - 1;
    inv->tab.rec = inv->d;
    inv->tab.stride = sizeof(*inv->d);
    inv->tab.last_off = offsetof(struct device, last_us);
    inv->max = max_devices;
    { /* recursive: a finding reported under the lock comes back for names */
        pthread_mutexattr_t at;
        pthread_mutexattr_init(&at);
        pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&inv->mu, &at);
        pthread_mutexattr_destroy(&at);
    }
    return 0;
}

void inventory_destroy(struct inventory *inv)
{
    if (inv == NULL)
        return;
    pthread_mutex_destroy(&inv->mu);
    free(inv->d);
    free(inv->tab.slot);
    free(inv);
}

void inventory_set_config(struct inventory *inv, const struct mm_config *cfg)
{
    pthread_mutex_lock(&inv->mu);
    inv->cfg = cfg;
    pthread_mutex_unlock(&inv->mu);
}

void inventory_set_outputs(struct inventory *inv, inventory_finding_fn fn, void *ud,
                           struct eve *eve, const struct eve_ctx *ctx)
{
    inv->finding = fn;
    inv->finding_ud = ud;
    inv->eve = eve_wants_inventory(eve) ? eve : NULL; /* no one takes them: none noted */
    inv->ctx = ctx;
}

void inventory_set_oui(struct inventory *inv, const struct oui *oui)
{
    inv->oui = oui;
}

void inventory_set_connections(struct inventory *inv, struct connections *c)
{
    inv->conns = c;
}

void inventory_set_baseline(struct inventory *inv, struct baseline *b)
{
    inv->base = b;
}

void inventory_set_learned(struct inventory *inv, struct baseline *b)
{
    inv->learned = b;
}

struct baseline *inventory_learned(struct inventory *inv)
{
    return inv->learned;
}

void inventory_set_dns(struct inventory *inv, const struct dnscache *dns)
{
    inv->dns = dns;
}

/* --- changes --------------------------------------------------------------------------------- */

/*
 * A change to device d in the update under way; a new device's changes are its new_device.
 * Returns 1 when it will be written.
 */
static int note(struct inventory *inv, const struct device *d, const char *change, const char *what,
                const char *from, const char *to)
{
    struct note *n;

    if (inv->eve == NULL || (d->fresh && strcmp(change, "new_device") != 0))
        return 0;
    if (inv->nnotes == INVENTORY_MAX_NOTES) {
        inv->notes_lost++;
        return 0;
    }
    n = &inv->note[inv->nnotes++];
    n->dev = (uint32_t)(d - inv->d);
    n->change = change;
    snprintf(n->what, sizeof(n->what), "%s", what != NULL ? what : "");
    snprintf(n->from, sizeof(n->from), "%s", from != NULL ? from : "");
    snprintf(n->to, sizeof(n->to), "%s", to != NULL ? to : "");
    return 1;
}

/* A text field of d set to value (cut to size); noted when it changed. */
static void set_field(struct inventory *inv, struct device *d, const char *what, char *field,
                      size_t size, const char *value)
{
    if (strncmp(field, value, size - 1) == 0)
        return;
    note(inv, d, "identity", what, field, value);
    snprintf(field, size, "%s", value);
}

/* The update's changes written, each with its device's record as it is now. */
static void flush_notes(struct inventory *inv, uint64_t ts_us)
{
    unsigned i;

    for (i = 0; i < inv->nnotes; i++) {
        const struct note *n = &inv->note[i];
        struct device *d = &inv->d[n->dev];
        struct inventory_snapshot snap;
        struct eve_inventory c = {ts_us,
                                  d->ip,
                                  n->change,
                                  n->what[0] != '\0' ? n->what : NULL,
                                  n->from[0] != '\0' ? n->from : NULL,
                                  n->to[0] != '\0' ? n->to : NULL,
                                  inventory__snapshot_json,
                                  &snap,
                                  sizeof(snap)};

        inventory__snapshot_of(inv, d, &snap);
        eve_write_inventory(inv->eve, inv->ctx, &c);
        d->fresh = 0;
    }
    inv->nnotes = 0;
}

/*
 * A full table makes room for new devices (see addrtab.c). Called before an update that may
 * add two devices, never during one, so no device pointer outlives a move.
 */
static void make_room(struct inventory *inv)
{
    uint32_t gone;

    if (inv->n + 2 <= inv->max || inv->max < 16)
        return;
    gone = inventory__evict(&inv->tab, inv->n, inv->max / 8);
    inv->n -= gone;
    inv->aged += gone;
}

/* The device of ip if there is one. */
static struct device *device_find(struct inventory *inv, const uint8_t ip[16])
{
    uint32_t *slot = inventory__slot(&inv->tab, ip);

    return *slot != 0 ? &inv->d[*slot - 1] : NULL;
}

/*
 * The device of ip, made if it is internal and there is room; NULL otherwise. The table is
 * asked first: most flows end between devices it already holds.
 */
static struct device *device_of(struct inventory *inv, const uint8_t ip[16], uint64_t ts_us)
{
    uint32_t *slot;
    struct device *d;

    if (inv->cfg == NULL)
        return NULL;
    if (*(slot = inventory__slot(&inv->tab, ip)) != 0) {
        d = &inv->d[*slot - 1];
    } else { /* a new address: a device if it is internal */
        if (config_zone_of(inv->cfg, ip) == ZONE_INTERNET)
            return NULL;
        if (inv->n >= inv->max) {
            inv->dropped++;
            return NULL;
        }
        d = &inv->d[inv->n++];
        *slot = inv->n;
        memcpy(d->ip, ip, 16);
        d->first_us = ts_us;
        d->fresh = (uint8_t)note(inv, d, "new_device", NULL, NULL, NULL);
    }
    if (ts_us > d->last_us)
        d->last_us = ts_us;
    if (ts_us < d->first_us)
        d->first_us = ts_us;
    return d;
}

static void add_service(struct inventory *inv, struct device *d, const struct flow *f)
{
    uint16_t port = flow_dst_port(f);
    unsigned i;

    for (i = 0; i < d->nsvc; i++)
        if (d->svc[i].l4 == f->key.proto && d->svc[i].port == port)
            break;
    if (i == d->nsvc) {
        if (d->nsvc == INVENTORY_MAX_SERVICES)
            return;
        char what[16];
        d->nsvc++;
        d->svc[i].l4 = f->key.proto;
        d->svc[i].port = port;
        snprintf(what, sizeof(what), "%s/%u", f->key.proto == 6 ? "TCP" : "UDP", port);
        note(inv, d, "new_service", what, NULL,
             classify_protocol_name(f->app.master ? f->app.master : f->app.app));
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

/* --- software and end of support ----------------------------------------------------------- */

static void report_eos(struct inventory *inv, struct device *d, struct flow *f)
{
    struct inventory_evidence b = {.n = 0};

    d->eos.pending = 0;
    inventory__ev(&b, "product", d->eos.product);
    inventory__ev(&b, "support_ended", d->eos.ended);
    inventory__ev(&b, rules_eos_hint_name((enum eos_hint)d->eos.hint), d->eos.value);
    inventory__ev(&b, "source", d->eos.source);
    inventory__finding(inv, d, f, INVENTORY_END_OF_SUPPORT, &b);
}

/*
 * Whether a browser's user agent may judge its device: the Windows version it names ("6.1" of
 * "Mozilla/5.0 (Windows NT 6.1; ...") was named by INVENTORY_UA_AGREE of the device's user
 * agents and no other version ever was (a proxy or terminal server speaks for many systems).
 */
static int ua_judges(struct device *d, const char *ua)
{
    static const char lead[] = "Mozilla/5.0 (Windows NT ";
    char nt[sizeof(d->ua_nt)];
    size_t n;

    if (strncmp(ua, lead, sizeof(lead) - 1) != 0)
        return 0;
    ua += sizeof(lead) - 1;
    n = strcspn(ua, ";)");
    if (n == 0 || n >= sizeof(nt))
        return 0;
    memcpy(nt, ua, n);
    nt[n] = '\0';
    if (d->ua_nt[0] == '\0')
        memcpy(d->ua_nt, nt, sizeof(nt));
    else if (strcmp(d->ua_nt, nt) != 0)
        d->ua_mixed = 1;
    if (d->ua_agree < UINT8_MAX && !d->ua_mixed)
        d->ua_agree++;
    return !d->ua_mixed && d->ua_agree >= INVENTORY_UA_AGREE;
}

/*
 * A software hint of device d seen at ts_us (on flow f, or outside one: NULL), kept as the
 * latest of its kind and looked up in the end-of-support table; a first match flags the device
 * and is reported, with f or with the device's next flow.
 */
static void software(struct inventory *inv, struct device *d, enum eos_hint h, const char *value,
                     uint64_t ts_us, struct flow *f)
{
    const struct eos_entry *e;

    if (h == EOS_HINT_DICOM_VERSION && d->sw[h][0] != '\0' &&
        strncmp(d->sw[h], value, sizeof(d->sw[h]) - 1) != 0) { /* new firmware or software */
        snprintf(d->fw_from, sizeof(d->fw_from), "%s", d->sw[h]);
        d->pending |= 1u << INVENTORY_FIRMWARE_CHANGE;
    }
    if (h == EOS_HINT_WINDOWS || h == EOS_HINT_DICOM_VERSION)
        set_field(inv, d, rules_eos_hint_name(h), d->sw[h], sizeof(d->sw[h]), value);
    else
        snprintf(d->sw[h], sizeof(d->sw[h]), "%s", value);
    if (h == EOS_HINT_USER_AGENT && !ua_judges(d, value))
        return;
    if (d->eos.product[0] != '\0' || inv->cfg == NULL ||
        (e = rules_eos_match(inv->cfg->ruleset, h, d->sw[h], ts_us)) == NULL)
        return;
    snprintf(d->eos.product, sizeof(d->eos.product), "%s", e->product);
    memcpy(d->eos.ended, e->ended, sizeof(d->eos.ended));
    snprintf(d->eos.source, sizeof(d->eos.source), "%s", e->source != NULL ? e->source : "");
    d->eos.hint = (uint8_t)h;
    memcpy(d->eos.value, d->sw[h], sizeof(d->eos.value));
    note(inv, d, "identity", "end_of_support", NULL, d->eos.product);
    d->eos.pending = 1;
    if (f != NULL)
        report_eos(inv, d, f);
}

/* An SSH banner's software version: "OpenSSH_7.4p1 Debian-10+deb9u7" of "SSH-2.0-OpenSSH_...". */
static const char *ssh_software(const char *banner)
{
    const char *dash;

    if (strncmp(banner, "SSH-", 4) == 0 && (dash = strchr(banner + 4, '-')) != NULL)
        return dash + 1;
    return banner;
}

/* The first name a server's certificate lists that is a host's, not a wildcard's. */
static void cert_name(struct inventory *inv, struct device *d, const char *list)
{
    char name[NAMES_LEN];
    size_t n;

    for (; *list != '\0'; list += n + (list[n] == ',')) {
        n = strcspn(list, ",");
        if (n == 0 || n >= sizeof(name) || list[0] == '*')
            continue;
        memcpy(name, list, n);
        name[n] = '\0';
        set_field(inv, d, "tls_cert", d->cert, sizeof(d->cert), name);
        return;
    }
}

/*
 * What a flow says of its ends' software: the computer name and Windows version each side's
 * NTLMSSP messages state (build 0 is Samba's: kept, never judged), the client's browser, each
 * side's SSH.
 */
static void flow_software(struct inventory *inv, struct flow *f, struct device *c, struct device *s)
{
    const struct dcerpc_info *rpc = dcerpc_info(f);
    const char *v;
    char ver[24];
    int side;

    for (side = 0; rpc != NULL && side < 2; side++) /* names first: findings name both ends */
        if ((side ? s : c) != NULL && rpc->host[side][0] != '\0')
            set_field(inv, side ? s : c, "ntlm", (side ? s : c)->ntlm, sizeof(c->ntlm),
                      rpc->host[side]);
    for (side = 0; rpc != NULL && side < 2; side++) {
        struct device *d = side ? s : c;
        const struct dcerpc_os *os = &rpc->os[side];
        if (d == NULL || os->major == 0)
            continue;
        snprintf(ver, sizeof(ver), "%u.%u.%u", os->major, os->minor, os->build);
        if (os->build == 0)
            set_field(inv, d, "windows", d->sw[EOS_HINT_WINDOWS], sizeof(d->sw[0]), ver);
        else
            software(inv, d, EOS_HINT_WINDOWS, ver, f->first_us, f);
    }
    if (f->app.meta == NULL)
        return;
    if (c != NULL && (v = classify_meta_get(f->app.meta, META_HTTP_USER_AGENT)) != NULL)
        software(inv, c, EOS_HINT_USER_AGENT, v, f->first_us, f);
    if (c != NULL && (v = classify_meta_get(f->app.meta, META_SSH_CLIENT)) != NULL)
        software(inv, c, EOS_HINT_SSH, ssh_software(v), f->first_us, f);
    if (s != NULL && (v = classify_meta_get(f->app.meta, META_SSH_SERVER)) != NULL)
        software(inv, s, EOS_HINT_SSH, ssh_software(v), f->first_us, f);
    if (s != NULL && (v = classify_meta_get(f->app.meta, META_TLS_CERT_NAMES)) != NULL)
        cert_name(inv, s, v);
}

/*
 * Requests in an accepted association: the requester stored or queried, the acceptor was; the
 * SOP classes requested, on both ends.
 */
static void dicom_did(struct device *c, struct device *s, const struct dicom_info *di)
{
    uint8_t did = 0;
    unsigned i;

    if (di->commands[DICOM_C_STORE] > 0)
        did |= DEVICE_DICOM_STORE;
    if (di->commands[DICOM_C_FIND] + di->commands[DICOM_C_MOVE] + di->commands[DICOM_C_GET] > 0)
        did |= DEVICE_DICOM_QUERY;
    if (c != NULL)
        c->dicom_did |= did;
    if (s != NULL)
        s->dicom_did |= (uint8_t)(did << 2);
    for (i = 0; i < di->nsops; i++) { /* both ends handle the classes requested */
        int k = dicom_uid_index(di->sops[i]);
        uint64_t bit = k >= 0 && k < 64 ? 1ull << k : 0;
        if (c != NULL)
            c->sop_classes |= bit, c->sop_other |= bit == 0;
        if (s != NULL)
            s->sop_classes |= bit, s->sop_other |= bit == 0;
    }
}

/*
 * What a DICOM or HL7 flow says of its ends: the association requester's (the client's) AE
 * title and implementation, the acceptor's AE title once it accepted; the sending application
 * and facility of each direction's messages.
 */
static void medical_identity(struct inventory *inv, struct flow *f, struct device *c,
                             struct device *s)
{
    const struct dicom_info *di = medical_dicom(f);
    const struct hl7_info *h = medical_hl7(f);
    unsigned i;

    if (di != NULL && c != NULL && di->calling_ae[0] != '\0') {
        set_field(inv, c, "dicom_ae_title", c->ae, sizeof(c->ae), di->calling_ae);
        if (di->impl_class[0] != '\0')
            set_field(inv, c, "dicom_implementation_class_uid", c->impl_class,
                      sizeof(c->impl_class), di->impl_class);
        if (di->impl_version[0] != '\0')
            software(inv, c, EOS_HINT_DICOM_VERSION, di->impl_version, f->first_us, f);
    }
    /* The called AE title is the acceptor's only if it accepted (a reject may say "unknown"). */
    if (di != NULL && s != NULL && di->called_ae[0] != '\0' &&
        (di->assoc == DICOM_ASSOC_ACCEPTED || di->assoc == DICOM_ASSOC_RELEASED))
        set_field(inv, s, "dicom_ae_title", s->ae, sizeof(s->ae), di->called_ae);
    if (di != NULL && (di->assoc == DICOM_ASSOC_ACCEPTED || di->assoc == DICOM_ASSOC_RELEASED))
        dicom_did(c, s, di);
    for (i = 0; h != NULL && i < h->nsenders; i++) {
        struct device *d = h->senders[i].dir == 0 ? c : s;
        if (d != NULL && d->hl7_type[0] == '\0')
            memcpy(d->hl7_type, h->senders[i].type, sizeof(d->hl7_type));
        if (d == NULL || h->senders[i].app[0] == '\0')
            continue;
        set_field(inv, d, "hl7_sending_application", d->hl7_app, sizeof(d->hl7_app),
                  h->senders[i].app);
        set_field(inv, d, "hl7_sending_facility", d->hl7_facility, sizeof(d->hl7_facility),
                  h->senders[i].facility);
    }
}

static void flow_ended(struct inventory *inv, struct flow *f)
{
    struct device *c, *s = NULL;

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
            add_service(inv, s, f);
    }
    if (f->app.med != NULL)
        medical_identity(inv, f, c, s);
    if (f->app.meta != NULL || f->app.rpc != NULL)
        flow_software(inv, f, c, s);
    if (c != NULL && c->eos.pending)
        report_eos(inv, c, f);
    if (s != NULL && s->eos.pending)
        report_eos(inv, s, f);
    if (c != NULL) {
        inventory__ledger_judge(inv, c);
        inventory__report(inv, c, f);
    }
    if (s != NULL) {
        inventory__ledger_judge(inv, s);
        inventory__report(inv, s, f);
    }
}

void inventory_flow_event(void *ud, enum flow_event ev, struct flow *f, enum flow_end_reason reason)
{
    struct inventory *inv = ud;

    (void)reason;
    if (ev != FLOW_EV_ENDED || (f->flags & FLOW_F_L2_GROUP))
        return;
    pthread_mutex_lock(&inv->mu);
    make_room(inv);
    flow_ended(inv, f);
    flush_notes(inv, f->last_us);
    if (inv->conns != NULL)
        connections_flow_ended(inv->conns, inv->cfg, inv->dns, f);
    if (inv->base != NULL)
        baseline_flow_ended(inv->base, inv->cfg, inv->dns, f);
    pthread_mutex_unlock(&inv->mu);
}

static void set_mac(struct inventory *inv, struct device *d, const uint8_t mac[6])
{
    char from[INVENTORY_MAC_STR], to[INVENTORY_MAC_STR];

    if (d->has_mac && memcmp(d->mac, mac, 6) == 0)
        return;
    note(inv, d, "identity", "mac", d->has_mac ? inventory__mac_str(d->mac, from) : NULL,
         inventory__mac_str(mac, to));
    memcpy(d->mac, mac, 6);
    d->has_mac = 1;
    if (d->judged)
        inventory__ledger_mac(inv, d);
    else
        inventory__ledger_judge(inv, d);
}

void inventory_arp(struct inventory *inv, const uint8_t ip[16], const uint8_t mac[6],
                   uint64_t ts_us)
{
    struct device *d;

    pthread_mutex_lock(&inv->mu);
    make_room(inv);
    if ((d = device_of(inv, ip, ts_us)) != NULL)
        set_mac(inv, d, mac);
    flush_notes(inv, ts_us);
    pthread_mutex_unlock(&inv->mu);
}

static void dhcp_seen(struct inventory *inv, const struct dhcp_msg *m, uint64_t ts_us)
{
    struct device *d;

    if (!m->has_ip || (d = device_of(inv, m->ip, ts_us)) == NULL)
        return;
    if (m->has_mac)
        set_mac(inv, d, m->mac);
    if (m->hostname[0] != '\0')
        set_field(inv, d, "name", d->name, sizeof(d->name), m->hostname);
    if (m->fqdn[0] != '\0')
        set_field(inv, d, "fqdn", d->fqdn, sizeof(d->fqdn), m->fqdn);
    if (m->params[0] != '\0')
        memcpy(d->dhcp_params, m->params, sizeof(d->dhcp_params));
    if (m->vendor_class[0] != '\0')
        software(inv, d, EOS_HINT_DHCP_VENDOR, m->vendor_class, ts_us, NULL);
}

void inventory_dhcp(struct inventory *inv, const struct dhcp_msg *m, uint64_t ts_us)
{
    pthread_mutex_lock(&inv->mu);
    make_room(inv);
    dhcp_seen(inv, m, ts_us);
    flush_notes(inv, ts_us);
    pthread_mutex_unlock(&inv->mu);
}

int inventory_device_name(struct inventory *inv, const uint8_t ip[16], char *out, size_t size)
{
    const struct ledger_entry *e;
    const struct device *d;

    out[0] = '\0';
    pthread_mutex_lock(&inv->mu);
    d = device_find(inv, ip);
    e = inventory__ledger_row(inv, ip, d);
    if (e != NULL && e->name[0] != '\0')
        snprintf(out, size, "%s", e->name);
    else if (d != NULL)
        snprintf(out, size, "%s", inventory__name(d));
    pthread_mutex_unlock(&inv->mu);
    return out[0] != '\0';
}

/* Names into devices: the sender's own, or a device already seen (a DNS answer). */
static void named(struct inventory *inv, const struct host_name *h, unsigned n,
                  const uint8_t *sender, uint64_t ts_us)
{
    static const char *const what[] = {"netbios", "mdns", "mdns", "dns"};
    struct device *d;
    unsigned i;

    for (i = 0; i < n; i++) {
        if ((d = memcmp(h[i].ip, sender, 16) == 0 ? device_of(inv, h[i].ip, ts_us)
                                                  : device_find(inv, h[i].ip)) == NULL)
            continue;
        if (h[i].source == NAME_NETBIOS)
            set_field(inv, d, what[0], d->netbios, sizeof(d->netbios), h[i].name);
        else if (h[i].source == NAME_DNS)
            set_field(inv, d, what[3], d->dns, sizeof(d->dns), h[i].name);
        else
            set_field(inv, d, what[1], d->mdns, sizeof(d->mdns), h[i].name);
    }
}

void inventory_udp(struct inventory *inv, const struct pkt_view *pv, uint64_t ts_us)
{
    struct host_name h[NAMES_MAX];
    struct dhcp_msg m;
    unsigned n = 0;
    int dhcp;

    if ((dhcp = pv->dst_port == 67 || pv->dst_port == 68) &&
        dhcp_parse(pv->payload, pv->payload_len, &m) != 0)
        return;
    /* DNS answers name hosts when the site's own resolvers give them (an internal server). */
    if (!dhcp && pv->src_port == 53 &&
        (inv->cfg == NULL || config_zone_of(inv->cfg, pv->src) == ZONE_INTERNET))
        return;
    if (!dhcp && (n = names_from_udp(pv->payload, pv->payload_len, pv->src_port, pv->dst_port,
                                     pv->src, h, NAMES_MAX)) == 0)
        return;
    pthread_mutex_lock(&inv->mu);
    make_room(inv);
    if (dhcp)
        dhcp_seen(inv, &m, ts_us);
    else
        named(inv, h, n, pv->src, ts_us);
    flush_notes(inv, ts_us);
    pthread_mutex_unlock(&inv->mu);
}

void inventory_get_stats(struct inventory *inv, struct inventory_stats *st)
{
    pthread_mutex_lock(&inv->mu);
    st->devices = inv->n;
    st->dropped = inv->dropped;
    st->aged = inv->aged;
    pthread_mutex_unlock(&inv->mu);
}
