/*
 * DICOM upper layer, one state machine per direction. Every step needs a known number of bytes
 * (a PDU header, the fixed part of an association PDU, an item header, a leaf value of at most
 * 64 bytes, a command element header); they are collected into a 68-byte buffer across TCP
 * segments, then acted on. Everything else is skipped by count: transfer syntaxes, user
 * identity, data set fragments. Lengths are checked against what contains them (PDU, item,
 * PDV) before they are trusted; a lie skips to the end of the container, an unknown PDU type
 * stops the direction, a capture gap waits for a segment that starts a PDU.
 */
#include <string.h>

#include "mimamori/dicom.h"

enum {
    ST_PDU = 0, /* PDU header: type, reserved, length (6) */
    ST_ASSOC,   /* A-ASSOCIATE-RQ/AC fixed part (68) */
    ST_ITEM,    /* item header: type, reserved, length (4) */
    ST_CTX,     /* presentation context: id, reserved, result, reserved (4) */
    ST_LEAF,    /* an item value we keep */
    ST_RJ,      /* A-ASSOCIATE-RJ body (4) */
    ST_ABORT,   /* A-ABORT body (4) */
    ST_PDV,     /* PDV item header: length, context id, message control header (6) */
    ST_EL,      /* command element header: group, element, length (8) */
    ST_ELVAL,   /* a command element value we keep */
    ST_DEAD,    /* not DICOM any more: nothing is parsed */
    ST_RESYNC,  /* after a gap: waiting for a segment that starts a PDU */
};

/* What a kept value is. */
enum { T_APP_CTX = 0, T_ABSTRACT, T_IMPL_CLASS, T_IMPL_VER, T_SOP, T_FIELD, T_DEST, T_STATUS };

#define PDU_RQ     1
#define PDU_AC     2
#define PDU_RJ     3
#define PDU_DATA   4
#define PDU_REL_RQ 5
#define PDU_REL_RP 6
#define PDU_ABORT  7
#define MAX_ASSOC  (1u << 20) /* an association PDU larger than this is not one */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[1] << 8 | p[0]);
}

/* Copy a padded text value (AE title, UID) without its padding, printable ASCII only. */
static void text(char *dst, size_t size, const uint8_t *p, size_t n)
{
    size_t i, j = 0;

    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0'))
        n--;
    while (n > 0 && *p == ' ')
        p++, n--;
    for (i = 0; i < n && j + 1 < size; i++)
        dst[j++] = (char)(p[i] >= 0x20 && p[i] < 0x7F ? p[i] : '?');
    dst[j] = '\0';
}

/* --- names ---------------------------------------------------------------------------------- */

struct uid_name {
    const char *uid, *name;
    uint8_t service;
};

