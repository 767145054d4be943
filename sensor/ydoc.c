/*
 * The libyaml wrapper (the only file that includes libyaml). A document is loaded with libyaml's
 * node API and copied into ynode trees that point at libyaml's scalar text, so the document is
 * kept until ydoc_free(). Aliases are followed, with a cap on depth and on the total number of
 * nodes so that a hostile file ("billion laughs") is refused instead of exhausting memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "mimamori/error.h"
#include "mimamori/ydoc.h"

#define YDOC_MAX_DEPTH 64
#define YDOC_MAX_NODES 200000u

struct ydoc {
    yaml_document_t doc;
    int have_doc;
    struct ynode *root;
    struct ynode **all; /* every node, for freeing */
    size_t nall, capall;
    int too_big;
};

static struct ynode *convert(struct ydoc *d, yaml_node_t *yn, unsigned depth)
{
    struct ynode *n;
    size_t i, count;

    if (yn == NULL || depth > YDOC_MAX_DEPTH || d->nall >= YDOC_MAX_NODES) {
        d->too_big = 1;
        return NULL;
    }
    if (d->nall == d->capall) {
        size_t cap = d->capall ? d->capall * 2 : 64;
        struct ynode **all = realloc(d->all, cap * sizeof(*all));
        if (all == NULL)
            return NULL;
        d->all = all;
        d->capall = cap;
    }
    if ((n = calloc(1, sizeof(*n))) == NULL)
        return NULL;
    d->all[d->nall++] = n;
    n->line = (unsigned)yn->start_mark.line + 1;
    n->col = (unsigned)yn->start_mark.column + 1;
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n->kind = YN_SCALAR;
        n->str = (const char *)yn->data.scalar.value;
        return n;
    case YAML_SEQUENCE_NODE:
        n->kind = YN_LIST;
        count = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
        break;
    case YAML_MAPPING_NODE:
        n->kind = YN_MAP;
        count = 2 * (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
        break;
    default:
        d->too_big = 1;
        return NULL;
    }
    n->str = "";
    if (count > 0 && (n->items = calloc(count, sizeof(*n->items))) == NULL)
        return NULL;
    for (i = 0; i < count; i++) {
        int idx;
        if (n->kind == YN_LIST)
            idx = yn->data.sequence.items.start[i];
        else if (i % 2 == 0)
            idx = yn->data.mapping.pairs.start[i / 2].key;
        else
            idx = yn->data.mapping.pairs.start[i / 2].value;
        if ((n->items[i] = convert(d, yaml_document_get_node(&d->doc, idx), depth + 1)) == NULL)
            return NULL;
    }
    n->n = n->kind == YN_MAP ? count / 2 : count;
    return n;
}

void ydoc_diag_line(struct config_diag *diag, const char *fmt, ...)
{
    va_list ap;

    if (diag->count++ >= CONFIG_MAX_DIAGS)
        return;
    va_start(ap, fmt);
    vsnprintf(diag->msg[diag->count - 1], sizeof(diag->msg[0]), fmt, ap);
    va_end(ap);
}

int ydoc_parse(const char *name, const char *text, size_t len, struct ydoc **out,
               struct config_diag *diag)
{
    struct ydoc *d;
    yaml_parser_t parser;
    yaml_node_t *root;

    *out = NULL;
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return MM_ENOMEM;
    if (!yaml_parser_initialize(&parser)) {
        free(d);
        return MM_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &d->doc)) {
        ydoc_diag_line(diag, "%s:%zu:%zu: %s%s%s", name, parser.problem_mark.line + 1,
                       parser.problem_mark.column + 1,
                       parser.problem ? parser.problem : "YAML syntax error",
                       parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(d);
        return MM_ECONFIG;
    }
    yaml_parser_delete(&parser);
    d->have_doc = 1;
    if ((root = yaml_document_get_root_node(&d->doc)) != NULL &&
        (d->root = convert(d, root, 0)) == NULL) {
        int r = d->too_big ? MM_ECONFIG : MM_ENOMEM;
        if (d->too_big)
            ydoc_diag_line(diag, "%s:1:1: document too deep or too large (aliases?)", name);
        ydoc_free(d);
        return r;
    }
    *out = d;
    return 0;
}

int ydoc_parse_file(const char *path, struct ydoc **out, struct config_diag *diag)
{
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int r;

    *out = NULL;
    if (fp == NULL) {
        ydoc_diag_line(diag, "%s:1:1: cannot open: %s", path, strerror(errno));
        return MM_EIO;
    }
    for (;;) {
        size_t n;
        if (len == cap) {
            char *t = realloc(text, cap ? cap * 2 : 8192);
            if (t == NULL) {
                free(text);
                fclose(fp);
                return MM_ENOMEM;
            }
            text = t;
            cap = cap ? cap * 2 : 8192;
        }
        if ((n = fread(text + len, 1, cap - len, fp)) == 0)
            break;
        len += n;
    }
    if (ferror(fp)) {
        ydoc_diag_line(diag, "%s:1:1: read error", path);
        free(text);
        fclose(fp);
        return MM_EIO;
    }
    fclose(fp);
    r = ydoc_parse(path, text, len, out, diag);
    free(text);
    return r;
}

const struct ynode *ydoc_root(const struct ydoc *d)
{
    return d->root;
}

void ydoc_free(struct ydoc *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nall; i++) {
        free(d->all[i]->items);
        free(d->all[i]);
    }
    free(d->all);
    if (d->have_doc)
        yaml_document_delete(&d->doc);
    free(d);
}

/* --- walking helpers ---------------------------------------------------------------------- */

