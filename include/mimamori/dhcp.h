/*
 * DHCP messages (RFC 2131, options RFC 2132) as the inventory needs them: who the client is
 * (its hardware address), which IPv4 address is its (the one it already uses, asks for, or is
 * given), the names it sends (options 12 and 81), and what a client says of its system (vendor
 * class, option 60; the parameter request list, option 55, whose order is a fingerprint). Pure: no
 * allocation, every read bounds-checked.
 */
#ifndef MIMAMORI_DHCP_H
#define MIMAMORI_DHCP_H

#include <stdint.h>

#define DHCP_NAME_LEN 64 /* bytes of a host name, NUL included */

struct dhcp_msg {
    uint8_t op;      /* 1 from a client, 2 from a server */
    uint8_t type;    /* option 53: 1 DISCOVER, 3 REQUEST, 5 ACK, ...; 0 when absent (BOOTP) */
    uint8_t has_mac; /* an Ethernet client hardware address */
    uint8_t has_ip;  /* ip is the client's */
    uint8_t mac[6];
    uint8_t ip[16];                   /* IPv4-mapped */
    char hostname[DHCP_NAME_LEN];     /* printable ASCII, "" when absent */
    char fqdn[DHCP_NAME_LEN];         /* option 81's name, as text */
    char vendor_class[DHCP_NAME_LEN]; /* a client's option 60 ("MSFT 5.0", "android-dhcp-13") */
    char params[DHCP_NAME_LEN];       /* a client's option 55 as "1,3,6,15" (cut at a comma) */
};

/* Read one DHCP message (a UDP payload). 0, or -1 when it is not one. */
int dhcp_parse(const uint8_t *p, uint32_t n, struct dhcp_msg *out);

#endif
