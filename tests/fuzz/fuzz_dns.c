/*
 * Fuzz target for the DNS answer parser: the input is one UDP payload. The promises checked:
 * the result is 1, 0 or MM_EINVAL; the name asked is terminated inside its buffer and written
 * in printable ASCII only (whatever bytes its labels held); no more answers than there is room
 * for.
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
    return 0;
}
