/*
 * The outputs and delivery sections of the config: file and syslog outputs with the keys each
 * type takes, TLS material that must be readable, and the queue and spool settings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mimamori/syslog.h"

#include "config/config_int.h"

/* An output's "types": alert, flow, stats, inventory. */
static void parse_types(struct loader *L, const struct ynode *n, unsigned *types)
{
    static const char *const names[] = {"alert", "flow", "stats", "inventory"};

    *types = 0;
    ydoc_flags(&L->w, n, "output types", "event type", names, 4, types);
    if (n->kind == YN_LIST && n->n == 0)
        ydoc_error(&L->w, n, "output types is an empty list");
}

/* A readable file named by a key (TLS material). */
static char *parse_file(struct loader *L, const struct ynode *v, const char *what)
{
    const char *s = ydoc_string(&L->w, v, what);

    if (s == NULL)
        return NULL;
    if (access(s, R_OK) != 0) {
        ydoc_error(&L->w, v, "%s '%s' cannot be read: %s", what, s, strerror(errno));
        return NULL;
    }
    return config__dup(L, v, s);
}

static int find_key(const struct ynode *map, const char *key)
{
    size_t i;

    for (i = 0; i < map->n; i++)
        if (YDOC_KEY(map, i)->kind == YN_SCALAR && strcmp(YDOC_KEY(map, i)->str, key) == 0)
            return 1;
    return 0;
}

/* "host:port", "[v6]:port". */
static int address_valid(const char *a)
{
    const char *colon = strrchr(a, ':');
    char *end;
    unsigned long port;

    if (colon == NULL || colon == a)
        return 0;
    if (a[0] == '[' && colon[-1] != ']')
        return 0;
    if (a[0] != '[' && memchr(a, ':', (size_t)(colon - a)) != NULL)
        return 0; /* a bare IPv6 address needs brackets */
    port = strtoul(colon + 1, &end, 10);
    return *end == '\0' && port > 0 && port < 65536;
}

/* The type key decides which keys are allowed and the defaults; 0 when it is missing or wrong. */
static int output_type(struct loader *L, const struct ynode *n, struct config_output *o)
{
    const struct ynode *type_node = n;
    const char *type = NULL;
    size_t i;

    for (i = 0; i < n->n; i++)
        if (YDOC_KEY(n, i)->kind == YN_SCALAR && strcmp(YDOC_KEY(n, i)->str, "type") == 0) {
            type = ydoc_string(&L->w, YDOC_VAL(n, i), "outputs type");
            type_node = YDOC_VAL(n, i);
        }
    if (type == NULL) {
        ydoc_error(&L->w, type_node, "output has no type (file or syslog)");
        return 0;
    }
    if (strcmp(type, "file") == 0) {
        o->type = OUTPUT_FILE;
        o->types = OUTPUT_EV_ALL;
        o->rotate_keep = 5;
    } else if (strcmp(type, "syslog") == 0) {
        o->type = OUTPUT_SYSLOG;
        o->types = 1u << OUTPUT_EV_ALERT | 1u << OUTPUT_EV_STATS;
        o->facility = 16; /* local0 */
        o->max_message = 8192;
        o->max_rate = 2000;
    } else {
        ydoc_error(&L->w, type_node, "unknown output type '%s' (file or syslog)", type);
        return 0;
    }
    return 1;
}

/* A key whose value is a string. */
static void output_string(struct loader *L, const char *k, const struct ynode *v,
                          struct config_output *o)
{
    const char *s = ydoc_string(&L->w, v, k);

    if (s == NULL)
        return;
    if (strcmp(k, "path") == 0) {
        o->path = config__dup(L, v, s);
        o->line = v->line;
        o->col = v->col;
    } else if (strcmp(k, "server_name") == 0) {
        o->server_name = config__dup(L, v, s);
    } else if (strcmp(k, "transport") == 0) {
        if (strcmp(s, "udp") != 0 && strcmp(s, "tcp") != 0 && strcmp(s, "tls") != 0)
            ydoc_error(&L->w, v, "unknown transport '%s' (udp, tcp or tls)", s);
        else
            o->transport = config__dup(L, v, s);
    } else if (strcmp(k, "address") == 0) {
        if (!address_valid(s))
            ydoc_error(&L->w, v, "address '%s' must be host:port ([v6]:port)", s);
        else
            o->address = config__dup(L, v, s);
    } else if (strcmp(k, "facility") == 0) {
        int fac = syslog_facility(s);
        if (fac < 0)
            ydoc_error(&L->w, v,
                       "unknown facility '%s' (local0..local7, user, daemon, auth, authpriv)", s);
        else
            o->facility = (unsigned)fac;
    }
}

/* One key of an output, already known to be allowed for its type. */
static void output_key(struct loader *L, const char *k, const struct ynode *v,
                       struct config_output *o)
{
    uint32_t u;

