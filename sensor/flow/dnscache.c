/*
 * DNS answers to names. The parser follows RFC 1035 section 4.1: a 12-byte header, the
 * question (name, type, class) and resource records (name, type, class, TTL, RDLENGTH, RDATA);
 * names may end in a 2-byte compression pointer (top bits 11). The cache is an array indexed
 * by a hash of the address; a newer answer for another address in the same slot replaces it.
 *
 *   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
 *  | ID                                            |
 *  |QR| Opcode    |AA|TC|RD|RA| Z      | RCODE     |
 *  | QDCOUNT | ANCOUNT | NSCOUNT | ARCOUNT (16 bits each)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/dnscache.h"
#include "mimamori/error.h"
#include "mimamori/zone.h"

#define DNS_HDR_LEN   12
#define DNS_MAX_JUMPS 16
#define DNS_TYPE_A    1
#define DNS_TYPE_AAAA 28

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Append a label's byte to the name in presentation form (RFC 1035 section 5.1), lower case:
 * a dot or backslash inside a label as "\." or "\\", any byte that is not printable ASCII as
 * "\DDD". So a label holding a NUL or a dot can never make the name read as another one
 * ("vendor.example\000.attacker.test" is not "vendor.example"). -1 when it does not fit.
 */
#define RAW 2 /* put_char()'s fold: bytes as sent, not escaped */

static int put_char(char *out, size_t *olen, uint8_t ch, int fold)
{
    size_t n = *olen;

    if (fold == RAW) { /* one byte for one byte: a NUL or a dot inside a label becomes '?' */
        if (n + 1 >= DNS_NAME_MAX)
            return -1;
        out[n++] = ch == 0 || ch == '.' ? '?' : (char)ch;
        *olen = n;
        return 0;
    }
    if (fold && ch >= 'A' && ch <= 'Z')
        ch = (uint8_t)(ch + ('a' - 'A'));
    if (ch > ' ' && ch < 0x7f && ch != '.' && ch != '\\') {
        if (n + 1 >= DNS_NAME_MAX)
            return -1;
        out[n++] = (char)ch;
    } else if (ch == '.' || ch == '\\') {
        if (n + 2 >= DNS_NAME_MAX)
            return -1;
        out[n++] = '\\';
        out[n++] = (char)ch;
    } else {
        if (n + 4 >= DNS_NAME_MAX)
            return -1;
        out[n++] = '\\';
        out[n++] = (char)('0' + ch / 100);
        out[n++] = (char)('0' + ch / 10 % 10);
        out[n++] = (char)('0' + ch % 10);
    }
    *olen = n;
    return 0;
}

/*
 * Read the name at *off; writes it (dot-separated, escaped as put_char() does, in lower case
 * with fold) into out when out != NULL and moves *off past the name as it appears at that
 * place. 0, or -1 when malformed or longer than DNS_NAME_MAX - 1 once escaped.
 */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out, int fold)
{
    size_t pos = *off, olen = 0;
    int jumps = 0, jumped = 0;

    for (;;) {
        uint8_t l;
        if (pos >= len)
            return -1;
        l = msg[pos];
        if ((l & 0xC0) == 0xC0) {
            if (pos + 1 >= len || ++jumps > DNS_MAX_JUMPS)
                return -1;
            if (!jumped)
                *off = pos + 2;
            jumped = 1;
            pos = (size_t)(l & 0x3F) << 8 | msg[pos + 1];
            continue;
        }
        if ((l & 0xC0) != 0)
            return -1; /* extended label types (RFC 6891) are not names */
        if (l == 0) {
            if (!jumped)
                *off = pos + 1;
            break;
        }
        if (pos + 1 + l > len)
            return -1;
        if (out != NULL) {
            size_t i;
            if (olen > 0) {
                if (olen + 1 >= DNS_NAME_MAX)
                    return -1;
                out[olen++] = '.';
            }
            for (i = 0; i < l; i++)
                if (put_char(out, &olen, msg[pos + 1 + i], fold) != 0)
                    return -1;
        }
        pos += 1 + (size_t)l;
    }
    if (out != NULL)
        out[olen] = '\0';
    return 0;
}

