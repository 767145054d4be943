/*
 * Private to the classifier's files.
 */
#ifndef MIMAMORI_CLASSIFY_INT_H
#define MIMAMORI_CLASSIFY_INT_H

#include <ndpi_api.h>

#include "mimamori/flow.h"

/* What the classifier read from a flow's packets itself, where nDPI falls short. */
struct classify_seen {
    const char *dns_qname; /* the first DNS question as sent, or NULL (nDPI's is cut short) */
    int sslv2;             /* an SSL 2.0 ClientHello, which nDPI does not know */
    int swapped;           /* the server spoke SSH first: nDPI's ssh client_* fields are its */
};

/* Copies what nDPI found about f (protocol p), corrected by seen, into f->app.meta. */
void classify__meta_collect(struct flow *f, const struct ndpi_flow_struct *nf,
                            const ndpi_protocol *p, const struct classify_seen *seen);

#endif
