/*
 * Private to the baseline: an edge as the table keeps it (baseline.c) and the proposal reads
 * it (propose.c).
 */
#ifndef MIMAMORI_BASELINE_INT_H
#define MIMAMORI_BASELINE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "mimamori/baseline.h"

struct edge {
    /* the key: its bytes up to name, then name as a string */
    uint8_t cli[16], srv[16];
    uint16_t port; /* the server's; 0 for ICMP */
    uint8_t l4;
    uint8_t pad;
    uint16_t master, app;         /* as classified (0: not named): rules differ by protocol */
    char name[BASELINE_NAME_LEN]; /* toward the internet: TLS server name or HTTP host, or "" */
    /* what was seen (the key's fixed part is 40 bytes: baseline.c hashes it in words) */
    uint8_t answered; /* the server sent something back */
    uint8_t guessed;  /* some flow's protocol was nDPI's guess (by port or address) */
    uint16_t category;
    uint32_t site; /* toward the internet: a hash of the site (baseline.c, site_of) */
    uint32_t flows;
    uint64_t first_us, last_us;
};

struct baseline {
    pthread_mutex_t mu;
    struct edge *e;
    uint32_t *slot, mask;
    uint32_t n, max;
    uint64_t dropped, first_us, last_us;
    uint64_t learn_from_us; /* baseline_judge: the first flow judged (0: none yet) */
};

/* The edge of key k, made (first and last seen t_us) when missing and create is set. */
struct edge *baseline__get(struct baseline *b, const struct edge *k, uint64_t t_us, int create,
                           int *made);

/*
 * The site an internet server belongs to, as a hash: the last two labels of its name
 * ("vendor-update.example" for any host of it; name NULL or an address: none), else its /24
 * (IPv6: /48).
 */
uint32_t baseline__site(const char *name, const uint8_t srv[16]);

/* A copy of the edges in the order first seen, for the proposal; NULL when out of memory. */
struct edge *baseline__copy(struct baseline *b, uint32_t *n);

#endif
