/*
 * The on-call view of mimamori-alerts: each incident opens with what happened in one line (the
 * message of its most severe alert), then when, the devices involved by address, name and
 * zone, the alerts with their evidence, and what to do next for each rule it raised. --json
 * gives the same per incident as one JSON object per line.
 */
#include <stdlib.h>
#include <string.h>

#include "alerts_view.h"

#define SHOW_HOSTS 4

#define L(v, ja, en) ((v)->lang == TRIAGE_JA ? (ja) : (en))

static const char *sev_color(const struct alerts_view *v, int severity)
{
    static const char *const c[] = {"\033[1;31m", "\033[1;33m", "\033[1;36m"};

    return v->color ? c[severity >= 1 && severity <= 3 ? severity - 1 : 2] : "";
}

static const char *reset(const struct alerts_view *v)
{
    return v->color ? "\033[0m" : "";
}

static const char *headline(const struct alerts_view *v, const struct triage_alert *a)
{
    const char *s = L(v, a->message_ja, a->signature);

    return s != NULL ? s : a->signature != NULL ? a->signature : "";
}

static void host_label(const struct alerts_view *v, const struct triage_alert *a, int end)
{
    fprintf(v->out, "%s", a->ip[end]);
    if (a->device[end] != NULL)
        fprintf(v->out, " %s", a->device[end]);
    if (a->zone[end] != NULL && a->zone_desc[end] != NULL)
        fprintf(v->out, " [%s: %s]", a->zone[end], a->zone_desc[end]);
    else if (a->zone[end] != NULL)
        fprintf(v->out, " [%s]", a->zone[end]);
}

/* The first few distinct hosts at one end, in the order they appeared, and how many more. */
static void hosts(const struct alerts_view *v, const struct triage *t,
                  const struct triage_incident *in, int end)
{
    const char *shown[SHOW_HOSTS];
    size_t i, k, nshown = 0, total = triage_distinct_hosts(t, in->alerts, in->nalerts, end);

    if (total == 0)
        return;
    fprintf(v->out, "   %s",
            end == 0 ? L(v, "発信元: ", "source:  ") : L(v, "対象:   ", "target:  "));
    for (i = 0; i < in->nalerts && nshown < SHOW_HOSTS; i++) {
        const struct triage_alert *a = triage_alert_at(t, in->alerts[i]);
        if (a->ip[end] == NULL)
            continue;
        for (k = 0; k < nshown && shown[k] != a->ip[end]; k++)
            ;
        if (k < nshown)
            continue;
        if (nshown > 0)
            fprintf(v->out, "\n            ");
        host_label(v, a, end);
        shown[nshown++] = a->ip[end];
    }
    if (total > nshown)
        fprintf(v->out, L(v, "\n            ほか %zu 台", "\n            and %zu more"),
                total - nshown);
    fputc('\n', v->out);
}

static void alert_line(const struct alerts_view *v, const struct triage_alert *a, int with_date)
{
    char when[32];

    triage_format_time(when, sizeof(when), a->ts_us, a->tz_min, with_date);
    fprintf(v->out, "   %s %s[%s]%s %s", when, sev_color(v, a->severity),
            triage_severity_text(a->severity, v->lang), reset(v), a->rule ? a->rule : "");
    if (a->ip[0] != NULL) {
        fprintf(v->out, "  %s", a->ip[0]);
        if (a->ip[1] != NULL)
            fprintf(v->out, " -> %s", a->ip[1]);
        if (a->ip[1] != NULL && a->port[1] != 0)
            fprintf(v->out, ":%u", a->port[1]);
    }
    if (a->app_proto != NULL && strcmp(a->app_proto, "failed") != 0)
        fprintf(v->out, " %s", a->app_proto);
    if (a->count > 1)
        fprintf(v->out, L(v, " (%u 回)", " (x%u)"), a->count);
    if (a->blocked)
        fprintf(v->out, "%s", L(v, " 遮断済み", " blocked"));
    fputc('\n', v->out);
    if (a->evidence != NULL && a->evidence[0] != '\0')
        fprintf(v->out, "      %s%s\n", L(v, "根拠: ", "evidence: "), a->evidence);
}

/* Each rule of the incident once, most severe first as the alerts were sorted by time. */
static void next_steps(const struct alerts_view *v, const struct triage *t,
                       const struct triage_incident *in)
{
    const char *seen[32];
    size_t i, k, n = 0;
    int header = 0;

    for (int sev = 1; sev <= 3; sev++)
        for (i = 0; i < in->nalerts && n < 32; i++) {
            const struct triage_alert *a = triage_alert_at(t, in->alerts[i]);
            const char *step = L(v, a->next_ja, a->next_en);
            if (a->severity != sev || step == NULL)
                continue;
            for (k = 0; k < n && seen[k] != a->rule; k++)
                ;
            if (k < n)
                continue;
            seen[n++] = a->rule;
            if (!header++)
                fprintf(v->out, "   %s\n", L(v, "次の対応:", "what to do next:"));
            fprintf(v->out, "   - [%s] %s\n", a->rule ? a->rule : "", step);
        }
}

