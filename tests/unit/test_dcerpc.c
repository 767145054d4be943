/*
 * The DCE-RPC parser on hand-built PDUs (C706 and MS-RPCE layouts): a bind then a call over
 * TCP, a call's stub spanning segments with the next PDU starting mid-segment, a lost segment,
 * later fragments, a big-endian client, and the SMB2 carrier (a pipe CREATE answered with its
 * file id, a WRITE with the bind and an IOCTL with the call), NTLMSSP responses in a session
 * setup; then the operation table and the per-flow glue (cap, release).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/dcerpc.h"

/* svcctl 367abb81-9844-35f1-ad32-98f038001003, as a little-endian client sends it. */
static const uint8_t svcctl_le[16] = {0x81, 0xbb, 0x7a, 0x36, 0x44, 0x98, 0xf1, 0x35,
                                      0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03};

static void put16(uint8_t *p, unsigned v, int big)
{
    p[big ? 1 : 0] = (uint8_t)v;
    p[big ? 0 : 1] = (uint8_t)(v >> 8);
}

/* A bind with one context (id ctx) for the 16-byte UUID u; returns its length (72). */
static size_t bind_pdu(uint8_t *p, unsigned ctx, const uint8_t *u, int big)
{
    memset(p, 0, 72);
    p[0] = 5, p[2] = 11, p[3] = 3, p[4] = big ? 0x00 : 0x10;
    put16(p + 8, 72, big);
    p[24] = 1;               /* one context */
    put16(p + 28, ctx, big); /* its id */
    p[30] = 1;               /* one transfer syntax */
    memcpy(p + 32, u, 16);   /* abstract syntax */
    return 72;
}

/* A request on context ctx for opnum, with stub bytes of stub; returns its length. */
static size_t request_pdu(uint8_t *p, unsigned ctx, unsigned opnum, unsigned stub, int flags)
{
    size_t len = 24 + stub;

    memset(p, 0, len);
    p[0] = 5, p[2] = 0, p[3] = (uint8_t)flags, p[4] = 0x10;
    put16(p + 8, (unsigned)len, 0);
    put16(p + 20, ctx, 0);
    put16(p + 22, opnum, 0);
    return len;
}

static int op(const char *name)
{
    int k = dcerpc_op_lookup(name);

    assert_true(k >= 0);
    return k;
}

static void test_bind_then_call(void **state)
{
    static struct dcerpc_info in;
    uint8_t buf[256];
    size_t n = bind_pdu(buf, 1, svcctl_le, 0);
    int create = op("svcctl.CreateServiceW");

    (void)state;
    memset(&in, 0, sizeof(in));
    assert_true(dcerpc_probe(buf, (uint32_t)n));
    assert_int_equal(dcerpc_feed(&in, 0, 1000, buf, (uint32_t)n), 0);
    assert_int_equal(in.binds, 1);
    n = request_pdu(buf, 1, 12, 40, 3);
    assert_int_equal(dcerpc_feed(&in, 0, 1072, buf, (uint32_t)n), DCERPC_NEWS);
    assert_true(in.ops & 1ull << create);
    assert_int_equal(in.first_op, create);
    assert_string_equal(in.first_pipe, "");
    /* Called again: counted, no news. On a context never bound: nothing. */
    assert_int_equal(dcerpc_feed(&in, 0, 1072 + (uint32_t)n, buf, (uint32_t)n), 0);
    assert_int_equal(in.count[create], 2);
    n = request_pdu(buf, 7, 12, 0, 3);
    assert_int_equal(dcerpc_feed(&in, 0, 1072 + 128, buf, (uint32_t)n), 0);
    assert_int_equal(in.count[create], 2);
    /* A later fragment of a call is not another call. */
    n = request_pdu(buf, 1, 12, 0, 2);
    assert_int_equal(dcerpc_feed(&in, 0, 1072 + 152, buf, (uint32_t)n), 0);
    assert_int_equal(in.count[create], 2);
}

