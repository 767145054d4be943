/*
 * The report document: its frame (inline style for screen and print, a content security policy
 * that forbids scripts and every fetch), the helpers every section writes with (escaping every
 * text, which may come from the network: host names, certificate names), and the first
 * sections: the period summary, the incidents and the devices most involved.
 */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

void report_html_text(FILE *out, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, out);
        }
    }
}

void report__num(FILE *out, uint64_t n)
{
    char d[32], *p;
    int len = snprintf(d, sizeof(d), "%llu", (unsigned long long)n), i;

    for (i = 0, p = d; i < len; i++, p++) {
        if (i > 0 && (len - i) % 3 == 0)
            fputc(',', out);
        fputc(*p, out);
    }
}

void report__bytes(FILE *out, uint64_t n)
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    int u = 0;

    while (v >= 1000 && u < 4)
        v /= 1000, u++;
    fprintf(out, u == 0 ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

void report__time(const struct report *r, FILE *out, int64_t ts_us, int with_time)
{
    char buf[32];

    triage_format_time(buf, sizeof(buf), ts_us, r->tz_min, 1);
    if (!with_time)
        buf[10] = '\0';
    else
        buf[16] = '\0'; /* to the minute */
    fputs(buf, out);
}

void report__th(FILE *out, const char *const *cells, size_t n)
{
    fputs("<thead><tr>", out);
    for (size_t i = 0; i < n; i++) {
        fputs("<th>", out);
        report_html_text(out, cells[i]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n", out);
}

void report__td(FILE *out, const char *text)
{
    fputs("<td>", out);
    report_html_text(out, text);
    fputs("</td>", out);
}

void report__host(const struct report *r, FILE *out, const struct triage_alert *a, int end)
{
    (void)r;
    if (a->ip[end] == NULL) {
        fputs("-", out);
        return;
    }
    if (a->device[end] != NULL) {
        fputs("<b>", out);
        report_html_text(out, a->device[end]);
        fputs("</b> ", out);
    }
    report_html_text(out, a->ip[end]);
    if (a->zone[end] != NULL) {
        fputs(" <span class=\"zone\">", out);
        report_html_text(out, a->zone_desc[end] != NULL ? a->zone_desc[end] : a->zone[end]);
        fputs("</span>", out);
    }
}

static const char style[] =
    "body{font-family:'Noto Sans CJK JP','IPAexGothic','IPAGothic','Hiragino Sans',"
    "'Yu Gothic',sans-serif;color:#1a1a1a;margin:2em auto;max-width:60em;padding:0 1em;"
    "line-height:1.5;font-size:11pt}\n"
    "h1{font-size:1.6em;border-bottom:3px solid #234;margin-bottom:.2em}\n"
    "h2{font-size:1.25em;border-left:6px solid #234;padding-left:.4em;margin-top:1.6em;"
    "break-after:avoid}\n"
    "table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.9em}\n"
    "th,td{border:1px solid #bbb;padding:.2em .4em;text-align:left;vertical-align:top}\n"
    "th{background:#e8edf2}tr{break-inside:avoid}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.t{white-space:nowrap}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:.6em}\n"
    ".card{border:1px solid #bbb;border-radius:4px;padding:.4em .8em;min-width:9em}\n"
    ".card .n{display:block;font-size:1.6em;font-weight:bold}\n"
    ".s1{color:#b00020}.s2{color:#a15c00}.s3{color:#2d6a8a}\n"
    ".zone{color:#555;font-size:.9em}.note{color:#555;font-size:.9em}\n"
    ".ok{color:#1b7a2e}.bad{color:#b00020;font-weight:bold}\n"
    "svg{max-width:100%;height:auto}\n"
    "@page{size:A4;margin:14mm}\n"
    "@media print{body{margin:0;max-width:none;font-size:9.5pt}section{break-inside:auto}}\n";

void report__head(const struct report *r, FILE *out)
{
    int64_t from, to;
    size_t i;

    report__period(r, &from, &to);
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
            RL(r, "ja", "en"));
    fputs(RL(r, "ネットワーク監視報告書", "Network monitoring report"), out);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>%s</h1>\n", style,
            RL(r, "ネットワーク監視報告書", "Network monitoring report"));
    fprintf(out, "<p id=\"period\">%s <b>", RL(r, "対象期間:", "Period:"));
    if (to > from) {
        report__time(r, out, from, 1);
        fputs("</b> 〜 <b>", out);
        report__time(r, out, to, 1);
        fprintf(out, "</b> (UTC%c%02d:%02d)", r->tz_min < 0 ? '-' : '+', abs(r->tz_min) / 60,
                abs(r->tz_min) % 60);
    } else {
        fprintf(out, "%s</b>", RL(r, "記録なし (イベントがありません)", "none (no events)"));
    }
    if (r->nsensors > 0) {
        fprintf(out, "<br>%s ", RL(r, "センサー:", "Sensors:"));
        for (i = 0; i < r->nsensors; i++) {
            fputs(i ? ", " : "", out);
            report_html_text(out, r->sensors[i].name);
        }
    }
    fprintf(out, "<br>%s ", RL(r, "作成:", "Made:"));
    report__time(r, out, r->o.now_us, 1);
    fputs(" (Mimamori " MM_VERSION ")</p>\n</header>\n", out);
}

/* A figure of the summary, its key in data-k for whoever reads the page by machine. */
static void card(FILE *out, const char *key, uint64_t n, const char *label, const char *cls)
{
    fprintf(out, "<div class=\"card\"><span class=\"n %s\" data-k=\"%s\">", cls ? cls : "", key);
    report__num(out, n);
    fputs("</span>", out);
    report_html_text(out, label);
    fputs("</div>\n", out);
}

void report__summary(const struct report *r, FILE *out)
{
    const size_t *by = r->tally.by, nm = r->tally.maint, approved = nm - r->tally.unapproved;
    fprintf(out, "<section id=\"summary\">\n<h2>%s</h2>\n<div class=\"cards\">\n",
            RL(r, "期間のまとめ", "Summary of the period"));
    card(out, "incidents", triage_incidents(r->t), RL(r, "インシデント", "incidents"), NULL);
    card(out, "incidents_high", by[1], RL(r, "うち重大度「高」", "of them high"), "s1");
    card(out, "incidents_medium", by[2], RL(r, "重大度「中」", "medium"), "s2");
    card(out, "incidents_low", by[3], RL(r, "重大度「低」", "low"), "s3");
    card(out, "alerts", triage_alerts(r->t), RL(r, "アラート", "alerts"), NULL);
    card(out, "maintenance_approved", approved,
         RL(r, "承認済みのリモート保守", "approved maintenance sessions"), NULL);
    card(out, "maintenance_unapproved", nm - approved,
         RL(r, "承認外のリモート保守", "unapproved maintenance sessions"),
         nm > approved ? "s1" : NULL);
    card(out, "flows", r->flows, RL(r, "記録した通信 (フロー)", "connections recorded (flows)"),
         NULL);
    card(out, "events", r->events, RL(r, "記録したイベント", "events recorded"), NULL);
    fputs("</div>\n", out);
    if (by[1] > 0) {
        fputs(RL(r, "<p>重大度「高」のインシデントが ", "<p>"), out);
        report__num(out, by[1]);
        fputs(RL(r, " 件あります。下の一覧で対応状況を確認してください。</p>\n",
                 " high-severity incidents: check how each was handled in the list below.</p>\n"),
              out);
    } else {
        fprintf(out, "<p>%s</p>\n",
                RL(r, "重大度「高」のインシデントはありませんでした。",
                   "There was no high-severity incident."));
    }
    fputs("</section>\n", out);
}

void report__incidents(const struct report *r, FILE *out)
{
    static const char *const ja[] = {"#",    "重大度", "開始", "種別",
                                     "内容", "発信元", "対象", "件数"};
    static const char *const en[] = {"#",    "Severity", "Began",  "Kind",
                                     "What", "Source",   "Target", "Alerts"};
    size_t i, n = triage_incidents(r->t);

    fprintf(out, "<section id=\"incidents\">\n<h2>%s</h2>\n",
            RL(r, "インシデント一覧", "Incidents"));
    if (n == 0) {
        fprintf(out, "<p>%s</p>\n</section>\n", RL(r, "ありません。", "None."));
        return;
    }
    fputs("<table>", out);
    report__th(out, r->o.lang == TRIAGE_JA ? ja : en, 8);
    fputs("<tbody>\n", out);
    for (i = 0; i < n && i < REPORT_MAX_ROWS; i++) {
        const struct triage_incident *in = triage_incident_at(r->t, i);
        const struct triage_alert *a = triage_alert_at(r->t, in->lead);
        fprintf(out, "<tr><td class=\"n\">%u</td><td class=\"s%u\">%s</td><td class=\"t\">", in->id,
                in->severity, triage_severity_text(in->severity, r->o.lang));
        report__time(r, out, in->first_us, 1);
        fputs("</td>", out);
        report__td(out, triage_category_text(a->category, r->o.lang));
        report__td(out, r->o.lang == TRIAGE_JA && a->message_ja ? a->message_ja : a->signature);
        fputs("<td>", out);
        report__host(r, out, a, 0);
        fputs("</td><td>", out);
        report__host(r, out, a, 1);
        fprintf(out, "</td><td class=\"n\">%zu</td></tr>\n", in->nalerts);
    }
    fputs("</tbody></table>\n", out);
    if (n > REPORT_MAX_ROWS)
        fprintf(out,
                RL(r, "<p class=\"note\">ほか %zu 件 (mimamori-alerts で全件を確認できます)</p>\n",
                   "<p class=\"note\">and %zu more (mimamori-alerts lists them all)</p>\n"),
                n - REPORT_MAX_ROWS);
    fputs("</section>\n", out);
}

/* What several sections count: incidents by severity, alerts of the categories they show. */
static void tally(struct report *r)
{
    struct report_tallies *c = &r->tally;
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < triage_incidents(r->t); i++)
        c->by[triage_incident_at(r->t, i)->severity]++;
    for (i = 0; i < triage_alerts(r->t); i++) {
        const struct triage_alert *a = triage_alert_at(r->t, i);
        const char *k = a->category ? a->category : "";
        c->maint += strcmp(k, "Remote maintenance") == 0;
        c->unapproved += strcmp(k, "Remote maintenance") == 0 && a->severity < 3;
        c->obsolete += strcmp(k, "Obsolete protocol") == 0;
        c->restrict_ +=
            strcmp(k, "Segmentation violation") == 0 || strcmp(k, "Unexpected egress") == 0;
    }
}

int report_write(struct report *r, FILE *out)
{
    if (triage_group(r->t, r->o.window_us) < 0)
        return MM_ENOMEM;
    tally(r);
    if (r->tz_min == 0 && triage_alerts(r->t) > 0)
        r->tz_min = triage_alert_at(r->t, 0)->tz_min;
    report__head(r, out);
    report__summary(r, out);
    report__timeline(r, out);
    report__incidents(r, out);
    report__top(r, out);
    report__maintenance(r, out);
    report__obsolete(r, out);
    report__intel(r, out);
    report__external(r, out);
    report__inventory(r, out);
    report__health(r, out);
    report__checklist(r, out);
    fprintf(out, "<footer><p class=\"note\">%s</p></footer>\n</body>\n</html>\n",
            RL(r, "Mimamori が記録したイベントから作成。患者情報・通信内容は含みません。",
               "Made by Mimamori from the events it recorded. No patient data or payload is "
               "included."));
    fflush(out);
    return ferror(out) ? MM_EIO : 0;
}