void alerts_view_incident(const struct alerts_view *v, const struct triage *t,
                          const struct triage_incident *in)
{
    const struct triage_alert *lead = triage_alert_at(t, in->lead);
    const struct triage_alert *first = triage_alert_at(t, in->alerts[0]);
    char from[32], to[32];
    int days = in->last_us / 86400000000LL != in->first_us / 86400000000LL;
    size_t i, shown = v->max_lines && v->max_lines < in->nalerts ? v->max_lines : in->nalerts;

    fprintf(v->out, "%s#%u [%s] %s%s: %s\n", sev_color(v, in->severity), in->id,
            triage_severity_text(in->severity, v->lang),
            triage_category_text(lead->category, v->lang), reset(v), headline(v, lead));
    triage_format_time(from, sizeof(from), in->first_us, first->tz_min, 1);
    triage_format_time(to, sizeof(to), in->last_us, first->tz_min, days);
    if (in->last_us / 1000000 == in->first_us / 1000000)
        fprintf(v->out, "   %s", from);
    else
        fprintf(v->out, L(v, "   %s 〜 %s", "   %s to %s"), from, to);
    fprintf(v->out, L(v, "  アラート %zu 件", "  %zu alert%s"), in->nalerts,
            in->nalerts == 1 ? "" : "s");
    if (in->count > in->nalerts)
        fprintf(v->out, L(v, " (繰り返し含め %llu 回)", " (%llu with repeats)"),
                (unsigned long long)in->count);
    fputc('\n', v->out);
    hosts(v, t, in, 0);
    hosts(v, t, in, 1);
    for (i = 0; i < shown; i++)
        alert_line(v, triage_alert_at(t, in->alerts[i]), days);
    if (shown < in->nalerts)
        fprintf(v->out,
                L(v, "   ... ほか %zu 件 (--all で全件)\n", "   ... %zu more (--all shows them)\n"),
                in->nalerts - shown);
    next_steps(v, t, in);
    fputc('\n', v->out);
}

void alerts_view_summary(const struct alerts_view *v, const struct triage *t)
{
    size_t n = triage_incidents(t), i, by[4] = {0};
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int tz = 0;
    char from[32], to[32];

    if (triage_alerts(t) == 0) {
        fprintf(v->out, "%s\n", L(v, "該当するアラートはありません。", "No alerts match."));
        return;
    }
    for (i = 0; i < n; i++) {
        const struct triage_incident *in = triage_incident_at(t, i);
        by[in->severity]++;
        lo = in->first_us < lo ? in->first_us : lo;
        hi = in->last_us > hi ? in->last_us : hi;
    }
    tz = triage_alert_at(t, 0)->tz_min;
    triage_format_time(from, sizeof(from), lo, tz, 1);
    triage_format_time(to, sizeof(to), hi, tz, 1);
    fprintf(v->out,
            L(v,
              "インシデント %zu 件 (高 %zu・中 %zu・低 %zu)、アラート %zu 件: %s 〜 %s "
              "(UTC%c%02d:%02d)\n\n",
              "%zu incidents (%zu high, %zu medium, %zu low), %zu alerts: %s to %s "
              "(UTC%c%02d:%02d)\n\n"),
            n, by[1], by[2], by[3], triage_alerts(t), from, to, tz < 0 ? '-' : '+', abs(tz) / 60,
            abs(tz) % 60);
}

