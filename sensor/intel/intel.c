/*
 * The indicator table: indicators with their strings in one arena, indexed by a hash of their
 * type and normalised key (an address's 16 bytes, a name in lower case, a hash's hex digits),
 * networks in a longest-prefix map. Indicators sharing a key are chained, so a lookup finds
 * the first one still valid. The index is rebuilt after each feed, so a feed that fails to
 * load is dropped whole.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel_int.h"

#define MAX_KEY 2048

static const char *const type_names[INTEL__TYPES] = {
    "ip", "network", "domain", "url", "ja3", "cert_sha1", "cert_sha256",
};

const char *intel_type_name(enum intel_type t)
{
    return (unsigned)t < INTEL__TYPES ? type_names[t] : "?";
}

int intel_create(struct intel **out)
{
    struct intel *in = calloc(1, sizeof(*in));

    if (in == NULL || (in->arena = malloc(4096)) == NULL) {
        free(in);
        return MM_ENOMEM;
    }
    in->arena[0] = '\0';
    in->used = 1, in->cap = 4096;
    *out = in;
    return 0;
}

void intel_destroy(struct intel *in)
{
    if (in == NULL)
        return;
    free(in->arena);
    free(in->ind);
    free(in->slots);
    zone_map_destroy(in->nets);
    free(in);
}

static uint64_t hash(unsigned type, const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ type;

    while (len-- > 0)
        h = (h ^ (unsigned char)*k++) * 1099511628211ULL;
    return h;
}

/* Bytes (len, plus a terminating 0) into the arena; offset, or 0 without memory. */
static uint32_t keep(struct intel *in, const char *s, size_t len)
{
    uint32_t at;

    if (s == NULL || len == 0)
        return 0;
    if (in->used + len + 1 > in->cap) {
        size_t cap = in->cap * 2;
        char *a;
        while (cap < in->used + len + 1)
            cap *= 2;
        if (cap > UINT32_MAX || (a = realloc(in->arena, cap)) == NULL)
            return 0;
        in->arena = a, in->cap = cap;
    }
    at = (uint32_t)in->used;
    memcpy(in->arena + at, s, len);
    in->arena[at + len] = '\0';
    in->used += len + 1;
    return at;
}

/* The normalised key of a value: lower case, hashes without ':' separators. */
static size_t normalise(enum intel_type type, const char *v, char *out)
{
    size_t n = 0;

    for (; *v != '\0' && n < MAX_KEY - 1; v++) {
        if ((type == INTEL_JA3 || type == INTEL_CERT_SHA1 || type == INTEL_CERT_SHA256) &&
            *v == ':')
            continue;
        out[n++] = type == INTEL_URL ? *v : (char)tolower((unsigned char)*v);
    }
    if (type == INTEL_DOMAIN && n > 0 && out[n - 1] == '.')
        n--;
    out[n] = '\0';
    return n;
}

static int hex_of(const char *s, size_t want)
{
    size_t n = 0;

    for (; *s != '\0'; s++) {
        if (*s == ':')
            continue;
        if (!isxdigit((unsigned char)*s))
            return 0;
        n++;
    }
    return n == want;
}

static int is_domain(const char *s)
{
    size_t n = strlen(s), label = 0;
    int dots = 0;

    if (n == 0 || n > 253 || *s == '.' || *s == '-')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s == '.') {
            if (label == 0)
                return 0;
            dots++, label = 0;
        } else if (isalnum((unsigned char)*s) || *s == '-' || *s == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return dots > 0 || label > 0;
}

/* "jp", "com", "co.jp", "com.au": a name under which anyone registers (the heuristic of
 * dnscache_registered: a two-letter country and a second level of three letters or fewer). */
static int public_suffix(const char *v)
{
    const char *dot = strchr(v, '.'), *last = strrchr(v, '.');
    size_t n = strlen(v);

    if (n > 0 && v[n - 1] == '.')
        n--;
    if (dot == NULL || dot >= v + n)
        return 1;
    return dot == last && n - (size_t)(last - v) - 1 == 2 && last - v <= 3;
}

int intel__guess(const char *v)
{
    uint8_t a[16];
    unsigned plen;
    const char *why;

    if (strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0)
        return INTEL_URL;
    if (zone_parse_cidr(v, a, &plen, &why) == 0)
        return strchr(v, '/') != NULL ? INTEL_NET : INTEL_IP;
    if (hex_of(v, 32))
        return INTEL_JA3;
    if (hex_of(v, 40))
        return INTEL_CERT_SHA1;
    if (hex_of(v, 64))
        return INTEL_CERT_SHA256;
    if (strncmp(v, "*.", 2) == 0 ? is_domain(v + 2) : is_domain(v))
        return INTEL_DOMAIN;
    return -1;
}

