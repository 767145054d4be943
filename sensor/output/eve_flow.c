/*
 * What an event says about a flow (addresses, ports, protocol names, zones, metadata, the HL7 or
 * DICOM summary), shared by alerts and flow records, and the flow record itself. A flow record
 * is made on the output thread from a copy the packet path took into a recycled block.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mimamori/community_id.h"
#include "mimamori/error.h"
#include "mimamori/medical.h"
#include "mimamori/output.h"
#include "mimamori/zone.h"

#include "eve_int.h"

static const char *proto_name(uint8_t proto, char *buf, size_t len)
{
    switch (proto) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "IPv6-ICMP";
    case 132:
        return "SCTP";
    case 47:
        return "GRE";
    case 50:
        return "ESP";
    default:
        snprintf(buf, len, "%u", proto);
        return buf;
    }
}

/* Two lower-case hex digits, as Suricata writes TCP flags. */
static const char *hex8(uint8_t v, char buf[3])
{
    static const char digits[] = "0123456789abcdef";

    buf[0] = digits[v >> 4];
    buf[1] = digits[v & 15];
    buf[2] = '\0';
    return buf;
}

static json_t *tcp_object(const struct flow *f)
{
    uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
    char buf[3];
    json_t *o = json_object();

    json_object_set_new_nocheck(o, "tcp_flags", eve__ours(hex8(all, buf)));
    json_object_set_new_nocheck(o, "tcp_flags_ts",
                                eve__ours(hex8(f->tcp_flags[FLOW_TOSERVER], buf)));
    json_object_set_new_nocheck(o, "tcp_flags_tc",
                                eve__ours(hex8(f->tcp_flags[FLOW_TOCLIENT], buf)));
    if (all & TCP_SYN)
        json_object_set_new_nocheck(o, "syn", json_true());
    if (all & TCP_FIN)
        json_object_set_new_nocheck(o, "fin", json_true());
    if (all & TCP_RST)
        json_object_set_new_nocheck(o, "rst", json_true());
    if (all & TCP_PSH)
        json_object_set_new_nocheck(o, "psh", json_true());
    if (all & TCP_ACK)
        json_object_set_new_nocheck(o, "ack", json_true());
    return o;
}

static void set_str(json_t *o, const char *key, const char *val)
{
    if (val != NULL && *val != '\0')
        json_object_set_new_nocheck(o, key, json_string(val));
}

void eve__view_of(struct flow_view *v, const struct eve_ctx *ctx, const struct flow *f)
{
    int i;

    v->f = f;
    classify_names(ctx->cls, &f->app, &v->names);
    v->iface = ctx->nifaces > 1 && f->iface < ctx->nifaces ? ctx->ifaces[f->iface] : NULL;
    for (i = 0; i < 2; i++) {
        int z = config_zone_of(ctx->cfg, i ? flow_dst_addr(f) : flow_src_addr(f));
        v->zone[i] = config_zone_name(ctx->cfg, z);
        v->zone_desc[i] = ctx->cfg->zone_desc[z];
    }
    v->meta = f->app.meta;
    v->hl7 = medical_hl7(f);
    v->dicom = medical_dicom(f);
}

