/*
 * The sections that name zones and rules, read after both: maintenance windows, suppressions
 * and the response policy, and the checks that what they name exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mimamori/error.h"
#include "mimamori/rules.h"
#include "mimamori/tz.h"

#include "config/config_int.h"

/* --- maintenance windows and suppressions (after zones) ------------------------------------ */

static int parse_hhmm(const char *s, uint16_t *min)
{
    int h, m, n = 0;

    if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] != '\0' || h > 24 || m > 59 ||
        (h == 24 && m != 0))
        return -1;
    *min = (uint16_t)(h * 60 + m);
    return 0;
}

/* "2026-11-25T09:00" (local time in the configured zone) to UTC seconds. */
static int parse_datetime(const struct tz *z, const char *s, int64_t *utc)
{
    int y, mo, d, h, mi, n = 0;
    int64_t days;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || s[n] != '\0' ||
        y < 2000 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
        return -1;
    /* Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm. */
    {
        int yy = y - (mo <= 2);
        int era = yy / 400, yoe = yy - era * 400;
        int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        days = (int64_t)era * 146097 + doe - 719468;
    }
    *utc = tz_to_utc(z, days * 86400 + h * 3600 + mi * 60);
    return 0;
}

static void parse_window(struct loader *L, const struct ynode *n, struct config_window *win)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    const struct ynode *start = NULL, *end = NULL;
    size_t i, j;

    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i), *s;
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "name") == 0 || strcmp(k, "ticket") == 0) {
            if ((s = ydoc_string(&L->w, v, k)) == NULL)
                continue;
            if (*s == '\0' || strlen(s) >= sizeof(win->name))
                ydoc_error(&L->w, v, "%s must be 1 to %zu characters", k, sizeof(win->name) - 1);
            else
                strcpy(strcmp(k, "name") == 0 ? win->name : win->ticket, s);
        } else if (strcmp(k, "days") == 0) {
            if (!ydoc_want(&L->w, v, YN_LIST, "days"))
                continue;
            for (j = 0; j < v->n; j++) {
                int d;
                if ((s = ydoc_string(&L->w, v->items[j], "a day")) == NULL)
                    continue;
                for (d = 0; d < 7 && strcasecmp(s, days[d]) != 0; d++)
                    ;
                if (d == 7)
                    ydoc_error(&L->w, v->items[j], "unknown day '%s' (sun, mon, ... sat)", s);
                else
                    win->days |= (uint8_t)(1u << d);
            }
        } else if (strcmp(k, "start") == 0) {
            start = v;
        } else if (strcmp(k, "end") == 0) {
            end = v;
        } else if (strcmp(k, "sources") == 0) {
            config__parse_hostset(L->c, &L->w, v, "sources", &win->sources);
        } else if (strcmp(k, "targets") == 0) {
            config__parse_hostset(L->c, &L->w, v, "targets", &win->targets);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in a maintenance window (name, ticket, days, start, "
                       "end, sources, targets)",
                       k);
        }
    }
    if (win->name[0] == '\0' && win->ticket[0] == '\0')
        ydoc_error(&L->w, n, "a maintenance window needs a name or a ticket");
    if (win->name[0] == '\0')
        strcpy(win->name, win->ticket);
    if (start == NULL || end == NULL) {
        ydoc_error(&L->w, n, "a maintenance window needs start and end");
        return;
    }
    if (ydoc_string(&L->w, start, "start") == NULL || ydoc_string(&L->w, end, "end") == NULL)
        return;
    if (win->days != 0) {
        if (parse_hhmm(start->str, &win->start_min) != 0)
            ydoc_error(&L->w, start, "start of a weekly window must be HH:MM, not '%s'",
                       start->str);
        if (parse_hhmm(end->str, &win->end_min) != 0)
            ydoc_error(&L->w, end, "end of a weekly window must be HH:MM, not '%s'", end->str);
        return;
    }
    if (parse_datetime(L->c->tz, start->str, &win->from_s) != 0)
        ydoc_error(&L->w, start,
                   "start of a one-off window must be YYYY-MM-DDTHH:MM (or give days for a "
                   "weekly one), not '%s'",
                   start->str);
    else if (parse_datetime(L->c->tz, end->str, &win->until_s) != 0)
        ydoc_error(&L->w, end, "end of a one-off window must be YYYY-MM-DDTHH:MM, not '%s'",
                   end->str);
    else if (win->until_s <= win->from_s)
        ydoc_error(&L->w, end, "window ends before it starts");
    if (win->ticket[0] == '\0')
        ydoc_error(&L->w, n, "a one-off window needs the ticket that approved it");
}

