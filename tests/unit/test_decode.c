/*
 * Decoder tests: each layer on annotated frames, the encapsulations a mirror port delivers,
 * every named anomaly path we can provoke, and a sweep of truncations and random bytes that
 * must end in a result, never a crash (run under ASan in the sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mimamori/decode.h"
#include "pkt_build.h"

static const uint8_t v4_10_0_0_1[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};

/* Ethernet, IPv4 10.0.0.1 -> 10.0.0.2, TCP 40000 -> 445 SYN. */
static const uint8_t syn_frame[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* MACs */
    0x08, 0x00,                                                             /* IPv4 */
    0x45, 0x00, 0x00, 0x28, /* v4, IHL 5, total length 40 */
    0x12, 0x34, 0x40, 0x00, /* id, DF */
    0x40, 0x06, 0x00, 0x00, /* TTL 64, TCP */
    10,   0,    0,    1,    /* source */
    10,   0,    0,    2,    /* destination */
    0x9c, 0x40, 0x01, 0xbd, /* 40000 -> 445 */
    0x00, 0x00, 0x00, 0x01, /* seq 1 */
    0x00, 0x00, 0x00, 0x00, /* ack 0 */
    0x50, 0x02, 0xff, 0xff, /* data offset 5, SYN, window */
    0x00, 0x00, 0x00, 0x00, /* checksum, urgent */
};

static void test_ipv4_tcp(void **state)
{
    struct pkt_view pv;

    (void)state;
    assert_int_equal(
        decode_packet(&pv, MM_LINK_ETHERNET, syn_frame, sizeof(syn_frame), sizeof(syn_frame)),
        DECODE_OK);
    assert_int_equal(pv.ip_version, 4);
    assert_int_equal(pv.proto, 6);
    assert_memory_equal(pv.src, v4_10_0_0_1, 16);
    assert_int_equal(pv.dst[15], 2);
    assert_int_equal(pv.src_port, 40000);
    assert_int_equal(pv.dst_port, 445);
    assert_int_equal(pv.tcp_flags, TCP_SYN);
    assert_int_equal(pv.tcp_seq, 1);
    assert_int_equal(pv.l3_len, 40);
    assert_int_equal(pv.payload_len, 0);
    assert_true(pv.seen & (1ull << DC_ETHERNET));
    assert_true(pv.seen & (1ull << DC_TCP));
}

static void test_ethernet_padding_clamped(void **state)
{
    uint8_t f[80];

    (void)state;
    memset(f, 0xee, sizeof(f)); /* trailer bytes after the IP datagram */
    memcpy(f, syn_frame, sizeof(syn_frame));
    struct pkt_view pv;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, sizeof(f), sizeof(f)), DECODE_OK);
    assert_int_equal(pv.l3_len, 40); /* the IP total length, not the frame */
}

static void test_ipv4_anomalies(void **state)
{
    uint8_t f[sizeof(syn_frame)];
    struct pkt_view pv;

    (void)state;
    /* Frame ends inside the IPv4 header. */
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, syn_frame, 30, 30), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_IPV4_PKT_TOO_SMALL);
    /* IHL 4: header shorter than 20 bytes. */
    memcpy(f, syn_frame, sizeof(f));
    f[14] = 0x44;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, sizeof(f), sizeof(f)), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_IPV4_HLEN_TOO_SMALL);
    /* Version 5 under EtherType IPv4. */
    memcpy(f, syn_frame, sizeof(f));
    f[14] = 0x55;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, sizeof(f), sizeof(f)), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_IPV4_WRONG_IP_VERSION);
    /* Total length 200 but 54 bytes on the wire: truncated. */
    memcpy(f, syn_frame, sizeof(f));
    f[16] = 0x00;
    f[17] = 200;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, sizeof(f), sizeof(f)), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_IPV4_TRUNC_PKT);
    /* Same, but the capture was cut by snaplen (wire length 214): not an anomaly. */
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, sizeof(f), 214), DECODE_OK);
    /* Total length smaller than the header. */
    memcpy(f, syn_frame, sizeof(f));
    f[17] = 10;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, sizeof(f), sizeof(f)), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_IPV4_IPLEN_SMALLER_THAN_HLEN);
    /* TCP data offset 4. */
    memcpy(f, syn_frame, sizeof(f));
    f[46] = 0x40;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, sizeof(f), sizeof(f)), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_TCP_HLEN_TOO_SMALL);
}

