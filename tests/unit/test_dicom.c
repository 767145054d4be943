/*
 * DICOM upper layer parser tests on annotated PDUs: association fields and presentation
 * contexts, DIMSE commands with SOP class, status and move destination, rejection and abort
 * reasons; the same bytes split at every offset give the same result; data sets and user
 * identity never reach the state; lying lengths, unknown PDUs and capture gaps are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include "mimamori/dicom.h"

/* P-DATA-TF carrying a complete C-ECHO-RQ command set (implicit VR little endian). */
static const uint8_t echo_rq[] = {
    0x04, 0x00, 0x00, 0x00, 0x00, 0x4a, /* P-DATA-TF, length 74 */
    0x00, 0x00, 0x00, 0x46,             /* PDV item length 70 */
    0x01,                               /* presentation context 1 */
    0x03,                               /* command, last fragment */
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, /* (0000,0000) 56 */
    0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00,                         /* (0000,0002) 18 */
    '1',  '.',  '2',  '.',  '8',  '4',  '0',  '.',  '1',  '0',  '0',  '0',  '8',  '.', '1',
    '.',  '1',  0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x30, 0x00, /* (0000,0100)
                                                                                     C-ECHO-RQ */
    0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, /* (0000,0110) message id 1 */
    0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01, /* (0000,0800) no data set */
};

/* A-ASSOCIATE-RJ: rejected-permanent, service-user, called AE title not recognized. */
static const uint8_t assoc_rj[] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x01, 0x07};
/* A-RELEASE-RQ and A-RELEASE-RP. */
static const uint8_t release_rq[] = {0x05, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00};
static const uint8_t release_rp[] = {0x06, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00};
/* A-ABORT from the service provider, reason 2 (unrecognized PDU). */
static const uint8_t abort_pdu[] = {0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x02};

/* --- a small PDU builder for the longer association PDUs and commands ----------------------- */

struct buf {
    uint8_t b[2048];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->b));
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void u8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void be16(struct buf *b, size_t v)
{
    u8(b, (uint8_t)(v >> 8));
    u8(b, (uint8_t)v);
}

static void be32(struct buf *b, size_t v)
{
    be16(b, v >> 16);
    be16(b, v & 0xffff);
}

/* An item: type, reserved, 16-bit length, value. */
static void item(struct buf *b, uint8_t type, const void *v, size_t n)
{
    u8(b, type);
    u8(b, 0);
    be16(b, n);
    put(b, v, n);
}

static void item_str(struct buf *b, uint8_t type, const char *s)
{
    item(b, type, s, strlen(s));
}

/* A presentation context (0x20 proposed, 0x21 answered) with its sub-items. */
static void pctx(struct buf *b, uint8_t type, uint8_t id, uint8_t result, const char *abstract)
{
    struct buf c = {{0}, 0};

    u8(&c, id);
    u8(&c, 0);
    u8(&c, result);
    u8(&c, 0);
    if (abstract != NULL)
        item_str(&c, 0x30, abstract);
    item_str(&c, 0x40, "1.2.840.10008.1.2"); /* implicit VR little endian */
    item(b, type, c.b, c.n);
}

/* A-ASSOCIATE-RQ (type 1) or -AC (type 2) around items. */
static void assoc(struct buf *out, uint8_t type, const char *called, const char *calling,
                  const struct buf *items)
{
    char ae[33];

    snprintf(ae, sizeof(ae), "%-16s%-16s", called, calling);
    u8(out, type);
    u8(out, 0);
    be32(out, 68 + items->n);
    be16(out, 1); /* protocol version */
    be16(out, 0);
    put(out, ae, 32);
    for (int i = 0; i < 32; i++)
        u8(out, 0);
    put(out, items->b, items->n);
}

