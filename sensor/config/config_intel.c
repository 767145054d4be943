/*
 * intel: the site's threat-intelligence feeds, each {name, path, severity, category, format},
 * read into the snapshot's indicator table as the config loads. A feed that cannot be read is
 * a configuration error at the feed's entry, with the feed's own file and line, so that a
 * reload with a broken feed keeps the running snapshot and its indicators.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "mimamori/rules.h"
#include "config_int.h"

static atomic_uint generation;

/* One entry's keys; the path's node, for the load's message. */
static const struct ynode *parse_feed(struct loader *L, const struct ynode *e,
                                      struct config_intel_feed *f, enum intel_format *format)
{
    static const char *const formats[] = {"auto", "plain", "misp", "stix"};
    const struct ynode *at = NULL;
    uint32_t sev;
    size_t j, k;

    for (j = 0; j < e->n; j++) {
        const char *key = ydoc_key(&L->w, e, j), *v;
        const struct ynode *vn = YDOC_VAL(e, j);
        if (key == NULL)
            continue;
        if (strcmp(key, "severity") == 0) {
            if (ydoc_uint(&L->w, vn, "intel severity", 1, 3, &sev))
                f->severity = (uint8_t)sev;
            continue;
        }
        if ((strcmp(key, "name") && strcmp(key, "path") && strcmp(key, "category") &&
             strcmp(key, "format"))) {
            ydoc_error(&L->w, YDOC_KEY(e, j),
                       "unknown key '%s' in an intel feed (name, path, severity, category, format)",
                       key);
            continue;
        }
        if ((v = ydoc_string(&L->w, vn, "an intel feed's value")) == NULL)
            continue;
        if (strcmp(key, "name") == 0) {
            f->name = config__dup(L, vn, v);
        } else if (strcmp(key, "path") == 0) {
            f->path = config__dup(L, vn, v), at = vn;
        } else if (strcmp(key, "category") == 0) {
            int c = rules_category_lookup(v, 1);
            if (c < 0)
                ydoc_error(&L->w, vn, "intel category '%s' is not an alert category", v);
            else
                f->category = (uint8_t)c;
        } else {
            for (k = 0; k < 4 && strcmp(formats[k], v) != 0; k++)
                ;
            if (k == 4)
                ydoc_error(&L->w, vn, "intel format '%s' (auto, plain, misp, stix)", v);
            else
                *format = (enum intel_format)k;
        }
    }
    if (f->name == NULL || f->path == NULL)
        ydoc_error(&L->w, e, "an intel feed needs a name and a path");
    return at;
}

static void load_feed(struct loader *L, const struct ynode *at, unsigned i,
                      enum intel_format format)
{
    struct mm_config *c = L->c;
    struct intel_load_stats st;
    char err[512];

    for (unsigned k = 0; k < i; k++)
        if (strcmp(c->feeds[k].name, c->feeds[i].name) == 0) {
            ydoc_error(&L->w, at, "intel feed name '%s' is used twice", c->feeds[i].name);
            return;
        }
    if (intel_load(c->intel, i, c->feeds[i].path, format, (int64_t)time(NULL), &st, err,
                   sizeof(err)) != 0) {
        ydoc_error(&L->w, at, "intel feed '%s': %s", c->feeds[i].name, err);
        return;
    }
    c->intel_expired += st.expired;
    c->intel_skipped += st.skipped;
    c->intel_duplicates += st.duplicates;
}

uint64_t config_intel_stamp(const struct mm_config *c)
{
    uint64_t h = 1469598103934665603ULL;

    for (unsigned i = 0; i < c->nfeeds; i++) {
        struct stat st;
        uint64_t v[5] = {0};
        if (c->feeds[i].path != NULL && stat(c->feeds[i].path, &st) == 0) {
            v[0] = (uint64_t)st.st_dev, v[1] = (uint64_t)st.st_ino, v[2] = (uint64_t)st.st_size;
            v[3] = (uint64_t)st.st_mtim.tv_sec, v[4] = (uint64_t)st.st_mtim.tv_nsec;
        }
        for (unsigned k = 0; k < 5; k++)
            h = (h ^ v[k]) * 1099511628211ULL;
    }
    return h;
}

void config__parse_intel(struct loader *L, const struct ynode *n)
{
    struct mm_config *c = L->c;
    const struct ynode **at;
    enum intel_format *format;
    size_t i;

    if (!ydoc_want(&L->w, n, YN_LIST, "intel"))
        return;
    at = calloc(n->n + 1, sizeof(*at));
    format = calloc(n->n + 1, sizeof(*format));
    if ((c->feeds = calloc(n->n + 1, sizeof(*c->feeds))) == NULL || at == NULL || format == NULL ||
        (c->intel == NULL && intel_create(&c->intel) != 0)) {
        ydoc_error(&L->w, n, "out of memory");
        free(at), free(format);
        return;
    }
    for (i = 0; i < n->n; i++) { /* every entry first: the files are stamped before they are read */
        const struct ynode *e = n->items[i];
        struct config_intel_feed *f = &c->feeds[c->nfeeds];
        if (!ydoc_want(&L->w, e, YN_MAP, "an intel feed"))
            continue;
        f->severity = 2, f->category = CAT_C2;
        at[c->nfeeds] = parse_feed(L, e, f, &format[c->nfeeds]);
        c->nfeeds++;
    }
    c->intel_stamp = config_intel_stamp(c);
    for (i = 0; i < c->nfeeds; i++)
        if (c->feeds[i].name != NULL && c->feeds[i].path != NULL && at[i] != NULL)
            load_feed(L, at[i], (unsigned)i, format[i]);
    free(at), free(format);
    c->intel_count = intel_count(c->intel);
    c->intel_bytes = intel_memory(c->intel);
    do
        c->intel_gen = (uint16_t)atomic_fetch_add(&generation, 1) + 1;
    while (c->intel_gen == 0);
}
