/*
 * Fuzz target for the rule compiler: the input is one rule file, compiled against a small
 * site config (two zones) loaded once. A file either compiles, or is refused with at least one
 * message that starts "file:line:col:" and no ruleset; nothing else.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mimamori/config.h"
#include "mimamori/rules.h"
#include "mimamori/ydoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char site[] = "sensor: {name: fuzz}\n"
                               "zones:\n"
                               "  emr: {networks: [10.1.0.0/16]}\n"
                               "  vendor_remote: {networks: [10.9.0.0/16]}\n";
    static struct mm_config *c;
    static struct config_diag diag;
    struct ruleset *rs = NULL;
    int r;

    if (c == NULL)
        FUZZ_ASSERT(config_load_string("site.yaml", site, sizeof(site) - 1, &c, &diag) == 0);
    memset(&diag, 0, sizeof(diag));
    r = rules_load_string(c, "rules.yaml", (const char *)data, size, &rs, &diag);
    if (r == 0) {
        FUZZ_ASSERT(rs != NULL);
        rules_free(rs);
        return 0;
    }
    FUZZ_ASSERT(rs == NULL);
    FUZZ_ASSERT(diag.count > 0);
    FUZZ_ASSERT(fuzz_positioned(diag.msg[0], "rules.yaml:"));
    return 0;
}
