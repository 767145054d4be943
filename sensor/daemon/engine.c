/*
 * The workers' packet path and the flow events it raises. Per packet: decode into a pkt_view on
 * the stack, account it, find the flow, feed the classifier while it still wants packets, and
 * expire a bounded number of idle flows. Nothing here allocates per packet. Flow events go to
 * the subscribed handlers in order, then to the EVE flow writer.
 *
 * Each worker has its own flow table, nDPI classifier and HL7/DICOM state. What is keyed by
 * host rather than by flow (the rules and their counters, the DNS cache, health, responses and
 * the EVE writer) is one for all workers: with several (live capture, the kernel splitting the
 * traffic by flow) it is entered under one lock, taken per flow event rather than per packet.
 * The flow record is copied out after the lock is left, with the snapshot of the config taken
 * under it: a reload waits until every other worker has moved on to its next packet, so the
 * snapshot it replaced is not in use when it is freed. Each worker publishes its counters once
 * a second for the stats and health checks.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/dnscache.h"
#include "mimamori/engine.h"
#include "mimamori/error.h"
#include "mimamori/health.h"
#include "mimamori/limits.h"
#include "mimamori/log.h"
#include "mimamori/dcerpc.h"
#include "mimamori/inventory.h"
#include "mimamori/medical.h"
#include "mimamori/response.h"

#define ENGINE_MAX_HANDLERS 8
#define US                  1000000ull
#define DETECT_TICK_US      100000ull /* several workers: time handed to the detectors this often */

struct engine;

/* Cache-line aligned: what one worker writes per packet shares no line with another's. */
struct worker {
    _Alignas(64) struct engine *e;
    struct flow_table *ft;
    struct classify *cls;
    struct medical *med;
    struct dcerpc *rpc;
    struct capture *cap;     /* live: this worker's interfaces */
    struct response_pkt cur; /* the packet being processed, for resets */
    struct decode_stats dstats;
    uint64_t flow_events[FLOW_EV__COUNT];
    uint64_t now_us;       /* latest packet time of this worker */
    uint64_t next_tick_us; /* several workers: next hand-over of the time to the detectors */
    uint64_t next_pub_us;  /* several workers: next publication of the counters (wall clock) */
    /* Several workers: the counters as last published, read under the lock. */
    struct decode_stats pub_dstats;
    struct flow_table_stats pub_fs;
    struct medical_stats pub_ms;
    struct capture_iface pub_ci[CAPTURE_MAX_IFACES];
    unsigned pub_nci;
    _Atomic uint64_t seen; /* several workers: the config generation it has moved to; gone:
                              UINT64_MAX */
};

struct engine {
    const struct mm_config *cfg;
    struct eve *eve;
    struct eve_ctx ectx;
    struct dnscache *dns;
    struct detect *det;
    struct inventory *inv; /* or NULL: no inventory kept */
    struct health *health;
    struct response *resp;
    struct flow_event_handler handlers[ENGINE_MAX_HANDLERS];
    unsigned nhandlers;
    unsigned events; /* the events some handler takes (bit per FLOW_EV_x) */
    struct worker w[MM_MAX_WORKERS];
    unsigned nworkers;
    int threaded; /* several workers: the shared parts are entered under mu */
    pthread_mutex_t mu;
    _Atomic uint64_t gen;               /* config generation: one more at each reload */
    uint64_t now_us;                    /* latest packet time of any worker */
    uint64_t first_us;                  /* first packet time */
    uint64_t wall_start_us;             /* first tick, for uptime */
    uint64_t next_stats_us;             /* wall clock of the next periodic stats */
    uint64_t health_us, next_health_us; /* the last and next health samples (wall clock live,
                                             packet time from files) */
    int live;
    uint64_t last_reload_us; /* wall clock of the last snapshot change (start-up first) */
    unsigned reload_errors;  /* errors of the last failed reload, 0 after a good one */
};

/* The lock is held about a microsecond per flow event: a worker finding it taken spins a little
 * before sleeping rather than paying for a futex call at once. */