static void test_stub_spans_segments(void **state)
{
    static struct dcerpc_info in;
    uint8_t buf[2048];
    size_t a = bind_pdu(buf, 0, svcctl_le, 0), b, c;
    int start = op("svcctl.StartServiceW");

    (void)state;
    memset(&in, 0, sizeof(in));
    b = request_pdu(buf + a, 0, 15, 1000, 3);   /* OpenSCManagerW, not in the table */
    c = request_pdu(buf + a + b, 0, 19, 16, 3); /* StartServiceW */
    /* Cut inside the first request's stub, and again inside it: the third segment holds its
     * end and the next request whole. */
    assert_int_equal(dcerpc_feed(&in, 0, 5000, buf, 300), 0);
    assert_int_equal(dcerpc_feed(&in, 0, 5300, buf + 300, 500), 0);
    assert_int_equal(dcerpc_feed(&in, 0, 5800, buf + 800, (uint32_t)(a + b + c - 800)),
                     DCERPC_NEWS);
    assert_true(in.ops & 1ull << start);
    /* Retransmitted: nothing new, nothing counted twice. */
    assert_int_equal(dcerpc_feed(&in, 0, 5800, buf + 800, (uint32_t)(a + b + c - 800)), 0);
    assert_int_equal(in.count[start], 1);
}

static void test_lost_segment(void **state)
{
    static struct dcerpc_info in;
    uint8_t buf[512];
    size_t n = bind_pdu(buf, 0, svcctl_le, 0);

    (void)state;
    memset(&in, 0, sizeof(in));
    assert_int_equal(dcerpc_feed(&in, 0, 100, buf, (uint32_t)n), 0);
    n = request_pdu(buf, 0, 15, 400, 3);
    assert_int_equal(dcerpc_feed(&in, 0, 172, buf, 100), 0);
    /* The rest of that request is lost; the next segment starts with a call. */
    n = request_pdu(buf, 0, 24, 8, 3);
    assert_int_equal(dcerpc_feed(&in, 0, 172 + 424, buf, (uint32_t)n), DCERPC_NEWS);
    assert_true(in.ops & 1ull << op("svcctl.CreateServiceA"));
    /* Bytes that start no header (lost sync) are passed over. */
    memset(buf, 0xee, 64);
    assert_int_equal(dcerpc_feed(&in, 0, 2000, buf, 64), 0);
}

static void test_big_endian(void **state)
{
    static struct dcerpc_info in;
    uint8_t buf[128], u[16];
    size_t n;

    (void)state;
    memset(&in, 0, sizeof(in));
    /* A big-endian client sends the UUID's first three fields most significant byte first. */
    memcpy(u, svcctl_le, 16);
    u[0] = 0x36, u[1] = 0x7a, u[2] = 0xbb, u[3] = 0x81, u[4] = 0x98, u[5] = 0x44;
    u[6] = 0x35, u[7] = 0xf1;
    n = bind_pdu(buf, 2, u, 1);
    dcerpc_feed(&in, 0, 1, buf, (uint32_t)n);
    assert_int_equal(in.bound, 1u << dcerpc_op_iface((unsigned)op("svcctl.CreateServiceW")));
}

/* SMB2 over NetBIOS: a 4-byte session header, the 64-byte SMB2 header, a body. */
static size_t smb2(uint8_t *p, unsigned cmd, int response, uint64_t mid, const uint8_t *body,
                   size_t blen)
{
    size_t len = 64 + blen;

    memset(p, 0, 4 + 64);
    p[1] = (uint8_t)(len >> 16), p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
    memcpy(p + 4, "\xfeSMB", 4);
    p[8] = 64;
    p[16] = (uint8_t)cmd;
    p[20] = response ? 1 : 0;
    memcpy(p + 28, &mid, 8); /* little-endian host, as the test machines are */
    memcpy(p + 68, body, blen);
    return 4 + len;
}

