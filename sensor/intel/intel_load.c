/*
 * Reading a feed file: its format told from its first bytes (a JSON object is a STIX bundle, a
 * header naming "type" and "value" a MISP CSV export, anything else a plain list), the plain
 * list and MISP CSV readers, and the load itself, which keeps a feed whole or not at all.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intel_int.h"

#define MAX_LINE 8192
#define MAX_COLS 32

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
        ;
    *e = '\0';
    return s;
}

/*
 * One indicator per line; "#" starts a comment (at the line's start or after a space), and a
 * comment after an indicator is its description. A line that is no indicator fails the feed:
 * lists are written by hand, and a typo would otherwise silently match nothing.
 */
int intel__read_plain(struct intel_reader *rd, FILE *f)
{
    char buf[MAX_LINE];
    unsigned line = 0;
    int rc = 0;

    while (rc == 0 && fgets(buf, sizeof(buf), f) != NULL) {
        char *v = buf, *c = NULL, *p;
        const char *why = NULL;
        int type;

        line++;
        for (p = buf; *p != '\0' && c == NULL; p++)
            if (*p == '#' && (p == buf || isspace((unsigned char)p[-1])))
                c = p;
        if (c != NULL)
            *c++ = '\0';
        if (*(v = trim(v)) == '\0')
            continue;
        if ((type = intel__guess(v)) < 0)
            return intel__fail(rd, line, "not an address, network, domain, URL or hash: '%.80s'",
                               v);
        rc = intel__add(rd, (enum intel_type)type, v, NULL, c ? trim(c) : NULL, line, 0, &why);
        if (rc == MM_EINVAL)
            return intel__fail(rd, line, "'%.80s': %s", v, why);
    }
    return rc;
}

/* A CSV record's fields (RFC 4180 quoting), in place; -1 when a quote is left open. */
static int csv_split(char *s, char **cols, int max)
{
    int n = 0;

    s[strcspn(s, "\r\n")] = '\0';
    while (n < max) {
        char *out = s;
        cols[n++] = s;
        if (*s == '"') {
            for (s++;; s++) {
                if (*s == '\0')
                    return -1;
                if (*s == '"' && s[1] == '"')
                    *out++ = '"', s++;
                else if (*s == '"')
                    break;
                else
                    *out++ = *s;
            }
            s++;
            if (*s != ',' && *s != '\0')
                return -1;
        } else {
            while (*s != ',' && *s != '\0')
                *out++ = *s++;
        }
        if (*s == '\0') {
            *out = '\0';
            return n;
        }
        *out = '\0';
        s++;
    }
    return n;
}

/* MISP's attribute types and what is matched of them; NULL type: not matched. */
static const struct {
    const char *misp;
    int type; /* -1: an address or network, told by the value */
} misp_types[] = {
    {"ip-dst", -1},
    {"ip-src", -1},
    {"ip-dst|port", -1},
    {"ip-src|port", -1},
    {"domain", INTEL_DOMAIN},
    {"hostname", INTEL_DOMAIN},
    {"hostname|port", INTEL_DOMAIN},
    {"domain|ip", INTEL_DOMAIN},
    {"url", INTEL_URL},
    {"ja3-fingerprint-md5", INTEL_JA3},
    {"x509-fingerprint-sha1", INTEL_CERT_SHA1},
    {"x509-fingerprint-sha256", INTEL_CERT_SHA256},
};

/* One MISP attribute (a "domain|ip" is both). Values that are not what their type says are
 * skipped and counted: an export is machine-made, and one odd value should not lose the rest. */
static int misp_row(struct intel_reader *rd, char **c, const int *col, unsigned line)
{
    const char *type = c[col[1]], *why;
    char value[MAX_LINE], *part[2];
    size_t i, k;
    int rc = 0, t;

    if (col[4] >= 0 && (strcmp(c[col[4]], "0") == 0 || strcasecmp(c[col[4]], "false") == 0)) {
        rd->st->skipped++; /* to_ids off: not meant for detection */
        return 0;
    }
    for (i = 0; i < sizeof(misp_types) / sizeof(misp_types[0]); i++)
        if (strcmp(misp_types[i].misp, type) == 0)
            break;
    if (i == sizeof(misp_types) / sizeof(misp_types[0])) {
        rd->st->skipped++;
        return 0;
    }
    snprintf(value, sizeof(value), "%s", c[col[2]]);
    part[0] = value, part[1] = strchr(value, '|');
    if (part[1] != NULL)
        *part[1]++ = '\0';
    for (k = 0; k < 2 && rc == 0 && part[k] != NULL; k++) {
        if (k == 1 && strcmp(type, "domain|ip") != 0)
            break; /* a port */
        t = k == 1 || misp_types[i].type < 0 ? intel__guess(part[k]) : misp_types[i].type;
        if (t < 0 || ((k == 1 || misp_types[i].type < 0) && t != INTEL_IP && t != INTEL_NET)) {
            rd->st->skipped++;
            continue;
        }
        rc = intel__add(rd, (enum intel_type)t, trim(part[k]), col[0] >= 0 ? c[col[0]] : NULL,
                        col[3] >= 0 ? c[col[3]] : NULL, line, 0, &why);
        if (rc == MM_EINVAL) {
            rd->st->skipped++;
            rc = 0;
        }
    }
    return rc;
}