/* SOP classes a hospital network carries most (PS3.6 Annex A). */
static const struct uid_name uids[] = {
    {"1.2.840.10008.1.1", "Verification", DICOM_SVC_VERIFICATION},
    {"1.2.840.10008.1.20.1", "Storage Commitment Push Model", DICOM_SVC_COMMITMENT},
    {"1.2.840.10008.3.1.2.3.3", "Modality Performed Procedure Step", DICOM_SVC_MPPS},
    {"1.2.840.10008.5.1.4.31", "Modality Worklist Information Model - FIND", DICOM_SVC_WORKLIST},
    {"1.2.840.10008.5.1.4.1.2.1.1", "Patient Root Query/Retrieve - FIND", DICOM_SVC_QUERY},
    {"1.2.840.10008.5.1.4.1.2.1.2", "Patient Root Query/Retrieve - MOVE", DICOM_SVC_RETRIEVE},
    {"1.2.840.10008.5.1.4.1.2.1.3", "Patient Root Query/Retrieve - GET", DICOM_SVC_RETRIEVE},
    {"1.2.840.10008.5.1.4.1.2.2.1", "Study Root Query/Retrieve - FIND", DICOM_SVC_QUERY},
    {"1.2.840.10008.5.1.4.1.2.2.2", "Study Root Query/Retrieve - MOVE", DICOM_SVC_RETRIEVE},
    {"1.2.840.10008.5.1.4.1.2.2.3", "Study Root Query/Retrieve - GET", DICOM_SVC_RETRIEVE},
    {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage - For Presentation",
     DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.1.2", "Digital Mammography X-Ray Image Storage - For Presentation",
     DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.3.1", "Ultrasound Multi-frame Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.4", "MR Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.9.1.1", "12-lead ECG Waveform Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.11.1", "Grayscale Softcopy Presentation State Storage",
     DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.12.1", "X-Ray Angiographic Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.12.2", "X-Ray Radiofluoroscopic Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.20", "Nuclear Medicine Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.1", "Ophthalmic Photography 8 Bit Image Storage",
     DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.128", "Positron Emission Tomography Image Storage",
     DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.481.1", "RT Image Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.481.2", "RT Dose Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.4.1.1.481.5", "RT Plan Storage", DICOM_SVC_STORAGE},
    {"1.2.840.10008.5.1.1.9", "Basic Grayscale Print Management Meta", DICOM_SVC_PRINT},
    {"1.2.840.10008.5.1.1.18", "Basic Color Print Management Meta", DICOM_SVC_PRINT},
};

const char *dicom_uid_name(const char *uid)
{
    return dicom_uid_at(dicom_uid_index(uid));
}

_Static_assert(sizeof(uids) / sizeof(uids[0]) <= 64, "an inventory keeps the classes in 64 bits");

int dicom_uid_index(const char *uid)
{
    size_t i;

    for (i = 0; i < sizeof(uids) / sizeof(uids[0]); i++)
        if (strcmp(uids[i].uid, uid) == 0)
            return (int)i;
    return -1;
}

const char *dicom_uid_at(int i)
{
    return i >= 0 && (size_t)i < sizeof(uids) / sizeof(uids[0]) ? uids[i].name : NULL;
}

enum dicom_service dicom_uid_service(const char *uid)
{
    static const char storage[] = "1.2.840.10008.5.1.4.1.1.";
    size_t i;

    for (i = 0; i < sizeof(uids) / sizeof(uids[0]); i++)
        if (strcmp(uids[i].uid, uid) == 0)
            return (enum dicom_service)uids[i].service;
    if (strncmp(uid, storage, sizeof(storage) - 1) == 0)
        return DICOM_SVC_STORAGE;
    return DICOM_SVC_OTHER;
}

const char *dicom_service_name(enum dicom_service s)
{
    static const char *const n[DICOM_SVC__COUNT] = {"verification", "storage",  "query",
                                                    "retrieve",     "worklist", "mpps",
                                                    "commitment",   "print",    "other"};
    return (unsigned)s < DICOM_SVC__COUNT ? n[s] : "other";
}

const char *dicom_cmd_name(enum dicom_cmd c)
{
    static const char *const n[DICOM_CMD__COUNT] = {
        "C-STORE",        "C-GET", "C-FIND", "C-MOVE",   "C-ECHO",   "C-CANCEL",
        "N-EVENT-REPORT", "N-GET", "N-SET",  "N-ACTION", "N-CREATE", "N-DELETE"};
    return (unsigned)c < DICOM_CMD__COUNT ? n[c] : "?";
}

const char *dicom_assoc_name(enum dicom_assoc a)
{
    static const char *const n[] = {"none",     "requested", "accepted",
                                    "rejected", "released",  "aborted"};
    return (unsigned)a < sizeof(n) / sizeof(n[0]) ? n[a] : "?";
}

const char *dicom_anomaly_name(enum dicom_anomaly a)
{
    static const char *const n[DICOM_AN__COUNT] = {"bad_pdu", "bad_length", "bad_command", "gap"};
    return (unsigned)a < DICOM_AN__COUNT ? n[a] : "?";
}

const char *dicom_reject_result_name(uint8_t result)
{
    return result == 1 ? "rejected-permanent" : result == 2 ? "rejected-transient" : "reserved";
}

const char *dicom_reject_source_name(uint8_t source)
{
    switch (source) {
    case 1:
        return "service-user";
    case 2:
        return "service-provider-acse";
    case 3:
        return "service-provider-presentation";
    default:
        return "reserved";
    }
}

const char *dicom_reject_reason_name(uint8_t source, uint8_t reason)
{
    if (source == 1) {
        switch (reason) {
        case 1:
            return "no-reason-given";
        case 2:
            return "application-context-name-not-supported";
        case 3:
            return "calling-AE-title-not-recognized";
        case 7:
            return "called-AE-title-not-recognized";
        default:
            return "reserved";
        }
    }
    if (source == 2)
        return reason == 1   ? "no-reason-given"
               : reason == 2 ? "protocol-version-not-supported"
                             : "reserved";
    if (source == 3)
        return reason == 1   ? "temporary-congestion"
               : reason == 2 ? "local-limit-exceeded"
                             : "reserved";
    return "reserved";
}

static int command_index(uint16_t field)
{
    switch (field & 0x7FFF) {
    case 0x0001:
        return DICOM_C_STORE;
    case 0x0010:
        return DICOM_C_GET;
    case 0x0020:
        return DICOM_C_FIND;
    case 0x0021:
        return DICOM_C_MOVE;
    case 0x0030:
        return DICOM_C_ECHO;
    case 0x0FFF:
        return DICOM_C_CANCEL;
    case 0x0100:
        return DICOM_N_EVENT_REPORT;
    case 0x0110:
        return DICOM_N_GET;
    case 0x0120:
        return DICOM_N_SET;
    case 0x0130:
        return DICOM_N_ACTION;
    case 0x0140:
        return DICOM_N_CREATE;
    case 0x0150:
        return DICOM_N_DELETE;
    default:
        return -1;
    }
}

/* Success, pending, cancel and warning statuses (PS3.7 Annex C) are not failures. */
static int status_failed(uint16_t st)
{
    return !(st == 0x0000 || st == 0xFF00 || st == 0xFF01 || st == 0xFE00 || st == 0x0001 ||
             st == 0x0107 || st == 0x0116 || (st & 0xF000) == 0xB000);
}

/* --- probing -------------------------------------------------------------------------------- */

static int printable(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7E)
            return 0;
    return 1;
}

