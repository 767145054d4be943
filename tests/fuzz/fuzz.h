/*
 * Shared by the fuzz targets and their replay driver. A stream parser's input (HL7, DICOM) is a
 * sequence of records: one control byte (bit 7: direction, bit 6: bytes were lost before this
 * record, bits 0-5: length minus one) followed by that many payload bytes, cut short at the end
 * of the input. So one input exercises both directions, segment boundaries anywhere, and
 * capture gaps. The decoder's input is one frame after a byte that picks the link type.
 */
#ifndef MIMAMORI_FUZZ_H
#define MIMAMORI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* One record: its direction, whether bytes were lost before it, its payload. */
typedef void (*fuzz_record_fn)(void *ud, int dir, int gap, const uint8_t *p, size_t n);

/* Call fn for each record of an input. */
static inline void fuzz_records(const uint8_t *data, size_t size, fuzz_record_fn fn, void *ud)
{
    size_t i = 0;

    while (i < size) {
        uint8_t c = data[i++];
        size_t n = FUZZ_LEN(c);
        if (n > size - i)
            n = size - i;
        fn(ud, FUZZ_DIR(c), FUZZ_GAP(c), data + i, n);
        i += n;
    }
}

/* A kept string: terminated inside its buffer, printable ASCII only. */
static inline void fuzz_check_str(const char *s, size_t size)
{
    size_t n = strnlen(s, size), i;

    FUZZ_ASSERT(n < size);
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(s[i] >= 0x20 && s[i] < 0x7f);
}

/* After a file's name: "<line>:<col>: <text>". */
static inline int fuzz_at_position(const char *msg)
{
    int k;

    for (k = 0; k < 2; k++) {
        if (*msg < '0' || *msg > '9')
            return 0;
        while (*msg >= '0' && *msg <= '9')
            msg++;
        if (*msg++ != ':')
            return 0;
    }
    return *msg == ' ' && msg[1] != '\0';
}

/*
 * A config or rule message in the form a site reads, "<file>:<line>:<col>: <text>": in file,
 * or (file NULL) in any file, since a site's config may name rule files whose own mistakes are
 * reported in them.
 */
static inline int fuzz_positioned(const char *msg, const char *file)
{
    const char *p;

    if (file != NULL)
        return strncmp(msg, file, strlen(file)) == 0 && fuzz_at_position(msg + strlen(file));
    for (p = strchr(msg, ':'); p != NULL; p = strchr(p + 1, ':'))
        if (p > msg && fuzz_at_position(p + 1))
            return 1;
    return 0;
}

#endif
