/*
 * mimamori-alerts: the first thing to run on call. Reads EVE files (or standard input), keeps
 * the alerts the filters let through, groups them into incidents and prints them most severe
 * first, newest first within a severity, in Japanese or English; --json gives one object per
 * incident for scripts; --follow keeps reading a live file and prints alerts as they arrive.
 * Exit codes: 0 success, 1 an input could not be read, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alerts_view.h"

#define MAX_INPUTS 256

struct input {
    const char *path; /* NULL: standard input */
    FILE *f;
    ino_t ino;
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mimamori-alerts [options] [EVE ...]\n"
                "Alerts of EVE files (standard input without one, or '-') grouped into incidents.\n"
                "  --since TIME       alerts from TIME: 2026-11-24, '2026-11-24 21:00', or 2h, "
                "30m, 7d ago\n"
                "  --until TIME       alerts before TIME\n"
                "  --severity N       severity N or higher only (1 high, 2 medium, 3 low)\n"
                "  --zone ZONE        alerts with either end in ZONE\n"
                "  --host HOST        alerts with either end HOST (address or device name)\n"
                "  --rule RULE        a rule key (or its file's prefix: lateral), id or category\n"
                "  --window SPAN      longest gap inside one incident (default 30m)\n"
                "  --inventory FILE   device names from mimamori --inventory output\n"
                "  --lang ja|en       language of the view (default ja)\n"
                "  --all              every alert line of every incident (default: 10 each)\n"
                "  --json             one JSON object per incident\n"
                "  -f, --follow       keep reading the files and print alerts as they arrive\n"
                "                     (with --json: one object per alert, with its incident)\n"
                "  -h, --help         this text\n");
}

static int open_input(struct input *in)
{
    struct stat st;

    if (in->path == NULL) {
        in->f = stdin;
        return 0;
    }
    if ((in->f = fopen(in->path, "r")) == NULL) {
        fprintf(stderr, "mimamori-alerts: %s: %s\n", in->path, strerror(errno));
        return -1;
    }
    in->ino = fstat(fileno(in->f), &st) == 0 ? st.st_ino : 0;
    return 0;
}

/* A file moved away by logrotate or truncated: start on the one now at the path. */
static void reopen_if_rotated(struct input *in)
{
    struct stat st;
    off_t at = ftello(in->f);

    if (in->path == NULL || stat(in->path, &st) != 0)
        return;
    if (st.st_ino == in->ino && st.st_size >= at)
        return;
    if (st.st_ino == in->ino) {
        fseeko(in->f, 0, SEEK_SET);
        return;
    }
    fclose(in->f);
    if (open_input(in) < 0)
        in->f = fopen("/dev/null", "r");
}

/* Everything an input holds now; a file is read by as many parsers as there are CPUs, and
 * kept open, positioned after what was read, to be followed. */
static int read_input(struct triage *t, struct input *in, int keep_open)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    off_t end = 0;
    char err[512];

    if (in->path == NULL) {
        if (triage_read(t, stdin, NULL, NULL) == 0)
            return 0;
        fprintf(stderr, "mimamori-alerts: standard input: %s\n", strerror(errno));
        return 1;
    }
    if (triage_read_path(t, in->path, cpus > 0 ? (unsigned)cpus : 1, &end, err, sizeof(err)) < 0) {
        fprintf(stderr, "mimamori-alerts: %s\n", err);
        return 1;
    }
    if (keep_open && (open_input(in) < 0 || fseeko(in->f, end, SEEK_SET) != 0))
        return 1;
    return 0;
}

static int follow(const struct alerts_view *v, struct triage *t, struct input *in, size_t n)
{
    unsigned seen_id = (unsigned)triage_incidents(t);
    const struct timespec pause = {0, 500 * 1000 * 1000};

    for (;;) {
        size_t before = triage_alerts(t), i;
        for (i = 0; i < n; i++) {
            reopen_if_rotated(&in[i]);
            clearerr(in[i].f);
            if (triage_read(t, in[i].f, NULL, NULL) < 0)
                return 1;
        }
        if (triage_group_more(t) < 0)
            return 1;
        for (i = before; i < triage_alerts(t); i++) {
            unsigned id = triage_incident_of(t, i)->id;
            alerts_view_arrival(v, t, i, id > seen_id);
            seen_id = id > seen_id ? id : seen_id;
        }
        if (n == 1 && in[0].path == NULL && feof(stdin))
            return 0;
        nanosleep(&pause, NULL);
    }
}

