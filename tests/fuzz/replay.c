/*
 * Runs a fuzz target without libFuzzer: over the files given, each as is and then mutated
 * (bytes flipped, cut, duplicated, spliced) a fixed number of times by a seeded generator, so
 * CTest exercises every target under the sanitizers with the same inputs on every run. Real
 * fuzzing uses the libFuzzer build (make fuzz).
 *
 * usage: replay ITERATIONS FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define MAX_INPUT 65536

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static size_t mutate(uint8_t *b, size_t n, size_t cap)
{
    unsigned ops = 1 + next() % 8, i;

    for (i = 0; i < ops && n > 0; i++) {
        size_t at = next() % n, len;
        switch (next() % 5) {
        case 0: /* flip a byte */
            b[at] ^= (uint8_t)(1 + next() % 255);
            break;
        case 1: /* an interesting value */
            b[at] = (uint8_t[]){0x00, 0x01, 0x0b, 0x0d, 0x1c, 0x7f, 0x80, 0xff}[next() % 8];
            break;
        case 2: /* cut the tail */
            n = at + 1;
            break;
        case 3: /* duplicate a slice */
            len = 1 + next() % 64;
            if (at + len <= n && n + len <= cap) {
                memmove(b + at + len, b + at, n - at);
                n += len;
            }
            break;
        default: /* drop a slice */
            len = 1 + next() % 16;
            if (at + len <= n) {
                memmove(b + at, b + at + len, n - at - len);
                n -= len;
            }
            break;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    static uint8_t seed[MAX_INPUT], work[MAX_INPUT];
    unsigned long iterations, runs = 0;
    int i;

    if (argc < 3) {
        fprintf(stderr, "usage: %s ITERATIONS FILE...\n", argv[0]);
        return 2;
    }
    iterations = strtoul(argv[1], NULL, 10);
    for (i = 2; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t n;
        unsigned long k;
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        n = fread(seed, 1, sizeof(seed) / 2, f);
        fclose(f);
        LLVMFuzzerTestOneInput(seed, n);
        runs++;
        for (k = 0; k < iterations; k++, runs++) {
            memcpy(work, seed, n);
            LLVMFuzzerTestOneInput(work, mutate(work, n, sizeof(work)));
        }
    }
    printf("replay: %lu inputs from %d seed files, no property violated\n", runs, argc - 2);
    return 0;
}