static void test_ipv4_options(void **state)
{
    uint8_t f[128];
    size_t n;
    struct pkt_view pv;

    (void)state;
    n = build_eth(f, 0x0800);
    build_ipv4(f + n, 6, "10.0.0.1", "10.0.0.2", 20);
    f[n] = 0x46;      /* IHL 6: 4 bytes of options */
    f[n + 3] = 44;    /* total length 24 + 20 */
    f[n + 20] = 0x07; /* record route */
    f[n + 21] = 0x09; /* length 9: runs past the 4 option bytes */
    f[n + 22] = f[n + 23] = 0;
    build_tcp(f + n + 24, 1, 2, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n + 44, n + 44), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_IPV4_OPT_INVALID_LEN);
    f[n + 20] = 0x01; /* NOP NOP NOP EOL */
    f[n + 21] = 0x01;
    f[n + 22] = 0x01;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n + 44, n + 44), DECODE_OK);
    assert_int_equal(pv.dst_port, 2);
}

static void test_ipv4_fragments(void **state)
{
    uint8_t f[128];
    size_t n = build_eth(f, 0x0800);
    struct pkt_view pv;

    (void)state;
    build_ipv4(f + n, 17, "10.0.0.1", "10.0.0.2", 16);
    f[n + 6] = 0x20; /* MF, offset 0: the first fragment carries the UDP header */
    build_udp(f + n + 20, 5000, 53, 100);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n + 36, n + 36), DECODE_OK);
    assert_true(pv.flags & PV_FIRST_FRAG);
    assert_int_equal(pv.dst_port, 53);
    f[n + 6] = 0x00;
    f[n + 7] = 0x02; /* offset 16 bytes: a later fragment */
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n + 36, n + 36), DECODE_FRAGMENT);
    assert_int_equal(pv.ip_version, 4);
}

static void test_vlan_qinq(void **state)
{
    /* 802.1ad S-tag 100, 802.1Q C-tag 20, then IPv4/TCP. */
    uint8_t f[128];
    size_t n = build_eth(f, 0x88a8);
    struct pkt_view pv;

    (void)state;
    put16(f + n, 100);
    put16(f + n + 2, 0x8100);
    put16(f + n + 4, 20);
    put16(f + n + 6, 0x0800);
    n += 8;
    n += build_ipv4(f + n, 6, "10.0.0.1", "10.0.0.2", 20);
    n += build_tcp(f + n, 1234, 80, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_OK);
    assert_int_equal(pv.vlan_count, 2);
    assert_int_equal(pv.vlan[0], 100);
    assert_int_equal(pv.vlan[1], 20);
    assert_true(pv.seen & (1ull << DC_VLAN_QINQ));
}

static void test_vlan_too_many(void **state)
{
    uint8_t f[128];
    size_t n = build_eth(f, 0x8100), i;
    struct pkt_view pv;

    (void)state;
    for (i = 0; i < 4; i++, n += 4) {
        put16(f + n, (uint16_t)(10 + i));
        put16(f + n + 2, i < 3 ? 0x8100 : 0x0800);
    }
    n += build_ipv4(f + n, 6, "10.0.0.1", "10.0.0.2", 20);
    n += build_tcp(f + n, 1, 2, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_VLAN_TOO_MANY_LAYERS);
}

