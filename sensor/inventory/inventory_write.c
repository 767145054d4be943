/*
 * The inventory written out: JSON lines with jansson, one device per line, and a CSV for the
 * ledger (台帳) that Japanese Excel opens as it is (UTF-8 with a byte order mark, CRLF), both
 * sorted by address and written to a temporary file renamed over the target.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
    return memcmp(((const struct device *)a)->ip, ((const struct device *)b)->ip, 16);
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
 * names: every distinct name, the most telling first (DHCP host name, NetBIOS, NTLM, mDNS or
 * LLMNR, DNS, TLS certificate, DHCP FQDN); name_sources: which said which.
 */
static void names_json(json_t *o, json_t *names, const struct device *d)
{
    const char *const src[] = {"dhcp", "netbios", "ntlm", "mdns", "dns", "tls_cert", "dhcp_fqdn"};
    const char *const val[] = {d->name, d->netbios, d->ntlm, d->mdns, d->dns, d->cert, d->fqdn};
    json_t *by = json_object();
    size_t i, j;

    for (i = 0; i < sizeof(val) / sizeof(val[0]); i++) {
        if (val[i][0] == '\0')
            continue;
        json_object_set_new(by, src[i], json_string(val[i]));
        for (j = 0; j < i && strcasecmp(val[j], val[i]) != 0; j++)
            ;
        if (j == i)
            json_array_append_new(names, json_string(val[i]));
    }
    json_object_set_new(o, "names", names);
    if (json_object_size(by) > 0)
        json_object_set_new(o, "name_sources", by);
    else
        json_decref(by);
}

