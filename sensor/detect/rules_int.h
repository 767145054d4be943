/*
 * Private to the rule loader (rules.c) and the rule compiler (rules_compile.c).
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

/* Compiles the rule mapping n into r (zeroed); problems go to C's diagnostics. */
void rules__compile_rule(struct compiler *C, const struct ynode *n, struct rule *r);
/* Frees what a compiled rule owns. */
void rules__rule_release(struct rule *r);

#endif
