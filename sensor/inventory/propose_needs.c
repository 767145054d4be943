/*
 * What the proposal must say for the ruleset to stay quiet on the traffic it was made from:
 * with the proposed zones, each edge is put to the running ruleset's egress and segmentation
 * rules as their checks would (zones, except_from, excluded flows, allow entries, a rule's
 * protocols); what one of them would report becomes a need: an allowlist entry of the
 * client's zone, or a suppression of that rule. Where the proposal cannot know how a check
 * would go (a protocol nDPI guessed by port), it assumes the alert and covers the edge.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mimamori/classify.h"
#include "mimamori/rules.h"

#include "propose_int.h"

static int in(zone_set s, int z)
{
    return z >= 0 && (s & ZONE_BIT(z)) != 0;
}

/*
 * The edge as a flow to the rules' matches. sure: as classified, so that a rule's protocols
 * match it; unsure: a protocol nDPI guessed is taken as unknown (an allow entry then does not
 * cover it by protocol, as it might not have).
 */
static void as_flow(const struct edge *e, int sure, struct flow *f)
{
    memset(f, 0, sizeof(*f));
    memcpy(f->key.addr[0], e->cli, 16);
    memcpy(f->key.addr[1], e->srv, 16);
    f->key.port[1] = e->port;
    f->key.proto = e->l4;
    f->client = 0;
    if (sure || !e->guessed) {
        f->app.master = e->master;
        f->app.app = e->app;
        f->app.category = e->category;
    }
    f->pkts[FLOW_TOSERVER] = 1;
    f->pkts[FLOW_TOCLIENT] = sure && e->answered;
}

static int add_need(struct proposal *p, enum need_kind kind, int zone, unsigned rule, uint32_t edge,
                    int review)
{
    struct need *n;

    if (p->nneed == p->capneed) {
        size_t cap = p->capneed ? p->capneed * 2 : 256;
        struct need *nn = realloc(p->need, cap * sizeof(*nn));
        if (nn == NULL)
            return MM_ENOMEM;
        p->need = nn;
        p->capneed = cap;
    }
    n = &p->need[p->nneed++];
    n->kind = (uint8_t)kind;
    n->zone = (int16_t)zone;
    n->rule = (uint16_t)rule;
    n->edge = edge;
    n->review = (uint8_t)review;
    return 0;
}

/* The services the proposal lists: every internal server seen answering one. */
static void services(struct proposal *p)
{
    uint32_t i;
    unsigned s;

    for (i = 0; i < p->ndev; i++)
        for (s = 0; s < SVC__COUNT; s++)
            if (propose__is_service(p, (enum config_service)s, p->dev[i].ip))
                p->services[s] = 1;
}

/* A listed server of svc, by the running config or the proposal. */
static int listed(const struct proposal *p, enum config_service svc, const uint8_t ip[16])
{
    return config_is_service(p->cfg, svc, ip) || propose__is_service(p, svc, ip);
}

/* A server name fit for an allowlist: letters, digits, '-', '_' and dots between labels. */
int propose__plain_name(const char *s)
{
    size_t i, len = strlen(s), letters = 0;

    if (len == 0 || s[0] == '.' || s[len - 1] == '.' || strstr(s, "..") != NULL)
        return 0;
    for (i = 0; i < len; i++) {
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' ||
            s[i] == '_')
            letters++;
        else if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            return 0;
    }
    return letters > 0; /* "203.0.113.9" is an address: listed as one */
}

/* An edge to the internet against one egress rule: 1 when it would be reported. */
static int egress_reports(const struct rule *r, const struct edge *e, int cz)
{
    struct flow sure, unsure;

    if (!in(r->from, cz) || in(r->except_from, cz) || !in(r->to, ZONE_INTERNET))
        return 0;
    as_flow(e, 1, &sure);
    as_flow(e, 0, &unsure);
    if (!rules_match_empty(&r->exclude) && rules_match(&r->exclude, &unsure))
        return 0;
    if (!rules_match_empty(&r->match))
        return rules_match(&r->match, &sure) && e->answered;
    return 1;
}

/*
 * What an edge to the internet needs: in a zone that can have an allowlist, an entry (the name
 * the flow gave, else the address); a tunnel or remote-access application, or a client no
 * zone holds, a suppression of the rule for that client and destination, for the reader to
 * judge.
 */
static int egress_needs(struct proposal *p, uint32_t i, int cz)
{
    const struct edge *e = &p->edge[i];
    const struct ruleset *rs = p->cfg->ruleset;
    int by_name = 0, by_net = 0;
    unsigned ri;

    for (ri = 0; rs != NULL && ri < rs->n; ri++) {
        const struct rule *r = &rs->r[ri];
        if (!r->enabled || r->type != RULE_EGRESS || !egress_reports(r, e, cz))
            continue;
        if (!rules_match_empty(&r->match) || cz == ZONE_UNZONED) {
            if (add_need(p, NEED_SUPPRESS, cz, ri, i, 1) != 0)
                return MM_ENOMEM;
        } else if (propose__plain_name(e->name)) {
            by_name = 1;
        } else {
            by_net = 1;
        }
    }
    if (by_net)
        return add_need(p, NEED_EGRESS_NET, cz, 0, i, 0);
    return by_name ? add_need(p, NEED_EGRESS_NAME, cz, 0, i, 0) : 0;
}