static void build_rq(struct buf *rq)
{
    struct buf it = {{0}, 0}, ui = {{0}, 0};
    static const uint8_t maxlen[4] = {0, 0, 0x40, 0};
    static const uint8_t identity[] = {1, 1, 0, 6, 's', 'e', 'c', 'r', 'e', 't', 0, 0};

    item_str(&it, 0x10, "1.2.840.10008.3.1.1.1");
    pctx(&it, 0x20, 1, 0, "1.2.840.10008.1.1");           /* Verification */
    pctx(&it, 0x20, 3, 0, "1.2.840.10008.5.1.4.1.1.2");   /* CT Image Storage */
    pctx(&it, 0x20, 5, 0, "1.2.840.10008.5.1.4.1.2.2.2"); /* Study Root Q/R MOVE */
    item(&ui, 0x51, maxlen, 4);
    item_str(&ui, 0x52, "1.2.276.0.7230010.3.0.3.6.7");
    item_str(&ui, 0x55, "OFFIS_DCMTK_367");
    item(&ui, 0x58, identity, sizeof(identity)); /* user identity: never read */
    item(&it, 0x50, ui.b, ui.n);
    assoc(rq, 1, "PACS", "CT01", &it);
}

static void build_ac(struct buf *ac)
{
    struct buf it = {{0}, 0}, ui = {{0}, 0};

    item_str(&it, 0x10, "1.2.840.10008.3.1.1.1");
    pctx(&it, 0x21, 1, 0, NULL); /* accepted */
    pctx(&it, 0x21, 3, 0, NULL); /* accepted */
    pctx(&it, 0x21, 5, 3, NULL); /* abstract syntax not supported */
    item_str(&ui, 0x52, "1.2.3.4");
    item(&it, 0x50, ui.b, ui.n);
    assoc(ac, 2, "PACS", "CT01", &it);
}

/* Implicit VR little endian element. */
static void el(struct buf *b, uint16_t elem, const void *v, size_t n)
{
    uint8_t h[8] = {0, 0, (uint8_t)elem, (uint8_t)(elem >> 8), (uint8_t)n, (uint8_t)(n >> 8), 0, 0};
    put(b, h, 8);
    put(b, v, n);
}

static void el_us(struct buf *b, uint16_t elem, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    el(b, elem, x, 2);
}

/* P-DATA-TF with one PDV of the given control header. */
static void pdata(struct buf *out, uint8_t ctx, uint8_t mch, const struct buf *body)
{
    u8(out, 4);
    u8(out, 0);
    be32(out, body->n + 6);
    be32(out, body->n + 2);
    u8(out, ctx);
    u8(out, mch);
    put(out, body->b, body->n);
}

static void build_move(struct buf *out, const char *dest)
{
    struct buf cmd = {{0}, 0}, data = {{0}, 0};
    char ae[17];

    el(&cmd, 0x0002, "1.2.840.10008.5.1.4.1.2.2.2\0", 28);
    el_us(&cmd, 0x0100, 0x0021);
    el_us(&cmd, 0x0110, 7);
    snprintf(ae, sizeof(ae), "%-16s", dest);
    el(&cmd, 0x0600, ae, 16);
    el_us(&cmd, 0x0800, 0x0001); /* a data set follows */
    pdata(out, 5, 0x03, &cmd);
    /* The identifier: patient attributes that must never be read. */
    put(&data, "\x10\x00\x10\x00\x0c\x00\x00\x00YAMADA^TARO ", 20);
    pdata(out, 5, 0x02, &data);
}

static void build_rsp(struct buf *out, uint16_t field, uint16_t status)
{
    struct buf cmd = {{0}, 0};

    el(&cmd, 0x0002, "1.2.840.10008.5.1.4.1.1.2\0", 26);
    el_us(&cmd, 0x0100, field);
    el_us(&cmd, 0x0120, 1);
    el_us(&cmd, 0x0800, 0x0101);
    el_us(&cmd, 0x0900, status);
    pdata(out, 3, 0x03, &cmd);
}

/* --- tests ---------------------------------------------------------------------------------- */

