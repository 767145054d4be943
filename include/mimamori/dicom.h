/*
 * DICOM upper layer (PS3.8) over TCP: a streaming parser fed one TCP segment at a time per
 * direction. It follows the PDUs (A-ASSOCIATE-RQ/AC/RJ, P-DATA-TF, A-RELEASE, A-ABORT), reads
 * the association's AE titles, application context, presentation contexts and implementation
 * name, and from each P-DATA command set the DIMSE command, affected SOP class, status and move
 * destination. Data sets (pixel data, patient attributes, query keys) and user identity items
 * are skipped unread. Pure: no allocation, no I/O, bounds-checked; the caller owns the state.
 */
#ifndef MIMAMORI_DICOM_H
#define MIMAMORI_DICOM_H

#include <stddef.h>
#include <stdint.h>

#define DICOM_AE_LEN   17 /* an AE title (16 characters), NUL included */
#define DICOM_UID_LEN  65 /* a UID (64 characters), NUL included */
#define DICOM_MAX_SOP  8  /* distinct SOP classes remembered per flow */
#define DICOM_MAX_DEST 4  /* distinct C-MOVE destinations remembered per flow */

/* Services a SOP class belongs to (bits in proposed/accepted masks). */
enum dicom_service {
    DICOM_SVC_VERIFICATION = 0,
    DICOM_SVC_STORAGE,
    DICOM_SVC_QUERY,    /* Query/Retrieve FIND */
    DICOM_SVC_RETRIEVE, /* Query/Retrieve MOVE and GET */
    DICOM_SVC_WORKLIST,
    DICOM_SVC_MPPS,
    DICOM_SVC_COMMITMENT,
    DICOM_SVC_PRINT,
    DICOM_SVC_OTHER,
    DICOM_SVC__COUNT
};

/* DIMSE commands counted (requests). */
enum dicom_cmd {
    DICOM_C_STORE = 0,
    DICOM_C_GET,
    DICOM_C_FIND,
    DICOM_C_MOVE,
    DICOM_C_ECHO,
    DICOM_C_CANCEL,
    DICOM_N_EVENT_REPORT,
    DICOM_N_GET,
    DICOM_N_SET,
    DICOM_N_ACTION,
    DICOM_N_CREATE,
    DICOM_N_DELETE,
    DICOM_CMD__COUNT
};

enum dicom_assoc {
    DICOM_ASSOC_NONE = 0, /* no association PDU seen (picked up mid-stream) */
    DICOM_ASSOC_REQUESTED,
    DICOM_ASSOC_ACCEPTED,
    DICOM_ASSOC_REJECTED,
    DICOM_ASSOC_RELEASED,
    DICOM_ASSOC_ABORTED,
};

enum dicom_anomaly {
    DICOM_AN_BAD_PDU = 0, /* unknown PDU type: parsing of that direction stopped */
    DICOM_AN_BAD_LENGTH,  /* an item or PDV longer than what contains it */
    DICOM_AN_BAD_COMMAND, /* a command set that is not group 0000 implicit little endian */
    DICOM_AN_GAP,         /* bytes lost in capture; parsing resumed at a PDU boundary */
    DICOM_AN__COUNT
};

/* One direction's parser state (zero it to start). */
struct dicom_stream {
    uint8_t state, target, pdu_type, ctx_id, in_item, mch, cmd_open;
    uint8_t buf[68]; /* the bytes of the current step, collected across segments */
    uint32_t need, have;
    uint32_t skip;     /* bytes to pass over before the next step */
    uint32_t pdu_left; /* of the current PDU, after its header */
    uint32_t sub_left; /* of the current presentation context or user information item */
    uint32_t pdv_left; /* of the current PDV */
    uint32_t el_len;
    uint16_t el_tag;
    uint16_t cmd_field, status;
    uint8_t has_field, has_status;
    char sop[DICOM_UID_LEN];
    char dest[DICOM_AE_LEN];
};

/* What a flow carried, both directions together. */
struct dicom_info {
    char calling_ae[DICOM_AE_LEN], called_ae[DICOM_AE_LEN];
    char app_context[DICOM_UID_LEN];
    char impl_class[DICOM_UID_LEN];
    char impl_version[DICOM_AE_LEN];
    uint8_t assoc; /* enum dicom_assoc */
    uint8_t rj_result, rj_source, rj_reason;
    uint8_t abort_source, abort_reason;
    uint16_t ctx_proposed, ctx_accepted, ctx_refused;
    uint16_t proposed, accepted; /* bit per enum dicom_service */
    uint8_t ctx_service[128];    /* presentation context id / 2 -> service + 1 */
    uint32_t commands[DICOM_CMD__COUNT];
    uint32_t responses, failures;            /* DIMSE responses, and those with a failure status */
    uint16_t last_failure;                   /* status of the latest failure */
    char sops[DICOM_MAX_SOP][DICOM_UID_LEN]; /* affected SOP classes of requests */
    uint8_t nsops;
    char dests[DICOM_MAX_DEST][DICOM_AE_LEN]; /* C-MOVE destinations */
    uint8_t ndests, last_dest;
    uint32_t anomalies[DICOM_AN__COUNT];
};

/* What dicom_feed() found new, as bits. */
#define DICOM_NEWS_ASSOC_RQ 0x01u /* an association request (AE titles known) */
#define DICOM_NEWS_ASSOC_AC 0x02u /* accepted */
#define DICOM_NEWS_ASSOC_RJ 0x04u /* rejected */
#define DICOM_NEWS_COMMAND  0x08u /* a DIMSE request of a kind not seen before in this flow */
#define DICOM_NEWS_MOVE     0x10u /* a C-MOVE to a destination not seen before */
#define DICOM_NEWS_END      0x20u /* released or aborted */

/* Whether a segment's payload starts like an A-ASSOCIATE-RQ/AC or a P-DATA command. */
int dicom_probe(const uint8_t *p, size_t n);

/* Parse n bytes that travelled in one direction; returns DICOM_NEWS_* bits. */
unsigned dicom_feed(struct dicom_stream *s, struct dicom_info *info, const uint8_t *p, size_t n);

/* Bytes were lost before the next feed: resume at the next segment that starts a PDU. */
void dicom_gap(struct dicom_stream *s, struct dicom_info *info);

/* Names for events: a SOP class UID's name ("CT Image Storage") or NULL, and its service. */
const char *dicom_uid_name(const char *uid);
/* The UID's place in that table (fewer than 64 entries), or -1; and the name at a place. */
int dicom_uid_index(const char *uid);
const char *dicom_uid_at(int i);
enum dicom_service dicom_uid_service(const char *uid);
const char *dicom_service_name(enum dicom_service s);
const char *dicom_cmd_name(enum dicom_cmd c);
const char *dicom_assoc_name(enum dicom_assoc a);
const char *dicom_anomaly_name(enum dicom_anomaly a);
/* A-ASSOCIATE-RJ fields as PS3.8 words ("rejected-permanent", "service-user", ...). */
const char *dicom_reject_result_name(uint8_t result);
const char *dicom_reject_source_name(uint8_t source);
const char *dicom_reject_reason_name(uint8_t source, uint8_t reason);

#endif