int dicom_probe(const uint8_t *p, size_t n)
{
    static const uint8_t group_length[8] = {0, 0, 0, 0, 4, 0, 0, 0};
    uint32_t len, pdv;

    if (n < 10 || p[1] != 0)
        return 0;
    len = be32(p + 2);
    if (p[0] == PDU_RQ || p[0] == PDU_AC) {
        if (len < 68 + 4 || len > MAX_ASSOC || !(be16(p + 6) & 1))
            return 0;
        if (n >= 42 && !printable(p + 10, 32))
            return 0;
        return n < 75 || p[74] == 0x10; /* the application context item comes first */
    }
    if (p[0] == PDU_DATA) {
        /* Mid-stream: only a command fragment starting with its group length is telling. */
        if (n < 20 || len < 14)
            return 0;
        pdv = be32(p + 6);
        return pdv >= 10 && pdv <= len - 4 && (p[10] & 1) && (p[11] & 1) && (p[11] & ~3u) == 0 &&
               memcmp(p + 12, group_length, 8) == 0;
    }
    return 0;
}

/* Whether a segment after a gap starts a PDU we can follow. */
static int pdu_start(const uint8_t *p, size_t n)
{
    uint32_t len;

    if (n < 6 || p[1] != 0)
        return 0;
    len = be32(p + 2);
    switch (p[0]) {
    case PDU_RJ:
    case PDU_REL_RQ:
    case PDU_REL_RP:
    case PDU_ABORT:
        return len == 4;
    case PDU_DATA:
        return n >= 12 && len >= 6 && be32(p + 6) >= 2 && be32(p + 6) <= len - 4 && (p[10] & 1) &&
               (p[11] & ~3u) == 0;
    default:
        return dicom_probe(p, n);
    }
}

