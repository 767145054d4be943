/*
 * Grouping alerts into incidents. Alerts are taken in time order; each host an alert involves
 * (either end: an attacker's next target is often the host it came from) remembers its
 * incident and when it was last involved. An alert whose host was involved within the window
 * joins that incident, and an alert touching two incidents joins them (union-find, the older
 * incident surviving). An alert without addresses (sensor health) groups by its rule.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "triage_int.h"

static size_t find(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static uint64_t ptr_hash(const void *p)
{
    return ((uintptr_t)p >> 3) * 0x9e3779b97f4a7c15ULL;
}

static struct triage_host *host_slot(struct triage *t, const char *key)
{
    size_t m = t->hosts_cap - 1, i;

    for (i = (ptr_hash(key) >> 20) & m; t->hosts[i].key && t->hosts[i].key != key; i = (i + 1) & m)
        ;
    return &t->hosts[i];
}

static int hosts_reserve(struct triage *t)
{
    struct triage_host *old = t->hosts, *h;
    size_t oldcap = t->hosts_cap, i;

    if ((t->nhosts + 2) * 2 <= t->hosts_cap)
        return 0;
    t->hosts_cap = oldcap ? oldcap * 2 : 1024;
    if ((t->hosts = calloc(t->hosts_cap, sizeof(*t->hosts))) == NULL) {
        t->hosts = old, t->hosts_cap = oldcap;
        return MM_ENOMEM;
    }
    for (i = 0; i < oldcap; i++)
        if (old[i].key != NULL)
            *(h = host_slot(t, old[i].key)) = old[i];
    free(old);
    return 0;
}

static int incident_new(struct triage *t, size_t alert)
{
    struct triage_incident *in;
    const struct triage_alert *a = &t->a[alert];

    if (t->ninc == t->inc_cap) {
        size_t cap = t->inc_cap ? t->inc_cap * 2 : 256, *p;
        if ((in = realloc(t->inc, cap * sizeof(*in))) == NULL)
            return MM_ENOMEM;
        t->inc = in;
        if ((p = realloc(t->parent, cap * sizeof(*p))) == NULL)
            return MM_ENOMEM;
        t->parent = p, t->inc_cap = cap;
    }
    in = &t->inc[t->ninc];
    memset(in, 0, sizeof(*in));
    in->id = ++t->last_id;
    in->severity = a->severity;
    in->first_us = in->last_us = a->ts_us;
    in->lead = alert;
    t->parent[t->ninc] = t->ninc;
    t->ninc++;
    return 0;
}

/* Whether alert x should name its incident before alert y: more severe, then earlier. */
static int leads(const struct triage_alert *x, const struct triage_alert *y)
{
    return x->severity < y->severity || (x->severity == y->severity && x->ts_us < y->ts_us);
}

/* Join incident b into a (a older); returns a. */
static size_t join(struct triage *t, size_t a, size_t b)
{
    struct triage_incident *ia, *ib;

    if (b < a) {
        size_t s = a;
        a = b, b = s;
    }
    ia = &t->inc[a], ib = &t->inc[b];
    t->parent[b] = a;
    if (ib->severity < ia->severity)
        ia->severity = ib->severity;
    if (ib->first_us < ia->first_us)
        ia->first_us = ib->first_us;
    if (ib->last_us > ia->last_us)
        ia->last_us = ib->last_us;
    ia->nalerts += ib->nalerts;
    ia->count += ib->count;
    if (leads(&t->a[ib->lead], &t->a[ia->lead]))
        ia->lead = ib->lead;
    return a;
}

static int place(struct triage *t, size_t i)
{
    struct triage_alert *a = &t->a[i];
    const char *keys[2] = {a->ip[0], a->ip[1] != a->ip[0] ? a->ip[1] : NULL};
    size_t root = SIZE_MAX, k;
    struct triage_incident *in;
    int rc;

    if (keys[0] == NULL && keys[1] == NULL)
        keys[0] = a->rule != NULL ? a->rule : a->signature;
    if ((rc = hosts_reserve(t)) < 0)
        return rc;
    for (k = 0; k < 2; k++) {
        struct triage_host *h;
        int64_t gap;
        if (keys[k] == NULL || (h = host_slot(t, keys[k]))->key == NULL)
            continue;
        gap = a->ts_us > h->last_us ? a->ts_us - h->last_us : h->last_us - a->ts_us;
        if (gap > t->window_us)
            continue;
        size_t r = find(t->parent, h->incident);
        root = root == SIZE_MAX || root == r ? r : join(t, root, r);
    }
    if (root == SIZE_MAX) {
        if ((rc = incident_new(t, i)) < 0)
            return rc;
        root = t->ninc - 1;
    }
    in = &t->inc[root];
    if (a->severity < in->severity)
        in->severity = a->severity;
    if (a->ts_us < in->first_us)
        in->first_us = a->ts_us;
    if (a->ts_us > in->last_us)
        in->last_us = a->ts_us;
    in->nalerts++;
    in->count += a->count;
    if (leads(a, &t->a[in->lead]))
        in->lead = i;
    a->incident = root;
    for (k = 0; k < 2; k++) {
        struct triage_host *h;
        if (keys[k] == NULL)
            continue;
        if ((h = host_slot(t, keys[k]))->key == NULL)
            h->key = keys[k], h->last_us = a->ts_us, t->nhosts++;
        h->incident = root;
        if (a->ts_us > h->last_us)
            h->last_us = a->ts_us;
    }
    return 0;
}

