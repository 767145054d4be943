/*
 * HL7 v2 over MLLP, one byte-driven state machine per direction. Framing: 0x0B starts a
 * message, 0x1C 0x0D ends it; segments end with CR (LF accepted). The MSH segment is read
 * field by field straight into struct hl7_msh (separators come from MSH-1 and MSH-2), MSA-1 into
 * a two-byte buffer; any other segment is skipped to its end without being looked at, which is
 * what keeps PID, NK1, OBX and notes out of every event. Segment and frame boundaries may fall
 * anywhere in the TCP stream.
 */
#include <string.h>

#include "mimamori/hl7.h"

#define VT 0x0B
#define FS 0x1C
#define CR 0x0D
#define LF 0x0A

enum {
    ST_IDLE = 0, /* between frames: looking for 0x0B */
    ST_SEGID,    /* reading a segment id */
    ST_MSH,      /* inside MSH, after its field separator */
    ST_MSA,      /* inside MSA, after the segment id */
    ST_SKIP,     /* inside any other segment: skipped */
    ST_TRAILER,  /* after 0x1C: expecting 0x0D */
};

static const char *const ack_names[HL7_ACK__COUNT] = {"AA", "AE", "AR", "CA", "CE", "CR"};
static const char *const anomaly_names[HL7_AN__COUNT] = {
    "outside_frame", "no_msh", "unterminated", "bad_trailer", "bad_segment", "gap"};

const char *hl7_ack_name(enum hl7_ack a)
{
    return (unsigned)a < HL7_ACK__COUNT ? ack_names[a] : "?";
}

const char *hl7_anomaly_name(enum hl7_anomaly a)
{
    return (unsigned)a < HL7_AN__COUNT ? anomaly_names[a] : "?";
}