void ydoc_error(struct ywalk *w, const struct ynode *n, const char *fmt, ...)
{
    struct config_diag *d = w->diag;
    va_list ap;
    int off;

    if (d->count++ >= CONFIG_MAX_DIAGS)
        return;
    off = snprintf(d->msg[d->count - 1], sizeof(d->msg[0]), "%s:%u:%u: ", w->file, n ? n->line : 1,
                   n ? n->col : 1);
    va_start(ap, fmt);
    vsnprintf(d->msg[d->count - 1] + off, sizeof(d->msg[0]) - (size_t)off, fmt, ap);
    va_end(ap);
}

int ydoc_want(struct ywalk *w, const struct ynode *n, enum ynode_kind kind, const char *what)
{
    static const char *const kinds[] = {"nothing", "a string", "a list", "a mapping"};

    if (n->kind == kind)
        return 1;
    ydoc_error(w, n, "%s must be %s", what, kinds[kind]);
    return 0;
}

const char *ydoc_string(struct ywalk *w, const struct ynode *n, const char *what)
{
    return ydoc_want(w, n, YN_SCALAR, what) ? n->str : NULL;
}

int ydoc_uint(struct ywalk *w, const struct ynode *n, const char *what, unsigned long min,
              unsigned long max, uint32_t *out)
{
    const char *s = ydoc_string(w, n, what);
    char *end;
    unsigned long v;

    if (s == NULL)
        return 0;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
        ydoc_error(w, n, "%s must be a whole number from %lu to %lu, not '%s'", what, min, max, s);
        return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

int ydoc_bool(struct ywalk *w, const struct ynode *n, const char *what, int *out)
{
    const char *s = ydoc_string(w, n, what);

    if (s == NULL)
        return 0;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) {
        *out = 1;
        return 1;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0) {
        *out = 0;
        return 1;
    }
    ydoc_error(w, n, "%s must be true or false, not '%s'", what, s);
    return 0;
}

const char *ydoc_key(struct ywalk *w, const struct ynode *map, size_t i)
{
    const struct ynode *k = YDOC_KEY(map, i);
    size_t j;

    if (k->kind != YN_SCALAR) {
        ydoc_error(w, k, "keys must be strings");
        return NULL;
    }
    for (j = 0; j < i; j++) {
        const struct ynode *q = YDOC_KEY(map, j);
        if (q->kind == YN_SCALAR && strcmp(q->str, k->str) == 0) {
            ydoc_error(w, k, "duplicate key '%s'", k->str);
            return NULL;
        }
    }
    return k->str;
}

unsigned ydoc_each_string(struct ywalk *w, const struct ynode *n, const char *what,
                          void (*fn)(void *ud, const struct ynode *n, const char *s), void *ud)
{
    size_t i;
    unsigned count = 0;

    if (n->kind == YN_SCALAR) {
        fn(ud, n, n->str);
        return 1;
    }
    if (!ydoc_want(w, n, YN_LIST, what))
        return 0;
    for (i = 0; i < n->n; i++) {
        const char *s = ydoc_string(w, n->items[i], what);
        if (s != NULL) {
            fn(ud, n->items[i], s);
            count++;
        }
    }
    return count;
}

/* "90", "90s", "5m", "2h", "1d" to seconds. */
int ydoc_duration(struct ywalk *w, const struct ynode *n, const char *what, uint32_t *out)
{
    const char *s = ydoc_string(w, n, what);
    char *end;
    unsigned long v, mul = 1;

    if (s == NULL)
        return 0;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mul = 60, end++;
    else if (*end == 'h')
        mul = 3600, end++;
    else if (*end == 'd')
        mul = 86400, end++;
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v == 0 || v > 30 * 86400 / mul) {
        ydoc_error(w, n, "%s must be a duration from 1s to 30d (90, 90s, 5m, 2h, 1d), not '%s'",
                   what, s);
        return 0;
    }
    *out = (uint32_t)(v * mul);
    return 1;
}

/* "52428800", "50MB", "50MiB", "2GB" to bytes. */
int ydoc_size(struct ywalk *w, const struct ynode *n, const char *what, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mul;
    } units[] = {{"", 1},          {"B", 1},           {"KB", 1000},
                 {"MB", 1000000},  {"GB", 1000000000}, {"KiB", 1024},
                 {"MiB", 1048576}, {"GiB", 1073741824}};
    const char *s = ydoc_string(w, n, what);
    char *end;
    unsigned long long v;
    size_t i;

    if (s == NULL)
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].suffix) == 0)
            break;
    if (*s < '0' || *s > '9' || errno != 0 || i == sizeof(units) / sizeof(units[0]) || v == 0 ||
        v > UINT64_MAX / units[i].mul) {
        ydoc_error(w, n, "%s must be a size such as 52428800, 50MB or 50MiB, not '%s'", what, s);
        return 0;
    }
    *out = v * units[i].mul;
    return 1;
}

int ydoc_flags(struct ywalk *w, const struct ynode *n, const char *what, const char *item,
               const char *const *names, unsigned count, unsigned *bits)
{
    char known[256] = "";
    size_t i;
    unsigned k;
    int ok = 1;

    if (!ydoc_want(w, n, YN_LIST, what))
        return 0;
    for (k = 0; k < count; k++)
        snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", k ? ", " : "",
                 names[k]);
    for (i = 0; i < n->n; i++) {
        const char *s = ydoc_string(w, n->items[i], item);
        if (s == NULL) {
            ok = 0;
            continue;
        }
        for (k = 0; k < count && strcmp(names[k], s) != 0; k++)
            ;
        if (k == count) {
            ydoc_error(w, n->items[i], "unknown %s '%s' (%s)", item, s, known);
            ok = 0;
        } else {
            *bits |= 1u << k;
        }
    }
    return ok;
}