/* A URL's key: host in lower case (port kept), then the path ("/" when none). */
static size_t url_key(const char *v, char *out)
{
    const char *host = strstr(v, "://") ? strstr(v, "://") + 3 : v;
    size_t n = 0, hl = strcspn(host, "/?#");

    for (size_t i = 0; i < hl && n < MAX_KEY - 2; i++)
        out[n++] = (char)tolower((unsigned char)host[i]);
    if (host[hl] != '/')
        out[n++] = '/';
    for (const char *p = host + hl; *p != '\0' && *p != '#' && n < MAX_KEY - 1; p++)
        out[n++] = *p;
    out[n] = '\0';
    return n;
}

static int key_of(enum intel_type type, const char *value, char *key, size_t *len, const char **why)
{
    unsigned plen;

    switch (type) {
    case INTEL_IP:
    case INTEL_NET:
        if (zone_parse_cidr(value, (uint8_t *)key, &plen, why) != 0)
            return MM_EINVAL;
        if (type == INTEL_IP && plen != 128) {
            *why = "an address, not a network, was expected";
            return MM_EINVAL;
        }
        key[16] = (char)plen; /* a network's prefix length follows its address */
        *len = type == INTEL_IP ? 16 : 17;
        return 0;
    case INTEL_DOMAIN:
        value += strncmp(value, "*.", 2) == 0 ? 2 : 0;
        if (!is_domain(value)) {
            *why = "not a domain name";
            return MM_EINVAL;
        }
        if (public_suffix(value)) {
            *why = "a top-level or public suffix domain: it would match every name under it";
            return MM_EINVAL;
        }
        break;
    case INTEL_URL:
        *len = url_key(value, key);
        return *len > 1 ? 0 : (*why = "not a URL", MM_EINVAL);
    default:
        if (!hex_of(value, type == INTEL_JA3 ? 32 : type == INTEL_CERT_SHA1 ? 40 : 64)) {
            *why = "not a hash of the expected length in hex";
            return MM_EINVAL;
        }
        break;
    }
    *len = normalise(type, value, key);
    return 0;
}

int intel__add(struct intel_reader *rd, enum intel_type type, const char *value, const char *id,
               const char *desc, unsigned line, int64_t until, const char **why)
{
    struct intel *in = rd->in;
    char key[MAX_KEY + 1];
    struct intel_ind *x;
    size_t len = 0;

    if (key_of(type, value, key, &len, why) < 0)
        return MM_EINVAL;
    if (until != 0 && until < rd->now_s) {
        rd->st->expired++;
        return 0;
    }
    if (in->n == in->ind_cap) {
        size_t cap = in->ind_cap ? in->ind_cap * 2 : 1024;
        if (cap > UINT32_MAX - 1 || (x = realloc(in->ind, cap * sizeof(*x))) == NULL)
            return MM_ENOMEM;
        in->ind = x, in->ind_cap = cap;
    }
    x = &in->ind[in->n];
    memset(x, 0, sizeof(*x));
    x->type = (uint8_t)type, x->feed = (uint16_t)rd->feed, x->line = line, x->until = until;
    x->key_len = (uint16_t)len;
    if ((x->key = keep(in, key, len)) == 0)
        return MM_ENOMEM;
    /* most values are their key already (a name in lower case, a hash): kept once */
    x->value = type != INTEL_IP && type != INTEL_NET && strlen(value) == len &&
                       memcmp(value, key, len) == 0
                   ? x->key
                   : keep(in, value, strlen(value));
    if (x->value == 0)
        return MM_ENOMEM;
    if ((id && *id && (x->id = keep(in, id, strlen(id))) == 0) ||
        (desc && *desc && (x->desc = keep(in, desc, strlen(desc))) == 0))
        return MM_ENOMEM;
    in->n++;
    rd->st->loaded++;
    return 0;
}

int intel__fail(struct intel_reader *rd, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n = line > 0 ? snprintf(rd->err, rd->errlen, "%s:%u: ", rd->path, line)
                     : snprintf(rd->err, rd->errlen, "%s: ", rd->path);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < rd->errlen)
        vsnprintf(rd->err + n, rd->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return MM_EINVAL;
}

