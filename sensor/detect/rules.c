/*
 * Rule sets: loading rule files (a file holds "rules:", a list of mappings, each compiled by
 * rules_compile.c), the names of types, categories and health checks, finding a rule and
 * matching a flow against a rule's protocols, categories and ports. Keys and signature ids must
 * be unique across all files of a ruleset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mimamori/classify.h"
#include "mimamori/error.h"
#include "mimamori/rules.h"

#include "config/config_int.h"
#include "rules_int.h"

RULES_NAMES(rules_type_name, enum rule_type, RULE__COUNT, RULES_X, "unknown")
RULES_NAMES(rules_category_name, enum alert_category, CAT__COUNT, CATEGORIES_X, "unknown")

int rules_category_lookup(const char *name, int any_case)
{
    for (int c = 0; c < CAT__COUNT; c++)
        if ((any_case ? strcasecmp : strcmp)(name, rules_category_name((enum alert_category)c)) ==
            0)
            return c;
    return MM_ENOTFOUND;
}
RULES_NAMES(rules_health_check_name, enum health_check, HEALTH__COUNT, HEALTH_CHECKS_X, "unknown")
RULES_NAMES(rules_ledger_check_name, enum ledger_check, LEDGER__COUNT, LEDGER_CHECKS_X, "unknown")
RULES_NAMES(rules_baseline_check_name, enum baseline_check, BASELINE__COUNT, BASELINE_CHECKS_X,
            "unknown")

void rules__guideline_text(struct rule *r)
{
    static const struct {
        const char *code, *ja, *en;
    } volumes[] = {
        {"SO", "システム運用編", "System Operation"}, /* the volume the contract's example names */
    };
    const char *g = r->guideline, *sec;
    char buf[256];
    size_t i;

    if (g == NULL || strncmp(g, "MHLW-6.0 ", 9) != 0 || (sec = strchr(g + 9, ' ')) == NULL)
        return;
    for (i = 0; i < sizeof(volumes) / sizeof(volumes[0]); i++) {
        if ((size_t)(sec - (g + 9)) != strlen(volumes[i].code) ||
            strncmp(g + 9, volumes[i].code, (size_t)(sec - (g + 9))) != 0)
            continue;
        snprintf(buf, sizeof(buf), "医療情報システムの安全管理に関するガイドライン 第6.0版 %s %s",
                 volumes[i].ja, sec + 1);
        r->guideline_ja = strdup(buf);
        snprintf(buf, sizeof(buf),
                 "MHLW Guidelines for the Security Management of Medical Information Systems "
                 "6.0, %s, %s",
                 volumes[i].en, sec + 1);
        r->guideline_en = strdup(buf);
        return;
    }
}

unsigned rules_tls_version_bit(const char *name)
{
    if (strcmp(name, "SSLv2") == 0)
        return TLS_V_SSL2;
    if (strcmp(name, "SSLv3") == 0)
        return TLS_V_SSL3;
    if (strcmp(name, "TLSv1") == 0 || strcmp(name, "TLSv1.0") == 0)
        return TLS_V_TLS10;
    if (strcmp(name, "TLSv1.1") == 0)
        return TLS_V_TLS11;
    return 0;
}

static void compile_file(struct compiler *C, const struct ynode *root)
{
    const struct ynode *list = NULL;
    size_t i;
    unsigned j;

    if (root == NULL)
        return; /* an empty file holds no rules */
    if (!ydoc_want(&C->w, root, YN_MAP, "a rule file"))
        return;
    for (i = 0; i < root->n; i++) {
        const char *k = ydoc_key(&C->w, root, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "rules") == 0)
            list = YDOC_VAL(root, i);
        else if (strcmp(k, "end_of_support") == 0)
            rules__compile_eos(C, YDOC_VAL(root, i));
        else
            ydoc_error(&C->w, YDOC_KEY(root, i),
                       "unknown key '%s' in a rule file (rules, end_of_support)", k);
    }
    if (list == NULL || !ydoc_want(&C->w, list, YN_LIST, "rules"))
        return;
    for (i = 0; i < list->n; i++) {
        const struct ynode *e = list->items[i];
        struct rule *r;
        unsigned before = C->w.diag->count;
        if (!ydoc_want(&C->w, e, YN_MAP, "a rule"))
            continue;
        if (C->rs->n == C->cap) {
            unsigned cap = C->cap ? C->cap * 2 : 32;
            struct rule *nr = realloc(C->rs->r, cap * sizeof(*nr));
            if (nr == NULL) {
                ydoc_error(&C->w, e, "out of memory");
                return;
            }
            C->rs->r = nr;
            C->cap = cap;
        }
        r = &C->rs->r[C->rs->n];
        memset(r, 0, sizeof(*r));
        rules__compile_rule(C, e, r);
        for (j = 0; C->w.diag->count == before && j < C->rs->n; j++) {
            if (strcmp(C->rs->r[j].key, r->key) == 0)
                ydoc_error(&C->w, e, "rule key '%s' is used twice", r->key);
            else if (C->rs->r[j].sid == r->sid)
                ydoc_error(&C->w, e, "signature_id %u of '%s' is already used by '%s'", r->sid,
                           r->key, C->rs->r[j].key);
        }
        if (C->w.diag->count != before)
            rules__rule_release(r);
        else
            C->rs->n++;
    }
}