/* Protocol metadata in EVE's own objects. */
static void add_metadata(json_t *ev, const struct classify_meta *m)
{
    const char *s;
    json_t *o;

    if (m == NULL)
        return;
    if (classify_meta_get(m, META_TLS_SNI) || classify_meta_get(m, META_TLS_VERSION)) {
        o = json_object();
        set_str(o, "sni", classify_meta_get(m, META_TLS_SNI));
        set_str(o, "version", classify_meta_get(m, META_TLS_VERSION));
        if ((s = classify_meta_get(m, META_TLS_JA3)) != NULL)
            json_object_set_new_nocheck(o, "ja3", json_pack("{ss}", "hash", s));
        if ((s = classify_meta_get(m, META_TLS_JA3S)) != NULL)
            json_object_set_new_nocheck(o, "ja3s", json_pack("{ss}", "hash", s));
        json_object_set_new_nocheck(ev, "tls", o);
    }
    if (classify_meta_get(m, META_HTTP_HOST) || classify_meta_get(m, META_HTTP_USER_AGENT)) {
        o = json_object();
        set_str(o, "hostname", classify_meta_get(m, META_HTTP_HOST));
        set_str(o, "http_user_agent", classify_meta_get(m, META_HTTP_USER_AGENT));
        json_object_set_new_nocheck(ev, "http", o);
    }
    if ((s = classify_meta_get(m, META_DNS_RRNAME)) != NULL)
        json_object_set_new_nocheck(
            ev, "dns", json_pack("{sissss}", "version", 2, "type", "query", "rrname", s));
    if (classify_meta_get(m, META_SSH_CLIENT) || classify_meta_get(m, META_SSH_SERVER)) {
        o = json_object();
        if ((s = classify_meta_get(m, META_SSH_CLIENT)) != NULL)
            json_object_set_new_nocheck(o, "client", json_pack("{ss}", "software_version", s));
        if ((s = classify_meta_get(m, META_SSH_SERVER)) != NULL)
            json_object_set_new_nocheck(o, "server", json_pack("{ss}", "software_version", s));
        json_object_set_new_nocheck(ev, "ssh", o);
    }
}

/* Per-flow counters by name, only those that are not zero; NULL when all are. */
json_t *eve__counters(const uint32_t *v, unsigned n, const char *(*name)(unsigned))
{
    json_t *o = NULL;
    unsigned i;

    for (i = 0; i < n; i++) {
        if (v[i] == 0)
            continue;
        if (o == NULL)
            o = json_object();
        json_object_set_new_nocheck(o, name(i), json_integer(v[i]));
    }
    return o;
}

static const char *hl7_ack_key(unsigned i)
{
    return hl7_ack_name((enum hl7_ack)i);
}

static const char *hl7_anomaly_key(unsigned i)
{
    return hl7_anomaly_name((enum hl7_anomaly)i);
}

static const char *dicom_cmd_key(unsigned i)
{
    return dicom_cmd_name((enum dicom_cmd)i);
}

static const char *dicom_anomaly_key(unsigned i)
{
    return dicom_anomaly_name((enum dicom_anomaly)i);
}

static void set_counters(json_t *o, const char *key, json_t *v)
{
    if (v != NULL)
        json_object_set_new_nocheck(o, key, v);
}

/* HL7: the MSH fields of the flow's first message, message types, acknowledgment codes. */
static json_t *hl7_object(const struct hl7_info *h)
{
    json_t *o = json_object(), *a;
    unsigned i;

    json_object_set_new_nocheck(o, "messages_toserver", json_integer(h->messages[FLOW_TOSERVER]));
    json_object_set_new_nocheck(o, "messages_toclient", json_integer(h->messages[FLOW_TOCLIENT]));
    if (h->have_first) {
        set_str(o, "message_type", h->first.type);
        set_str(o, "sending_application", h->first.sending_app);
        set_str(o, "sending_facility", h->first.sending_facility);
        set_str(o, "receiving_application", h->first.receiving_app);
        set_str(o, "receiving_facility", h->first.receiving_facility);
        set_str(o, "processing_id", h->first.processing_id);
        set_str(o, "version", h->first.version);
    }
    if (h->ntypes > 0) {
        a = json_array();
        for (i = 0; i < h->ntypes; i++)
            json_array_append_new(a, json_string(h->types[i]));
        json_object_set_new_nocheck(o, "message_types", a);
    }
    set_counters(o, "ack_codes", eve__counters(h->acks, HL7_ACK__COUNT, hl7_ack_key));
    set_counters(o, "anomalies", eve__counters(h->anomalies, HL7_AN__COUNT, hl7_anomaly_key));
    return o;
}

static json_t *service_list(uint16_t mask)
{
    json_t *a = json_array();
    unsigned i;

    for (i = 0; i < DICOM_SVC__COUNT; i++)
        if (mask & (1u << i))
            json_array_append_new(a, eve__ours(dicom_service_name((enum dicom_service)i)));
    return a;
}

