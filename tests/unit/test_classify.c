/*
 * Classifier tests with the real nDPI: a DNS query is recognised on its first packet with its
 * query name kept, the nDPI state is freed once final and recycled for the next flow, and a
 * flow nDPI cannot recognise gives up after the packet budget. Protocol names read as nDPI's
 * own ndpi_protocol2name() writes them. At its limits the classifier gives up on the flow fed
 * the longest ago, counts the memory nDPI holds for its flows, and leaves the emergency once a
 * tenth below its limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <ndpi_api.h>

#include "mimamori/classify.h"
#include "mimamori/zone.h"
#include "mimamori/limits.h"
#include "pkt_build.h"

/* DNS query for www.example.org, type A: id, flags RD, 1 question. */
static const uint8_t dns_query[] = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header */
    3,    'w',  'w',  'w',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  /* qname */
    3,    'o',  'r',  'g',  0,    0x00, 0x01, 0x00, 0x01,                   /* A, IN */
};

/* The answer: pointer to the question name, A, IN, TTL 60, 4 bytes, 192.0.2.80. */
static const uint8_t dns_answer[] = {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
                                     0x00, 0x3c, 0x00, 0x04, 192,  0,    2,    80};

/* The query, or (response) the server's reply: QR and RA set, one answer. */
static size_t dns_frame(uint8_t *f, int response)
{
    size_t n = build_eth(f, 0x0800), dlen = sizeof(dns_query);

    if (response)
        dlen += sizeof(dns_answer);
    n += build_ipv4(f + n, 17, response ? "10.0.0.53" : "10.0.0.1",
                    response ? "10.0.0.1" : "10.0.0.53", (uint16_t)(8 + dlen));
    n += build_udp(f + n, response ? 53 : 40000, response ? 40000 : 53, (uint16_t)dlen);
    memcpy(f + n, dns_query, sizeof(dns_query));
    if (response) {
        f[n + 2] = 0x81;
        f[n + 3] = 0x80;
        f[n + 7] = 1; /* ANCOUNT */
        memcpy(f + n + sizeof(dns_query), dns_answer, sizeof(dns_answer));
    }
    return n + dlen;
}

static void test_dns(void **state)
{
    struct classify *c;
    struct classify_names names;
    struct classify_stats st;
    struct flow f;
    struct pkt_view pv;
    uint8_t frame[128];
    size_t n = dns_frame(frame, 0);

    (void)state;
    assert_int_equal(classify_create(&c), 0);
    memset(&f, 0, sizeof(f));
    f.key.proto = 17;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, frame, (uint32_t)n, (uint32_t)n),
                     DECODE_OK);
    assert_int_equal(classify_flow_start(c, &f), 0);
    assert_non_null(f.app.state);
    /* DNS is known from the query, but nDPI still wants the answer: not final yet. */
    assert_int_equal(classify_packet(c, &f, &pv, FLOW_TOSERVER, 1000000), 0);
    assert_non_null(f.app.state);
    n = dns_frame(frame, 1);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, frame, (uint32_t)n, (uint32_t)n),
                     DECODE_OK);
    assert_int_equal(classify_packet(c, &f, &pv, FLOW_TOCLIENT, 1001000), 1);
    assert_null(f.app.state);
    assert_true(f.app.done);
    classify_names(c, &f.app, &names);
    assert_string_equal(names.protocol, "DNS");
    assert_string_equal(names.app_proto, "dns");
    assert_string_equal(names.confidence, "DPI");
    assert_string_equal(classify_meta_get(f.app.meta, META_DNS_RRNAME), "www.example.org");
    assert_null(classify_meta_get(f.app.meta, META_TLS_SNI));
    classify_flow_release(c, &f);

    /* The freed state is reused for the next flow; a flow ending mid-way is finished with
     * what nDPI knows so far. */
    memset(&f, 0, sizeof(f));
    f.key.proto = 17;
    assert_int_equal(classify_flow_start(c, &f), 0);
    n = dns_frame(frame, 0);
    decode_packet(&pv, MM_LINK_ETHERNET, frame, (uint32_t)n, (uint32_t)n);
    assert_int_equal(classify_packet(c, &f, &pv, FLOW_TOSERVER, 2000000), 0);
    classify_flow_finish(c, &f);
    assert_null(f.app.state);
    classify_names(c, &f.app, &names);
    assert_string_equal(names.protocol, "DNS");
    classify_get_stats(c, &st);
    assert_int_equal(st.state_allocs, 1);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.finished, 2);
    classify_flow_release(c, &f);
    classify_destroy(c);
}