static int allowed(const struct rule *r, int cz, int sz, const struct flow *f)
{
    unsigned i;

    for (i = 0; i < r->nallow; i++) {
        const struct rule_allow *a = &r->allow[i];
        if ((a->from == 0 || in(a->from, cz)) && (a->to == 0 || in(a->to, sz)) &&
            rules_match(&a->match, f))
            return 1;
    }
    return 0;
}

static int segmentation_needs(struct proposal *p, uint32_t i, int cz, int sz)
{
    const struct edge *e = &p->edge[i];
    const struct ruleset *rs = p->cfg->ruleset;
    struct flow unsure;
    unsigned ri;

    as_flow(e, 0, &unsure);
    for (ri = 0; rs != NULL && ri < rs->n; ri++) {
        const struct rule *r = &rs->r[ri];
        if (!r->enabled || r->type != RULE_SEGMENTATION || !in(r->from, cz) ||
            in(r->except_from, cz) || !in(r->to, sz) || (cz == sz && !r->same_zone) ||
            (!rules_match_empty(&r->exclude) && rules_match(&r->exclude, &unsure)) ||
            allowed(r, cz, sz, &unsure))
            continue;
        if (add_need(p, NEED_SUPPRESS, cz, ri, i, 0) != 0)
            return MM_ENOMEM;
    }
    return 0;
}

/*
 * A DNS query to a resolver the services do not list, against the dns_resolver rules: their
 * suppression (a client asking a public resolver directly is left for the reader to judge).
 */
static int resolver_needs(struct proposal *p, uint32_t i, int cz, int sz)
{
    const struct edge *e = &p->edge[i];
    const struct ruleset *rs = p->cfg->ruleset;
    unsigned ri;

    if ((p->cfg->services[SVC_DNS].n == 0 && !p->services[SVC_DNS]) ||
        (!propose__is_proto(e, p->proto_dns) && !(e->port == 53 && (e->l4 == 6 || e->l4 == 17))) ||
        listed(p, SVC_DNS, e->cli) || listed(p, SVC_DNS, e->srv))
        return 0;
    for (ri = 0; rs != NULL && ri < rs->n; ri++) {
        const struct rule *r = &rs->r[ri];
        if (r->enabled && r->type == RULE_DNS_RESOLVER && in(r->from, cz) &&
            !in(r->except_from, cz) && in(r->to, sz) &&
            add_need(p, NEED_SUPPRESS, cz, ri, i, 1) != 0)
            return MM_ENOMEM;
    }
    return 0;
}

static int by_need(const void *a, const void *b, void *ud);

int propose__needs(struct proposal *p)
{
    uint32_t i;

    services(p);
    for (i = 0; i < p->nedge; i++) {
        const struct edge *e = &p->edge[i];
        int cz = propose__zone_of(p, e->cli), sz = propose__zone_of(p, e->srv);
        int rc = 0;
        if (cz != ZONE_INTERNET && sz == ZONE_INTERNET)
            rc = egress_needs(p, i, cz);
        else if (sz != ZONE_INTERNET)
            rc = segmentation_needs(p, i, cz, sz);
        if (rc == 0 && cz != ZONE_INTERNET)
            rc = resolver_needs(p, i, cz, sz);
        if (rc != 0)
            return rc;
    }
    if (p->nneed > 0) /* none: no array to sort (qsort takes no NULL) */
        qsort_r(p->need, p->nneed, sizeof(p->need[0]), by_need, p);
    return 0;
}

/* Needs in the order they are written: kind, zone or rule, destination, port, client. */
static int by_need(const void *a, const void *b, void *ud)
{
    const struct proposal *p = ud;
    const struct need *x = a, *y = b;
    const struct edge *ex = &p->edge[x->edge], *ey = &p->edge[y->edge];
    int c;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->kind == NEED_SUPPRESS && x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    if (x->kind != NEED_SUPPRESS && x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    if (x->kind == NEED_EGRESS_NAME && (c = strcasecmp(ex->name, ey->name)) != 0)
        return c;
    if (x->kind != NEED_EGRESS_NAME && (c = memcmp(ex->srv, ey->srv, 16)) != 0)
        return c;
    if (x->kind == NEED_SUPPRESS && ex->port != ey->port)
        return ex->port < ey->port ? -1 : 1;
    if ((c = memcmp(ex->cli, ey->cli, 16)) != 0)
        return c;
    return x->edge < y->edge ? -1 : x->edge > y->edge;
}

void propose__free_needs(struct proposal *p)
{
    free(p->need);
    p->need = NULL;
    p->nneed = p->capneed = 0;
}