/* DICOM: association, presentation contexts, DIMSE commands; no instance or patient data. */
static json_t *dicom_object(const struct dicom_info *d)
{
    json_t *o = json_object(), *a;
    char st[8];
    unsigned i;

    set_str(o, "calling_ae", d->calling_ae);
    set_str(o, "called_ae", d->called_ae);
    json_object_set_new_nocheck(o, "association", eve__ours(dicom_assoc_name(d->assoc)));
    set_str(o, "application_context", d->app_context);
    set_str(o, "implementation_class_uid", d->impl_class);
    set_str(o, "implementation_version", d->impl_version);
    if (d->ctx_proposed > 0 || d->ctx_accepted > 0 || d->ctx_refused > 0) {
        json_object_set_new_nocheck(o, "presentation_contexts",
                                    json_pack("{sisisi}", "proposed", d->ctx_proposed, "accepted",
                                              d->ctx_accepted, "refused", d->ctx_refused));
        json_object_set_new_nocheck(o, "services_proposed", service_list(d->proposed));
        json_object_set_new_nocheck(o, "services_accepted", service_list(d->accepted));
    }
    if (d->assoc == DICOM_ASSOC_REJECTED)
        json_object_set_new_nocheck(
            o, "reject",
            json_pack("{ssssss}", "result", dicom_reject_result_name(d->rj_result), "source",
                      dicom_reject_source_name(d->rj_source), "reason",
                      dicom_reject_reason_name(d->rj_source, d->rj_reason)));
    if (d->assoc == DICOM_ASSOC_ABORTED)
        json_object_set_new_nocheck(
            o, "abort", json_pack("{sisi}", "source", d->abort_source, "reason", d->abort_reason));
    set_counters(o, "commands", eve__counters(d->commands, DICOM_CMD__COUNT, dicom_cmd_key));
    if (d->nsops > 0) {
        a = json_array();
        for (i = 0; i < d->nsops; i++) {
            const char *name = dicom_uid_name(d->sops[i]);
            json_array_append_new(a, json_string(name != NULL ? name : d->sops[i]));
        }
        json_object_set_new_nocheck(o, "sop_classes", a);
    }
    if (d->ndests > 0) {
        a = json_array();
        for (i = 0; i < d->ndests; i++)
            json_array_append_new(a, json_string(d->dests[i]));
        json_object_set_new_nocheck(o, "move_destinations", a);
    }
    if (d->responses > 0) {
        json_object_set_new_nocheck(o, "responses", json_integer(d->responses));
        json_object_set_new_nocheck(o, "failed_responses", json_integer(d->failures));
        if (d->failures > 0) {
            snprintf(st, sizeof(st), "0x%04X", d->last_failure);
            json_object_set_new_nocheck(o, "last_failure_status", eve__ours(st));
        }
    }
    set_counters(o, "anomalies", eve__counters(d->anomalies, DICOM_AN__COUNT, dicom_anomaly_key));
    return o;
}

static json_t *ndpi_object(const struct flow_view *v)
{
    const struct classify_names *names = &v->names;
    const char *risks[64];
    unsigned nr, i;
    json_t *o = json_object(), *arr;

    json_object_set_new_nocheck(o, "protocol", eve__ours(names->protocol));
    set_str(o, "master_protocol", names->master);
    set_str(o, "app_protocol", names->app);
    set_str(o, "category", names->category);
    set_str(o, "confidence", names->confidence);
    nr = classify_risk_names(v->f->app.risk, risks, 64);
    if (nr > 0) {
        arr = json_array();
        for (i = 0; i < nr; i++)
            json_array_append_new(arr, eve__ours(risks[i]));
        json_object_set_new_nocheck(o, "risks", arr);
    }
    json_object_set_new_nocheck(o, "src_zone", eve__ours(v->zone[0]));
    json_object_set_new_nocheck(o, "dest_zone", eve__ours(v->zone[1]));
    if (v->hl7 != NULL)
        json_object_set_new_nocheck(o, "hl7", hl7_object(v->hl7));
    else if (v->dicom != NULL)
        json_object_set_new_nocheck(o, "dicom", dicom_object(v->dicom));
    return o;
}

