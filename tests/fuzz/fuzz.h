/*
 * Shared by the fuzz targets and their replay driver. An input is a sequence of records: one
 * control byte (bit 7: direction, bit 6: bytes were lost before this record, bits 0-5: length
 * minus one) followed by that many payload bytes, cut short at the end of the input. So one
 * input exercises both directions, segment boundaries anywhere, and capture gaps.
 */
#ifndef MIMAMORI_FUZZ_H
#define MIMAMORI_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DIR(c) (((c) >> 7) & 1)
#define FUZZ_GAP(c) (((c) >> 6) & 1)
#define FUZZ_LEN(c) ((size_t)((c)&0x3f) + 1)

/* A property the parser promises; a violation crashes the run so the fuzzer keeps the input. */
#define FUZZ_ASSERT(x)                                                                             \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#endif
