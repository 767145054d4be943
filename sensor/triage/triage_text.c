/*
 * Times and words for readers: EVE timestamps and command-line times parsed to microseconds
 * since the epoch, times printed at the offset the sensor wrote them in, and the alert
 * categories and severities in Japanese and English.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mimamori/rules.h" /* the categories (CATEGORIES_X) */
#include "mimamori/triage.h"

#define US 1000000LL

/* "+0900", "+09:00", "Z" or "" (none: *has = 0). Returns the number of bytes read, or -1. */
static int parse_offset(const char *s, int *tz_min, int *has)
{
    int h, m, sign;

    *has = 0, *tz_min = 0;
    if (*s == '\0')
        return 0;
    if (*s == 'Z' && s[1] == '\0')
        return *has = 1, 1;
    if (*s != '+' && *s != '-')
        return -1;
    sign = *s == '-' ? -1 : 1;
    if (sscanf(s + 1, "%2d:%2d", &h, &m) == 2 && strlen(s) == 6)
        ;
    else if (!(strlen(s) == 5 && sscanf(s + 1, "%2d%2d", &h, &m) == 2))
        return -1;
    if (h > 23 || m > 59 || !isdigit((unsigned char)s[1]))
        return -1;
    *tz_min = sign * (h * 60 + m), *has = 1;
    return (int)strlen(s);
}

/*
 * "YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][offset]": the UTC time, or the wall time in *tm when it
 * carries no offset. Returns 0 or MM_EINVAL.
 */
static int parse_stamp(const char *s, struct tm *tm, long *us, int *tz_min, int *has_tz)
{
    int n = 0, len;

    memset(tm, 0, sizeof(*tm));
    *us = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &tm->tm_year, &tm->tm_mon, &tm->tm_mday, &n) != 3 || n != 10)
        return MM_EINVAL;
    s += n;
    if (*s == 'T' || *s == ' ') {
        if (sscanf(s + 1, "%2d:%2d%n", &tm->tm_hour, &tm->tm_min, &n) != 2 || n != 5)
            return MM_EINVAL;
        s += 6;
        if (*s == ':') {
            if (sscanf(s + 1, "%2d%n", &tm->tm_sec, &n) != 1 || n != 2)
                return MM_EINVAL;
            s += 3;
            if (*s == '.') {
                long scale = 100000;
                for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
                    *us += (*s - '0') * scale;
            }
        }
    }
    if ((len = parse_offset(s, tz_min, has_tz)) < 0)
        return MM_EINVAL;
    if (tm->tm_mon < 1 || tm->tm_mon > 12 || tm->tm_mday < 1 || tm->tm_mday > 31 ||
        tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
        return MM_EINVAL;
    tm->tm_year -= 1900, tm->tm_mon -= 1;
    return 0;
}

int triage_parse_eve_time(const char *s, int64_t *out_us, int *tz_min)
{
    struct tm tm;
    long us;
    int has;

    if (parse_stamp(s, &tm, &us, tz_min, &has) < 0 || !has)
        return MM_EINVAL;
    *out_us = ((int64_t)timegm(&tm) - (int64_t)*tz_min * 60) * US + us;
    return 0;
}

int triage_parse_span(const char *s, int64_t *out_us)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    int64_t unit = US;

    if (end == s || v < 0 || v > 100LL * 365 * 86400)
        return MM_EINVAL;
    if (*end != '\0' && end[1] != '\0')
        return MM_EINVAL;
    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        unit = 60 * US;
        break;
    case 'h':
        unit = 3600 * US;
        break;
    case 'd':
        unit = 86400 * US;
        break;
    default:
        return MM_EINVAL;
    }
    *out_us = (int64_t)v * unit;
    return 0;
}

int triage_parse_time(const char *s, int64_t now_us, int64_t *out_us)
{
    struct tm tm;
    int64_t span;
    long us;
    int tz_min, has;

    if (strlen(s) < 10 && triage_parse_span(s, &span) == 0 && isdigit((unsigned char)*s)) {
        *out_us = now_us - span;
        return 0;
    }
    if (parse_stamp(s, &tm, &us, &tz_min, &has) < 0)
        return MM_EINVAL;
    if (has) {
        *out_us = ((int64_t)timegm(&tm) - (int64_t)tz_min * 60) * US + us;
    } else {
        tm.tm_isdst = -1;
        *out_us = (int64_t)mktime(&tm) * US + us;
    }
    return 0;
}

void triage_format_time(char *buf, size_t len, int64_t ts_us, int tz_min, int with_date)
{
    time_t t = (time_t)((ts_us - (ts_us < 0 ? US - 1 : 0)) / US + (int64_t)tz_min * 60);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
}

/* What a Japanese reader calls the contract's categories (rules.h's CATEGORIES_X). */
static const char *const category_ja[CAT__COUNT] = {
    [CAT_EGRESS] = "想定外の外部通信",     [CAT_LATERAL] = "横展開(内部での侵害拡大)",
    [CAT_MAINTENANCE] = "リモート保守",    [CAT_OBSOLETE] = "旧式・サポート終了",
    [CAT_RECON] = "偵察(スキャン)",        [CAT_BRUTE_FORCE] = "総当たり攻撃",
    [CAT_EXFILTRATION] = "情報の持ち出し", [CAT_C2] = "外部からの遠隔操作(C2)",
    [CAT_ROGUE] = "不正なサービス",        [CAT_SEGMENTATION] = "ネットワーク分離の違反",
    [CAT_MEDICAL] = "医療プロトコル",      [CAT_HEALTH] = "センサーの状態",
};

const char *triage_category_text(const char *category, enum triage_lang lang)
{
#define X(id, name) name,
    static const char *const en[CAT__COUNT] = {CATEGORIES_X(X)};
#undef X

    if (category == NULL)
        return "";
    for (size_t c = 0; c < CAT__COUNT; c++)
        if (strcasecmp(en[c], category) == 0)
            return lang == TRIAGE_JA && category_ja[c] != NULL ? category_ja[c] : en[c];
    return category;
}

const char *triage_severity_text(int severity, enum triage_lang lang)
{
    static const char *const words[][2] = {{"High", "高"}, {"Medium", "中"}, {"Low", "低"}};

    if (severity < 1 || severity > 3)
        severity = 3;
    return words[severity - 1][lang == TRIAGE_JA];
}