/* Client to server, with a request whose Host and User-Agent carry bytes that are not text. */
static size_t http_frame(uint8_t *f)
{
    static const char req[] = "GET / HTTP/1.1\r\n"
                              "Host: upd\xff"
                              "ate.vendor.example\r\n"
                              "User-Agent: A\\g\x01"
                              "\xc3\xa9"
                              "nt\xfe\xff/1\r\n\r\n";
    size_t n = build_eth(f, 0x0800), len = sizeof(req) - 1;

    n += build_ipv4(f + n, 6, "10.1.0.5", "203.0.113.80", (uint16_t)(20 + len));
    n += build_tcp(f + n, 40000, 80, 0x18);
    memcpy(f + n, req, len);
    return n + len;
}

/*
 * Metadata is kept as text events can carry: a stray byte once made the JSON writer drop the
 * whole Host (and the evidence naming it). Valid UTF-8 stays as it is; a control character,
 * a backslash and a byte that is not UTF-8 are escaped.
 */
static void test_meta_bytes(void **state)
{
    struct classify *c;
    struct flow f;
    struct pkt_view pv;
    uint8_t frame[256];
    size_t n = http_frame(frame);

    (void)state;
    assert_int_equal(classify_create(&c), 0);
    memset(&f, 0, sizeof(f));
    f.key.proto = 6;
    assert_int_equal(classify_flow_start(c, &f), 0);
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, frame, (uint32_t)n, (uint32_t)n),
                     DECODE_OK);
    classify_packet(c, &f, &pv, FLOW_TOSERVER, 1000000);
    classify_flow_finish(c, &f);
    assert_string_equal(classify_meta_get(f.app.meta, META_HTTP_HOST),
                        "upd\\xffate.vendor.example");
    assert_string_equal(classify_meta_get(f.app.meta, META_HTTP_USER_AGENT),
                        "A\\\\g\\x01\xc3\xa9nt\\xfe\\xff/1");
    classify_flow_release(c, &f);
    classify_destroy(c);
}

/* One TCP segment with payload from src:sp to dst:dp, decoded into pv. */
static void tcp_data(uint8_t *frame, struct pkt_view *pv, const char *src, uint16_t sp,
                     const char *dst, uint16_t dp, const char *data)
{
    size_t n = build_eth(frame, 0x0800), len = strlen(data);

    n += build_ipv4(frame + n, 6, src, dst, (uint16_t)(20 + len));
    n += build_tcp(frame + n, sp, dp, 0x18);
    memcpy(frame + n, data, len);
    n += len;
    assert_int_equal(decode_packet(pv, MM_LINK_ETHERNET, frame, (uint32_t)n, (uint32_t)n),
                     DECODE_OK);
}

/* A flow from 10.5.0.50:50000 to 10.1.0.20:port, its server's data first, then its client's. */
static struct flow *talk(struct classify *c, struct flow *f, uint16_t port, const char *server,
                         const char *client)
{
    uint8_t frame[512];
    struct pkt_view pv;

    memset(f, 0, sizeof(*f));
    f->key.proto = 6;
    assert_int_equal(zone_parse_addr("10.5.0.50", f->key.addr[0]), 0);
    assert_int_equal(zone_parse_addr("10.1.0.20", f->key.addr[1]), 0);
    f->key.port[0] = 50000;
    f->key.port[1] = port;
    f->client = 0;
    assert_int_equal(classify_flow_start(c, f), 0);
    tcp_data(frame, &pv, "10.1.0.20", port, "10.5.0.50", 50000, server);
    classify_packet(c, f, &pv, FLOW_TOCLIENT, 1000000);
    tcp_data(frame, &pv, "10.5.0.50", 50000, "10.1.0.20", port, client);
    classify_packet(c, f, &pv, FLOW_TOSERVER, 1001000);
    classify_flow_finish(c, f);
    return f;
}

