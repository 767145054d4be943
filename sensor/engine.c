/*
 * One worker's packet path and its flow events. Per packet: decode into a pkt_view on the stack,
 * account it, find the flow, feed the classifier while it still wants packets, and expire a
 * bounded number of idle flows. Nothing here allocates per packet. Flow events go to the
 * subscribed handlers in order; the EVE flow writer is subscribed first.
 */
#include <stdlib.h>
#include <string.h>

#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/dnscache.h"
#include "mimamori/engine.h"
#include "mimamori/error.h"
#include "mimamori/health.h"
#include "mimamori/limits.h"
#include "mimamori/log.h"
#include "mimamori/medical.h"
#include "mimamori/response.h"

#define ENGINE_MAX_HANDLERS 8
#define US                  1000000ull

struct engine {
    const struct mm_config *cfg;
    struct eve *eve;
    struct eve_ctx ectx;
    struct flow_table *ft;
    struct classify *cls;
    struct medical *med;
    struct dnscache *dns;
    struct detect *det;
    struct health *health;
    struct response *resp;
    struct response_pkt cur; /* the packet being processed, for resets */
    struct capture *cap;     /* live: the interface, read for health each second */
    struct decode_stats dstats;
    struct flow_event_handler handlers[ENGINE_MAX_HANDLERS];
    unsigned nhandlers;
    uint64_t now_us;                    /* latest packet time */
    uint64_t first_us;                  /* first packet time */
    uint64_t wall_start_us;             /* first tick, for uptime */
    uint64_t next_stats_us;             /* wall clock of the next periodic stats */
    uint64_t health_us, next_health_us; /* the last and next health samples (wall clock live,
                                             packet time from files) */
    int live;
    uint64_t flow_events[FLOW_EV__COUNT];
    uint64_t last_reload_us; /* wall clock of the last snapshot change (start-up first) */
    unsigned reload_errors;  /* errors of the last failed reload, 0 after a good one */
};

static void dispatch(struct engine *e, enum flow_event ev, struct flow *f,
                     enum flow_end_reason reason)
{
    unsigned i;

    e->flow_events[ev]++;
    for (i = 0; i < e->nhandlers; i++)
        e->handlers[i].fn(e->handlers[i].ud, ev, f, reason);
    /* The flow record comes last, so that it says whether any handler alerted. */
    if (ev == FLOW_EV_ENDED && e->eve != NULL)
        eve_write_flow(e->eve, &e->ectx, f, reason);
}

/* Called by the flow table for every flow leaving it. */
static void on_flow_end(void *ud, struct flow *f, enum flow_end_reason reason)
{
    struct engine *e = ud;

    if (f->app.state != NULL) {
        classify_flow_finish(e->cls, f);
        dispatch(e, FLOW_EV_CLASSIFIED, f, reason);
    }
    dispatch(e, FLOW_EV_ENDED, f, reason);
    classify_flow_release(e->cls, f);
    medical_flow_release(e->med, f);
}

int engine_create(struct engine **out, const struct mm_config *cfg, struct eve *eve,
                  const char *const *ifaces, unsigned nifaces)
{
    struct engine *e;
    struct flow_table_config fc = cfg->flow;
    struct flow_event_handler h;
    int r;

    *out = NULL;
    if ((e = calloc(1, sizeof(*e))) == NULL)
        return MM_ENOMEM;
    e->cfg = cfg;
    e->eve = eve;
    fc.on_end = on_flow_end;
    fc.ud = e;
    e->ectx.cfg = cfg;
    for (e->ectx.nifaces = 0; e->ectx.nifaces < nifaces && e->ectx.nifaces < MM_MAX_IFACES;
         e->ectx.nifaces++)
        e->ectx.ifaces[e->ectx.nifaces] = ifaces[e->ectx.nifaces];
    if ((r = flow_table_create(&e->ft, &fc)) != 0 || (r = classify_create(&e->cls)) != 0 ||
        (r = medical_create(&e->med, MM_MEDICAL_MAX_FLOWS)) != 0 ||
        (r = dnscache_create(&e->dns, MM_DNS_CACHE_SLOTS)) != 0) {
        engine_destroy(e);
        return r;
    }
    e->ectx.cls = e->cls;
    e->live = nifaces > 0;
    if ((r = detect_create(&e->det, cfg, eve, &e->ectx, e->dns)) != 0 ||
        (r = health_create(&e->health, cfg, eve, &e->ectx, e->live)) != 0 ||
        (r = response_create(&e->resp, cfg, eve, &e->ectx, NULL, &e->cur)) != 0) {
        engine_destroy(e);
        return r;
    }
    detect_set_response(e->det, e->resp);
    h.fn = detect_flow_event;
    h.ud = e->det;
    engine_subscribe(e, &h);
    *out = e;
    return 0;
}

