/*
 * The end-of-support table: `end_of_support:` lists in rule files name a product, the day its
 * vendor's support ended and how a device's software hints show it (fnmatch patterns per kind
 * of hint: the Windows version NTLMSSP states, an HTTP user agent, an SSH software version, a
 * DHCP vendor class, a DICOM implementation version name). The shipped table is one rule file;
 * a site's files extend it, and where two entries match a hint the one loaded last decides, so
 * a site can also move a date (extended support bought, say).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/rules.h"

#include "rules_int.h"

RULES_NAMES(rules_eos_hint_name, enum eos_hint, EOS_HINT__COUNT, EOS_HINTS_X, "?")

/* "YYYY-MM-DD" to the first microsecond of the next day (UTC); 0 when it is no such date. */
static uint64_t day_after_us(const char *s)
{
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, m, d, yy, mm;
    int64_t days;
    char tail;

    if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || y < 1980 ||
        y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
        (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
        return 0;
    /* Days since 1970-01-01 of a civil date (the shifted-March-year method). */
    yy = m <= 2 ? y - 1 : y;
    mm = m <= 2 ? m + 9 : m - 3;
    days = (int64_t)yy * 365 + yy / 4 - yy / 100 + yy / 400 + (153 * mm + 2) / 5 + d - 1 - 719468;
    return (uint64_t)(days + 1) * 86400u * 1000000u;
}

struct adding {
    struct eos_entry *e;
    unsigned h; /* enum eos_hint */
};

static void add_pattern(void *ud, const struct ynode *n, const char *s)
{
    struct eos_entry *e = ((struct adding *)ud)->e;
    unsigned h = ((struct adding *)ud)->h;
    char **np = realloc(e->pat[h], (e->npat[h] + 1) * sizeof(*np));

    (void)n;
    if (np == NULL)
        return;
    e->pat[h] = np;
    if ((np[e->npat[h]] = strdup(s)) != NULL)
        e->npat[h]++;
}

static void compile_entry(struct compiler *C, const struct ynode *n, struct eos_entry *e)
{
    const char *s;
    unsigned h, hints = 0;
    size_t i;

    e->line = n->line;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&C->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        for (h = 0; h < EOS_HINT__COUNT && strcmp(k, rules_eos_hint_name((enum eos_hint)h)) != 0;
             h++)
            ;
        if (h < EOS_HINT__COUNT) {
            struct adding a = {e, h};
            hints += ydoc_each_string(&C->w, v, k, add_pattern, &a);
        } else if (strcmp(k, "product") == 0 || strcmp(k, "source") == 0) {
            if ((s = ydoc_string(&C->w, v, k)) != NULL && *s != '\0')
                *(k[0] == 'p' ? &e->product : &e->source) = strdup(s);
        } else if (strcmp(k, "ended") == 0) {
            if ((s = ydoc_string(&C->w, v, k)) != NULL && (e->ended_us = day_after_us(s)) == 0)
                ydoc_error(&C->w, v, "ended: '%s' is not a date (YYYY-MM-DD)", s);
            else if (s != NULL)
                memcpy(e->ended, s, sizeof(e->ended) - 1);
        } else {
            ydoc_error(&C->w, YDOC_KEY(n, i),
                       "unknown key '%s' in an end_of_support entry (product, ended, source, "
                       "windows, user_agent, ssh, dhcp_vendor, dicom_version)",
                       k);
        }
    }
    if (e->product == NULL || e->ended_us == 0 || hints == 0)
        ydoc_error(&C->w, n, "an end_of_support entry needs product, ended and a hint pattern");
}

void rules__compile_eos(struct compiler *C, const struct ynode *list)
{
    size_t i;

    if (!ydoc_want(&C->w, list, YN_LIST, "end_of_support"))
        return;
    for (i = 0; i < list->n; i++) {
        const struct ynode *n = list->items[i];
        struct eos_entry *e, *grown;
        unsigned before = C->w.diag->count;
        if (!ydoc_want(&C->w, n, YN_MAP, "an end_of_support entry"))
            continue;
        if ((grown = realloc(C->rs->eos, (C->rs->neos + 1) * sizeof(*grown))) == NULL) {
            ydoc_error(&C->w, n, "out of memory");
            return;
        }
        C->rs->eos = grown;
        e = &grown[C->rs->neos];
        memset(e, 0, sizeof(*e));
        compile_entry(C, n, e);
        if (C->w.diag->count != before)
            rules__eos_release(e);
        else
            C->rs->neos++;
    }
}

void rules__eos_release(struct eos_entry *e)
{
    unsigned h, i;

    for (h = 0; h < EOS_HINT__COUNT; h++) {
        for (i = 0; i < e->npat[h]; i++)
            free(e->pat[h][i]);
        free(e->pat[h]);
    }
    free(e->product);
    free(e->source);
}

const struct eos_entry *rules_eos_match(const struct ruleset *rs, enum eos_hint hint,
                                        const char *value, uint64_t ts_us)
{
    unsigned i, j;

    if (rs == NULL || (unsigned)hint >= EOS_HINT__COUNT || value == NULL || *value == '\0')
        return NULL;
    for (i = rs->neos; i-- > 0;) {
        const struct eos_entry *e = &rs->eos[i];
        for (j = 0; j < e->npat[hint]; j++)
            if (fnmatch(e->pat[hint][j], value, 0) == 0)
                return ts_us >= e->ended_us ? e : NULL;
    }
    return NULL;
}