static void lock_init(struct engine *e)
{
    pthread_mutexattr_t ma;

    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&e->mu, &ma);
    pthread_mutexattr_destroy(&ma);
}

static void lock(struct engine *e)
{
    if (e->threaded)
        pthread_mutex_lock(&e->mu);
}

static void unlock(struct engine *e)
{
    if (e->threaded)
        pthread_mutex_unlock(&e->mu);
}

/* The worker holds no pointer into a config snapshot between packets (see engine_reload). */
static void quiescent(struct engine *e, struct worker *w)
{
    uint64_t g;

    if (!e->threaded)
        return;
    g = atomic_load_explicit(&e->gen, memory_order_acquire);
    if (atomic_load_explicit(&w->seen, memory_order_relaxed) != g) /* written on a change only */
        atomic_store_explicit(&w->seen, g, memory_order_release);
}

static void dispatch(struct worker *w, enum flow_event ev, struct flow *f,
                     enum flow_end_reason reason)
{
    struct engine *e = w->e;
    struct eve_ctx ctx;
    unsigned i;

    w->flow_events[ev]++;
    if (!(e->events & (1u << ev)) && ev != FLOW_EV_ENDED)
        return; /* nobody takes it (the rules ignore starts): the lock is not taken */
    lock(e);
    if (e->threaded && e->resp != NULL)
        response_set_packet(e->resp, &w->cur);
    for (i = 0; i < e->nhandlers; i++)
        if (e->handlers[i].events & (1u << ev))
            e->handlers[i].fn(e->handlers[i].ud, ev, f, reason);
    if (ev == FLOW_EV_ENDED) {
        ctx = e->ectx;
        ctx.worker = (unsigned)(w - e->w);
    }
    unlock(e);
    /* The flow record comes last, so that it says whether any handler alerted; copying it
     * needs nothing the lock guards (ctx's snapshot outlives this packet). */
    if (ev == FLOW_EV_ENDED && e->eve != NULL)
        eve_write_flow(e->eve, &ctx, f, reason);
}

/* Called by a worker's flow table for every flow leaving it. */
static void on_flow_end(void *ud, struct flow *f, enum flow_end_reason reason)
{
    struct worker *w = ud;

    if (f->app.state != NULL) {
        classify_flow_finish(w->cls, f);
        dispatch(w, FLOW_EV_CLASSIFIED, f, reason);
    }
    dispatch(w, FLOW_EV_ENDED, f, reason);
    classify_flow_release(w->cls, f);
    medical_flow_release(w->med, f);
    dcerpc_flow_release(w->rpc, f);
}

static void worker_destroy(struct worker *w)
{
    if (w->ft != NULL) {
        /* Flows still in the table hold classifier state: release it (no handlers by now). */
        flow_table_flush(w->ft, FLOW_END_SHUTDOWN);
        flow_table_destroy(w->ft);
    }
    classify_destroy(w->cls);
    medical_destroy(w->med);
    dcerpc_destroy(w->rpc);
}

static int worker_create(struct engine *e, struct worker *w, const struct mm_config *cfg)
{
    struct flow_table_config fc = cfg->flow;
    uint32_t states;
    uint64_t memcap;
    int r;

    w->e = e;
    fc.on_end = on_flow_end;
    fc.ud = w;
    /* flow.max_flows is the sensor's: the workers share it. */
    fc.max_flows = cfg->flow.max_flows / e->nworkers;
    if (fc.max_flows < MM_MIN_MAX_FLOWS)
        fc.max_flows = MM_MIN_MAX_FLOWS;
    if ((r = flow_table_create(&w->ft, &fc)) != 0 || (r = classify_create(&w->cls)) != 0 ||
        (r = medical_create(&w->med, MM_MEDICAL_MAX_FLOWS)) != 0 ||
        (r = dcerpc_create(&w->rpc, MM_DCERPC_MAX_FLOWS)) != 0)
        return r;
    /* The classifier's bounds are the sensor's too, shared out like the flows. */
    states = cfg->max_classifying ? cfg->max_classifying : cfg->flow.max_flows / MM_CLASSIFY_SHARE;
    if (states < MM_CLASSIFY_MIN)
        states = MM_CLASSIFY_MIN;
    memcap =
        cfg->classify_memcap ? cfg->classify_memcap : (uint64_t)states * MM_CLASSIFY_STATE_BYTES;
    classify_set_limits(w->cls, states / e->nworkers ? states / e->nworkers : 1,
                        memcap / e->nworkers);
    return 0;
}

