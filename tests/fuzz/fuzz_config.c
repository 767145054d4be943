/*
 * Fuzz target for the site config loader (libyaml, then every section's checks, then the
 * shipped rules compiled against it): the input is one site file. The promise checked is the
 * one a site relies on: a file either loads, or is refused with at least one message that
 * starts "file:line:col:" and no config; nothing else (no crash, no leak under ASan). The
 * file is the site's, or a rule file its `rules` globs reach.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mimamori/config.h"
#include "mimamori/ydoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config_diag diag;
    struct mm_config *c = NULL;
    int r;

    memset(&diag, 0, sizeof(diag));
    r = config_load_string("site.yaml", (const char *)data, size, &c, &diag);
    if (r == 0) {
        FUZZ_ASSERT(c != NULL);
        config_free(c);
        return 0;
    }
    FUZZ_ASSERT(c == NULL);
    FUZZ_ASSERT(diag.count > 0);
    FUZZ_ASSERT(fuzz_positioned(diag.msg[0], NULL));
    return 0;
}