    if (strcmp(k, "types") == 0) {
        parse_types(L, v, &o->types);
    } else if (strcmp(k, "rotate_size") == 0) {
        ydoc_size(&L->w, v, "rotate_size", &o->rotate_size);
    } else if (strcmp(k, "rotate_keep") == 0) {
        if (ydoc_uint(&L->w, v, "rotate_keep", 1, 100, &u))
            o->rotate_keep = u;
    } else if (strcmp(k, "max_message") == 0) {
        if (ydoc_uint(&L->w, v, "max_message", 480, 65507, &u))
            o->max_message = u;
    } else if (strcmp(k, "max_rate") == 0) {
        if (ydoc_uint(&L->w, v, "max_rate", 1, 1000000, &u))
            o->max_rate = u;
    } else if (strcmp(k, "ca") == 0) {
        o->ca = parse_file(L, v, "ca");
    } else if (strcmp(k, "cert") == 0) {
        o->cert = parse_file(L, v, "cert");
    } else if (strcmp(k, "key") == 0) {
        o->key = parse_file(L, v, "key");
    } else {
        output_string(L, k, v, o);
    }
}

/* What an output needs as a whole, and keys that only one transport takes. */
static void output_check(struct loader *L, const struct ynode *n, struct config_output *o)
{
    if (o->type == OUTPUT_FILE && o->path == NULL)
        ydoc_error(&L->w, n, "file output needs a path");
    if (o->type != OUTPUT_SYSLOG)
        return;
    if (o->transport == NULL && !find_key(n, "transport"))
        ydoc_error(&L->w, n, "syslog output needs a transport (udp, tcp or tls)");
    if (o->address == NULL)
        ydoc_error(&L->w, n, "syslog output needs an address (host:port)");
    if (o->transport != NULL && strcmp(o->transport, "udp") != 0 &&
        (find_key(n, "max_message") || find_key(n, "max_rate")))
        ydoc_error(&L->w, n, "max_message and max_rate are for transport udp");
    if (o->transport != NULL && strcmp(o->transport, "tls") != 0 &&
        (o->ca || o->cert || o->key || o->server_name))
        ydoc_error(&L->w, n, "ca, cert, key and server_name are for transport tls");
    if ((o->cert != NULL) != (o->key != NULL))
        ydoc_error(&L->w, n, "a client certificate needs both cert and key");
}

static void parse_output(struct loader *L, const struct ynode *n, struct config_output *o)
{
    static const char *const file_keys[] = {"type", "path", "types", "rotate_size", "rotate_keep"};
    static const char *const syslog_keys[] = {"type",     "transport",   "address",    "types",
                                              "facility", "max_message", "max_rate",   "ca",
                                              "cert",     "key",         "server_name"};
    const char *const *allowed = file_keys;
    size_t nallowed = sizeof(file_keys) / sizeof(file_keys[0]), i, j;

    if (!output_type(L, n, o))
        return;
    if (o->type == OUTPUT_SYSLOG) {
        allowed = syslog_keys;
        nallowed = sizeof(syslog_keys) / sizeof(syslog_keys[0]);
    }
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        if (k == NULL || strcmp(k, "type") == 0)
            continue;
        for (j = 0; j < nallowed && strcmp(allowed[j], k) != 0; j++)
            ;
        if (j == nallowed)
            ydoc_error(&L->w, YDOC_KEY(n, i), "unknown key '%s' in a %s output", k,
                       o->type == OUTPUT_FILE ? "file" : "syslog");
        else
            output_key(L, k, YDOC_VAL(n, i), o);
    }
    output_check(L, n, o);
}

/* delivery: queue_events, spool_directory, spool_max_size, drain_timeout, timeout. */
void config__parse_delivery(struct loader *L, const struct ynode *n)
{
    struct config_delivery *d = &L->c->delivery;
    const char *s;
    uint32_t u;
    size_t i;

    if (!ydoc_want(&L->w, n, YN_MAP, "delivery"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i);
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "queue_events") == 0) {
            if (ydoc_uint(&L->w, v, "delivery.queue_events", 16, 16777216, &u))
                d->queue_events = u;
        } else if (strcmp(k, "spool_directory") == 0) {
            if ((s = ydoc_string(&L->w, v, "delivery.spool_directory")) == NULL)
                continue;
            if (s[0] != '/') {
                ydoc_error(&L->w, v, "delivery.spool_directory must be an absolute path");
                continue;
            }
            free(d->spool_dir);
            d->spool_dir = config__dup(L, v, s);
        } else if (strcmp(k, "spool_max_size") == 0) {
            ydoc_size(&L->w, v, "delivery.spool_max_size", &d->spool_max);
        } else if (strcmp(k, "drain_timeout") == 0) {
            ydoc_duration(&L->w, v, "delivery.drain_timeout", &d->drain_s);
        } else if (strcmp(k, "timeout") == 0) {
            if (ydoc_duration(&L->w, v, "delivery.timeout", &u))
                d->timeout_ms = u * 1000u;
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key 'delivery.%s' (queue_events, spool_directory, "
                       "spool_max_size, drain_timeout, timeout)",
                       k);
        }
    }
}

void config__parse_outputs(struct loader *L, const struct ynode *n)
{
    size_t i;

    if (!ydoc_want(&L->w, n, YN_LIST, "outputs"))
        return;
    if ((L->c->outputs = calloc(n->n + 1, sizeof(struct config_output))) == NULL) {
        ydoc_error(&L->w, n, "out of memory");
        return;
    }
    for (i = 0; i < n->n; i++)
        if (ydoc_want(&L->w, n->items[i], YN_MAP, "an output"))
            parse_output(L, n->items[i], &L->c->outputs[L->c->noutputs++]);
}
