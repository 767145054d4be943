/*
 * How mimamori-alerts prints: incidents as text for a person on call, or as JSON lines for
 * scripts. Shared by the command's two files only.
 */
#ifndef MIMAMORI_ALERTS_VIEW_H
#define MIMAMORI_ALERTS_VIEW_H

#include <stdio.h>

#include "mimamori/triage.h"

struct alerts_view {
    FILE *out;
    enum triage_lang lang;
    int color;        /* ANSI colours (a terminal that did not ask for none) */
    size_t max_lines; /* alert lines shown per incident; 0: all */
    int json;         /* JSON lines instead of text */
};

void alerts_view_summary(const struct alerts_view *v, const struct triage *t);
void alerts_view_incident(const struct alerts_view *v, const struct triage *t,
                          const struct triage_incident *in);
void alerts_view_json(const struct alerts_view *v, const struct triage *t,
                      const struct triage_incident *in);
/* An alert arriving while following a file, with its incident: two lines of text, or one
 * JSON object (the alert's fields of --json's events, incident, new_incident, summary). */
void alerts_view_arrival(const struct alerts_view *v, const struct triage *t, size_t alert,
                         int new_incident);

#endif