void engine_destroy(struct engine *e)
{
    if (e == NULL)
        return;
    if (e->ft != NULL) {
        /* Flows still in the table hold classifier state: release it without events. */
        e->nhandlers = 0;
        flow_table_flush(e->ft, FLOW_END_SHUTDOWN);
        flow_table_destroy(e->ft);
    }
    detect_destroy(e->det);
    health_destroy(e->health);
    response_destroy(e->resp);
    dnscache_destroy(e->dns);
    classify_destroy(e->cls);
    medical_destroy(e->med);
    free(e);
}

int engine_reload(struct engine *e, const struct mm_config *cfg, uint64_t wall_us)
{
    int r;

    if ((r = detect_reload(e->det, cfg)) != 0 || (r = health_reload(e->health, cfg)) != 0)
        return r;
    response_reload(e->resp, cfg);
    e->cfg = cfg;
    e->ectx.cfg = cfg;
    e->last_reload_us = wall_us;
    e->reload_errors = 0;
    return 0;
}

void engine_reload_failed(struct engine *e, unsigned errors)
{
    e->reload_errors = errors;
}

int engine_subscribe(struct engine *e, const struct flow_event_handler *h)
{
    if (e->nhandlers == ENGINE_MAX_HANDLERS)
        return MM_EFULL;
    e->handlers[e->nhandlers++] = *h;
    return 0;
}

/* A TCP segment for the hospital protocol parsers; their findings become flow events. */
static void medical_segment(struct engine *e, struct flow *f, const struct pkt_view *pv, int dir)
{
    unsigned r = medical_packet(e->med, f, pv, dir);

    if (r & MEDICAL_FOUND) {
        classify_flow_set(e->cls, f,
                          medical_proto_of(f) == MEDICAL_HL7 ? CLASSIFY_PROTO_HL7
                                                             : CLASSIFY_PROTO_DICOM);
        dispatch(e, FLOW_EV_CLASSIFIED, f, FLOW_END_TIMEOUT);
    } else if ((r & MEDICAL_NEWS) && f->app.done) {
        dispatch(e, FLOW_EV_APP, f, FLOW_END_TIMEOUT);
    }
    medical_news_clear(f);
}

/*
 * A health sample (the final one at the end of input): the capture's counters, read here when
 * live (often enough for libpcap's 32-bit counters not to wrap twice), and the flow table's.
 */
static void health_now(struct engine *e, uint64_t now_us, int final)
{
    struct capture_iface ci[CAPTURE_MAX_IFACES];
    struct flow_table_stats fs;
    struct health_sample s = {.now_us = now_us, .n = 1};
    unsigned i;

    flow_table_get_stats(e->ft, &fs);
    s.ifc[0].packets = e->dstats.pkts;
    s.ifc[0].ack = &fs.ack[0];
    if (e->cap != NULL && (s.n = capture_ifaces(e->cap, ci)) > 0) {
        for (i = 0; i < s.n; i++) {
            s.ifc[i].name = ci[i].name;
            s.ifc[i].packets = ci[i].st.packets;
            s.ifc[i].kernel_packets = ci[i].st.kernel_packets;
            s.ifc[i].kernel_drops = ci[i].st.kernel_drops;
            s.ifc[i].ack = &fs.ack[i];
        }
    } else {
        s.n = 1;
    }
    e->health_us = now_us;
    if (final)
        health_finish(e->health, &s);
    else
        health_sample(e->health, &s);
}

