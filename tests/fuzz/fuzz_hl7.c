/*
 * Fuzz target for the HL7/MLLP parser: records of fuzz.h fed to two directions, then the
 * promises checked: every kept string is terminated inside its buffer and printable, tables
 * stay within their sizes.
 */
#include <string.h>

#include "fuzz.h"
#include "mimamori/hl7.h"

struct state {
    struct hl7_stream s[2];
    struct hl7_info in;
};

static void record(void *ud, int dir, int gap, const uint8_t *p, size_t n)
{
    struct state *st = ud;

    if (gap)
        hl7_gap(&st->s[dir], &st->in);
    hl7_probe(p, n);
    hl7_feed(&st->s[dir], &st->in, dir, p, n);
}

static void check_msh(const struct hl7_msh *m)
{
    fuzz_check_str(m->sending_app, sizeof(m->sending_app));
    fuzz_check_str(m->sending_facility, sizeof(m->sending_facility));
    fuzz_check_str(m->receiving_app, sizeof(m->receiving_app));
    fuzz_check_str(m->receiving_facility, sizeof(m->receiving_facility));
    fuzz_check_str(m->type, sizeof(m->type));
    fuzz_check_str(m->processing_id, sizeof(m->processing_id));
    fuzz_check_str(m->version, sizeof(m->version));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state st;
    const struct hl7_info *in = &st.in;
    unsigned k;

    memset(&st, 0, sizeof(st));
    hl7_probe(data, size);
    fuzz_records(data, size, record, &st);
    FUZZ_ASSERT(in->ntypes <= HL7_MAX_TYPES);
    FUZZ_ASSERT(in->nsenders <= HL7_MAX_SENDERS);
    FUZZ_ASSERT(in->nsenders == 0 || in->last_sender < in->nsenders);
    check_msh(&in->first);
    for (k = 0; k < in->ntypes; k++)
        fuzz_check_str(in->types[k], sizeof(in->types[k]));
    for (k = 0; k < in->nsenders; k++) {
        fuzz_check_str(in->senders[k].app, sizeof(in->senders[k].app));
        fuzz_check_str(in->senders[k].facility, sizeof(in->senders[k].facility));
        fuzz_check_str(in->senders[k].type, sizeof(in->senders[k].type));
        FUZZ_ASSERT(in->senders[k].dir <= 1);
    }
    return 0;
}
