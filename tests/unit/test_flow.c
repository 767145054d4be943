/*
 * Flow table tests: both directions map to one flow, the client is chosen right, TCP state
 * follows SYN/FIN/RST, each timeout class expires on its own clock, a full pool evicts the
 * longest-idle flow, expiry keeps up when packet times step back, and every flow leaves through
 * on_end exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "mimamori/flow.h"
#include "pkt_build.h"

struct ended {
    unsigned n;
    unsigned reasons[3];
    uint64_t last_id;
};

static void on_end(void *ud, struct flow *f, enum flow_end_reason reason)
{
    struct ended *e = ud;
    e->n++;
    e->reasons[reason]++;
    e->last_id = f->id;
}

static struct flow_table *table(struct ended *e, uint32_t max)
{
    struct flow_table_config cfg;
    struct flow_table *t;

    flow_table_config_default(&cfg);
    cfg.max_flows = max;
    cfg.seed = 42;
    cfg.on_end = on_end;
    cfg.ud = e;
    assert_int_equal(flow_table_create(&t, &cfg), 0);
    return t;
}

static struct pkt_view view(const char *src, const char *dst, uint8_t proto, uint16_t sp,
                            uint16_t dp, uint8_t flags)
{
    uint8_t f[128];
    size_t n = build_eth(f, 0x0800);
    struct pkt_view pv;

    n += build_ipv4(f + n, proto, src, dst, 20);
    if (proto == 6)
        n += build_tcp(f + n, sp, dp, flags);
    else {
        n += build_udp(f + n, sp, dp, 12);
        memset(f + n, 0, 12);
        n += 12;
    }
    assert_int_equal(decode_packet(&pv, MM_LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n), DECODE_OK);
    pv.l3 = NULL; /* the frame buffer is gone after return; the table must not need it */
    return pv;
}

#define S(x) ((uint64_t)(x)*1000000u)

static void test_bidirectional_handshake(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    struct pkt_view syn = view("10.0.0.1", "10.0.0.2", 6, 40000, 445, TCP_SYN);
    struct pkt_view synack = view("10.0.0.2", "10.0.0.1", 6, 445, 40000, TCP_SYN | TCP_ACK);
    struct pkt_view ack = view("10.0.0.1", "10.0.0.2", 6, 40000, 445, TCP_ACK);
    struct flow *f1, *f2, *f3;
    int dir, created;

    (void)state;
    f1 = flow_table_update(t, &syn, 60, S(100), &dir, &created);
    assert_true(created);
    assert_int_equal(dir, FLOW_TOSERVER);
    f2 = flow_table_update(t, &synack, 60, S(100) + 10, &dir, &created);
    assert_false(created);
    assert_ptr_equal(f1, f2);
    assert_int_equal(dir, FLOW_TOCLIENT);
    assert_int_equal(f1->state, FLOW_STATE_ESTABLISHED);
    f3 = flow_table_update(t, &ack, 54, S(101), &dir, &created);
    assert_ptr_equal(f1, f3);
    assert_int_equal(f1->pkts[FLOW_TOSERVER], 2);
    assert_int_equal(f1->pkts[FLOW_TOCLIENT], 1);
    assert_int_equal(f1->bytes[FLOW_TOSERVER], 114);
    assert_int_equal(flow_src_port(f1), 40000);
    assert_int_equal(flow_dst_port(f1), 445);
    assert_true(f1->id != 0 && f1->id < (1ULL << 51));
    flow_table_destroy(t);
}

static void test_client_from_synack(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    struct pkt_view synack = view("10.0.0.2", "10.0.0.1", 6, 445, 40000, TCP_SYN | TCP_ACK);
    struct flow *f;
    int dir, created;

    (void)state;
    f = flow_table_update(t, &synack, 60, S(1), &dir, &created);
    assert_int_equal(dir, FLOW_TOCLIENT);
    assert_int_equal(flow_dst_port(f), 445);
    assert_int_equal(flow_src_addr(f)[15], 1);
    flow_table_destroy(t);
}

static void test_rst_closes_and_expires_fast(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    struct pkt_view syn = view("10.0.0.1", "10.0.0.2", 6, 1, 22, TCP_SYN);
    struct pkt_view rst = view("10.0.0.2", "10.0.0.1", 6, 22, 1, TCP_RST | TCP_ACK);
    struct pkt_view udp = view("10.0.0.1", "10.0.0.9", 17, 5000, 53, 0);
    struct flow *f;
    int dir, created;

    (void)state;
    f = flow_table_update(t, &syn, 60, S(10), &dir, &created);
    flow_table_update(t, &rst, 60, S(10), &dir, &created);
    assert_int_equal(f->state, FLOW_STATE_CLOSED);
    flow_table_update(t, &udp, 60, S(10), &dir, &created);
    /* Closed TCP times out after MM_TIMEOUT_TCP_CLOSED (10 s); UDP is still alive. */
    assert_int_equal(flow_table_expire(t, S(19), 0), 0);
    assert_int_equal(flow_table_expire(t, S(20), 0), 1);
    assert_int_equal(e.reasons[FLOW_END_TIMEOUT], 1);
    assert_int_equal(flow_table_expire(t, S(129), 0), 0);
    assert_int_equal(flow_table_expire(t, S(130), 0), 1); /* UDP: 120 s */
    flow_table_destroy(t);
}

