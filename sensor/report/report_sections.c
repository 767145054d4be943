/*
 * The report's sections on what the guideline asks to be recorded: the devices most involved
 * in alerts, remote maintenance sessions with their windows and tickets (section 10),
 * obsolete protocols and end of support and who is concerned (8.2), and the external
 * connection points (13).
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

#define TOP 10

struct tally {
    const char *ip;
    size_t alerts, example; /* an alert naming the host, for its name and zone */
};

static int by_ip(const void *x, const void *y)
{
    const struct tally *a = x, *b = y;

    return a->ip < b->ip ? -1 : a->ip > b->ip;
}

static int by_alerts(const void *x, const void *y)
{
    const struct tally *a = x, *b = y;

    if (a->alerts != b->alerts)
        return a->alerts > b->alerts ? -1 : 1;
    return strcmp(a->ip, b->ip);
}

/* Hosts at one end by their number of alerts, most first; returns how many distinct. */
static size_t tally_end(const struct report *r, int end, struct tally **out)
{
    size_t n = triage_alerts(r->t), i, k = 0;
    struct tally *t = malloc((n + 1) * sizeof(*t));

    *out = t;
    if (t == NULL)
        return 0;
    for (i = 0; i < n; i++) {
        const struct triage_alert *a = triage_alert_at(r->t, i);
        if (a->ip[end] != NULL)
            t[k++] = (struct tally){a->ip[end], 1, i};
    }
    qsort(t, k, sizeof(*t), by_ip); /* pooled strings: one pointer per address */
    for (i = 0, n = 0; i < k; i++) {
        if (n > 0 && t[n - 1].ip == t[i].ip)
            t[n - 1].alerts++;
        else
            t[n++] = t[i];
    }
    qsort(t, n, sizeof(*t), by_alerts);
    return n;
}

static void top_table(const struct report *r, FILE *out, int end)
{
    static const char *const ja[] = {"機器", "アラート"}, *const en[] = {"Device", "Alerts"};
    struct tally *t;
    size_t n = tally_end(r, end, &t), i;

    fprintf(out, "<div id=\"top-%s\"><h3>%s</h3>\n<table>", end ? "targets" : "sources",
            end ? RL(r, "対象になった機器", "Targets") : RL(r, "発信元の機器", "Sources"));
    report__th(out, r->o.lang == TRIAGE_JA ? ja : en, 2);
    fputs("<tbody>\n", out);
    for (i = 0; i < n && i < TOP; i++) {
        fputs("<tr><td>", out);
        report__host(r, out, triage_alert_at(r->t, t[i].example), end);
        fprintf(out, "</td><td class=\"n\">%zu</td></tr>\n", t[i].alerts);
    }
    fputs("</tbody></table></div>\n", out);
    free(t);
}

void report__top(const struct report *r, FILE *out)
{
    fprintf(out, "<section id=\"top\">\n<h2>%s</h2>\n",
            RL(r, "アラートの多い機器", "Devices in the most alerts"));
    top_table(r, out, 0);
    top_table(r, out, 1);
    fputs("</section>\n", out);
}

