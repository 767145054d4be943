/*
 * NetBIOS name service messages (RFC 1002 section 4.2) are read here: the question's name in
 * first-level encoding (32 letters, two per byte, the 16th byte the name's type), then the
 * records naming it, whose NB rdata holds flags (G: a group name) and an address. mDNS, LLMNR
 * and DNS answers are walked with the DNS reader of dnscache.
 */
#include <stdio.h>
#include <string.h>

#include "mimamori/dnscache.h"
#include "mimamori/names.h"
#include "mimamori/zone.h"

#define NB_TYPE  0x20
#define NB_GROUP 0x8000u
#define DNS_A    1
#define DNS_PTR  12
#define DNS_AAAA 28

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The first-level encoded name at off (length byte 32, then letters A-P): its first 15
 * characters without trailing spaces into out, its type in *type. Moves off past the whole
 * name (scope labels included). -1 when it is not one, or not printable.
 */
static int nb_name(const uint8_t *p, uint32_t n, uint32_t *off, char out[16], uint8_t *type)
{
    uint32_t o = *off, i;
    uint8_t c[16];

    if (o + 33 > n || p[o] != 32)
        return -1;
    for (i = 0; i < 16; i++) {
        uint8_t hi = p[o + 1 + 2 * i], lo = p[o + 2 + 2 * i];
        if (hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P')
            return -1;
        c[i] = (uint8_t)((hi - 'A') << 4 | (lo - 'A'));
    }
    for (o += 33; o < n && p[o] != 0; o += 1u + p[o]) /* the scope, if any */
        if (p[o] > 63)
            return -1;
    if (o >= n)
        return -1;
    *off = o + 1;
    *type = c[15];
    for (i = 15; i > 0 && c[i - 1] == ' '; i--)
        ;
    if (i == 0)
        return -1;
    memcpy(out, c, i);
    out[i] = '\0';
    for (o = 0; o < i; o++)
        if (c[o] < 0x21 || c[o] > 0x7e)
            return -1;
    return 0;
}

/*
 * A registration (opcode 5), refresh (8, 9) or positive answer to a query (opcode 0, rcode 0)
 * of a unique workstation or server name (types 0x00, 0x20): the name and the address its
 * first unique NB entry holds.
 */
static unsigned nbns(const uint8_t *p, uint32_t n, struct host_name *out, unsigned max)
{
    uint16_t flags, qd, records, i;
    uint32_t off = 12;
    uint8_t type = 0xff, op;
    char name[16];

    if (n < 12 || max == 0)
        return 0;
    flags = get16(p + 2);
    op = (uint8_t)(flags >> 11 & 0xf);
    qd = get16(p + 4);
    records = (uint16_t)(get16(p + 6) + get16(p + 8) + get16(p + 10));
    if (flags & 0x8000) { /* a response: the name is the answer record's */
        if (op != 0 || (flags & 0xf) != 0 || qd != 0 || get16(p + 6) == 0)
            return 0;
    } else if ((op != 5 && op != 8 && op != 9) || qd != 1 || nb_name(p, n, &off, name, &type)) {
        return 0;
    } else {
        off += 4; /* question type and class */
    }
    for (i = 0; i < records && off < n; i++) {
        uint16_t rdlen;
        if ((p[off] & 0xc0) == 0xc0) {
            if (off + 2 > n || get16(p + off) != (0xc000 | 12))
                return 0;
            off += 2;
        } else if (nb_name(p, n, &off, name, &type) != 0) {
            return 0;
        }
        if (off + 10 > n)
            return 0;
        rdlen = get16(p + off + 8);
        if (off + 10u + rdlen > n)
            return 0;
        if (get16(p + off) == NB_TYPE && rdlen >= 6 && !(get16(p + off + 10) & NB_GROUP) &&
            (type == 0x00 || type == 0x20)) {
            zone_addr_v4(out[0].ip, p + off + 12);
            snprintf(out[0].name, sizeof(out[0].name), "%s", name);
            out[0].source = NAME_NETBIOS;
            return 1;
        }
        off += 10u + rdlen;
    }
    return 0;
}

struct walk {
    const uint8_t *sender; /* mDNS, LLMNR: only answers about the sender count */
    uint8_t source;
    struct host_name *out;
    unsigned n, max;
};

/* "4.3.2.1.in-addr.arpa" to the address 1.2.3.4; -1 when it is not one. */
static int reverse_v4(const char *owner, uint8_t ip[16])
{
    unsigned b[4];
    char tail[16];

    if (sscanf(owner, "%3u.%3u.%3u.%3u.%15s", &b[3], &b[2], &b[1], &b[0], tail) != 5 ||
        strcmp(tail, "in-addr.arpa") != 0 || b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255)
        return -1;
    zone_addr_v4(ip,
                 (const uint8_t[4]){(uint8_t)b[0], (uint8_t)b[1], (uint8_t)b[2], (uint8_t)b[3]});
    return 0;
}

static void answer(void *ud, const char *owner, uint16_t type, const uint8_t *msg, size_t len,
                   size_t off, uint16_t rdlen)
{
    struct walk *w = ud;
    struct host_name *h = &w->out[w->n];
    char target[DNS_NAME_MAX];

    if (w->n == w->max)
        return;
    if (type == DNS_A && rdlen == 4)
        zone_addr_v4(h->ip, msg + off);
    else if (type == DNS_AAAA && rdlen == 16)
        memcpy(h->ip, msg + off, 16);
    else if (type == DNS_PTR && w->source == NAME_DNS && reverse_v4(owner, h->ip) == 0 &&
             dnscache_rdata_name(msg, len, off, target) == 0)
        owner = target;
    else
        return;
    if (w->sender != NULL && memcmp(h->ip, w->sender, 16) != 0)
        return;
    if (strchr(owner, '\\') != NULL || owner[0] == '\0' || strlen(owner) >= sizeof(h->name))
        return; /* escaped bytes, or too long to keep whole: no name to show anyone */
    memcpy(h->name, owner, strlen(owner) + 1);
    h->source = w->source;
    w->n++;
}

unsigned names_from_udp(const uint8_t *p, uint32_t n, uint16_t sport, uint16_t dport,
                        const uint8_t sender[16], struct host_name *out, unsigned max)
{
    struct walk w = {NULL, NAME_DNS, out, 0, max};

    if (sport == 137 || dport == 137)
        return nbns(p, n, out, max);
    if (sport == 5353 || sport == 5355) {
        w.sender = sender;
        w.source = sport == 5353 ? NAME_MDNS : NAME_LLMNR;
    } else if (sport != 53) {
        return 0;
    }
    dnscache_each_answer(p, n, w.sender != NULL, answer, &w);
    return w.n;
}
