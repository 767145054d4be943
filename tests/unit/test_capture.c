/*
 * Reading capture files: files written here with libpcap's own writer are read back packet by
 * packet in the order given, as one timeline, with their timestamps, captured and wire
 * lengths and link types; several files are checked before the first packet is read (a
 * missing one names itself), a link type the decoder cannot read is refused, and a record cut
 * short at the end of a file is counted without losing the packets before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "mimamori/capture.h"
#include "mimamori/error.h"

struct rec {
    long sec, usec;
    uint32_t caplen, wire_len;
};

/* A capture of link type dlt with the records given (bytes: their index), at path. */
static void write_pcap(const char *path, int dlt, const struct rec *r, unsigned n)
{
    pcap_t *p = pcap_open_dead(dlt, 65535);
    pcap_dumper_t *d;
    uint8_t data[256];
    unsigned i;

    assert_non_null(p);
    assert_non_null(d = pcap_dump_open(p, path));
    for (i = 0; i < n; i++) {
        struct pcap_pkthdr h = {{r[i].sec, r[i].usec}, r[i].caplen, r[i].wire_len};
        memset(data, (int)i, sizeof(data));
        pcap_dump((u_char *)d, &h, data);
    }
    pcap_dump_close(d);
    pcap_close(p);
}

static void test_two_files_one_timeline(void **state)
{
    static const struct rec a[] = {{1795496400, 1, 60, 60}, {1795496400, 500000, 100, 1514}},
                            b[] = {{1795496401, 0, 64, 64}};
    char pa[] = "/tmp/mm-cap-a-XXXXXX", pb[] = "/tmp/mm-cap-b-XXXXXX", err[CAPTURE_ERRBUF_SIZE];
    char *files[2] = {pa, pb};
    struct capture *c;
    struct capture_pkt pkt;

    (void)state;
    close(mkstemp(pa));
    close(mkstemp(pb));
    write_pcap(pa, DLT_EN10MB, a, 2);
    write_pcap(pb, DLT_NULL, b, 1);
    assert_int_equal(capture_open_files(&c, files, 2, err, sizeof(err)), 0);
    assert_int_equal(capture_next(c, &pkt, err, sizeof(err)), 1);
    assert_int_equal(pkt.ts_us, 1795496400000001ull);
    assert_int_equal(pkt.caplen, 60);
    assert_int_equal(pkt.link, MM_LINK_ETHERNET);
    assert_string_equal(capture_current_file(c), pa);
    assert_int_equal(capture_next(c, &pkt, err, sizeof(err)), 1);
    assert_int_equal(pkt.ts_us, 1795496400500000ull);
    assert_int_equal(pkt.caplen, 100); /* snapped: the wire carried more */
    assert_int_equal(pkt.wire_len, 1514);
    assert_int_equal(pkt.data[0], 1);
    assert_int_equal(capture_next(c, &pkt, err, sizeof(err)), 1);
    assert_int_equal(pkt.ts_us, 1795496401000000ull);
    assert_int_equal(pkt.link, MM_LINK_NULL);
    assert_string_equal(capture_current_file(c), pb);
    assert_int_equal(capture_next(c, &pkt, err, sizeof(err)), MM_EEOF);
    capture_close(c);
    unlink(pa);
    unlink(pb);
}

static void test_refused(void **state)
{
    static const struct rec one[] = {{1795496400, 0, 40, 40}};
    char pa[] = "/tmp/mm-cap-c-XXXXXX", missing[] = "/tmp/mm-cap-missing-XXXXXX";
    char *files[2] = {pa, missing}, err[CAPTURE_ERRBUF_SIZE];
    struct capture *c = NULL;

    (void)state;
    close(mkstemp(pa));
    close(mkstemp(missing));
    unlink(missing);
    write_pcap(pa, DLT_EN10MB, one, 1);
    /* Checked before the first packet: the second file's absence stops the start. */
    assert_int_equal(capture_open_files(&c, files, 2, err, sizeof(err)), MM_ECAPTURE);
    assert_non_null(strstr(err, missing));
    /* 802.11 frames: nothing the decoder reads. */
    write_pcap(pa, DLT_IEEE802_11, one, 1);
    assert_int_equal(capture_open_files(&c, files, 1, err, sizeof(err)), MM_EUNSUPPORTED);
    assert_non_null(strstr(err, pa));
    unlink(pa);
}

static void test_cut_short(void **state)
{
    static const struct rec r[] = {{1795496400, 0, 200, 200}, {1795496400, 1, 200, 200}};
    char pa[] = "/tmp/mm-cap-d-XXXXXX", *files[1] = {pa}, err[CAPTURE_ERRBUF_SIZE];
    struct capture *c;
    struct capture_pkt pkt;

    (void)state;
    close(mkstemp(pa));
    write_pcap(pa, DLT_EN10MB, r, 2);
    /* Cut the file in the middle of the second packet's bytes, as a full disk leaves it. */
    assert_int_equal(truncate(pa, 24 + 16 + 200 + 16 + 50), 0);
    assert_int_equal(capture_open_files(&c, files, 1, err, sizeof(err)), 0);
    assert_int_equal(capture_next(c, &pkt, err, sizeof(err)), 1);
    assert_int_equal(pkt.caplen, 200);
    assert_int_not_equal(capture_next(c, &pkt, err, sizeof(err)),
                         1); /* the torn record, reported */
    assert_non_null(strstr(err, pa));
    assert_int_equal(capture_next(c, &pkt, err, sizeof(err)), MM_EEOF);
    capture_close(c);
    unlink(pa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_files_one_timeline),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_cut_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
