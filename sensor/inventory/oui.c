/*
 * The registry as one sorted array of (24-bit prefix, vendor) and the vendors' names in one
 * block; a lookup is a binary search. Lines other than the "(hex)" ones are passed over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/oui.h"

struct oui_entry {
    uint32_t prefix;
    uint32_t name; /* offset into names */
};

struct oui {
    struct oui_entry *e;
    unsigned n, cap;
    char *names;
    size_t used, size;
};

static int by_prefix(const void *a, const void *b)
{
    uint32_t x = ((const struct oui_entry *)a)->prefix, y = ((const struct oui_entry *)b)->prefix;

    return x < y ? -1 : x > y;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/*
 * "00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp.\r\n" (n bytes, not terminated): 0 with
 * the prefix and the name (terminated in place, where the line's end was), or -1.
 */
static int parse_line(char *line, size_t n, uint32_t *prefix, char **name)
{
    static const int at[6] = {0, 1, 3, 4, 6, 7};
    char *p, *end = line + n;
    uint32_t v = 0;
    int i, h;

    if (n < 17 || line[2] != '-' || line[5] != '-' || memcmp(line + 11, "(hex)", 5) != 0)
        return -1;
    for (i = 0; i < 6; i++) {
        if ((h = hexval(line[at[i]])) < 0)
            return -1;
        v = v << 4 | (uint32_t)h;
    }
    for (p = line + 16; p < end && (*p == ' ' || *p == '\t'); p++)
        ;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    *end = '\0';
    *prefix = v;
    *name = p;
    return 0;
}

static int add(struct oui *o, uint32_t prefix, const char *name)
{
    size_t len = strlen(name) + 1;

    if (o->n == o->cap) {
        unsigned cap = o->cap ? o->cap * 2 : 4096;
        struct oui_entry *e = realloc(o->e, cap * sizeof(*e));
        if (e == NULL)
            return MM_ENOMEM;
        o->e = e, o->cap = cap;
    }
    if (o->used + len > o->size) {
        size_t size = o->size ? o->size * 2 : 1u << 18;
        char *b = realloc(o->names, size);
        if (b == NULL)
            return MM_ENOMEM;
        o->names = b, o->size = size;
    }
    memcpy(o->names + o->used, name, len);
    o->e[o->n].prefix = prefix;
    o->e[o->n++].name = (uint32_t)o->used;
    o->used += len;
    return 0;
}

int oui_load(struct oui **out, const char *path)
{
    struct oui *o = calloc(1, sizeof(*o));
    char *text = NULL, *line, *nl, *name;
    size_t len = 0, cap = 0, k;
    uint32_t prefix;
    FILE *fp;
    int r = 0;

    *out = NULL;
    if (o == NULL)
        return MM_ENOMEM;
    if ((fp = fopen(path, "r")) == NULL) {
        free(o);
        return MM_EIO;
    }
    for (;;) { /* the whole file (5 MB): one pass over it beats a read per line */
        if (len + 1 >= cap) {
            char *g = realloc(text, cap = cap ? cap * 2 : 1u << 23);
            if (g == NULL) {
                r = MM_ENOMEM;
                break;
            }
            text = g;
        }
        if ((k = fread(text + len, 1, cap - len - 1, fp)) == 0)
            break;
        len += k;
    }
    fclose(fp);
    for (line = text; r == 0 && line != NULL && line < text + len; line = nl) {
        nl = memchr(line, '\n', (size_t)(text + len - line));
        if (parse_line(line, nl != NULL ? (size_t)(nl - line) : (size_t)(text + len - line),
                       &prefix, &name) == 0)
            r = add(o, prefix, name);
        if (nl != NULL)
            nl++;
    }
    free(text);
    if (r != 0) {
        oui_free(o);
        return r;
    }
    qsort(o->e, o->n, sizeof(*o->e), by_prefix);
    *out = o;
    return 0;
}

void oui_free(struct oui *o)
{
    if (o == NULL)
        return;
    free(o->e);
    free(o->names);
    free(o);
}

const char *oui_vendor(const struct oui *o, const uint8_t mac[6])
{
    struct oui_entry key;
    const struct oui_entry *e;

    if (o == NULL || (mac[0] & 0x02)) /* locally administered: no vendor's block */
        return NULL;
    key.prefix = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2];
    e = bsearch(&key, o->e, o->n, sizeof(*o->e), by_prefix);
    return e != NULL ? o->names + e->name : NULL;
}

unsigned oui_count(const struct oui *o)
{
    return o != NULL ? o->n : 0;
}
