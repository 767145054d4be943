/*
 * The learned baseline kept across restarts, so that a restart neither opens a new learning
 * period (a week without these alerts, learning whatever happens in it) nor forgets what was
 * learned. JSON lines written with jansson: a header naming the format and when learning
 * began, then one edge per line (client, server, transport, port, count, first and last seen;
 * the summaries' markers are written as the IPv6 addresses they are). Saved to a temporary
 * file, flushed and renamed; a line that does not parse is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mimamori/baseline.h"
#include "mimamori/zone.h"

#include "baseline_int.h"
#include "inventory_int.h"

#define STATE_FORMAT  "mimamori-baseline-state"
#define STATE_VERSION 1
#define STATE_WHAT    "Mimamori baseline state"

static int write_all(FILE *fp, const struct edge *e, uint32_t n, uint64_t from_us)
{
    char a[48], b[48];
    uint32_t i;
    int r = 0;

    fprintf(fp, "{\"format\":\"%s\",\"version\":%d,\"learn_from_us\":%llu,\"edges\":%u}\n",
            STATE_FORMAT, STATE_VERSION, (unsigned long long)from_us, n);
    for (i = 0; i < n && r == 0; i++) {
        json_t *o =
            json_pack("[ssiiIII]", zone_addr_str(e[i].cli, a, sizeof(a)),
                      zone_addr_str(e[i].srv, b, sizeof(b)), e[i].l4, e[i].port,
                      (json_int_t)e[i].flows, (json_int_t)e[i].first_us, (json_int_t)e[i].last_us);
        if (o == NULL || json_dumpf(o, fp, JSON_COMPACT) != 0 || fputc('\n', fp) == EOF)
            r = MM_EIO;
        json_decref(o);
    }
    return r;
}

int baseline_save(struct baseline *b, const char *path, char *err, size_t errlen)
{
    uint32_t n;
    uint64_t from_us;
    struct edge *e = baseline__copy(b, &n);
    char tmp[INVENTORY_TMP_LEN];
    FILE *fp;
    int r;

    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return MM_ENOMEM;
    }
    pthread_mutex_lock(&b->mu);
    from_us = b->learn_from_us;
    pthread_mutex_unlock(&b->mu);
    if ((fp = inventory__save_open(path, tmp, err, errlen)) == NULL) {
        free(e);
        return MM_EIO;
    }
    r = write_all(fp, e, n, from_us);
    free(e);
    return inventory__save_close(fp, r, tmp, path, err, errlen);
}

/* One edge line into the table (under the lock); 0, or -1 when it does not parse or fit. */
static int edge_from(struct baseline *b, json_t *o)
{
    const char *cli = json_string_value(json_array_get(o, 0));
    const char *srv = json_string_value(json_array_get(o, 1));
    json_int_t l4 = json_integer_value(json_array_get(o, 2));
    json_int_t port = json_integer_value(json_array_get(o, 3));
    struct edge k, *e;
    int made;

    memset(&k, 0, sizeof(k));
    if (!json_is_array(o) || json_array_size(o) != 7 || cli == NULL || srv == NULL ||
        zone_parse_addr(cli, k.cli) != 0 || zone_parse_addr(srv, k.srv) != 0 || l4 < 0 ||
        l4 > 255 || port < 0 || port > 65535)
        return -1;
    k.l4 = (uint8_t)l4;
    k.port = (uint16_t)port;
    e = baseline__get(b, &k, (uint64_t)json_integer_value(json_array_get(o, 5)), 1, &made);
    if (e == NULL || !made)
        return -1;
    e->flows = (uint32_t)json_integer_value(json_array_get(o, 4));
    e->last_us = (uint64_t)json_integer_value(json_array_get(o, 6));
    return 0;
}

struct loading {
    struct baseline *b;
    unsigned *loaded, *skipped;
};

static void load_line(void *ud, json_t *o, int header)
{
    struct loading *l = ud;

    if (header)
        l->b->learn_from_us = (uint64_t)json_integer_value(json_object_get(o, "learn_from_us"));
    else if (edge_from(l->b, o) == 0)
        ++*l->loaded;
    else
        ++*l->skipped;
}

int baseline_load(struct baseline *b, const char *path, unsigned *loaded, unsigned *skipped,
                  char *err, size_t errlen)
{
    struct loading l = {b, loaded, skipped};
    int rc;

    *loaded = *skipped = 0;
    pthread_mutex_lock(&b->mu);
    rc = inventory__load_lines(path, STATE_FORMAT, STATE_VERSION, STATE_WHAT, load_line, &l, err,
                               errlen);
    pthread_mutex_unlock(&b->mu);
    return rc;
}