int engine_create(struct engine **out, const struct mm_config *cfg, struct eve *eve,
                  const char *const *ifaces, unsigned nifaces, unsigned workers)
{
    struct engine *e;
    struct flow_event_handler h;
    unsigned i;
    int r;

    *out = NULL;
    if (workers == 0 || workers > MM_MAX_WORKERS || (workers > 1 && nifaces == 0))
        return MM_EINVAL;
    if ((e = aligned_alloc(_Alignof(struct engine), sizeof(*e))) == NULL)
        return MM_ENOMEM;
    memset(e, 0, sizeof(*e));
    e->cfg = cfg;
    e->eve = eve;
    e->nworkers = workers;
    e->threaded = workers > 1;
    lock_init(e);
    e->ectx.cfg = cfg;
    for (e->ectx.nifaces = 0; e->ectx.nifaces < nifaces && e->ectx.nifaces < MM_MAX_IFACES;
         e->ectx.nifaces++)
        e->ectx.ifaces[e->ectx.nifaces] = ifaces[e->ectx.nifaces];
    for (i = 0; i < workers; i++) {
        if ((r = worker_create(e, &e->w[i], cfg)) != 0) {
            engine_destroy(e);
            return r;
        }
    }
    if ((r = dnscache_create(&e->dns, MM_DNS_CACHE_SLOTS)) != 0) {
        engine_destroy(e);
        return r;
    }
    /* Names for events come from the first worker's classifier (lookups only, thread-safe). */
    e->ectx.cls = e->w[0].cls;
    e->live = nifaces > 0;
    if ((r = detect_create(&e->det, cfg, eve, &e->ectx, e->dns)) != 0 ||
        (r = health_create(&e->health, cfg, eve, &e->ectx, e->live)) != 0 ||
        (r = response_create(&e->resp, cfg, eve, &e->ectx, NULL, &e->w[0].cur)) != 0) {
        engine_destroy(e);
        return r;
    }
    detect_set_response(e->det, e->resp);
    h.fn = detect_flow_event;
    h.ud = e->det;
    h.events = 1u << FLOW_EV_CLASSIFIED | 1u << FLOW_EV_ENDED | 1u << FLOW_EV_APP;
    engine_subscribe(e, &h);
    *out = e;
    return 0;
}

