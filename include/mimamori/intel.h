/*
 * Threat-intelligence indicators: the feeds a hospital receives (JPCERT/CC, 医療ISAC, vendors)
 * loaded into one read-only table that the detector asks about each flow's addresses, DNS
 * name, TLS server name, JA3 hash and certificate fingerprint, HTTP host and URL. Feeds come as
 * plain lists (one indicator per line), MISP CSV exports and STIX 2.1 bundles; each indicator
 * keeps where it came from (feed, line or STIX id), its description and its end of validity,
 * after which it is not matched. Built once per config snapshot; lookups allocate nothing.
 */
#ifndef MIMAMORI_INTEL_H
#define MIMAMORI_INTEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mimamori/error.h"

enum intel_type {
    INTEL_IP = 0,      /* an address */
    INTEL_NET,         /* a network (CIDR) */
    INTEL_DOMAIN,      /* a name and every name under it */
    INTEL_URL,         /* host and path, without the scheme */
    INTEL_JA3,         /* a TLS client's JA3 hash (MD5, hex) */
    INTEL_CERT_SHA1,   /* a certificate's SHA-1 fingerprint (hex) */
    INTEL_CERT_SHA256, /* a certificate's SHA-256 fingerprint (hex; loaded, not seen by nDPI) */
    INTEL__TYPES
};

/* What a feed file holds; INTEL_AUTO tells it from the content and the file's name. */
enum intel_format { INTEL_AUTO = 0, INTEL_PLAIN, INTEL_MISP_CSV, INTEL_STIX };

/* A matched indicator. Strings belong to the table and live as long as it does. */
struct intel_hit {
    unsigned feed; /* index of the feed in load order */
    enum intel_type type;
    const char *value;       /* the indicator as the feed gave it */
    const char *id;          /* STIX id or MISP uuid, or NULL */
    unsigned line;           /* line in a plain list or CSV, 0 for STIX */
    const char *description; /* the feed's own words, or NULL */
    int64_t valid_until_s;   /* 0: no end */
};

/* What a load found, for the log and the benchmark. */
struct intel_load_stats {
    size_t loaded, expired, duplicates, skipped; /* skipped: types or patterns not matched on */
};

struct intel;

MM_MUST_CHECK int intel_create(struct intel **out);
void intel_destroy(struct intel *in);

/*
 * Read one feed file into the table as feed number `feed` (the caller's index: names,
 * severity and category stay with the caller). Indicators whose validity ended before now_s
 * are counted and left out. A line or object that cannot be read fails the whole feed:
 * MM_EINVAL with err "file:line: why" (nothing of the feed is kept), MM_EIO, MM_ENOMEM.
 */
int intel_load(struct intel *in, unsigned feed, const char *path, enum intel_format format,
               int64_t now_s, struct intel_load_stats *st, char *err, size_t errlen);

/* The same from an open stream (a fuzzer's memory), name standing for its path in messages. */
int intel_load_stream(struct intel *in, unsigned feed, FILE *f, const char *name,
                      enum intel_format format, int64_t now_s, struct intel_load_stats *st,
                      char *err, size_t errlen);

/* Lookups, each giving the first indicator still valid at now_s: 1 found (hit filled), 0 not. */
int intel_match_addr(const struct intel *in, const uint8_t addr[16], int64_t now_s,
                     struct intel_hit *hit);
/* name or any name it is under ("a.b.example" matches an indicator "example"); any case */
int intel_match_domain(const struct intel *in, const char *name, int64_t now_s,
                       struct intel_hit *hit);
/* host and path ("example.com/x/y?q", a scheme allowed), with or without its query; any case
 * in the host */
int intel_match_url(const struct intel *in, const char *url, int64_t now_s, struct intel_hit *hit);
/* a hash in hex (JA3, certificate fingerprints; ':' separators allowed, any case) */
int intel_match_hash(const struct intel *in, enum intel_type type, const char *hex, int64_t now_s,
                     struct intel_hit *hit);

size_t intel_count(const struct intel *in);
size_t intel_memory(const struct intel *in); /* bytes held */
const char *intel_type_name(enum intel_type t);

#endif