static void test_smb2_pipe(void **state)
{
    static struct dcerpc_info in;
    uint8_t body[256], seg[512], pdu[128];
    uint64_t fid = 0x1122334455667788ull;
    uint32_t seq = 1;
    size_t n, k;

    (void)state;
    memset(&in, 0, sizeof(in));
    /* CREATE "svcctl": the name at offset 120 from the SMB2 header, UTF-16LE. */
    memset(body, 0, sizeof(body));
    body[0] = 57;
    body[44] = 120, body[46] = 12;
    for (k = 0; k < 6; k++)
        body[56 + 2 * k] = (uint8_t) "svcctl"[k];
    n = smb2(seg, 5, 0, 9, body, 56 + 12);
    assert_true(dcerpc_probe(seg, (uint32_t)n));
    dcerpc_feed(&in, 0, seq, seg, (uint32_t)n), seq += (uint32_t)n;
    assert_int_equal(in.smb, 2);
    /* Its answer: status 0, the file id at body offset 64 (persistent) and 72 (volatile). */
    memset(body, 0, sizeof(body));
    body[0] = 89;
    memcpy(body + 72, &fid, 8);
    n = smb2(seg, 5, 1, 9, body, 88);
    dcerpc_feed(&in, 1, 1, seg, (uint32_t)n);
    /* WRITE of the bind to that file id: data offset 112, the file id's volatile part at 24. */
    k = bind_pdu(pdu, 0, svcctl_le, 0);
    memset(body, 0, sizeof(body));
    body[0] = 49, body[2] = 112, body[4] = (uint8_t)k;
    memcpy(body + 24, &fid, 8);
    memcpy(body + 48, pdu, k);
    n = smb2(seg, 9, 0, 10, body, 48 + k);
    dcerpc_feed(&in, 0, seq, seg, (uint32_t)n), seq += (uint32_t)n;
    /* IOCTL FSCTL_PIPE_TRANSCEIVE with the call: input at offset 120, the volatile id at 16. */
    k = request_pdu(pdu, 0, 12, 8, 3);
    memset(body, 0, sizeof(body));
    body[0] = 57;
    body[4] = 0x17, body[5] = 0xc0, body[6] = 0x11;
    memcpy(body + 16, &fid, 8);
    body[24] = 120, body[28] = (uint8_t)k;
    memcpy(body + 56, pdu, k);
    n = smb2(seg, 11, 0, 11, body, 56 + k);
    assert_int_equal(dcerpc_feed(&in, 0, seq, seg, (uint32_t)n), DCERPC_NEWS);
    assert_int_equal(in.first_op, op("svcctl.CreateServiceW"));
    assert_string_equal(in.first_pipe, "svcctl");
}

/* An SMB2 SESSION_SETUP request whose security buffer is an NTLMSSP AUTHENTICATE message. */
static unsigned session_setup(struct dcerpc_info *in, uint32_t seq, unsigned lm, unsigned nt)
{
    uint8_t body[128], seg[256];
    size_t n;

    memset(body, 0, sizeof(body));
    body[0] = 25;
    body[12] = 88, body[14] = 64; /* the buffer at 88 from the SMB2 header, 64 bytes */
    memcpy(body + 24, "NTLMSSP", 8);
    body[24 + 8] = 3;                                         /* MessageType: AUTHENTICATE */
    body[24 + 12] = (uint8_t)lm, body[24 + 14] = (uint8_t)lm; /* LmChallengeResponseFields */
    body[24 + 20] = (uint8_t)nt, body[24 + 22] = (uint8_t)nt; /* NtChallengeResponseFields */
    n = smb2(seg, 1, 0, 3, body, 24 + 64);
    return dcerpc_feed(in, 0, seq, seg, (uint32_t)n);
}

static void test_ntlm(void **state)
{
    static struct dcerpc_info in;
    int v1 = op("auth.NTLMv1"), lm = op("auth.LM");

    (void)state;
    memset(&in, 0, sizeof(in));
    assert_int_equal(session_setup(&in, 1, 24, 200), 0); /* NTLMv2: a long NT response */
    assert_int_equal(session_setup(&in, 1000, 0, 0), 0); /* anonymous */
    assert_int_equal(session_setup(&in, 2000, 24, 24), DCERPC_NEWS);
    assert_true(in.ops & 1ull << v1);
    assert_int_equal(session_setup(&in, 3000, 24, 0), DCERPC_NEWS);
    assert_true(in.ops & 1ull << lm);
    /* "auth" is no interface a bind can name, even with the nil UUID. */
    assert_int_equal(dcerpc_iface_lookup_uuid((const uint8_t[16]){0}), MM_ENOTFOUND);
}

