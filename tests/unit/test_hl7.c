/*
 * HL7/MLLP parser tests on annotated frames: the MSH fields and acknowledgment codes come out,
 * patient segments never do (the whole state is searched for their values), segment and frame
 * boundaries may fall on any byte, and truncated or hostile frames become counted anomalies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include "mimamori/hl7.h"

/* The ADT^A01 of ../shared/pcaps/medical/hl7.pcap (nDPI's test capture), shortened. */
static const char adt[] = "\x0b"                        /* MLLP start block */
                          "MSH|^~\\&|"                  /* MSH-1 '|', MSH-2 '^~\&' */
                          "SENDING_APPLICATION|"        /* MSH-3 */
                          "SENDING_FACILITY|"           /* MSH-4 */
                          "RECEIVING_APPLICATION|"      /* MSH-5 */
                          "RECEIVING_FACILITY|"         /* MSH-6 */
                          "20110613083617||"            /* MSH-7 time, MSH-8 security */
                          "ADT^A01|"                    /* MSH-9 type^trigger */
                          "934576120110613083617|"      /* MSH-10 control id (not kept) */
                          "P|2.3||||\r"                 /* MSH-11, MSH-12 */
                          "EVN|A01|20110613083617|||\r" /* event: skipped */
                          "PID|1||135769||MOUSE^MICKEY^||19281118|M\r" /* patient: skipped */
                          "NK1|1|MOUSE^MINNIE|WIFE\r"                  /* next of kin: skipped */
                          "AL1|1||^Penicillin||Anaphylactic shock\r"   /* allergy text */
                          "\x1c\r";                                    /* end block, CR */

static const char ack_ae[] = "\x0b"
                             "MSH|^~\\&|LAB|HOSP|HIS|HOSP|20180129192342||ACK^A01|99|P|2.5.1\r"
                             "MSA|AE|934576120110613083617|Unknown patient MOUSE\r" /* MSA-3 text */
                             "\x1c\r";

static unsigned feed(struct hl7_stream *s, struct hl7_info *in, int dir, const char *p, size_t n)
{
    return hl7_feed(s, in, dir, (const uint8_t *)p, n);
}

static void test_adt_fields(void **state)
{
    struct hl7_stream s = {0};
    struct hl7_info in = {0};
    unsigned news;

    (void)state;
    news = feed(&s, &in, 0, adt, sizeof(adt) - 1);
    assert_int_equal(news, HL7_NEWS_MESSAGE | HL7_NEWS_SENDER | HL7_NEWS_TYPE);
    assert_int_equal(in.messages[0], 1);
    assert_int_equal(in.messages[1], 0);
    assert_string_equal(in.first.type, "ADT^A01");
    assert_string_equal(in.first.sending_app, "SENDING_APPLICATION");
    assert_string_equal(in.first.sending_facility, "SENDING_FACILITY");
    assert_string_equal(in.first.receiving_app, "RECEIVING_APPLICATION");
    assert_string_equal(in.first.receiving_facility, "RECEIVING_FACILITY");
    assert_string_equal(in.first.processing_id, "P");
    assert_string_equal(in.first.version, "2.3");
    assert_int_equal(in.nsenders, 1);
    assert_int_equal(in.senders[0].dir, 0);
    for (unsigned i = 0; i < HL7_AN__COUNT; i++)
        assert_int_equal(in.anomalies[i], 0);
    /* Nothing of the patient, the next of kin, the allergy or the control id is kept. */
    assert_false(test_contains(&in, sizeof(in), "MOUSE"));
    assert_false(test_contains(&in, sizeof(in), "135769"));
    assert_false(test_contains(&in, sizeof(in), "Penicillin"));
    assert_false(test_contains(&in, sizeof(in), "934576"));
    assert_false(test_contains(&s, sizeof(s), "MOUSE"));
    /* The same message again is neither a new type nor a new sender. */
    assert_int_equal(feed(&s, &in, 0, adt, sizeof(adt) - 1), 0);
    assert_int_equal(in.messages[0], 2);
}

static void test_byte_by_byte(void **state)
{
    struct hl7_stream s1 = {0}, s2 = {0};
    struct hl7_info a = {0}, b = {0};
    unsigned na, nb = 0;
    size_t i;

    (void)state;
    na = feed(&s1, &a, 0, adt, sizeof(adt) - 1);
    na |= feed(&s1, &a, 1, ack_ae, sizeof(ack_ae) - 1);
    for (i = 0; i < sizeof(adt) - 1; i++)
        nb |= feed(&s2, &b, 0, adt + i, 1);
    for (i = 0; i < sizeof(ack_ae) - 1; i++)
        nb |= feed(&s2, &b, 1, ack_ae + i, 1);
    assert_int_equal(na, nb);
    assert_memory_equal(&a, &b, sizeof(a));
}

