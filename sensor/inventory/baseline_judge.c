/*
 * The learned baseline of the zones where nothing should change, for the baseline rules. The
 * detector's table holds, besides each edge (client, server, transport, port), summaries keyed
 * by markers in place of an address (ff fe, then the kind): ANY (every client of a service,
 * every service of a server, every site of a client; the edge's flows count how many), ZONE
 * (the clients of one zone of a service, the servers of one zone a client used, a site a zone
 * used; ANY in the server's place counts, by its value, the servers or the sites a client used)
 * and SITE (an internet site, baseline__site). Learning starts with the first flow
 * judged and lasts period_us; each check then asks whether the flow's edge, or a summary that
 * stands for it, was learned.
 */
#include <stdlib.h>
#include <string.h>

#include "mimamori/baseline.h"

#include "baseline_int.h"

enum marker { M_ANY = 0, M_ZONE, M_SITE };

static void marker(uint8_t out[16], enum marker m, uint32_t v)
{
    memset(out, 0, 16);
    out[0] = 0xff, out[1] = 0xfe, out[2] = (uint8_t)m; /* a multicast: never a unicast peer */
    memcpy(out + 12, &v, 4);
}

/* A key: cli, srv (each an address or NULL for a marker already in k), transport, port. */
static struct edge *key(struct edge *k, const uint8_t *cli, const uint8_t *srv, uint8_t l4,
                        uint16_t port)
{
    if (cli != NULL)
        memcpy(k->cli, cli, 16);
    if (srv != NULL)
        memcpy(k->srv, srv, 16);
    k->l4 = l4;
    k->port = port;
    return k;
}

/*
 * The edge or summary of key k, made when missing, seen at t_us, counting one more when count
 * is set: 1 when made now, 0 when it was there, -1 when the table is full.
 */
static int touch(struct baseline *b, const struct edge *k, uint64_t t_us, int count)
{
    struct edge *e;
    int made;

    if ((e = baseline__get(b, k, t_us, 1, &made)) == NULL)
        return -1;
    e->flows += count != 0;
    e->last_us = t_us;
    return made;
}

static int learn(struct baseline *b, const struct edge *k, uint64_t t_us)
{
    return touch(b, k, t_us, 0);
}

static int bump(struct baseline *b, const struct edge *k, uint64_t t_us)
{
    return touch(b, k, t_us, 1);
}

static uint32_t count_of(struct baseline *b, const struct edge *k)
{
    int made;
    const struct edge *e = baseline__get(b, k, 0, 0, &made);

    return e != NULL ? e->flows : 0;
}

static int known(struct baseline *b, const struct edge *k)
{
    int made;

    return baseline__get(b, k, 0, 0, &made) != NULL;
}

/* The keys of a flow's service: (ANY, server, port) and (ANY, server): its clients, services. */
static void service_keys(const struct flow *f, struct edge *svc, struct edge *all)
{
    memset(svc, 0, sizeof(*svc));
    memset(all, 0, sizeof(*all));
    marker(svc->cli, M_ANY, 0);
    key(svc, NULL, flow_dst_addr(f), f->key.proto, flow_dst_port(f));
    marker(all->cli, M_ANY, 0);
    key(all, NULL, flow_dst_addr(f), 0, 0);
}

/* A service the server answered: news when it never did while learning. */
static int service(struct baseline *b, const struct flow *f, int judge, uint32_t *learned,
                   uint64_t t)
{
    struct edge svc, all;
    int seen;

    service_keys(f, &svc, &all);
    seen = judge && known(b, &svc);
    *learned = count_of(b, &all);
    if (!seen && learn(b, &svc, t) == 1)
        bump(b, &all, t);
    return judge && !seen;
}

/*
 * A peer: news when the edge was never seen, unless the service had BASELINE_BUSY clients or
 * more from the client's zone, or the client used that many servers of the server's zone on
 * that port (a busy service or client takes any peer of a zone it knows).
 */
static int peer(struct baseline *b, const struct flow *f, int cz, int sz, int judge,
                uint32_t *learned, uint32_t *used_n, uint64_t t)
{
    const uint8_t *cli = flow_src_addr(f), *srv = flow_dst_addr(f);
    uint8_t l4 = f->key.proto;
    uint16_t port = flow_dst_port(f);
    struct edge e = {0}, zc = {0}, zs = {0}, svc, all, used = {0};
    int seen;

    key(&e, cli, srv, l4, port);
    marker(used.srv, M_ANY, 1); /* the servers the client used */
    key(&used, cli, NULL, 0, 0);
    marker(zc.cli, M_ZONE, (uint32_t)cz);
    key(&zc, NULL, srv, l4, port);
    marker(zs.srv, M_ZONE, (uint32_t)sz);
    key(&zs, cli, NULL, l4, port);
    service_keys(f, &svc, &all);
    seen = judge &&
           (known(b, &e) || count_of(b, &zc) >= BASELINE_BUSY || count_of(b, &zs) >= BASELINE_BUSY);
    *learned = count_of(b, &svc);
    *used_n = count_of(b, &used);
    if (!seen && learn(b, &e, t) == 1) {
        if (bump(b, &svc, t) == 1)
            bump(b, &all, t);
        bump(b, &zc, t);
        bump(b, &zs, t);
        bump(b, &used, t);
    }
    return judge && !seen;
}

/* A site on the internet: news when neither the client nor its zone used it while learning. */
static int destination(struct baseline *b, const struct flow *f, int cz, const char *name,
                       int judge, uint32_t *learned, uint64_t t)
{
    uint32_t site = baseline__site(name, flow_dst_addr(f));
    struct edge d = {0}, zd = {0}, sites = {0};
    int seen;

    marker(d.srv, M_SITE, site);
    key(&d, flow_src_addr(f), NULL, 0, 0);
    marker(zd.cli, M_ZONE, (uint32_t)cz);
    memcpy(zd.srv, d.srv, 16);
    marker(sites.srv, M_ANY, 2); /* the sites the client used */
    key(&sites, flow_src_addr(f), NULL, 0, 0);
    seen = judge && (known(b, &d) || known(b, &zd));
    *learned = count_of(b, &sites);
    if (!seen && learn(b, &d, t) == 1) {
        bump(b, &sites, t);
        learn(b, &zd, t);
    }
    return judge && !seen;
}

void baseline_judge(struct baseline *b, enum baseline_check check, const struct flow *f, int cz,
                    int sz, const char *name, uint64_t period_us, struct baseline_verdict *v)
{
    uint64_t t = f->first_us;
    uint64_t dropped;
    int judge, news = 0;

    v->client_peers = 0;
    pthread_mutex_lock(&b->mu);
    if (b->learn_from_us == 0)
        b->learn_from_us = t;
    v->from_us = b->learn_from_us;
    v->until_us = b->learn_from_us + period_us;
    judge = t >= v->until_us;
    dropped = b->dropped;
    if (check == BASELINE_NEW_SERVICE)
        news = service(b, f, judge, &v->learned, t);
    else if (check == BASELINE_NEW_PEER)
        news = peer(b, f, cz, sz, judge, &v->learned, &v->client_peers, t);
    else
        news = destination(b, f, cz, name, judge, &v->learned, t);
    v->learning = !judge;
    v->news = news && b->dropped == dropped; /* a full table says nothing new */
    if (t > b->last_us)
        b->last_us = t;
    pthread_mutex_unlock(&b->mu);
}