/*
 * What the classifier reads itself: a shell's banner opening the server's side of an unnamed
 * flow is the cleartext_shell risk, the same text inside a web page is not; and the SSH
 * software of each side is the one that side sent, though the server spoke first.
 */
static void test_seen_in_payload(void **state)
{
    struct classify *c;
    struct flow f;

    (void)state;
    assert_int_equal(classify_create(&c), 0);
    talk(c, &f, 4444, "Microsoft Windows [Version 10.0.17763.4377]\r\n", "whoami\r\n");
    assert_true(f.app.risk & (1ULL << CLASSIFY_RISK_SHELL));
    classify_flow_release(c, &f);
    talk(c, &f, 8080, "HTTP/1.1 200 OK\r\n\r\nMicrosoft Windows [Version 10.0]\n",
         "GET / HTTP/1.1\r\n\r\n");
    assert_false(f.app.risk & (1ULL << CLASSIFY_RISK_SHELL));
    classify_flow_release(c, &f);
    talk(c, &f, 22, "SSH-1.5-OpenSSH_2.5.2p2\r\n", "SSH-2.0-PuTTY_0.78\r\n");
    assert_string_equal(classify_meta_get(f.app.meta, META_SSH_SERVER), "OpenSSH_2.5.2p2");
    assert_string_equal(classify_meta_get(f.app.meta, META_SSH_CLIENT), "PuTTY_0.78");
    assert_int_equal(classify_lookup_risk("cleartext_shell"), CLASSIFY_RISK_SHELL);
    assert_string_equal(classify_risk_key(CLASSIFY_RISK_SHELL), "cleartext_shell");
    classify_flow_release(c, &f);
    classify_destroy(c);
}

static void test_budget_gives_up(void **state)
{
    struct classify *c;
    struct flow f;
    struct pkt_view pv;
    uint8_t frame[128];
    size_t n = build_eth(frame, 0x0800);
    unsigned i;
    int done = 0;

    (void)state;
    n += build_ipv4(frame + n, 17, "10.0.0.1", "10.0.0.2", 8 + 16);
    n += build_udp(frame + n, 41000, 41001, 16);
    memset(frame + n, 0x5a, 16); /* nothing nDPI knows */
    n += 16;
    assert_int_equal(classify_create(&c), 0);
    memset(&f, 0, sizeof(f));
    f.key.proto = 17;
    classify_flow_start(c, &f);
    for (i = 0; i < MM_CLASSIFY_UDP_PKTS && !done; i++) {
        decode_packet(&pv, MM_LINK_ETHERNET, frame, (uint32_t)n, (uint32_t)n);
        done = classify_packet(c, &f, &pv, FLOW_TOSERVER, 1000000 + i);
    }
    assert_true(done);
    assert_int_equal(i, MM_CLASSIFY_UDP_PKTS);
    assert_null(f.app.state);
    assert_int_equal(f.app.app, 0);
    classify_flow_release(c, &f);
    classify_destroy(c);
}

/* The "Master.App" name, made without nDPI's snprintf, equals nDPI's own for every protocol
 * under several masters (none, the protocol itself, a few common ones and the last one). */