static void test_ack_codes(void **state)
{
    static const char ack_aa_short[] = "\x0bMSH|^~\\&|LAB|HOSP|HIS|HOSP|2018||ACK|7|P|2.4\r"
                                       "MSA|AA\r" /* MSA-1 ends the segment */
                                       "\x1c\r";
    struct hl7_stream s = {0};
    struct hl7_info in = {0};
    unsigned news;

    (void)state;
    feed(&s, &in, 0, adt, sizeof(adt) - 1);
    news = feed(&s, &in, 1, ack_ae, sizeof(ack_ae) - 1);
    assert_true(news & HL7_NEWS_NACK);
    assert_true(news & HL7_NEWS_SENDER);
    assert_int_equal(in.acks[HL7_ACK_AE], 1);
    assert_string_equal(in.senders[in.last_sender].app, "LAB");
    assert_int_equal(in.senders[in.last_sender].dir, 1);
    assert_false(test_contains(&in, sizeof(in), "Unknown patient"));
    /* The first non-acknowledgment stays the flow's first message. */
    assert_string_equal(in.first.type, "ADT^A01");
    news = feed(&s, &in, 1, ack_aa_short, sizeof(ack_aa_short) - 1);
    assert_false(news & HL7_NEWS_NACK);
    assert_true(news & HL7_NEWS_TYPE); /* "ACK" differs from "ACK^A01" */
    assert_int_equal(in.acks[HL7_ACK_AA], 1);
    assert_int_equal(in.messages[1], 2);
}

static void test_ack_first(void **state)
{
    struct hl7_stream s = {0};
    struct hl7_info in = {0};

    (void)state;
    /* Picked up mid-conversation: an acknowledgment first, then a real message. */
    feed(&s, &in, 1, ack_ae, sizeof(ack_ae) - 1);
    assert_true(in.first_is_ack);
    assert_string_equal(in.first.type, "ACK^A01");
    feed(&s, &in, 0, adt, sizeof(adt) - 1);
    assert_false(in.first_is_ack);
    assert_string_equal(in.first.type, "ADT^A01");
}

static void test_truncated(void **state)
{
    /* MSH cut before MSH-9, then the end block: no message, one anomaly. */
    static const char cut[] = "\x0bMSH|^~\\&|APP|FAC\x1c\r";
    /* A frame cut after "MS" by the end block. */
    static const char tiny[] = "\x0bMS\x1c\r";
    struct hl7_stream s = {0};
    struct hl7_info in = {0};

    (void)state;
    assert_int_equal(feed(&s, &in, 0, cut, sizeof(cut) - 1), 0);
    assert_int_equal(in.messages[0], 0);
    assert_int_equal(in.anomalies[HL7_AN_NO_MSH], 1);
    assert_int_equal(feed(&s, &in, 0, tiny, sizeof(tiny) - 1), 0);
    assert_int_equal(in.messages[0], 0);
    /* The parser is back at a frame boundary: a good message still parses. */
    assert_true(feed(&s, &in, 0, adt, sizeof(adt) - 1) & HL7_NEWS_MESSAGE);
    assert_int_equal(in.messages[0], 1);
}

static void test_hostile(void **state)
{
    char big[600];
    struct hl7_stream s = {0};
    struct hl7_info in = {0};
    size_t n;

    (void)state;
    /* A 400-byte sending application with control bytes in it is cut and cleaned. */
    n = (size_t)snprintf(big, sizeof(big), "\x0bMSH|^~\\&|");
    memset(big + n, 'A', 400);
    big[n + 3] = '\x01';
    n += 400;
    n += (size_t)snprintf(big + n, sizeof(big) - n, "|F|R|RF|2020||ORU^R01|1|P|2.5\r\x1c\r");
    feed(&s, &in, 0, big, n);
    assert_int_equal(in.messages[0], 1);
    assert_int_equal(strlen(in.first.sending_app), HL7_NAME_LEN - 1);
    assert_int_equal(in.first.sending_app[3], '?');
    assert_string_equal(in.first.type, "ORU^R01");

    memset(&s, 0, sizeof(s));
    memset(&in, 0, sizeof(in));
    /* Garbage before a frame, a frame without MSH, a frame cut by a new start block, an end
     * block without CR, and a segment id that is not one. */
    static const char junk[] = "garbage\r\n"                        /* outside any frame */
                               "\x0bPID|1||123\r\x1c\r"             /* no MSH */
                               "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A04|1" /* cut by... */
                               "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|2|P|2.5\r"
                               "P?D|x\r" /* bad segment id */
                               "\x1cX";  /* end without CR */
    feed(&s, &in, 0, junk, sizeof(junk) - 1);
    assert_int_equal(in.anomalies[HL7_AN_OUTSIDE_FRAME], 2); /* "garbage" and the "X" */
    assert_int_equal(in.anomalies[HL7_AN_NO_MSH], 1);
    assert_int_equal(in.anomalies[HL7_AN_UNTERMINATED], 1);
    assert_int_equal(in.anomalies[HL7_AN_BAD_SEGMENT], 1);
    assert_int_equal(in.anomalies[HL7_AN_BAD_TRAILER], 1);
    assert_int_equal(in.messages[0], 1);
    assert_string_equal(in.first.type, "ADT^A08");
}

