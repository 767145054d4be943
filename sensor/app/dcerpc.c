/*
 * DCE-RPC over TCP and over SMB named pipes, headers only. Each direction's sequence number
 * says where the next PDU (or NetBIOS session message) starts: the bytes of the current one
 * are counted off as segments pass, so a PDU whose stub spans many segments costs nothing and
 * the next header is found even when it starts mid-segment. A lost segment desynchronises the
 * direction until a segment starts with a header again. Only requests are read (binds, alter
 * contexts, calls; SMB CREATE, WRITE, IOCTL, WRITE_ANDX, TRANSACTION), the answers to pipe
 * CREATEs, which give the file id later writes name, and the server's NTLMSSP challenge (in
 * session setup answers and bind acknowledgements), which says its Windows version.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "mimamori/dcerpc.h"
#include "mimamori/pool.h"

/* DCE-RPC connection-oriented PDU types (C706 chapter 12). */
enum {
    PT_REQUEST = 0,
    PT_BIND = 11,
    PT_BIND_ACK = 12,
    PT_ALTER_CONTEXT = 14,
    PT_ALTER_CONTEXT_RESP = 15,
    PT_AUTH3 = 16
};
#define PFC_FIRST_FRAG  0x01u
#define PFC_OBJECT_UUID 0x80u
#define CO_HDR          16u

/* SMB2 commands (MS-SMB2 2.2.1) and SMB1 commands (MS-CIFS 2.2.2.1). */
enum { SMB2_SESSION_SETUP = 1, SMB2_CREATE = 5, SMB2_WRITE = 9, SMB2_IOCTL = 11 };
enum { SMB1_TRANSACTION = 0x25, SMB1_WRITE_ANDX = 0x2f, SMB1_SESSION_SETUP_ANDX = 0x73 };
#define SMB2_HDR                  64u
#define SMB2_FLAGS_RESPONSE       0x1u
#define SMB1_HDR                  32u
#define SMB1_FLAGS_REPLY          0x80u
#define FSCTL_PIPE_TRANSCEIVE     0x0011c017u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint16_t rd16(const uint8_t *p, int little)
{
    return little ? le16(p) : (uint16_t)(p[0] << 8 | p[1]);
}

/* A connection-oriented DCE-RPC header we read: version 5.0 or 5.1, a sane length. */
static int co_header(const uint8_t *p, uint32_t n)
{
    if (n < CO_HDR || p[0] != 5 || p[1] > 1 || p[2] > 20 || (p[4] & 0xe0) != 0)
        return 0;
    return rd16(p + 8, p[4] & 0x10) >= CO_HDR;
}

int dcerpc_probe(const uint8_t *p, uint32_t n)
{
    /* Requests, responses, binds and their answers: the first segment seen may be either. */
    if (co_header(p, n) && (p[2] <= 2 || (p[2] >= PT_BIND && p[2] <= PT_ALTER_CONTEXT + 1)))
        return 1;
    if (n >= 8 && p[0] == 0x00 && (p[4] == 0xfe || p[4] == 0xff) && memcmp(p + 5, "SMB", 3) == 0)
        return 1;
    return n >= 4 && p[0] == 0x81 && p[1] == 0; /* NetBIOS session request, port 139 */
}

/* --- channels and contexts ------------------------------------------------------------------ */

static struct dcerpc_channel *channel(struct dcerpc_info *in, uint64_t fid, int make)
{
    unsigned i;

    for (i = 0; i < in->nchan; i++)
        if (in->chan[i].fid == fid)
            return &in->chan[i];
    if (!make)
        return NULL;
    if (in->nchan == DCERPC_MAX_CHANNELS) { /* reuse the oldest */
        memmove(&in->chan[0], &in->chan[1], sizeof(in->chan[0]) * (DCERPC_MAX_CHANNELS - 1));
        in->nchan--;
    }
    memset(&in->chan[in->nchan], 0, sizeof(in->chan[0]));
    in->chan[in->nchan].fid = fid;
    return &in->chan[in->nchan++];
}

