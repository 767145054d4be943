/*
 * The report's view over time and place: incidents by severity per hour (a report of a day or
 * two) or per day (longer), drawn as an inline SVG bar chart with the counts in each bar's
 * title, and incidents per zone; and the devices of the inventory per zone.
 */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

#define DAY_US   (24 * REPORT_HOUR_US)
#define MAX_BINS 400
#define W        760
#define H        220
#define LEFT     44
#define BOTTOM   34
#define TOPM     24

static const char *const colour[] = {"#b00020", "#e08a00", "#2d6a8a"};

/* The bins: their width and the first one's start, so that days begin at local midnight. */
static size_t bins_of(const struct report *r, int64_t *start, int64_t *width)
{
    int64_t from, to, tz = (int64_t)r->tz_min * 60 * 1000000;
    size_t n;

    report__period(r, &from, &to);
    if (to - from <= 2 * DAY_US) {
        *width = REPORT_HOUR_US;
        *start = from - (from % REPORT_HOUR_US);
    } else {
        *width = DAY_US;
        *start = from - ((from + tz) % DAY_US);
        while ((to - *start) / *width >= MAX_BINS)
            *width += DAY_US;
    }
    n = (size_t)((to - *start + *width - 1) / *width);
    return n > 0 ? n : 1;
}

/* The y axis' top: 1, 2 or 5 times a power of ten, at least max. */
static unsigned nice(unsigned max)
{
    unsigned p = 1;

    for (;;) {
        if (max <= p)
            return p;
        if (max <= 2 * p)
            return 2 * p;
        if (max <= 5 * p)
            return 5 * p;
        p *= 10;
    }
}

static void axis(const struct report *r, FILE *out, size_t n, int64_t start, int64_t width,
                 unsigned top)
{
    size_t i, step = n / 12 + 1;
    double bw = (double)(W - LEFT - 10) / (double)n;

    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT,
            H - BOTTOM, W - 10, H - BOTTOM);
    for (i = 0; i <= 4; i++) {
        int y = H - BOTTOM - (int)((H - BOTTOM - TOPM) * i / 4);
        fprintf(out,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%u</text>\n",
                LEFT, y, W - 10, y, LEFT - 4, y + 4, top * (unsigned)i / 4);
    }
    for (i = 0; i < n; i += step) {
        char buf[32];
        triage_format_time(buf, sizeof(buf), start + (int64_t)i * width, r->tz_min, 1);
        /* "11-24" for days, "05:00" for hours */
        fprintf(
            out, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%.5s</text>\n",
            LEFT + bw * ((double)i + 0.5), H - BOTTOM + 14, width < DAY_US ? buf + 11 : buf + 5);
    }
}

/* The series of a stacked bar chart: what each bar's parts count, and how they are named. */
#define SERIES 7
struct series {
    const char *id; /* the svg's id */
    size_t k;
    const char *key[SERIES], *label[SERIES], *colour[SERIES];
};

/* About how wide a label is drawn at 11 px: Latin letters narrow, Japanese full width. */
static int text_width(const char *s)
{
    int w = 0;

    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w += (unsigned char)*s < 0x80 ? 7 : 12;
    return w;
}

static void legend(FILE *out, const struct series *sr)
{
    int x = LEFT;

    for (size_t s = 0; s < sr->k; s++) {
        fprintf(out,
                "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"13\" font-size=\"11\">",
                x, sr->colour[s], x + 14);
        report_html_text(out, sr->label[s]);
        fputs("</text>\n", out);
        x += 26 + text_width(sr->label[s]);
    }
}