static void test_gap(void **state)
{
    struct hl7_stream s = {0};
    struct hl7_info in = {0};
    size_t half = 60;

    (void)state;
    feed(&s, &in, 0, adt, half);
    hl7_gap(&s, &in);
    /* The rest of the interrupted message is not mistaken for anything. */
    feed(&s, &in, 0, adt + half + 10, sizeof(adt) - 1 - half - 10);
    assert_int_equal(in.messages[0], 0);
    assert_int_equal(in.anomalies[HL7_AN_GAP], 1);
    feed(&s, &in, 0, adt, sizeof(adt) - 1);
    assert_int_equal(in.messages[0], 1);
}

static void test_separators_and_lf(void **state)
{
    /* Field separator '#', component separator '$', LF segment ends. */
    static const char odd[] = "\x0bMSH#$~\\&#RIS$1.2.3$ISO#RAD#PACS#RAD#2020##ORM$O01$ORM_O01#5#"
                              "T#2.3.1\nPID#1\n\x1c\r";
    struct hl7_stream s = {0};
    struct hl7_info in = {0};

    (void)state;
    feed(&s, &in, 0, odd, sizeof(odd) - 1);
    assert_int_equal(in.messages[0], 1);
    assert_string_equal(in.first.sending_app, "RIS"); /* first component only */
    assert_string_equal(in.first.type, "ORM^O01");
    assert_string_equal(in.first.processing_id, "T");
    assert_string_equal(in.first.version, "2.3.1");
}

static void test_senders_table(void **state)
{
    char msg[128], app[16];
    struct hl7_stream s = {0};
    struct hl7_info in = {0};
    unsigned i, news;
    int n;

    (void)state;
    for (i = 0; i < HL7_MAX_SENDERS + 2; i++) {
        n = snprintf(msg, sizeof(msg), "\x0bMSH|^~\\&|APP%u|F|R|RF|1||ADT^A01|1|P|2.5\r\x1c\r", i);
        news = feed(&s, &in, 0, msg, (size_t)n);
        assert_true(news & HL7_NEWS_SENDER);
        snprintf(app, sizeof(app), "APP%u", i);
        assert_string_equal(in.senders[in.last_sender].app, app);
    }
    assert_int_equal(in.nsenders, HL7_MAX_SENDERS);
    /* The same application in the other direction is another sender. */
    n = snprintf(msg, sizeof(msg), "\x0bMSH|^~\\&|APP5|F|R|RF|1||ACK|1|P|2.5\r\x1c\r");
    assert_true(feed(&s, &in, 1, msg, (size_t)n) & HL7_NEWS_SENDER);
}

static void test_probe(void **state)
{
    (void)state;
    assert_true(hl7_probe((const uint8_t *)adt, sizeof(adt) - 1));
    assert_false(hl7_probe((const uint8_t *)"\x0bMSH|^", 6));        /* too short */
    assert_false(hl7_probe((const uint8_t *)"\x0bMSHA^~\\&|x", 11)); /* letter as separator */
    assert_false(hl7_probe((const uint8_t *)"\x0bMSH||~\\&|x", 11)); /* same two separators */
    assert_false(hl7_probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
    assert_false(hl7_probe((const uint8_t *)"MSH|^~\\&|A|B", 12)); /* no MLLP start block */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adt_fields),    cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_ack_codes),     cmocka_unit_test(test_ack_first),
        cmocka_unit_test(test_truncated),     cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_gap),           cmocka_unit_test(test_separators_and_lf),
        cmocka_unit_test(test_senders_table), cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