static void bind_ctx(struct dcerpc_channel *c, uint16_t ctx_id, int iface)
{
    unsigned i;

    for (i = 0; i < c->nctx && c->ctx_id[i] != ctx_id; i++)
        ;
    if (i == DCERPC_MAX_CTX) { /* full: the newest binding wins the last place */
        i = DCERPC_MAX_CTX - 1;
    } else if (i == c->nctx) {
        c->nctx++;
    }
    c->ctx_id[i] = ctx_id;
    c->iface[i] = (uint8_t)(iface + 1);
}

static int ctx_iface(const struct dcerpc_channel *c, uint16_t ctx_id)
{
    unsigned i;

    for (i = 0; i < c->nctx; i++)
        if (c->ctx_id[i] == ctx_id)
            return c->iface[i] - 1;
    return -1;
}

/* --- DCE-RPC PDUs --------------------------------------------------------------------------- */

/* The canonical (big-endian) form of a UUID as sent, in the sender's integer byte order. */
static void uuid_canon(uint8_t out[16], const uint8_t *p, int little)
{
    memcpy(out, p, 16);
    if (little) {
        out[0] = p[3], out[1] = p[2], out[2] = p[1], out[3] = p[0];
        out[4] = p[5], out[5] = p[4];
        out[6] = p[7], out[7] = p[6];
    }
}

static void pdu_bind(struct dcerpc_info *in, struct dcerpc_channel *c, const uint8_t *p, uint32_t n,
                     int little)
{
    uint32_t off = CO_HDR + 12, k, ncontexts;
    uint8_t u[16];
    int iface;

    if (in->binds < UINT8_MAX)
        in->binds++;
    if (n < CO_HDR + 12)
        return;
    ncontexts = p[CO_HDR + 8];
    for (k = 0; k < ncontexts; k++) {
        uint32_t nts;
        if (off + 24 > n) {
            in->cut++;
            return;
        }
        nts = p[off + 2];
        uuid_canon(u, p + off + 4, little);
        if ((iface = dcerpc_iface_lookup_uuid(u)) >= 0) {
            bind_ctx(c, rd16(p + off, little), iface);
            in->bound |= 1u << iface;
        }
        off += 24 + 20 * nts;
    }
}

/* Operation op of the table called over channel c (NULL: not over a pipe). */
static unsigned called(struct dcerpc_info *in, int op, const struct dcerpc_channel *c)
{
    if (in->count[op] < UINT16_MAX)
        in->count[op]++;
    if (in->ops & 1ull << op)
        return 0;
    if (in->ops == 0) {
        in->first_op = (uint8_t)op;
        if (c != NULL)
            memcpy(in->first_pipe, c->pipe, sizeof(in->first_pipe));
    }
    in->ops |= 1ull << op;
    in->fresh |= 1ull << op;
    return DCERPC_NEWS;
}

/*
 * The Version field (MS-NLMP 2.2.2.10) of an NTLMSSP message m of n bytes, when its flags say
 * it is there: the client's in NEGOTIATE and AUTHENTICATE, the server's in CHALLENGE. Windows
 * writes its own version and build; Samba writes 6.1 with build 0.
 */
static void ntlm_version(struct dcerpc_info *in, const uint8_t *m, uint32_t n)
{
    static const uint8_t at[4][2] = {{0, 0}, {12, 32}, {20, 48}, {60, 64}}; /* flags, version */
    uint32_t type = le32(m + 8);
    struct dcerpc_os *os;

    if (type < 1 || type > 3 || n < (uint32_t)at[type][1] + 8u ||
        !(le32(m + at[type][0]) & NTLMSSP_NEGOTIATE_VERSION) || m[at[type][1]] == 0)
        return;
    os = &in->os[type == 2];
    os->major = m[at[type][1]];
    os->minor = m[at[type][1] + 1];
    os->build = le16(m + at[type][1] + 2);
}

/*
 * A computer name of len bytes at off in message m (n bytes), UTF-16LE or OEM: kept only when
 * every character is printable ASCII and it fits (NetBIOS names have 15).
 */