/*
 * The Version field of NTLMSSP messages: the server's in a CHALLENGE (an SMB2 SESSION_SETUP
 * answer), the client's in an AUTHENTICATE; only when NTLMSSP_NEGOTIATE_VERSION says it is set.
 */
static void test_ntlm_version(void **state)
{
    static struct dcerpc_info in;
    uint8_t body[160], seg[256];
    size_t n;
    int flagged;

    (void)state;
    for (flagged = 0; flagged < 2; flagged++) {
        memset(&in, 0, sizeof(in));
        memset(body, 0, sizeof(body));
        body[0] = 9;
        body[4] = 72, body[6] = 64; /* the buffer right after the 8-byte body */
        memcpy(body + 8, "NTLMSSP", 8);
        body[8 + 8] = 2;                          /* CHALLENGE */
        body[8 + 23] = flagged ? 0x02 : 0x00;     /* NegotiateFlags, bit 25: VERSION */
        body[8 + 48] = 6, body[8 + 49] = 1;       /* Windows 6.1 */
        body[8 + 50] = 0xb1, body[8 + 51] = 0x1d; /* build 7601 */
        n = smb2(seg, 1, 1, 2, body, 8 + 64);
        dcerpc_feed(&in, 1, 1, seg, (uint32_t)n);
        assert_int_equal(in.os[1].major, flagged ? 6 : 0);
        assert_int_equal(in.os[0].major, 0);
    }
    assert_int_equal(in.os[1].minor, 1);
    assert_int_equal(in.os[1].build, 7601);
    /* The client's AUTHENTICATE: flags at 60, version at 64 (Windows 10.0.19045). */
    memset(body, 0, sizeof(body));
    body[0] = 25;
    body[12] = 88, body[14] = 72;
    memcpy(body + 24, "NTLMSSP", 8);
    body[24 + 8] = 3;
    body[24 + 63] = 0x02;
    body[24 + 64] = 10, body[24 + 66] = 0x65, body[24 + 67] = 0x4a;
    n = smb2(seg, 1, 0, 3, body, 24 + 72);
    dcerpc_feed(&in, 0, 1, seg, (uint32_t)n);
    assert_int_equal(in.os[0].major, 10);
    assert_int_equal(in.os[0].minor, 0);
    assert_int_equal(in.os[0].build, 19045);
}

/*
 * The computer names NTLMSSP states: the server's in the CHALLENGE's TargetInfo (AV pair 1,
 * MsvAvNbComputerName, after a domain name pair), the client's workstation in AUTHENTICATE
 * (UTF-16LE); a name with a byte that is not printable ASCII is not kept.
 */
