/*
 * The alert path shared by every rule type: the evidence list, the names of the flow's protocol
 * and of its destination, the site's suppressions, and folding. The same rule for the same scope
 * within the rule's dedup time is one alert; its repeats are reported with their count when the
 * time is up (detect_tick) or at the end (detect_finish).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/response.h"
#include "mimamori/rules.h"
#include "mimamori/zone.h"

#include "mimamori/log.h"
#include "detect_int.h"

/* The flow's protocol names, looked up the first time an alert needs them. */
const struct classify_names *detect__names(struct fctx *x)
{
    if (!x->named) {
        x->named = 1;
        if (x->d->ctx != NULL && x->d->ctx->cls != NULL) {
            classify_names(x->d->ctx->cls, &x->f->app, &x->names);
        } else {
            memset(&x->names, 0, sizeof(x->names));
            strcpy(x->names.protocol, "Unknown");
        }
        if (x->names.category == NULL)
            x->names.category = "Unknown";
    }
    return &x->names;
}

/* --- evidence ------------------------------------------------------------------------------- */

/*
 * Every rule starts an evidence list on every flow it looks at and most return before adding
 * to it, so it is emptied, not zeroed.
 */
void detect__ev_clear(struct evidence *ev)
{
    ev->len = ev->n = 0;
    ev->severity = ev->category = 0;
    ev->buf[0] = '\0';
}

void detect__ev_add(struct evidence *ev, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ev->n == MM_MAX_EVIDENCE || ev->len >= sizeof(ev->buf) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(ev->buf + ev->len, sizeof(ev->buf) - ev->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(ev->buf) - ev->len) {
        ev->buf[ev->len] = '\0'; /* does not fit: leave it out whole */
        return;
    }
    ev->len += (unsigned)n + 1;
    ev->n++;
}

/*
 * "protocol=NAME", and when nDPI only guessed it (from the port or the address, no payload
 * confirming it) "protocol=NAME (Match by port)": an alert must not claim a protocol that was
 * not spoken.
 */
void detect__ev_protocol(struct evidence *ev, struct fctx *x)
{
    const struct classify_names *n = detect__names(x);

    if (classify_is_guess(&x->f->app))
        detect__ev_add(ev, "protocol=%s (%s)", n->protocol, n->confidence);
    else
        detect__ev_add(ev, "protocol=%s", n->protocol);
}

void detect__ev_addr(struct evidence *ev, const char *name, const uint8_t a[16])
{
    char s[48];
    detect__ev_add(ev, "%s=%s", name, zone_addr_str(a, s, sizeof(s)));
}

/* A name for the server: TLS SNI, HTTP host, else the name a DNS answer gave for it. */
const char *detect__dest_name(const struct detect *d, const struct flow *f, const uint8_t *addr,
                              const char **via)
{
    const char *s;

    if (addr == flow_dst_addr(f) && (s = classify_meta_get(f->app.meta, META_TLS_SNI)) != NULL) {
        *via = "sni";
        return s;
    }
    if (addr == flow_dst_addr(f) && (s = classify_meta_get(f->app.meta, META_HTTP_HOST)) != NULL) {
        *via = "http_host";
        return s;
    }
    if (d->dns != NULL && (s = dnscache_lookup(d->dns, addr, f->last_us)) != NULL) {
        *via = "dns_name";
        return s;
    }
    return NULL;
}

void detect__ev_dest_name(const struct detect *d, struct evidence *ev, const struct flow *f,
                          const uint8_t *addr)
{
    const char *via, *name = detect__dest_name(d, f, addr, &via);

    if (name != NULL)
        detect__ev_add(ev, "%s=%s", via, name);
}

/* --- alerts, suppression and folding ------------------------------------------------------- */

/*
 * fo: the fold the alert opens or reports, whose key (the rule and the hosts it folds by) and
 * start make the alert's incident key: the same for an alert and the report of its repeats.
 */