static void test_association(void **state)
{
    struct buf rq = {{0}, 0}, ac = {{0}, 0};
    struct dicom_stream c = {0}, s = {0};
    struct dicom_info in = {0};

    (void)state;
    build_rq(&rq);
    build_ac(&ac);
    assert_true(dicom_probe(rq.b, rq.n));
    assert_int_equal(dicom_feed(&c, &in, rq.b, rq.n), DICOM_NEWS_ASSOC_RQ);
    assert_string_equal(in.calling_ae, "CT01");
    assert_string_equal(in.called_ae, "PACS");
    assert_string_equal(in.app_context, "1.2.840.10008.3.1.1.1");
    assert_string_equal(in.impl_class, "1.2.276.0.7230010.3.0.3.6.7");
    assert_string_equal(in.impl_version, "OFFIS_DCMTK_367");
    assert_int_equal(in.ctx_proposed, 3);
    assert_int_equal(in.proposed, 1u << DICOM_SVC_VERIFICATION | 1u << DICOM_SVC_STORAGE |
                                      1u << DICOM_SVC_RETRIEVE);
    assert_int_equal(in.assoc, DICOM_ASSOC_REQUESTED);
    assert_false(test_contains(&in, sizeof(in), "secret"));
    assert_false(test_contains(&c, sizeof(c), "secret"));
    assert_int_equal(dicom_feed(&s, &in, ac.b, ac.n), DICOM_NEWS_ASSOC_AC);
    assert_int_equal(in.assoc, DICOM_ASSOC_ACCEPTED);
    assert_int_equal(in.ctx_accepted, 2);
    assert_int_equal(in.ctx_refused, 1);
    assert_int_equal(in.accepted, 1u << DICOM_SVC_VERIFICATION | 1u << DICOM_SVC_STORAGE);
    assert_string_equal(in.impl_class, "1.2.276.0.7230010.3.0.3.6.7"); /* the requestor's */
    for (unsigned i = 0; i < DICOM_AN__COUNT; i++)
        assert_int_equal(in.anomalies[i], 0);
}

static void test_commands(void **state)
{
    struct buf mv = {{0}, 0}, rsp = {{0}, 0}, fail = {{0}, 0};
    struct dicom_stream c = {0}, s = {0};
    struct dicom_info in = {0};

    (void)state;
    assert_true(dicom_probe(echo_rq, sizeof(echo_rq)));
    assert_int_equal(dicom_feed(&c, &in, echo_rq, sizeof(echo_rq)), DICOM_NEWS_COMMAND);
    assert_int_equal(in.commands[DICOM_C_ECHO], 1);
    assert_int_equal(in.nsops, 1);
    assert_string_equal(in.sops[0], "1.2.840.10008.1.1");
    /* A second echo is nothing new. */
    assert_int_equal(dicom_feed(&c, &in, echo_rq, sizeof(echo_rq)), 0);
    assert_int_equal(in.commands[DICOM_C_ECHO], 2);

    build_move(&mv, "EVIL_WS");
    assert_int_equal(dicom_feed(&c, &in, mv.b, mv.n), DICOM_NEWS_COMMAND | DICOM_NEWS_MOVE);
    assert_int_equal(in.commands[DICOM_C_MOVE], 1);
    assert_int_equal(in.ndests, 1);
    assert_string_equal(in.dests[in.last_dest], "EVIL_WS");
    assert_string_equal(in.sops[1], "1.2.840.10008.5.1.4.1.2.2.2");
    assert_false(test_contains(&in, sizeof(in), "YAMADA"));
    assert_false(test_contains(&c, sizeof(c), "YAMADA"));
    /* The same destination again is not news. */
    assert_int_equal(dicom_feed(&c, &in, mv.b, mv.n), 0);

    build_rsp(&rsp, 0x8001, 0x0000);  /* C-STORE-RSP success */
    build_rsp(&fail, 0x8001, 0xA700); /* out of resources */
    assert_int_equal(dicom_feed(&s, &in, rsp.b, rsp.n), 0);
    assert_int_equal(dicom_feed(&s, &in, fail.b, fail.n), 0);
    assert_int_equal(in.responses, 2);
    assert_int_equal(in.failures, 1);
    assert_int_equal(in.last_failure, 0xA700);
    assert_int_equal(in.commands[DICOM_C_STORE], 0); /* responses are not requests */
}