static void test_fin_both_ways_closes(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    struct pkt_view a = view("10.0.0.1", "10.0.0.2", 6, 1, 80, TCP_ACK | TCP_FIN);
    struct pkt_view b = view("10.0.0.2", "10.0.0.1", 6, 80, 1, TCP_ACK | TCP_FIN);
    struct flow *f;
    int dir, created;

    (void)state;
    f = flow_table_update(t, &a, 60, S(1), &dir, &created);
    assert_int_equal(f->state, FLOW_STATE_NEW);
    flow_table_update(t, &b, 60, S(2), &dir, &created);
    assert_int_equal(f->state, FLOW_STATE_CLOSED);
    flow_table_destroy(t);
}

static void test_eviction_when_full(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 16);
    struct flow_table_stats st;
    char dst[32];
    int i, dir, created;
    uint64_t first_id = 0;

    (void)state;
    for (i = 0; i < 20; i++) {
        struct pkt_view pv;
        snprintf(dst, sizeof(dst), "10.1.0.%d", i + 1);
        pv = view("10.0.0.1", dst, 17, 5000, 53, 0);
        struct flow *f = flow_table_update(t, &pv, 60, S(100 + i), &dir, &created);
        assert_true(created);
        if (i == 0)
            first_id = f->id;
        if (i == 16)
            assert_int_equal(e.last_id, first_id); /* the longest idle went first */
    }
    flow_table_get_stats(t, &st);
    assert_int_equal(st.active, 16);
    assert_int_equal(st.evicted, 4);
    assert_int_equal(e.reasons[FLOW_END_FORCED], 4);
    assert_int_equal(st.total, 20);
    flow_table_flush(t, FLOW_END_SHUTDOWN);
    assert_int_equal(e.reasons[FLOW_END_SHUTDOWN], 16);
    assert_int_equal(e.n, 20);
    flow_table_get_stats(t, &st);
    assert_int_equal(st.active, 0);
    flow_table_destroy(t);
}

static void test_vlan_separates_flows(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    struct pkt_view a = view("10.0.0.1", "10.0.0.2", 17, 1, 53, 0), b = a;
    struct flow *fa, *fb;
    int dir, created;

    (void)state;
    a.vlan_count = 1;
    a.vlan[0] = 10;
    b.vlan_count = 1;
    b.vlan[0] = 20;
    fa = flow_table_update(t, &a, 60, S(1), &dir, &created);
    fb = flow_table_update(t, &b, 60, S(1), &dir, &created);
    assert_true(created);
    assert_ptr_not_equal(fa, fb);
    flow_table_destroy(t);
}

static void test_expire_budget(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    char dst[32];
    int i, dir, created;

    (void)state;
    for (i = 0; i < 10; i++) {
        struct pkt_view pv;
        snprintf(dst, sizeof(dst), "10.2.0.%d", i + 1);
        pv = view("10.0.0.1", dst, 17, 5000, 123, 0);
        flow_table_update(t, &pv, 60, S(1), &dir, &created);
    }
    assert_int_equal(flow_table_expire(t, S(1000), 3), 3);
    assert_int_equal(flow_table_expire(t, S(1000), 0), 7);
    flow_table_destroy(t);
}

/*
 * Expiry only looks again once the earliest head's deadline has passed, or when a list gets a
 * new head. A packet from the past (merged captures step back in time) makes a flow whose
 * deadline is earlier than the head's: it must go as soon as it is the head.
 */
static void test_expire_after_time_stepped_back(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    struct pkt_view a = view("10.0.0.1", "10.3.0.1", 17, 5000, 123, 0);
    struct pkt_view b = view("10.0.0.1", "10.3.0.2", 17, 5000, 123, 0);
    int dir, created;

    (void)state;
    flow_table_update(t, &a, 60, S(1000), &dir, &created);
    assert_int_equal(flow_table_expire(t, S(1000), 0), 0); /* next look: A's deadline, 1120 s */
    flow_table_update(t, &b, 60, S(10), &dir, &created);   /* B is due at 130 s, behind A */
    assert_int_equal(flow_table_expire(t, S(1001), 0), 0);
    flow_table_update(t, &a, 60, S(1001), &dir, &created); /* A to the tail: B is the head */
    assert_int_equal(flow_table_expire(t, S(1001), 0), 1);
    assert_int_equal(e.reasons[FLOW_END_TIMEOUT], 1);
    assert_int_equal(flow_table_expire(t, S(1120), 0), 0);
    assert_int_equal(flow_table_expire(t, S(1121), 0), 1); /* A, 120 s after its last packet */
    flow_table_destroy(t);
}