/*
 * Packet time stepped back more than a second. From files this is how the capture was recorded
 * (merged captures often do it): reported, and the timeline stays at its latest. Live it means
 * the system clock was set back: the flows in the table would look active until the clock
 * caught up, so they end now and time follows the new clock.
 */
static void clock_step_back(struct engine *e, uint64_t ts_us)
{
    health_clock(e->health, ts_us, e->now_us);
    if (!e->live)
        return;
    flow_table_flush(e->ft, FLOW_END_FORCED);
    e->now_us = ts_us;
}

void engine_packet(struct engine *e, const struct capture_pkt *pkt)
{
    struct pkt_view pv;
    struct flow *f;
    int r, dir, created;

    r = decode_packet(&pv, pkt->link, pkt->data, pkt->caplen, pkt->wire_len);
    pv.iface = pkt->iface;
    decode_stats_account(&e->dstats, &pv, r, pkt->wire_len);
    if (e->first_us == 0)
        e->first_us = pkt->ts_us;
    if (pkt->ts_us + US < e->now_us)
        clock_step_back(e, pkt->ts_us);
    if (pkt->ts_us > e->now_us)
        e->now_us = pkt->ts_us;
    if (!e->live && e->now_us >= e->next_health_us) {
        health_now(e, e->now_us, 0);
        e->next_health_us = e->now_us + US;
    }
    if (r == DECODE_OK) {
        f = flow_table_update(e->ft, &pv, pkt->wire_len, pkt->ts_us, &dir, &created);
        e->cur.f = f;
        e->cur.frame = pkt->data;
        e->cur.l2_len = pkt->link == MM_LINK_ETHERNET && pv.tunnel_depth == 0 && pv.l3 != NULL
                            ? (uint32_t)(pv.l3 - pkt->data)
                            : 0;
        e->cur.iface = pkt->iface;
        e->cur.dir = (uint8_t)dir;
        if ((f->flags & FLOW_F_RESET) && f->state != FLOW_STATE_CLOSED)
            response_reset_again(e->resp, f);
        if (created) {
            dispatch(e, FLOW_EV_STARTED, f, FLOW_END_TIMEOUT);
            classify_flow_start(e->cls, f);
        }
        /* HL7 and DICOM parsers first: nDPI 4.2 knows neither and might guess by port. */
        if (pv.proto == 6 && pv.payload_len > 0 && (f->app.med != NULL || f->app.state != NULL))
            medical_segment(e, f, &pv, dir);
        if (f->app.state != NULL && pv.l3_len > 0 && classify_packet(e->cls, f, &pv, pkt->ts_us))
            dispatch(e, FLOW_EV_CLASSIFIED, f, FLOW_END_TIMEOUT);
        /* DNS answers name the addresses internal hosts connect to next. */
        if (pv.proto == 17 && pv.src_port == 53 && pv.payload_len > 0)
            dnscache_feed(e->dns, pv.payload, pv.payload_len, pkt->ts_us);
        detect_tick(e->det, e->now_us);
        e->cur.f = NULL; /* flows ending below have no packet at hand */
    }
    flow_table_expire(e->ft, e->now_us, MM_EXPIRE_PER_PACKET);
}

