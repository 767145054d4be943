/*
 * Collecting a report's figures: alerts go to a triage (grouped into incidents when the report
 * is written), every event in the period is counted, stats events are kept per sensor (their
 * counters are per run, so totals need the runs told apart), alerted flows are kept for the
 * maintenance sessions' length and volume, and inventory and connections files give devices,
 * end of support and external parties.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "report_int.h"

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    return x ^ (x >> 33);
}

int report_create(struct report **out, const struct report_options *o)
{
    struct report *r = calloc(1, sizeof(*r));
    struct triage_filter f = {0};

    if (r == NULL || triage_create(&r->t) < 0) {
        free(r);
        return MM_ENOMEM;
    }
    r->o = *o;
    r->first_us = INT64_MAX, r->last_us = INT64_MIN;
    f.since_us = o->from_us, f.until_us = o->to_us;
    triage_set_filter(r->t, &f);
    *out = r;
    return 0;
}

void report_destroy(struct report *r)
{
    size_t i;

    if (r == NULL)
        return;
    triage_destroy(r->t);
    free(r->fl);
    for (i = 0; i < r->nsensors; i++)
        free(r->sensors[i].s);
    for (i = 0; i < r->nparties; i++) {
        struct report_party *p = &r->parties[i];
        free(p->ip), free(p->names), free(p->direction), free(p->protocols), free(p->devices);
    }
    for (i = 0; i < r->ndevices; i++) {
        struct report_device *d = &r->devices[i];
        free(d->ip), free(d->name), free(d->zone), free(d->eos_product), free(d->eos_ended);
    }
    free(r->parties);
    free(r->devices);
    free(r);
}

/* The slot of flow id in an open-addressing table of cap (a power of two) slots. */
static struct report_flow *flow_at(struct report_flow *fl, size_t cap, uint64_t id)
{
    size_t m = cap - 1, i = mix(id) & m;

    while (fl[i].id != 0 && fl[i].id != id)
        i = (i + 1) & m;
    return &fl[i];
}

static struct report_flow *flow_slot(struct report *r, uint64_t id)
{
    if ((r->nfl + 1) * 2 > r->fl_cap) {
        struct report_flow *old = r->fl, *f;
        size_t oldcap = r->fl_cap, cap = oldcap ? oldcap * 2 : 256;
        if ((r->fl = calloc(cap, sizeof(*r->fl))) == NULL) {
            r->fl = old;
            return NULL;
        }
        r->fl_cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].id != 0)
                *(f = flow_at(r->fl, cap, old[i].id)) = old[i];
        free(old);
    }
    struct report_flow *f = flow_at(r->fl, r->fl_cap, id);
    if (f->id == 0)
        f->id = id, r->nfl++;
    return f;
}

const struct report_flow *report__flow(const struct report *r, uint64_t id)
{
    const struct report_flow *f;

    if (r->fl_cap == 0 || id == 0)
        return NULL;
    f = flow_at(r->fl, r->fl_cap, id);
    return f->id == id ? f : NULL;
}

static uint64_t num(json_t *o, const char *a, const char *b)
{
    json_int_t v = json_integer_value(json_object_get(b ? json_object_get(o, a) : o, b ? b : a));
    return v > 0 ? (uint64_t)v : 0;
}

/* A stats sample kept for its sensor (by the events' host name). */
static int sample_add(struct report *r, const char *host, const struct report_sample *x)
{
    struct report_sensor *s = NULL;
    size_t i;

    for (i = 0; i < r->nsensors && s == NULL; i++)
        if (strcmp(r->sensors[i].name, host) == 0)
            s = &r->sensors[i];
    if (s == NULL && r->nsensors < REPORT_SENSORS) {
        s = &r->sensors[r->nsensors++];
        snprintf(s->name, sizeof(s->name), "%s", host);
    }
    if (s == NULL)
        return 0; /* more sensors than a report shows */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct report_sample *grown = realloc(s->s, cap * sizeof(*grown));
        if (grown == NULL)
            return MM_ENOMEM;
        s->s = grown, s->cap = cap;
    }
    s->s[s->n++] = *x;
    return 0;
}

static void take_stats(struct report *r, json_t *ev, int64_t ts)
{
    const char *host = json_string_value(json_object_get(ev, "host"));
    json_t *st = json_object_get(ev, "stats"), *cap = json_object_get(st, "capture");
    struct report_sample x = {
        ts,
        num(st, "uptime", NULL),
        num(cap, "kernel_packets", NULL),
        num(cap, "kernel_drops", NULL) + num(cap, "kernel_ifdrops", NULL),
        num(json_object_get(st, "decoder"), "invalid", NULL),
    };

    sample_add(r, host ? host : "", &x);
}

static void take_flow(struct report *r, json_t *ev)
{
    json_t *fo = json_object_get(ev, "flow");
    uint64_t bytes = num(fo, "bytes_toserver", NULL) + num(fo, "bytes_toclient", NULL);
    struct report_flow *f;
    int tz;

    r->flows++;
    if (!json_is_true(json_object_get(fo, "alerted")))
        return;
    if ((f = flow_slot(r, (uint64_t)json_integer_value(json_object_get(ev, "flow_id")))) == NULL)
        return;
    f->bytes = bytes;
    if (triage_parse_eve_time(json_string_value(json_object_get(fo, "start")) ?: "", &f->start_us,
                              &tz) < 0 ||
        triage_parse_eve_time(json_string_value(json_object_get(fo, "end")) ?: "", &f->end_us,
                              &tz) < 0)
        f->start_us = f->end_us = 0;
}