/* A TCP segment: seq, payload length on the wire, and the ACK it carries. */
static struct pkt_view seg(int to_server, uint8_t flags, uint32_t seq, uint32_t len, uint32_t ack)
{
    struct pkt_view pv = to_server ? view("10.0.0.1", "10.0.0.2", 6, 40000, 80, flags)
                                   : view("10.0.0.2", "10.0.0.1", 6, 80, 40000, flags);
    pv.tcp_seq = seq;
    pv.tcp_seg_len = len;
    pv.tcp_ack = ack;
    return pv;
}

static void feed(struct flow_table *t, struct pkt_view pv, uint64_t ts)
{
    int dir, created;

    flow_table_update(t, &pv, 60, ts, &dir, &created);
}

static struct flow_ack_stats acks(struct flow_table *t)
{
    struct flow_table_stats st;

    flow_table_get_stats(t, &st);
    return st.ack[0];
}

static void test_acks_for_unseen_data(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    const uint32_t c = 0xfffffff0u, s = 5000; /* the client's sequence wraps on the way */

    (void)state;
    feed(t, seg(1, TCP_SYN, c, 0, 0), S(1));
    feed(t, seg(0, TCP_SYN | TCP_ACK, s, 0, c + 1), S(1));
    feed(t, seg(1, TCP_ACK, c + 1, 100, s + 1), S(1));
    assert_int_equal(acks(t).checked, 2);
    assert_int_equal(acks(t).gaps, 0);
    /* Server data: 1000 bytes seen, 1000 lost, 1000 seen; the client acknowledges all. */
    feed(t, seg(0, TCP_ACK, s + 1, 1000, c + 101), S(2));
    feed(t, seg(0, TCP_ACK, s + 2001, 1000, c + 101), S(2));
    feed(t, seg(1, TCP_ACK, c + 101, 0, s + 3001), S(2));
    assert_int_equal(acks(t).gaps, 1);
    assert_int_equal(acks(t).gap_bytes, 2000); /* estimate: from the hole to the ACK */
    /* Reordered, not lost: the later segment first, then the earlier; the ACK is no gap. */
    feed(t, seg(0, TCP_ACK, s + 4001, 1000, c + 101), S(3));
    feed(t, seg(0, TCP_ACK, s + 3001, 1000, c + 101), S(3));
    feed(t, seg(1, TCP_ACK, c + 101, 0, s + 5001), S(3));
    assert_int_equal(acks(t).gaps, 1);
    /* Client data across the wrap, acknowledged in order. */
    feed(t, seg(1, TCP_ACK, c + 101, 500, s + 5001), S(4));
    feed(t, seg(0, TCP_ACK, s + 5001, 0, c + 601), S(4));
    assert_int_equal(acks(t).gaps, 1);
    /* The tail lost: acknowledged beyond anything seen, counted once. */
    feed(t, seg(0, TCP_ACK, s + 5001, 0, c + 901), S(5));
    feed(t, seg(0, TCP_ACK, s + 5001, 0, c + 901), S(5));
    assert_int_equal(acks(t).gaps, 2);
    /* A RST's ACK field proves nothing. */
    feed(t, seg(0, TCP_RST | TCP_ACK, s + 5001, 0, c + 99999), S(6));
    assert_int_equal(acks(t).gaps, 2);
    assert_int_equal(acks(t).one_way, 0);
    flow_table_destroy(t);
}

static void test_acks_one_way(void **state)
{
    struct ended e = {0};
    struct flow_table *t = table(&e, 64);
    uint32_t i;

    (void)state;
    /* Only the client's side mirrored: its ACKs answer a server never seen. */
    for (i = 0; i < 10; i++)
        feed(t, seg(1, TCP_ACK | TCP_PSH, 1000 + i * 100, 100, 7000 + i * 50), S(1 + i));
    assert_int_equal(acks(t).acks, 10);
    assert_int_equal(acks(t).one_way, 10);
    assert_int_equal(acks(t).checked, 0);
    assert_int_equal(acks(t).one_way_example.sport, 40000);
    assert_int_equal(acks(t).one_way_example.dport, 80);
    flow_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bidirectional_handshake),
        cmocka_unit_test(test_client_from_synack),
        cmocka_unit_test(test_rst_closes_and_expires_fast),
        cmocka_unit_test(test_fin_both_ways_closes),
        cmocka_unit_test(test_eviction_when_full),
        cmocka_unit_test(test_vlan_separates_flows),
        cmocka_unit_test(test_expire_budget),
        cmocka_unit_test(test_expire_after_time_stepped_back),
        cmocka_unit_test(test_acks_for_unseen_data),
        cmocka_unit_test(test_acks_one_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