static void test_names_match_ndpi(void **state)
{
    struct ndpi_detection_module_struct *m = ndpi_init_detection_module(ndpi_no_prefs);
    NDPI_PROTOCOL_BITMASK all;
    struct classify *c;
    struct classify_names names;
    struct flow f;
    uint16_t masters[] = {NDPI_PROTOCOL_UNKNOWN, NDPI_PROTOCOL_HTTP, NDPI_PROTOCOL_TLS,
                          NDPI_PROTOCOL_DNS,     NDPI_PROTOCOL_QUIC, 0};
    unsigned i, app, n, checked = 0;
    char want[64];

    (void)state;
    assert_non_null(m);
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(m, &all);
    ndpi_finalize_initialization(m);
    n = ndpi_get_num_supported_protocols(m);
    masters[sizeof(masters) / sizeof(masters[0]) - 1] = (uint16_t)(n - 1);
    assert_int_equal(classify_create(&c), 0);
    memset(&f, 0, sizeof(f));
    for (i = 0; i < sizeof(masters) / sizeof(masters[0]); i++) {
        for (app = 0; app < n; app++) {
            ndpi_protocol p = {masters[i], (uint16_t)app, NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
            if (app == CLASSIFY_PROTO_HL7 || app == CLASSIFY_PROTO_DICOM)
                continue; /* Mimamori's own: named by it */
            f.app.master = masters[i];
            f.app.app = (uint16_t)app;
            classify_names(c, &f.app, &names);
            ndpi_protocol2name(m, p, want, sizeof(want));
            assert_string_equal(names.protocol, want);
            checked++;
        }
        /* and the protocol as its own master */
        f.app.master = f.app.app = masters[i];
        classify_names(c, &f.app, &names);
        ndpi_protocol2name(m, (ndpi_protocol){masters[i], masters[i], 0}, want, sizeof(want));
        assert_string_equal(names.protocol, want);
    }
    assert_true(checked > 1000);
    classify_destroy(c);
    ndpi_exit_detection_module(m);
}

/* Twenty flows being classified at most: the next makes room by giving up on the one fed the
 * longest ago (not the one started first), which is finished like a spent budget. */
static void test_limits_give_up_the_oldest(void **state)
{
    struct classify *c;
    struct classify_stats st;
    struct flow f[22];
    struct pkt_view pv;
    uint8_t frame[128];
    size_t n = build_eth(frame, 0x0800);
    unsigned i;

    (void)state;
    n += build_ipv4(frame + n, 17, "10.0.0.1", "10.0.0.2", 8 + 16);
    n += build_udp(frame + n, 41000, 41001, 16);
    memset(frame + n, 0xA5, 16);
    n += 16;
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, frame, (uint32_t)n, (uint32_t)n),
                     DECODE_OK);
    assert_int_equal(classify_create(&c), 0);
    classify_set_limits(c, 20, 0);
    memset(f, 0, sizeof(f));
    for (i = 0; i < 20; i++) {
        f[i].key.proto = 17;
        assert_null(classify_make_room(c));
        assert_int_equal(classify_flow_start(c, &f[i]), 0);
        assert_int_equal(classify_packet(c, &f[i], &pv, FLOW_TOSERVER, 1000000 + i), 0);
    }
    classify_get_stats(c, &st);
    assert_int_equal(st.active, 20);
    /* nDPI's state for the flows is counted: at least its blocks, not wildly more. */
    assert_true(st.memuse >= 20 * SIZEOF_FLOW_STRUCT);
    assert_true(st.memuse < 20 * 4096);
    assert_int_equal(classify_packet(c, &f[0], &pv, FLOW_TOSERVER, 2000000),
                     0); /* f[1] is now the oldest */
    f[20].key.proto = 17;
    assert_ptr_equal(classify_make_room(c), &f[1]);
    assert_null(f[1].app.state);
    assert_true(f[1].app.done);
    assert_non_null(f[0].app.state);
    assert_null(classify_make_room(c)); /* room for one: no more given up */
    assert_int_equal(classify_flow_start(c, &f[20]), 0);
    classify_get_stats(c, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.emerg_entered, 1);
    assert_int_equal(st.active, 20);
    /* One below the limit is not out of the emergency (a tenth below is: 18). */
    classify_flow_finish(c, &f[2]);
    f[21].key.proto = 17;
    assert_null(classify_make_room(c));
    classify_get_stats(c, &st);
    assert_int_equal(st.emerg_over, 0);
    classify_flow_finish(c, &f[3]);
    classify_flow_finish(c, &f[4]);
    assert_null(classify_make_room(c));
    classify_get_stats(c, &st);
    assert_int_equal(st.emerg_over, 1);
    assert_int_equal(st.evicted, 1);
    for (i = 0; i < 22; i++)
        classify_flow_release(c, &f[i]);
    classify_get_stats(c, &st);
    assert_int_equal(st.active, 0);
    classify_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_meta_bytes),
        cmocka_unit_test(test_seen_in_payload),
        cmocka_unit_test(test_budget_gives_up),
        cmocka_unit_test(test_names_match_ndpi),
        cmocka_unit_test(test_limits_give_up_the_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
