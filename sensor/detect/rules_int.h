/*
 * Private to the rule loader (rules.c), the rule compiler (rules_compile.c) and its per-type
 * checks (rules_need.c): the keys a rule may have.
 */
#ifndef MIMAMORI_RULES_INT_H
#define MIMAMORI_RULES_INT_H

#include "mimamori/config.h"
#include "mimamori/rules.h"
#include "mimamori/ydoc.h"

/* One load of a ruleset: the walk with its diagnostics, the site config names resolve against. */
struct compiler {
    struct ywalk w;
    const struct mm_config *c;
    struct ruleset *rs;
    unsigned cap;
};

enum rule_key {
    K_KEY,
    K_SID,
    K_REV,
    K_TYPE,
    K_SEVERITY,
    K_CATEGORY,
    K_SIGNATURE,
    K_MESSAGE_JA,
    K_MITRE,
    K_GUIDELINE,
    K_DEDUP,
    K_ENABLED,
    K_DESCRIPTION,
    K_NEXT_JA,
    K_NEXT_EN,
    K_FROM,
    K_TO,
    K_EXCEPT_FROM,
    K_SAME_ZONE,
    K_PROTOCOLS,
    K_CATEGORIES,
    K_PORTS,
    K_EXCLUDE_PROTOCOLS,
    K_EXCLUDE_PORTS,
    K_ALLOW,
    K_THRESHOLD,
    K_WINDOW,
    K_BYTES,
    K_MAX_DURATION,
    K_MIN_INTERVAL,
    K_JITTER,
    K_MODE,
    K_MAINT_WINDOW,
    K_SERVICES,
    K_SKIP_ALLOWED,
    K_TLS_VERSIONS,
    K_RISKS,
    K_CHECK,
    K_PERCENT,
    K_TOLERANCE,
    K_RESPONSE,
    K_FOLD,
    K_OPERATIONS,
    K_EXCEPT_SERVERS,
    K_GUESSES,
    K_EXCEPT_USER_AGENTS,
    K__COUNT
};

/*
 * The name lookup of an X-macro list of (id, name) entries: fn(v) is the name of value v, or
 * unknown when v is out of range. One table per list, made where the function is defined.
 */
#define RULES_NAME_OF(id, name) name,
#define RULES_NAMES(fn, type, count, list, unknown)                                                \
    const char *fn(type v)                                                                         \
    {                                                                                              \
        static const char *const names[count] = {list(RULES_NAME_OF)};                             \
        return (unsigned)v < (count) ? names[v] : (unknown);                                       \
    }

/* Compiles the rule mapping n into r (zeroed); problems go to C's diagnostics. */
void rules__compile_rule(struct compiler *C, const struct ynode *n, struct rule *r);
/* Reports what r, of its type, lacks (at[k]: the value node of key k, or NULL). */
void rules__need(struct compiler *C, const struct ynode *n, const struct rule *r,
                 const struct ynode *const *at);
/* rules_eos.c: an end_of_support list into C->rs->eos; what an entry owns. */
void rules__compile_eos(struct compiler *C, const struct ynode *list);
void rules__eos_release(struct eos_entry *e);
/*
 * The guideline reference as a reader knows it: "MHLW-6.0 SO 13.2" is section 13.2 of the
 * System Operation volume of the MHLW guideline's version 6.0 (in r->guideline_ja and _en; a
 * reference of another form is left as it is: NULL).
 */
void rules__guideline_text(struct rule *r);
/* Frees what a compiled rule owns. */
void rules__rule_release(struct rule *r);

#endif
