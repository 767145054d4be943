/*
 * SNMP messages, as far as the obsolete-protocol rules need them: the version, whether the
 * community (v1 and v2c send it in clear text) is one of the well-known defaults, and whether
 * the message is an agent's answer. The community string itself is never kept or returned.
 * Pure: no allocation, no I/O, every read bounds-checked.
 */
#ifndef MIMAMORI_SNMP_H
#define MIMAMORI_SNMP_H

#include <stdint.h>

enum snmp_version { SNMP_V1 = 0, SNMP_V2C = 1, SNMP_V3 = 3 };

struct snmp_msg {
    uint8_t version;           /* enum snmp_version */
    uint8_t default_community; /* v1/v2c: the community is a well-known default ("public") */
    uint8_t response;          /* v1/v2c: a GetResponse (an agent's answer) */
};

/* Read one SNMP message (the UDP payload). 0, or -1 when it is not one. */
int snmp_parse(const uint8_t *p, uint32_t n, struct snmp_msg *out);

#endif
