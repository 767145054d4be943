/*
 * Fuzz target for the DICOM upper-layer parser: records of fuzz.h fed to two directions, then
 * the promises checked: kept strings terminated and printable, tables within their sizes, every
 * container counter consistent (a negative count would show as a huge one).
 */
#include <string.h>

#include "fuzz.h"
#include "mimamori/dicom.h"

static void check_str(const char *s, size_t size)
{
    size_t n = strnlen(s, size), i;

    FUZZ_ASSERT(n < size);
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(s[i] >= 0x20 && s[i] < 0x7f);
}

static void check_stream(const struct dicom_stream *s)
{
    FUZZ_ASSERT(s->need <= sizeof(s->buf));
    FUZZ_ASSERT(s->have <= s->need);
    FUZZ_ASSERT(!s->in_item || s->sub_left <= s->pdu_left);
    FUZZ_ASSERT(s->pdv_left <= s->pdu_left);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dicom_stream s[2];
    struct dicom_info in;
    size_t i = 0;
    unsigned k;

    memset(s, 0, sizeof(s));
    memset(&in, 0, sizeof(in));
    dicom_probe(data, size);
    while (i < size) {
        uint8_t c = data[i++];
        size_t n = FUZZ_LEN(c);
        if (n > size - i)
            n = size - i;
        if (FUZZ_GAP(c))
            dicom_gap(&s[FUZZ_DIR(c)], &in);
        dicom_probe(data + i, n);
        dicom_feed(&s[FUZZ_DIR(c)], &in, data + i, n);
        check_stream(&s[FUZZ_DIR(c)]);
        i += n;
    }
    check_str(in.calling_ae, sizeof(in.calling_ae));
    check_str(in.called_ae, sizeof(in.called_ae));
    check_str(in.app_context, sizeof(in.app_context));
    check_str(in.impl_class, sizeof(in.impl_class));
    check_str(in.impl_version, sizeof(in.impl_version));
    FUZZ_ASSERT(in.nsops <= DICOM_MAX_SOP);
    FUZZ_ASSERT(in.ndests <= DICOM_MAX_DEST);
    FUZZ_ASSERT(in.ndests == 0 || in.last_dest < in.ndests);
    for (k = 0; k < in.nsops; k++)
        check_str(in.sops[k], sizeof(in.sops[k]));
    for (k = 0; k < in.ndests; k++)
        check_str(in.dests[k], sizeof(in.dests[k]));
    return 0;
}