static void ntlm_name(char out[DCERPC_HOST_LEN], const uint8_t *m, uint32_t n, uint32_t off,
                      uint32_t len, int unicode)
{
    uint32_t i, k = 0, step = unicode ? 2 : 1;
    char tmp[DCERPC_HOST_LEN];

    if (len == 0 || off > n || len > n - off || len / step >= DCERPC_HOST_LEN)
        return;
    for (i = 0; i + step <= len; i += step) {
        uint8_t c = m[off + i];
        if (c <= ' ' || c >= 0x7f || (unicode && m[off + i + 1] != 0))
            return;
        tmp[k++] = (char)c;
    }
    tmp[k] = '\0';
    memcpy(out, tmp, k + 1);
}

/*
 * The computer names NTLMSSP states: the client's workstation in AUTHENTICATE (its
 * WorkstationFields), the server's NetBIOS name in CHALLENGE (MsvAvNbComputerName, AV pair 1
 * of its TargetInfo).
 */
static void ntlm_names(struct dcerpc_info *in, const uint8_t *m, uint32_t n)
{
    uint32_t type = le32(m + 8), off, end;

    if (type == 3 && n >= 64)
        ntlm_name(in->host[0], m, n, le32(m + 48), le16(m + 44), le32(m + 60) & 1);
    if (type != 2 || n < 48)
        return;
    off = le32(m + 44);
    end = off + le16(m + 40);
    if (off > n || end > n || end < off)
        return;
    while (off + 4 <= end && le16(m + off) != 0) { /* MsvAvEOL ends the list */
        uint16_t id = le16(m + off), len = le16(m + off + 2);
        if (off + 4u + len > end)
            return;
        if (id == 1)
            ntlm_name(in->host[1], m, n, off + 4, len, 1);
        off += 4u + len;
    }
}

/*
 * An NTLMSSP message in n bytes: its version, and for an AUTHENTICATE message (MS-NLMP
 * 2.2.1.3) the response kind. Its NT response is 24 bytes long for NTLMv1 (longer for
 * NTLMv2); with none and a 24-byte LM response, LAN Manager.
 */
static unsigned ntlm_message(struct dcerpc_info *in, const uint8_t *p, uint32_t n)
{
    static const uint8_t sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
    const uint8_t *m = n >= 28 ? memmem(p, n, sig, sizeof(sig)) : NULL;
    uint16_t lm, nt;

    if (m == NULL || (uint32_t)(p + n - m) < 28)
        return 0;
    ntlm_version(in, m, (uint32_t)(p + n - m));
    ntlm_names(in, m, (uint32_t)(p + n - m));
    if (le32(m + 8) != 3)
        return 0;
    lm = le16(m + 12), nt = le16(m + 20);
    if (nt == 24)
        return called(in, dcerpc_op_lookup("auth.NTLMv1"), NULL);
    if (nt == 0 && lm == 24)
        return called(in, dcerpc_op_lookup("auth.LM"), NULL);
    return 0;
}

static unsigned pdu_request(struct dcerpc_info *in, const struct dcerpc_channel *c,
                            const uint8_t *p, uint32_t n, int little)
{
    int iface, op;

    if (!(p[3] & PFC_FIRST_FRAG))
        return 0; /* a later fragment of a call already counted */
    if (n < CO_HDR + 8) {
        in->cut++;
        return 0;
    }
    if ((iface = ctx_iface(c, rd16(p + CO_HDR + 4, little))) < 0 ||
        (op = dcerpc_op_find((unsigned)iface, rd16(p + CO_HDR + 6, little))) < 0)
        return 0;
    return called(in, op, c);
}

/*
 * The PDUs in n bytes written to the pipe of file id fid (0: the TCP stream itself). A file
 * written to is a channel only when it carries DCE-RPC: copies to a share are not followed.
 */
static unsigned pdus(struct dcerpc_info *in, uint64_t fid, const uint8_t *p, uint32_t n)
{
    struct dcerpc_channel *c = NULL;
    unsigned news = 0;

    while (co_header(p, n)) {
        if (c == NULL)
            c = channel(in, fid, 1);
        int little = p[4] & 0x10;
        uint32_t len = rd16(p + 8, little), have = len < n ? len : n;
        if (p[2] == PT_BIND || p[2] == PT_ALTER_CONTEXT)
            pdu_bind(in, c, p, have, little);
        if ((p[2] == PT_BIND || p[2] == PT_ALTER_CONTEXT || p[2] == PT_AUTH3 ||
             p[2] == PT_BIND_ACK || p[2] == PT_ALTER_CONTEXT_RESP) &&
            rd16(p + 10, little) > 0)
            news |= ntlm_message(in, p, have);
        else if (p[2] == PT_REQUEST)
            news |= pdu_request(in, c, p, have, little);
        if (len >= n)
            break;
        p += len;
        n -= len;
    }
    return news;
}

