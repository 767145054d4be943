/*
 * BOOTP's fixed header (op, htype, hlen, ..., ciaddr at 12, yiaddr at 16, chaddr at 28), the
 * magic cookie at 236, then options as type, length, value until END. A client's address is
 * ciaddr when it has one, else the one it requests (option 50); a server's ACK gives it in
 * yiaddr. A client's vendor class (60) and parameter request list (55) say what system it runs.
 */
#include <stdio.h>
#include <string.h>

#include "mimamori/dhcp.h"
#include "mimamori/zone.h"

#define BOOTP_LEN  236
#define OPT_PAD    0
#define OPT_NAME   12
#define OPT_REQ_IP 50
#define OPT_TYPE   53
#define OPT_PARAMS 55
#define OPT_VENDOR 60
#define OPT_FQDN   81
#define OPT_END    255
#define DHCPACK    5

static void set_ip(struct dhcp_msg *m, const uint8_t *a)
{
    if ((a[0] | a[1] | a[2] | a[3]) == 0)
        return;
    zone_addr_v4(m->ip, a);
    m->has_ip = 1;
}

/* Printable ASCII of len bytes at v into out (size bytes), others left out; spaces if space. */
static void copy_text(char *out, size_t size, const uint8_t *v, unsigned len, int space)
{
    unsigned k, j = 0;

    for (k = 0; k < len && j + 1 < size; k++)
        if ((v[k] > ' ' || (space && v[k] == ' ')) && v[k] < 0x7f)
            out[j++] = (char)v[k];
    out[j] = '\0';
}

/* Option 81 (RFC 4702): flags, two obsolete codes, then the name, in DNS wire form if E. */
static void copy_fqdn(char *out, size_t size, const uint8_t *v, unsigned len)
{
    unsigned k = 3, j = 0;

    out[0] = '\0';
    if (len <= 3)
        return;
    if (!(v[0] & 0x04)) {
        copy_text(out, size, v + 3, len - 3, 0);
        return;
    }
    while (k < len && v[k] != 0 && v[k] < 64 && k + 1 + v[k] <= len) {
        unsigned l = v[k++], i;
        if (j > 0 && j + 1 < size)
            out[j++] = '.';
        for (i = 0; i < l && j + 1 < size; i++, k++)
            if (v[k] > ' ' && v[k] < 0x7f && v[k] != '.')
                out[j++] = (char)v[k];
    }
    out[j] = '\0';
}

/* Option 55 as the decimal list DHCP fingerprints are written in ("1,3,6,15,31,33"). */
static void copy_params(char *out, size_t size, const uint8_t *v, unsigned len)
{
    size_t j = 0;
    unsigned k;

    out[0] = '\0';
    for (k = 0; k < len; k++) {
        int w = snprintf(out + j, size - j, k ? ",%u" : "%u", v[k]);
        if (w < 0 || (size_t)w >= size - j) {
            out[j] = '\0'; /* a whole number or none */
            return;
        }
        j += (size_t)w;
    }
}

int dhcp_parse(const uint8_t *p, uint32_t n, struct dhcp_msg *out)
{
    const uint8_t *req_ip = NULL;
    uint32_t i = BOOTP_LEN + 4;

    memset(out, 0, sizeof(*out));
    if (n < i || (p[0] != 1 && p[0] != 2) || memcmp(p + BOOTP_LEN, "\x63\x82\x53\x63", 4) != 0)
        return -1;
    out->op = p[0];
    if (p[1] == 1 && p[2] == 6) { /* Ethernet */
        memcpy(out->mac, p + 28, 6);
        out->has_mac = 1;
    }
    while (i < n && p[i] != OPT_END) {
        uint8_t t = p[i], len;
        if (t == OPT_PAD) {
            i++;
            continue;
        }
        if (i + 2 > n || i + 2 + (len = p[i + 1]) > n)
            return -1; /* an option runs past the datagram */
        if (t == OPT_TYPE && len == 1)
            out->type = p[i + 2];
        else if (t == OPT_REQ_IP && len == 4)
            req_ip = p + i + 2;
        else if (t == OPT_NAME)
            copy_text(out->hostname, sizeof(out->hostname), p + i + 2, len, 0);
        else if (t == OPT_FQDN)
            copy_fqdn(out->fqdn, sizeof(out->fqdn), p + i + 2, len);
        else if (t == OPT_VENDOR && p[0] == 1)
            copy_text(out->vendor_class, sizeof(out->vendor_class), p + i + 2, len, 1);
        else if (t == OPT_PARAMS && p[0] == 1)
            copy_params(out->params, sizeof(out->params), p + i + 2, len);
        i += 2u + len;
    }
    if (out->op == 1) {
        set_ip(out, p + 12); /* ciaddr: in use already */
        if (!out->has_ip && req_ip != NULL)
            set_ip(out, req_ip);
    } else if (out->type == DHCPACK) {
        set_ip(out, p + 16); /* yiaddr: given */
    }
    return 0;
}
