/*
 * The ledger's CSV (RFC 4180: quoted fields may hold commas, quotes doubled, line breaks; CRLF
 * or LF; a UTF-8 byte order mark, as Excel writes, is passed over). Rows are kept in file order
 * and indexed twice, by address and by MAC, as sorted arrays searched by bisection: a ledger is
 * read once per load and looked up once per device.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mimamori/config.h"
#include "mimamori/ledger.h"
#include "mimamori/zone.h"

enum { COL_IP, COL_MAC, COL_NAME, COL_ZONE, COL_OWNER, COL_VENDOR, COL__COUNT };
#define MAX_COLUMNS 64

struct ledger {
    struct ledger_entry *e;
    unsigned n, mac_only;
    unsigned *by_ip, nip, *by_mac, nmac; /* indexes into e, sorted */
};

/* One field: where it started (column, 1-based) and its text, unquoted, cut to size. */
struct field {
    unsigned col;
    char text[LEDGER_TEXT_LEN * 2];
};

/*
 * The fields of the record at *p (up to end), its first line at *line: at most max fields;
 * returns how many, and moves *p past the record. -1 for a quote left open.
 */
static int record(const char **p, const char *end, unsigned *line, struct field *f, int max)
{
    const char *s = *p, *bol = s;
    int n = 0;

    for (;;) {
        struct field *cur = n < max ? &f[n] : NULL;
        size_t k = 0;
        if (cur != NULL)
            cur->col = (unsigned)(s - bol) + 1;
        if (s < end && *s == '"') {
            for (s++;; s++) {
                if (s >= end)
                    return -1;
                if (*s == '"' && s + 1 < end && s[1] == '"')
                    s++;
                else if (*s == '"') {
                    s++;
                    break;
                } else if (*s == '\n') {
                    ++*line;
                    bol = s + 1;
                }
                if (cur != NULL && k + 1 < sizeof(cur->text))
                    cur->text[k++] = *s;
            }
        }
        while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
            if (cur != NULL && k + 1 < sizeof(cur->text))
                cur->text[k++] = *s;
            s++;
        }
        if (cur != NULL) {
            while (k > 0 && (cur->text[k - 1] == ' ' || cur->text[k - 1] == '\t'))
                k--;
            cur->text[k] = '\0';
        }
        n++;
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n')
            s++;
        *p = s;
        return n < max ? n : max;
    }
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6], i;
    char sep[5], tail;

    if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &b[0], &sep[0], &b[1], &sep[1], &b[2], &sep[2],
               &b[3], &sep[3], &b[4], &sep[4], &b[5], &tail) != 11)
        return -1;
    for (i = 0; i < 5; i++)
        if (sep[i] != sep[0] || (sep[0] != ':' && sep[0] != '-'))
            return -1;
    for (i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

/* in into out (size bytes), cut at a character boundary so the text stays valid UTF-8. */
static void copy_text(char *out, size_t size, const char *in)
{
    size_t n = strlen(in), lead;

    if (n >= size) {
        n = size - 1;
        for (lead = n; lead > 0 && ((unsigned char)in[lead] & 0xc0) == 0x80; lead--)
            ;
        n = lead; /* the character starting at lead did not fit whole */
    }
    memcpy(out, in, n);
    out[n] = '\0';
}

static const struct ledger *sort_ledger; /* for the comparators below (loading is serial) */

static int cmp_ip(const void *a, const void *b)
{
    return memcmp(sort_ledger->e[*(const unsigned *)a].ip, sort_ledger->e[*(const unsigned *)b].ip,
                  16);
}

static int cmp_mac(const void *a, const void *b)
{
    return memcmp(sort_ledger->e[*(const unsigned *)a].mac,
                  sort_ledger->e[*(const unsigned *)b].mac, 6);
}

/* The header row: which column holds which field (-1: none). 0, or -1 when no ip and no mac. */
static int header(struct field *f, int n, int col[COL__COUNT])
{
    static const char *const names[COL__COUNT] = {"ip", "mac", "name", "zone", "owner", "vendor"};
    int i, c;

    for (c = 0; c < COL__COUNT; c++)
        col[c] = -1;
    for (i = 0; i < n; i++) {
        const char *h = f[i].text;
        if (i == 0 && strncmp(h, "\xef\xbb\xbf", 3) == 0)
            h += 3;
        for (c = 0; c < COL__COUNT; c++)
            if (strcasecmp(h, names[c]) == 0 || (c == COL_IP && strcasecmp(h, "address") == 0))
                col[c] = col[c] < 0 ? i : col[c];
    }
    return col[COL_IP] < 0 && col[COL_MAC] < 0 ? -1 : 0;
}

/* One row into e; problems reported at their field. 0 when the row is a device. */
static int row(struct ywalk *w, const struct mm_config *cfg, struct field *f, int n,
               const int col[COL__COUNT], unsigned line, struct ledger_entry *e)
{
    const char *v;
    int bad = 0;

    memset(e, 0, sizeof(*e));
    e->line = line;
    e->zone = -1;
#define FIELD(c) (col[c] >= 0 && col[c] < n ? f[col[c]].text : "")
#define AT(c)    (col[c] >= 0 && col[c] < n ? f[col[c]].col : 1)
    if (*(v = FIELD(COL_IP)) != '\0') {
        if (zone_parse_addr(v, e->ip) != 0) {
            ydoc_diag_line(w->diag, "%s:%u:%u: bad address '%s' in the ledger", w->file, line,
                           AT(COL_IP), v);
            bad = 1;
        }
        e->has_ip = 1;
    }
    if (*(v = FIELD(COL_MAC)) != '\0') {
        if (parse_mac(v, e->mac) != 0) {
            ydoc_diag_line(w->diag, "%s:%u:%u: bad MAC '%s' in the ledger (aa:bb:cc:dd:ee:ff)",
                           w->file, line, AT(COL_MAC), v);
            bad = 1;
        }
        e->has_mac = 1;
    }
    if (*(v = FIELD(COL_ZONE)) != '\0' && (e->zone = config_zone_index(cfg, v)) < 0) {
        ydoc_diag_line(w->diag, "%s:%u:%u: unknown zone '%s' in the ledger", w->file, line,
                       AT(COL_ZONE), v);
        bad = 1;
    }
    if (!e->has_ip && !e->has_mac) {
        ydoc_diag_line(w->diag, "%s:%u:1: a ledger row needs an ip or a mac", w->file, line);
        bad = 1;
    }
    copy_text(e->name, sizeof(e->name), FIELD(COL_NAME));
    copy_text(e->owner, sizeof(e->owner), FIELD(COL_OWNER));
    copy_text(e->vendor, sizeof(e->vendor), FIELD(COL_VENDOR));
#undef FIELD
#undef AT
    return bad ? -1 : 0;
}

static int blank(const struct field *f, int n)
{
    return n == 1 && f[0].text[0] == '\0';
}

int ledger_parse(const char *name, const char *text, size_t len, const struct mm_config *cfg,
                 struct ledger **out, struct config_diag *diag)
{
    static struct field f[MAX_COLUMNS]; /* loading is serial: the config loader's thread */
    const char *p = text, *end = text + len;
    struct ywalk w = {name, diag};
    struct ledger *l = calloc(1, sizeof(*l));
    unsigned line = 1, before = diag->count, cap = 0, i, at;
    int col[COL__COUNT], n;

    *out = NULL;
    if (l == NULL)
        return MM_ENOMEM;
    n = record(&p, end, &line, f, MAX_COLUMNS);
    if (n < 0 || header(f, n, col) != 0) {
        ydoc_diag_line(diag,
                       "%s:1:1: the ledger's first row must name its columns (ip or "
                       "address, mac, name, zone, owner, vendor)",
                       name);
        ledger_free(l);
        return MM_ECONFIG;
    }
    while (p < end) {
        at = ++line;
        if ((n = record(&p, end, &line, f, MAX_COLUMNS)) < 0) {
            ydoc_diag_line(diag, "%s:%u:1: a quote is never closed", name, at);
            break;
        }
        if (blank(f, n))
            continue;
        if (l->n == cap) {
            struct ledger_entry *g = realloc(l->e, (cap = cap ? cap * 2 : 64) * sizeof(*g));
            if (g == NULL) {
                ledger_free(l);
                return MM_ENOMEM;
            }
            l->e = g;
        }
        if (row(&w, cfg, f, n, col, at, &l->e[l->n]) == 0)
            l->n++;
    }
    if (diag->count != before) {
        ledger_free(l);
        return MM_ECONFIG;
    }
    l->by_ip = calloc(l->n + 1, sizeof(unsigned));
    l->by_mac = calloc(l->n + 1, sizeof(unsigned));
    if (l->by_ip == NULL || l->by_mac == NULL) {
        ledger_free(l);
        return MM_ENOMEM;
    }
    for (i = 0; i < l->n; i++) {
        if (l->e[i].has_ip)
            l->by_ip[l->nip++] = i;
        if (l->e[i].has_mac)
            l->by_mac[l->nmac++] = i;
        l->mac_only += l->e[i].has_mac && !l->e[i].has_ip;
    }
    sort_ledger = l;
    qsort(l->by_ip, l->nip, sizeof(unsigned), cmp_ip);
    qsort(l->by_mac, l->nmac, sizeof(unsigned), cmp_mac);
    *out = l;
    return 0;
}

int ledger_load(const char *path, const struct mm_config *cfg, struct ledger **out,
                struct config_diag *diag)
{
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, k;
    int r;

    *out = NULL;
    if (fp == NULL) {
        ydoc_diag_line(diag, "%s: %s", path, strerror(errno));
        return MM_EIO;
    }
    for (;;) {
        if (len == cap) {
            char *g = realloc(text, cap = cap ? cap * 2 : 65536);
            if (g == NULL) {
                free(text);
                fclose(fp);
                return MM_ENOMEM;
            }
            text = g;
        }
        if ((k = fread(text + len, 1, cap - len, fp)) == 0)
            break;
        len += k;
    }
    fclose(fp);
    r = ledger_parse(path, text, len, cfg, out, diag);
    free(text);
    return r;
}

void ledger_free(struct ledger *l)
{
    if (l == NULL)
        return;
    free(l->e);
    free(l->by_ip);
    free(l->by_mac);
    free(l);
}

static const struct ledger_entry *find(const struct ledger *l, const unsigned *idx, unsigned n,
                                       const uint8_t *key, size_t off, size_t len)
{
    unsigned lo = 0, hi = n;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = memcmp((const uint8_t *)&l->e[idx[mid]] + off, key, len);
        if (c == 0)
            return &l->e[idx[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct ledger_entry *ledger_by_ip(const struct ledger *l, const uint8_t ip[16])
{
    return l != NULL ? find(l, l->by_ip, l->nip, ip, offsetof(struct ledger_entry, ip), 16) : NULL;
}

const struct ledger_entry *ledger_by_mac(const struct ledger *l, const uint8_t mac[6])
{
    return l != NULL ? find(l, l->by_mac, l->nmac, mac, offsetof(struct ledger_entry, mac), 6)
                     : NULL;
}

unsigned ledger_count(const struct ledger *l)
{
    return l != NULL ? l->n : 0;
}

unsigned ledger_mac_only(const struct ledger *l)
{
    return l != NULL ? l->mac_only : 0;
}
