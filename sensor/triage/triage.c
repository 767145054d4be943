/*
 * Reading alerts back from EVE lines: the fields a reader needs, each string kept once in a
 * pool, the filter applied as they come in, device names added from an inventory file. Lines
 * that cannot be alerts are skipped without parsing unless the caller wants other events.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "triage_int.h"

#define POOL_CHUNK (64 * 1024)

static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    while (len-- > 0)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static char *pool_bytes(struct triage_pool *p, size_t len)
{
    char **chunks, *c;
    size_t want = len > POOL_CHUNK ? len : POOL_CHUNK;

    if (p->nchunks > 0 && p->cap - p->used >= len) {
        c = p->chunks[p->nchunks - 1] + p->used;
        p->used += len;
        return c;
    }
    if ((chunks = realloc(p->chunks, (p->nchunks + 1) * sizeof(*chunks))) == NULL)
        return NULL;
    p->chunks = chunks;
    if ((c = malloc(want)) == NULL)
        return NULL;
    p->chunks[p->nchunks++] = c;
    p->used = len, p->cap = want;
    return c;
}

static int pool_grow(struct triage_pool *p)
{
    size_t n = p->nslots ? p->nslots * 2 : 1024, i, j;
    const char **slots = calloc(n, sizeof(*slots));

    if (slots == NULL)
        return MM_ENOMEM;
    for (i = 0; i < p->nslots; i++) {
        if (p->slots[i] == NULL)
            continue;
        for (j = hash(p->slots[i], strlen(p->slots[i])) & (n - 1); slots[j]; j = (j + 1) & (n - 1))
            ;
        slots[j] = p->slots[i];
    }
    free(p->slots);
    p->slots = slots, p->nslots = n;
    return 0;
}

/* The pooled copy of s[0..len) (which need not be terminated), or NULL without memory. */
const char *triage__intern(struct triage_pool *p, const char *s, size_t len)
{
    size_t i;
    char *c;

    if ((p->nstrings + 1) * 2 > p->nslots && pool_grow(p) < 0)
        return NULL;
    for (i = hash(s, len) & (p->nslots - 1); p->slots[i]; i = (i + 1) & (p->nslots - 1))
        if (strncmp(p->slots[i], s, len) == 0 && p->slots[i][len] == '\0')
            return p->slots[i];
    if ((c = pool_bytes(p, len + 1)) == NULL)
        return NULL;
    memcpy(c, s, len);
    c[len] = '\0';
    p->nstrings++;
    return p->slots[i] = c;
}

void triage__pool_free(struct triage_pool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    free(p->slots);
    memset(p, 0, sizeof(*p));
}

int triage_create(struct triage **out)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return MM_ENOMEM;
    (*out)->window_us = TRIAGE_WINDOW_US;
    (*out)->names_from = *out;
    return 0;
}

void triage_destroy(struct triage *t)
{
    if (t == NULL)
        return;
    triage__pool_free(&t->pool);
    free(t->a);
    free(t->names);
    free(t->parent);
    free(t->inc);
    free(t->order);
    free(t->members);
    free(t->hosts);
    free(t);
}

void triage_set_filter(struct triage *t, const struct triage_filter *f)
{
    t->filter = *f;
}

static const char *pooled(struct triage *t, json_t *v)
{
    const char *s = json_string_value(v);

    return s ? triage__intern(&t->pool, s, json_string_length(v)) : NULL;
}

/* The first string of a metadata array. */
static const char *meta(struct triage *t, json_t *md, const char *key)
{
    return pooled(t, json_array_get(json_object_get(md, key), 0));
}

static const char *name_of(const struct triage *t, const char *ip)
{
    const struct triage_name *n = t->names_from->names;
    size_t m = t->names_from->names_cap - 1, i;

    if (ip == NULL || n == NULL)
        return NULL;
    for (i = hash(ip, strlen(ip)) & m; n[i].ip != NULL; i = (i + 1) & m)
        if (strcmp(n[i].ip, ip) == 0)
            return n[i].name;
    return NULL;
}

/* The evidence strings joined with ", ". */
static const char *evidence(struct triage *t, json_t *arr)
{
    char buf[2048];
    size_t i, len = 0;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        int n;
        if (s == NULL)
            continue;
        n = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? ", " : "", s);
        if (n < 0 || (size_t)n >= sizeof(buf) - len) {
            len = sizeof(buf) - 1;
            break;
        }
        len += (size_t)n;
    }
    return triage__intern(&t->pool, buf, len);
}

