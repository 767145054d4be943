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
    int too_big;                /* 1: too deep, 2: too many nodes */
    unsigned big_line, big_col; /* where */
};

static struct ynode *convert(struct ydoc *d, yaml_node_t *yn, unsigned depth)
{
    struct ynode *n;
    size_t i, count;

    if (yn == NULL || depth > YDOC_MAX_DEPTH || d->nall >= YDOC_MAX_NODES) {
        d->too_big = d->nall >= YDOC_MAX_NODES ? 2 : 1;
        d->big_line = yn != NULL ? (unsigned)yn->start_mark.line + 1 : 1;
        d->big_col = yn != NULL ? (unsigned)yn->start_mark.column + 1 : 1;
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

/* Line and column (in characters) of byte offset off of text, both from 1. */
static void position(const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
    size_t i;

    *line = *col = 1;
    for (i = 0; i < off && i < len; i++) {
        if (text[i] == '\n')
            *line += 1, *col = 1;
        else if (((unsigned char)text[i] & 0xC0) != 0x80) /* not a UTF-8 continuation byte */
            *col += 1;
    }
}

/*
 * Flow collections ([...], {...}) nested deeper than YDOC_MAX_DEPTH, found before libyaml sees
 * them: its scanner takes time quadratic in their depth (80,000 levels: 19 s), so the depth cap
 * of convert() would come too late. Brackets inside quoted scalars and comments do not count; a
 * quote opens a scalar only where a token can start. Returns the byte offset of the bracket
 * past the limit, or len when there is none.
 */
static size_t flow_too_deep(const char *text, size_t len)
{
    unsigned depth = 0;
    char prev = '\n'; /* the last character that was not a space or tab */
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '#' &&
            (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
            while (i < len && text[i] != '\n')
                i++;
            prev = '\n';
            continue;
        }
        if ((ch == '\'' || ch == '"') && strchr("\n[{,:-?", prev) != NULL) {
            for (i++; i < len && text[i] != ch; i++)
                if (ch == '"' && text[i] == '\\')
                    i++;
            prev = ch;
            continue;
        }
        if (ch == '[' || ch == '{') {
            if (++depth > YDOC_MAX_DEPTH)
                return i;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
        if (ch != ' ' && ch != '\t')
            prev = ch;
    }
    return len;
}

/* Offset of the first byte that does not begin a valid UTF-8 character (RFC 3629), or len. */
static size_t first_bad_utf8(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, n, k;

    while (i < len) {
        unsigned char c = s[i], lo = 0x80, hi = 0xBF;
        n = c < 0x80                 ? 1
            : c >= 0xC2 && c <= 0xDF ? 2
            : c >= 0xE0 && c <= 0xEF ? 3
            : c >= 0xF0 && c <= 0xF4 ? 4
                                     : 0;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
        else if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
        if (n == 0 || i + n > len || (n > 1 && (s[i + 1] < lo || s[i + 1] > hi)))
            return i;
        for (k = 2; k < n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += n;
    }
    return len;
}

/* libyaml's complaint, in words a site's administrator can act on, at its place. */
static void parse_error(const yaml_parser_t *p, const char *name, const char *text, size_t len,
                        struct config_diag *diag)
{
    size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1, off, i;

    if (p->error == YAML_READER_ERROR) { /* its mark is not set; its offset may be past it */
        off = first_bad_utf8(text, len);
        if (off == len) {
            position(text, len, p->problem_offset, &line, &col);
            ydoc_diag_line(diag, "%s:%zu:%zu: %s", name, line, col,
                           p->problem ? p->problem : "unreadable text");
            return;
        }
        position(text, len, off, &line, &col);
        ydoc_diag_line(diag, "%s:%zu:%zu: not UTF-8 (byte 0x%02x): save the file as UTF-8", name,
                       line, col, (unsigned char)text[off]);
        return;
    }
    /* The byte the scanner stopped at: its line's start, then the column's characters. */
    for (off = 0, i = 1; off < len && i < line; off++)
        if (text[off] == '\n')
            i++;
    for (i = 1; off < len && i < col && text[off] != '\n'; off++)
        if (((unsigned char)text[off + 1] & 0xC0) != 0x80)
            i++;
    if (p->error == YAML_SCANNER_ERROR && off < len && text[off] == '\t') {
        ydoc_diag_line(diag, "%s:%zu:%zu: tab character: YAML indents with spaces", name, line,
                       col);
        return;
    }
    ydoc_diag_line(diag, "%s:%zu:%zu: %s%s%s", name, line, col,
                   p->problem ? p->problem : "YAML syntax error", p->context ? " " : "",
                   p->context ? p->context : "");
}

int ydoc_parse(const char *name, const char *text, size_t len, struct ydoc **out,
               struct config_diag *diag)
{
    struct ydoc *d;
    yaml_parser_t parser;
    yaml_node_t *root;
    size_t deep, line, col;

    *out = NULL;
    if ((deep = flow_too_deep(text, len)) < len) {
        position(text, len, deep, &line, &col);
        ydoc_diag_line(diag, "%s:%zu:%zu: nested deeper than %u levels", name, line, col,
                       YDOC_MAX_DEPTH);
        return MM_ECONFIG;
    }
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return MM_ENOMEM;
    if (!yaml_parser_initialize(&parser)) {
        free(d);
        return MM_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &d->doc)) {
        parse_error(&parser, name, text, len, diag);
        yaml_parser_delete(&parser);
        free(d);
        return MM_ECONFIG;
    }
    yaml_parser_delete(&parser);
    d->have_doc = 1;
    if ((root = yaml_document_get_root_node(&d->doc)) != NULL &&
        (d->root = convert(d, root, 0)) == NULL) {
        int r = d->too_big ? MM_ECONFIG : MM_ENOMEM;
        if (d->too_big == 1)
            ydoc_diag_line(diag, "%s:%u:%u: nested deeper than %u levels", name, d->big_line,
                           d->big_col, YDOC_MAX_DEPTH);
        else if (d->too_big)
            ydoc_diag_line(diag, "%s:%u:%u: more than %u values (aliases repeating a part?)", name,
                           d->big_line, d->big_col, YDOC_MAX_NODES);
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

static void vformat_at(char *buf, size_t size, const struct ywalk *w, const struct ynode *n,
                       const char *what, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* "file:line:col: " and what, then the message, into buf: n's place, or 1:1 without one. */
static void vformat_at(char *buf, size_t size, const struct ywalk *w, const struct ynode *n,
                       const char *what, const char *fmt, va_list ap)
{
    int off = snprintf(buf, size, "%s:%u:%u: %s", w->file, n ? n->line : 1, n ? n->col : 1, what);

    if (off >= 0 && (size_t)off < size)
        vsnprintf(buf + off, size - (size_t)off, fmt, ap);
}

void ydoc_warning(struct ywalk *w, const struct ynode *n, const char *fmt, ...)
{
    struct config_diag *d = w->diag;
    va_list ap;

    if (d->nwarn++ >= CONFIG_MAX_WARNS)
        return;
    va_start(ap, fmt);
    vformat_at(d->warn[d->nwarn - 1], sizeof(d->warn[0]), w, n, "warning: ", fmt, ap);
    va_end(ap);
}

void ydoc_error(struct ywalk *w, const struct ynode *n, const char *fmt, ...)
{
    struct config_diag *d = w->diag;
    va_list ap;

    if (d->count++ >= CONFIG_MAX_DIAGS)
        return;
    va_start(ap, fmt);
    vformat_at(d->msg[d->count - 1], sizeof(d->msg[0]), w, n, "", fmt, ap);
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
