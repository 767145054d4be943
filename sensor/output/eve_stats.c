/*
 * The stats event: Suricata's stats layout (decoder, flow, detect, capture counters under the
 * keys its dashboards read), with what Suricata has no key for (capture quality, the classifier,
 * each output's delivery) under ndpi.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mimamori/error.h"
#include "mimamori/output.h"
#include "mimamori/rules.h"

#include "eve_int.h"

static json_t *decoder_object(const struct decode_stats *d)
{
    json_t *o = json_object(), *events = json_object();
    unsigned i;

    json_object_set_new_nocheck(o, "pkts", json_integer((json_int_t)d->pkts));
    json_object_set_new_nocheck(o, "bytes", json_integer((json_int_t)d->bytes));
    json_object_set_new_nocheck(o, "invalid", json_integer((json_int_t)d->invalid));
    for (i = 0; i < DC__COUNT; i++)
        json_object_set_new_nocheck(o, decode_counter_name((enum decode_counter)i),
                                    json_integer((json_int_t)d->layer[i]));
    for (i = 1; i < DA__COUNT; i++) {
        const char *layer = decode_anomaly_layer((enum decode_anomaly)i);
        const char *name = decode_anomaly_name((enum decode_anomaly)i);
        json_t *l;
        if (d->anomaly[i] == 0)
            continue;
        if (layer == NULL) {
            json_object_set_new_nocheck(o, name, json_integer((json_int_t)d->anomaly[i]));
            continue;
        }
        if ((l = json_object_get(events, layer)) == NULL) {
            l = json_object();
            json_object_set_new_nocheck(events, layer, l);
        }
        json_object_set_new_nocheck(l, name, json_integer((json_int_t)d->anomaly[i]));
    }
    json_object_set_new_nocheck(o, "event", events);
    return o;
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole == 0 ? 0.0 : (double)(uint64_t)(10000.0 * (double)part / (double)whole) / 100.0;
}

/* A capture's health figures: drops and what TCP acknowledgments say (see health.h). */
static json_t *health_figures(uint64_t kernel_packets, uint64_t kernel_drops,
                              const struct flow_ack_stats *a)
{
    return json_pack("{sfsIsIsfsIsIsIsf}", "drop_percent", percent(kernel_drops, kernel_packets),
                     "tcp_acks", (json_int_t)a->acks, "one_way_acks", (json_int_t)a->one_way,
                     "one_way_percent", percent(a->one_way, a->acks), "acks_checked",
                     (json_int_t)a->checked, "ack_gaps", (json_int_t)a->gaps, "gap_bytes",
                     (json_int_t)a->gap_bytes, "upstream_loss_percent",
                     percent(a->gaps, a->checked));
}

/* The capture as a whole, and each live interface on its own. */
static json_t *capture_object(const struct eve_stats *st)
{
    struct flow_ack_stats sum = {0};
    json_t *o, *arr;
    unsigned i;

    for (i = 0; i < MM_MAX_IFACES; i++) {
        const struct flow_ack_stats *a = &st->flow->ack[i];
        sum.acks += a->acks, sum.one_way += a->one_way, sum.checked += a->checked;
        sum.gaps += a->gaps, sum.gap_bytes += a->gap_bytes;
    }
    o = health_figures(st->kernel_packets, st->kernel_drops, &sum);
    json_object_set_new_nocheck(o, "clock_steps_back",
                                json_integer((json_int_t)st->clock_steps_back));
    if (st->nifaces == 0)
        return o;
    arr = json_array();
    for (i = 0; i < st->nifaces; i++) {
        const struct eve_iface_stats *f = &st->ifaces[i];
        json_t *x = health_figures(f->kernel_packets, f->kernel_drops, &st->flow->ack[i]);
        json_object_set_new_nocheck(x, "name", json_string(f->name));
        json_object_set_new_nocheck(x, "packets", json_integer((json_int_t)f->packets));
        json_object_set_new_nocheck(x, "kernel_packets",
                                    json_integer((json_int_t)f->kernel_packets));
        json_object_set_new_nocheck(x, "kernel_drops", json_integer((json_int_t)f->kernel_drops));
        json_object_set_new_nocheck(x, "kernel_ifdrops",
                                    json_integer((json_int_t)f->kernel_ifdrops));
        json_array_append_new(arr, x);
    }
    json_object_set_new_nocheck(o, "interfaces", arr);
    if (st->nworkers > 1) { /* how the kernel's fanout shares the traffic out */
        arr = json_array();
        for (i = 0; i < st->nworkers; i++) {
            json_t *x = json_object();
            json_object_set_new_nocheck(x, "packets",
                                        json_integer((json_int_t)st->workers[i].packets));
            json_object_set_new_nocheck(x, "flows", json_integer((json_int_t)st->workers[i].flows));
            json_array_append_new(arr, x);
        }
        json_object_set_new_nocheck(o, "workers", arr);
    }
    return o;
}

