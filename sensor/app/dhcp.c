/*
 * BOOTP's fixed header (op, htype, hlen, ..., ciaddr at 12, yiaddr at 16, chaddr at 28), the
 * magic cookie at 236, then options as type, length, value until END. A client's address is
 * ciaddr when it has one, else the one it requests (option 50); a server's ACK gives it in
 * yiaddr.
 */
#include <string.h>

#include "mimamori/dhcp.h"

#define BOOTP_LEN  236
#define OPT_PAD    0
#define OPT_NAME   12
#define OPT_REQ_IP 50
#define OPT_TYPE   53
#define OPT_END    255
#define DHCPACK    5

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_ip(struct dhcp_msg *m, const uint8_t *a)
{
    if ((a[0] | a[1] | a[2] | a[3]) == 0)
        return;
    memcpy(m->ip, v4_mapped, 12);
    memcpy(m->ip + 12, a, 4);
    m->has_ip = 1;
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
        else if (t == OPT_NAME) {
            unsigned k, j = 0;
            for (k = 0; k < len && j + 1 < DHCP_NAME_LEN; k++)
                if (p[i + 2 + k] > ' ' && p[i + 2 + k] < 0x7f)
                    out->hostname[j++] = (char)p[i + 2 + k];
            out->hostname[j] = '\0';
        }
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
