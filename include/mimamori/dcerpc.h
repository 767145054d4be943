/*
 * DCE-RPC operations on flows, as Zeek's dce_rpc.log sees them: which interface a client bound
 * and which operation it called, over TCP (port 135 and the dynamic ports the endpoint mapper
 * hands out) and over SMB named pipes (SMB2 WRITE and IOCTL, SMB1 WRITE_ANDX and TRANSACTION).
 * The parser follows each direction's TCP sequence to find where the next PDU or SMB message
 * begins without copying a byte; only headers are read (binds, requests, SMB CREATE for the pipe
 * name), never a stub. What matters to detection is a short table of operations that attackers
 * use and ordinary clients do not (DCSync, remote services and tasks, WMI and DCOM execution,
 * remote registry, domain enumeration, authentication coercion), and two pseudo-operations of
 * interface "auth" for NTLMSSP authentications with an NTLMv1 or LAN Manager response (SMB
 * session setup, DCE-RPC bind and auth3); each flow keeps a bit and a count per operation of
 * that table, and the Windows version each end's NTLMSSP messages state.
 */
#ifndef MIMAMORI_DCERPC_H
#define MIMAMORI_DCERPC_H

#include <stdint.h>

#include "mimamori/decode.h"
#include "mimamori/error.h"
#include "mimamori/flow.h"

#define DCERPC_MAX_CHANNELS 8  /* pipes (or the TCP stream itself) followed per flow */
#define DCERPC_MAX_CTX      4  /* presentation contexts remembered per channel */
#define DCERPC_PIPE_LEN     24 /* bytes of a pipe name, NUL included */
#define DCERPC_MAX_OPS      64 /* operations in the table (a bit each) */
#define DCERPC_HOST_LEN     16 /* a NetBIOS computer name, NUL included */

/* dcerpc_packet() results. */
#define DCERPC_FOUND 0x1u /* the flow was recognised as DCE-RPC or SMB with this segment */
#define DCERPC_NEWS  0x2u /* an operation of the table was called for the first time */

struct dcerpc_stream {
    uint32_t next_seq; /* sequence number of the next byte expected */
    uint32_t skip;     /* bytes of the current PDU or SMB message still to pass over */
    uint8_t synced;    /* next_seq is known */
};

struct dcerpc_channel {
    uint64_t fid; /* SMB file id of the pipe (volatile part), 0 for RPC straight over TCP */
    char pipe[DCERPC_PIPE_LEN];
    uint16_t ctx_id[DCERPC_MAX_CTX];
    uint8_t iface[DCERPC_MAX_CTX]; /* dcerpc_iface index + 1; 0 unknown or empty */
    uint8_t nctx;
};

/* A Windows version as NTLMSSP states it (major 0: not seen). */
struct dcerpc_os {
    uint8_t major, minor;
    uint16_t build;
};

/* What a flow showed; the caller owns it (zero it to start). */
struct dcerpc_info {
    uint8_t smb;                    /* 1: SMB1 seen, 2: SMB2/3 */
    uint8_t nchan;                  /* channels in use */
    uint8_t binds;                  /* bind and alter_context PDUs, saturating */
    uint32_t bound;                 /* bit per dcerpc_iface index bound */
    uint64_t ops;                   /* bit per dcerpc_op index called */
    uint64_t fresh;                 /* ... called since dcerpc_info_clear_fresh() */
    uint16_t count[DCERPC_MAX_OPS]; /* calls per operation, saturating */
    uint8_t first_op; /* index of the first operation of the table called, valid when ops != 0 */
    char first_pipe[DCERPC_PIPE_LEN]; /* the pipe it was called over, "" over TCP */
    uint64_t pending_create[2];       /* SMB2 message ids of pipe CREATEs awaiting an answer */
    char pending_name[2][DCERPC_PIPE_LEN];
    struct dcerpc_channel chan[DCERPC_MAX_CHANNELS];
    struct dcerpc_stream s[2];
    uint32_t cut;           /* headers that ran past a segment's end */
    struct dcerpc_os os[2]; /* the client's (NEGOTIATE, AUTHENTICATE), the server's (CHALLENGE) */
    char host[2][DCERPC_HOST_LEN]; /* their computer names (AUTHENTICATE, CHALLENGE), or "" */
};

/*
 * Whether a segment looks like the start of DCE-RPC (a connection-oriented PDU of version 5: a
 * request, response, bind, alter_context or their answers) or of SMB over NetBIOS (a session
 * message holding an SMB1 or SMB2 header, or a session request). Pure.
 */
int dcerpc_probe(const uint8_t *p, uint32_t n);

/*
 * One TCP segment of direction dir (0 or 1) starting at sequence number seq. Returns
 * DCERPC_NEWS when an operation of the table was called for the first time on this flow. Pure:
 * no allocation, no I/O, every read bounds-checked.
 */
unsigned dcerpc_feed(struct dcerpc_info *in, int dir, uint32_t seq, const uint8_t *p, uint32_t n);

/* --- the operation table -----------------------------------------------------------------------
 */

/* Interfaces by name ("svcctl"); MM_ENOTFOUND when unknown. */
int dcerpc_iface_lookup_uuid(const uint8_t uuid[16]);
const char *dcerpc_iface_name(unsigned iface);
unsigned dcerpc_iface_count(void);

/* Operations by name ("svcctl.CreateServiceW"); MM_ENOTFOUND when unknown. */
int dcerpc_op_lookup(const char *name);
const char *dcerpc_op_name(unsigned op); /* "svcctl.CreateServiceW" */
unsigned dcerpc_op_opnum(unsigned op);
unsigned dcerpc_op_iface(unsigned op);
unsigned dcerpc_op_count(void);
/* The table index of an interface's operation number, or MM_ENOTFOUND when not in the table. */
int dcerpc_op_find(unsigned iface, unsigned opnum);

/* --- on flows ------------------------------------------------------------------------------ */

struct dcerpc;

/* max_flows: flows followed at once; more are left unparsed (counted). */
MM_MUST_CHECK int dcerpc_create(struct dcerpc **out, uint32_t max_flows);
void dcerpc_destroy(struct dcerpc *m);

/*
 * One decoded TCP segment with payload of flow f, travelling in direction dir: probed until
 * recognised, then followed. The caller offers a flow's segments while it is being classified
 * and, after, when nDPI named it DCE-RPC or SMB. Returns DCERPC_FOUND / DCERPC_NEWS bits.
 */
unsigned dcerpc_packet(struct dcerpc *m, struct flow *f, const struct pkt_view *pv, int dir);

/* Free the flow's parser state (when the flow leaves the table). */
void dcerpc_flow_release(struct dcerpc *m, struct flow *f);

/* What the flow showed, or NULL when it was not followed. */
const struct dcerpc_info *dcerpc_info(const struct flow *f);

/* Forget which operations were fresh (after the detector looked at them). */
void dcerpc_clear_fresh(struct flow *f);

struct dcerpc_stats {
    uint64_t flows;          /* followed */
    uint64_t state_failures; /* recognised but not followed: cap or memory */
    uint64_t calls;          /* requests of table operations */
    uint32_t active;
};
void dcerpc_get_stats(const struct dcerpc *m, struct dcerpc_stats *st);

#endif
