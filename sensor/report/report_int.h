/*
 * What the files of the report module share: the figures collected from the events and the
 * inventory files, and the writers of the document's sections. Not for use outside
 * sensor/report/.
 */
#ifndef MIMAMORI_REPORT_INT_H
#define MIMAMORI_REPORT_INT_H

#include "mimamori/report.h"

#define REPORT_HOUR_US  3600000000LL
#define REPORT_SENSORS  16
#define REPORT_MAX_ROWS 50 /* rows of a long table before "and N more" */

/* One stats event: the counters are a run's totals so far. */
struct report_sample {
    int64_t ts_us;
    uint64_t uptime, pkts, drops, invalid;
};

struct report_sensor {
    char name[64];
    struct report_sample *s;
    size_t n, cap;
};

/* An alerted flow's record, to give a maintenance session its length and volume. */
struct report_flow {
    uint64_t id; /* 0: free */
    int64_t start_us, end_us;
    uint64_t bytes;
};

/* An external party, from a connections file. */
struct report_party {
    char *ip, *names, *direction, *protocols, *devices;
    int remote_access;
    uint64_t flows, bytes;
};

/* A device from an inventory file. */
struct report_device {
    char *ip, *name, *zone, *eos_product, *eos_ended;
};

/* Counts several sections show, taken once the alerts are grouped (report_write). */
struct report_tallies {
    size_t by[4];             /* incidents by severity (1-3) */
    size_t maint, unapproved; /* remote maintenance alerts, and those not approved */
    size_t obsolete;          /* obsolete protocol alerts */
    size_t restrict_;         /* segmentation and unexpected egress alerts */
};

struct report {
    struct report_options o;
    struct triage *t;
    uint64_t events, flows, new_devices;
    int64_t first_us, last_us; /* of the events read, inside the period */
    int tz_min;                /* the offset the sensor writes its times at */
    struct report_sensor sensors[REPORT_SENSORS];
    size_t nsensors;
    struct report_flow *fl;
    size_t nfl, fl_cap; /* open addressing */
    struct report_party *parties;
    size_t nparties, parties_cap;
    struct report_device *devices;
    size_t ndevices, devices_cap;
    int have_inventory, have_connections;
    struct report_tallies tally;
};

/* The period shown: the options', or the data's own. */
void report__period(const struct report *r, int64_t *from, int64_t *to);
const struct report_flow *report__flow(const struct report *r, uint64_t id);

/* The sections, in the order of the document (report_html.c, report_charts.c,
 * report_sections.c, report_evidence.c). */
void report__head(const struct report *r, FILE *out);
void report__summary(const struct report *r, FILE *out);
void report__timeline(const struct report *r, FILE *out);
void report__incidents(const struct report *r, FILE *out);
void report__top(const struct report *r, FILE *out);
void report__maintenance(const struct report *r, FILE *out);
void report__obsolete(const struct report *r, FILE *out);
void report__intel(const struct report *r, FILE *out);
void report__external(const struct report *r, FILE *out);
void report__inventory(const struct report *r, FILE *out);
void report__health(const struct report *r, FILE *out);
void report__checklist(const struct report *r, FILE *out);
void report__chart(const struct report *r, FILE *out);

/* Helpers for the writers. */
#define RL(r, ja, en) ((r)->o.lang == TRIAGE_JA ? (ja) : (en))
void report__time(const struct report *r, FILE *out, int64_t ts_us, int with_time);
void report__th(FILE *out, const char *const *cells, size_t n);
void report__td(FILE *out, const char *text);
void report__num(FILE *out, uint64_t n);   /* 12,345 */
void report__bytes(FILE *out, uint64_t n); /* 1.2 MB */
/* A host as a reader knows it: its name and address, and its zone. */
void report__host(const struct report *r, FILE *out, const struct triage_alert *a, int end);
/* Alerts of one category, in time order (indices into the triage). */
size_t report__alerts_of(const struct report *r, const char *category, size_t **out);
/* The value of "name=" in an alert's evidence, copied into buf ("" if absent). */
const char *report__evidence(const struct triage_alert *a, const char *name, char *buf, size_t len);

#endif
