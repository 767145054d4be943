/*
 * YAML documents for the loaders (site config, rule files): a file is parsed once with libyaml
 * into a small read-only tree of scalars, lists and mappings that remembers where each node
 * was written, and the walking helpers every loader shares report problems as
 * "file:line:col: message" into one diagnostic list, so a run shows all problems at once.
 */
#ifndef MIMAMORI_YDOC_H
#define MIMAMORI_YDOC_H

#include <stddef.h>
#include <stdint.h>
#include "mimamori/error.h"

/*
 * Diagnostics collected while loading; each a full "file:line:col: message" line. Warnings say
 * what is valid but likely not meant ("file:line:col: warning: ..."); they do not fail a load.
 */
#define CONFIG_MAX_DIAGS 64
#define CONFIG_MAX_WARNS 16
#define CONFIG_DIAG_LEN  512 /* a long path, its position and a message that lists the choices */
struct config_diag {
    unsigned count; /* errors found (may exceed what is kept) */
    char msg[CONFIG_MAX_DIAGS][CONFIG_DIAG_LEN];
    unsigned nwarn; /* warnings (may exceed what is kept) */
    char warn[CONFIG_MAX_WARNS][CONFIG_DIAG_LEN];
};

enum ynode_kind { YN_SCALAR = 1, YN_LIST, YN_MAP };

struct ynode {
    enum ynode_kind kind;
    unsigned line, col;   /* 1-based position in the file */
    const char *str;      /* scalar text ("" for an empty value) */
    size_t n;             /* list items, or mapping pairs */
    struct ynode **items; /* list: n items; map: key i at [2i], value at [2i + 1] */
};

#define YDOC_KEY(map, i) ((map)->items[2 * (i)])
#define YDOC_VAL(map, i) ((map)->items[2 * (i) + 1])

struct ydoc;

/* Parse YAML text; name is used in messages. 0, MM_ECONFIG (diag filled) or MM_ENOMEM. */
MM_MUST_CHECK int ydoc_parse(const char *name, const char *text, size_t len, struct ydoc **out,
                             struct config_diag *diag);

/* Read and parse a file. 0, MM_EIO or MM_ECONFIG (diag filled), MM_ENOMEM. */
MM_MUST_CHECK int ydoc_parse_file(const char *path, struct ydoc **out, struct config_diag *diag);

/* The root node, or NULL for an empty document. */
const struct ynode *ydoc_root(const struct ydoc *d);
void ydoc_free(struct ydoc *d);

/* --- walking helpers: each reports its own problem and returns 0/NULL on one ------------- */

struct ywalk {
    const char *file;
    struct config_diag *diag;
};

void ydoc_error(struct ywalk *w, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A warning at n's place. */
void ydoc_warning(struct ywalk *w, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add a message that is already "file:line:col: ..." formatted (or any line). */
void ydoc_diag_line(struct config_diag *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int ydoc_want(struct ywalk *w, const struct ynode *n, enum ynode_kind kind, const char *what);
const char *ydoc_string(struct ywalk *w, const struct ynode *n, const char *what);
int ydoc_uint(struct ywalk *w, const struct ynode *n, const char *what, unsigned long min,
              unsigned long max, uint32_t *out);
int ydoc_bool(struct ywalk *w, const struct ynode *n, const char *what, int *out);

/* "90", "90s", "5m", "2h", "1d" (1 s to 30 d) to seconds. */
int ydoc_duration(struct ywalk *w, const struct ynode *n, const char *what, uint32_t *out);

/* "52428800", "50MB" (10^6), "50MiB" (2^20), also B, KB, GB, KiB, GiB, to bytes (not 0). */
int ydoc_size(struct ywalk *w, const struct ynode *n, const char *what, uint64_t *out);

/*
 * A list of names from a fixed set, added to *bits (bit i: names[i]); an unknown one is
 * reported as "unknown <item> 'x' (name, name, ...)". Returns 1 when every name was known.
 */
int ydoc_flags(struct ywalk *w, const struct ynode *n, const char *what, const char *item,
               const char *const *names, unsigned count, unsigned *bits);

/* Key i of a mapping, or NULL (reported) when it is not a string or repeats an earlier key. */
const char *ydoc_key(struct ywalk *w, const struct ynode *map, size_t i);

/* A scalar or a list of scalars as a list: calls fn for each scalar; returns how many. */
unsigned ydoc_each_string(struct ywalk *w, const struct ynode *n, const char *what,
                          void (*fn)(void *ud, const struct ynode *n, const char *s), void *ud);

#endif
