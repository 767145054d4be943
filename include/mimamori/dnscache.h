/*
 * What names internal hosts resolved: addresses from DNS answers (A and AAAA) mapped to the name
 * that was asked for, so that a later connection to one of those addresses can be matched
 * against a zone's allowed domains and named in alerts. A fixed table sized at start-up; an
 * answer older than MM_DNS_CACHE_MAX_S or pushed out by newer ones is forgotten.
 */
#ifndef MIMAMORI_DNSCACHE_H
#define MIMAMORI_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/limits.h"
#include "mimamori/error.h"

#define DNS_NAME_MAX 256 /* presentation form, NUL included */

/* The answer section of one DNS response, as dnscache_parse() reads it. */
struct dns_answers {
    char qname[DNS_NAME_MAX]; /* lower case, no trailing dot */
    unsigned n;
    uint8_t addr[MM_DNS_MAX_ANSWERS][16]; /* IPv4 as IPv4-mapped */
};

/*
 * Read a DNS message (UDP payload): 1 for a response with its A/AAAA answers in *out (n may be
 * 0), 0 for a query or a response without a question, MM_EINVAL for a malformed message. Pure
 * and bounds-checked; compression pointers are followed at most 16 times per name.
 */
MM_MUST_CHECK int dnscache_parse(const uint8_t *msg, size_t len, struct dns_answers *out);

/*
 * Every answer record of a DNS response (mDNS and LLMNR too), and with all the authority and
 * additional records (where mDNS puts a host's addresses): fn gets the owner name (lower case,
 * presentation form), the type, and where its rdata is in msg. 1 when walked, 0 for a query,
 * MM_EINVAL when malformed (fn may have seen the records before the fault).
 */
typedef void (*dnscache_answer_fn)(void *ud, const char *owner, uint16_t type, const uint8_t *msg,
                                   size_t len, size_t off, uint16_t rdlen);
int dnscache_each_answer(const uint8_t *msg, size_t len, int all, dnscache_answer_fn fn, void *ud);
/* A name in rdata at off (a PTR's target), decompressed. 0 or -1. */
int dnscache_rdata_name(const uint8_t *msg, size_t len, size_t off, char out[DNS_NAME_MAX]);

/*
 * The first question's name of a DNS message (a query or a response, opcode QUERY) as it was
 * sent: case kept, escaped like the names above. 0, or MM_EINVAL (out is then empty).
 */
int dnscache_question(const uint8_t *msg, size_t len, char out[DNS_NAME_MAX]);

/*
 * The first question of a query (QR clear) with its type in *qtype; the name byte for byte as
 * sent (at most 255 bytes, dot-separated; a NUL or dot inside a label becomes '?'), not
 * escaped: tunnels put raw bytes in labels. 0, or MM_EINVAL.
 */
int dnscache_query(const uint8_t *msg, size_t len, char out[DNS_NAME_MAX], uint16_t *qtype);

/*
 * Where a name's registered domain starts (an offset into name): its last two labels, or three
 * under a country's short second level ("example.co.jp"). -1 when the last label is not a
 * top-level domain at all (digits or other characters: dnscat2 without a domain sends such
 * names). Pure.
 */
int dnscache_registered(const char *name);

/*
 * How many characters the labels left of the registered domain (reg, from
 * dnscache_registered) hold, when they look like carried data: at least 24 characters, dots
 * not counted, with an entropy of 3.5 bits per character or more (hex, base32, base64 and
 * iodine's raw encodings); 0 otherwise. DNS tunnels and exfiltration write such names, and so
 * do a few long host names (czfe105.front01.iad01.production): what tells them apart is how many
 * distinct ones one client asks for under one domain (the dns_tunnel rules). Pure.
 */
unsigned dnscache_data_chars(const char *name, int reg);

/*
 * The three above on a DNS query (a UDP payload, or a TCP one with its two-byte length when
 * tcp): its carried characters, with the name, its registered domain and the query type filled;
 * 0 when it is not a query (name then empty) or carries nothing.
 */
unsigned dnscache_data_query(const uint8_t *p, uint32_t n, int tcp, char name[DNS_NAME_MAX],
                             int *reg, uint16_t *qtype);

struct dnscache;

MM_MUST_CHECK int dnscache_create(struct dnscache **out, unsigned slots);
void dnscache_destroy(struct dnscache *c);

/* Remember the answers of a response seen at ts_us. */
void dnscache_add(struct dnscache *c, const struct dns_answers *a, uint64_t ts_us);

/*
 * Parse a DNS message and remember its answers (malformed ones are counted); what it read is
 * left in *out for other readers of the answers. Returns dnscache_parse()'s result.
 */
int dnscache_feed(struct dnscache *c, const uint8_t *msg, size_t len, uint64_t ts_us,
                  struct dns_answers *out);

/* The name addr was last given for, if answered at most MM_DNS_CACHE_MAX_S before now_us. */
const char *dnscache_lookup(const struct dnscache *c, const uint8_t addr[16], uint64_t now_us);

struct dnscache_stats {
    uint64_t responses, answers, malformed, replaced;
};
void dnscache_get_stats(const struct dnscache *c, struct dnscache_stats *st);

#endif