static void on_event(void *ud, const char *type, json_t *ev)
{
    struct report *r = ud;
    const char *ts = json_string_value(json_object_get(ev, "timestamp"));
    int64_t us;
    int tz;

    if (ts == NULL || triage_parse_eve_time(ts, &us, &tz) < 0)
        return;
    /* a run's counters before the period are what its figures in the period are counted from */
    if (strcmp(type, "stats") == 0)
        take_stats(r, ev, us);
    if ((r->o.from_us && us < r->o.from_us) || (r->o.to_us && us >= r->o.to_us))
        return;
    r->events++;
    r->tz_min = tz;
    r->first_us = us < r->first_us ? us : r->first_us;
    r->last_us = us > r->last_us ? us : r->last_us;
    if (strcmp(type, "flow") == 0) {
        take_flow(r, ev);
    } else if (strcmp(type, "inventory") == 0) {
        json_t *inv = json_object_get(json_object_get(ev, "ndpi"), "inventory");
        const char *change = json_string_value(json_object_get(inv, "change"));
        r->new_devices += change != NULL && strcmp(change, "new_device") == 0;
    }
}

/* Alerts count among the events and in the period's ends as every event does. */
static void count_alerts(struct report *r, size_t from)
{
    for (size_t i = from; i < triage_alerts(r->t); i++) {
        const struct triage_alert *a = triage_alert_at(r->t, i);
        r->events++;
        r->first_us = a->ts_us < r->first_us ? a->ts_us : r->first_us;
        r->last_us = a->ts_us > r->last_us ? a->ts_us : r->last_us;
    }
}

int report_read(struct report *r, FILE *f)
{
    size_t before = triage_alerts(r->t);
    int rc = triage_read(r->t, f, on_event, r);

    count_alerts(r, before);
    return rc;
}

/* A part of a file read on its own thread into a report of its own. */
static int part_read(void *part, const char *path, off_t from, off_t to, off_t *end)
{
    struct report *p = part;
    int rc = triage_read_range(p->t, path, from, to, on_event, p, end);

    count_alerts(p, 0);
    return rc;
}

static int part_create(void *ud, void **part)
{
    const struct report *of = ud;
    struct report *r = calloc(1, sizeof(*r));

    if (r == NULL || triage_create_part(&r->t, of->t) < 0) {
        free(r);
        return MM_ENOMEM;
    }
    r->o = of->o;
    r->first_us = INT64_MAX, r->last_us = INT64_MIN;
    *part = r;
    return 0;
}

/* A part's figures added to r's; its alerts after r's. */
static int part_merge(void *ud, void *part)
{
    struct report *r = ud;
    const struct report *p = part;
    size_t i, k;

    r->events += p->events, r->flows += p->flows, r->new_devices += p->new_devices;
    r->first_us = p->first_us < r->first_us ? p->first_us : r->first_us;
    r->last_us = p->last_us > r->last_us ? p->last_us : r->last_us;
    r->tz_min = p->events > 0 ? p->tz_min : r->tz_min;
    for (i = 0; i < p->fl_cap; i++) {
        struct report_flow *f;
        if (p->fl[i].id == 0)
            continue;
        if ((f = flow_slot(r, p->fl[i].id)) == NULL)
            return MM_ENOMEM;
        *f = p->fl[i];
    }
    for (i = 0; i < p->nsensors; i++)
        for (k = 0; k < p->sensors[i].n; k++)
            if (sample_add(r, p->sensors[i].name, &p->sensors[i].s[k]) < 0)
                return MM_ENOMEM;
    return triage_merge(r->t, p->t);
}

static void part_destroy(void *part)
{
    report_destroy(part);
}

int report_read_path(struct report *r, const char *path, unsigned threads, char *err, size_t errlen)
{
    static const struct triage_split ops = {part_create, part_read, part_merge, part_destroy};
    off_t end;

    return triage_split_read(path, threads, &ops, r, &end, err, errlen);
}

size_t report_bad_lines(const struct report *r)
{
    return triage_bad_lines(r->t);
}

void report__period(const struct report *r, int64_t *from, int64_t *to)
{
    *from = r->o.from_us ? r->o.from_us : r->first_us != INT64_MAX ? r->first_us : 0;
    *to = r->o.to_us ? r->o.to_us : r->last_us != INT64_MIN ? r->last_us + 1 : *from;
}

const char *report__evidence(const struct triage_alert *a, const char *name, char *buf, size_t len)
{
    const char *s = a->evidence, *p;
    size_t n = strlen(name), k;

    buf[0] = '\0';
    for (p = s; p != NULL && *p != '\0'; p = strstr(p, ", ") ? strstr(p, ", ") + 2 : NULL) {
        if (strncmp(p, name, n) != 0 || p[n] != '=')
            continue;
        p += n + 1;
        k = strcspn(p, ",");
        snprintf(buf, len, "%.*s", (int)k, p);
        break;
    }
    return buf;
}

size_t report__alerts_of(const struct report *r, const char *category, size_t **out)
{
    size_t i, n = 0, total = triage_alerts(r->t);

    *out = malloc((total + 1) * sizeof(**out));
    for (i = 0; *out != NULL && i < total; i++) {
        const struct triage_alert *a = triage_alert_at(r->t, i);
        if (a->category != NULL && strcmp(a->category, category) == 0)
            (*out)[n++] = i;
    }
    return n;
}