/* --- parsing -------------------------------------------------------------------------------- */

static void collect(struct dicom_stream *s, int state, uint32_t need)
{
    s->state = (uint8_t)state;
    s->need = need;
    s->have = 0;
}

/* Skip n bytes, then carry on with what comes next in the PDU. */
static void skip(struct dicom_stream *s, uint32_t n)
{
    s->skip = n;
    s->need = 0;
    s->have = 0;
}

/* A length that does not fit its container: skip the rest of the container. */
static void bad_length(struct dicom_stream *s, struct dicom_info *in)
{
    in->anomalies[DICOM_AN_BAD_LENGTH]++;
    if (s->pdu_type == PDU_DATA && s->pdv_left > 0)
        skip(s, s->pdv_left);
    else if (s->in_item)
        skip(s, s->sub_left);
    else
        skip(s, s->pdu_left);
}

static unsigned command_done(struct dicom_stream *s, struct dicom_info *in)
{
    unsigned news = 0, i;
    int c;

    if (!s->has_field || (c = command_index(s->cmd_field)) < 0)
        return 0;
    if (s->cmd_field & 0x8000) {
        in->responses++;
        if (s->has_status && status_failed(s->status)) {
            in->failures++;
            in->last_failure = s->status;
        }
        return 0;
    }
    if (in->commands[c]++ == 0)
        news |= DICOM_NEWS_COMMAND;
    if (s->sop[0] != '\0') {
        for (i = 0; i < in->nsops && strcmp(in->sops[i], s->sop) != 0; i++)
            ;
        if (i == in->nsops && in->nsops < DICOM_MAX_SOP)
            memcpy(in->sops[in->nsops++], s->sop, DICOM_UID_LEN);
    }
    if (c == DICOM_C_MOVE && s->dest[0] != '\0') {
        for (i = 0; i < in->ndests && strcmp(in->dests[i], s->dest) != 0; i++)
            ;
        if (i == in->ndests) {
            if (in->ndests == DICOM_MAX_DEST) {
                memmove(in->dests[0], in->dests[1], sizeof(in->dests[0]) * (DICOM_MAX_DEST - 1));
                i = DICOM_MAX_DEST - 1;
            } else {
                i = in->ndests++;
            }
            memcpy(in->dests[i], s->dest, DICOM_AE_LEN);
            in->last_dest = (uint8_t)i;
            news |= DICOM_NEWS_MOVE;
        }
    }
    return news;
}

/* The step just taken is complete: decide what the next bytes are. */
static unsigned next(struct dicom_stream *s, struct dicom_info *in)
{
    unsigned news = 0;

    if (s->pdu_type == PDU_DATA && s->pdv_left == 0 && s->state != ST_PDV) {
        /* A PDV ended: a last command fragment completes the command. */
        if ((s->mch & 3) == 3) {
            news |= command_done(s, in);
            s->cmd_open = 0;
        }
        s->mch = 0;
    }
    if (s->pdu_left == 0) {
        collect(s, ST_PDU, 6);
        s->in_item = 0;
        s->pdv_left = 0;
        return news;
    }
    switch (s->pdu_type) {
    case PDU_RQ:
    case PDU_AC:
        if (s->in_item && s->sub_left == 0)
            s->in_item = 0;
        if (s->pdu_left < 4 || (s->in_item && s->sub_left < 4))
            bad_length(s, in);
        else
            collect(s, ST_ITEM, 4);
        break;
    case PDU_DATA:
        if (s->pdv_left > 0 && (s->mch & 1)) {
            if (s->pdv_left < 8) {
                in->anomalies[DICOM_AN_BAD_COMMAND]++;
                skip(s, s->pdv_left);
            } else {
                collect(s, ST_EL, 8);
            }
        } else if (s->pdv_left > 0) {
            skip(s, s->pdv_left); /* a data set fragment: never read */
        } else if (s->pdu_left < 6) {
            bad_length(s, in);
        } else {
            collect(s, ST_PDV, 6);
        }
        break;
    default:
        skip(s, s->pdu_left);
        break;
    }
    return news;
}

