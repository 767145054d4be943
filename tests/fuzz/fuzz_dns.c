/*
 * Fuzz target for the DNS answer parser: the input is one UDP payload. The promises checked:
 * the result is 1, 0 or MM_EINVAL; the name asked is terminated inside its buffer and written
 * in printable ASCII only (whatever bytes its labels held); no more answers than there is room
 * for. Then the query reader the tunnel rules use: a name terminated inside its buffer, a
 * registered domain inside the name, no more carried characters than the name holds.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mimamori/dnscache.h"
#include "mimamori/error.h"

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
    return 0;
}
