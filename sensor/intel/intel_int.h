/*
 * What the files of the intel module share: the table (indicators, their strings in one arena,
 * the hash index and the networks' prefix map) and the adder every format reader uses. Not for
 * use outside sensor/intel/.
 */
#ifndef MIMAMORI_INTEL_INT_H
#define MIMAMORI_INTEL_INT_H

#include <stdio.h>

#include "mimamori/intel.h"
#include "mimamori/zone.h"

struct intel_ind {
    uint32_t key, value, id, desc; /* arena offsets; 0 is the empty string */
    uint32_t next;                 /* the next indicator with the same key, + 1 (0: none) */
    uint32_t line;
    int64_t until;
    uint16_t feed, key_len;
    uint8_t type;
};

struct intel {
    char *arena;
    size_t used, cap;
    struct intel_ind *ind;
    size_t n, ind_cap;
    uint32_t *slots; /* open addressing, indicator index + 1 */
    size_t nslots;
    struct zone_map *nets;
    size_t nnets;
};

/* A feed being read: where it goes and what it found. */
struct intel_reader {
    struct intel *in;
    unsigned feed;
    int64_t now_s;
    struct intel_load_stats *st;
    const char *path;
    char *err;
    size_t errlen;
};

/*
 * Add one indicator as the feed wrote it (value; id, desc may be NULL; until 0: none): the
 * value is checked and normalised for its type. 0, MM_EINVAL (why says what is wrong with it),
 * MM_ENOMEM.
 */
int intel__add(struct intel_reader *rd, enum intel_type type, const char *value, const char *id,
               const char *desc, unsigned line, int64_t until, const char **why);
/* The type a plain list's line has, by its syntax; -1 when none. */
int intel__guess(const char *value);
int intel__fail(struct intel_reader *rd, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Index everything read so far; the keys of indicators from `from` on already there count as
 * duplicates in st. 0 or MM_ENOMEM. */
int intel__index(struct intel *in, size_t from, struct intel_load_stats *st);

int intel__read_plain(struct intel_reader *rd, FILE *f);
int intel__read_misp(struct intel_reader *rd, FILE *f);
int intel__read_stix(struct intel_reader *rd, FILE *f);

#endif