static void duration(FILE *out, int64_t us)
{
    int64_t s = us / 1000000;

    if (s >= 3600)
        fprintf(out, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        fprintf(out, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
}

static void session_row(const struct report *r, FILE *out, const struct triage_alert *a)
{
    const struct report_flow *f = report__flow(r, a->flow_id);
    char proto[64], window[128], ticket[128];
    int approved = a->rule != NULL && strstr(a->rule, "recorded") != NULL;

    fputs("<tr><td class=\"t\">", out);
    report__time(r, out, a->ts_us, 1);
    fputs("</td><td>", out);
    report__host(r, out, a, 0);
    fputs("</td><td>", out);
    report__host(r, out, a, 1);
    fputs("</td>", out);
    report__td(out, report__evidence(a, "protocol", proto, sizeof(proto)));
    fputs("<td class=\"n\">", out);
    if (f != NULL && f->end_us >= f->start_us && f->start_us > 0)
        duration(out, f->end_us - f->start_us);
    fputs("</td><td class=\"n\">", out);
    if (f != NULL)
        report__bytes(out, f->bytes);
    fputs("</td>", out);
    report__td(out, report__evidence(a, "window", window, sizeof(window)));
    report__td(out, report__evidence(a, "ticket", ticket, sizeof(ticket)));
    fprintf(out, "<td class=\"%s\">%s</td></tr>\n", approved ? "ok" : "bad",
            approved ? RL(r, "承認済み", "approved") : RL(r, "承認外", "not approved"));
}

void report__maintenance(const struct report *r, FILE *out)
{
    static const char *const ja[] = {"日時",   "接続元",     "対象",     "手段", "時間",
                                     "通信量", "保守時間枠", "作業番号", "判定"};
    static const char *const en[] = {"When",  "From",   "To",     "How",    "Length",
                                     "Bytes", "Window", "Ticket", "Verdict"};
    size_t *m, n = report__alerts_of(r, "Remote maintenance", &m), i;

    fprintf(out, "<section id=\"maintenance\">\n<h2>%s</h2>\n",
            RL(r, "リモート保守の記録 (ガイドライン システム運用編 10)",
               "Remote maintenance sessions (guideline, System Operation 10)"));
    fprintf(out, "<p class=\"note\">%s</p>\n",
            RL(r,
               "保守業者・提携先からの接続と、院内へのリモート操作通信。承認済みの保守時間枠と照合"
               "した結果です。"
               "作業報告書と照合してください。",
               "Sessions from vendor and partner zones and remote-access protocols into the "
               "hospital, checked against the approved maintenance windows. Check them against "
               "the vendors' work reports."));
    if (n == 0) {
        fprintf(out, "<p>%s</p>\n</section>\n",
                RL(r, "期間中の記録はありません。", "None in the period."));
        free(m);
        return;
    }
    fputs("<table>", out);
    report__th(out, r->o.lang == TRIAGE_JA ? ja : en, 9);
    fputs("<tbody>\n", out);
    for (i = 0; i < n && i < REPORT_MAX_ROWS * 4; i++)
        session_row(r, out, triage_alert_at(r->t, m[i]));
    fputs("</tbody></table>\n", out);
    if (n > REPORT_MAX_ROWS * 4)
        fprintf(
            out,
            RL(r, "<p class=\"note\">ほか %zu 件</p>\n", "<p class=\"note\">and %zu more</p>\n"),
            n - REPORT_MAX_ROWS * 4);
    free(m);
    fputs("</section>\n", out);
}

/* The distinct addresses at one end of some alerts, the first eight named, and how many more. */
static void hosts_of(const struct report *r, FILE *out, const size_t *idx, size_t n, int end)
{
    const char *seen[8];
    size_t i, k, shown = 0, distinct = triage_distinct_hosts(r->t, idx, n, end);

    for (i = 0; i < n; i++) {
        const struct triage_alert *a = triage_alert_at(r->t, idx[i]);
        if (a->ip[end] == NULL)
            continue;
        for (k = 0; k < shown && seen[k] != a->ip[end]; k++)
            ;
        if (k < shown || shown == 8)
            continue;
        fputs(shown ? "<br>" : "", out);
        report__host(r, out, a, end);
        seen[shown++] = a->ip[end];
    }
    if (distinct > shown)
        fprintf(out, RL(r, "<br>ほか %zu 台", "<br>and %zu more"), distinct - shown);
}

static void eos_devices(const struct report *r, FILE *out)
{
    size_t i, n = 0;

    for (i = 0; i < r->ndevices; i++)
        n += r->devices[i].eos_product != NULL;
    if (!r->have_inventory)
        return;
    fprintf(out, "<h3>%s</h3>\n",
            RL(r, "サポートが終了したソフトウェアの機器 (台帳より)",
               "Devices running software past its end of support (inventory)"));
    if (n == 0) {
        fprintf(out, "<p data-k=\"eos_devices\">%s</p>\n", RL(r, "ありません。", "None."));
        return;
    }
    fprintf(out, "<table data-k=\"eos_devices\">");
    report__th(out,
               (const char *const[]){RL(r, "機器", "Device"), RL(r, "ゾーン", "Zone"),
                                     RL(r, "製品", "Product"), RL(r, "サポート終了", "Ended")},
               4);
    fputs("<tbody>\n", out);
    for (i = 0; i < r->ndevices; i++) {
        const struct report_device *d = &r->devices[i];
        if (d->eos_product == NULL)
            continue;
        fputs("<tr><td>", out);
        if (d->name[0] != '\0') {
            fputs("<b>", out);
            report_html_text(out, d->name);
            fputs("</b> ", out);
        }
        report_html_text(out, d->ip);
        fputs("</td>", out);
        report__td(out, d->zone);
        report__td(out, d->eos_product);
        report__td(out, d->eos_ended);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

/* Alerts by rule key, then in time order (their index). */
static int by_rule(const void *x, const void *y, void *ud)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    const char *a = triage_alert_at(ud, i)->rule, *b = triage_alert_at(ud, j)->rule;

    int c = a == b ? 0 : strcmp(a ? a : "", b ? b : "");

    if (c != 0)
        return c;
    return i < j ? -1 : i > j;
}

void report__obsolete(const struct report *r, FILE *out)
{
    size_t *m, n = report__alerts_of(r, "Obsolete protocol", &m), i, j;

    fprintf(out, "<section id=\"obsolete\">\n<h2>%s</h2>\n",
            RL(r, "旧式プロトコル・サポート終了 (ガイドライン システム運用編 8.2)",
               "Obsolete protocols and end of support (guideline, System Operation 8.2)"));
    if (n == 0)
        fprintf(out, "<p>%s</p>\n",
                RL(r, "期間中に旧式プロトコルの利用は検知されませんでした。",
                   "No obsolete protocol was seen in the period."));
    else {
        fputs("<table>", out);
        report__th(out,
                   (const char *const[]){RL(r, "内容", "What"), RL(r, "利用した機器", "Used by"),
                                         RL(r, "相手", "With"), RL(r, "件数", "Alerts")},
                   4);
        fputs("<tbody>\n", out);
    }
    /* one row per rule, its alerts in time order */
    if (n > 0)
        qsort_r(m, n, sizeof(*m), by_rule, r->t);
    for (i = 0; i < n; i = j) {
        const struct triage_alert *a = triage_alert_at(r->t, m[i]);
        for (j = i + 1; j < n && triage_alert_at(r->t, m[j])->rule == a->rule; j++)
            ;
        report__td(out, r->o.lang == TRIAGE_JA && a->message_ja ? a->message_ja : a->signature);
        fputs("<td>", out);
        hosts_of(r, out, &m[i], j - i, 0);
        fputs("</td><td>", out);
        hosts_of(r, out, &m[i], j - i, 1);
        fprintf(out, "</td><td class=\"n\">%zu</td></tr>\n", j - i);
    }
    if (n > 0)
        fputs("</tbody></table>\n", out);
    free(m);
    eos_devices(r, out);
    fputs("</section>\n", out);
}

/* The alerts of the intel rules, by indicator (pooled evidence: the same text, one pointer). */
static int by_evidence(const void *x, const void *y, void *ud)
{
    const struct triage_alert *a = triage_alert_at(ud, *(const size_t *)x);
    const struct triage_alert *b = triage_alert_at(ud, *(const size_t *)y);
    char ia[128], ib[128];
    int c = strcmp(report__evidence(a, "indicator", ia, sizeof(ia)),
                   report__evidence(b, "indicator", ib, sizeof(ib)));

    if (c != 0)
        return c;
    return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* One row per indicator: its feed and field, the devices, how often, first and last. */
static void intel_row(const struct report *r, FILE *out, const size_t *m, size_t n)
{
    const struct triage_alert *a = triage_alert_at(r->t, m[0]);
    char buf[128];

    report__td(out, report__evidence(a, "indicator", buf, sizeof(buf)));
    report__td(out, report__evidence(a, "feed", buf, sizeof(buf)));
    report__td(out, report__evidence(a, "field", buf, sizeof(buf)));
    report__td(out, report__evidence(a, "description", buf, sizeof(buf)));
    fputs("<td>", out);
    hosts_of(r, out, m, n, 0);
    fprintf(out, "</td><td class=\"n\">%zu</td><td class=\"t\">", n);
    report__time(r, out, a->ts_us, 1);
    fputs("<br>", out);
    report__time(r, out, triage_alert_at(r->t, m[n - 1])->ts_us, 1);
    fputs("</td></tr>\n", out);
}

void report__intel(const struct report *r, FILE *out)
{
    size_t *m = NULL, n = 0, total = triage_alerts(r->t), i, j;
    char a[128], b[128];

    if ((m = malloc((total + 1) * sizeof(*m))) == NULL)
        return;
    for (i = 0; i < total; i++) {
        const struct triage_alert *x = triage_alert_at(r->t, i);
        if (x->rule != NULL && strncmp(x->rule, "intel.", 6) == 0)
            m[n++] = i;
    }
    fprintf(out, "<section id=\"intel\">\n<h2>%s</h2>\n<p data-k=\"intel_alerts\">",
            RL(r, "脅威情報との一致", "Matches with threat intelligence"));
    fprintf(out,
            RL(r, "脅威情報フィードの指標に一致した通信: %zu 件",
               "Traffic matching feed indicators: %zu"),
            n);
    fputs("</p>\n", out);
    if (n > 0) {
        qsort_r(m, n, sizeof(*m), by_evidence, r->t);
        fputs("<table>", out);
        report__th(out,
                   (const char *const[]){RL(r, "指標", "Indicator"), RL(r, "フィード", "Feed"),
                                         RL(r, "一致した項目", "Field"),
                                         RL(r, "説明", "Description"), RL(r, "発信元", "Sources"),
                                         RL(r, "件数", "Alerts"),
                                         RL(r, "最初・最後", "First, last")},
                   7);
        fputs("<tbody>\n", out);
        for (i = 0; i < n; i = j) {
            report__evidence(triage_alert_at(r->t, m[i]), "indicator", a, sizeof(a));
            for (j = i + 1; j < n && strcmp(report__evidence(triage_alert_at(r->t, m[j]),
                                                             "indicator", b, sizeof(b)),
                                            a) == 0;
                 j++)
                ;
            intel_row(r, out, &m[i], j - i);
        }
        fputs("</tbody></table>\n", out);
    }
    free(m);
    fputs("</section>\n", out);
}