void config__parse_maintenance(struct loader *L, const struct ynode *n)
{
    const struct ynode *windows = NULL, *tzn = NULL;
    const char *tz_name = CONFIG_DEFAULT_TIMEZONE;
    size_t i;

    if (n != NULL) {
        if (!ydoc_want(&L->w, n, YN_MAP, "maintenance"))
            return;
        for (i = 0; i < n->n; i++) {
            const char *k = ydoc_key(&L->w, n, i);
            if (k == NULL)
                continue;
            if (strcmp(k, "timezone") == 0)
                tzn = YDOC_VAL(n, i);
            else if (strcmp(k, "windows") == 0)
                windows = YDOC_VAL(n, i);
            else
                ydoc_error(&L->w, YDOC_KEY(n, i),
                           "unknown key 'maintenance.%s' (timezone, windows)", k);
        }
    }
    if (tzn != NULL && (tz_name = ydoc_string(&L->w, tzn, "maintenance.timezone")) == NULL)
        return;
    switch (tz_load(tz_name, &L->c->tz)) {
    case 0:
        break;
    case MM_ENOMEM:
        ydoc_error(&L->w, tzn, "out of memory");
        return;
    default:
        if (tzn == NULL) { /* the system lacks tzdata: Japan has had no DST since 1951 */
            if (tz_load("+09:00", &L->c->tz) != 0)
                L->c->tz = NULL; /* out of memory: no windows */
        } else
            ydoc_error(&L->w, tzn,
                       "unknown time zone '%s' (an Area/City of tzdata, UTC, or +HH:MM)", tz_name);
        if (L->c->tz == NULL)
            return;
    }
    if (windows == NULL || !ydoc_want(&L->w, windows, YN_LIST, "maintenance.windows"))
        return;
    if ((L->c->windows = calloc(windows->n + 1, sizeof(*L->c->windows))) == NULL) {
        ydoc_error(&L->w, windows, "out of memory");
        return;
    }
    for (i = 0; i < windows->n; i++)
        if (ydoc_want(&L->w, windows->items[i], YN_MAP, "a maintenance window"))
            parse_window(L, windows->items[i], &L->c->windows[L->c->nwindows++]);
}

/* until: a date (through its end) or a date and time, in maintenance.timezone. */
static void parse_until(struct loader *L, const struct ynode *vn, struct config_suppress *s)
{
    const char *v = ydoc_string(&L->w, vn, "suppress until");
    char day[32];
    time_t now = time(NULL);

    if (v == NULL)
        return;
    snprintf(day, sizeof(day), "%.10sT23:59", v);
    if (strlen(v) == 10 && parse_datetime(L->c->tz, day, &s->until_s) == 0)
        s->until_s += 60; /* the whole day */
    else if (parse_datetime(L->c->tz, v, &s->until_s) != 0) {
        ydoc_error(&L->w, vn, "suppress until must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, not '%s'", v);
        return;
    }
    if (s->until_s <= (int64_t)now)
        ydoc_warning(&L->w, vn, "suppression ended %s: it no longer applies", v);
}

static void suppress_key(struct loader *L, const struct ynode *e, size_t j,
                         struct config_suppress *s)
{
    const char *k = ydoc_key(&L->w, e, j), *v;
    const struct ynode *vn = YDOC_VAL(e, j);
    uint32_t port;
    int c;