int dnscache_question(const uint8_t *msg, size_t len, char out[DNS_NAME_MAX])
{
    size_t off = DNS_HDR_LEN;

    out[0] = '\0';
    if (len < DNS_HDR_LEN || get16(msg + 4) == 0 || (msg[2] & 0x78) != 0)
        return MM_EINVAL; /* no question, or an opcode other than QUERY */
    return read_name(msg, len, &off, out, 0) == 0 && off + 4 <= len ? 0 : MM_EINVAL;
}

int dnscache_query(const uint8_t *msg, size_t len, char out[DNS_NAME_MAX], uint16_t *qtype)
{
    size_t off = DNS_HDR_LEN;

    out[0] = '\0';
    if (len < DNS_HDR_LEN || (msg[2] & 0x80) || get16(msg + 4) == 0 || (msg[2] & 0x78) != 0)
        return MM_EINVAL;
    if (read_name(msg, len, &off, out, RAW) != 0 || off + 4 > len)
        return MM_EINVAL;
    *qtype = get16(msg + off);
    return 0;
}

int dnscache_registered(const char *name)
{
    size_t len = strlen(name), i;
    long dot[3] = {-1, -1, -1};
    unsigned ndots = 0;

    while (len > 0 && name[len - 1] == '.')
        len--;
    for (i = len; i > 0 && ndots < 3; i--)
        if (name[i - 1] == '.')
            dot[ndots++] = (long)(i - 1);
    /* The top-level label: letters, or an IDN's "xn--", and no longer than any there is. */
    if (len - (size_t)(dot[0] + 1) > 24)
        return -1;
    for (i = (size_t)(dot[0] + 1); i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z')) &&
            strncmp(name + dot[0] + 1, "xn--", 4) != 0)
            return -1;
    if (len == 0 || ndots < 2)
        return 0;
    if (len - (size_t)dot[0] - 1 == 2 && dot[0] - dot[1] - 1 <= 3) /* co.jp, com.au */
        return ndots == 3 ? (int)dot[2] + 1 : 0;
    return (int)dot[1] + 1;
}

unsigned dnscache_data_chars(const char *name, int reg)
{
    unsigned count[256], n = 0, i, end = reg < 0 ? (unsigned)strlen(name) : (unsigned)reg;
    double h = 0;

    /* Most names stop here: fewer than 24 characters left of the registered domain. */
    if (end < 24)
        return 0;
    memset(count, 0, sizeof(count));
    for (i = 0; i < end; i++)
        if (name[i] != '.')
            count[(uint8_t)name[i]]++, n++;
    if (n < 24)
        return 0;
    for (i = 0; i < 256; i++)
        if (count[i] != 0) {
            double p = (double)count[i] / n;
            h -= p * log2(p);
        }
    return h >= 3.5 ? n : 0;
}

unsigned dnscache_data_query(const uint8_t *p, uint32_t n, int tcp, char name[DNS_NAME_MAX],
                             int *reg, uint16_t *qtype)
{
    if (tcp) /* after the message's two-byte length */
        p += 2, n = n > 2 ? n - 2 : 0;
    if (dnscache_query(p, n, name, qtype) != 0) {
        name[0] = '\0';
        return 0;
    }
    *reg = dnscache_registered(name);
    return dnscache_data_chars(name, *reg);
}

int dnscache_each_answer(const uint8_t *msg, size_t len, int all, dnscache_answer_fn fn, void *ud)
{
    size_t off = DNS_HDR_LEN;
    unsigned qd, an, i;
    char owner[DNS_NAME_MAX];

    if (len < DNS_HDR_LEN)
        return MM_EINVAL;
    if (!(msg[2] & 0x80))
        return 0; /* a query */
    qd = get16(msg + 4);
    an = get16(msg + 6);
    if (all) /* the authority and additional sections too */
        an += (unsigned)get16(msg + 8) + get16(msg + 10);
    for (i = 0; i < qd; i++) {
        if (read_name(msg, len, &off, NULL, 1) != 0 || off + 4 > len)
            return MM_EINVAL;
        off += 4;
    }
    for (i = 0; i < an; i++) {
        uint16_t type, rdlen;
        if (read_name(msg, len, &off, owner, 1) != 0 || off + 10 > len)
            return MM_EINVAL;
        type = get16(msg + off);
        rdlen = get16(msg + off + 8);
        off += 10;
        if (off + rdlen > len)
            return MM_EINVAL;
        fn(ud, owner, type, msg, len, off, rdlen);
        off += rdlen;
    }
    return 1;
}