/* Fields common to every event about a flow. */
void eve__add_flow_common(json_t *ev, const struct flow_view *v)
{
    const struct flow *f = v->f;
    const char *app_proto = v->names.app_proto;
    char a[48], b[48], pbuf[8], cid[COMMUNITY_ID_LEN], lower[64];
    int has_ports = f->key.proto == 6 || f->key.proto == 17 || f->key.proto == 132;
    int icmp = f->key.proto == 1 || f->key.proto == 58;
    uint16_t sp = icmp ? f->icmp_type : flow_src_port(f);
    uint16_t dp = icmp ? f->icmp_code : flow_dst_port(f);

    if (v->iface != NULL)
        json_object_set_new_nocheck(ev, "in_iface", json_string(v->iface));
    if (f->flags & FLOW_F_ARP) { /* an ARP request: its sender and target, nothing of a flow */
        json_object_set_new_nocheck(ev, "src_ip",
                                    eve__ours(zone_addr_str(flow_src_addr(f), a, sizeof(a))));
        json_object_set_new_nocheck(ev, "dest_ip",
                                    eve__ours(zone_addr_str(flow_dst_addr(f), b, sizeof(b))));
        json_object_set_new_nocheck(ev, "proto", eve__ours("ARP"));
        return;
    }
    json_object_set_new_nocheck(ev, "flow_id", json_integer((json_int_t)f->id));
    json_object_set_new_nocheck(ev, "src_ip",
                                eve__ours(zone_addr_str(flow_src_addr(f), a, sizeof(a))));
    if (has_ports)
        json_object_set_new_nocheck(ev, "src_port", json_integer(flow_src_port(f)));
    json_object_set_new_nocheck(ev, "dest_ip",
                                eve__ours(zone_addr_str(flow_dst_addr(f), b, sizeof(b))));
    if (has_ports)
        json_object_set_new_nocheck(ev, "dest_port", json_integer(flow_dst_port(f)));
    json_object_set_new_nocheck(ev, "proto",
                                eve__ours(proto_name(f->key.proto, pbuf, sizeof(pbuf))));
    if (icmp) {
        json_object_set_new_nocheck(ev, "icmp_type", json_integer(f->icmp_type));
        json_object_set_new_nocheck(ev, "icmp_code", json_integer(f->icmp_code));
    }
    if (f->key.vlan[0] != 0 || f->key.vlan[1] != 0) {
        json_t *vl = json_array();
        json_array_append_new(vl, json_integer(f->key.vlan[0]));
        if (f->key.vlan[1] != 0)
            json_array_append_new(vl, json_integer(f->key.vlan[1]));
        json_object_set_new_nocheck(ev, "vlan", vl);
    }
    if (community_id_v1(flow_src_addr(f), flow_dst_addr(f), sp, dp, f->key.proto, 0, cid,
                        sizeof(cid)) == 0)
        json_object_set_new_nocheck(ev, "community_id", eve__ours(cid));
    if (app_proto != NULL) {
        size_t i;
        for (i = 0; app_proto[i] && i < sizeof(lower) - 1; i++)
            lower[i] =
                (char)(app_proto[i] >= 'A' && app_proto[i] <= 'Z' ? app_proto[i] + ('a' - 'A')
                                                                  : app_proto[i]);
        lower[i] = '\0';
        json_object_set_new_nocheck(ev, "app_proto", eve__ours(lower));
    }
    json_object_set_new_nocheck(ev, "ndpi", ndpi_object(v));
    add_metadata(ev, v->meta);
}

/*
 * A flow record is made on the output thread, so the packet path only copies what it needs: the
 * flow, its names, zones and interface, its metadata and HL7/DICOM summary, into one block. The
 * copies do not depend on the flow slot, the classifier or the config snapshot, all of which may
 * change or go before the record is made. Blocks are recycled: the output thread hands them
 * back to the writer's pool, so neither thread calls malloc for most records.
 */
#define REC_POOL_MAX 2048u /* blocks a worker keeps for reuse */

enum rec_str {
    REC_HOST = 0,
    REC_IFACE,      /* in_iface of the event, with one capture interface */
    REC_FLOW_IFACE, /* ... of the flow, with several */
    REC_SRC_ZONE,
    REC_DST_ZONE,
    REC_PROTOCOL,
    REC_APP_PROTO,
    REC_MASTER,
    REC_APP,
    REC_CATEGORY,
    REC_CONFIDENCE,
    REC__NSTR
};