    if (k == NULL)
        return;
    if (strcmp(k, "rule") == 0) {
        if ((v = ydoc_string(&L->w, vn, "suppress rule")) == NULL)
            return;
        if (*v == '\0' || strlen(v) >= sizeof(s->rule))
            ydoc_error(&L->w, vn, "suppress rule must be a rule key");
        else
            strcpy(s->rule, v);
        s->line = vn->line;
        s->col = vn->col;
    } else if (strcmp(k, "category") == 0) {
        if ((v = ydoc_string(&L->w, vn, "suppress category")) == NULL)
            return;
        if ((c = rules_category_lookup(v, 1)) < 0)
            ydoc_error(&L->w, vn, "suppress category '%s' is not an alert category", v);
        else
            s->category = (uint8_t)(c + 1);
    } else if (strcmp(k, "source") == 0) {
        config__parse_hostset(L->c, &L->w, vn, "suppress source", &s->src);
    } else if (strcmp(k, "destination") == 0) {
        config__parse_hostset(L->c, &L->w, vn, "suppress destination", &s->dst);
    } else if (strcmp(k, "port") == 0) {
        if (ydoc_uint(&L->w, vn, "suppress port", 1, 65535, &port))
            s->port = (uint16_t)port;
    } else if (strcmp(k, "until") == 0) {
        parse_until(L, vn, s);
    } else if (strcmp(k, "reason") == 0) {
        if ((v = ydoc_string(&L->w, vn, "suppress reason")) != NULL && *v != '\0')
            s->reason = config__dup(L, vn, v);
    } else {
        ydoc_error(&L->w, YDOC_KEY(e, j),
                   "unknown key '%s' in a suppression (rule, category, source, destination, port, "
                   "until, reason)",
                   k);
    }
}

void config__parse_suppress(struct loader *L, const struct ynode *n)
{
    size_t i, j;

    if (!ydoc_want(&L->w, n, YN_LIST, "suppress"))
        return;
    if ((L->c->suppress = calloc(n->n + 1, sizeof(*L->c->suppress))) == NULL) {
        ydoc_error(&L->w, n, "out of memory");
        return;
    }
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        struct config_suppress *s;
        if (!ydoc_want(&L->w, e, YN_MAP, "a suppression"))
            continue;
        s = &L->c->suppress[L->c->nsuppress++];
        s->line = e->line;
        s->col = e->col;
        for (j = 0; j < e->n; j++)
            suppress_key(L, e, j, s);
        if ((s->rule[0] == '\0') == (s->category == 0))
            ydoc_error(&L->w, e,
                       "a suppression names the rule or the category it silences "
                       "(one of them)");
    }
}

void config__check_suppressions(struct loader *L)
{
    unsigned i;

    for (i = 0; i < L->c->nsuppress; i++) {
        const struct config_suppress *s = &L->c->suppress[i];
        if (s->rule[0] != '\0' && rules_find(L->c->ruleset, s->rule) == NULL)
            ydoc_diag_line(L->w.diag, "%s:%u:%u: suppress names unknown rule '%s'", L->w.file,
                           s->line, s->col, s->rule);
    }
}

/* --- response ------------------------------------------------------------------------------ */

static int action_of(struct loader *L, const struct ynode *v, uint8_t *out)
{
    const char *s = ydoc_string(&L->w, v, "a response action");

    if (s == NULL)
        return 0;
    if (strcmp(s, "alert") == 0)
        *out = RESP_ALERT;
    else if (strcmp(s, "reset") == 0)
        *out = RESP_RESET;
    else if (strcmp(s, "block") == 0)
        *out = RESP_BLOCK;
    else {
        ydoc_error(&L->w, v, "response action must be alert, reset or block, not '%s'", s);
        return 0;
    }
    return 1;
}

static void parse_response_block(struct loader *L, const struct ynode *n)
{
    struct config_response *r = &L->c->response;
    size_t i, j;

    if (!ydoc_want(&L->w, n, YN_MAP, "response.block"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i), *s;
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "durations") == 0) {
            if (!ydoc_want(&L->w, v, YN_LIST, "response.block.durations"))
                continue;
            if (v->n == 0 || v->n > MM_MAX_BLOCK_STEPS) {
                ydoc_error(&L->w, v, "response.block.durations lists 1 to %d durations",
                           MM_MAX_BLOCK_STEPS);
                continue;
            }
            r->nblock_s = 0;
            for (j = 0; j < v->n; j++)
                if (ydoc_duration(&L->w, v->items[j], "a block duration", &r->block_s[r->nblock_s]))
                    r->nblock_s++;
        } else if (strcmp(k, "file") == 0 || strcmp(k, "command") == 0) {
            char **dst = k[0] == 'f' ? &r->block_file : &r->block_command;
            if ((s = ydoc_string(&L->w, v,
                                 k[0] == 'f' ? "response.block.file" : "response.block.command")) ==
                NULL)
                continue;
            if (s[0] != '/')
                ydoc_error(&L->w, v, "response.block.%s must be an absolute path", k);
            free(*dst);
            *dst = config__dup(L, v, s);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in response.block (durations, file, command)", k);
        }
    }
}

