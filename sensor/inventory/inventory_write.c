/*
 * The inventory written out: JSON lines with jansson, one device per line, sorted by address
 * and written to a temporary file renamed over the target.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mimamori/classify.h"
#include "mimamori/eve.h"
#include "mimamori/inventory.h"
#include "mimamori/oui.h"
#include "mimamori/zone.h"

#include "inventory_int.h"

/* --- writing ------------------------------------------------------------------------------- */

static int by_address(const void *a, const void *b)
{
    return memcmp((*(const struct device *const *)a)->ip, (*(const struct device *const *)b)->ip,
                  16);
}

/*
 * The protocol a service speaks: nDPI's master protocol where it has one ("DNS" for a resolver,
 * however many applications' names it answered for), else the protocol itself ("SMBv23").
 */
static const char *protocol_name(const struct service *s)
{
    if (s->master != 0)
        return classify_protocol_name(s->master);
    return s->app != 0 ? classify_protocol_name(s->app) : "Unknown";
}

/*
 * software: the latest hint of each kind (DICOM's is in "dicom") and the DHCP parameter list;
 * end_of_support: what flagged the device.
 */
static void software_json(json_t *o, const struct device *d)
{
    json_t *sw = json_object();
    unsigned h;

    for (h = 0; h < EOS_HINT__COUNT; h++)
        if (h != EOS_HINT_DICOM_VERSION && d->sw[h][0] != '\0')
            json_object_set_new(sw, rules_eos_hint_name((enum eos_hint)h), json_string(d->sw[h]));
    if (d->dhcp_params[0] != '\0')
        json_object_set_new(sw, "dhcp_parameters", json_string(d->dhcp_params));
    if (json_object_size(sw) > 0)
        json_object_set_new(o, "software", sw);
    else
        json_decref(sw);
    if (d->eos.product[0] == '\0')
        return;
    sw = json_pack("{ssssssss}", "product", d->eos.product, "ended", d->eos.ended, "hint",
                   rules_eos_hint_name((enum eos_hint)d->eos.hint), "value", d->eos.value);
    if (d->eos.source[0] != '\0')
        json_object_set_new(sw, "source", json_string(d->eos.source));
    json_object_set_new(o, "end_of_support", sw);
}

static json_t *device_json(const struct inventory *inv, const struct device *d,
                           const struct oui *oui)
{
    char a[48], mac[18], t[40];
    const char *vendor = d->has_mac ? oui_vendor(oui, d->mac) : NULL;
    int zone = config_zone_of(inv->cfg, d->ip);
    json_t *o = json_object(), *names = json_array(), *svcs = json_array();
    unsigned i;

    json_object_set_new(o, "ip", json_string(zone_addr_str(d->ip, a, sizeof(a))));
    if (d->has_mac) {
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", d->mac[0], d->mac[1], d->mac[2],
                 d->mac[3], d->mac[4], d->mac[5]);
        json_object_set_new(o, "mac", json_string(mac));
    } else {
        json_object_set_new(o, "mac", json_null());
    }
    json_object_set_new(o, "vendor", vendor != NULL ? json_string(vendor) : json_null());
    if (d->name[0] != '\0')
        json_array_append_new(names, json_string(d->name));
    if (d->fqdn[0] != '\0' && strcmp(d->fqdn, d->name) != 0)
        json_array_append_new(names, json_string(d->fqdn));
    json_object_set_new(o, "names", names);
    json_object_set_new(o, "zone", json_string(inv->cfg->zone_names[zone]));
    eve_format_time(d->first_us, t, sizeof(t));
    json_object_set_new(o, "first_seen", json_string(t));
    eve_format_time(d->last_us, t, sizeof(t));
    json_object_set_new(o, "last_seen", json_string(t));
    for (i = 0; i < d->nsvc; i++) {
        const struct service *s = &d->svc[i];
        json_array_append_new(svcs, json_pack("{sssisssI}", "proto",
                                              s->l4 == 6    ? "TCP"
                                              : s->l4 == 17 ? "UDP"
                                                            : "SCTP",
                                              "port", (int)s->port, "protocol", protocol_name(s),
                                              "flows", (json_int_t)s->flows));
    }
    json_object_set_new(o, "services", svcs);
    if (d->ae[0] != '\0' || d->impl_class[0] != '\0') {
        json_t *m = json_object();
        if (d->ae[0] != '\0')
            json_object_set_new(m, "ae_title", json_string(d->ae));
        if (d->impl_class[0] != '\0')
            json_object_set_new(m, "implementation_class_uid", json_string(d->impl_class));
        if (d->sw[EOS_HINT_DICOM_VERSION][0] != '\0')
            json_object_set_new(m, "implementation_version",
                                json_string(d->sw[EOS_HINT_DICOM_VERSION]));
        json_object_set_new(o, "dicom", m);
    }
    if (d->hl7_app[0] != '\0')
        json_object_set_new(o, "hl7",
                            json_pack("{ssss}", "sending_application", d->hl7_app,
                                      "sending_facility", d->hl7_facility));
    software_json(o, d);
    json_object_set_new(
        o, "bytes",
        json_pack("{sIsI}", "sent", (json_int_t)d->sent, "received", (json_int_t)d->received));
    return o;
}

/* --- the file ------------------------------------------------------------------------------------ */

int inventory_write(const struct inventory *inv, const struct oui *oui, const char *path,
                    char *err, size_t errlen)
{
    const struct device **list = calloc(inv->n + 1, sizeof(*list));
    char tmp[4096];
    unsigned i;
    FILE *fp;
    int r = 0;

    if (list == NULL) {
        snprintf(err, errlen, "out of memory");
        return MM_ENOMEM;
    }
    for (i = 0; i < inv->n; i++)
        list[i] = &inv->d[i];
    qsort(list, inv->n, sizeof(*list), by_address);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fp = fopen(tmp, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(list);
        return MM_EIO;
    }
    for (i = 0; i < inv->n && r == 0; i++) {
        json_t *o = device_json(inv, list[i], oui);
        char *s = NULL;
        if ((s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
                 fprintf(fp, "%s\n", s) < 0)
            r = MM_EIO;
        free(s);
        json_decref(o);
    }
    free(list);
    if (ferror(fp) || fclose(fp) != 0 || r != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return MM_EIO;
    }
    return 0;
}