static int is_alnum(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A separator: printable, not a letter, digit or space. */
static int is_sep(uint8_t c)
{
    return c > 0x20 && c < 0x7F && !is_alnum(c);
}

int hl7_probe(const uint8_t *p, size_t n)
{
    return n >= 9 && p[0] == VT && p[1] == 'M' && p[2] == 'S' && p[3] == 'H' && is_sep(p[4]) &&
           is_sep(p[5]) && p[5] != p[4];
}

/* Append one byte to a NUL-terminated field, printable ASCII only. */
static void put(char *dst, size_t size, uint8_t c)
{
    size_t n = strlen(dst);

    if (n + 1 < size) {
        dst[n] = (char)(c >= 0x20 && c < 0x7F ? c : '?');
        dst[n + 1] = '\0';
    }
}

static int ack_code(const char b[2]);

static void message_begin(struct hl7_stream *s)
{
    s->state = ST_SEGID;
    s->idlen = 0;
    s->has_msh = 0;
    s->ack = -1;
    s->acklen = 0;
    s->field = 0; /* 0 until the first segment is known */
    memset(&s->cur, 0, sizeof(s->cur));
}

/* The MSH segment ended: well formed when it reached the message type. */
static void msh_done(struct hl7_stream *s, struct hl7_info *in)
{
    s->has_msh = s->field >= 9 && s->cur.type[0] != '\0';
    if (!s->has_msh)
        in->anomalies[HL7_AN_NO_MSH]++;
}

/* MSA-1 ended. */
static void msa_done(struct hl7_stream *s)
{
    if (s->acklen == 2)
        s->ack = (int8_t)ack_code(s->ackbuf);
}

/* The destination of byte c at MSH field s->field, component s->comp. */
static void msh_byte(struct hl7_stream *s, uint8_t c)
{
    struct hl7_msh *m = &s->cur;

    if (s->field == 9 && s->comp == 1) { /* trigger event, after "^" */
        if (m->type[0] != '\0' && strchr(m->type, '^') == NULL)
            put(m->type, sizeof(m->type), '^');
        put(m->type, sizeof(m->type), c);
        return;
    }
    if (s->comp != 0)
        return;
    switch (s->field) {
    case 3:
        put(m->sending_app, sizeof(m->sending_app), c);
        break;
    case 4:
        put(m->sending_facility, sizeof(m->sending_facility), c);
        break;
    case 5:
        put(m->receiving_app, sizeof(m->receiving_app), c);
        break;
    case 6:
        put(m->receiving_facility, sizeof(m->receiving_facility), c);
        break;
    case 9:
        put(m->type, sizeof(m->type), c);
        break;
    case 11:
        put(m->processing_id, sizeof(m->processing_id), c);
        break;
    case 12:
        put(m->version, sizeof(m->version), c);
        break;
    default:
        break;
    }
}

static int ack_code(const char b[2])
{
    unsigned i;

    for (i = 0; i < HL7_ACK__COUNT; i++)
        if (b[0] == ack_names[i][0] && b[1] == ack_names[i][1])
            return (int)i;
    return -1;
}

/* A frame ended (0x1C): count the message and report what is new. */
static unsigned message_end(struct hl7_stream *s, struct hl7_info *in, int dir)
{
    const struct hl7_msh *m = &s->cur;
    unsigned news = 0, i;
    int is_ack = strncmp(m->type, "ACK", 3) == 0;

    s->state = ST_TRAILER;
    if (!s->has_msh)
        return 0;
    if (in->messages[0] + in->messages[1] == 0)
        news |= HL7_NEWS_MESSAGE;
    in->messages[dir & 1]++;
    if (!in->have_first || (in->first_is_ack && !is_ack)) {
        in->first = *m;
        in->have_first = 1;
        in->first_is_ack = (uint8_t)is_ack;
    }
    for (i = 0; i < in->ntypes && strcmp(in->types[i], m->type) != 0; i++)
        ;
    if (i == in->ntypes) {
        if (in->ntypes < HL7_MAX_TYPES) {
            memcpy(in->types[in->ntypes++], m->type, HL7_TYPE_LEN);
            news |= HL7_NEWS_TYPE;
        } else if (in->types_dropped < 255) {
            in->types_dropped++;
        }
    }
    for (i = 0; i < in->nsenders; i++)
        if (in->senders[i].dir == (dir & 1) && strcmp(in->senders[i].app, m->sending_app) == 0)
            break;
    if (i == in->nsenders) {
        /* Beyond the table, the oldest entry makes room: a new sender is always reported. */
        if (in->nsenders == HL7_MAX_SENDERS) {
            memmove(&in->senders[0], &in->senders[1],
                    sizeof(in->senders[0]) * (HL7_MAX_SENDERS - 1));
            i = HL7_MAX_SENDERS - 1;
        } else {
            i = in->nsenders++;
        }
        memcpy(in->senders[i].app, m->sending_app, HL7_NAME_LEN);
        memcpy(in->senders[i].facility, m->sending_facility, HL7_NAME_LEN);
        memcpy(in->senders[i].type, m->type, HL7_TYPE_LEN);
        in->senders[i].dir = (uint8_t)(dir & 1);
        in->last_sender = (uint8_t)i;
        news |= HL7_NEWS_SENDER;
    }
    if (s->ack >= 0) {
        in->acks[s->ack]++;
        if (s->ack != HL7_ACK_AA && s->ack != HL7_ACK_CA)
            news |= HL7_NEWS_NACK;
    }
    return news;
}

/* The segment id is complete and c is the byte after it. */
static void segment_start(struct hl7_stream *s, struct hl7_info *in, uint8_t c)
{
    int first = !s->has_msh && s->field == 0;

    if (s->segid[0] == 'M' && s->segid[1] == 'S' && s->segid[2] == 'H' && first && is_sep(c)) {
        s->fsep = (char)c;
        s->csep = 0;
        s->field = 2; /* MSH-1 is the separator itself */
        s->comp = 0;
        s->state = ST_MSH;
        return;
    }
    if (first) {
        in->anomalies[HL7_AN_NO_MSH]++;
        s->field = 1; /* not the first segment any more */
        s->state = ST_SKIP;
        return;
    }
    if (s->has_msh && s->segid[0] == 'M' && s->segid[1] == 'S' && s->segid[2] == 'A' &&
        (char)c == s->fsep) {
        s->field = 1;
        s->acklen = 0;
        s->state = ST_MSA;
        return;
    }
    s->state = ST_SKIP;
}

unsigned hl7_feed(struct hl7_stream *s, struct hl7_info *in, int dir, const uint8_t *p, size_t n)
{
    unsigned news = 0;
    size_t i = 0;

    while (i < n) {
        uint8_t c = p[i];

        switch (s->state) {
        case ST_IDLE: {
            const uint8_t *vt = memchr(p + i, VT, n - i);
            size_t end = vt != NULL ? (size_t)(vt - p) : n, k;
            for (k = i; k < end; k++) {
                if (p[k] != CR && p[k] != LF && p[k] != ' ') {
                    in->anomalies[HL7_AN_OUTSIDE_FRAME]++;
                    break;
                }
            }
            if (vt == NULL)
                return news;
            i = end + 1;
            message_begin(s);
            continue;
        }
        case ST_TRAILER:
            if (c == CR) {
                i++;
            } else {
                in->anomalies[HL7_AN_BAD_TRAILER]++;
            }
            s->state = ST_IDLE;
            continue;
        default:
            break;
        }
        /* Inside a frame. */
        if (c == VT) {
            in->anomalies[HL7_AN_UNTERMINATED]++;
            message_begin(s);
            i++;
            continue;
        }
        if (c == FS) {
            if (s->state == ST_MSH)
                msh_done(s, in);
            else if (s->state == ST_MSA)
                msa_done(s);
            news |= message_end(s, in, dir);
            i++;
            continue;
        }
        switch (s->state) {
        case ST_SEGID:
            if (c == CR || c == LF) {
                if (s->idlen != 0) {
                    in->anomalies[HL7_AN_BAD_SEGMENT]++;
                    s->idlen = 0;
                }
                break;
            }
            if (s->idlen < 3) {
                if (!is_alnum(c)) {
                    in->anomalies[HL7_AN_BAD_SEGMENT]++;
                    if (!s->has_msh && s->field == 0) {
                        in->anomalies[HL7_AN_NO_MSH]++;
                        s->field = 1;
                    }
                    s->state = ST_SKIP;
                    break;
                }
                s->segid[s->idlen++] = (char)c;
                break;
            }
            segment_start(s, in, c);
            break;
        case ST_MSH:
            if (c == CR || c == LF) {
                msh_done(s, in);
                s->state = ST_SEGID;
                s->idlen = 0;
                break;
            }
            if ((char)c == s->fsep) {
                if (s->field < 255)
                    s->field++;
                s->comp = 0;
            } else if (s->field == 2) {
                if (s->csep == 0)
                    s->csep = (char)c;
            } else if ((char)c == s->csep) {
                if (s->comp < 255)
                    s->comp++;
            } else {
                msh_byte(s, c);
            }
            break;
        case ST_MSA:
            if (c == CR || c == LF) {
                msa_done(s);
                s->state = ST_SEGID;
                s->idlen = 0;
                break;
            }
            if ((char)c == s->fsep || (char)c == s->csep) {
                msa_done(s);
                s->state = ST_SKIP; /* MSA-2 onwards (control id, text) is not read */
                break;
            }
            if (s->acklen < 2)
                s->ackbuf[s->acklen] = (char)c;
            if (s->acklen < 3)
                s->acklen++;
            break;
        case ST_SKIP: {
            size_t k = i;
            while (k < n && p[k] != CR && p[k] != LF && p[k] != FS && p[k] != VT)
                k++;
            if (k < n && (p[k] == CR || p[k] == LF)) {
                s->state = ST_SEGID;
                s->idlen = 0;
                k++;
            }
            i = k;
            continue;
        }
        default:
            break;
        }
        i++;
    }
    return news;
}

void hl7_gap(struct hl7_stream *s, struct hl7_info *in)
{
    in->anomalies[HL7_AN_GAP]++;
    s->state = ST_IDLE;
}