static void test_ntlm_names(void **state)
{
    static struct dcerpc_info in;
    uint8_t body[200], seg[320];
    size_t n, k;
    static const char dom[] = "HOSP", srv[] = "EMR-DB01", ws[] = "GAIRAI-PC12";

    (void)state;
    memset(&in, 0, sizeof(in));
    memset(body, 0, sizeof(body));
    body[0] = 9;
    body[4] = 72, body[6] = 120;
    memcpy(body + 8, "NTLMSSP", 8);
    body[8 + 8] = 2;
    /* TargetInfoFields at 40: length, max length, offset 56 from the message's start. */
    k = 56;
    body[8 + k] = 2, body[8 + k + 2] = 2 * (sizeof(dom) - 1), k += 4; /* MsvAvNbDomainName */
    for (size_t i = 0; i < sizeof(dom) - 1; i++, k += 2)
        body[8 + k] = (uint8_t)dom[i];
    body[8 + k] = 1, body[8 + k + 2] = 2 * (sizeof(srv) - 1), k += 4; /* MsvAvNbComputerName */
    for (size_t i = 0; i < sizeof(srv) - 1; i++, k += 2)
        body[8 + k] = (uint8_t)srv[i];
    k += 4; /* MsvAvEOL */
    body[8 + 40] = (uint8_t)(k - 56), body[8 + 42] = (uint8_t)(k - 56), body[8 + 44] = 56;
    n = smb2(seg, 1, 1, 2, body, 8 + 120);
    dcerpc_feed(&in, 1, 1, seg, (uint32_t)n);
    assert_string_equal(in.host[1], "EMR-DB01");
    /* AUTHENTICATE: WorkstationFields at 44 (offset 72), flags at 60 with UNICODE. */
    memset(body, 0, sizeof(body));
    body[0] = 25;
    body[12] = 88, body[14] = 100;
    memcpy(body + 24, "NTLMSSP", 8);
    body[24 + 8] = 3;
    body[24 + 60] = 1;
    body[24 + 44] = 2 * (sizeof(ws) - 1), body[24 + 48] = 72;
    for (size_t i = 0; i < sizeof(ws) - 1; i++)
        body[24 + 72 + 2 * i] = (uint8_t)ws[i];
    n = smb2(seg, 1, 0, 3, body, 24 + 100);
    dcerpc_feed(&in, 0, 1, seg, (uint32_t)n);
    assert_string_equal(in.host[0], "GAIRAI-PC12");
    memset(&in, 0, sizeof(in));
    body[24 + 72 + 2] = 0x07; /* a control byte: no name */
    n = smb2(seg, 1, 0, 3, body, 24 + 100);
    dcerpc_feed(&in, 0, 1, seg, (uint32_t)n);
    assert_string_equal(in.host[0], "");
}

static void test_table(void **state)
{
    unsigned i;

    (void)state;
    assert_true(dcerpc_op_count() <= DCERPC_MAX_OPS);
    for (i = 0; i < dcerpc_op_count(); i++) {
        const char *name = dcerpc_op_name(i);
        size_t len = strcspn(name, ".");
        /* Every operation's interface is in the interface table, under its name. */
        assert_int_equal(strncmp(dcerpc_iface_name(dcerpc_op_iface(i)), name, len), 0);
        assert_int_equal(dcerpc_op_lookup(name), (int)i);
        assert_int_equal(dcerpc_op_find(dcerpc_op_iface(i), dcerpc_op_opnum(i)), (int)i);
    }
    assert_int_equal(dcerpc_op_lookup("svcctl.NoSuchCall"), MM_ENOTFOUND);
    assert_int_equal(dcerpc_op_find(0, 9999), MM_ENOTFOUND);
    assert_false(dcerpc_probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
}

static void test_flow_glue(void **state)
{
    struct dcerpc *m;
    struct dcerpc_stats st;
    struct flow f, g;
    struct pkt_view pv;
    uint8_t buf[128];

    (void)state;
    assert_int_equal(dcerpc_create(&m, 1), 0);
    memset(&f, 0, sizeof(f));
    memset(&g, 0, sizeof(g));
    memset(&pv, 0, sizeof(pv));
    pv.proto = 6;
    pv.payload = buf;
    pv.payload_len = (uint32_t)bind_pdu(buf, 0, svcctl_le, 0);
    assert_int_equal(dcerpc_packet(m, &f, &pv, 0), DCERPC_FOUND);
    assert_non_null(dcerpc_info(&f));
    /* The cap: a second flow is not followed, and that is counted. */
    assert_int_equal(dcerpc_packet(m, &g, &pv, 0), 0);
    assert_null(dcerpc_info(&g));
    dcerpc_flow_release(m, &f);
    assert_null(dcerpc_info(&f));
    assert_int_equal(dcerpc_packet(m, &g, &pv, 0), DCERPC_FOUND);
    dcerpc_get_stats(m, &st);
    assert_int_equal(st.flows, 3);
    assert_int_equal(st.state_failures, 1);
    assert_int_equal(st.active, 1);
    dcerpc_flow_release(m, &g);
    dcerpc_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_then_call), cmocka_unit_test(test_stub_spans_segments),
        cmocka_unit_test(test_lost_segment),   cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_smb2_pipe),      cmocka_unit_test(test_table),
        cmocka_unit_test(test_flow_glue),      cmocka_unit_test(test_ntlm),
        cmocka_unit_test(test_ntlm_version),   cmocka_unit_test(test_ntlm_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
