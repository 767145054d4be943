/*
 * Community ID flow hash, version 1 (corelight/community-id-spec): a string that names a flow
 * the same way in Mimamori, Suricata and Zeek, so a SIEM can join their records.
 */
#ifndef MIMAMORI_COMMUNITY_ID_H
#define MIMAMORI_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#define COMMUNITY_ID_LEN 31 /* "1:" + 28 base64 characters + NUL */

/*
 * Compute "1:<base64 SHA-1>" into out (at least COMMUNITY_ID_LEN bytes). Addresses are 16 bytes,
 * IPv4 as IPv4-mapped IPv6. For TCP, UDP and SCTP the ports are ports; for ICMP and ICMPv6 they
 * are type and code. Other protocols ignore them. Returns 0 or MM_EINVAL.
 */
int community_id_v1(const uint8_t src[16], const uint8_t dst[16], uint16_t sport, uint16_t dport,
                    uint8_t proto, uint16_t seed, char *out, size_t outlen);

#endif