static void test_mpls(void **state)
{
    /* Two labels (16, 17 with bottom-of-stack), then IPv4. */
    uint8_t f[128];
    size_t n = build_eth(f, 0x8847);
    struct pkt_view pv;
    const uint8_t labels[8] = {0x00, 0x01, 0x00, 0x40, 0x00, 0x01, 0x11, 0x40};

    (void)state;
    memcpy(f + n, labels, 8);
    n += 8;
    n += build_ipv4(f + n, 6, "10.0.0.1", "10.0.0.2", 20);
    n += build_tcp(f + n, 1, 443, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_OK);
    assert_int_equal(pv.dst_port, 443);
    assert_true(pv.seen & (1ull << DC_MPLS));
}

static void test_pppoe(void **state)
{
    /* PPPoE session: ver/type 0x11, code 0, session 1, length 42, PPP 0x0021 (IPv4). */
    uint8_t f[128];
    size_t n = build_eth(f, 0x8864);
    struct pkt_view pv;

    (void)state;
    f[n] = 0x11;
    f[n + 1] = 0x00;
    put16(f + n + 2, 1);
    put16(f + n + 4, 42);
    put16(f + n + 6, 0x0021);
    n += 8;
    n += build_ipv4(f + n, 6, "10.0.0.1", "10.0.0.2", 20);
    n += build_tcp(f + n, 1, 22, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_OK);
    assert_int_equal(pv.dst_port, 22);
    f[15] = 0x09; /* code PADI inside a session frame */
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_PPPOE_WRONG_CODE);
}

static void test_ipv6_exthdr_and_fragment(void **state)
{
    /* IPv6, hop-by-hop (8 bytes, PadN), fragment header (first fragment, M set), UDP. */
    uint8_t f[160];
    size_t n = build_eth(f, 0x86dd), ip = n;
    struct pkt_view pv;

    (void)state;
    n += build_ipv6(f + n, 0, "2001:db8::1", "2001:db8::2", 8 + 8 + 8 + 8);
    f[n] = 44; /* next: fragment */
    f[n + 1] = 0;
    f[n + 2] = 1; /* PadN, length 4 */
    f[n + 3] = 4;
    memset(f + n + 4, 0, 4);
    n += 8;
    f[n] = 17; /* next: UDP */
    f[n + 1] = 0;
    put16(f + n + 2, 0x0001); /* offset 0, M */
    memset(f + n + 4, 0xab, 4);
    n += 8;
    n += build_udp(f + n, 5353, 53, 8);
    memset(f + n, 0, 8);
    n += 8;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_OK);
    assert_int_equal(pv.ip_version, 6);
    assert_int_equal(pv.proto, 17);
    assert_int_equal(pv.dst_port, 53);
    assert_true(pv.flags & PV_FIRST_FRAG);
    /* A later fragment (offset 8) is counted, not tracked. */
    put16(f + ip + 40 + 8 + 2, 0x0008);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_FRAGMENT);
    /* Hop-by-hop length running past the packet. */
    put16(f + ip + 40 + 8 + 2, 0x0001);
    f[ip + 40 + 1] = 20;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_IPV6_TRUNC_EXTHDR);
}

/* Outer IPv4 + GRE + ERSPAN II + inner Ethernet/IPv4/TCP: the inner packet is the flow. */
static void test_gre_erspan2(void **state)
{
    uint8_t f[200];
    size_t n = build_eth(f, 0x0800), ip = n;
    struct pkt_view pv;

    (void)state;
    n += 20;
    put16(f + n, 0x1000); /* GRE: S bit (sequence present), version 0 */
    put16(f + n + 2, 0x88be);
    memset(f + n + 4, 0, 4);
    n += 8;
    f[n] = 0x10; /* ERSPAN II: version 1, VLAN 0 */
    memset(f + n + 1, 0, 7);
    n += 8;
    n += build_eth_ipv4_tcp(f + n, "192.168.1.10", "192.168.1.20", 50000, 3389, TCP_SYN);
    build_ipv4(f + ip, 47, "172.16.0.1", "172.16.0.2", (uint16_t)(n - ip - 20));
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_OK);
    assert_int_equal(pv.dst_port, 3389);
    assert_int_equal(pv.src[12], 192);
    assert_int_equal(pv.tunnel_depth, 1);
    assert_true(pv.seen & (1ull << DC_ERSPAN));
    /* Version 3 in a type II header. */
    f[ip + 20 + 8] = 0x30;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_ERSPAN_UNSUPPORTED_VERSION);
}