/* --- SMB carriers --------------------------------------------------------------------------- */

/* A pipe name from UTF-16LE, ASCII only, without a leading backslash or "PIPE\". */
static void pipe_name(char out[DCERPC_PIPE_LEN], const uint8_t *p, uint32_t bytes)
{
    unsigned i = 0, j;

    if (bytes >= 2 && p[0] == '\\' && p[1] == 0)
        p += 2, bytes -= 2;
    for (j = 0; j + 1 < bytes && i + 1 < DCERPC_PIPE_LEN; j += 2)
        out[i++] = p[j + 1] == 0 && p[j] >= 0x20 && p[j] < 0x7f ? (char)p[j] : '?';
    out[i] = '\0';
}

/* A file name that can be a named pipe's: no directory, no extension ("svcctl", "lsarpc"). */
static int pipe_like(const uint8_t *p, uint32_t bytes)
{
    uint32_t j;

    for (j = 0; j + 1 < bytes; j += 2)
        if ((p[j] == '\\' && j > 0) || p[j] == '.' || p[j] == '/')
            return 0;
    return 1;
}

static void smb2_create(struct dcerpc_info *in, const uint8_t *h, uint32_t n, int response)
{
    uint64_t mid = le64(h + 24);

    if (!response) {
        uint32_t off, len;
        if (n < SMB2_HDR + 48)
            return;
        off = le16(h + SMB2_HDR + 44), len = le16(h + SMB2_HDR + 46);
        if (off < SMB2_HDR + 56 || len == 0 || off + len > n || !pipe_like(h + off, len))
            return;
        in->pending_create[1] = in->pending_create[0];
        memcpy(in->pending_name[1], in->pending_name[0], DCERPC_PIPE_LEN);
        in->pending_create[0] = mid + 1; /* + 1: never 0 */
        pipe_name(in->pending_name[0], h + off, len);
        return;
    }
    if (n < SMB2_HDR + 80 || le32(h + 8) != 0)
        return;
    for (int i = 0; i < 2; i++) {
        if (in->pending_create[i] == mid + 1) {
            struct dcerpc_channel *c = channel(in, le64(h + SMB2_HDR + 72) | 1ull << 63, 1);
            memcpy(c->pipe, in->pending_name[i], DCERPC_PIPE_LEN);
            in->pending_create[i] = 0;
        }
    }
}

/* One SMB2 message (n bytes at h, possibly cut short by the segment's end). */
static unsigned smb2_message(struct dcerpc_info *in, const uint8_t *h, uint32_t n)
{
    unsigned news = 0;

    for (;;) {
        uint32_t next, off, len;
        uint16_t cmd;
        int response;
        if (n < SMB2_HDR || le32(h) != 0x424d53feu || le16(h + 4) != SMB2_HDR)
            return news;
        cmd = le16(h + 12), response = le32(h + 16) & SMB2_FLAGS_RESPONSE;
        next = le32(h + 20);
        if (cmd == SMB2_SESSION_SETUP && !response && n >= SMB2_HDR + 16) {
            off = le16(h + SMB2_HDR + 12), len = le16(h + SMB2_HDR + 14);
            if (off >= SMB2_HDR + 24 && off < n)
                news |= ntlm_message(in, h + off, len < n - off ? len : n - off);
        } else if (cmd == SMB2_SESSION_SETUP && n >= SMB2_HDR + 8) { /* the server's challenge */
            off = le16(h + SMB2_HDR + 4), len = le16(h + SMB2_HDR + 6);
            if (off >= SMB2_HDR + 8 && off < n)
                ntlm_message(in, h + off, len < n - off ? len : n - off);
        } else if (cmd == SMB2_CREATE) {
            smb2_create(in, h, next != 0 && next < n ? next : n, response);
        } else if (!response && cmd == SMB2_WRITE && n >= SMB2_HDR + 32) {
            off = le16(h + SMB2_HDR + 2), len = le32(h + SMB2_HDR + 4);
            if (off >= SMB2_HDR + 48 && off < n)
                news |= pdus(in, le64(h + SMB2_HDR + 24) | 1ull << 63, h + off,
                             len < n - off ? len : n - off);
        } else if (!response && cmd == SMB2_IOCTL && n >= SMB2_HDR + 32 &&
                   le32(h + SMB2_HDR + 4) == FSCTL_PIPE_TRANSCEIVE) {
            off = le32(h + SMB2_HDR + 24), len = le32(h + SMB2_HDR + 28);
            if (off >= SMB2_HDR + 56 && off < n)
                news |= pdus(in, le64(h + SMB2_HDR + 16) | 1ull << 63, h + off,
                             len < n - off ? len : n - off);
        }
        if (next == 0 || next >= n || (next & 7) != 0)
            return news;
        h += next; /* a compounded request */
        n -= next;
    }
}