struct flow_rec {
    struct flow f;
    struct eve *owner;
    struct flow_rec *next_free;
    const struct classify_meta *meta;
    const struct hl7_info *hl7;
    const struct dicom_info *dicom;
    const char *str[REC__NSTR];
    uint32_t cap;   /* bytes of the block */
    uint8_t reason; /* enum flow_end_reason */
    uint8_t worker; /* whose block it is */
    /* then the metadata, the HL7 or DICOM summary and the strings */
};

#define REC_ALIGN(n) (((n) + 15u) & ~(size_t)15u)

/*
 * A block of at least size bytes for worker's record: a recycled one when the first at hand is
 * large enough. Each worker keeps its own list, taking its blocks the output thread handed
 * back, and frees what is beyond REC_POOL_MAX itself: a block is freed by the thread that
 * allocated it, so neither the output thread nor another worker waits for the lock of a
 * worker's malloc arena.
 */
static struct flow_rec *rec_get(struct eve *e, unsigned worker, size_t size)
{
    struct flow_rec **local, *r;
    unsigned n;

    worker %= MM_MAX_WORKERS;
    local = &e->pool_local[worker];
    if (*local == NULL) { /* take all the output thread has handed back, at once */
        pthread_mutex_lock(&e->pool_mu);
        *local = e->pool_shared[worker];
        n = e->pool_nshared[worker];
        e->pool_shared[worker] = NULL;
        e->pool_nshared[worker] = 0;
        pthread_mutex_unlock(&e->pool_mu);
        for (; n > REC_POOL_MAX; n--) {
            r = *local;
            *local = r->next_free;
            free(r);
        }
    }
    if ((r = *local) != NULL) {
        *local = r->next_free;
        if (r->cap >= size)
            return r;
        free(r);
    }
    size = (size + 63u) & ~(size_t)63u;
    if ((r = malloc(size)) != NULL) {
        r->cap = (uint32_t)size;
        r->worker = (uint8_t)worker;
    }
    return r;
}

static void rec_put(struct flow_rec *r)
{
    struct eve *e = r->owner;

    pthread_mutex_lock(&e->pool_mu);
    r->next_free = e->pool_shared[r->worker];
    e->pool_shared[r->worker] = r;
    e->pool_nshared[r->worker]++;
    pthread_mutex_unlock(&e->pool_mu);
}

void eve__rec_list_free(struct flow_rec *r)
{
    while (r != NULL) {
        struct flow_rec *next = r->next_free;
        free(r);
        r = next;
    }
}