int triage_group_more(struct triage *t)
{
    int rc;

    for (; t->grouped < t->n; t->grouped++)
        if ((rc = place(t, t->grouped)) < 0)
            return rc;
    return 0;
}

static int by_time(const void *x, const void *y)
{
    const struct triage_alert *a = x, *b = y;
    int c;

    if (a->ts_us != b->ts_us)
        return a->ts_us < b->ts_us ? -1 : 1;
    if (a->sid != b->sid)
        return a->sid < b->sid ? -1 : 1;
    for (int k = 0; k < 2; k++)
        if (a->ip[k] != b->ip[k] && (c = strcmp(a->ip[k] ?: "", b->ip[k] ?: "")) != 0)
            return c;
    if (a->port[0] != b->port[0])
        return a->port[0] < b->port[0] ? -1 : 1;
    return strcmp(a->evidence ?: "", b->evidence ?: "");
}

static int by_display(const void *x, const void *y, void *ud)
{
    const struct triage *t = ud;
    const struct triage_incident *a = &t->inc[*(const size_t *)x];
    const struct triage_incident *b = &t->inc[*(const size_t *)y];

    if (a->severity != b->severity)
        return a->severity < b->severity ? -1 : 1;
    if (a->last_us != b->last_us)
        return a->last_us > b->last_us ? -1 : 1;
    return a->id < b->id ? -1 : 1;
}

/* The views: members per incident in time order, roots numbered and put in display order. */
static int finish(struct triage *t)
{
    size_t i, nroots = 0, *fill;
    unsigned id = 0;

    free(t->order), free(t->members);
    t->order = malloc((t->ninc + 1) * sizeof(*t->order));
    t->members = malloc((t->n + 1) * sizeof(*t->members));
    fill = calloc(t->ninc + 1, sizeof(*fill));
    if (t->order == NULL || t->members == NULL || fill == NULL) {
        free(fill);
        return MM_ENOMEM;
    }
    for (i = 0; i < t->ninc; i++) {
        if (find(t->parent, i) != i)
            continue;
        t->inc[i].id = ++id;
        t->order[nroots++] = i;
    }
    /* members: each root's alerts contiguous, in the order of the roots' creation */
    {
        size_t at = 0;
        for (i = 0; i < nroots; i++) {
            fill[t->order[i]] = at;
            t->inc[t->order[i]].alerts = t->members + at;
            at += t->inc[t->order[i]].nalerts;
        }
    }
    for (i = 0; i < t->n; i++) {
        size_t r = find(t->parent, t->a[i].incident);
        t->a[i].incident = r;
        t->members[fill[r]++] = i;
    }
    free(fill);
    if (nroots > 0)
        qsort_r(t->order, nroots, sizeof(*t->order), by_display, t);
    t->nroots = nroots, t->last_id = id;
    return 0;
}

int triage_group(struct triage *t, int64_t window_us)
{
    int rc;

    t->window_us = window_us > 0 ? window_us : TRIAGE_WINDOW_US;
    if (t->n > 0)
        qsort(t->a, t->n, sizeof(*t->a), by_time);
    t->ninc = t->nhosts = t->grouped = 0;
    t->last_id = 0;
    if (t->hosts != NULL)
        memset(t->hosts, 0, t->hosts_cap * sizeof(*t->hosts));
    if ((rc = triage_group_more(t)) < 0)
        return rc;
    return finish(t);
}

size_t triage_incidents(const struct triage *t)
{
    return t->nroots;
}

const struct triage_incident *triage_incident_at(const struct triage *t, size_t i)
{
    return i < t->nroots ? &t->inc[t->order[i]] : NULL;
}

const struct triage_incident *triage_incident_of(const struct triage *t, size_t alert)
{
    if (alert >= t->n || alert >= t->grouped)
        return NULL;
    return &t->inc[find(t->parent, t->a[alert].incident)];
}

static int by_pointer(const void *x, const void *y)
{
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;

    return a < b ? -1 : a > b;
}

size_t triage_distinct_hosts(const struct triage *t, const size_t *idx, size_t n, int end)
{
    const char **p = malloc((n + 1) * sizeof(*p));
    size_t i, k = 0, total = 0;

    if (p == NULL)
        return 0;
    for (i = 0; i < n; i++)
        if (idx[i] < t->n && (p[k] = t->a[idx[i]].ip[end]) != NULL)
            k++;
    qsort(p, k, sizeof(*p), by_pointer); /* pooled: one pointer per address */
    for (i = 0; i < k; i++)
        total += i == 0 || p[i] != p[i - 1];
    free(p);
    return total;
}
