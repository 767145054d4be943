/*
 * The glue between flows and the hospital protocol parsers: probing, per-flow state from a
 * free list, and TCP sequence tracking per direction so that each parser sees every byte once
 * and in order, or is told that bytes were lost. Nothing here reads a protocol byte itself.
 */
#include <stdlib.h>
#include <string.h>

#include "mimamori/error.h"
#include "mimamori/medical.h"
#include "mimamori/pool.h"

struct medical_flow {
    uint8_t proto; /* enum medical_proto */
    uint8_t seq_ok[2];
    uint32_t next_seq[2]; /* next expected sequence number per direction */
    unsigned news;
    union {
        struct {
            struct hl7_stream s[2];
            struct hl7_info info;
        } hl7;
        struct {
            struct dicom_stream s[2];
            struct dicom_info info;
        } dicom;
    } u;
};

struct medical {
    struct pool *states;
    struct medical_stats st;
};

int medical_create(struct medical **out, uint32_t max_flows)
{
    struct medical *m = calloc(1, sizeof(*m));

    *out = m;
    if (m == NULL || pool_create(&m->states, sizeof(struct medical_flow), max_flows) != 0) {
        free(m);
        *out = NULL;
        return MM_ENOMEM;
    }
    return 0;
}

void medical_destroy(struct medical *m)
{
    if (m == NULL)
        return;
    pool_destroy(m->states);
    free(m);
}

void medical_flow_release(struct medical *m, struct flow *f)
{
    pool_put(m->states, f->app.med);
    f->app.med = NULL;
}

static void gap(struct medical_flow *s, int d)
{
    if (s->proto == MEDICAL_HL7)
        hl7_gap(&s->u.hl7.s[d], &s->u.hl7.info);
    else
        dicom_gap(&s->u.dicom.s[d], &s->u.dicom.info);
}

static unsigned feed(struct medical_flow *s, int d, const uint8_t *p, uint32_t n)
{
    if (s->proto == MEDICAL_HL7)
        return hl7_feed(&s->u.hl7.s[d], &s->u.hl7.info, d, p, n);
    return dicom_feed(&s->u.dicom.s[d], &s->u.dicom.info, p, n);
}

unsigned medical_packet(struct medical *m, struct flow *f, const struct pkt_view *pv, int dir)
{
    struct medical_flow *s = f->app.med;
    const uint8_t *p = pv->payload;
    uint32_t n = pv->payload_len, seq = pv->tcp_seq;
    unsigned result = 0, news;
    int d = dir & 1;
    int32_t off;

    if (n == 0 || pv->proto != 6)
        return 0;
    if (s == NULL) {
        enum medical_proto proto;
        if (f->app.state == NULL)
            return 0; /* classified without us: not probed any more */
        if (hl7_probe(p, n))
            proto = MEDICAL_HL7;
        else if (dicom_probe(p, n))
            proto = MEDICAL_DICOM;
        else
            return 0;
        if (proto == MEDICAL_HL7)
            m->st.hl7_flows++;
        else
            m->st.dicom_flows++;
        if ((s = pool_get(m->states)) == NULL) {
            m->st.state_failures++;
            return 0;
        }
        s->proto = (uint8_t)proto;
        f->app.med = s;
        s->news |= MEDICAL_FOUND;
        result |= MEDICAL_FOUND;
    }
    if (!s->seq_ok[d]) {
        s->seq_ok[d] = 1;
        s->next_seq[d] = seq;
    }
    off = (int32_t)(seq - s->next_seq[d]);
    if (off > 0) {
        m->st.gaps++;
        gap(s, d);
    } else if (off < 0) {
        uint32_t old = (uint32_t)-off;
        if (old >= n)
            return result; /* all seen before */
        m->st.retransmitted++;
        p += old;
        n -= old;
        seq += old;
    }
    s->next_seq[d] = seq + n;
    news = feed(s, d, p, n);
    if (news != 0) {
        s->news |= news;
        result |= MEDICAL_NEWS;
    }
    return result;
}

enum medical_proto medical_proto_of(const struct flow *f)
{
    return f->app.med != NULL ? (enum medical_proto)f->app.med->proto : MEDICAL_NONE;
}

const struct hl7_info *medical_hl7(const struct flow *f)
{
    return medical_proto_of(f) == MEDICAL_HL7 ? &f->app.med->u.hl7.info : NULL;
}

const struct dicom_info *medical_dicom(const struct flow *f)
{
    return medical_proto_of(f) == MEDICAL_DICOM ? &f->app.med->u.dicom.info : NULL;
}

unsigned medical_news(const struct flow *f)
{
    return f->app.med != NULL ? f->app.med->news : 0;
}

void medical_news_clear(struct flow *f)
{
    if (f->app.med != NULL)
        f->app.med->news = 0;
}

void medical_get_stats(const struct medical *m, struct medical_stats *st)
{
    *st = m->st;
    st->active = pool_active(m->states);
}
