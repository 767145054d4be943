/*
 * STIX 2.1 bundles (jansson): the indicator objects whose pattern compares an address,
 * network, domain name, URL or certificate hash for equality, one comparison or several joined
 * by OR. Patterns joining observations by AND, other pattern languages and revoked indicators
 * are counted as skipped; valid_until ends an indicator.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "intel_int.h"

/* "2026-12-31T00:00:00Z" or "...00.000+09:00": seconds since the epoch, or -1. */
static int64_t rfc3339(const char *s)
{
    struct tm tm = {0};
    int n = 0, oh = 0, om = 0;
    const char *p;

    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    for (p = s + n + (s[n] == '.'); isdigit((unsigned char)*p); p++)
        ;
    if (*p != 'Z' && (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || (*p != '+' && *p != '-')))
        return -1;
    tm.tm_year -= 1900, tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) - (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
}

/* The object path of a comparison and what is matched of it; -1: an address, by its value. */
static int path_type(const char *path, size_t len)
{
    static const struct {
        const char *path;
        int type;
    } paths[] = {
        {"ipv4-addr:value", -1},
        {"ipv6-addr:value", -1},
        {"domain-name:value", INTEL_DOMAIN},
        {"url:value", INTEL_URL},
        {"x509-certificate:hashes.'SHA-1'", INTEL_CERT_SHA1},
        {"x509-certificate:hashes.SHA1", INTEL_CERT_SHA1},
        {"x509-certificate:hashes.'SHA1'", INTEL_CERT_SHA1},
        {"x509-certificate:hashes.'SHA-256'", INTEL_CERT_SHA256},
        {"x509-certificate:hashes.SHA256", INTEL_CERT_SHA256},
        {"x509-certificate:hashes.'SHA256'", INTEL_CERT_SHA256},
    };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (strlen(paths[i].path) == len && strncmp(paths[i].path, path, len) == 0)
            return paths[i].type;
    return -2;
}

struct comparison {
    int type; /* as path_type */
    char value[1024];
};

/* "[path = 'value']" joined by OR (inside or between brackets): the comparisons, at most max;
 * -1 when the pattern is anything else (AND, other operators, qualifiers). */
static int parse_pattern(const char *p, struct comparison *out, int max)
{
    int n = 0, open = 0;

    for (;;) {
        const char *path;
        size_t k = 0;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '[' && !open)
            open = 1, p++;
        while (isspace((unsigned char)*p))
            p++;
        for (path = p; *p != '\0' && !isspace((unsigned char)*p) && *p != '='; p++)
            if (*p == '\'' && (p = strchr(p + 1, '\'')) == NULL) /* a quoted hash name */
                return -1;
        if (n == max || (out[n].type = path_type(path, (size_t)(p - path))) == -2)
            return -1;
        while (isspace((unsigned char)*p))
            p++;
        if (*p++ != '=')
            return -1;
        while (isspace((unsigned char)*p))
            p++;
        if (*p++ != '\'')
            return -1;
        for (; *p != '\0' && *p != '\'' && k < sizeof(out[n].value) - 1; p++)
            out[n].value[k++] = *p == '\\' && p[1] != '\0' ? *++p : *p;
        out[n++].value[k] = '\0';
        if (*p++ != '\'')
            return -1;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ']' && open)
            open = 0, p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' && !open)
            return n;
        if (strncmp(p, "OR", 2) != 0 || !isspace((unsigned char)p[2]))
            return -1;
        p += 3;
    }
}

static int take(struct intel_reader *rd, json_t *o)
{
    const char *pattern = json_string_value(json_object_get(o, "pattern"));
    const char *ptype = json_string_value(json_object_get(o, "pattern_type"));
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *desc = json_string_value(json_object_get(o, "description"));
    const char *until_s = json_string_value(json_object_get(o, "valid_until")), *why;
    struct comparison c[8];
    int64_t until = 0;
    int n, i, rc = 0;

    if (desc == NULL)
        desc = json_string_value(json_object_get(o, "name"));
    if (pattern == NULL || (ptype != NULL && strcmp(ptype, "stix") != 0) ||
        json_is_true(json_object_get(o, "revoked")) || (n = parse_pattern(pattern, c, 8)) < 0) {
        rd->st->skipped++;
        return 0;
    }
    if (until_s != NULL && (until = rfc3339(until_s)) < 0)
        return intel__fail(rd, 0, "%s: valid_until '%.40s' is not a time", id ? id : "indicator",
                           until_s);
    for (i = 0; i < n && rc == 0; i++) {
        int t = c[i].type == -1 ? intel__guess(c[i].value) : c[i].type;
        if (t != INTEL_IP && t != INTEL_NET && c[i].type == -1)
            t = -1;
        /* A value that is not what its pattern says is skipped and counted: a bundle is machine
         * made, and one odd indicator should not lose the rest. */
        if (t < 0 || (rc = intel__add(rd, (enum intel_type)t, c[i].value, id, desc, 0, until,
                                      &why)) == MM_EINVAL) {
            rd->st->skipped++;
            rc = 0;
        }
    }
    return rc;
}

int intel__read_stix(struct intel_reader *rd, FILE *f)
{
    json_error_t jerr;
    json_t *b = json_loadf(f, 0, &jerr), *objs, *o;
    size_t i;
    int rc = 0;

    if (b == NULL)
        return intel__fail(rd, (unsigned)jerr.line, "%s", jerr.text);
    objs = json_object_get(b, "objects");
    if (!json_is_array(objs) ||
        strcmp(json_string_value(json_object_get(b, "type")) ?: "", "bundle") != 0) {
        json_decref(b);
        return intel__fail(rd, 0, "not a STIX bundle (type bundle, with objects)");
    }
    json_array_foreach(objs, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        if (rc == 0 && type != NULL && strcmp(type, "indicator") == 0)
            rc = take(rd, o);
    }
    json_decref(b);
    return rc;
}
