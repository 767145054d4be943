/*
 * The benchmark's capture tool. `make`: a benchmark capture of real traffic at scale, from the
 * given Ethernet captures repeated COPIES times, each copy's IPv4 addresses moved to their own
 * range (second octet + copy) so its flows are new, on one time line (each file's gaps kept,
 * capped at a second). `flows`: N DNS exchanges (distinct sources), for memory per flow. `read`:
 * the bare libpcap read loop over a file, the floor every reader stands on: as libpcap opens a
 * file by itself (stdio's 4 KB buffer, as ndpiReader and tcpdump read), or with `read-1m` through
 * the 1 MiB stdio buffer Mimamori gives it (a third of the system calls' cost is gone).
 * `handover`: how long a cache line takes to go from one thread to another and back (two
 * threads bounce a counter), the price of every hand-over between Mimamori's worker and output
 * thread on this machine at that moment.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

static int usage(void)
{
    fprintf(stderr, "usage: mimamori-bench make OUT COPIES IN.pcap...\n"
                    "       mimamori-bench flows OUT N\n"
                    "       mimamori-bench flood OUT N\n"
                    "       mimamori-bench read|read-1m FILE\n"
                    "       mimamori-bench handover\n");
    return 2;
}

/* IPv4 inside Ethernet (with up to two VLAN tags): move both addresses to copy k's range. */
static void shift_ipv4(u_char *p, uint32_t caplen, unsigned k)
{
    uint32_t off = 12;
    uint16_t type;

    if (caplen < 14)
        return;
    type = (uint16_t)(p[off] << 8 | p[off + 1]);
    while ((type == 0x8100 || type == 0x88a8) && off + 6 <= caplen) {
        off += 4;
        type = (uint16_t)(p[off] << 8 | p[off + 1]);
    }
    off += 2;
    if (type != 0x0800 || off + 20 > caplen || (p[off] >> 4) != 4)
        return;
    p[off + 13] = (u_char)(p[off + 13] + k);
    p[off + 17] = (u_char)(p[off + 17] + k);
}

static int make(const char *out, unsigned copies, char **in, int nin)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    pcap_dumper_t *d = pcap_dump_open(dead, out);
    struct timeval now = {.tv_sec = 1767225600}; /* 2026-01-01 */
    uint64_t packets = 0;
    unsigned k;
    int i;

    if (d == NULL) {
        fprintf(stderr, "%s: %s\n", out, pcap_geterr(dead));
        return 1;
    }
    for (k = 0; k < copies; k++) {
        for (i = 0; i < nin; i++) {
            pcap_t *p = pcap_open_offline(in[i], err);
            struct pcap_pkthdr *h, oh;
            const u_char *data;
            struct timeval prev = {0};
            static u_char buf[262144];
            if (p == NULL || pcap_datalink(p) != DLT_EN10MB) {
                if (p != NULL)
                    pcap_close(p);
                continue;
            }
            while (pcap_next_ex(p, &h, &data) == 1) {
                int64_t gap = prev.tv_sec == 0 ? 0
                                               : (int64_t)(h->ts.tv_sec - prev.tv_sec) * 1000000 +
                                                     (h->ts.tv_usec - prev.tv_usec);
                uint32_t n = h->caplen < sizeof(buf) ? h->caplen : sizeof(buf);
                prev = h->ts;
                gap = gap < 0 ? 0 : gap > 1000000 ? 1000000 : gap;
                now.tv_usec += gap;
                now.tv_sec += now.tv_usec / 1000000;
                now.tv_usec %= 1000000;
                memcpy(buf, data, n);
                shift_ipv4(buf, n, k);
                oh.ts = now;
                oh.caplen = n;
                oh.len = h->len;
                pcap_dump((u_char *)d, &oh, buf);
                packets++;
            }
            pcap_close(p);
            now.tv_usec += 1000; /* files a millisecond apart */
        }
    }
    pcap_dump_close(d);
    pcap_close(dead);
    printf("%" PRIu64 " packets\n", packets);
    return 0;
}

/*
 * N DNS exchanges (query and answer), each from its own address and port: N flows that nDPI
 * classifies at once and is done with, so its state is freed.
 */