/* An EVE-style timestamp at the offset the sensor wrote. */
static json_t *stamp(int64_t ts_us, int tz_min)
{
    char day[32], buf[80];
    int64_t us = ts_us % 1000000;

    triage_format_time(day, sizeof(day), ts_us, tz_min, 1);
    day[10] = 'T';
    snprintf(buf, sizeof(buf), "%s.%06lld%c%02d%02d", day, (long long)(us < 0 ? us + 1000000 : us),
             tz_min < 0 ? '-' : '+', abs(tz_min) / 60, abs(tz_min) % 60);
    return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* Each distinct host at one end, with what is known of it. */
static json_t *host_list(const struct triage *t, const struct triage_incident *in, int end)
{
    json_t *list = json_array(), *o;
    const char **seen = malloc(in->nalerts * sizeof(*seen));
    size_t i, k, n = 0;

    for (i = 0; seen != NULL && i < in->nalerts; i++) {
        const struct triage_alert *a = triage_alert_at(t, in->alerts[i]);
        if (a->ip[end] == NULL)
            continue;
        for (k = 0; k < n && seen[k] != a->ip[end]; k++)
            ;
        if (k < n || n >= 256) /* a sweep's targets: the first 256 */
            continue;
        seen[n++] = a->ip[end];
        o = json_object();
        json_object_set_new(o, "ip", json_string(a->ip[end]));
        json_object_set_new(o, "name", str_or_null(a->device[end]));
        json_object_set_new(o, "zone", str_or_null(a->zone[end]));
        json_object_set_new(o, "zone_description", str_or_null(a->zone_desc[end]));
        json_array_append_new(list, o);
    }
    free(seen);
    return list;
}

static json_t *event_of(const struct triage_alert *a)
{
    json_t *o = json_object();

    json_object_set_new(o, "timestamp", stamp(a->ts_us, a->tz_min));
    json_object_set_new(o, "signature_id", json_integer(a->sid));
    json_object_set_new(o, "rule", str_or_null(a->rule));
    json_object_set_new(o, "category", str_or_null(a->category));
    json_object_set_new(o, "severity", json_integer(a->severity));
    json_object_set_new(o, "src_ip", str_or_null(a->ip[0]));
    json_object_set_new(o, "src_port", json_integer(a->port[0]));
    json_object_set_new(o, "dest_ip", str_or_null(a->ip[1]));
    json_object_set_new(o, "dest_port", json_integer(a->port[1]));
    json_object_set_new(o, "app_proto", str_or_null(a->app_proto));
    json_object_set_new(o, "evidence", str_or_null(a->evidence));
    json_object_set_new(o, "count", json_integer(a->count));
    json_object_set_new(o, "flow_id", json_integer((json_int_t)a->flow_id));
    return o;
}

void alerts_view_json(const struct alerts_view *v, const struct triage *t,
                      const struct triage_incident *in)
{
    const struct triage_alert *lead = triage_alert_at(t, in->lead);
    json_t *o = json_object(), *events = json_array(), *steps = json_array();
    const char *seen[32];
    size_t i, k, n = 0;

    json_object_set_new(o, "incident", json_integer(in->id));
    json_object_set_new(o, "severity", json_integer(in->severity));
    json_object_set_new(o, "first", stamp(in->first_us, lead->tz_min));
    json_object_set_new(o, "last", stamp(in->last_us, lead->tz_min));
    json_object_set_new(o, "alerts", json_integer((json_int_t)in->nalerts));
    json_object_set_new(o, "count", json_integer((json_int_t)in->count));
    json_object_set_new(o, "category", str_or_null(lead->category));
    json_object_set_new(o, "summary", json_string(headline(v, lead)));
    json_object_set_new(o, "sources", host_list(t, in, 0));
    json_object_set_new(o, "targets", host_list(t, in, 1));
    for (i = 0; i < in->nalerts; i++) {
        const struct triage_alert *a = triage_alert_at(t, in->alerts[i]);
        json_array_append_new(events, event_of(a));
        for (k = 0; k < n && seen[k] != a->rule; k++)
            ;
        if (k < n || n == 32)
            continue;
        seen[n++] = a->rule;
        json_array_append_new(steps,
                              json_pack("{s:o, s:o, s:o}", "rule", str_or_null(a->rule), "ja",
                                        str_or_null(a->next_ja), "en", str_or_null(a->next_en)));
    }
    json_object_set_new(o, "next_steps", steps);
    json_object_set_new(o, "events", events);
    json_dumpf(o, v->out, JSON_COMPACT);
    fputc('\n', v->out);
    json_decref(o);
}

void alerts_view_arrival(const struct alerts_view *v, const struct triage *t, size_t alert,
                         int new_incident)
{
    const struct triage_alert *a = triage_alert_at(t, alert);
    const struct triage_incident *in = triage_incident_of(t, alert);

    if (v->json) {
        json_t *o = event_of(a);
        json_object_set_new(o, "incident", json_integer(in ? in->id : 0));
        json_object_set_new(o, "new_incident", json_boolean(new_incident));
        json_object_set_new(o, "summary", json_string(headline(v, a)));
        json_dumpf(o, v->out, JSON_COMPACT);
        fputc('\n', v->out);
        json_decref(o);
    } else {
        fprintf(v->out, "%s#%u%s%s %s\n", sev_color(v, a->severity), in ? in->id : 0, reset(v),
                new_incident ? L(v, " 新規インシデント", " new incident") : "", headline(v, a));
        alert_line(v, a, 1);
    }
    fflush(v->out);
}