/*
 * SESSION_SETUP_ANDX (MS-CIFS 2.2.4.53): with extended security (12 words) an NTLMSSP blob
 * after the words; without (13 words) the responses themselves, whose lengths tell LAN
 * Manager (an OEM response only) from NTLMv1 (a 24-byte Unicode response).
 */
static unsigned smb1_session_setup(struct dcerpc_info *in, const uint8_t *h, uint32_t n,
                                   uint32_t words)
{
    uint32_t bytes = SMB1_HDR + 1 + 2 * words + 2;

    if (words == 12 && bytes <= n)
        return ntlm_message(in, h + bytes, n - bytes);
    if (words != 13 || n < SMB1_HDR + 1 + 18)
        return 0;
    if (le16(h + SMB1_HDR + 1 + 16) == 24)
        return called(in, dcerpc_op_lookup("auth.NTLMv1"), NULL);
    if (le16(h + SMB1_HDR + 1 + 16) == 0 && le16(h + SMB1_HDR + 1 + 14) > 1)
        return called(in, dcerpc_op_lookup("auth.LM"), NULL);
    return 0;
}

static unsigned smb1_message(struct dcerpc_info *in, const uint8_t *h, uint32_t n)
{
    uint32_t words, off, len;
    uint16_t fid;

    if (n < SMB1_HDR + 1)
        return 0;
    words = h[SMB1_HDR];
    if (h[9] & SMB1_FLAGS_REPLY) { /* an extended-security session setup answer: the challenge */
        if (h[4] == SMB1_SESSION_SETUP_ANDX && words == 4 && n > SMB1_HDR + 11)
            ntlm_message(in, h + SMB1_HDR + 11, n - (SMB1_HDR + 11));
        return 0;
    }
    if (h[4] == SMB1_SESSION_SETUP_ANDX)
        return smb1_session_setup(in, h, n, words);
    if (h[4] == SMB1_WRITE_ANDX && words >= 12 && n >= SMB1_HDR + 1 + 24) {
        fid = le16(h + SMB1_HDR + 1 + 4);
        len = le16(h + SMB1_HDR + 1 + 20), off = le16(h + SMB1_HDR + 1 + 22);
    } else if (h[4] == SMB1_TRANSACTION && words >= 16 && n >= SMB1_HDR + 1 + 32 &&
               le16(h + SMB1_HDR + 1 + 28) == 0x26) { /* TransactNmPipe */
        fid = le16(h + SMB1_HDR + 1 + 30);
        len = le16(h + SMB1_HDR + 1 + 22), off = le16(h + SMB1_HDR + 1 + 24);
    } else {
        return 0;
    }
    if (off < SMB1_HDR || off >= n)
        return 0;
    return pdus(in, (uint64_t)fid | 1ull << 63, h + off, len < n - off ? len : n - off);
}

/* --- streams -------------------------------------------------------------------------------- */

/* Where the message at p ends: its length, or 0 when p does not start one. */
static uint32_t message_len(const uint8_t *p, uint32_t n)
{
    if (co_header(p, n))
        return rd16(p + 8, p[4] & 0x10);
    if (n >= 4 && (p[0] == 0x00 || p[0] == 0x81 || p[0] == 0x82 || p[0] == 0x85))
        return 4 + ((uint32_t)(p[1] & 1) << 16 | (uint32_t)p[2] << 8 | p[3]);
    return 0;
}

