/*
 * The hospital-protocol rules: HL7 and DICOM outside the medical zones, DICOM AE titles and HL7
 * senders the site does not list, and rejected DICOM associations. They run at classification
 * and again each time a parser reports news, looking only at what is new.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimamori/classify.h"
#include "mimamori/detect.h"
#include "mimamori/medical.h"
#include "mimamori/rules.h"
#include "mimamori/zone.h"

#include "detect_int.h"

/* --- hospital protocols -------------------------------------------------------------------- */

/* What identifies a medical flow to a reader: HL7 message type and applications, AE titles. */
static void ev_medical(struct evidence *ev, const struct flow *f)
{
    const struct hl7_info *h = medical_hl7(f);
    const struct dicom_info *di = medical_dicom(f);

    if (h != NULL && h->have_first) {
        detect__ev_add(ev, "hl7_message_type=%s", h->first.type);
        detect__ev_add(ev, "hl7_sending_application=%s", h->first.sending_app);
        detect__ev_add(ev, "hl7_receiving_application=%s", h->first.receiving_app);
    } else if (di != NULL && di->assoc != DICOM_ASSOC_NONE) {
        detect__ev_add(ev, "dicom_calling_ae=%s", di->calling_ae);
        detect__ev_add(ev, "dicom_called_ae=%s", di->called_ae);
    }
}

int detect__eval_medical_zone(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    struct evidence ev;

    detect__ev_clear(&ev);
    if (medical_proto_of(x->f) == MEDICAL_NONE || !(medical_news(x->f) & MEDICAL_FOUND) ||
        !detect__in_scope(r, x) || (x->sz == x->dz && !r->same_zone) ||
        (!rules_match_empty(&r->match) && !rules_match(&r->match, x->f)) || detect__allowed(r, x))
        return 0;
    detect__ev_protocol(&ev, x);
    detect__ev_add(&ev, "dest_port=%u", flow_dst_port(x->f));
    detect__ev_add(&ev, "transport=cleartext");
    ev_medical(&ev, x->f);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_dicom_ae(struct detect *d, struct fctx *x, unsigned ri)
{
    static const char *const what[] = {"calling_ae", "called_ae", "move_destination"};
    const struct rule *r = &d->rs->r[ri];
    const struct dicom_info *di = medical_dicom(x->f);
    const struct config_named_hosts *e;
    unsigned news = medical_news(x->f);
    struct evidence ev;
    const uint8_t *host = NULL;
    const char *ae;
    int zone = -1;

    detect__ev_clear(&ev);
    if (di == NULL || d->cfg->ndicom_aes == 0 || !detect__in_scope(r, x))
        return 0;
    switch (r->ae_check) {
    case AE_CALLING:
        if (!(news & DICOM_NEWS_ASSOC_RQ))
            return 0;
        ae = di->calling_ae, host = x->src, zone = x->sz;
        break;
    case AE_CALLED:
        if (!(news & DICOM_NEWS_ASSOC_RQ))
            return 0;
        ae = di->called_ae, host = x->dst, zone = x->dz;
        break;
    default:
        if (!(news & DICOM_NEWS_MOVE))
            return 0;
        ae = di->dests[di->last_dest];
        break;
    }
    e = config_named_find(d->cfg->dicom_aes, d->cfg->ndicom_aes, ae);
    if (e != NULL && (host == NULL || config_hostset_has(&e->hosts, host, zone)))
        return 0;
    detect__ev_add(&ev, "%s=%s", what[r->ae_check], ae);
    detect__ev_add(&ev, "reason=%s",
                   e == NULL ? "AE title not in medical.dicom_ae_titles"
                             : "AE title not listed for this host");
    if (host != NULL)
        detect__ev_addr(&ev, "host", host);
    if (r->ae_check != AE_CALLING)
        detect__ev_add(&ev, "dicom_calling_ae=%s", di->calling_ae);
    if (r->ae_check != AE_CALLED)
        detect__ev_add(&ev, "dicom_called_ae=%s", di->called_ae);
    if (di->impl_version[0] != '\0')
        detect__ev_add(&ev, "implementation_version=%s", di->impl_version);
    detect__raise_alert(d, x, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_hl7_sender(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct hl7_info *h = medical_hl7(x->f);
    const struct config_named_hosts *e;
    const struct hl7_sender *s;
    struct evidence ev;
    struct fctx y = *x;

    detect__ev_clear(&ev);
    if (h == NULL || !(medical_news(x->f) & HL7_NEWS_SENDER) || d->cfg->nhl7_apps == 0 ||
        !detect__in_scope(r, x))
        return 0;
    s = &h->senders[h->last_sender];
    if (s->dir == FLOW_TOCLIENT) { /* the server sent it (an acknowledgment, mostly) */
        y.src = x->dst, y.dst = x->src;
        y.sz = x->dz, y.dz = x->sz;
    }
    e = config_named_find(d->cfg->hl7_apps, d->cfg->nhl7_apps, s->app);
    if (e != NULL && config_hostset_has(&e->hosts, y.src, y.sz))
        return 0;
    detect__ev_add(&ev, "hl7_sending_application=%s", s->app[0] != '\0' ? s->app : "(empty)");
    detect__ev_add(&ev, "hl7_sending_facility=%s", s->facility);
    detect__ev_add(&ev, "reason=%s",
                   e == NULL ? "application not in medical.hl7_applications"
                             : "application not listed for this host");
    detect__ev_addr(&ev, "sender", y.src);
    detect__ev_add(&ev, "hl7_message_type=%s", s->type);
    /* Folded by sender and receiver, whichever end of the connection sent. */
    detect__raise_alert(d, &y, ri, SCOPE_PAIR, &ev);
    return 1;
}

int detect__eval_dicom_reject(struct detect *d, struct fctx *x, unsigned ri)
{
    const struct rule *r = &d->rs->r[ri];
    const struct dicom_info *di = medical_dicom(x->f);
    struct evidence ev;
    struct track_entry *e;
    unsigned n;

    detect__ev_clear(&ev);
    if (di == NULL || !(medical_news(x->f) & DICOM_NEWS_ASSOC_RJ) || !detect__in_scope(r, x))
        return 0;
    e = detect__track_get(d->track[ri], detect__hash(ri, x->src, 16), x->now);
    n = detect__track_times(d->track[ri], e, x->f->last_us, (uint64_t)r->window_s * US);
    if (n < r->threshold)
        return 0;
    detect__track_reset(e);
    detect__ev_add(&ev, "rejections=%u", n);
    detect__ev_add(&ev, "window_s=%u", r->window_s);
    detect__ev_add(&ev, "dicom_calling_ae=%s", di->calling_ae);
    detect__ev_add(&ev, "dicom_called_ae=%s", di->called_ae);
    detect__ev_add(&ev, "reject_reason=%s", dicom_reject_reason_name(di->rj_source, di->rj_reason));
    detect__raise_alert(d, x, ri, SCOPE_SRC, &ev);
    return 1;
}
