/*
 * The report's inventory input: lines of mimamori --inventory (devices: zone, first name, end
 * of support) and of --connections (external parties: direction, protocols, the devices that
 * talked to them), told apart by their fields, so one option takes either file.
 */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

static char *dup_str(json_t *v)
{
    const char *s = json_string_value(v);

    return strdup(s != NULL ? s : "");
}

/* The strings of an array joined by ", " (names, protocols, devices). */
static char *joined(json_t *arr)
{
    size_t i, len = 0;
    char *out = calloc(1, 1), *grown;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL || out == NULL)
            continue;
        if ((grown = realloc(out, len + strlen(s) + 3)) == NULL)
            break;
        out = grown;
        len += (size_t)sprintf(out + len, "%s%s", len ? ", " : "", s);
    }
    return out;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    void *g;

    if (n < *cap)
        return 0;
    if ((g = realloc(*arr, (*cap ? *cap * 2 : 64) * size)) == NULL)
        return MM_ENOMEM;
    *arr = g, *cap = *cap ? *cap * 2 : 64;
    return 0;
}

static uint64_t count(json_t *o, const char *obj, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(json_object_get(o, obj), key));

    return v > 0 ? (uint64_t)v : 0;
}

static int take_party(struct report *r, json_t *o)
{
    struct report_party *p;

    if (grow((void **)&r->parties, &r->parties_cap, r->nparties, sizeof(*p)) < 0)
        return MM_ENOMEM;
    p = &r->parties[r->nparties++];
    p->ip = dup_str(json_object_get(o, "ip"));
    p->names = joined(json_object_get(o, "names"));
    p->direction = dup_str(json_object_get(o, "direction"));
    p->protocols = joined(json_object_get(o, "protocols"));
    p->devices = joined(json_object_get(o, "devices"));
    p->remote_access = json_is_true(json_object_get(o, "remote_access"));
    p->flows = count(o, "flows", "outbound") + count(o, "flows", "inbound");
    p->bytes = count(o, "bytes", "to_party") + count(o, "bytes", "from_party");
    r->have_connections = 1;
    return p->ip && p->names && p->direction && p->protocols && p->devices ? 0 : MM_ENOMEM;
}

static int take_device(struct report *r, json_t *o)
{
    json_t *eos = json_object_get(o, "end_of_support");
    struct report_device *d;

    if (grow((void **)&r->devices, &r->devices_cap, r->ndevices, sizeof(*d)) < 0)
        return MM_ENOMEM;
    d = &r->devices[r->ndevices++];
    d->ip = dup_str(json_object_get(o, "ip"));
    d->name = dup_str(json_array_get(json_object_get(o, "names"), 0));
    d->zone = dup_str(json_object_get(o, "zone"));
    d->eos_product = json_is_object(eos) ? dup_str(json_object_get(eos, "product")) : NULL;
    d->eos_ended = json_is_object(eos) ? dup_str(json_object_get(eos, "ended")) : NULL;
    r->have_inventory = 1;
    return d->ip && d->name && d->zone ? 0 : MM_ENOMEM;
}

static int take_line(void *ud, json_t *o, char *why, size_t whylen)
{
    struct report *r = ud;
    int rc = json_object_get(o, "direction") != NULL ? take_party(r, o) : take_device(r, o);

    if (rc < 0)
        snprintf(why, whylen, "out of memory");
    return rc;
}

int report_read_inventory(struct report *r, const char *path, char *err, size_t errlen)
{
    /* the names of devices and parties name the alerts' hosts too */
    return triage_load_names(r->t, path, take_line, r, err, errlen);
}