/* count: n bins of sr->k numbers each. */
static void chart(const struct report *r, FILE *out, const struct series *sr, const unsigned *count,
                  size_t n, int64_t start, int64_t width)
{
    unsigned max = 0, top, sum;
    double bw = (double)(W - LEFT - 10) / (double)n;
    size_t i, s;

    for (i = 0; i < n; i++) {
        for (s = 0, sum = 0; s < sr->k; s++)
            sum += count[i * sr->k + s];
        max = sum > max ? sum : max;
    }
    top = nice(max > 0 ? max : 1);
    fprintf(out, "<svg id=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n",
            sr->id, W, H, W, H);
    axis(r, out, n, start, width, top);
    for (i = 0; i < n; i++) {
        double y = H - BOTTOM;
        for (s = 0; s < sr->k; s++) {
            unsigned c = count[i * sr->k + s];
            double h = (double)(H - BOTTOM - TOPM) * c / top;
            if (c == 0)
                continue;
            y -= h;
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                    "data-s=\"",
                    LEFT + bw * (double)i + bw * 0.1, y, bw * 0.8, h, sr->colour[s]);
            report_html_text(out, sr->key[s]);
            fprintf(out, "\" data-n=\"%u\"><title>", c);
            report_html_text(out, sr->label[s]);
            fprintf(out, " %u</title></rect>\n", c);
        }
    }
    legend(out, sr);
    fputs("</svg>\n", out);
}

/* Where an incident happened: its lead alert's target zone, or its source's without one. */
static const char *zone_of(const struct report *r, const struct triage_incident *in,
                           const char **desc)
{
    const struct triage_alert *a = triage_alert_at(r->t, in->lead);
    int end = a->zone[1] != NULL ? 1 : 0;

    *desc = a->zone_desc[end];
    return a->zone[end] != NULL ? a->zone[end] : "-";
}

struct zone_count {
    const char *zone, *desc;
    unsigned by[3], total;
};

static int by_total(const void *x, const void *y)
{
    const struct zone_count *a = x, *b = y;

    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return strcmp(a->zone, b->zone);
}

/* Incidents per zone and severity, the busiest zone first; returns how many zones. */
static size_t zone_counts(const struct report *r, struct zone_count **out)
{
    size_t n = triage_incidents(r->t), i, k, nz = 0;
    struct zone_count *z = calloc(n + 1, sizeof(*z));

    for (i = 0; z != NULL && i < n; i++) {
        const struct triage_incident *in = triage_incident_at(r->t, i);
        const char *desc, *zone = zone_of(r, in, &desc);
        for (k = 0; k < nz && strcmp(z[k].zone, zone) != 0; k++)
            ;
        if (k == nz)
            z[nz].zone = zone, z[nz++].desc = desc;
        z[k].by[in->severity - 1]++;
        z[k].total++;
    }
    if (z != NULL)
        qsort(z, nz, sizeof(*z), by_total);
    *out = z;
    return nz;
}

