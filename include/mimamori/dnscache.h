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
 * The first question's name of a DNS message (a query or a response, opcode QUERY) as it was
 * sent: case kept, escaped like the names above. 0, or MM_EINVAL (out is then empty).
 */
int dnscache_question(const uint8_t *msg, size_t len, char out[DNS_NAME_MAX]);

struct dnscache;

MM_MUST_CHECK int dnscache_create(struct dnscache **out, unsigned slots);
void dnscache_destroy(struct dnscache *c);

/* Remember the answers of a response seen at ts_us. */
void dnscache_add(struct dnscache *c, const struct dns_answers *a, uint64_t ts_us);

/* Parse a DNS message and remember its answers (malformed ones are counted). */
void dnscache_feed(struct dnscache *c, const uint8_t *msg, size_t len, uint64_t ts_us);

/* The name addr was last given for, if answered at most MM_DNS_CACHE_MAX_S before now_us. */
const char *dnscache_lookup(const struct dnscache *c, const uint8_t addr[16], uint64_t now_us);

struct dnscache_stats {
    uint64_t responses, answers, malformed, replaced;
};
void dnscache_get_stats(const struct dnscache *c, struct dnscache_stats *st);

#endif
