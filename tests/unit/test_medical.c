/*
 * The medical module's TCP handling on hand-made segments: probing only while a flow is being
 * classified, retransmitted and overlapping bytes given to the parser once, lost bytes reported
 * as a gap, the cap on followed flows, and state returned when the flow goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/medical.h"

static const char adt[] = "\x0bMSH|^~\\&|HIS|HOSP|LIS|HOSP|20261125||ADT^A01|1|P|2.5\r"
                          "PID|1||X\r\x1c\r";

/* A classifier state that is only ever compared with NULL here. */
static struct classify_flow *const classifying = (struct classify_flow *)&classifying;

static unsigned segment(struct medical *m, struct flow *f, int dir, uint32_t seq, const char *p,
                        size_t n)
{
    struct pkt_view pv;

    memset(&pv, 0, sizeof(pv));
    pv.proto = 6;
    pv.tcp_seq = seq;
    pv.payload = (const uint8_t *)p;
    pv.payload_len = (uint32_t)n;
    return medical_packet(m, f, &pv, dir);
}

static void test_split_and_retransmitted(void **state)
{
    struct medical *m;
    struct medical_stats st;
    struct flow f;
    const size_t cut = 20, n = sizeof(adt) - 1;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.app.state = classifying;
    assert_int_equal(medical_create(&m, 16), 0);
    assert_int_equal(segment(m, &f, 0, 1000, adt, cut), MEDICAL_FOUND);
    assert_int_equal(medical_proto_of(&f), MEDICAL_HL7);
    assert_int_equal(medical_news(&f), MEDICAL_FOUND);
    medical_news_clear(&f);
    f.app.state = NULL; /* classification ended with the find */
    /* The first part again, then the rest overlapping it by 5 bytes, then all of it again. */
    assert_int_equal(segment(m, &f, 0, 1000, adt, cut), 0);
    assert_true(segment(m, &f, 0, 1000 + cut - 5, adt + cut - 5, n - cut + 5) & MEDICAL_NEWS);
    assert_int_equal(segment(m, &f, 0, 1000, adt, n), 0);
    assert_int_equal(medical_hl7(&f)->messages[0], 1);
    assert_string_equal(medical_hl7(&f)->first.type, "ADT^A01");
    assert_int_equal(medical_hl7(&f)->anomalies[HL7_AN_GAP], 0);
    /* A keepalive (one byte before the next expected one) is nothing. */
    assert_int_equal(segment(m, &f, 0, 1000 + (uint32_t)n - 1, "\r", 1), 0);
    medical_get_stats(m, &st);
    assert_int_equal(st.retransmitted, 1);
    assert_int_equal(st.active, 1);
    medical_flow_release(m, &f);
    assert_null(f.app.med);
    medical_get_stats(m, &st);
    assert_int_equal(st.active, 0);
    medical_destroy(m);
}

static void test_gap_and_wrap(void **state)
{
    struct medical *m;
    struct flow f;
    const size_t n = sizeof(adt) - 1;
    uint32_t seq = 0xFFFFFFF0u; /* the sequence numbers wrap inside the first message */

    (void)state;
    memset(&f, 0, sizeof(f));
    f.app.state = classifying;
    assert_int_equal(medical_create(&m, 16), 0);
    segment(m, &f, 0, seq, adt, n);
    seq += (uint32_t)n;
    assert_int_equal(medical_hl7(&f)->messages[0], 1);
    /* 100 bytes are lost: the parser is told, and picks up at the next frame. */
    segment(m, &f, 0, seq + 100, adt + 10, n - 10);
    assert_int_equal(medical_hl7(&f)->anomalies[HL7_AN_GAP], 1);
    assert_int_equal(medical_hl7(&f)->messages[0], 1);
    segment(m, &f, 0, seq + 100 + (uint32_t)n - 10, adt, n);
    assert_int_equal(medical_hl7(&f)->messages[0], 2);
    /* The other direction has its own sequence space. */
    segment(m, &f, 1, 77, adt, n);
    assert_int_equal(medical_hl7(&f)->messages[1], 1);
    medical_flow_release(m, &f);
    medical_destroy(m);
}

static void test_probe_rules_and_cap(void **state)
{
    static const char http[] = "GET / HTTP/1.1\r\n\r\n";
    struct medical *m;
    struct medical_stats st;
    struct flow a, b, c;

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    assert_int_equal(medical_create(&m, 1), 0);
    /* Classified by nDPI already: not probed. */
    assert_int_equal(segment(m, &a, 0, 1, adt, sizeof(adt) - 1), 0);
    assert_int_equal(medical_proto_of(&a), MEDICAL_NONE);
    /* Still classifying, but not HL7 or DICOM. */
    a.app.state = classifying;
    assert_int_equal(segment(m, &a, 0, 1, http, sizeof(http) - 1), 0);
    assert_null(a.app.med);
    /* One flow followed; the second is recognised but over the cap. */
    b.app.state = classifying;
    c.app.state = classifying;
    assert_int_equal(segment(m, &b, 0, 1, adt, sizeof(adt) - 1), MEDICAL_FOUND | MEDICAL_NEWS);
    assert_int_equal(segment(m, &c, 0, 1, adt, sizeof(adt) - 1), 0);
    assert_null(c.app.med);
    medical_get_stats(m, &st);
    assert_int_equal(st.hl7_flows, 2);
    assert_int_equal(st.state_failures, 1);
    /* Its state goes back to the free list and serves the next flow. */
    medical_flow_release(m, &b);
    assert_int_equal(segment(m, &c, 0, 1, adt, sizeof(adt) - 1), MEDICAL_FOUND | MEDICAL_NEWS);
    assert_int_equal(medical_hl7(&c)->messages[0], 1); /* nothing left over from b */
    medical_flow_release(m, &c);
    medical_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_and_retransmitted),
        cmocka_unit_test(test_gap_and_wrap),
        cmocka_unit_test(test_probe_rules_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