static int parse_args(int argc, char **argv, struct triage_filter *flt, struct alerts_view *v,
                      int64_t *window, const char **inventory, int *json, int *follow_)
{
    static const struct option opts[] = {{"since", 1, 0, 'S'},    {"until", 1, 0, 'U'},
                                         {"severity", 1, 0, 's'}, {"zone", 1, 0, 'z'},
                                         {"host", 1, 0, 'H'},     {"rule", 1, 0, 'r'},
                                         {"window", 1, 0, 'w'},   {"inventory", 1, 0, 'I'},
                                         {"lang", 1, 0, 'l'},     {"all", 0, 0, 'a'},
                                         {"json", 0, 0, 'j'},     {"follow", 0, 0, 'f'},
                                         {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    int64_t now = (int64_t)time(NULL) * 1000000;
    int c;

    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case 'S':
            bad = triage_parse_time(optarg, now, &flt->since_us) < 0 ? "--since" : NULL;
            break;
        case 'U':
            bad = triage_parse_time(optarg, now, &flt->until_us) < 0 ? "--until" : NULL;
            break;
        case 's':
            flt->severity = atoi(optarg);
            bad = flt->severity < 1 || flt->severity > 3 || optarg[1] ? "--severity" : NULL;
            break;
        case 'w':
            bad = triage_parse_span(optarg, window) < 0 || *window <= 0 ? "--window" : NULL;
            break;
        case 'l':
            v->lang = strcmp(optarg, "en") == 0 ? TRIAGE_EN : TRIAGE_JA;
            bad = strcmp(optarg, "en") != 0 && strcmp(optarg, "ja") != 0 ? "--lang" : NULL;
            break;
        case 'z':
            flt->zone = optarg;
            break;
        case 'H':
            flt->host = optarg;
            break;
        case 'r':
            flt->rule = optarg;
            break;
        case 'I':
            *inventory = optarg;
            break;
        case 'a':
            v->max_lines = 0;
            break;
        case 'j':
            *json = 1;
            break;
        case 'f':
            *follow_ = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
        if (bad != NULL) {
            fprintf(stderr, "mimamori-alerts: %s: cannot use '%s'\n", bad, optarg);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct alerts_view v = {stdout, TRIAGE_JA, 0, 10, 0};
    struct triage_filter flt = {0};
    struct input in[MAX_INPUTS];
    const char *inventory = NULL, *nc = getenv("NO_COLOR");
    int64_t window = TRIAGE_WINDOW_US;
    int json = 0, follow_ = 0, rc = 0;
    size_t n = 0, i;
    struct triage *t;
    char err[512];

    if ((rc = parse_args(argc, argv, &flt, &v, &window, &inventory, &json, &follow_)) != 0)
        return rc;
    v.json = json;
    v.color = !json && isatty(fileno(stdout)) && (nc == NULL || nc[0] == '\0');
    for (i = (size_t)optind; i < (size_t)argc && n < MAX_INPUTS; i++)
        in[n++] = (struct input){strcmp(argv[i], "-") == 0 ? NULL : argv[i], NULL, 0};
    if (n == 0)
        in[n++] = (struct input){NULL, NULL, 0};
    if (triage_create(&t) < 0)
        return 1;
    triage_set_filter(t, &flt);
    if (inventory != NULL && triage_load_names(t, inventory, NULL, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "mimamori-alerts: %s\n", err);
        triage_destroy(t);
        return 1;
    }
    for (i = 0; i < n && rc == 0; i++)
        rc = read_input(t, &in[i], follow_);
    if (rc == 0 && triage_group(t, window) < 0)
        rc = 1;
    if (rc == 0 && triage_bad_lines(t) > 0)
        fprintf(stderr, "mimamori-alerts: %zu line%s not EVE JSON alerts, skipped\n",
                triage_bad_lines(t), triage_bad_lines(t) == 1 ? " was" : "s were");
    if (rc == 0 && triage_partial(t) && !follow_)
        fprintf(stderr, "mimamori-alerts: the last line is incomplete (still being written?) "
                        "and was skipped\n");
    if (rc == 0 && !json)
        alerts_view_summary(&v, t);
    for (i = 0; rc == 0 && i < triage_incidents(t); i++)
        (json ? alerts_view_json : alerts_view_incident)(&v, t, triage_incident_at(t, i));
    if (rc == 0 && follow_) {
        fflush(stdout);
        rc = follow(&v, t, in, n);
    }
    for (i = 0; i < n; i++)
        if (in[i].f != NULL && in[i].f != stdin)
            fclose(in[i].f);
    triage_destroy(t);
    return rc;
}