/* The columns uuid, type, value, comment, to_ids of a header; type and value must be there. */
static int misp_header(char **c, int n, int *col)
{
    static const char *const names[5] = {"uuid", "type", "value", "comment", "to_ids"};

    for (int k = 0; k < 5; k++) {
        col[k] = -1;
        for (int i = 0; i < n; i++)
            if (strcasecmp(trim(c[i]), names[k]) == 0)
                col[k] = i;
    }
    return col[1] >= 0 && col[2] >= 0 ? 0 : -1;
}

int intel__read_misp(struct intel_reader *rd, FILE *f)
{
    char buf[MAX_LINE], *c[MAX_COLS];
    int col[5], n, need;
    unsigned line = 1;
    int rc = 0;

    if (fgets(buf, sizeof(buf), f) == NULL || (n = csv_split(buf, c, MAX_COLS)) < 0 ||
        misp_header(c, n, col) < 0)
        return intel__fail(rd, 1, "not a MISP CSV export (a header with type and value)");
    need = col[1] > col[2] ? col[1] : col[2];
    for (int k = 0; k < 5; k++)
        need = col[k] > need ? col[k] : need;
    while (rc == 0 && fgets(buf, sizeof(buf), f) != NULL) {
        line++;
        if (buf[strspn(buf, " \t\r\n")] == '\0')
            continue;
        if ((n = csv_split(buf, c, MAX_COLS)) < 0)
            return intel__fail(rd, line, "a quoted field is not closed");
        if (n <= need)
            return intel__fail(rd, line, "%d fields, the header has more", n);
        rc = misp_row(rd, c, col, line);
    }
    return rc;
}

static enum intel_format sniff(FILE *f)
{
    char head[512];
    size_t n = fread(head, 1, sizeof(head) - 1, f), i;

    head[n] = '\0';
    rewind(f);
    for (i = 0; i < n && isspace((unsigned char)head[i]); i++)
        ;
    if (i < n && head[i] == '{')
        return INTEL_STIX;
    head[strcspn(head, "\r\n")] = '\0';
    if (strchr(head, ',') != NULL && strcasestr(head, "type") && strcasestr(head, "value"))
        return INTEL_MISP_CSV;
    return INTEL_PLAIN;
}

int intel_load_stream(struct intel *in, unsigned feed, FILE *f, const char *name,
                      enum intel_format format, int64_t now_s, struct intel_load_stats *st,
                      char *err, size_t errlen)
{
    struct intel_reader rd = {in, feed, now_s, st, name, err, errlen};
    size_t n0 = in->n, used0 = in->used;
    int rc;

    memset(st, 0, sizeof(*st));
    if (format == INTEL_AUTO)
        format = sniff(f);
    rc = format == INTEL_STIX       ? intel__read_stix(&rd, f)
         : format == INTEL_MISP_CSV ? intel__read_misp(&rd, f)
                                    : intel__read_plain(&rd, f);
    if (rc == 0 && ferror(f))
        rc = intel__fail(&rd, 0, "read error");
    if (rc == 0)
        rc = intel__index(in, n0, st);
    if (rc != 0) { /* the feed whole or not at all */
        struct intel_load_stats again = {0};
        in->n = n0, in->used = used0;
        if (rc == MM_ENOMEM) {
            snprintf(err, errlen, "%s: out of memory", name);
            intel__index(in, n0, &again); /* the chains as they were, if memory allows */
        }
    }
    return rc;
}

int intel_load(struct intel *in, unsigned feed, const char *path, enum intel_format format,
               int64_t now_s, struct intel_load_stats *st, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    int rc;

    if (f == NULL) {
        memset(st, 0, sizeof(*st));
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return MM_EIO;
    }
    rc = intel_load_stream(in, feed, f, path, format, now_s, st, err, errlen);
    fclose(f);
    return rc;
}