static void emit(struct detect *d, const struct flow *f, unsigned ri, uint64_t ts_us,
                 uint64_t count, const struct evidence *ev, const struct response_outcome *ro,
                 const struct fold *fo)
{
    struct eve_alert a = {.rule = &d->rs->r[ri], .ts_us = ts_us, .count = count, .iface = -1};
    const char *p = ev->buf;
    char names[2][MM_DEVICE_NAME_LEN], key[64];
    unsigned i;

    snprintf(key, sizeof(key), "%u-%012llx-%llu", a.rule->sid,
             (unsigned long long)(fo->key & 0xffffffffffffULL),
             (unsigned long long)(fo->first_us / US));
    a.incident_key = key;
    if (d->inv != NULL && f != NULL) { /* the devices by name: the ledger's, else their own */
        if (inventory_device_name(d->inv, flow_src_addr(f), names[0], sizeof(names[0])))
            a.src_device = names[0];
        if (inventory_device_name(d->inv, flow_dst_addr(f), names[1], sizeof(names[1])))
            a.dest_device = names[1];
    }
    for (i = 0; i < ev->n; i++, p += strlen(p) + 1)
        a.evidence[a.nevidence++] = p;
    a.severity = ev->severity;
    a.category = ev->category;
    if (ro != NULL && ro->text[0] != '\0') {
        a.blocked = ro->blocked;
        a.response = ro->text;
    }
    d->st.alerts++;
    if (d->eve != NULL)
        eve_write_alert(d->eve, d->ctx, f, &a);
}

/* A source fold's report: the first destinations it reached, and "..." if there were more. */
static void fold_sample(struct evidence *ev, const struct fold *fo)
{
    char list[MM_FOLD_SAMPLE * 48] = "", a[48];
    size_t n = 0;
    unsigned i;

    for (i = 0; i < fo->ndests; i++) {
        zone_addr_str(fo->dests[i], a, sizeof(a));
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i > 0 ? "," : "", a);
    }
    detect__ev_add(ev, "destinations=%s%s", list, fo->more ? ",..." : "");
}

/* Remember a source fold's destination (the first MM_FOLD_SAMPLE distinct ones by name). */
static void fold_dest(struct fold *fo, const uint8_t *dst)
{
    unsigned i;

    for (i = 0; i < fo->ndests; i++)
        if (memcmp(fo->dests[i], dst, 16) == 0)
            return;
    if (fo->ndests < MM_FOLD_SAMPLE)
        memcpy(fo->dests[fo->ndests++], dst, 16);
    else
        fo->more = 1;
}

/* Report the repeats a fold collected, and free it. */
void detect__fold_close(struct detect *d, struct fold *fo)
{
    size_t i;

    if (fo->count > 1) {
        struct evidence ev = fo->ev;
        char t[48];
        eve_format_time(fo->first_us, t, sizeof(t));
        detect__ev_add(&ev, "repeats_since=%s", t);
        if (fo->by_source)
            fold_sample(&ev, fo);
        d->st.fold_reports++;
        emit(d, &fo->flow, fo->rule, fo->last_us, fo->count - 1, &ev, NULL, fo);
    }
    fo->key = 0;
    i = (size_t)(fo - d->folds);
    d->fold_used[i / 64] &= ~(1ull << (i % 64));
}

/*
 * The open folds, for walks over them all: the table is 2 MB of mostly empty slots, which a
 * walk would otherwise read through (each of its pages faulted in, at exit, just to find it
 * empty). Calls fn for each; fn may close the fold.
 */
void detect__folds_each(struct detect *d, void (*fn)(struct detect *, struct fold *, void *),
                        void *arg)
{
    size_t w;

    for (w = 0; w < MM_DEDUP_SLOTS / 64; w++) {
        uint64_t bits;
        for (bits = d->fold_used[w]; bits != 0; bits &= bits - 1)
            fn(d, &d->folds[w * 64 + (size_t)__builtin_ctzll(bits)], arg);
    }
}

/* An entry whose until has passed (packet time) applies no more; said once in the log. */
static int ended(struct detect *d, unsigned i, const struct fctx *x)
{
    const struct config_suppress *s = &d->cfg->suppress[i];

    if (s->until_s == 0 || (int64_t)(x->now / 1000000) < s->until_s)
        return 0;
    if (!d->supp[i].ended) {
        d->supp[i].ended = 1;
        log_info("%s:%u:%u: suppression%s%s ended: the alerts it silenced are reported again",
                 d->cfg->source, s->line, s->col, s->reason ? " for " : "",
                 s->reason ? s->reason : "");
    }
    return 1;
}

