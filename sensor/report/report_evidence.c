/*
 * The report's evidence that monitoring ran and what it covered: the external connection
 * points, the sensor's health (when it watched, by the uptime its stats events state; what it
 * received and dropped; its health alerts), and the table that maps the report to the MHLW
 * cybersecurity checklist items and guideline sections it evidences.
 */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

#define US      1000000LL
#define MAXGAPS 20

static int by_party(const void *x, const void *y)
{
    const struct report_party *a = x, *b = y;
    int ia = strcmp(a->direction, "outbound") != 0, ib = strcmp(b->direction, "outbound") != 0;

    if (a->remote_access != b->remote_access)
        return b->remote_access - a->remote_access;
    if (ia != ib)
        return ib - ia;
    if (a->flows != b->flows)
        return a->flows > b->flows ? -1 : 1;
    return strcmp(a->ip, b->ip);
}

void report__external(const struct report *r, FILE *out)
{
    size_t i;

    fprintf(out, "<section id=\"external\">\n<h2>%s</h2>\n",
            RL(r, "外部との接続点", "External connection points"));
    if (!r->have_connections) {
        fprintf(out, "<p class=\"note\">%s</p>\n</section>\n",
                RL(r,
                   "接続一覧 (mimamori --connections の出力) を --inventory で指定すると、"
                   "院外の相手と院内の機器の一覧がここに載ります。",
                   "Give the connections list (mimamori --connections) with --inventory to list "
                   "the parties outside and the devices that talked to them here."));
        return;
    }
    qsort(r->parties, r->nparties, sizeof(*r->parties), by_party);
    fprintf(out, "<p>%s <b data-k=\"parties\">", RL(r, "院外の相手:", "Parties outside:"));
    report__num(out, r->nparties);
    fprintf(out, "</b>%s</p>\n<table>",
            RL(r, " (遠隔操作・院外からの接続を先に表示)", " (remote access and inbound first)"));
    report__th(out,
               (const char *const[]){RL(r, "相手", "Party"), RL(r, "方向", "Direction"),
                                     RL(r, "プロトコル", "Protocols"),
                                     RL(r, "院内の機器", "Devices inside"),
                                     RL(r, "接続数", "Flows"), RL(r, "通信量", "Bytes")},
               6);
    fputs("<tbody>\n", out);
    for (i = 0; i < r->nparties && i < REPORT_MAX_ROWS; i++) {
        const struct report_party *p = &r->parties[i];
        fputs("<tr><td>", out);
        if (p->names[0] != '\0') {
            fputs("<b>", out);
            report_html_text(out, p->names);
            fputs("</b> ", out);
        }
        report_html_text(out, p->ip);
        fprintf(out, "</td><td class=\"%s\">", p->remote_access ? "bad" : "");
        report_html_text(out, p->direction);
        fputs(p->remote_access ? RL(r, " 遠隔操作", " remote access") : "", out);
        fputs("</td>", out);
        report__td(out, p->protocols);
        report__td(out, p->devices);
        fputs("<td class=\"n\">", out);
        report__num(out, p->flows);
        fputs("</td><td class=\"n\">", out);
        report__bytes(out, p->bytes);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    if (r->nparties > REPORT_MAX_ROWS)
        fprintf(
            out,
            RL(r, "<p class=\"note\">ほか %zu 件</p>\n", "<p class=\"note\">and %zu more</p>\n"),
            r->nparties - REPORT_MAX_ROWS);
    fputs("</section>\n", out);
}

static int by_ts(const void *x, const void *y)
{
    const struct report_sample *a = x, *b = y;

    return a->ts_us < b->ts_us ? -1 : a->ts_us > b->ts_us;
}

/* What one sensor's stats say over the period. */
struct watch {
    uint64_t pkts, drops, invalid;
    unsigned runs;
    int64_t covered_us;
    int64_t gap_from[MAXGAPS], gap_to[MAXGAPS];
    size_t ngaps, more_gaps;
};

/*
 * Runs are told apart by the uptime going down. A run's counters are those of its last sample
 * in the period, less those of its last sample before the period when it began earlier. The
 * time watched is each run's [last sample - uptime, last sample] inside the period; what is
 * left are the gaps.
 */
static void run_of(const struct report_sample *s, size_t n, int64_t from, int64_t to,
                   struct watch *w, int64_t *cursor)
{
    static const struct report_sample zero;
    const struct report_sample *base = NULL, *last = NULL;
    int64_t began, end;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i].ts_us < from)
            base = &s[i];
        else if (s[i].ts_us < to)
            last = &s[i];
    }
    if (last == NULL)
        return;
    began = last->ts_us - (int64_t)last->uptime * US;
    if (began >= from || base == NULL)
        base = &zero;
    w->runs++;
    w->pkts += last->pkts >= base->pkts ? last->pkts - base->pkts : 0;
    w->drops += last->drops >= base->drops ? last->drops - base->drops : 0;
    w->invalid += last->invalid >= base->invalid ? last->invalid - base->invalid : 0;
    began = began < *cursor ? *cursor : began;
    end = last->ts_us;
    if (began > *cursor + 60 * US) { /* a minute or more unwatched */
        if (w->ngaps < MAXGAPS)
            w->gap_from[w->ngaps] = *cursor, w->gap_to[w->ngaps++] = began;
        else
            w->more_gaps++;
    }
    if (end > began)
        w->covered_us += end - began, *cursor = end;
}