unsigned dcerpc_feed(struct dcerpc_info *in, int dir, uint32_t seq, const uint8_t *p, uint32_t n)
{
    struct dcerpc_stream *s = &in->s[dir & 1];
    unsigned news = 0;
    int32_t off;

    if (s->synced) {
        off = (int32_t)(seq - s->next_seq);
        if (off < 0) { /* retransmitted: only the new part, if any, is read */
            if ((uint32_t)-off >= n)
                return 0;
            p += -off, n -= (uint32_t)-off, seq += (uint32_t)-off;
        } else if (off > 0) {
            s->skip = 0; /* bytes lost: look for a header at this segment's start */
        }
    }
    s->synced = 1;
    s->next_seq = seq + n;
    while (n > 0) {
        uint32_t len;
        if (s->skip > 0) {
            uint32_t k = s->skip < n ? s->skip : n;
            s->skip -= k, p += k, n -= k;
            continue;
        }
        if ((len = message_len(p, n)) == 0) {
            s->skip = 0;
            return news; /* not a header: wait for a segment that starts with one */
        }
        if (p[0] == 0x00 && n >= 8 && p[4] == 0xfe && memcmp(p + 5, "SMB", 3) == 0) {
            in->smb = 2;
            news |= smb2_message(in, p + 4, (len < n ? len : n) - 4);
        } else if (p[0] == 0x00 && n >= 8 && p[4] == 0xff && memcmp(p + 5, "SMB", 3) == 0) {
            in->smb = in->smb ? in->smb : 1;
            news |= smb1_message(in, p + 4, (len < n ? len : n) - 4);
        } else if (p[0] == 5) {
            news |= pdus(in, 0, p, len < n ? len : n);
        }
        s->skip = len;
    }
    return news;
}

/* --- on flows ------------------------------------------------------------------------------- */

struct dcerpc_flow {
    struct dcerpc_info info;
};

struct dcerpc {
    struct pool *states;
    struct dcerpc_stats st;
};

int dcerpc_create(struct dcerpc **out, uint32_t max_flows)
{
    struct dcerpc *m = calloc(1, sizeof(*m));

    *out = m;
    if (m == NULL || pool_create(&m->states, sizeof(struct dcerpc_flow), max_flows) != 0) {
        free(m);
        *out = NULL;
        return MM_ENOMEM;
    }
    return 0;
}

void dcerpc_destroy(struct dcerpc *m)
{
    if (m == NULL)
        return;
    pool_destroy(m->states);
    free(m);
}

void dcerpc_flow_release(struct dcerpc *m, struct flow *f)
{
    pool_put(m->states, f->app.rpc);
    f->app.rpc = NULL;
}

unsigned dcerpc_packet(struct dcerpc *m, struct flow *f, const struct pkt_view *pv, int dir)
{
    struct dcerpc_flow *s = f->app.rpc;
    unsigned r = 0, news;

    if (pv->payload_len == 0 || pv->proto != 6)
        return 0;
    if (s == NULL) {
        if (!dcerpc_probe(pv->payload, pv->payload_len))
            return 0;
        m->st.flows++;
        if ((s = pool_get(m->states)) == NULL) {
            m->st.state_failures++;
            return 0;
        }
        f->app.rpc = s;
        r |= DCERPC_FOUND;
    }
    news = dcerpc_feed(&s->info, dir, pv->tcp_seq, pv->payload, pv->payload_len);
    if (news) {
        m->st.calls++;
        r |= news;
    }
    return r;
}

const struct dcerpc_info *dcerpc_info(const struct flow *f)
{
    return f->app.rpc != NULL ? &f->app.rpc->info : NULL;
}

void dcerpc_clear_fresh(struct flow *f)
{
    if (f->app.rpc != NULL)
        f->app.rpc->info.fresh = 0;
}

void dcerpc_get_stats(const struct dcerpc *m, struct dcerpc_stats *st)
{
    *st = m->st;
    st->active = pool_active(m->states);
}