static int finish(struct compiler *C, struct ruleset **out)
{
    if (C->w.diag->count > 0) {
        rules_free(C->rs);
        return MM_ECONFIG;
    }
    *out = C->rs;
    return 0;
}

static int compiler_init(struct compiler *C, const struct mm_config *c, struct config_diag *diag)
{
    memset(C, 0, sizeof(*C));
    C->c = c;
    C->w.diag = diag;
    return (C->rs = calloc(1, sizeof(*C->rs))) == NULL ? MM_ENOMEM : 0;
}

/*
 * Compile one document that ydoc_parse*() returned r for. A parse error is already in the
 * diagnostics and the other documents are still compiled; only MM_ENOMEM stops the load.
 */
static int compile_doc(struct compiler *C, const char *name, int r, struct ydoc *doc)
{
    if (r == MM_ENOMEM)
        return r;
    if (r == 0) {
        C->w.file = name;
        compile_file(C, ydoc_root(doc));
        ydoc_free(doc);
    }
    return 0;
}

int rules_load_string(const struct mm_config *c, const char *name, const char *text, size_t len,
                      struct ruleset **out, struct config_diag *diag)
{
    struct compiler C;
    struct ydoc *doc;
    int r;

    *out = NULL;
    if (compiler_init(&C, c, diag) != 0)
        return MM_ENOMEM;
    r = ydoc_parse(name, text, len, &doc, diag);
    if (compile_doc(&C, name, r, doc) != 0) {
        rules_free(C.rs);
        return MM_ENOMEM;
    }
    return finish(&C, out);
}

int rules_load_files(const struct mm_config *c, const char *const *paths, size_t n,
                     struct ruleset **out, struct config_diag *diag)
{
    struct compiler C;
    struct ydoc *doc;
    size_t i;

    *out = NULL;
    if (compiler_init(&C, c, diag) != 0)
        return MM_ENOMEM;
    for (i = 0; i < n; i++) {
        int r = ydoc_parse_file(paths[i], &doc, diag);
        if (compile_doc(&C, paths[i], r, doc) != 0) {
            rules_free(C.rs);
            return MM_ENOMEM;
        }
    }
    return finish(&C, out);
}

int rules_load_embedded(const struct mm_config *c, struct ruleset **out, struct config_diag *diag)
{
    const struct rules_embedded_file *e;
    struct compiler C;
    struct ydoc *doc;

    *out = NULL;
    if (compiler_init(&C, c, diag) != 0)
        return MM_ENOMEM;
    for (e = rules_embedded; e < rules_embedded + rules_embedded_count; e++) {
        int r = ydoc_parse(e->name, e->text, e->len, &doc, diag);
        if (compile_doc(&C, e->name, r, doc) != 0) {
            rules_free(C.rs);
            return MM_ENOMEM;
        }
    }
    return finish(&C, out);
}

void rules_free(struct ruleset *rs)
{
    unsigned i;

    if (rs == NULL)
        return;
    for (i = 0; i < rs->n; i++)
        rules__rule_release(&rs->r[i]);
    for (i = 0; i < rs->neos; i++)
        rules__eos_release(&rs->eos[i]);
    free(rs->eos);
    free(rs->r);
    free(rs);
}

const struct rule *rules_find(const struct ruleset *rs, const char *key)
{
    unsigned i;

    for (i = 0; rs != NULL && i < rs->n; i++)
        if (strcmp(rs->r[i].key, key) == 0)
            return &rs->r[i];
    return NULL;
}

/*
 * Whether the flow's protocol was spoken, not only named: found in the payload by nDPI, or,
 * where nDPI guessed it from the port or address, with data both ways (TCP segments with PSH
 * each way, which handshakes, probes and resets do not have; packets each way otherwise). A
 * FIN scan's probe to port 23 is no Telnet: scans are the scan rules' to report.
 */
static int protocol_spoken(const struct flow *f)
{
    if (!classify_is_guess(&f->app))
        return 1;
    if (f->key.proto == 6)
        return (f->tcp_flags[FLOW_TOSERVER] & TCP_PSH) && (f->tcp_flags[FLOW_TOCLIENT] & TCP_PSH);
    return f->pkts[FLOW_TOSERVER] > 0 && f->pkts[FLOW_TOCLIENT] > 0;
}

/* Whether one of m's protocols or categories names the flow's protocol. */
static int names_protocol(const struct rule_match *m, const struct flow *f)
{
    unsigned i;

    for (i = 0; i < m->nprotos; i++)
        if (classify_is(&f->app, m->protos[i]))
            return 1;
    for (i = 0; i < m->ncats; i++)
        if (f->app.category == m->cats[i] && (f->app.app != 0 || f->app.master != 0))
            return 1;
    return 0;
}

int rules_match(const struct rule_match *m, const struct flow *f)
{
    uint16_t dport = flow_dst_port(f);
    unsigned i;

    if (rules_match_empty(m))
        return 1;
    if (names_protocol(m, f) && protocol_spoken(f) && !(m->no_guess && classify_is_guess(&f->app)))
        return 1;
    for (i = 0; i < m->nports; i++)
        if ((m->ports[i].l4 == 0 ? f->key.proto == 6 || f->key.proto == 17
                                 : f->key.proto == m->ports[i].l4) &&
            dport >= m->ports[i].lo && dport <= m->ports[i].hi)
            return 1;
    return 0;
}
