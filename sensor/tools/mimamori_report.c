/*
 * mimamori-report: the period's report as one HTML file, for the hospital's management, the
 * security officer (安全管理責任者) and on-site inspections. Reads EVE files (standard input
 * without one) and, with --inventory, the inventory and connections files; writes OUT.html
 * through a temporary file, so a reader never sees half a report.
 * Exit codes: 0 success, 1 an input could not be read or the report not written, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mimamori/report.h"

#define MAX_INVENTORIES 8

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mimamori-report -o OUT.html [--from DATE] [--to DATE] [--lang ja|en]\n"
                "                       [--inventory FILE ...] [--window SPAN] EVE ...\n"
                "  -o, --output FILE  the report (one self-contained HTML file)\n"
                "  --from DATE        first day or time (2026-11-01, '2026-11-01 08:00')\n"
                "  --to DATE          last day (a date: through its end) or time (before it)\n"
                "  --lang ja|en       language (default ja)\n"
                "  --inventory FILE   mimamori --inventory or --connections output (repeatable)\n"
                "  --window SPAN      longest gap inside one incident (default 30m)\n");
}

/* --to 2026-11-30 means the whole of that day. */
static int parse_to(const char *s, int64_t now, int64_t *out)
{
    if (triage_parse_time(s, now, out) < 0)
        return -1;
    if (strlen(s) == 10)
        *out += 86400 * 1000000LL;
    return 0;
}

static int parse_args(int argc, char **argv, struct report_options *o, const char **output,
                      const char **inv, size_t *ninv)
{
    static const struct option opts[] = {
        {"output", 1, 0, 'o'},    {"from", 1, 0, 'F'},   {"to", 1, 0, 'T'},   {"lang", 1, 0, 'l'},
        {"inventory", 1, 0, 'I'}, {"window", 1, 0, 'w'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case 'o':
            *output = optarg;
            break;
        case 'F':
            bad = triage_parse_time(optarg, o->now_us, &o->from_us) < 0 ? "--from" : NULL;
            break;
        case 'T':
            bad = parse_to(optarg, o->now_us, &o->to_us) < 0 ? "--to" : NULL;
            break;
        case 'l':
            o->lang = strcmp(optarg, "en") == 0 ? TRIAGE_EN : TRIAGE_JA;
            bad = strcmp(optarg, "en") != 0 && strcmp(optarg, "ja") != 0 ? "--lang" : NULL;
            break;
        case 'I':
            if (*ninv == MAX_INVENTORIES)
                bad = "--inventory (too many)";
            else
                inv[(*ninv)++] = optarg;
            break;
        case 'w':
            bad = triage_parse_span(optarg, &o->window_us) < 0 ? "--window" : NULL;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
        if (bad != NULL) {
            fprintf(stderr, "mimamori-report: %s: cannot use '%s'\n", bad, optarg);
            return 2;
        }
    }
    if (*output == NULL || (o->from_us && o->to_us && o->to_us <= o->from_us)) {
        fprintf(stderr, "mimamori-report: %s\n",
                *output == NULL ? "-o OUT.html is needed" : "--to must be after --from");
        return 2;
    }
    return 0;
}

static int read_eve(struct report *r, const char *path)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char err[512];

    if (strcmp(path, "-") == 0) {
        if (report_read(r, stdin) == 0)
            return 0;
        fprintf(stderr, "mimamori-report: standard input: read error\n");
        return 1;
    }
    if (report_read_path(r, path, cpus > 0 ? (unsigned)cpus : 1, err, sizeof(err)) < 0) {
        fprintf(stderr, "mimamori-report: %s\n", err);
        return 1;
    }
    return 0;
}

static int write_out(struct report *r, const char *path)
{
    char tmp[4096];
    FILE *f;
    int rc;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((f = fopen(tmp, "w")) == NULL) {
        fprintf(stderr, "mimamori-report: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    rc = report_write(r, f);
    if (fclose(f) != 0 || rc < 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "mimamori-report: %s: %s\n", path,
                rc == MM_ENOMEM ? "out of memory" : strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct report_options o = {TRIAGE_JA, 0, 0, 0, (int64_t)time(NULL) * 1000000};
    const char *output = NULL, *inv[MAX_INVENTORIES];
    size_t ninv = 0, i;
    struct report *r;
    char err[512];
    int rc;

    if ((rc = parse_args(argc, argv, &o, &output, inv, &ninv)) != 0)
        return rc;
    if (report_create(&r, &o) < 0)
        return 1;
    for (i = 0; i < ninv && rc == 0; i++)
        if (report_read_inventory(r, inv[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "mimamori-report: %s\n", err);
            rc = 1;
        }
    if (optind == argc && rc == 0)
        rc = read_eve(r, "-");
    for (i = (size_t)optind; i < (size_t)argc && rc == 0; i++)
        rc = read_eve(r, argv[i]);
    if (rc == 0 && report_bad_lines(r) > 0)
        fprintf(stderr, "mimamori-report: %zu line%s not EVE events, skipped\n",
                report_bad_lines(r), report_bad_lines(r) == 1 ? " was" : "s were");
    if (rc == 0)
        rc = write_out(r, output);
    report_destroy(r);
    return rc;
}
