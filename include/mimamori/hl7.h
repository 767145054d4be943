/*
 * HL7 v2 over MLLP: a streaming parser fed one TCP segment at a time per direction. It frames
 * messages (0x0B ... 0x1C 0x0D), reads the MSH segment (message type and trigger event, sending
 * and receiving application and facility, processing id, version) and the acknowledgment code
 * of MSA, and passes over every other segment without copying a byte: patient segments (PID,
 * NK1, OBX, ...), free text and message control ids never leave the parser. Pure: no
 * allocation, no I/O, every read bounds-checked; the caller owns the state.
 */
#ifndef MIMAMORI_HL7_H
#define MIMAMORI_HL7_H

#include <stddef.h>
#include <stdint.h>

#define HL7_NAME_LEN    41 /* bytes of an application or facility name, NUL included */
#define HL7_TYPE_LEN    16 /* "ADT^A01", NUL included */
#define HL7_MAX_TYPES   8  /* distinct message types remembered per flow */
#define HL7_MAX_SENDERS 4  /* distinct (direction, sending application) remembered per flow */

enum hl7_ack {
    HL7_ACK_AA = 0,
    HL7_ACK_AE,
    HL7_ACK_AR,
    HL7_ACK_CA,
    HL7_ACK_CE,
    HL7_ACK_CR,
    HL7_ACK__COUNT
};

/* What is kept of one MSH segment: printable ASCII only, first component of each field. */
struct hl7_msh {
    char sending_app[HL7_NAME_LEN], sending_facility[HL7_NAME_LEN];
    char receiving_app[HL7_NAME_LEN], receiving_facility[HL7_NAME_LEN];
    char type[HL7_TYPE_LEN]; /* MSH-9 code^trigger: "ADT^A01", "ACK" */
    char processing_id[4];   /* MSH-11: P, T, D */
    char version[12];        /* MSH-12: "2.5.1" */
};

/* One direction's parser state (zero it to start). */
struct hl7_stream {
    uint8_t state;
    uint8_t idlen; /* bytes of the segment id read */
    char segid[3];
    char fsep, csep; /* field and component separators of the current message */
    uint8_t field, comp;
    uint8_t has_msh; /* the current message began with a well-formed MSH */
    int8_t ack;      /* MSA-1 of the current message, -1 none */
    char ackbuf[2];
    uint8_t acklen;
    struct hl7_msh cur;
};

/* Anomalies counted per flow. */
enum hl7_anomaly {
    HL7_AN_OUTSIDE_FRAME = 0, /* bytes between frames other than line ends */
    HL7_AN_NO_MSH,            /* a frame not starting with a valid MSH segment */
    HL7_AN_UNTERMINATED,      /* a new frame began before the previous one ended */
    HL7_AN_BAD_TRAILER,       /* 0x1C not followed by 0x0D */
    HL7_AN_BAD_SEGMENT,       /* a segment id that is not three letters or digits */
    HL7_AN_GAP,               /* bytes lost in capture; parsing resumed at the next frame */
    HL7_AN__COUNT
};

/* What a flow carried, both directions together. */
struct hl7_info {
    uint32_t messages[2]; /* complete messages per direction (0 to server, 1 to client) */
    struct hl7_msh first; /* first message that is not an acknowledgment, else the first */
    uint8_t have_first, first_is_ack;
    char types[HL7_MAX_TYPES][HL7_TYPE_LEN];
    uint8_t ntypes, types_dropped;
    struct hl7_sender {
        char app[HL7_NAME_LEN];
        char facility[HL7_NAME_LEN];
        char type[HL7_TYPE_LEN]; /* of the message that introduced it */
        uint8_t dir;
    } senders[HL7_MAX_SENDERS];
    uint8_t nsenders;
    uint8_t last_sender; /* index of the sender a HL7_NEWS_SENDER report is about */
    uint32_t acks[HL7_ACK__COUNT];
    uint32_t anomalies[HL7_AN__COUNT];
};

/* What hl7_feed() found new, as bits. */
#define HL7_NEWS_MESSAGE 0x01u /* the flow's first complete message */
#define HL7_NEWS_SENDER  0x02u /* a sending application not seen before in this direction */
#define HL7_NEWS_TYPE    0x04u /* a message type not seen before */
#define HL7_NEWS_NACK    0x08u /* an error or reject acknowledgment (AE, AR, CE, CR) */

/* Whether a segment's payload starts like an MLLP frame holding an MSH segment. */
int hl7_probe(const uint8_t *p, size_t n);

/* Parse n bytes that travelled in direction dir (0 or 1); returns HL7_NEWS_* bits. */
unsigned hl7_feed(struct hl7_stream *s, struct hl7_info *info, int dir, const uint8_t *p, size_t n);

/* Bytes were lost before the next feed: drop the message in progress, resume at a frame. */
void hl7_gap(struct hl7_stream *s, struct hl7_info *info);

const char *hl7_ack_name(enum hl7_ack a);
const char *hl7_anomaly_name(enum hl7_anomaly a);

#endif
