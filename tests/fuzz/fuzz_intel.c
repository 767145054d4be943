/*
 * Fuzz target for the threat-intelligence feed readers (plain list, MISP CSV, STIX via
 * jansson): the input is a feed file, its first byte picking the format (or the sniffing).
 * The promises checked: a feed loads whole, or is refused with a message naming the feed and
 * nothing of it kept (the table holds what it held before); lookups of the input's own bytes
 * as an address, a name, a URL and a hash end without fault on either table.
 */
#define _GNU_SOURCE /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "mimamori/intel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char base[] = "192.0.2.1\nbase.example\n";
    struct intel_load_stats st;
    struct intel_hit h;
    struct intel *in;
    char err[256], text[512];
    uint8_t addr[16] = {0};
    size_t before;
    FILE *f;
    int r;

    if (size < 1 || intel_create(&in) != 0)
        return 0;
    f = fmemopen((void *)base, sizeof(base) - 1, "r");
    FUZZ_ASSERT(
        intel_load_stream(in, 0, f, "base", INTEL_PLAIN, 1700000000, &st, err, sizeof(err)) == 0);
    fclose(f);
    before = intel_count(in);
    if ((f = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1, "r")) != NULL) {
        r = intel_load_stream(in, 1, f, "feed", (enum intel_format)(data[0] % 4), 1700000000, &st,
                              err, sizeof(err));
        fclose(f);
        FUZZ_ASSERT(r == 0 || r == MM_EINVAL || r == MM_ENOMEM);
        FUZZ_ASSERT(r == 0 || (intel_count(in) == before && strncmp(err, "feed", 4) == 0));
    }
    memcpy(addr, data, size < 16 ? size : 16);
    snprintf(text, sizeof(text), "%.*s", (int)(size < 511 ? size : 511), (const char *)data);
    intel_match_addr(in, addr, 1700000000, &h);
    intel_match_domain(in, text, 1700000000, &h);
    intel_match_url(in, text, 1700000000, &h);
    intel_match_hash(in, INTEL_JA3, text, 1700000000, &h);
    FUZZ_ASSERT(intel_match_domain(in, "www.base.example", 1700000000, &h) == 1);
    intel_destroy(in);
    return 0;
}