/* A leaf value of len bytes: keep up to cap of them, skip the rest. */
static void leaf(struct dicom_stream *s, int state, int target, uint32_t len, uint32_t cap)
{
    uint32_t keep = len < cap ? len : cap;

    s->target = (uint8_t)target;
    s->el_len = len - keep; /* skipped after the value */
    collect(s, state, keep);
}

static unsigned step_pdu(struct dicom_stream *s, struct dicom_info *in)
{
    uint8_t type = s->buf[0];
    uint32_t len = be32(s->buf + 2);

    if (type < PDU_RQ || type > PDU_ABORT) {
        in->anomalies[DICOM_AN_BAD_PDU]++;
        s->state = ST_DEAD;
        return 0;
    }
    s->pdu_type = type;
    s->pdu_left = len;
    s->in_item = 0;
    s->pdv_left = 0;
    switch (type) {
    case PDU_RQ:
    case PDU_AC:
        if (len < 68) {
            bad_length(s, in);
            return 0;
        }
        collect(s, ST_ASSOC, 68);
        return 0;
    case PDU_RJ:
    case PDU_ABORT:
        if (len < 4) {
            bad_length(s, in);
            return 0;
        }
        collect(s, type == PDU_RJ ? ST_RJ : ST_ABORT, 4);
        return 0;
    case PDU_REL_RQ:
    case PDU_REL_RP:
        if (in->assoc != DICOM_ASSOC_RELEASED && in->assoc != DICOM_ASSOC_ABORTED) {
            in->assoc = DICOM_ASSOC_RELEASED;
            skip(s, len);
            return DICOM_NEWS_END;
        }
        skip(s, len);
        return 0;
    default:
        return next(s, in);
    }
}

static unsigned step_item(struct dicom_stream *s, struct dicom_info *in)
{
    uint8_t type = s->buf[0];
    uint32_t len = be16(s->buf + 2);
    uint32_t room = s->in_item ? s->sub_left : s->pdu_left;

    if (len > room) {
        bad_length(s, in);
        return 0;
    }
    if (!s->in_item && (type == 0x20 || type == 0x21)) {
        if (len < 4) {
            bad_length(s, in);
            return 0;
        }
        s->in_item = 1;
        s->sub_left = len;
        collect(s, ST_CTX, 4);
        return 0;
    }
    if (!s->in_item && type == 0x50) {
        s->in_item = 1;
        s->sub_left = len;
        return next(s, in);
    }
    if (!s->in_item && type == 0x10)
        leaf(s, ST_LEAF, T_APP_CTX, len, DICOM_UID_LEN - 1);
    else if (s->in_item && type == 0x30 && s->pdu_type == PDU_RQ)
        leaf(s, ST_LEAF, T_ABSTRACT, len, DICOM_UID_LEN - 1);
    else if (s->in_item && type == 0x52)
        leaf(s, ST_LEAF, T_IMPL_CLASS, len, DICOM_UID_LEN - 1);
    else if (s->in_item && type == 0x55)
        leaf(s, ST_LEAF, T_IMPL_VER, len, DICOM_AE_LEN - 1);
    else /* transfer syntaxes, maximum length, roles, user identity, ...: not read */
        skip(s, len);
    return 0;
}

static unsigned step_ctx(struct dicom_stream *s, struct dicom_info *in)
{
    uint8_t id = s->buf[0], result = s->buf[2];

    s->ctx_id = id;
    if (s->pdu_type == PDU_RQ) {
        in->ctx_proposed++;
    } else if (result == 0) {
        uint8_t svc = in->ctx_service[id >> 1];
        in->ctx_accepted++;
        if (svc != 0)
            in->accepted |= (uint16_t)(1u << (svc - 1));
    } else {
        in->ctx_refused++;
    }
    return next(s, in);
}