/* Every split of a conversation into two segments gives the same state as one feed. */
static void test_every_split(void **state)
{
    struct buf all = {{0}, 0}, mv = {{0}, 0};
    struct dicom_stream s0 = {0}, s1;
    struct dicom_info i0 = {0}, i1;
    unsigned n0, n1;
    size_t k;

    (void)state;
    build_rq(&all);
    put(&all, echo_rq, sizeof(echo_rq));
    build_move(&mv, "WS01");
    put(&all, mv.b, mv.n);
    put(&all, release_rq, sizeof(release_rq));
    n0 = dicom_feed(&s0, &i0, all.b, all.n);
    assert_int_equal(i0.commands[DICOM_C_MOVE], 1);
    assert_int_equal(i0.assoc, DICOM_ASSOC_RELEASED);
    for (k = 1; k < all.n; k++) {
        memset(&s1, 0, sizeof(s1));
        memset(&i1, 0, sizeof(i1));
        n1 = dicom_feed(&s1, &i1, all.b, k);
        n1 |= dicom_feed(&s1, &i1, all.b + k, all.n - k);
        assert_int_equal(n0, n1);
        assert_memory_equal(&i0, &i1, sizeof(i0));
    }
    /* And byte by byte. */
    memset(&s1, 0, sizeof(s1));
    memset(&i1, 0, sizeof(i1));
    n1 = 0;
    for (k = 0; k < all.n; k++)
        n1 |= dicom_feed(&s1, &i1, all.b + k, 1);
    assert_int_equal(n0, n1);
    assert_memory_equal(&i0, &i1, sizeof(i0));
}

static void test_reject_release_abort(void **state)
{
    struct dicom_stream s = {0};
    struct dicom_info in = {0};

    (void)state;
    assert_int_equal(dicom_feed(&s, &in, assoc_rj, sizeof(assoc_rj)), DICOM_NEWS_ASSOC_RJ);
    assert_int_equal(in.assoc, DICOM_ASSOC_REJECTED);
    assert_string_equal(dicom_reject_result_name(in.rj_result), "rejected-permanent");
    assert_string_equal(dicom_reject_source_name(in.rj_source), "service-user");
    assert_string_equal(dicom_reject_reason_name(in.rj_source, in.rj_reason),
                        "called-AE-title-not-recognized");

    memset(&s, 0, sizeof(s));
    memset(&in, 0, sizeof(in));
    assert_int_equal(dicom_feed(&s, &in, release_rq, sizeof(release_rq)), DICOM_NEWS_END);
    assert_int_equal(dicom_feed(&s, &in, release_rp, sizeof(release_rp)), 0);
    assert_int_equal(in.assoc, DICOM_ASSOC_RELEASED);

    memset(&s, 0, sizeof(s));
    memset(&in, 0, sizeof(in));
    assert_int_equal(dicom_feed(&s, &in, abort_pdu, sizeof(abort_pdu)), DICOM_NEWS_END);
    assert_int_equal(in.assoc, DICOM_ASSOC_ABORTED);
    assert_int_equal(in.abort_source, 2);
    assert_int_equal(in.abort_reason, 2);
}

static void test_truncated(void **state)
{
    struct buf rq = {{0}, 0};
    struct dicom_stream s = {0};
    struct dicom_info in = {0};

    (void)state;
    build_rq(&rq);
    /* Only the first 50 bytes arrive: the AE titles are not complete yet, nothing is made up. */
    assert_int_equal(dicom_feed(&s, &in, rq.b, 50), 0);
    assert_string_equal(in.calling_ae, "");
    assert_int_equal(in.assoc, DICOM_ASSOC_NONE);
    /* A probe on a short prefix still says yes when what it sees fits. */
    assert_true(dicom_probe(rq.b, 12));
    assert_false(dicom_probe(rq.b, 9));
}

