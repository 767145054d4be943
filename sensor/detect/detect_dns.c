/*
 * DNS tunnels and exfiltration: names that carry data (dnscache_data_chars: long, high-entropy
 * labels left of the registered domain) counted per client and registered domain. iodine,
 * dnscat2 and data smuggled out in lookups ask for many such names under one domain; a host
 * name, however long, is asked for again and again. Each distinct name is counted once within
 * the window; threshold of them raise the alert, which names the domain, never the labels.
 */
#include <stdio.h>
#include <string.h>

#include "mimamori/detect.h"
#include "mimamori/rules.h"

#include "detect_int.h"

#define DNS_DOMAIN_KEY 128 /* bytes of a registered domain in the counting key */

static const char *qtype_name(uint16_t t, char *buf, size_t len)
{
    switch (t) {
    case 1:
        return "A";
    case 5:
        return "CNAME";
    case 10:
        return "NULL";
    case 15:
        return "MX";
    case 16:
        return "TXT";
    case 28:
        return "AAAA";
    default:
        snprintf(buf, len, "TYPE%u", t);
        return buf;
    }
}

int detect__eval_dns_tunnel(struct detect *d, struct fctx *x, unsigned ri, const char *name,
                            int reg, uint16_t qtype, unsigned chars)
{
    const struct rule *r = &d->rs->r[ri];
    const char *domain = reg >= 0 ? name + reg : "";
    struct track_entry *e;
    struct evidence ev;
    uint8_t buf[16 + DNS_DOMAIN_KEY];
    size_t dl = strlen(domain), i;
    char t[16], shown[DNS_DOMAIN_KEY + 1];
    unsigned n;

    if (!detect__in_scope(r, x))
        return 0;
    if (dl > DNS_DOMAIN_KEY)
        dl = DNS_DOMAIN_KEY;
    memcpy(buf, x->src, 16);
    memcpy(buf + 16, domain, dl);
    e = detect__track_get(d->track[ri], detect__hash(ri, buf, (unsigned)(16 + dl)), x->now);
    n = detect__track_distinct(d->track[ri], e, detect__hash(0, name, (unsigned)strlen(name)),
                               x->now, (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    detect__ev_clear(&ev);
    for (i = 0; i < dl; i++) /* raw bytes as sent: only printable ones reach the event */
        shown[i] = domain[i] > ' ' && domain[i] < 0x7f ? domain[i] : '?';
    shown[dl] = '\0';
    detect__ev_add(&ev, "domain=%s", reg >= 0 ? shown : "(no top-level domain)");
    detect__ev_add(&ev, "data_names=%u", n);
    detect__ev_add(&ev, "window_s=%u", r->window_s);
    detect__ev_add(&ev, "data_chars=%u", chars);
    detect__ev_add(&ev, "qtype=%s", qtype_name(qtype, t, sizeof(t)));
    detect__ev_addr(&ev, "resolver", x->dst);
    detect__raise_alert(d, x, ri, SCOPE_SRC, &ev);
    return 1;
}
