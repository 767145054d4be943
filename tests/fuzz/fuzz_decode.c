/*
 * Fuzz target for the packet decoder: the first byte picks the link type, the rest is the
 * frame. The promises checked: the result is one of decode_result's, an anomaly is named, and
 * every pointer and length the view gives stays inside the frame (a payload the decoder does not
 * look into, such as PPTP's GRE, is NULL and empty).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mimamori/decode.h"

/* p[0..len) within buf[0..n), or nothing at all (NULL, 0). */
static int inside(const uint8_t *p, uint32_t len, const uint8_t *buf, size_t n)
{
    if (p == NULL)
        return len == 0;
    return p >= buf && p <= buf + n && len <= (size_t)(buf + n - p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pkt_view pv;
    const uint8_t *frame;
    uint32_t caplen;
    int r;

    if (size < 1 || size > 65536)
        return 0;
    frame = data + 1;
    caplen = (uint32_t)(size - 1);
    memset(&pv, 0xa5, sizeof(pv)); /* whatever the decoder leaves unset shows */
    r = decode_packet(&pv, (enum mm_link)(1 + data[0] % 6), frame, caplen, caplen + (data[0] >> 4));
    FUZZ_ASSERT(r >= DECODE_OK && r <= DECODE_ANOMALY);
    FUZZ_ASSERT(pv.anomaly < DA__COUNT);
    FUZZ_ASSERT((r == DECODE_ANOMALY) == (pv.anomaly != DA_NONE));
    FUZZ_ASSERT(pv.vlan_count <= 2);
    if (r == DECODE_OK) {
        FUZZ_ASSERT(pv.ip_version == 4 || pv.ip_version == 6);
        FUZZ_ASSERT(inside(pv.l3, pv.l3_len, frame, caplen));
        FUZZ_ASSERT(inside(pv.payload, pv.payload_len, frame, caplen));
    }
    return 0;
}
