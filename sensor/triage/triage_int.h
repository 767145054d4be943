/*
 * What the files of the triage module share: the triage itself, its string pool and the host
 * table the grouping keeps. Not for use outside sensor/triage/.
 */
#ifndef MIMAMORI_TRIAGE_INT_H
#define MIMAMORI_TRIAGE_INT_H

#include <sys/types.h>

#include "mimamori/triage.h"

/* Strings kept once each: alerts repeat the same rule texts thousands of times, and the
 * grouping compares hosts by pointer. */
struct triage_pool {
    char **chunks;
    size_t nchunks, used, cap; /* bytes used and held in the last chunk */
    const char **slots;        /* open addressing, a power of two */
    size_t nslots, nstrings;
};

struct triage_name {
    const char *ip, *name;
};

/* A host the grouping has seen: its incident and when it was last involved. */
struct triage_host {
    const char *key; /* pooled: compared by pointer */
    size_t incident;
    int64_t last_us;
};

struct triage {
    struct triage_pool pool;
    struct triage_filter filter;
    struct triage_alert *a;
    size_t n, cap;
    size_t grouped; /* alerts already placed in incidents */
    size_t bad;
    int partial; /* the last read stopped before a line without its newline */
    /* Names from an inventory: address -> name, both pooled, hashed by the address's text
     * so that the readers of one file in parallel can share the table of the triage they
     * read for (names_from: that triage, or this one). */
    struct triage_name *names;
    size_t nnames, names_cap;
    const struct triage *names_from;
    /* Incidents: parent links while grouping (union-find), then the read-only views. */
    size_t *parent;
    struct triage_incident *inc;
    size_t ninc, inc_cap, nroots;
    unsigned last_id;
    size_t *order;   /* incident indices in display order */
    size_t *members; /* alert indices, grouped per incident */
    struct triage_host *hosts;
    size_t nhosts, hosts_cap;
    int64_t window_us;
};

/* triage_read, stopping before a line that starts at or after limit (-1: none). */
int triage__read_until(struct triage *t, FILE *f, off_t limit, triage_event_fn fn, void *ud);
/* Keep a read alert: 1, or MM_ENOMEM. */
int triage__push(struct triage *t, const struct triage_alert *a);
const char *triage__intern(struct triage_pool *p, const char *s, size_t len);
void triage__pool_free(struct triage_pool *p);

#endif