static size_t str_size(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

static struct flow_rec *flow_rec_new(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                                     enum flow_end_reason reason)
{
    struct flow_view v;
    const char *src[REC__NSTR];
    struct flow_rec *r;
    size_t meta = 0, med, size, n;
    char *tail;
    unsigned i;

    eve__view_of(&v, ctx, f);
    src[REC_HOST] = ctx->cfg->sensor_name;
    src[REC_IFACE] = eve__single_iface(ctx);
    src[REC_FLOW_IFACE] = v.iface;
    src[REC_SRC_ZONE] = v.zone[0];
    src[REC_DST_ZONE] = v.zone[1];
    src[REC_PROTOCOL] = v.names.protocol;
    src[REC_APP_PROTO] = v.names.app_proto;
    src[REC_MASTER] = v.names.master;
    src[REC_APP] = v.names.app;
    src[REC_CATEGORY] = v.names.category;
    src[REC_CONFIDENCE] = v.names.confidence;
    if (v.meta != NULL)
        meta = classify_meta_size(v.meta);
    med = v.hl7 != NULL ? sizeof(*v.hl7) : v.dicom != NULL ? sizeof(*v.dicom) : 0;
    size = REC_ALIGN(sizeof(*r)) + REC_ALIGN(meta) + REC_ALIGN(med);
    for (i = 0; i < REC__NSTR; i++)
        size += str_size(src[i]);
    if ((r = rec_get(e, ctx->worker, size)) == NULL)
        return NULL;
    r->owner = e;
    r->f = *f;
    r->f.app.meta = NULL; /* the live flow's: not to be followed from the copy */
    r->f.app.state = NULL;
    r->f.app.med = NULL;
    r->reason = (uint8_t)reason;
    r->meta = NULL;
    r->hl7 = NULL;
    r->dicom = NULL;
    tail = (char *)r + REC_ALIGN(sizeof(*r));
    if (v.meta != NULL) {
        r->meta = memcpy(tail, v.meta, meta);
        tail += REC_ALIGN(meta);
    }
    if (v.hl7 != NULL)
        r->hl7 = memcpy(tail, v.hl7, med);
    else if (v.dicom != NULL)
        r->dicom = memcpy(tail, v.dicom, med);
    tail += REC_ALIGN(med);
    for (i = 0; i < REC__NSTR; i++) {
        r->str[i] = NULL;
        if ((n = str_size(src[i])) > 0) {
            r->str[i] = memcpy(tail, src[i], n);
            tail += n;
        }
    }
    return r;
}

static json_t *flow_event(const struct flow_view *v, enum flow_end_reason reason, const char *host,
                          const char *iface)
{
    const struct flow *f = v->f;
    char start[48], end[48];
    json_t *ev = eve__event_begin("flow", f->first_us, host, iface), *fo = json_object();

    eve__add_flow_common(ev, v);
    eve_format_time(f->first_us, start, sizeof(start));
    eve_format_time(f->last_us, end, sizeof(end));
    json_object_set_new_nocheck(fo, "pkts_toserver", json_integer(f->pkts[FLOW_TOSERVER]));
    json_object_set_new_nocheck(fo, "pkts_toclient", json_integer(f->pkts[FLOW_TOCLIENT]));
    json_object_set_new_nocheck(fo, "bytes_toserver",
                                json_integer((json_int_t)f->bytes[FLOW_TOSERVER]));
    json_object_set_new_nocheck(fo, "bytes_toclient",
                                json_integer((json_int_t)f->bytes[FLOW_TOCLIENT]));
    json_object_set_new_nocheck(fo, "start", eve__ours(start));
    json_object_set_new_nocheck(fo, "end", eve__ours(end));
    json_object_set_new_nocheck(fo, "age",
                                json_integer((json_int_t)((f->last_us - f->first_us) / 1000000u)));
    json_object_set_new_nocheck(fo, "state", eve__ours(flow_state_name((enum flow_state)f->state)));
    json_object_set_new_nocheck(fo, "reason", eve__ours(flow_end_reason_name(reason)));
    json_object_set_new_nocheck(fo, "alerted", json_boolean(f->flags & FLOW_F_ALERTED));
    json_object_set_new_nocheck(ev, "flow", fo);
    if (f->key.proto == 6)
        json_object_set_new_nocheck(ev, "tcp", tcp_object(f));
    return ev;
}

/* output_render_fn: the flow record's line, made on the output thread. */
static char *render_flow(void *arg, size_t *len)
{
    struct flow_rec *r = arg;
    struct flow_view v = {.f = &r->f,
                          .iface = r->str[REC_FLOW_IFACE],
                          .zone = {r->str[REC_SRC_ZONE], r->str[REC_DST_ZONE]},
                          .meta = r->meta,
                          .hl7 = r->hl7,
                          .dicom = r->dicom};
    char *line;

    snprintf(v.names.protocol, sizeof(v.names.protocol), "%s", r->str[REC_PROTOCOL]);
    v.names.app_proto = r->str[REC_APP_PROTO];
    v.names.master = r->str[REC_MASTER];
    v.names.app = r->str[REC_APP];
    v.names.category = r->str[REC_CATEGORY];
    v.names.confidence = r->str[REC_CONFIDENCE];
    line = eve__event_line(
        flow_event(&v, (enum flow_end_reason)r->reason, r->str[REC_HOST], r->str[REC_IFACE]), len);
    rec_put(r);
    return line;
}

int eve_write_flow(struct eve *e, const struct eve_ctx *ctx, const struct flow *f,
                   enum flow_end_reason reason)
{
    struct flow_rec *r;

    if (!e->want_flows) /* no output takes flow records: none is made */
        return 0;
    if ((r = flow_rec_new(e, ctx, f, reason)) == NULL)
        return MM_ENOMEM;
    output_submit_deferred(e->out, OUTPUT_EV_FLOW, 0, f->first_us, render_flow, r);
    eve__counted(e);
    return 0;
}
