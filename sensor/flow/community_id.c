/*
 * Community ID v1. The hash input is seed (2 bytes), the two addresses and ports ordered so
 * that both directions give the same string, the protocol and a zero pad byte; ICMP types with
 * a reply counterpart are mapped so request and reply agree. SHA-1 comes from libgcrypt (the
 * library Debian's nDPI already depends on); this file is its only user.
 */
#include <string.h>

#include <gcrypt.h>
#include <pthread.h>

#include "mimamori/community_id.h"
#include "mimamori/error.h"

/* Request/reply pairs from the spec; a type without one makes the flow one-way. */
static int icmp_counterpart(uint8_t proto, uint8_t type, uint8_t *peer)
{
    static const uint8_t v4[][2] = {{8, 0},   {0, 8},  {13, 14}, {14, 13}, {15, 16},
                                    {16, 15}, {10, 9}, {9, 10},  {17, 18}, {18, 17}};
    static const uint8_t v6[][2] = {{128, 129}, {129, 128}, {133, 134}, {134, 133},
                                    {135, 136}, {136, 135}, {130, 131}, {131, 130},
                                    {139, 140}, {140, 139}, {144, 145}, {145, 144}};
    const uint8_t(*map)[2] = proto == 1 ? v4 : v6;
    size_t i, n = proto == 1 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);

    for (i = 0; i < n; i++) {
        if (map[i][0] == type) {
            *peer = map[i][1];
            return 1;
        }
    }
    return 0;
}

static int is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, 12) == 0;
}

static void base64(const uint8_t *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = tab[v >> 18 & 63];
        *out++ = tab[v >> 12 & 63];
        *out++ = tab[v >> 6 & 63];
        *out++ = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        *out++ = tab[v >> 18 & 63];
        *out++ = tab[v >> 12 & 63];
        *out++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
        *out++ = '=';
    }
    *out = '\0';
}

/* libgcrypt is set up once, whichever thread (a worker, the output thread) asks first. */
static pthread_once_t gcrypt_once = PTHREAD_ONCE_INIT;

static void gcrypt_init(void)
{
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        gcry_check_version(NULL);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
}

int community_id_v1(const uint8_t src[16], const uint8_t dst[16], uint16_t sport, uint16_t dport,
                    uint8_t proto, uint16_t seed, char *out, size_t outlen)
{
    uint8_t buf[2 + 16 + 16 + 2 + 4], digest[20];
    const uint8_t *a = src, *b = dst;
    uint16_t pa = sport, pb = dport;
    size_t alen, n = 0;
    int ports = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
    int one_way = 0;

    pthread_once(&gcrypt_once, gcrypt_init);
    if (outlen < COMMUNITY_ID_LEN || is_v4_mapped(src) != is_v4_mapped(dst))
        return MM_EINVAL;
    alen = is_v4_mapped(src) ? 4 : 16;

    if (proto == 1 || proto == 58) {
        uint8_t peer;
        if (icmp_counterpart(proto, (uint8_t)sport, &peer))
            pb = peer;
        else
            one_way = 1;
    }
    if (!one_way) {
        int c = memcmp(src + 16 - alen, dst + 16 - alen, alen);
        if (c > 0 || (c == 0 && ports && pa > pb)) {
            uint16_t t = pa;
            a = dst;
            b = src;
            pa = pb;
            pb = t;
        }
    }

    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, a + 16 - alen, alen);
    n += alen;
    memcpy(buf + n, b + 16 - alen, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    if (ports) {
        buf[n++] = (uint8_t)(pa >> 8);
        buf[n++] = (uint8_t)pa;
        buf[n++] = (uint8_t)(pb >> 8);
        buf[n++] = (uint8_t)pb;
    }
    gcry_md_hash_buffer(GCRY_MD_SHA1, digest, buf, n);
    out[0] = '1';
    out[1] = ':';
    base64(digest, sizeof(digest), out + 2);
    return 0;
}