static int flows(const char *out, unsigned long n)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    pcap_dumper_t *d = pcap_dump_open(dead, out);
    static const u_char query[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0, 0, 0, 0, 4, 'p',
                                   'a',  'c',  's',  4,    'h', 'o', 's', 'p', 0, 0, 1, 0, 1};
    static const u_char answer[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 0, 80};
    u_char q[14 + 20 + 8 + sizeof(query)] = {0}, a[sizeof(q) + sizeof(answer)];
    struct pcap_pkthdr h = {0};
    unsigned long i;

    if (d == NULL) {
        fprintf(stderr, "%s: %s\n", out, pcap_geterr(dead));
        return 1;
    }
    memcpy(q, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
    q[14] = 0x45;
    q[17] = (u_char)(20 + 8 + sizeof(query));
    q[22] = 64, q[23] = 17;
    q[26] = 10, q[29] = 1;                        /* from 10.x.y.1 */
    q[30] = 10, q[31] = 1, q[32] = 0, q[33] = 53; /* to 10.1.0.53 */
    q[36] = 0, q[37] = 53;                        /* destination port 53 */
    q[39] = (u_char)(8 + sizeof(query));
    memcpy(q + 42, query, sizeof(query));
    for (i = 0; i < n; i++) {
        uint32_t src = (uint32_t)(i / 50000u); /* 50,000 ports per source address */
        uint16_t port = (uint16_t)(10000u + i % 50000u);
        q[27] = (u_char)(64 + (src >> 8)), q[28] = (u_char)src;
        q[34] = (u_char)(port >> 8), q[35] = (u_char)port;
        /* The answer: addresses and ports swapped, QR and one answer record. */
        memcpy(a, q, sizeof(q));
        memcpy(a + 26, q + 30, 4), memcpy(a + 30, q + 26, 4);
        memcpy(a + 34, q + 36, 2), memcpy(a + 36, q + 34, 2);
        a[17] = (u_char)(20 + 8 + sizeof(query) + sizeof(answer));
        a[39] = (u_char)(8 + sizeof(query) + sizeof(answer));
        a[44] = 0x81, a[45] = 0x80, a[49] = 1;
        memcpy(a + sizeof(q), answer, sizeof(answer));
        h.ts.tv_sec = (time_t)(1767225600 + i / 100000u); /* 100,000 new flows a second */
        h.ts.tv_usec = (suseconds_t)(i % 100000u * 10u);
        h.caplen = h.len = sizeof(q);
        pcap_dump((u_char *)d, &h, q);
        h.ts.tv_usec += 5;
        h.caplen = h.len = sizeof(a);
        pcap_dump((u_char *)d, &h, a);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return 0;
}

/*
 * A flood of N one-packet UDP flows that nDPI never finishes (an attacker on the mirror
 * choosing the sensor's memory): 48 bytes of no protocol to a high port, each from its own
 * source port, 100,000 a second. Every flow keeps its classifier state until it times out.
 */
static int flood(const char *out, unsigned long n)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    pcap_dumper_t *d = pcap_dump_open(dead, out);
    u_char p[14 + 20 + 8 + 48] = {0};
    struct pcap_pkthdr h = {0};
    unsigned long i;
    unsigned k;

    if (d == NULL) {
        fprintf(stderr, "%s: %s\n", out, pcap_geterr(dead));
        return 1;
    }
    memcpy(p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
    p[14] = 0x45;
    p[17] = (u_char)(20 + 8 + 48);
    p[22] = 64, p[23] = 17;
    p[26] = 10, p[29] = 1;                       /* from 10.x.y.1 */
    p[30] = 10, p[31] = 2, p[32] = 0, p[33] = 9; /* to 10.2.0.9 */
    p[36] = 0x9c, p[37] = 0x41;                  /* destination port 40001 */
    p[39] = 8 + 48;
    for (k = 0; k < 48; k++) /* bytes that begin no protocol nDPI knows */
        p[42 + k] = (u_char)(0xA5 ^ (k * 37));
    for (i = 0; i < n; i++) {
        uint32_t src = (uint32_t)(i / 50000u);
        uint16_t port = (uint16_t)(10000u + i % 50000u);
        p[27] = (u_char)(64 + (src >> 8)), p[28] = (u_char)src;
        p[34] = (u_char)(port >> 8), p[35] = (u_char)port;
        h.ts.tv_sec = (time_t)(1767225600 + i / 100000u);
        h.ts.tv_usec = (suseconds_t)(i % 100000u * 10u);
        h.caplen = h.len = sizeof(p);
        pcap_dump((u_char *)d, &h, p);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return 0;
}

static int bare_read(const char *file, size_t buffer)
{
    char err[PCAP_ERRBUF_SIZE];
    FILE *fp = fopen(file, "rb");
    char *buf = buffer > 0 ? malloc(buffer) : NULL;
    pcap_t *p;
    struct pcap_pkthdr *h;
    const u_char *data;
    struct timespec a, b;
    uint64_t packets = 0, bytes = 0, wire = 0, sum = 0;

    if (fp == NULL) {
        perror(file);
        return 1;
    }
    if (buf != NULL)
        setvbuf(fp, buf, _IOFBF, buffer);
    if ((p = pcap_fopen_offline(fp, err)) == NULL) { /* fp is still ours */
        fprintf(stderr, "%s\n", err);
        fclose(fp);
        free(buf);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (pcap_next_ex(p, &h, &data) == 1) {
        packets++;
        bytes += h->caplen;
        wire += h->len;
        sum += data[0]; /* touch the packet, as any reader must */
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    pcap_close(p); /* closes fp */
    free(buf);
    printf("packets %" PRIu64 " bytes %" PRIu64 " seconds %.6f check %" PRIu64 "\n", packets, bytes,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, sum);
    return 0;
}

#define HANDOVER_ROUNDS 500000L

static _Alignas(64) atomic_long ball;

/* The other thread: sends each odd value back as the next even one. */
static void *handover_peer(void *arg)
{
    long i;

    (void)arg;
    for (i = 0; i < HANDOVER_ROUNDS; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static int handover(void)
{
    struct timespec a, b;
    pthread_t t;
    long i;

    if (pthread_create(&t, NULL, handover_peer, NULL) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < HANDOVER_ROUNDS; i++) {
        atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2)
            ;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(t, NULL);
    printf("round_trip_ns %.0f\n",
           ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
               (double)HANDOVER_ROUNDS);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "make") == 0)
        return make(argv[2], (unsigned)strtoul(argv[3], NULL, 10), argv + 4, argc - 4);
    if (argc == 4 && strcmp(argv[1], "flows") == 0)
        return flows(argv[2], strtoul(argv[3], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "flood") == 0)
        return flood(argv[2], strtoul(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "read") == 0)
        return bare_read(argv[2], 0);
    if (argc == 3 && strcmp(argv[1], "read-1m") == 0)
        return bare_read(argv[2], 1u << 20);
    if (argc == 2 && strcmp(argv[1], "handover") == 0)
        return handover();
    return usage();
}