/* Whether a suppress entry silences rule ri here; its count goes up when one does. */
static int suppressed(struct detect *d, unsigned ri, const struct fctx *x,
                      const struct evidence *ev)
{
    const struct rule *r = &d->rs->r[ri];
    unsigned i;

    for (i = 0; i < d->cfg->nsuppress; i++) {
        const struct config_suppress *s = &d->cfg->suppress[i];
        unsigned cat = ev->category ? ev->category - 1u : r->category;
        if ((s->category ? s->category - 1u == cat : d->supp[i].rule == (int)ri) &&
            config_hostset_has(&s->src, x->src, x->sz) &&
            config_hostset_has(&s->dst, x->dst, x->dz) &&
            (s->port == 0 || s->port == flow_dst_port(x->f)) && !ended(d, i, x)) {
            d->supp[i].count++;
            return 1;
        }
    }
    return 0;
}

/* The latest occurrence a fold reports: the flow without the pointers that die with it. */
static void fold_keep(struct fold *fo, const struct flow *f, const struct evidence *ev)
{
    fo->flow = *f;
    fo->flow.app.meta = NULL;
    fo->flow.app.state = NULL;
    fo->flow.app.med = NULL;
    fo->ev = *ev;
}

/*
 * A rule fired on the flow in x. scope says what "the same alert" means for folding: the
 * address pair, the source alone, or the destination (server) alone.
 */
void detect__raise_alert(struct detect *d, struct fctx *x, unsigned ri, enum scope scope,
                         const struct evidence *ev)
{
    const struct rule *r = &d->rs->r[ri];
    uint8_t buf[36] = {0};
    struct fold *fo, *victim = NULL;
    struct evidence first;
    uint64_t key;
    unsigned i, h;
    struct response_outcome ro = {0};

    if (r->fold != FOLD_DEFAULT)
        scope = r->fold == FOLD_SOURCE ? SCOPE_SRC : r->fold == FOLD_PAIR ? SCOPE_PAIR : SCOPE_DST;
    if (suppressed(d, ri, x, ev)) {
        d->st.suppressed++;
        return;
    }
    x->f->flags |= FLOW_F_ALERTED;
    /* Every match is answered, folded or not: a repeat is a new connection to end. */
    if (d->resp != NULL)
        response_match(d->resp, r, x->f, x->now, &ro);
    memcpy(buf, &r->sid, sizeof(r->sid)); /* the rule's id: stable across reloads */
    if (scope != SCOPE_DST)
        memcpy(buf + 4, x->src, 16);
    if (scope != SCOPE_SRC)
        memcpy(buf + 20, x->dst, 16);
    key = detect__hash(0, buf, sizeof(buf));
    h = (unsigned)(key ^ (key >> 32));
    for (i = 0; i < MM_DEDUP_PROBE; i++) {
        fo = &d->folds[(h + i) & (MM_DEDUP_SLOTS - 1)];
        if (fo->key == key) {
            if (x->now < fo->expires_us) {
                fo->count++;
                fo->last_us = x->now;
                fold_keep(fo, x->f, ev);
                if (fo->by_source)
                    fold_dest(fo, x->dst);
                d->st.folded++;
                return;
            }
            detect__fold_close(d, fo);
            victim = fo;
            break;
        }
        if (fo->key == 0 && victim == NULL)
            victim = fo;
    }
    if (victim == NULL) { /* all busy: close the fold that would end first */
        for (i = 0; i < MM_DEDUP_PROBE; i++) {
            fo = &d->folds[(h + i) & (MM_DEDUP_SLOTS - 1)];
            if (victim == NULL || fo->expires_us < victim->expires_us)
                victim = fo;
        }
        d->st.fold_evictions++;
        detect__fold_close(d, victim);
    }
    victim->key = key;
    i = (unsigned)(victim - d->folds);
    d->fold_used[i / 64] |= 1ull << (i % 64);
    victim->rule = ri;
    victim->count = 1;
    victim->first_us = victim->last_us = x->now;
    victim->expires_us = x->now + (uint64_t)r->dedup_s * US;
    if (victim->expires_us < d->next_expiry_us)
        d->next_expiry_us = victim->expires_us;
    fold_keep(victim, x->f, ev);
    victim->by_source = r->fold == FOLD_SOURCE;
    victim->ndests = 0;
    victim->more = 0;
    if (!victim->by_source) {
        emit(d, x->f, ri, x->now, 1, ev, &ro, victim);
        return;
    }
    fold_dest(victim, x->dst);
    /* Said at once: one host reaching many places gives one alert, not one each. */
    first = *ev;
    detect__ev_add(&first, "more_from_source=one report after %us", r->dedup_s);
    emit(d, x->f, ri, x->now, 1, &first, &ro, victim);
}