static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static int rule_matches(const struct triage_alert *a, const char *want)
{
    size_t n = strlen(want);
    char sid[16];

    snprintf(sid, sizeof(sid), "%" PRIu32, a->sid);
    if (same(a->rule, want) || same(a->category, want) || strcmp(sid, want) == 0)
        return 1;
    /* "lateral" or "lateral." names every rule of that file */
    if (n > 0 && want[n - 1] == '.')
        n--;
    return a->rule != NULL && strncasecmp(a->rule, want, n) == 0 && a->rule[n] == '.';
}

static int keep(const struct triage *t, const struct triage_alert *a)
{
    const struct triage_filter *f = &t->filter;

    if ((f->since_us && a->ts_us < f->since_us) || (f->until_us && a->ts_us >= f->until_us))
        return 0;
    if (f->severity && a->severity > f->severity)
        return 0;
    if (f->zone && !same(a->zone[0], f->zone) && !same(a->zone[1], f->zone))
        return 0;
    if (f->host && !same(a->ip[0], f->host) && !same(a->ip[1], f->host) &&
        !same(a->device[0], f->host) && !same(a->device[1], f->host))
        return 0;
    return f->rule == NULL || rule_matches(a, f->rule);
}

static int read_alert(struct triage *t, json_t *ev, struct triage_alert *a)
{
    json_t *al = json_object_get(ev, "alert"), *md = json_object_get(al, "metadata");
    const char *ts = json_string_value(json_object_get(ev, "timestamp"));
    json_int_t v;

    memset(a, 0, sizeof(*a));
    if (!json_is_object(al) || ts == NULL || triage_parse_eve_time(ts, &a->ts_us, &a->tz_min) < 0)
        return MM_EINVAL;
    v = json_integer_value(json_object_get(al, "signature_id"));
    a->sid = v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
    v = json_integer_value(json_object_get(al, "severity"));
    a->severity = v >= 1 && v <= 3 ? (uint8_t)v : 3;
    a->blocked = same(json_string_value(json_object_get(al, "action")), "blocked");
    v = json_integer_value(json_object_get(ev, "src_port"));
    a->port[0] = v > 0 && v <= 65535 ? (uint16_t)v : 0;
    v = json_integer_value(json_object_get(ev, "dest_port"));
    a->port[1] = v > 0 && v <= 65535 ? (uint16_t)v : 0;
    a->flow_id = (uint64_t)json_integer_value(json_object_get(ev, "flow_id"));
    v = strtol(json_string_value(json_array_get(json_object_get(md, "count"), 0)) ?: "1", NULL, 10);
    a->count = v > 0 && v <= UINT32_MAX ? (uint32_t)v : 1;
    a->ip[0] = pooled(t, json_object_get(ev, "src_ip"));
    a->ip[1] = pooled(t, json_object_get(ev, "dest_ip"));
    a->proto = pooled(t, json_object_get(ev, "proto"));
    a->app_proto = pooled(t, json_object_get(ev, "app_proto"));
    a->signature = pooled(t, json_object_get(al, "signature"));
    a->category = pooled(t, json_object_get(al, "category"));
    a->rule = meta(t, md, "rule");
    a->zone[0] = meta(t, md, "src_zone");
    a->zone[1] = meta(t, md, "dest_zone");
    a->zone_desc[0] = meta(t, md, "src_zone_description");
    a->zone_desc[1] = meta(t, md, "dest_zone_description");
    a->device[0] = meta(t, md, "src_device") ?: name_of(t, a->ip[0]);
    a->device[1] = meta(t, md, "dest_device") ?: name_of(t, a->ip[1]);
    a->message_ja = meta(t, md, "message_ja");
    a->next_ja = meta(t, md, "next_step_ja");
    a->next_en = meta(t, md, "next_step_en");
    a->guideline = meta(t, md, "guideline");
    return 0; /* the evidence, unique to each alert, is pooled only for those kept */
}

int triage__push(struct triage *t, const struct triage_alert *a)
{
    struct triage_alert *grown;

    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        if ((grown = realloc(t->a, cap * sizeof(*grown))) == NULL)
            return MM_ENOMEM;
        t->a = grown, t->cap = cap;
    }
    t->a[t->n++] = *a;
    return 1;
}