static void test_vxlan(void **state)
{
    uint8_t f[200];
    size_t n = build_eth(f, 0x0800), ip = n, udp;
    struct pkt_view pv;
    const uint8_t vxlan[8] = {0x08, 0, 0, 0, 0x00, 0x10, 0x00, 0x00}; /* I flag, VNI 4096 */

    (void)state;
    n += 20;
    udp = n;
    n += 8;
    memcpy(f + n, vxlan, 8);
    n += 8;
    n += build_eth_ipv4_tcp(f + n, "10.1.1.1", "10.2.2.2", 1111, 104, TCP_SYN);
    build_ipv4(f + ip, 17, "172.16.0.1", "172.16.0.2", (uint16_t)(n - udp));
    build_udp(f + udp, 40000, 4789, (uint16_t)(n - udp - 8));
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_OK);
    assert_int_equal(pv.dst_port, 104);
    assert_true(pv.seen & (1ull << DC_VXLAN));
    /* Without the I flag it is ordinary UDP to port 4789. */
    f[udp + 8] = 0;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_OK);
    assert_int_equal(pv.dst_port, 4789);
    assert_int_equal(pv.proto, 17);
}

static void test_ip_in_ip_depth_capped(void **state)
{
    /* IPv4 in IPv4, nested five times: the cap (MM_MAX_ENCAP_DEPTH) ends it. */
    uint8_t f[400];
    size_t n = build_eth(f, 0x0800), i, total = 14 + 5 * 20 + 20 + 20;
    struct pkt_view pv;

    (void)state;
    for (i = 0; i < 5; i++)
        n += build_ipv4(f + n, 4, "10.9.0.1", "10.9.0.2", (uint16_t)(total - n - 20));
    n += build_ipv4(f + n, 6, "10.0.0.1", "10.0.0.2", 20);
    n += build_tcp(f + n, 1, 2, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, n, n), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_TOO_MANY_LAYERS);
}

static void test_link_types(void **state)
{
    uint8_t f[128];
    size_t ipn;
    struct pkt_view pv;

    (void)state;
    /* Linux SLL: 16-byte header, protocol at offset 14. */
    memset(f, 0, 16);
    put16(f + 14, 0x0800);
    ipn = build_ipv4(f + 16, 6, "10.0.0.1", "10.0.0.2", 20);
    build_tcp(f + 16 + ipn, 1, 80, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_SLL, f, 56, 56), DECODE_OK);
    assert_int_equal(pv.dst_port, 80);
    /* SLL2: 20-byte header, protocol first. */
    memset(f, 0, 20);
    put16(f, 0x0800);
    ipn = build_ipv4(f + 20, 6, "10.0.0.1", "10.0.0.2", 20);
    build_tcp(f + 20 + ipn, 1, 81, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_SLL2, f, 60, 60), DECODE_OK);
    assert_int_equal(pv.dst_port, 81);
    /* BSD loopback: AF_INET (2) in little-endian host order. */
    f[0] = 2;
    f[1] = f[2] = f[3] = 0;
    ipn = build_ipv4(f + 4, 6, "127.0.0.1", "127.0.0.1", 20);
    build_tcp(f + 4 + ipn, 1, 82, TCP_SYN);
    assert_int_equal(decode_packet(&pv, MM_LINK_NULL, f, 44, 44), DECODE_OK);
    assert_int_equal(pv.dst_port, 82);
    /* Raw IP. */
    assert_int_equal(decode_packet(&pv, MM_LINK_RAW, f + 4, 40, 40), DECODE_OK);
    f[4] = 0x75;
    assert_int_equal(decode_packet(&pv, MM_LINK_RAW, f + 4, 40, 40), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_RAW_INVALID_IP_VERSION);
}

