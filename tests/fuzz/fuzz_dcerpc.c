/*
 * Fuzz target for the DCE-RPC and SMB header parser: records of fuzz.h fed to two directions
 * with their TCP sequence numbers (a gap skips some), then the promises checked: the channel
 * and context tables within their sizes, operations only from the table, kept pipe names
 * terminated and printable.
 */
#include <string.h>

#include "fuzz.h"
#include "mimamori/dcerpc.h"

struct state {
    struct dcerpc_info in;
    uint32_t seq[2];
};

static void record(void *ud, int dir, int gap, const uint8_t *p, size_t n)
{
    struct state *st = ud;
    unsigned i;

    if (gap)
        st->seq[dir] += 100;
    dcerpc_probe(p, (uint32_t)n);
    dcerpc_feed(&st->in, dir, st->seq[dir], p, (uint32_t)n);
    st->seq[dir] += (uint32_t)n;
    FUZZ_ASSERT(st->in.nchan <= DCERPC_MAX_CHANNELS);
    for (i = 0; i < st->in.nchan; i++) {
        FUZZ_ASSERT(st->in.chan[i].nctx <= DCERPC_MAX_CTX);
        fuzz_check_str(st->in.chan[i].pipe, sizeof(st->in.chan[i].pipe));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state st;

    memset(&st, 0, sizeof(st));
    fuzz_records(data, size, record, &st);
    FUZZ_ASSERT(dcerpc_op_count() == 64 || (st.in.ops >> dcerpc_op_count()) == 0);
    FUZZ_ASSERT((st.in.ops & st.in.fresh) == st.in.fresh);
    fuzz_check_str(st.in.first_pipe, sizeof(st.in.first_pipe));
    fuzz_check_str(st.in.pending_name[0], sizeof(st.in.pending_name[0]));
    return 0;
}