static void test_hostile_lengths(void **state)
{
    struct buf rq = {{0}, 0}, bad = {{0}, 0}, items = {{0}, 0};
    struct dicom_stream s = {0};
    struct dicom_info in = {0};
    uint8_t evil_pdv[] = {
        0x04, 0x00, 0x00, 0x00, 0x00, 0x0c, /* P-DATA, length 12 */
        0xff, 0xff, 0xff, 0xf0,             /* PDV length far beyond the PDU */
        0x01, 0x03, 0,    0,    0,    0,    0, 0,
    };
    uint8_t evil_el[] = {
        0x04, 0x00, 0x00, 0x00, 0x00, 0x12,             /* P-DATA, length 18 */
        0x00, 0x00, 0x00, 0x0e, 0x01, 0x03,             /* PDV length 14, command, last */
        0x00, 0x00, 0x02, 0x00, 0xff, 0xff, 0xff, 0x7f, /* (0000,0002) length 2^31-1 */
        0x00, 0x00, 0x00, 0x00,
    };

    (void)state;
    /* An item claiming more than its PDU holds, then a good PDU after it. */
    item_str(&items, 0x10, "1.2.840.10008.3.1.1.1");
    u8(&items, 0x20);
    u8(&items, 0);
    be16(&items, 0xfff0); /* presentation context longer than the PDU */
    assoc(&bad, 1, "PACS", "X", &items);
    dicom_feed(&s, &in, bad.b, bad.n);
    assert_int_equal(in.anomalies[DICOM_AN_BAD_LENGTH], 1);
    assert_string_equal(in.calling_ae, "X");
    dicom_feed(&s, &in, evil_pdv, sizeof(evil_pdv));
    assert_int_equal(in.anomalies[DICOM_AN_BAD_LENGTH], 2);
    dicom_feed(&s, &in, evil_el, sizeof(evil_el));
    assert_int_equal(in.anomalies[DICOM_AN_BAD_COMMAND], 1);
    /* The stream is still in step: a normal echo after all that is understood. */
    assert_int_equal(dicom_feed(&s, &in, echo_rq, sizeof(echo_rq)), DICOM_NEWS_COMMAND);
    /* An unknown PDU type ends parsing of the direction for good. */
    static const uint8_t junk[] = {0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54};
    dicom_feed(&s, &in, junk, sizeof(junk));
    assert_int_equal(in.anomalies[DICOM_AN_BAD_PDU], 1);
    assert_int_equal(dicom_feed(&s, &in, echo_rq, sizeof(echo_rq)), 0);
    assert_int_equal(in.commands[DICOM_C_ECHO], 1);
    (void)rq;
}

static void test_gap(void **state)
{
    struct buf mv = {{0}, 0};
    struct dicom_stream s = {0};
    struct dicom_info in = {0};

    (void)state;
    build_move(&mv, "WS02");
    dicom_feed(&s, &in, echo_rq, 30);
    dicom_gap(&s, &in);
    /* The middle of a PDU after the gap is dropped, not parsed. */
    assert_int_equal(dicom_feed(&s, &in, echo_rq + 40, sizeof(echo_rq) - 40), 0);
    assert_int_equal(in.anomalies[DICOM_AN_GAP], 1);
    /* The next segment that starts a PDU is followed again. */
    assert_int_equal(dicom_feed(&s, &in, mv.b, mv.n), DICOM_NEWS_COMMAND | DICOM_NEWS_MOVE);
    assert_int_equal(in.commands[DICOM_C_ECHO], 0);
}

static void test_probe(void **state)
{
    static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};
    uint8_t data_only[sizeof(echo_rq)];

    (void)state;
    assert_false(dicom_probe(http, sizeof(http) - 1));
    assert_false(dicom_probe(tls, sizeof(tls)));
    assert_false(dicom_probe(assoc_rj, sizeof(assoc_rj))); /* too little to tell */
    memcpy(data_only, echo_rq, sizeof(echo_rq));
    data_only[11] = 0x02; /* a data set fragment: not telling mid-stream */
    assert_false(dicom_probe(data_only, sizeof(data_only)));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(dicom_uid_name("1.2.840.10008.5.1.4.1.1.2"), "CT Image Storage");
    assert_null(dicom_uid_name("1.2.3"));
    assert_int_equal(dicom_uid_service("1.2.840.10008.5.1.4.1.1.999"), DICOM_SVC_STORAGE);
    assert_int_equal(dicom_uid_service("1.2.840.10008.5.1.4.31"), DICOM_SVC_WORKLIST);
    assert_string_equal(dicom_cmd_name(DICOM_C_MOVE), "C-MOVE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_association), cmocka_unit_test(test_commands),
        cmocka_unit_test(test_every_split), cmocka_unit_test(test_reject_release_abort),
        cmocka_unit_test(test_truncated),   cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_gap),         cmocka_unit_test(test_probe),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
