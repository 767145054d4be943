/*
 * SNMP's outer layers in BER (RFC 3416 for v2c, RFC 1157 for v1, RFC 3412 for v3): a SEQUENCE
 * holding the version INTEGER, then for v1 and v2c the community OCTET STRING and a PDU whose
 * tag says its kind. The community is compared with a short list of vendors' and tools'
 * defaults and then forgotten.
 */
#include <string.h>

#include "mimamori/snmp.h"

/* Communities that ship as defaults or that scanners try first. */
static const char *const defaults[] = {"public", "private", "community", "snmp", "admin", "manager",
                                       "cisco",  "default", "monitor",   "read", "write", "secret"};

#define PDU_GET_RESPONSE 0xa2

/* A BER tag and definite length at p[*i]; the content's length, or -1. */
static long ber_header(const uint8_t *p, uint32_t n, uint32_t *i, uint8_t tag)
{
    uint32_t len = 0, k, octets;

    if (*i + 2 > n || p[*i] != tag)
        return -1;
    len = p[*i + 1];
    *i += 2;
    if (len & 0x80) {
        octets = len & 0x7f;
        if (octets == 0 || octets > 3 || *i + octets > n)
            return -1;
        for (len = 0, k = 0; k < octets; k++)
            len = len << 8 | p[(*i)++];
    }
    return len <= n - *i ? (long)len : -1;
}

static int is_default(const uint8_t *s, uint32_t len)
{
    unsigned k;

    for (k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++)
        if (strlen(defaults[k]) == len && memcmp(defaults[k], s, len) == 0)
            return 1;
    return 0;
}

int snmp_parse(const uint8_t *p, uint32_t n, struct snmp_msg *out)
{
    uint32_t i = 0;
    long len;

    memset(out, 0, sizeof(*out));
    if (ber_header(p, n, &i, 0x30) < 0 || (len = ber_header(p, n, &i, 0x02)) != 1)
        return -1;
    out->version = p[i++];
    if (out->version == SNMP_V3)
        return 0;
    if (out->version > SNMP_V2C || (len = ber_header(p, n, &i, 0x04)) < 0)
        return -1;
    out->default_community = (uint8_t)is_default(p + i, (uint32_t)len);
    i += (uint32_t)len;
    if (i >= n || p[i] < 0xa0 || p[i] > 0xa8)
        return -1; /* no PDU where one must be */
    out->response = p[i] == PDU_GET_RESPONSE;
    return 0;
}