static void watch_of(const struct report *r, struct report_sensor *s, struct watch *w)
{
    int64_t from, to, cursor;
    size_t i, first = 0;

    report__period(r, &from, &to);
    memset(w, 0, sizeof(*w));
    qsort(s->s, s->n, sizeof(*s->s), by_ts);
    cursor = from;
    for (i = 0; i < s->n; i++) {
        if (i + 1 < s->n && s->s[i + 1].uptime >= s->s[i].uptime)
            continue; /* the run goes on */
        run_of(&s->s[first], i + 1 - first, from, to, w, &cursor);
        first = i + 1;
    }
    if (to > cursor + 60 * US && w->ngaps < MAXGAPS)
        w->gap_from[w->ngaps] = cursor, w->gap_to[w->ngaps++] = to;
}

static void sensor_row(const struct report *r, FILE *out, struct report_sensor *s)
{
    int64_t from, to;
    struct watch w;
    size_t i;

    report__period(r, &from, &to);
    watch_of(r, s, &w);
    fputs("<tr>", out);
    report__td(out, s->name);
    fprintf(out, "<td class=\"n\" data-k=\"coverage\">%.1f%%</td>",
            to > from ? 100.0 * (double)w.covered_us / (double)(to - from) : 0.0);
    fprintf(out, "<td class=\"n\" data-k=\"restarts\">%u</td><td class=\"n\" data-k=\"packets\">",
            w.runs > 0 ? w.runs - 1 : 0);
    report__num(out, w.pkts);
    fputs("</td><td class=\"n\" data-k=\"drops\">", out);
    report__num(out, w.drops);
    if (w.pkts + w.drops > 0)
        fprintf(out, " (%.3f%%)", 100.0 * (double)w.drops / (double)(w.pkts + w.drops));
    fputs("</td><td class=\"n\">", out);
    report__num(out, w.invalid);
    fputs("</td><td>", out);
    for (i = 0; i < w.ngaps; i++) {
        fputs(i ? "<br>" : "", out);
        report__time(r, out, w.gap_from[i], 1);
        fputs(" 〜 ", out);
        report__time(r, out, w.gap_to[i], 1);
    }
    if (w.more_gaps > 0)
        fprintf(out, RL(r, "<br>ほか %zu 件", "<br>and %zu more"), w.more_gaps);
    fputs(w.ngaps == 0 ? RL(r, "なし", "none") : "", out);
    fputs("</td></tr>\n", out);
}

