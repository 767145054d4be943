/*
 * Fuzz target for the DICOM upper-layer parser: records of fuzz.h fed to two directions, then
 * the promises checked: kept strings terminated and printable, tables within their sizes, every
 * container counter consistent (a negative count would show as a huge one).
 */
#include <string.h>

#include "fuzz.h"
#include "mimamori/dicom.h"

struct state {
    struct dicom_stream s[2];
    struct dicom_info in;
};

static void record(void *ud, int dir, int gap, const uint8_t *p, size_t n)
{
    struct state *st = ud;
    const struct dicom_stream *s = &st->s[dir];

    if (gap)
        dicom_gap(&st->s[dir], &st->in);
    dicom_probe(p, n);
    dicom_feed(&st->s[dir], &st->in, p, n);
    FUZZ_ASSERT(s->need <= sizeof(s->buf));
    FUZZ_ASSERT(s->have <= s->need);
    FUZZ_ASSERT(!s->in_item || s->sub_left <= s->pdu_left);
    FUZZ_ASSERT(s->pdv_left <= s->pdu_left);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state st;
    const struct dicom_info *in = &st.in;
    unsigned k;

    memset(&st, 0, sizeof(st));
    dicom_probe(data, size);
    fuzz_records(data, size, record, &st);
    fuzz_check_str(in->calling_ae, sizeof(in->calling_ae));
    fuzz_check_str(in->called_ae, sizeof(in->called_ae));
    fuzz_check_str(in->app_context, sizeof(in->app_context));
    fuzz_check_str(in->impl_class, sizeof(in->impl_class));
    fuzz_check_str(in->impl_version, sizeof(in->impl_version));
    FUZZ_ASSERT(in->nsops <= DICOM_MAX_SOP);
    FUZZ_ASSERT(in->ndests <= DICOM_MAX_DEST);
    FUZZ_ASSERT(in->ndests == 0 || in->last_dest < in->ndests);
    for (k = 0; k < in->nsops; k++)
        fuzz_check_str(in->sops[k], sizeof(in->sops[k]));
    for (k = 0; k < in->ndests; k++)
        fuzz_check_str(in->dests[k], sizeof(in->dests[k]));
    return 0;
}