/* The index over every indicator; counts the new feed's keys already there (from). */
static int rebuild(struct intel *in, size_t from, size_t *dups)
{
    size_t n = 1024, i, k;
    uint32_t *slots;
    struct zone_map *nets = NULL;

    while (n < in->n * 2)
        n *= 2;
    if ((slots = calloc(n, sizeof(*slots))) == NULL || zone_map_create(&nets) < 0) {
        free(slots);
        return MM_ENOMEM;
    }
    in->nnets = 0;
    for (i = 0; i < in->n; i++) {
        struct intel_ind *x = &in->ind[i];
        const char *key = in->arena + x->key;
        x->next = 0;
        if (x->type == INTEL_NET) {
            int r = zone_map_add(nets, (const uint8_t *)key, (unsigned char)key[16], (int)i);
            if (r > 0) { /* the same network: chained after the first */
                struct intel_ind *y = &in->ind[r - 1];
                while (y->next != 0)
                    y = &in->ind[y->next - 1];
                y->next = (uint32_t)i + 1;
                *dups += i >= from;
            } else if (r < 0) {
                zone_map_destroy(nets);
                free(slots);
                return MM_ENOMEM;
            }
            in->nnets++;
            continue;
        }
        for (k = hash(x->type, key, x->key_len) & (n - 1); slots[k] != 0; k = (k + 1) & (n - 1)) {
            struct intel_ind *y = &in->ind[slots[k] - 1];
            if (y->type == x->type && y->key_len == x->key_len &&
                memcmp(in->arena + y->key, key, x->key_len) == 0) {
                while (y->next != 0)
                    y = &in->ind[y->next - 1];
                y->next = (uint32_t)i + 1;
                *dups += i >= from;
                break;
            }
        }
        if (slots[k] == 0)
            slots[k] = (uint32_t)i + 1;
    }
    free(in->slots);
    zone_map_destroy(in->nets);
    in->slots = slots, in->nslots = n, in->nets = nets;
    return 0;
}

int intel__index(struct intel *in, size_t from, struct intel_load_stats *st)
{
    size_t dups = 0;
    int rc = rebuild(in, from, &dups);

    st->duplicates += dups;
    return rc;
}

/* The first indicator of a chain still valid at now_s. */
static int valid(const struct intel *in, uint32_t at, int64_t now_s, struct intel_hit *hit)
{
    for (; at != 0; at = in->ind[at - 1].next) {
        const struct intel_ind *x = &in->ind[at - 1];
        if (x->until != 0 && x->until < now_s)
            continue;
        hit->feed = x->feed, hit->type = (enum intel_type)x->type, hit->line = x->line;
        hit->value = in->arena + x->value;
        hit->id = x->id ? in->arena + x->id : NULL;
        hit->description = x->desc ? in->arena + x->desc : NULL;
        hit->valid_until_s = x->until;
        return 1;
    }
    return 0;
}

static int find(const struct intel *in, enum intel_type type, const char *key, size_t len,
                int64_t now_s, struct intel_hit *hit)
{
    size_t m = in->nslots - 1, k;

    if (in->nslots == 0)
        return 0;
    for (k = hash(type, key, len) & m; in->slots[k] != 0; k = (k + 1) & m) {
        const struct intel_ind *y = &in->ind[in->slots[k] - 1];
        if (y->type == type && y->key_len == len && memcmp(in->arena + y->key, key, len) == 0)
            return valid(in, in->slots[k], now_s, hit);
    }
    return 0;
}

int intel_match_addr(const struct intel *in, const uint8_t addr[16], int64_t now_s,
                     struct intel_hit *hit)
{
    int v;

    if (find(in, INTEL_IP, (const char *)addr, 16, now_s, hit))
        return 1;
    if (in->nnets == 0 || (v = zone_map_lookup(in->nets, addr)) < 0)
        return 0;
    return valid(in, (uint32_t)v + 1, now_s, hit);
}

int intel_match_domain(const struct intel *in, const char *name, int64_t now_s,
                       struct intel_hit *hit)
{
    char key[MAX_KEY + 1];
    size_t len = normalise(INTEL_DOMAIN, name, key), i;

    for (i = 0; i < len; i++) {
        if (i > 0 && key[i - 1] != '.')
            continue;
        if (find(in, INTEL_DOMAIN, key + i, len - i, now_s, hit))
            return 1;
    }
    return 0;
}

int intel_match_url(const struct intel *in, const char *url, int64_t now_s, struct intel_hit *hit)
{
    char key[MAX_KEY + 1];
    size_t len = url_key(url, key);

    if (find(in, INTEL_URL, key, len, now_s, hit))
        return 1;
    len = strcspn(key, "?"); /* an indicator without the query */
    return find(in, INTEL_URL, key, len, now_s, hit);
}

int intel_match_hash(const struct intel *in, enum intel_type type, const char *hex, int64_t now_s,
                     struct intel_hit *hit)
{
    char key[MAX_KEY + 1];
    size_t len = normalise(type, hex, key);

    return find(in, type, key, len, now_s, hit);
}

size_t intel_count(const struct intel *in)
{
    return in->n;
}

size_t intel_memory(const struct intel *in)
{
    return sizeof(*in) + in->cap + in->ind_cap * sizeof(*in->ind) + in->nslots * sizeof(*in->slots);
}