void engine_destroy(struct engine *e)
{
    unsigned i;

    if (e == NULL)
        return;
    e->nhandlers = 0;
    for (i = 0; i < e->nworkers; i++)
        worker_destroy(&e->w[i]);
    detect_destroy(e->det);
    health_destroy(e->health);
    response_destroy(e->resp);
    dnscache_destroy(e->dns);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

void engine_attach(struct engine *e, unsigned worker, struct capture *cap)
{
    if (worker < e->nworkers)
        e->w[worker].cap = cap;
}

int engine_reload(struct engine *e, const struct mm_config *cfg, uint64_t wall_us)
{
    int r;

    lock(e);
    if ((r = detect_reload(e->det, cfg)) != 0 || (r = health_reload(e->health, cfg)) != 0) {
        unlock(e);
        return r;
    }
    response_reload(e->resp, cfg);
    if (e->inv != NULL)
        inventory_set_config(e->inv, cfg);
    e->cfg = cfg;
    e->ectx.cfg = cfg;
    e->last_reload_us = wall_us;
    e->reload_errors = 0;
    unlock(e);
    if (e->threaded) {
        /* Called on worker 0 between its packets; the others move on within a packet, or
         * within a capture timeout (250 ms) when no traffic comes. */
        uint64_t g = atomic_fetch_add_explicit(&e->gen, 1, memory_order_acq_rel) + 1;
        unsigned i;
        for (i = 1; i < e->nworkers; i++)
            while (atomic_load_explicit(&e->w[i].seen, memory_order_acquire) < g)
                usleep(1000);
    }
    return 0;
}

void engine_worker_done(struct engine *e, unsigned worker)
{
    if (worker < e->nworkers)
        atomic_store_explicit(&e->w[worker].seen, UINT64_MAX, memory_order_release);
}

void engine_reload_failed(struct engine *e, unsigned errors)
{
    lock(e);
    e->reload_errors = errors;
    unlock(e);
}

void engine_set_inventory(struct engine *e, struct inventory *inv)
{
    e->inv = inv;
    detect_set_inventory(e->det, inv, e->eve, &e->ectx);
}

int engine_subscribe(struct engine *e, const struct flow_event_handler *h)
{
    if (e->nhandlers == ENGINE_MAX_HANDLERS)
        return MM_EFULL;
    e->handlers[e->nhandlers] = *h;
    if (h->events == 0)
        e->handlers[e->nhandlers].events = (1u << FLOW_EV__COUNT) - 1;
    e->events |= e->handlers[e->nhandlers++].events;
    return 0;
}

/* A TCP segment for the hospital protocol parsers; their findings become flow events. */
static void medical_segment(struct worker *w, struct flow *f, const struct pkt_view *pv, int dir)
{
    unsigned r = medical_packet(w->med, f, pv, dir);

    if (r & MEDICAL_FOUND) {
        classify_flow_set(w->cls, f,
                          medical_proto_of(f) == MEDICAL_HL7 ? CLASSIFY_PROTO_HL7
                                                             : CLASSIFY_PROTO_DICOM);
        dispatch(w, FLOW_EV_CLASSIFIED, f, FLOW_END_TIMEOUT);
    } else if ((r & MEDICAL_NEWS) && f->app.done) {
        dispatch(w, FLOW_EV_APP, f, FLOW_END_TIMEOUT);
    }
    medical_news_clear(f);
}

/* An ARP request: the sweep rules count it, the inventory learns the sender's MAC. */
static void arp_request(struct engine *e, const struct pkt_view *pv, const struct capture_pkt *pkt)
{
    lock(e);
    detect_arp_request(e->det, pv, pkt->ts_us, pkt->iface);
    if (e->inv != NULL)
        inventory_arp(e->inv, pv->src, pv->arp_sha, pkt->ts_us);
    unlock(e);
}

/* A DNS query: a name carrying data goes to the tunnel rules, and every name to the intel
 * rules when there are indicators; other queries stop here. */
static void dns_query(struct worker *w, struct flow *f, const struct pkt_view *pv)
{
    char name[DNS_NAME_MAX];
    uint16_t qtype;
    int reg, intel = detect_has_intel(w->e->det);
    unsigned chars =
        dnscache_data_query(pv->payload, pv->payload_len, pv->proto == 6, name, &reg, &qtype);

    if (chars == 0 && !intel)
        return;
    lock(w->e);
    if (chars > 0)
        detect_dns_query(w->e->det, f, name, reg, qtype, chars);
    if (intel && name[0] != '\0')
        detect_dns_intel_query(w->e->det, f, name);
    unlock(w->e);
}

/* A TCP segment for DCE-RPC: an operation's first call is news for the rules (now or later). */
static void dcerpc_segment(struct worker *w, struct flow *f, const struct pkt_view *pv, int dir)
{
    if ((dcerpc_packet(w->rpc, f, pv, dir) & DCERPC_NEWS) && f->app.done)
        dispatch(w, FLOW_EV_APP, f, FLOW_END_TIMEOUT);
}

/* A worker's counters now: its own with one worker, as last published with several. */
/* A worker's flow table figures, with its classifier's memory and emergencies. */
static void worker_flow_stats(struct worker *w, struct flow_table_stats *fs)
{
    struct classify_stats cs;

    flow_table_get_stats(w->ft, fs);
    classify_get_stats(w->cls, &cs);
    fs->memuse += cs.memuse;
    fs->memcap += cs.memcap;
    fs->classifying = cs.active;
    fs->classify_evicted = cs.evicted;
    fs->emerg_entered = cs.emerg_entered;
    fs->emerg_over = cs.emerg_over;
}

static void worker_counters(struct worker *w, struct decode_stats *ds, struct flow_table_stats *fs,
                            struct medical_stats *ms, struct capture_iface *ci, unsigned *nci)
{
    if (w->e->threaded) {
        *ds = w->pub_dstats;
        *fs = w->pub_fs;
        *ms = w->pub_ms;
        memcpy(ci, w->pub_ci, sizeof(w->pub_ci));
        *nci = w->pub_nci;
        return;
    }
    *ds = w->dstats;
    worker_flow_stats(w, fs);
    medical_get_stats(w->med, ms);
    *nci = w->cap != NULL ? capture_ifaces(w->cap, ci) : 0;
}

/* All workers' counters together; ci has each interface's, summed over the workers. */
static void counters(struct engine *e, struct decode_stats *ds, struct flow_table_stats *fs,
                     struct medical_stats *ms, struct capture_iface *ci, unsigned *nci)
{
    struct decode_stats d;
    struct flow_table_stats f;
    struct medical_stats m;
    struct capture_iface c[CAPTURE_MAX_IFACES];
    unsigned i, k, n;

    memset(ds, 0, sizeof(*ds));
    memset(fs, 0, sizeof(*fs));
    memset(ms, 0, sizeof(*ms));
    *nci = 0;
    for (i = 0; i < e->nworkers; i++) {
        worker_counters(&e->w[i], &d, &f, &m, c, &n);
        decode_stats_add(ds, &d);
        flow_table_stats_add(fs, &f);
        ms->hl7_flows += m.hl7_flows;
        ms->dicom_flows += m.dicom_flows;
        ms->state_failures += m.state_failures;
        ms->gaps += m.gaps;
        ms->retransmitted += m.retransmitted;
        ms->active += m.active;
        for (k = 0; k < n; k++) {
            if (k >= *nci) {
                ci[k] = c[k];
                continue;
            }
            ci[k].st.packets += c[k].st.packets;
            ci[k].st.kernel_packets += c[k].st.kernel_packets;
            ci[k].st.kernel_drops += c[k].st.kernel_drops;
            ci[k].st.kernel_ifdrops += c[k].st.kernel_ifdrops;
            ci[k].st.errors += c[k].st.errors;
        }
        if (n > *nci)
            *nci = n;
    }
}

/*
 * A health sample (the final one at the end of input): the capture's counters, read here when
 * live (often enough for libpcap's 32-bit counters not to wrap twice), and the flow tables'.
 */
static void health_now(struct engine *e, uint64_t now_us, int final)
{
    struct capture_iface ci[CAPTURE_MAX_IFACES];
    struct decode_stats ds;
    struct flow_table_stats fs;
    struct medical_stats ms;
    struct health_sample s = {.now_us = now_us, .n = 1};
    const struct flow_ack_stats *ack;
    struct output_stats os;
    unsigned i, nci;

    if (e->threaded) {
        counters(e, &ds, &fs, &ms, ci, &nci);
        s.ifc[0].packets = ds.pkts;
        ack = fs.ack;
    } else { /* read where they are: from files this comes once a second of packet time */
        struct worker *w = &e->w[0];
        s.ifc[0].packets = w->dstats.pkts;
        ack = flow_table_ack(w->ft);
        nci = w->cap != NULL ? capture_ifaces(w->cap, ci) : 0;
    }
    s.ifc[0].ack = &ack[0];
    if (nci > 0) {
        s.n = nci;
        for (i = 0; i < s.n; i++) {
            s.ifc[i].name = ci[i].name;
            s.ifc[i].packets = ci[i].st.packets;
            s.ifc[i].kernel_packets = ci[i].st.kernel_packets;
            s.ifc[i].kernel_drops = ci[i].st.kernel_drops;
            s.ifc[i].ack = &ack[i];
        }
    }
    if (e->eve != NULL) {
        eve_get_output_stats(e->eve, &os);
        s.out = &os;
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
static void clock_step_back(struct worker *w, uint64_t ts_us)
{
    struct engine *e = w->e;

    lock(e);
    health_clock(e->health, ts_us, w->now_us);
    if (e->live)
        e->now_us = ts_us;
    unlock(e);
    if (!e->live)
        return;
    flow_table_flush(w->ft, FLOW_END_FORCED);
    w->now_us = ts_us;
}

/* The time moves on for the shared detectors: per packet with one worker, else every 100 ms. */
static void advance(struct worker *w)
{
    struct engine *e = w->e;

    if (!e->threaded) {
        detect_tick(e->det, e->now_us);
        return;
    }
    if (w->now_us < w->next_tick_us)
        return;
    w->next_tick_us = w->now_us + DETECT_TICK_US;
    lock(e);
    if (w->now_us > e->now_us)
        e->now_us = w->now_us;
    detect_tick(e->det, e->now_us);
    unlock(e);
}

void engine_packet(struct engine *e, unsigned worker, const struct capture_pkt *pkt)
{
    struct worker *w = &e->w[worker];
    struct pkt_view pv;
    struct flow *f;
    int r, dir, created;

    quiescent(e, w);
    r = decode_packet(&pv, pkt->link, pkt->data, pkt->caplen, pkt->wire_len);
    pv.iface = pkt->iface;
    decode_stats_account(&w->dstats, &pv, r, pkt->wire_len);
    if (pkt->ts_us + US < w->now_us)
        clock_step_back(w, pkt->ts_us);
    if (pkt->ts_us > w->now_us)
        w->now_us = pkt->ts_us;
    if (!e->threaded) { /* one worker: its time is the engine's */
        if (e->first_us == 0)
            e->first_us = pkt->ts_us;
        e->now_us = w->now_us;
    }
    if (!e->live && w->now_us >= e->next_health_us) {
        health_now(e, w->now_us, 0);
        e->next_health_us = w->now_us + US;
    }
    if (r == DECODE_NOT_IP && (pv.flags & PV_ARP_REQUEST))
        arp_request(e, &pv, pkt);
    if (r == DECODE_OK) {
        f = flow_table_update(w->ft, &pv, pkt->wire_len, pkt->ts_us, &dir, &created);
        w->cur.f = f;
        w->cur.frame = pkt->data;
        w->cur.l2_len = pkt->link == MM_LINK_ETHERNET && pv.tunnel_depth == 0 && pv.l3 != NULL
                            ? (uint32_t)(pv.l3 - pkt->data)
                            : 0;
        w->cur.iface = pkt->iface;
        w->cur.dir = (uint8_t)dir;
        if ((f->flags & FLOW_F_RESET) && f->state != FLOW_STATE_CLOSED) {
            lock(e);
            response_set_packet(e->resp, &w->cur);
            response_reset_again(e->resp, f);
            unlock(e);
        }
        if (created) {
            struct flow *given_up;
            dispatch(w, FLOW_EV_STARTED, f, FLOW_END_TIMEOUT);
            /* At its limits the classifier gives up on the flow it fed the longest ago. */
            while ((given_up = classify_make_room(w->cls)) != NULL)
                dispatch(w, FLOW_EV_CLASSIFIED, given_up, FLOW_END_TIMEOUT);
            classify_flow_start(w->cls, f);
        }
        /* HL7 and DICOM parsers first: nDPI 4.2 knows neither and might guess by port. */
        if (pv.proto == 6 && pv.payload_len > 0 && (f->app.med != NULL || f->app.state != NULL))
            medical_segment(w, f, &pv, dir);
        if (pv.proto == 6 && pv.payload_len > 0 &&
            (f->app.rpc != NULL || f->app.state != NULL || classify_is_rpc_carrier(&f->app)))
            dcerpc_segment(w, f, &pv, dir);
        if (f->app.state != NULL && pv.l3_len > 0 &&
            classify_packet(w->cls, f, &pv, dir, pkt->ts_us))
            dispatch(w, FLOW_EV_CLASSIFIED, f, FLOW_END_TIMEOUT);
        if (pv.dst_port == 53 && pv.payload_len > 0 && (pv.proto == 17 || pv.proto == 6))
            dns_query(w, f, &pv);
        if (e->inv != NULL && pv.proto == 17 && inventory_udp_port(pv.src_port, pv.dst_port)) {
            lock(e);
            inventory_udp(e->inv, &pv, pkt->ts_us);
            unlock(e);
        }
        /* DNS answers name the addresses internal hosts connect to next. */
        if (pv.proto == 17 && pv.src_port == 53 && pv.payload_len > 0) {
            struct dns_answers ans;
            lock(e);
            if (dnscache_feed(e->dns, pv.payload, pv.payload_len, pkt->ts_us, &ans) == 1)
                detect_dns_intel_answers(e->det, f, &ans);
            unlock(e);
        }
        advance(w);
        w->cur.f = NULL; /* flows ending below have no packet at hand */
    }
    flow_table_expire(w->ft, w->now_us, MM_EXPIRE_PER_PACKET);
}

/* Several workers: a worker's counters, copied where the stats and health checks read them. */
static void worker_publish(struct worker *w)
{
    struct decode_stats ds = w->dstats;
    struct flow_table_stats fs;
    struct medical_stats ms;
    struct capture_iface ci[CAPTURE_MAX_IFACES];
    unsigned nci;

    worker_flow_stats(w, &fs);
    medical_get_stats(w->med, &ms);
    nci = w->cap != NULL ? capture_ifaces(w->cap, ci) : 0;
    lock(w->e);
    w->pub_dstats = ds;
    w->pub_fs = fs;
    w->pub_ms = ms;
    memcpy(w->pub_ci, ci, sizeof(ci));
    w->pub_nci = nci;
    unlock(w->e);
}

void engine_worker_tick(struct engine *e, unsigned worker, uint64_t wall_us)
{
    struct worker *w = &e->w[worker];

    quiescent(e, w);
    /* With no packets arriving, idle flows still expire by the clock. */
    if (wall_us > w->now_us)
        flow_table_expire(w->ft, wall_us, 0);
    if (e->threaded && wall_us >= w->next_pub_us) {
        w->next_pub_us = wall_us + US;
        worker_publish(w);
    }
}

static void write_stats(struct engine *e, uint64_t uptime_s, uint64_t ts_us)
{
    struct capture_iface ci[CAPTURE_MAX_IFACES];
    struct decode_stats dstats;
    struct flow_table_stats fs;
    struct medical_stats ms;
    struct eve_stats st = {0};
    struct eve_detect_stats ds = {0};
    struct detect_stats dst;
    struct health_stats hs;
    unsigned i, nci;

    if (e->eve == NULL)
        return;
    detect_get_stats(e->det, &dst);
    health_get_stats(e->health, &hs);
    ds = (struct eve_detect_stats){dst.alerts + hs.alerts, dst.suppressed,   dst.rules_loaded,
                                   dst.rules_disabled,     e->reload_errors, e->last_reload_us,
                                   dst.supp_source,        dst.supp,         dst.nsupp,
                                   dst.supp_count,         dst.supp_ended};
    st.clock_steps_back = hs.steps_back;
    st.detect = &ds;
    counters(e, &dstats, &fs, &ms, ci, &nci);
    st.nifaces = nci;
    for (i = 0; i < nci; i++) {
        st.ifaces[i].name = ci[i].name;
        st.ifaces[i].packets = ci[i].st.packets;
        st.ifaces[i].kernel_packets = ci[i].st.kernel_packets;
        st.ifaces[i].kernel_drops = ci[i].st.kernel_drops;
        st.ifaces[i].kernel_ifdrops = ci[i].st.kernel_ifdrops;
        st.kernel_packets += ci[i].st.kernel_packets;
        st.kernel_drops += ci[i].st.kernel_drops;
        st.kernel_ifdrops += ci[i].st.kernel_ifdrops;
        st.capture_errors += ci[i].st.errors;
    }
    if (nci == 0 && e->w[0].cap != NULL) { /* files */
        struct capture_stats cs;
        capture_get_stats(e->w[0].cap, &cs);
        st.kernel_packets = cs.kernel_packets;
        st.capture_errors = cs.errors;
    }
    if (e->threaded) {
        st.nworkers = e->nworkers;
        for (i = 0; i < e->nworkers; i++) {
            st.workers[i].packets = e->w[i].pub_dstats.pkts;
            st.workers[i].flows = e->w[i].pub_fs.total;
        }
    }
    st.uptime_s = uptime_s;
    st.decode = &dstats;
    st.flow = &fs;
    st.hl7_flows = ms.hl7_flows;
    st.dicom_flows = ms.dicom_flows;
    st.medical_not_followed = ms.state_failures;
    st.medical_gaps = ms.gaps;
    eve_write_stats(e->eve, &e->ectx, &st, ts_us);
}

void engine_tick(struct engine *e, uint64_t wall_us)
{
    lock(e);
    if (e->wall_start_us == 0) {
        e->wall_start_us = wall_us;
        e->next_stats_us = wall_us + (uint64_t)MM_STATS_INTERVAL * 1000000u;
        response_set_capture(e->resp, e->w[0].cap);
        health_now(e, wall_us, 0);
        e->next_health_us = wall_us + US;
        unlock(e);
        return;
    }
    response_tick(e->resp, wall_us);
    if (wall_us >= e->next_health_us || wall_us + US < e->next_health_us) {
        health_now(e, wall_us, 0);
        e->next_health_us = wall_us + US;
    }
    if (wall_us > e->now_us)
        detect_tick(e->det, wall_us);
    if (wall_us >= e->next_stats_us) {
        write_stats(e, (wall_us - e->wall_start_us) / 1000000u, wall_us);
        e->next_stats_us = wall_us + (uint64_t)MM_STATS_INTERVAL * 1000000u;
    }
    unlock(e);
}

void engine_finish(struct engine *e)
{
    uint64_t start = e->wall_start_us != 0 ? e->wall_start_us : e->first_us;
    struct capture_iface ci[CAPTURE_MAX_IFACES];
    struct decode_stats ds;
    struct flow_table_stats fs;
    struct medical_stats ms;
    uint64_t ts;
    unsigned i, nci;

    /* The workers have stopped: their last counters are published from here. */
    for (i = 0; i < e->nworkers; i++) {
        struct worker *w = &e->w[i];
        if (w->now_us > e->now_us)
            e->now_us = w->now_us;
        if (e->threaded)
            worker_publish(w);
    }
    /* Live, the last sample's wall time; from files, the last packet's. */
    lock(e);
    health_now(e, e->live ? e->health_us : e->now_us, 1);
    unlock(e);
    for (i = 0; i < e->nworkers; i++)
        flow_table_flush(e->w[i].ft, FLOW_END_SHUTDOWN);
    for (i = 0; e->threaded && i < e->nworkers; i++) /* the flows just written out, counted */
        worker_publish(&e->w[i]);
    lock(e);
    detect_finish(e->det);
    /* Suricata's stats schema has no place for these: they go to the diagnostics (-v). */
    counters(e, &ds, &fs, &ms, ci, &nci);
    if (ms.hl7_flows + ms.dicom_flows > 0)
        log_info("hospital protocols: %llu HL7 and %llu DICOM flows, %llu not followed (limit "
                 "reached), %llu segments after lost bytes, %llu retransmissions trimmed",
                 (unsigned long long)ms.hl7_flows, (unsigned long long)ms.dicom_flows,
                 (unsigned long long)ms.state_failures, (unsigned long long)ms.gaps,
                 (unsigned long long)ms.retransmitted);
    /* Live, the periodic stats are stamped with the wall clock: the last one is no earlier
     * than them, though the last packet may be (the last sample's time, a second at most old). */
    ts = e->live && e->health_us > e->now_us ? e->health_us : e->now_us;
    write_stats(e, ts > start ? (ts - start) / 1000000u : 0, ts);
    unlock(e);
}