static void test_non_ip(void **state)
{
    uint8_t f[64] = {0};
    struct pkt_view pv;

    (void)state;
    build_eth(f, 0x0806); /* ARP */
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, 42, 42), DECODE_NOT_IP);
    assert_true(pv.seen & (1ull << DC_ARP));
    build_eth(f, 0x88cc); /* LLDP */
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, 60, 60), DECODE_NOT_IP);
    assert_true(pv.seen & (1ull << DC_UNKNOWN_ETHERTYPE));
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, 10, 10), DECODE_ANOMALY);
    assert_int_equal(pv.anomaly, DA_ETH_PKT_TOO_SMALL);
}

/* Every prefix of valid frames, and random bytes, must decode to some result without a fault. */
static void test_truncation_and_garbage(void **state)
{
    uint8_t f[256], *copy;
    size_t n, len;
    unsigned i, seed = 12345;
    struct pkt_view pv;
    int r;

    (void)state;
    n = build_eth_ipv4_tcp(f, "10.0.0.1", "10.0.0.2", 1, 2, TCP_SYN);
    for (len = 0; len <= n; len++) {
        copy = malloc(len ? len : 1); /* exact-size buffers let ASan catch over-reads */
        memcpy(copy, f, len);
        r = decode_packet(&pv, MM_LINK_ETHERNET, copy, (uint32_t)len, (uint32_t)len);
        assert_true(len == n ? r == DECODE_OK : r == DECODE_ANOMALY);
        free(copy);
    }
    for (i = 0; i < 20000; i++) {
        len = (size_t)(rand_r(&seed) % 200);
        copy = malloc(len ? len : 1);
        for (n = 0; n < len; n++)
            copy[n] = (uint8_t)rand_r(&seed);
        if (len > 14 && (i & 1)) { /* steer half of them into IPv4 */
            copy[12] = 0x08;
            copy[13] = 0x00;
            copy[14] = 0x45;
        }
        r = decode_packet(&pv, (enum mm_link)(1 + i % 6), copy, (uint32_t)len, (uint32_t)len);
        assert_true(r >= DECODE_OK && r <= DECODE_ANOMALY);
        free(copy);
    }
}

static void test_stats_account(void **state)
{
    struct decode_stats st;
    struct pkt_view pv;
    int r;

    (void)state;
    memset(&st, 0, sizeof(st));
    r = decode_packet(&pv, MM_LINK_ETHERNET, syn_frame, sizeof(syn_frame), sizeof(syn_frame));
    decode_stats_account(&st, &pv, r, sizeof(syn_frame));
    r = decode_packet(&pv, MM_LINK_ETHERNET, syn_frame, 30, 30);
    decode_stats_account(&st, &pv, r, 30);
    assert_int_equal(st.pkts, 2);
    assert_int_equal(st.bytes, sizeof(syn_frame) + 30);
    assert_int_equal(st.layer[DC_ETHERNET], 2);
    assert_int_equal(st.layer[DC_TCP], 1);
    assert_int_equal(st.invalid, 1);
    assert_int_equal(st.anomaly[DA_IPV4_PKT_TOO_SMALL], 1);
    assert_string_equal(decode_anomaly_layer(DA_IPV4_PKT_TOO_SMALL), "ipv4");
    assert_string_equal(decode_anomaly_name(DA_IPV4_PKT_TOO_SMALL), "pkt_too_small");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_tcp),
        cmocka_unit_test(test_ethernet_padding_clamped),
        cmocka_unit_test(test_ipv4_anomalies),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_vlan_qinq),
        cmocka_unit_test(test_vlan_too_many),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_pppoe),
        cmocka_unit_test(test_ipv6_exthdr_and_fragment),
        cmocka_unit_test(test_gre_erspan2),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_ip_in_ip_depth_capped),
        cmocka_unit_test(test_link_types),
        cmocka_unit_test(test_non_ip),
        cmocka_unit_test(test_truncation_and_garbage),
        cmocka_unit_test(test_stats_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