static unsigned step_leaf(struct dicom_stream *s, struct dicom_info *in)
{
    char uid[DICOM_UID_LEN];
    enum dicom_service svc;

    switch (s->target) {
    case T_APP_CTX:
        if (s->pdu_type == PDU_RQ || in->app_context[0] == '\0')
            text(in->app_context, sizeof(in->app_context), s->buf, s->need);
        break;
    case T_ABSTRACT:
        text(uid, sizeof(uid), s->buf, s->need);
        svc = dicom_uid_service(uid);
        in->ctx_service[s->ctx_id >> 1] = (uint8_t)(svc + 1);
        in->proposed |= (uint16_t)(1u << svc);
        break;
    case T_IMPL_CLASS:
        if (s->pdu_type == PDU_RQ)
            text(in->impl_class, sizeof(in->impl_class), s->buf, s->need);
        break;
    case T_IMPL_VER:
        if (s->pdu_type == PDU_RQ)
            text(in->impl_version, sizeof(in->impl_version), s->buf, s->need);
        break;
    default:
        break;
    }
    if (s->el_len > 0) {
        skip(s, s->el_len);
        return 0;
    }
    return next(s, in);
}

static unsigned step_pdv(struct dicom_stream *s, struct dicom_info *in)
{
    uint32_t len = be32(s->buf);
    uint8_t mch = s->buf[5];

    if (len < 2 || len - 2 > s->pdu_left) {
        in->anomalies[DICOM_AN_BAD_LENGTH]++;
        skip(s, s->pdu_left);
        return 0;
    }
    s->pdv_left = len - 2;
    if ((mch & 1) && !s->cmd_open) {
        /* The first fragment of a command set. */
        s->has_field = s->has_status = 0;
        s->sop[0] = s->dest[0] = '\0';
        s->cmd_open = 1;
    }
    s->mch = mch;
    s->state = ST_EL; /* anything but ST_PDV, so that next() sees a PDV that ended */
    return next(s, in);
}

static unsigned step_el(struct dicom_stream *s, struct dicom_info *in)
{
    uint16_t group = le16(s->buf), elem = le16(s->buf + 2);
    uint32_t len = le32(s->buf + 4);

    if (group != 0x0000 || len > s->pdv_left) {
        in->anomalies[DICOM_AN_BAD_COMMAND]++;
        s->mch = 0; /* this command is lost */
        s->cmd_open = 0;
        skip(s, s->pdv_left);
        return 0;
    }
    s->el_tag = elem;
    switch (elem) {
    case 0x0002: /* Affected SOP Class UID */
    case 0x0003: /* Requested SOP Class UID */
        leaf(s, ST_ELVAL, T_SOP, len, DICOM_UID_LEN - 1);
        break;
    case 0x0100: /* Command Field */
        leaf(s, ST_ELVAL, T_FIELD, len, 2);
        break;
    case 0x0600: /* Move Destination */
        leaf(s, ST_ELVAL, T_DEST, len, DICOM_AE_LEN - 1);
        break;
    case 0x0900: /* Status */
        leaf(s, ST_ELVAL, T_STATUS, len, 2);
        break;
    default: /* instance UIDs, message ids, priorities, ...: not read */
        skip(s, len);
        return 0;
    }
    return 0;
}

static unsigned step_elval(struct dicom_stream *s, struct dicom_info *in)
{
    switch (s->target) {
    case T_SOP:
        if (s->sop[0] == '\0' || s->el_tag == 0x0002)
            text(s->sop, sizeof(s->sop), s->buf, s->need);
        break;
    case T_FIELD:
        if (s->need == 2) {
            s->cmd_field = le16(s->buf);
            s->has_field = 1;
        }
        break;
    case T_DEST:
        text(s->dest, sizeof(s->dest), s->buf, s->need);
        break;
    case T_STATUS:
        if (s->need == 2) {
            s->status = le16(s->buf);
            s->has_status = 1;
        }
        break;
    default:
        break;
    }
    if (s->el_len > 0) {
        skip(s, s->el_len);
        return 0;
    }
    return next(s, in);
}

