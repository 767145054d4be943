/*
 * The inventory's state file: what the table holds, kept across restarts. JSON lines written
 * with jansson: a header line naming the format, then one device per line with its raw fields
 * (times in microseconds, protocols by name so that an nDPI upgrade renumbering them does not
 * matter). Saved to a temporary file, flushed to disk and renamed, so a crash leaves the old
 * file or the new one. A line that does not parse is skipped, never fatal: the state is a
 * convenience, the traffic will tell again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mimamori/classify.h"
#include "mimamori/inventory.h"
#include "mimamori/zone.h"

#include "inventory_int.h"

#define STATE_FORMAT  "mimamori-inventory-state"
#define STATE_VERSION 1
#define STATE_WHAT    "Mimamori inventory state"

static json_t *state_of(const struct device *d)
{
    json_t *o = json_object(), *svc = json_array(), *sw = json_object();
    char a[48];
    unsigned i;

    json_object_set_new(o, "ip", json_string(zone_addr_str(d->ip, a, sizeof(a))));
    if (d->has_mac)
        json_object_set_new(o, "mac",
                            json_pack("[iiiiii]", d->mac[0], d->mac[1], d->mac[2], d->mac[3],
                                      d->mac[4], d->mac[5]));
    json_object_set_new(o, "t",
                        json_pack("[IIII]", (json_int_t)d->first_us, (json_int_t)d->last_us,
                                  (json_int_t)d->sent, (json_int_t)d->received));
    json_object_set_new(o, "names",
                        json_pack("[ssssssss]", d->name, d->fqdn, d->dhcp_params, d->netbios,
                                  d->mdns, d->dns, d->ntlm, d->cert));
    for (i = 0; i < d->nsvc; i++) {
        const struct service *s = &d->svc[i];
        json_array_append_new(svc, json_pack("[iissI]", s->l4, s->port,
                                             s->master ? classify_protocol_name(s->master) : "",
                                             s->app ? classify_protocol_name(s->app) : "",
                                             (json_int_t)s->flows));
    }
    json_object_set_new(o, "services", svc);
    for (i = 0; i < EOS_HINT__COUNT; i++)
        if (d->sw[i][0] != '\0')
            json_object_set_new(sw, rules_eos_hint_name((enum eos_hint)i), json_string(d->sw[i]));
    json_object_set_new(o, "software", sw);
    json_object_set_new(o, "ua", json_pack("[sii]", d->ua_nt, d->ua_agree, d->ua_mixed));
    json_object_set_new(o, "ledger", json_pack("[iis]", d->judged, d->pending, d->fw_from));
    json_object_set_new(o, "medical",
                        json_pack("[sssssiIi]", d->ae, d->impl_class, d->hl7_app, d->hl7_facility,
                                  d->hl7_type, d->dicom_did, (json_int_t)d->sop_classes,
                                  d->sop_other));
    if (d->eos.product[0] != '\0')
        json_object_set_new(o, "eos",
                            json_pack("[sssisi]", d->eos.product, d->eos.ended, d->eos.source,
                                      d->eos.hint, d->eos.value, d->eos.pending));
    return o;
}

/* A string of at most size - 1 bytes, cut there; absent or not a string: "". */
static void take(char *out, size_t size, json_t *v)
{
    snprintf(out, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* One device from its line into d (zeroed); 0, or -1 when the line is no device. */
static int device_from(json_t *o, struct device *d)
{
    json_t *v, *e;
    const char *k;
    size_t i;
    int h;
    const char *ip = json_string_value(json_object_get(o, "ip"));

    if (ip == NULL || zone_parse_addr(ip, d->ip) != 0)
        return -1;
    if (json_array_size(v = json_object_get(o, "mac")) == 6) {
        for (i = 0; i < 6; i++)
            d->mac[i] = (uint8_t)json_integer_value(json_array_get(v, i));
        d->has_mac = 1;
    }
    v = json_object_get(o, "t");
    d->first_us = (uint64_t)json_integer_value(json_array_get(v, 0));
    d->last_us = (uint64_t)json_integer_value(json_array_get(v, 1));
    d->sent = (uint64_t)json_integer_value(json_array_get(v, 2));
    d->received = (uint64_t)json_integer_value(json_array_get(v, 3));
    v = json_object_get(o, "names");
    take(d->name, sizeof(d->name), json_array_get(v, 0));
    take(d->fqdn, sizeof(d->fqdn), json_array_get(v, 1));
    take(d->dhcp_params, sizeof(d->dhcp_params), json_array_get(v, 2));
    take(d->netbios, sizeof(d->netbios), json_array_get(v, 3));
    take(d->mdns, sizeof(d->mdns), json_array_get(v, 4));
    take(d->dns, sizeof(d->dns), json_array_get(v, 5));
    take(d->ntlm, sizeof(d->ntlm), json_array_get(v, 6));
    take(d->cert, sizeof(d->cert), json_array_get(v, 7));
    json_array_foreach(json_object_get(o, "services"), i, e)
    {
        struct service *s;
        int id;
        if (d->nsvc == INVENTORY_MAX_SERVICES)
            break;
        s = &d->svc[d->nsvc++];
        s->l4 = (uint8_t)json_integer_value(json_array_get(e, 0));
        s->port = (uint16_t)json_integer_value(json_array_get(e, 1));
        id = classify_lookup_protocol(json_string_value(json_array_get(e, 2)) ?: "");
        s->master = id > 0 ? (uint16_t)id : 0;
        id = classify_lookup_protocol(json_string_value(json_array_get(e, 3)) ?: "");
        s->app = id > 0 ? (uint16_t)id : 0;
        s->flows = (uint32_t)json_integer_value(json_array_get(e, 4));
    }
    json_object_foreach(json_object_get(o, "software"), k,
                        e) for (h = 0; h < EOS_HINT__COUNT;
                                h++) if (strcmp(k, rules_eos_hint_name((enum eos_hint)h)) == 0)
        take(d->sw[h], sizeof(d->sw[h]), e);
    v = json_object_get(o, "ua");
    take(d->ua_nt, sizeof(d->ua_nt), json_array_get(v, 0));
    d->ua_agree = (uint8_t)json_integer_value(json_array_get(v, 1));
    d->ua_mixed = json_integer_value(json_array_get(v, 2)) != 0;
    v = json_object_get(o, "ledger");
    d->judged = json_integer_value(json_array_get(v, 0)) != 0;
    d->pending = (uint8_t)json_integer_value(json_array_get(v, 1));
    take(d->fw_from, sizeof(d->fw_from), json_array_get(v, 2));
    v = json_object_get(o, "medical");
    take(d->ae, sizeof(d->ae), json_array_get(v, 0));
    take(d->impl_class, sizeof(d->impl_class), json_array_get(v, 1));
    take(d->hl7_app, sizeof(d->hl7_app), json_array_get(v, 2));
    take(d->hl7_facility, sizeof(d->hl7_facility), json_array_get(v, 3));
    take(d->hl7_type, sizeof(d->hl7_type), json_array_get(v, 4));
    d->dicom_did = (uint8_t)json_integer_value(json_array_get(v, 5));
    d->sop_classes = (uint64_t)json_integer_value(json_array_get(v, 6));
    d->sop_other = json_integer_value(json_array_get(v, 7)) != 0;
    if ((v = json_object_get(o, "eos")) != NULL) {
        take(d->eos.product, sizeof(d->eos.product), json_array_get(v, 0));
        take(d->eos.ended, sizeof(d->eos.ended), json_array_get(v, 1));
        take(d->eos.source, sizeof(d->eos.source), json_array_get(v, 2));
        d->eos.hint = (uint8_t)json_integer_value(json_array_get(v, 3));
        take(d->eos.value, sizeof(d->eos.value), json_array_get(v, 4));
        d->eos.pending = json_integer_value(json_array_get(v, 5)) != 0;
        if (d->eos.hint >= EOS_HINT__COUNT || d->eos.product[0] == '\0')
            memset(&d->eos, 0, sizeof(d->eos));
    }
    return d->first_us <= d->last_us ? 0 : -1;
}

FILE *inventory__save_open(const char *path, char tmp[INVENTORY_TMP_LEN], char *err, size_t errlen)
{
    FILE *fp = NULL;
    int fd;

    snprintf(tmp, INVENTORY_TMP_LEN, "%s.tmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0 ||
        (fp = fdopen(fd, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    return fp;
}

int inventory__save_close(FILE *fp, int failed, const char *tmp, const char *path, char *err,
                          size_t errlen)
{
    if (failed || ferror(fp) || fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno ? errno : EIO));
        fclose(fp);
        unlink(tmp);
        return MM_EIO;
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return MM_EIO;
    }
    return 0;
}

int inventory__load_lines(const char *path, const char *format, int version, const char *what,
                          inventory__line_fn fn, void *ud, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    FILE *fp;
    int first = 1, rc = 0;

    if ((fp = fopen(path, "r")) == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return MM_EIO;
    }
    while (rc == 0 && (len = getline(&line, &cap, fp)) > 0) {
        json_t *o = json_loadb(line, (size_t)len, 0, NULL);
        if (first && (strcmp(json_string_value(json_object_get(o, "format")) ?: "", format) != 0 ||
                      json_integer_value(json_object_get(o, "version")) != version)) {
            snprintf(err, errlen, "%s: not a %s (version %d)", path, what, version);
            rc = MM_EIO;
        } else {
            fn(ud, o, first);
        }
        first = 0;
        json_decref(o);
    }
    free(line);
    fclose(fp);
    return rc;
}

int inventory_save(struct inventory *inv, const char *path, char *err, size_t errlen)
{
    uint32_t n, i;
    struct device *list = inventory__snapshot(inv, &n, NULL);
    char tmp[INVENTORY_TMP_LEN];
    FILE *fp;
    int r = 0;

    if (list == NULL) {
        snprintf(err, errlen, "out of memory");
        return MM_ENOMEM;
    }
    if ((fp = inventory__save_open(path, tmp, err, errlen)) == NULL) {
        free(list);
        return MM_EIO;
    }
    fprintf(fp, "{\"format\":\"%s\",\"version\":%d,\"devices\":%u}\n", STATE_FORMAT, STATE_VERSION,
            n);
    for (i = 0; i < n && r == 0; i++) {
        json_t *o = state_of(&list[i]);
        if (json_dumpf(o, fp, JSON_COMPACT) != 0 || fputc('\n', fp) == EOF)
            r = MM_EIO;
        json_decref(o);
    }
    free(list);
    return inventory__save_close(fp, r, tmp, path, err, errlen);
}

/* Add a loaded device to the table (under the lock): internal, new, and with room. */
static int device_add(struct inventory *inv, const struct device *d)
{
    uint32_t *slot;

    if (inv->n >= inv->max || config_zone_of(inv->cfg, d->ip) == ZONE_INTERNET ||
        *(slot = inventory__slot(&inv->tab, d->ip)) != 0)
        return -1;
    inv->d[inv->n++] = *d;
    *slot = inv->n;
    return 0;
}

struct loading {
    struct inventory *inv;
    unsigned *loaded, *skipped;
};

static void load_line(void *ud, json_t *o, int header)
{
    struct loading *l = ud;
    struct device d;

    if (header)
        return;
    memset(&d, 0, sizeof(d));
    if (device_from(o, &d) == 0 && device_add(l->inv, &d) == 0)
        ++*l->loaded;
    else
        ++*l->skipped;
}

int inventory_load(struct inventory *inv, const char *path, unsigned *loaded, unsigned *skipped,
                   char *err, size_t errlen)
{
    struct loading l = {inv, loaded, skipped};
    int rc;

    *loaded = *skipped = 0;
    pthread_mutex_lock(&inv->mu);
    rc = inventory__load_lines(path, STATE_FORMAT, STATE_VERSION, STATE_WHAT, load_line, &l, err,
                               errlen);
    pthread_mutex_unlock(&inv->mu);
    return rc;
}
