/*
 * Names a UDP packet gives addresses, for the inventory: NetBIOS name service registrations,
 * refreshes and positive answers (a host's own unique name, not group names), mDNS and LLMNR
 * answers about their sender (a host announcing itself), and DNS answers (A, AAAA and PTR
 * records from the site's resolvers). Pure: no allocation, every read bounds-checked.
 */
#ifndef MIMAMORI_NAMES_H
#define MIMAMORI_NAMES_H

#include <stdint.h>

#define NAMES_LEN 64 /* bytes of a name kept, NUL included */
#define NAMES_MAX 8  /* names read from one packet */

enum name_source { NAME_NETBIOS = 0, NAME_MDNS, NAME_LLMNR, NAME_DNS };

struct host_name {
    uint8_t ip[16]; /* IPv4-mapped for IPv4 */
    char name[NAMES_LEN];
    uint8_t source; /* enum name_source */
};

/* Whether a UDP packet between these ports can name hosts (NetBIOS 137, mDNS, LLMNR, DNS). */
static inline int names_port(uint16_t sport, uint16_t dport)
{
    return sport == 137 || dport == 137 || sport == 5353 || sport == 5355 || sport == 53;
}

/*
 * The names the UDP payload p of n bytes gives, sent from sender's port sport to dport, into
 * out (at most max); returns how many.
 */
unsigned names_from_udp(const uint8_t *p, uint32_t n, uint16_t sport, uint16_t dport,
                        const uint8_t sender[16], struct host_name *out, unsigned max);

#endif