void eve_get_output_stats(struct eve *e, struct output_stats *st)
{
    output_get_stats(e->out, st);
}

/*
 * Mimamori's own counters (output delivery, hospital protocol parsers). Suricata's stats
 * schema has no place for them and closes every object but "ndpi", so they ride there.
 */
/* Each suppress entry: where it is, what it silences, until when and why, and its count. */
static json_t *suppressions(const struct eve_detect_stats *d)
{
    json_t *arr = json_array();

    for (unsigned i = 0; i < d->nsupp; i++) {
        const struct config_suppress *s = &d->supp[i];
        char at[320], until[48];
        json_t *o;
        snprintf(at, sizeof(at), "%s:%u:%u", d->supp_source, s->line, s->col);
        o = json_pack("{sssIsb}", "entry", at, "suppressed", (json_int_t)d->supp_count[i], "ended",
                      d->supp_ended[i]);
        if (s->rule[0] != '\0')
            json_object_set_new_nocheck(o, "rule", json_string(s->rule));
        else
            json_object_set_new_nocheck(
                o, "category",
                json_string(rules_category_name((enum alert_category)(s->category - 1))));
        if (s->until_s > 0) {
            eve_format_time((uint64_t)s->until_s * 1000000, until, sizeof(until));
            json_object_set_new_nocheck(o, "until", json_string(until));
        }
        if (s->reason != NULL)
            json_object_set_new_nocheck(o, "reason", json_string(s->reason));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *delivery_object(struct eve *e, const struct eve_stats *st)
{
    struct output_stats os;
    json_t *o = json_object(), *arr = json_array();
    unsigned i;

    output_get_stats(e->out, &os);
    json_object_set_new_nocheck(o, "output_queue",
                                json_pack("{sIsIsI}", "queued", (json_int_t)os.queued, "overflowed",
                                          (json_int_t)os.overflowed, "overflow_dropped",
                                          (json_int_t)os.overflow_dropped));
    for (i = 0; i < os.nsinks; i++) {
        const struct output_sink_stats *k = &os.sink[i];
        json_array_append_new(
            arr, json_pack("{sssbsIsIsIsIsIsIsIsI}", "name", k->name, "up", k->up, "sent",
                           (json_int_t)k->sent, "spooled", (json_int_t)k->spooled, "replayed",
                           (json_int_t)k->replayed, "resent", (json_int_t)k->resent, "dropped",
                           (json_int_t)k->dropped, "errors", (json_int_t)k->errors, "reconnects",
                           (json_int_t)k->reconnects, "spool_bytes", (json_int_t)k->spool_bytes));
    }
    json_object_set_new_nocheck(o, "outputs", arr);
    json_object_set_new_nocheck(o, "capture", capture_object(st));
    json_object_set_new_nocheck(o, "classifier",
                                json_pack("{sIsI}", "classifying",
                                          (json_int_t)st->flow->classifying, "given_up",
                                          (json_int_t)st->flow->classify_evicted));
    if (st->hl7_flows + st->dicom_flows > 0)
        json_object_set_new_nocheck(o, "hospital_protocols",
                                    json_pack("{sIsIsIsI}", "hl7_flows", (json_int_t)st->hl7_flows,
                                              "dicom_flows", (json_int_t)st->dicom_flows,
                                              "not_followed", (json_int_t)st->medical_not_followed,
                                              "gaps", (json_int_t)st->medical_gaps));
    return o;
}

int eve_write_stats(struct eve *e, const struct eve_ctx *ctx, const struct eve_stats *st,
                    uint64_t ts_us)
{
    json_t *ev = eve__event_new(ctx, "stats", ts_us), *s = json_object();
    const struct flow_table_stats *fs = st->flow;

    json_object_set_new_nocheck(s, "uptime", json_integer((json_int_t)st->uptime_s));
    json_object_set_new_nocheck(
        s, "capture",
        json_pack("{sIsIsIsI}", "kernel_packets", (json_int_t)st->kernel_packets, "kernel_drops",
                  (json_int_t)st->kernel_drops, "kernel_ifdrops", (json_int_t)st->kernel_ifdrops,
                  "errors", (json_int_t)st->capture_errors));
    json_object_set_new_nocheck(s, "decoder", decoder_object(st->decode));
    json_object_set_new_nocheck(s, "defrag",
                                json_pack("{s{sI}s{sI}}", "ipv4", "fragments",
                                          (json_int_t)st->decode->fragments_v4, "ipv6", "fragments",
                                          (json_int_t)st->decode->fragments_v6));
    json_object_set_new_nocheck(
        s, "flow",
        json_pack("{sIsIsIsIsIsIsIsIsIsIsIs{sIsI}s{s{sIsIsI}}}", "total", (json_int_t)fs->total,
                  "active", (json_int_t)fs->active, "tcp", (json_int_t)fs->tcp, "udp",
                  (json_int_t)fs->udp, "icmpv4", (json_int_t)fs->icmpv4, "icmpv6",
                  (json_int_t)fs->icmpv6, "memuse", (json_int_t)fs->memuse, "memcap",
                  (json_int_t)fs->memcap, "emerg_mode_entered", (json_int_t)fs->emerg_entered,
                  "emerg_mode_over", (json_int_t)fs->emerg_over, "get_used",
                  (json_int_t)fs->evicted, "mgr", "flows_timeout", (json_int_t)fs->timeouts,
                  "flows_evicted", (json_int_t)fs->evicted, "end", "state", "new",
                  (json_int_t)fs->end_state[FLOW_STATE_NEW], "established",
                  (json_int_t)fs->end_state[FLOW_STATE_ESTABLISHED], "closed",
                  (json_int_t)fs->end_state[FLOW_STATE_CLOSED]));
    if (st->detect != NULL) {
        json_t *eng = json_pack("{sIsIsI}", "rules_loaded", (json_int_t)st->detect->rules_loaded,
                                "rules_failed", (json_int_t)st->detect->rules_failed,
                                "rules_skipped", (json_int_t)st->detect->rules_disabled);
        if (st->detect->last_reload_us != 0) {
            char t[48];
            eve_format_time(st->detect->last_reload_us, t, sizeof(t));
            json_object_set_new_nocheck(eng, "last_reload", eve__ours(t));
        }
        json_object_set_new_nocheck(s, "detect",
                                    json_pack("{sIsIs[o]}", "alert", (json_int_t)st->detect->alerts,
                                              "alerts_suppressed",
                                              (json_int_t)st->detect->suppressed, "engines", eng));
    }
    json_object_set_new_nocheck(ev, "stats", s);
    json_object_set_new_nocheck(ev, "ndpi", delivery_object(e, st));
    if (st->detect != NULL && st->detect->nsupp > 0)
        json_object_set_new_nocheck(json_object_get(ev, "ndpi"), "suppressions",
                                    suppressions(st->detect));
    return eve__emit(e, ev, OUTPUT_EV_STATS, 0, ts_us);
}