static void zone_table(const struct report *r, FILE *out, const struct zone_count *z, size_t nz)
{
    size_t k;
    int s;

    fputs("<table id=\"by-zone\">", out);
    report__th(out,
               (const char *const[]){RL(r, "ゾーン (対象側)", "Zone (target side)"),
                                     triage_severity_text(1, r->o.lang),
                                     triage_severity_text(2, r->o.lang),
                                     triage_severity_text(3, r->o.lang)},
               4);
    fputs("<tbody>\n", out);
    for (k = 0; k < nz; k++) {
        fputs("<tr><td>", out);
        report_html_text(out, z[k].zone);
        if (z[k].desc != NULL) {
            fputs(" <span class=\"zone\">", out);
            report_html_text(out, z[k].desc);
            fputs("</span>", out);
        }
        fputs("</td>", out);
        for (s = 0; s < 3; s++) {
            fputs("<td class=\"n\">", out);
            report__num(out, z[k].by[s]);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

/* Bars by severity, then by zone (the six busiest, the rest together). */
static void charts(const struct report *r, FILE *out, const struct zone_count *z, size_t nz,
                   size_t n, int64_t start, int64_t width)
{
    static const char *const zc[SERIES] = {"#1f4e79", "#2e8b57", "#b8860b", "#8b3a62",
                                           "#4682b4", "#6b8e23", "#999999"};
    struct series sev = {"chart", 3, {"1", "2", "3"}, {0}, {colour[0], colour[1], colour[2]}};
    struct series zs = {"chart-zone", 0, {0}, {0}, {0}};
    unsigned *a = calloc(n * 3, sizeof(*a)), *b = calloc(n * SERIES, sizeof(*b));
    size_t i, k;

    for (k = 0; k < 3; k++)
        sev.label[k] = triage_severity_text((int)k + 1, r->o.lang);
    for (k = 0; k < nz && k < SERIES; k++, zs.k++) {
        int rest = k == SERIES - 1 && nz > SERIES;
        zs.key[k] = rest ? "*" : z[k].zone;
        zs.label[k] = rest ? RL(r, "その他", "other") : z[k].zone;
        zs.colour[k] = zc[k];
    }
    for (i = 0; a != NULL && b != NULL && i < triage_incidents(r->t); i++) {
        const struct triage_incident *in = triage_incident_at(r->t, i);
        const char *desc, *zone = zone_of(r, in, &desc);
        int64_t bin = (in->first_us - start) / width;
        if (bin < 0 || (size_t)bin >= n)
            continue;
        a[bin * 3 + in->severity - 1]++;
        for (k = 0; k + 1 < zs.k && strcmp(zs.key[k], zone) != 0; k++)
            ;
        b[bin * zs.k + k]++;
    }
    if (a != NULL && b != NULL) {
        chart(r, out, &sev, a, n, start, width);
        fprintf(out, "<h3>%s</h3>\n", RL(r, "ゾーン別 (対象側)", "By zone (target side)"));
        chart(r, out, &zs, b, n, start, width);
    }
    free(a);
    free(b);
}

void report__timeline(const struct report *r, FILE *out)
{
    int64_t start, width;
    size_t n = bins_of(r, &start, &width), nz;
    struct zone_count *z;

    fprintf(out, "<section id=\"timeline\">\n<h2>%s</h2>\n",
            width < DAY_US ? RL(r, "インシデントの推移 (1時間ごと)", "Incidents by hour")
                           : RL(r, "インシデントの推移 (日ごと)", "Incidents by day"));
    nz = zone_counts(r, &z);
    charts(r, out, z, nz, n, start, width);
    if (z != NULL)
        zone_table(r, out, z, nz);
    free(z);
    fputs("</section>\n", out);
}

void report__inventory(const struct report *r, FILE *out)
{
    size_t i, k, nz = 0;
    const char **zone = calloc(r->ndevices + 1, sizeof(*zone));
    size_t *cnt = calloc(r->ndevices + 1, sizeof(*cnt));

    fprintf(out, "<section id=\"inventory\">\n<h2>%s</h2>\n",
            RL(r, "観測した機器 (台帳との照合用)", "Devices observed (to check the ledger)"));
    if (!r->have_inventory) {
        fprintf(out, "<p class=\"note\">%s</p>\n",
                RL(r,
                   "機器一覧 (mimamori --inventory の出力) を --inventory "
                   "で指定すると、ゾーンごとの台数がここに載ります。",
                   "Give the inventory (mimamori --inventory) with --inventory to count the "
                   "devices of each zone here."));
    }
    for (i = 0; zone != NULL && cnt != NULL && i < r->ndevices; i++) {
        for (k = 0; k < nz && strcmp(zone[k], r->devices[i].zone) != 0; k++)
            ;
        if (k == nz)
            zone[nz++] = r->devices[i].zone;
        cnt[k]++;
    }
    if (r->have_inventory) {
        fprintf(out, "<p>%s <b data-k=\"devices\">", RL(r, "機器:", "Devices:"));
        report__num(out, r->ndevices);
        fprintf(out, "</b> %s <b data-k=\"new_devices\">",
                RL(r, "/ 期間中に新しく現れた機器:", "/ new in the period:"));
        report__num(out, r->new_devices);
        fputs("</b></p>\n<table>", out);
        report__th(out, (const char *const[]){RL(r, "ゾーン", "Zone"), RL(r, "台数", "Devices")},
                   2);
        fputs("<tbody>\n", out);
        for (k = 0; k < nz; k++) {
            fputs("<tr>", out);
            report__td(out, zone[k][0] ? zone[k] : "-");
            fprintf(out, "<td class=\"n\">%zu</td></tr>\n", cnt[k]);
        }
        fputs("</tbody></table>\n", out);
    }
    free(zone);
    free(cnt);
    fputs("</section>\n", out);
}