static void health_alerts(const struct report *r, FILE *out)
{
    size_t *m, n = report__alerts_of(r, "Sensor health", &m), i;

    if (n == 0) {
        fprintf(
            out, "<p>%s</p>\n",
            RL(r, "センサーの異常を示すアラートはありませんでした。", "No sensor health alert."));
        free(m);
        return;
    }
    fputs("<table>", out);
    report__th(out,
               (const char *const[]){RL(r, "日時", "When"), RL(r, "内容", "What"),
                                     RL(r, "根拠", "Evidence")},
               3);
    fputs("<tbody>\n", out);
    for (i = 0; i < n && i < REPORT_MAX_ROWS; i++) {
        const struct triage_alert *a = triage_alert_at(r->t, m[i]);
        fputs("<tr><td class=\"t\">", out);
        report__time(r, out, a->ts_us, 1);
        fputs("</td>", out);
        report__td(out, r->o.lang == TRIAGE_JA && a->message_ja ? a->message_ja : a->signature);
        report__td(out, a->evidence);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    free(m);
}

void report__health(const struct report *r, FILE *out)
{
    static const char *const ja[] = {"センサー",   "監視できた時間", "再起動",    "受信パケット",
                                     "取りこぼし", "不正なパケット", "監視の空白"};
    static const char *const en[] = {"Sensor",  "Time watched", "Restarts", "Packets",
                                     "Dropped", "Malformed",    "Gaps"};
    size_t i;

    fprintf(
        out, "<section id=\"health\">\n<h2>%s</h2>\n",
        RL(r, "センサーの稼働状況 (監視の証跡)", "Sensor health (evidence that monitoring ran)"));
    if (r->nsensors == 0)
        fprintf(out, "<p class=\"bad\">%s</p>\n",
                RL(r, "統計イベントがありません。この期間に監視が行われていたことを示せません。",
                   "No stats events: nothing shows that monitoring ran in this period."));
    else {
        fputs("<table>", out);
        report__th(out, r->o.lang == TRIAGE_JA ? ja : en, 7);
        fputs("<tbody>\n", out);
        for (i = 0; i < r->nsensors; i++)
            sensor_row(r, out, (struct report_sensor *)&r->sensors[i]);
        fputs("</tbody></table>\n", out);
    }
    health_alerts(r, out);
    fputs("</section>\n", out);
}

/* One row: the item, what here evidences it, where, and whether it needs a look. */
static void item(const struct report *r, FILE *out, const char *ja, const char *en, const char *ref,
                 const char *section, int state, const char *what)
{
    static const char *const words[][2] = {
        {"記録あり", "recorded"}, {"要確認", "check"}, {"データなし", "no data"}};

    fputs("<tr>", out);
    report__td(out, RL(r, ja, en));
    report__td(out, ref);
    fprintf(out, "<td>%s <a href=\"#%s\">#%s</a></td>", what, section, section);
    fprintf(out, "<td class=\"%s\" data-k=\"state-%s\">%s</td></tr>\n",
            state == 1   ? "bad"
            : state == 0 ? "ok"
                         : "note",
            section, words[state][r->o.lang != TRIAGE_JA]);
}

void report__checklist(const struct report *r, FILE *out)
{
    const struct report_tallies *c = &r->tally;
    char what[256];

    fprintf(out, "<section id=\"checklist\">\n<h2>%s</h2>\n<p class=\"note\">%s</p>\n<table>",
            RL(r, "チェックリストとの対応", "What this report evidences"),
            RL(r,
               "厚生労働省「医療機関におけるサイバーセキュリティ対策チェックリスト」の項目と、"
               "医療情報システムの安全管理に関するガイドライン第6.0版 システム運用編の該当箇所。",
               "Items of the MHLW cybersecurity checklist for medical institutions, and the "
               "sections of the MHLW guidelines 6.0 (System Operation) they belong to."));
    report__th(out,
               (const char *const[]){RL(r, "項目", "Item"), RL(r, "ガイドライン", "Guideline"),
                                     RL(r, "この報告書の根拠", "Evidence here"),
                                     RL(r, "状態", "State")},
               4);
    fputs("<tbody>\n", out);
    snprintf(what, sizeof(what), RL(r, "観測した機器 %zu 台", "%zu devices observed"), r->ndevices);
    item(r, out, "サーバ、端末PC、ネットワーク機器の台帳管理を行っている",
         "Servers, PCs and network devices are kept in a ledger", "-", "inventory",
         r->have_inventory ? 0 : 2, what);
    snprintf(
        what, sizeof(what),
        RL(r, "リモート保守 %zu 件 (承認外 %zu 件)", "%zu maintenance sessions (%zu not approved)"),
        c->maint, c->unapproved);
    item(r, out, "リモートメンテナンス(保守)を利用している機器の有無を事業者に確認した",
         "Vendors were asked which devices they maintain remotely", "SO 10", "maintenance",
         c->unapproved > 0, what);
    snprintf(what, sizeof(what), RL(r, "記録したイベント %llu 件", "%llu events recorded"),
             (unsigned long long)r->events);
    item(r, out, "アクセスログを管理している", "Access logs are kept", "-", "health",
         r->nsensors == 0 ? 2 : 0, what);
    snprintf(what, sizeof(what),
             RL(r, "旧式プロトコル・サポート終了のアラート %zu 件",
                "%zu alerts on obsolete protocols or end of support"),
             c->obsolete);
    item(r, out, "セキュリティパッチ(最新ファームウェアや更新プログラム)を適用している",
         "Security patches (firmware, updates) are applied", "SO 8.2", "obsolete", c->obsolete > 0,
         what);
    snprintf(what, sizeof(what),
             RL(r, "分離違反・想定外の外部通信のアラート %zu 件",
                "%zu segmentation and unexpected egress alerts"),
             c->restrict_);
    item(r, out, "接続元制限を実施している", "Connections are restricted by source", "SO 13 ⑪",
         "external", c->restrict_ > 0, what);
    snprintf(what, sizeof(what),
             RL(r, "インシデント %zu 件 (重大度「高」%zu 件)", "%zu incidents (%zu high)"),
             triage_incidents(r->t), c->by[1]);
    item(r, out, "不正な通信の検知・遮断・監視 (ガイドライン)",
         "Unauthorised communication is detected, blocked and monitored (guideline)", "SO 13.2",
         "incidents", c->by[1] > 0, what);
    fputs("</tbody></table>\n</section>\n", out);
}
