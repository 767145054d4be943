/*
 * The report for management and inspections (mimamori-report): one self-contained HTML file,
 * inline CSS and SVG, no script and nothing fetched, that prints to PDF. It reads EVE files
 * and, when given, the inventory and external connections files, and shows the period's
 * incidents by severity and zone over time, the devices most involved, the remote maintenance
 * sessions with their windows and tickets (guideline section 10), the obsolete protocols and
 * who still uses them (8.2), the external connection points, the sensor's own health (evidence
 * that monitoring ran), and which checklist items all this evidences.
 */
#ifndef MIMAMORI_REPORT_H
#define MIMAMORI_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mimamori/error.h"
#include "mimamori/triage.h"

struct report_options {
    enum triage_lang lang;
    int64_t from_us, to_us; /* [from, to); 0: the data's own first and last */
    int64_t window_us;      /* incident grouping (0: TRIAGE_WINDOW_US) */
    int64_t now_us;         /* when the report is made, printed in it */
};

struct report;

MM_MUST_CHECK int report_create(struct report **out, const struct report_options *o);
void report_destroy(struct report *r);

/* Read EVE lines (every event type counts). Returns 0, MM_EIO or MM_ENOMEM. */
int report_read(struct report *r, FILE *f);

/*
 * Read a file's EVE lines with up to `threads` parsers on parts of it (see triage_parts), the
 * same figures as report_read. Returns 0, or a negative code with err naming the file.
 */
int report_read_path(struct report *r, const char *path, unsigned threads, char *err,
                     size_t errlen);

/*
 * An inventory (mimamori --inventory) or external connections file (--connections), told apart
 * line by line. Returns 0, or a negative code with err naming the file and the line.
 */
int report_read_inventory(struct report *r, const char *path, char *err, size_t errlen);

/* Lines read that were not EVE events (not JSON, or an alert without its fields). */
size_t report_bad_lines(const struct report *r);

/* Group and write the HTML document. Returns 0, MM_ENOMEM or MM_EIO. */
int report_write(struct report *r, FILE *out);

/* Text made safe for HTML element content and attribute values. */
void report_html_text(FILE *out, const char *s);

#endif