/*
 * response: (after the rules, whose keys response.actions may name). Defaults: dry run, the
 * medical_devices and emr zones protected, 30 responses a minute, blocks of 10 min, 1 h, 24 h.
 */
void config__parse_response(struct loader *L, const struct ynode *n)
{
    struct config_response *r = &L->c->response;
    size_t i, j;

    r->max_per_minute = 30;
    r->block_s[0] = 600, r->block_s[1] = 3600, r->block_s[2] = 86400;
    r->nblock_s = 3;
    r->protect.zones = (zone_set)1 << config_zone_index(L->c, "medical_devices") |
                       (zone_set)1 << config_zone_index(L->c, "emr");
    if (n == NULL || !ydoc_want(&L->w, n, YN_MAP, "response"))
        return;
    for (i = 0; i < n->n; i++) {
        const char *k = ydoc_key(&L->w, n, i), *s;
        const struct ynode *v = YDOC_VAL(n, i);
        if (k == NULL)
            continue;
        if (strcmp(k, "mode") == 0) {
            if ((s = ydoc_string(&L->w, v, "response.mode")) == NULL)
                continue;
            if (strcmp(s, "enforce") == 0)
                r->enforce = 1;
            else if (strcmp(s, "dry_run") == 0)
                r->enforce = 0;
            else
                ydoc_error(&L->w, v, "response.mode must be dry_run or enforce, not '%s'", s);
        } else if (strcmp(k, "interface") == 0) {
            if ((s = ydoc_string(&L->w, v, "response.interface")) != NULL) {
                free(r->interface);
                r->interface = config__dup(L, v, s);
            }
        } else if (strcmp(k, "protected") == 0) {
            r->protect.zones = 0;
            config__parse_hostset(L->c, &L->w, v, "response.protected", &r->protect);
        } else if (strcmp(k, "max_per_minute") == 0) {
            ydoc_uint(&L->w, v, "response.max_per_minute", 1, 100000, &r->max_per_minute);
        } else if (strcmp(k, "actions") == 0) {
            if (!ydoc_want(&L->w, v, YN_MAP, "response.actions"))
                continue;
            free(r->actions);
            r->nactions = 0;
            if ((r->actions = calloc(v->n + 1, sizeof(*r->actions))) == NULL) {
                ydoc_error(&L->w, v, "out of memory");
                continue;
            }
            for (j = 0; j < v->n; j++) {
                const char *name = ydoc_key(&L->w, v, j);
                struct config_response_action *a = &r->actions[r->nactions];
                if (name == NULL)
                    continue;
                if (strlen(name) >= sizeof(a->name)) {
                    ydoc_error(&L->w, YDOC_KEY(v, j), "response.actions: name too long");
                    continue;
                }
                if (!action_of(L, YDOC_VAL(v, j), &a->action))
                    continue;
                strcpy(a->name, name);
                a->line = YDOC_KEY(v, j)->line; /* checked against the rules once loaded */
                a->col = YDOC_KEY(v, j)->col;
                r->nactions++;
            }
        } else if (strcmp(k, "block") == 0) {
            parse_response_block(L, v);
        } else {
            ydoc_error(&L->w, YDOC_KEY(n, i),
                       "unknown key '%s' in response (mode, interface, protected, "
                       "max_per_minute, actions, block)",
                       k);
        }
    }
}

/* Each response.actions name must be a category or a rule key of the loaded ruleset. */
void config__check_response_actions(struct loader *L)
{
    const struct config_response *r = &L->c->response;
    unsigned i;

    for (i = 0; i < r->nactions; i++) {
        const struct config_response_action *a = &r->actions[i];
        if (rules_category_lookup(a->name, 0) < 0 && rules_find(L->c->ruleset, a->name) == NULL)
            ydoc_diag_line(L->w.diag,
                           "%s:%u:%u: response.actions: '%s' is neither a rule key nor a category",
                           L->w.file, a->line, a->col, a->name);
    }
}