int triage_add(struct triage *t, json_t *ev)
{
    struct triage_alert a;

    if (!json_is_object(ev) || !same(json_string_value(json_object_get(ev, "event_type")), "alert"))
        return 0;
    if (read_alert(t, ev, &a) < 0) { /* an alert without its time or alert object */
        t->bad++;
        return 0;
    }
    if (!keep(t, &a))
        return 0;
    a.evidence = evidence(
        t, json_object_get(json_object_get(json_object_get(ev, "alert"), "metadata"), "evidence"));
    return triage__push(t, &a);
}

int triage__read_until(struct triage *t, FILE *f, off_t limit, triage_event_fn fn, void *ud)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    for (;;) {
        off_t at = ftello(f);
        json_error_t jerr;
        json_t *ev;
        const char *type;

        if (rc < 0 || (limit >= 0 && at >= limit) || (len = getline(&line, &cap, f)) <= 0)
            break;
        /* A line still being written: left for the next read of a file that grows. */
        if (line[len - 1] != '\n' && at >= 0 && fseeko(f, at, SEEK_SET) == 0) {
            t->partial = 1;
            break;
        }
        t->partial = 0;
        /* An alert line names its type "alert"; without that word it is not one. */
        if (fn == NULL && memmem(line, (size_t)len, "\"alert\"", 7) == NULL)
            continue;
        if ((ev = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &jerr)) == NULL) {
            t->bad += len > 1 || line[0] != '\n';
            continue;
        }
        type = json_string_value(json_object_get(ev, "event_type"));
        if (type == NULL)
            t->bad++;
        else if (strcmp(type, "alert") == 0)
            rc = triage_add(t, ev);
        else if (fn != NULL)
            fn(ud, type, ev);
        json_decref(ev);
    }
    free(line);
    if (rc < 0)
        return rc;
    return ferror(f) ? MM_EIO : 0;
}

int triage_read(struct triage *t, FILE *f, triage_event_fn fn, void *ud)
{
    return triage__read_until(t, f, -1, fn, ud);
}

/* The first name an inventory gives an address stays (one line per device). */
static int add_name(struct triage *t, const char *ip, const char *name)
{
    struct triage_name *old = t->names, *n;
    size_t oldcap = t->names_cap, i, m;

    if ((t->nnames + 1) * 2 > t->names_cap) {
        t->names_cap = oldcap ? oldcap * 2 : 1024;
        if ((t->names = calloc(t->names_cap, sizeof(*t->names))) == NULL) {
            t->names = old, t->names_cap = oldcap;
            return MM_ENOMEM;
        }
        t->nnames = 0;
        for (i = 0; i < oldcap; i++)
            if (old[i].ip != NULL && add_name(t, old[i].ip, old[i].name) < 0)
                return MM_ENOMEM;
        free(old);
    }
    m = t->names_cap - 1;
    for (i = hash(ip, strlen(ip)) & m; (n = &t->names[i])->ip != NULL; i = (i + 1) & m)
        if (n->ip == ip) /* both pooled */
            return 0;
    n->ip = ip, n->name = name;
    t->nnames++;
    return 0;
}

int triage_load_names(struct triage *t, const char *path, triage_line_fn fn, void *ud, char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, why[256] = "";
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return MM_EIO;
    }
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *ip, *name;

        lineno++;
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "ip"))) {
            snprintf(why, sizeof(why), "not a line of an inventory or connections file");
            rc = MM_EINVAL;
        } else if ((ip = pooled(t, json_object_get(o, "ip"))) == NULL) {
            rc = MM_ENOMEM;
        } else if ((name = pooled(t, json_array_get(json_object_get(o, "names"), 0))) != NULL) {
            rc = add_name(t, ip, name);
        }
        if (rc == 0 && fn != NULL)
            rc = fn(ud, o, why, sizeof(why));
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (rc == MM_ENOMEM)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (rc < 0)
        snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
    return rc;
}

size_t triage_alerts(const struct triage *t)
{
    return t->n;
}

const struct triage_alert *triage_alert_at(const struct triage *t, size_t i)
{
    return i < t->n ? &t->a[i] : NULL;
}

size_t triage_bad_lines(const struct triage *t)
{
    return t->bad;
}

int triage_partial(const struct triage *t)
{
    return t->partial;
}