int dnscache_rdata_name(const uint8_t *msg, size_t len, size_t off, char out[DNS_NAME_MAX])
{
    return read_name(msg, len, &off, out, 1);
}

/* dnscache_parse()'s answer function: addresses, in order, up to MM_DNS_MAX_ANSWERS. */
static void take_address(void *ud, const char *owner, uint16_t type, const uint8_t *msg, size_t len,
                         size_t off, uint16_t rdlen)
{
    struct dns_answers *out = ud;

    (void)owner, (void)len;
    if (out->n == MM_DNS_MAX_ANSWERS)
        return;
    if (type == DNS_TYPE_A && rdlen == 4) {
        zone_addr_v4(out->addr[out->n], msg + off);
        out->n++;
    } else if (type == DNS_TYPE_AAAA && rdlen == 16) {
        memcpy(out->addr[out->n], msg + off, 16);
        out->n++;
    }
}

int dnscache_parse(const uint8_t *msg, size_t len, struct dns_answers *out)
{
    size_t off = DNS_HDR_LEN;

    out->n = 0;
    out->qname[0] = '\0';
    if (len < DNS_HDR_LEN)
        return MM_EINVAL;
    if (!(msg[2] & 0x80) || get16(msg + 4) == 0)
        return 0; /* a query, or an answer to no question */
    if (read_name(msg, len, &off, out->qname, 1) != 0 || off + 4 > len)
        return MM_EINVAL;
    return dnscache_each_answer(msg, len, 0, take_address, out);
}

/* --- cache ---------------------------------------------------------------------------------- */

struct dns_slot {
    uint8_t addr[16];
    uint64_t ts_us; /* 0: empty */
    char name[DNS_NAME_MAX];
};

struct dnscache {
    struct dns_slot *slot;
    unsigned mask;
    struct dnscache_stats st;
};

static unsigned addr_hash(const uint8_t a[16])
{
    uint64_t x, y;

    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    x ^= y * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    return (unsigned)(x ^ (x >> 32));
}

int dnscache_create(struct dnscache **out, unsigned slots)
{
    struct dnscache *c;
    unsigned n = 1;

    while (n < slots)
        n <<= 1;
    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL || (c->slot = calloc(n, sizeof(*c->slot))) == NULL) {
        free(c);
        return MM_ENOMEM;
    }
    c->mask = n - 1;
    *out = c;
    return 0;
}

void dnscache_destroy(struct dnscache *c)
{
    if (c == NULL)
        return;
    free(c->slot);
    free(c);
}

void dnscache_add(struct dnscache *c, const struct dns_answers *a, uint64_t ts_us)
{
    unsigned i;

    c->st.responses++;
    for (i = 0; i < a->n; i++) {
        struct dns_slot *s = &c->slot[addr_hash(a->addr[i]) & c->mask];
        if (s->ts_us != 0 && memcmp(s->addr, a->addr[i], 16) != 0)
            c->st.replaced++;
        memcpy(s->addr, a->addr[i], 16);
        s->ts_us = ts_us ? ts_us : 1;
        strcpy(s->name, a->qname);
        c->st.answers++;
    }
}

const char *dnscache_lookup(const struct dnscache *c, const uint8_t addr[16], uint64_t now_us)
{
    const struct dns_slot *s = &c->slot[addr_hash(addr) & c->mask];

    if (s->ts_us == 0 || memcmp(s->addr, addr, 16) != 0 ||
        (now_us > s->ts_us && now_us - s->ts_us > (uint64_t)MM_DNS_CACHE_MAX_S * 1000000u))
        return NULL;
    return s->name;
}

int dnscache_feed(struct dnscache *c, const uint8_t *msg, size_t len, uint64_t ts_us,
                  struct dns_answers *out)
{
    int r = dnscache_parse(msg, len, out);

    if (r < 0)
        c->st.malformed++;
    else if (r == 1)
        dnscache_add(c, out, ts_us);
    return r;
}

void dnscache_get_stats(const struct dnscache *c, struct dnscache_stats *st)
{
    *st = c->st;
}
