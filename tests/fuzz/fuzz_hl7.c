/*
 * Fuzz target for the HL7/MLLP parser: records of fuzz.h fed to two directions, then the
 * promises checked: every kept string is terminated inside its buffer and printable, tables
 * stay within their sizes.
 */
#include <string.h>

#include "fuzz.h"
#include "mimamori/hl7.h"

static void check_str(const char *s, size_t size)
{
    size_t n = strnlen(s, size), i;

    FUZZ_ASSERT(n < size);
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(s[i] >= 0x20 && s[i] < 0x7f);
}

static void check_msh(const struct hl7_msh *m)
{
    check_str(m->sending_app, sizeof(m->sending_app));
    check_str(m->sending_facility, sizeof(m->sending_facility));
    check_str(m->receiving_app, sizeof(m->receiving_app));
    check_str(m->receiving_facility, sizeof(m->receiving_facility));
    check_str(m->type, sizeof(m->type));
    check_str(m->processing_id, sizeof(m->processing_id));
    check_str(m->version, sizeof(m->version));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hl7_stream s[2];
    struct hl7_info in;
    size_t i = 0;
    unsigned k;

    memset(s, 0, sizeof(s));
    memset(&in, 0, sizeof(in));
    hl7_probe(data, size);
    while (i < size) {
        uint8_t c = data[i++];
        size_t n = FUZZ_LEN(c);
        if (n > size - i)
            n = size - i;
        if (FUZZ_GAP(c))
            hl7_gap(&s[FUZZ_DIR(c)], &in);
        hl7_probe(data + i, n);
        hl7_feed(&s[FUZZ_DIR(c)], &in, FUZZ_DIR(c), data + i, n);
        i += n;
    }
    FUZZ_ASSERT(in.ntypes <= HL7_MAX_TYPES);
    FUZZ_ASSERT(in.nsenders <= HL7_MAX_SENDERS);
    FUZZ_ASSERT(in.nsenders == 0 || in.last_sender < in.nsenders);
    check_msh(&in.first);
    for (k = 0; k < in.ntypes; k++)
        check_str(in.types[k], sizeof(in.types[k]));
    for (k = 0; k < in.nsenders; k++) {
        check_str(in.senders[k].app, sizeof(in.senders[k].app));
        check_str(in.senders[k].facility, sizeof(in.senders[k].facility));
        FUZZ_ASSERT(in.senders[k].dir <= 1);
    }
    return 0;
}