/* The SOP classes a device's associations requested, by name ("other" for those unnamed). */
static json_t *sop_classes_json(const struct device *d)
{
    json_t *a = json_array();
    int k;

    for (k = 0; k < 64; k++)
        if ((d->sop_classes >> k) & 1)
            json_array_append_new(a, json_string(dicom_uid_at(k)));
    if (d->sop_other)
        json_array_append_new(a, json_string("other"));
    return a;
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

char *inventory__mac_str(const uint8_t m[6], char out[INVENTORY_MAC_STR])
{
    snprintf(out, INVENTORY_MAC_STR, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
             m[5]);
    return out;
}

/* The record of d, in zone, made by vendor (NULL: unknown). */
static json_t *device_json(const struct device *d, const char *zone, const char *vendor)
{
    char a[48], mac[INVENTORY_MAC_STR], t[40];
    json_t *o = json_object(), *names = json_array(), *svcs = json_array();
    unsigned i;

    json_object_set_new(o, "ip", json_string(zone_addr_str(d->ip, a, sizeof(a))));
    if (d->has_mac) {
        json_object_set_new(o, "mac", json_string(inventory__mac_str(d->mac, mac)));
    } else {
        json_object_set_new(o, "mac", json_null());
    }
    json_object_set_new(o, "vendor", vendor != NULL ? json_string(vendor) : json_null());
    names_json(o, names, d);
    json_object_set_new(o, "zone", json_string(zone));
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
        if (d->sop_classes != 0 || d->sop_other)
            json_object_set_new(m, "sop_classes", sop_classes_json(d));
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

void inventory__snapshot_of(const struct inventory *inv, const struct device *d,
                            struct inventory_snapshot *s)
{
    const char *vendor = d->has_mac ? oui_vendor(inv->oui, d->mac) : NULL;

    s->d = *d;
    snprintf(s->zone, sizeof(s->zone), "%s", inv->cfg->zone_names[config_zone_of(inv->cfg, d->ip)]);
    snprintf(s->vendor, sizeof(s->vendor), "%s", vendor != NULL ? vendor : "");
}

json_t *inventory__snapshot_json(const void *snapshot)
{
    const struct inventory_snapshot *s = snapshot;

    return device_json(&s->d, s->zone, s->vendor[0] != '\0' ? s->vendor : NULL);
}

/* --- CSV for the ledger --------------------------------------------------------------------- */

/*
 * One field: quoted when it holds a comma, quote or line break (quotes doubled, RFC 4180), and
 * one that starts like a formula (= + - @, tab, CR) led by an apostrophe, so a host name a
 * device chose cannot run in the spreadsheet that opens the file.
 */
void inventory__csv_field(FILE *fp, const char *s, int last)
{
    const char *p;
    int quote;

    if (s == NULL)
        s = "";
    quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', fp);
    if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
        fputc('\'', fp);
    for (p = s; *p != '\0'; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    if (quote)
        fputc('"', fp);
    fputs(last ? "\r\n" : ",", fp);
}

void inventory__csv_header(FILE *fp, const char *const *columns, size_t n)
{
    size_t i;

    fputs("\xef\xbb\xbf", fp); /* the BOM by which Excel knows UTF-8 */
    for (i = 0; i < n; i++)
        inventory__csv_field(fp, columns[i], i + 1 == n);
}

static const char *const csv_columns[] = {"ip",
                                          "mac",
                                          "name",
                                          "zone",
                                          "owner",
                                          "vendor",
                                          "names",
                                          "services",
                                          "software",
                                          "end_of_support",
                                          "dicom_ae_title",
                                          "dicom_implementation",
                                          "hl7_application",
                                          "first_seen",
                                          "last_seen",
                                          "bytes_sent",
                                          "bytes_received"};

/* The JSON record's values as the CSV's text: lists joined with "; ". */
void inventory__csv_join(char *out, size_t size, json_t *v, const char *key)
{
    size_t i, j = 0;
    json_t *e;

    out[0] = '\0';
    json_array_foreach(v, i, e)
    {
        const char *s = json_is_string(e) ? json_string_value(e) : NULL;
        char svc[96];
        int w;
        if (key != NULL) { /* a service object */
            snprintf(svc, sizeof(svc), "%s/%d %s", json_string_value(json_object_get(e, "proto")),
                     (int)json_integer_value(json_object_get(e, "port")),
                     json_string_value(json_object_get(e, "protocol")));
            s = svc;
        }
        w = snprintf(out + j, size - j, "%s%s", j ? "; " : "", s != NULL ? s : "");
        if (w < 0 || (size_t)w >= size - j)
            return;
        j += (size_t)w;
    }
}

static void device_csv(FILE *fp, json_t *o)
{
    json_t *sw = json_object_get(o, "software"), *eos = json_object_get(o, "end_of_support");
    json_t *dicom = json_object_get(o, "dicom"), *hl7 = json_object_get(o, "hl7"), *v;
    char names[512], svcs[1024], soft[512] = "", eos_s[128] = "", impl[160] = "", num[2][24];
    const char *k;
    size_t j = 0;

    inventory__csv_join(names, sizeof(names), json_object_get(o, "names"), NULL);
    inventory__csv_join(svcs, sizeof(svcs), json_object_get(o, "services"), "service");
    json_object_foreach(sw, k, v)
    {
        int w = snprintf(soft + j, sizeof(soft) - j, "%s%s: %s", j ? "; " : "", k,
                         json_string_value(v));
        if (w < 0 || (size_t)w >= sizeof(soft) - j)
            break;
        j += (size_t)w;
    }
    if (eos != NULL)
        snprintf(eos_s, sizeof(eos_s), "%s (%s)",
                 json_string_value(json_object_get(eos, "product")),
                 json_string_value(json_object_get(eos, "ended")));
    if (dicom != NULL && json_object_get(dicom, "implementation_class_uid") != NULL)
        snprintf(impl, sizeof(impl), "%s %s",
                 json_string_value(json_object_get(dicom, "implementation_class_uid")),
                 json_string_value(json_object_get(dicom, "implementation_version"))
                     ? json_string_value(json_object_get(dicom, "implementation_version"))
                     : "");
    v = json_object_get(o, "bytes");
    snprintf(num[0], sizeof(num[0]), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(v, "sent")));
    snprintf(num[1], sizeof(num[1]), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(v, "received")));
    inventory__csv_field(fp, json_string_value(json_object_get(o, "ip")), 0);
    inventory__csv_field(fp, json_string_value(json_object_get(o, "mac")), 0);
    inventory__csv_field(fp, json_string_value(json_array_get(json_object_get(o, "names"), 0)), 0);
    inventory__csv_field(fp, json_string_value(json_object_get(o, "zone")), 0);
    inventory__csv_field(fp, "", 0); /* owner: the ledger's to fill */
    inventory__csv_field(fp, json_string_value(json_object_get(o, "vendor")), 0);
    inventory__csv_field(fp, names, 0);
    inventory__csv_field(fp, svcs, 0);
    inventory__csv_field(fp, soft, 0);
    inventory__csv_field(fp, eos_s, 0);
    inventory__csv_field(fp, json_string_value(json_object_get(dicom, "ae_title")), 0);
    inventory__csv_field(fp, impl, 0);
    inventory__csv_field(fp, json_string_value(json_object_get(hl7, "sending_application")), 0);
    inventory__csv_field(fp, json_string_value(json_object_get(o, "first_seen")), 0);
    inventory__csv_field(fp, json_string_value(json_object_get(o, "last_seen")), 0);
    inventory__csv_field(fp, num[0], 0);
    inventory__csv_field(fp, num[1], 1);
}

/* --- both ------------------------------------------------------------------------------------ */

struct device *inventory__snapshot(struct inventory *inv, uint32_t *n,
                                   char (*names)[MM_MAX_ZONE_NAME])
{
    struct device *copy;
    uint32_t i;

    pthread_mutex_lock(&inv->mu);
    *n = inv->n;
    if ((copy = malloc(((size_t)inv->n + 1) * sizeof(*copy))) != NULL) {
        memcpy(copy, inv->d, (size_t)inv->n * sizeof(*copy));
        for (i = 0; inv->cfg != NULL && i < inv->n; i++)
            copy[i].zone = (uint8_t)config_zone_of(inv->cfg, copy[i].ip);
        if (names != NULL && inv->cfg != NULL)
            memcpy(names, inv->cfg->zone_names, sizeof(inv->cfg->zone_names));
    }
    pthread_mutex_unlock(&inv->mu);
    if (copy != NULL)
        qsort(copy, *n, sizeof(*copy), by_address);
    return copy;
}

int inventory_write(struct inventory *inv, const struct oui *oui, const char *path,
                    enum inventory_format format, char *err, size_t errlen)
{
    char names[MM_MAX_ZONES][MM_MAX_ZONE_NAME];
    uint32_t n;
    struct device *list = inventory__snapshot(inv, &n, names);
    char tmp[4096];
    unsigned i;
    FILE *fp;
    int r = 0;

    if (list == NULL) {
        snprintf(err, errlen, "out of memory");
        return MM_ENOMEM;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fp = fopen(tmp, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(list);
        return MM_EIO;
    }
    if (format == INVENTORY_CSV) {
        inventory__csv_header(fp, csv_columns, sizeof(csv_columns) / sizeof(csv_columns[0]));
    }
    for (i = 0; i < n && r == 0; i++) {
        json_t *o = device_json(&list[i], names[list[i].zone],
                                list[i].has_mac ? oui_vendor(oui, list[i].mac) : NULL);
        char *s = NULL;
        if (format == INVENTORY_CSV)
            device_csv(fp, o);
        else if ((s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
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