static void write_stats(struct engine *e, struct capture *cap, uint64_t uptime_s, uint64_t ts_us)
{
    struct capture_stats cs = {0};
    struct flow_table_stats fs;
    struct eve_stats st = {0};
    struct eve_detect_stats ds = {0};
    struct detect_stats dst;
    struct medical_stats ms;
    struct health_stats hs;

    if (e->eve == NULL)
        return;
    detect_get_stats(e->det, &dst);
    ds.alerts = dst.alerts;
    ds.suppressed = dst.suppressed;
    ds.rules_loaded = dst.rules_loaded;
    ds.rules_disabled = dst.rules_disabled;
    ds.rules_failed = e->reload_errors;
    health_get_stats(e->health, &hs);
    ds.alerts += hs.alerts;
    st.clock_steps_back = hs.steps_back;
    ds.last_reload_us = e->last_reload_us;
    st.detect = &ds;
    if (cap != NULL) {
        struct capture_iface ci[CAPTURE_MAX_IFACES];
        unsigned i;
        capture_get_stats(cap, &cs);
        st.nifaces = capture_ifaces(cap, ci);
        for (i = 0; i < st.nifaces; i++) {
            st.ifaces[i].name = ci[i].name;
            st.ifaces[i].packets = ci[i].st.packets;
            st.ifaces[i].kernel_packets = ci[i].st.kernel_packets;
            st.ifaces[i].kernel_drops = ci[i].st.kernel_drops;
            st.ifaces[i].kernel_ifdrops = ci[i].st.kernel_ifdrops;
        }
    }
    flow_table_get_stats(e->ft, &fs);
    st.uptime_s = uptime_s;
    st.kernel_packets = cs.kernel_packets;
    st.kernel_drops = cs.kernel_drops;
    st.kernel_ifdrops = cs.kernel_ifdrops;
    st.capture_errors = cs.errors;
    st.decode = &e->dstats;
    st.flow = &fs;
    medical_get_stats(e->med, &ms);
    st.hl7_flows = ms.hl7_flows;
    st.dicom_flows = ms.dicom_flows;
    st.medical_not_followed = ms.state_failures;
    st.medical_gaps = ms.gaps;
    eve_write_stats(e->eve, &e->ectx, &st, ts_us);
}

void engine_tick(struct engine *e, uint64_t wall_us, struct capture *cap)
{
    if (e->wall_start_us == 0) {
        e->wall_start_us = wall_us;
        e->next_stats_us = wall_us + (uint64_t)MM_STATS_INTERVAL * 1000000u;
        e->cap = cap;
        response_set_capture(e->resp, cap);
        health_now(e, wall_us, 0);
        e->next_health_us = wall_us + US;
        return;
    }
    response_tick(e->resp, wall_us);
    if (wall_us >= e->next_health_us || wall_us + US < e->next_health_us) {
        health_now(e, wall_us, 0);
        e->next_health_us = wall_us + US;
    }
    /* With no packets arriving, idle flows still expire by the clock. */
    if (wall_us > e->now_us) {
        flow_table_expire(e->ft, wall_us, 0);
        detect_tick(e->det, wall_us);
    }
    if (wall_us >= e->next_stats_us) {
        write_stats(e, cap, (wall_us - e->wall_start_us) / 1000000u, wall_us);
        e->next_stats_us = wall_us + (uint64_t)MM_STATS_INTERVAL * 1000000u;
    }
}

void engine_finish(struct engine *e, struct capture *cap)
{
    uint64_t start = e->wall_start_us != 0 ? e->wall_start_us : e->first_us;
    struct medical_stats ms;

    /* Live, the last sample's wall time; from files, the last packet's. */
    health_now(e, e->live ? e->health_us : e->now_us, 1);
    flow_table_flush(e->ft, FLOW_END_SHUTDOWN);
    detect_finish(e->det);
    /* Suricata's stats schema has no place for these: they go to the diagnostics (-v). */
    medical_get_stats(e->med, &ms);
    if (ms.hl7_flows + ms.dicom_flows > 0)
        log_info("hospital protocols: %llu HL7 and %llu DICOM flows, %llu not followed (limit "
                 "reached), %llu segments after lost bytes, %llu retransmissions trimmed",
                 (unsigned long long)ms.hl7_flows, (unsigned long long)ms.dicom_flows,
                 (unsigned long long)ms.state_failures, (unsigned long long)ms.gaps,
                 (unsigned long long)ms.retransmitted);
    write_stats(e, cap, e->now_us > start ? (e->now_us - start) / 1000000u : 0, e->now_us);
}

void engine_get_stats(const struct engine *e, struct engine_stats *st)
{
    st->decode = e->dstats;
    flow_table_get_stats(e->ft, &st->flow);
    memcpy(st->flow_events, e->flow_events, sizeof(st->flow_events));
}
