/*
 * Hospital protocols on flows. While a TCP flow is still being classified, each segment that
 * carries payload is offered to the HL7/MLLP and DICOM probes first, on any port; a flow they
 * recognise gets parser state (from a free list, capped) and from then on every new segment of
 * both directions, in TCP sequence order, goes to its parser. Retransmitted bytes are trimmed;
 * lost bytes make the parser resynchronise. What the parsers found new since the last event is
 * kept as "news" bits for the detection rules.
 */
#ifndef MIMAMORI_MEDICAL_H
#define MIMAMORI_MEDICAL_H

#include <stdint.h>

#include "mimamori/decode.h"
#include "mimamori/dicom.h"
#include "mimamori/flow.h"
#include "mimamori/hl7.h"
#include "mimamori/error.h"

enum medical_proto { MEDICAL_NONE = 0, MEDICAL_HL7, MEDICAL_DICOM };

/* medical_packet() results and news bits above the parsers' own (HL7_NEWS_*, DICOM_NEWS_*). */
#define MEDICAL_FOUND 0x100u /* the flow was recognised with this segment */
#define MEDICAL_NEWS  0x200u /* the parser reported something new */

struct medical;

/* max_flows: flows followed at once; more are left to nDPI alone (counted). */
MM_MUST_CHECK int medical_create(struct medical **out, uint32_t max_flows);
void medical_destroy(struct medical *m);

/*
 * One decoded TCP segment with payload of flow f, travelling in direction dir. Probes only
 * while the flow is being classified (f->app.state set) or already recognised. Returns
 * MEDICAL_FOUND / MEDICAL_NEWS bits.
 */
unsigned medical_packet(struct medical *m, struct flow *f, const struct pkt_view *pv, int dir);

/* Free the flow's parser state (when the flow leaves the table). */
void medical_flow_release(struct medical *m, struct flow *f);

/* Accessors; NULL / MEDICAL_NONE when the flow is not of that protocol. */
enum medical_proto medical_proto_of(const struct flow *f);
const struct hl7_info *medical_hl7(const struct flow *f);
const struct dicom_info *medical_dicom(const struct flow *f);

/* What is new since medical_news_clear(): MEDICAL_FOUND and the parser's news bits. */
unsigned medical_news(const struct flow *f);
void medical_news_clear(struct flow *f);

struct medical_stats {
    uint64_t hl7_flows, dicom_flows; /* recognised */
    uint64_t state_failures;         /* recognised but not followed: cap or memory */
    uint64_t gaps, retransmitted;    /* segments after lost bytes; segments trimmed */
    uint32_t active;
};
void medical_get_stats(const struct medical *m, struct medical_stats *st);

#endif
