/*
 * Private to the classifier's files.
 */
#ifndef MIMAMORI_CLASSIFY_INT_H
#define MIMAMORI_CLASSIFY_INT_H

#include <ndpi_api.h>

#include "mimamori/flow.h"

/*
 * Copies what nDPI found about f (protocol p) into f->app.meta, replacing what was there; the
 * DNS query name is dns_qname when the classifier read it from the packet (else nDPI's).
 */
void classify__meta_collect(struct flow *f, const struct ndpi_flow_struct *nf,
                            const ndpi_protocol *p, const char *dns_qname);

#endif