static unsigned step(struct dicom_stream *s, struct dicom_info *in)
{
    const uint8_t *b = s->buf;

    switch (s->state) {
    case ST_PDU:
        return step_pdu(s, in);
    case ST_ASSOC:
        if (s->pdu_type == PDU_RQ) {
            text(in->called_ae, sizeof(in->called_ae), b + 4, 16);
            text(in->calling_ae, sizeof(in->calling_ae), b + 20, 16);
            in->assoc = DICOM_ASSOC_REQUESTED;
            return DICOM_NEWS_ASSOC_RQ | next(s, in);
        }
        if (in->called_ae[0] == '\0' && in->calling_ae[0] == '\0') {
            text(in->called_ae, sizeof(in->called_ae), b + 4, 16);
            text(in->calling_ae, sizeof(in->calling_ae), b + 20, 16);
        }
        in->assoc = DICOM_ASSOC_ACCEPTED;
        return DICOM_NEWS_ASSOC_AC | next(s, in);
    case ST_ITEM:
        return step_item(s, in);
    case ST_CTX:
        return step_ctx(s, in);
    case ST_LEAF:
        return step_leaf(s, in);
    case ST_RJ:
        in->rj_result = b[1];
        in->rj_source = b[2];
        in->rj_reason = b[3];
        in->assoc = DICOM_ASSOC_REJECTED;
        return DICOM_NEWS_ASSOC_RJ | next(s, in);
    case ST_ABORT:
        in->abort_source = b[2];
        in->abort_reason = b[3];
        in->assoc = DICOM_ASSOC_ABORTED;
        return DICOM_NEWS_END | next(s, in);
    case ST_PDV:
        return step_pdv(s, in);
    case ST_EL:
        return step_el(s, in);
    case ST_ELVAL:
        return step_elval(s, in);
    default:
        return 0;
    }
}

/* n bytes of the stream were consumed: count them against every open container. */
static void consumed(struct dicom_stream *s, uint32_t n)
{
    if (s->state != ST_PDU || s->skip > 0)
        s->pdu_left -= n;
    if (s->in_item)
        s->sub_left -= n;
    if (s->pdu_type == PDU_DATA && s->state != ST_PDV && s->pdv_left > 0)
        s->pdv_left -= n;
}

unsigned dicom_feed(struct dicom_stream *s, struct dicom_info *in, const uint8_t *p, size_t n)
{
    unsigned news = 0;

    if (s->state == ST_RESYNC) {
        if (!pdu_start(p, n))
            return 0;
        memset(s, 0, sizeof(*s));
        collect(s, ST_PDU, 6);
    }
    if (s->state == ST_PDU && s->need == 0 && s->skip == 0 && s->pdu_type == 0)
        s->need = 6; /* a zeroed stream */
    while (n > 0 && s->state != ST_DEAD) {
        uint32_t k;
        if (s->skip > 0) {
            k = s->skip < n ? s->skip : (uint32_t)n;
            consumed(s, k);
            s->skip -= k;
            p += k, n -= k;
            if (s->skip == 0)
                news |= next(s, in);
            continue;
        }
        if (s->need == 0) { /* an empty value or skip: nothing to collect */
            news |= next(s, in);
            continue;
        }
        k = s->need - s->have;
        if (k > n)
            k = (uint32_t)n;
        memcpy(s->buf + s->have, p, k);
        s->have += k;
        consumed(s, k);
        p += k, n -= k;
        if (s->have == s->need)
            news |= step(s, in);
    }
    return news;
}

void dicom_gap(struct dicom_stream *s, struct dicom_info *in)
{
    if (s->state == ST_DEAD)
        return;
    in->anomalies[DICOM_AN_GAP]++;
    s->state = ST_RESYNC;
}
