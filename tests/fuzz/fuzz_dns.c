/*
 * Fuzz target for the DNS answer parser: the input is one UDP payload. The promises checked:
 * the result is 1, 0 or MM_EINVAL; the name asked is terminated inside its buffer and written
 * in printable ASCII only (whatever bytes its labels held); no more answers than there is room
 * for. Then the query reader the tunnel rules use: a name terminated inside its buffer, a
 * registered domain inside the name, no more carried characters than the name holds. Then the
 * inventory's name reader (names.h) as NetBIOS, mDNS, LLMNR and DNS by the first byte: at most
 * the names asked for, each terminated inside its buffer and printable.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mimamori/dnscache.h"
#include "mimamori/error.h"
#include "mimamori/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_answers a;
    size_t i;
    int r;

    memset(&a, 0xa5, sizeof(a));
    r = dnscache_parse(data, size, &a);
    FUZZ_ASSERT(r == 1 || r == 0 || r == MM_EINVAL);
    FUZZ_ASSERT(a.n <= MM_DNS_MAX_ANSWERS);
    if (r == 1) {
        for (i = 0; i < sizeof(a.qname) && a.qname[i] != '\0'; i++)
            FUZZ_ASSERT(a.qname[i] > ' ' && a.qname[i] < 0x7f);
        FUZZ_ASSERT(i < sizeof(a.qname));
    }
    if (size > 2) { /* the first byte picks QR, so that queries are tried as often */
        uint8_t msg[512];
        char name[DNS_NAME_MAX];
        uint16_t qtype;
        size_t n = size - 1 < sizeof(msg) ? size - 1 : sizeof(msg);
        memcpy(msg, data + 1, n);
        if (n > 2)
            msg[2] = (uint8_t)((msg[2] & 0x7f) | (data[0] & 0x80));
        if (dnscache_query(msg, n, name, &qtype) == 0) {
            size_t len = strnlen(name, sizeof(name));
            int reg = dnscache_registered(name);
            FUZZ_ASSERT(len < sizeof(name));
            FUZZ_ASSERT(reg >= -1 && reg <= (int)len);
            FUZZ_ASSERT(dnscache_data_chars(name, reg) <= len);
        }
    }
    if (size > 1) {
        static const uint16_t ports[4][2] = {{137, 137}, {5353, 5353}, {5355, 50000}, {53, 5000}};
        static const uint8_t sender[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
        struct host_name h[NAMES_MAX];
        const uint16_t *pp = ports[data[0] & 3];
        unsigned k,
            got = names_from_udp(data + 1, (uint32_t)(size - 1), pp[0], pp[1], sender, h, 3);
        FUZZ_ASSERT(got <= 3);
        for (k = 0; k < got; k++) {
            size_t len = strnlen(h[k].name, sizeof(h[k].name)), j;
            FUZZ_ASSERT(len > 0 && len < sizeof(h[k].name));
            for (j = 0; j < len; j++)
                FUZZ_ASSERT(h[k].name[j] > ' ' && h[k].name[j] < 0x7f);
        }
    }
    return 0;
}
