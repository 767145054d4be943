/*
 * Small frame builders for the unit tests: Ethernet, IPv4/IPv6 and L4 headers written byte by
 * byte (big-endian, checksums zero: the decoder does not verify them). Each returns the length
 * written so tests can stack layers.
 */
#ifndef MM_TEST_PKT_BUILD_H
#define MM_TEST_PKT_BUILD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline size_t build_eth(uint8_t *p, uint16_t type)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    memcpy(p, macs, 12);
    put16(p + 12, type);
    return 14;
}

static inline size_t build_ipv4(uint8_t *p, uint8_t proto, const char *src, const char *dst,
                                uint16_t payload_len)
{
    memset(p, 0, 20);
    p[0] = 0x45; /* version 4, IHL 5 */
    put16(p + 2, (uint16_t)(20 + payload_len));
    p[8] = 64;
    p[9] = proto;
    inet_pton(AF_INET, src, p + 12);
    inet_pton(AF_INET, dst, p + 16);
    return 20;
}

static inline size_t build_ipv6(uint8_t *p, uint8_t nh, const char *src, const char *dst,
                                uint16_t payload_len)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, payload_len);
    p[6] = nh;
    p[7] = 64;
    inet_pton(AF_INET6, src, p + 8);
    inet_pton(AF_INET6, dst, p + 24);
    return 40;
}

static inline size_t build_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
    memset(p, 0, 20);
    put16(p, sport);
    put16(p + 2, dport);
    p[4] = 0x01; /* sequence 0x01000000 */
    p[12] = 5 << 4;
    p[13] = flags;
    put16(p + 14, 65535);
    return 20;
}

static inline size_t build_udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t payload_len)
{
    put16(p, sport);
    put16(p + 2, dport);
    put16(p + 4, (uint16_t)(8 + payload_len));
    put16(p + 6, 0);
    return 8;
}

/* Ethernet + IPv4 + TCP, no payload. */
static inline size_t build_eth_ipv4_tcp(uint8_t *p, const char *src, const char *dst,
                                        uint16_t sport, uint16_t dport, uint8_t flags)
{
    size_t n = build_eth(p, 0x0800);
    n += build_ipv4(p + n, 6, src, dst, 20);
    n += build_tcp(p + n, sport, dport, flags);
    return n;
}

#endif
