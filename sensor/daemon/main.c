/*
 * The mimamori command: parse the command line (README.md, "Command line"), load the site
 * config (or the embedded default), open the packet source and the EVE outputs, and run packets
 * through the engine until the input ends or SIGINT/SIGTERM arrives; then write every flow out.
 * Exit codes: 0 success, 1 bad configuration or input, 2 usage error.
 */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mimamori/capture.h"
#include "mimamori/config.h"
#include "mimamori/engine.h"
#include "mimamori/error.h"
#include "mimamori/eve.h"
#include "mimamori/log.h"
#include "mimamori/notify.h"
#include "mimamori/output.h"
#include "mimamori/privs.h"
#include "mimamori/rules.h"

#include "records.h"
#include "reload.h"

#define DEFAULT_EVE_PATH MM_EVE_PATH /* under the configured prefix (CMakeLists.txt) */
#define MAX_FILES        1024

/* Set by signal handlers, read by every worker: lock-free atomics, safe in both places. */
static atomic_int stop_requested, hup_requested;
static struct capture *running_capture;
static struct output *running_output;

/* A packet worker after the first, on its own thread with its own handles. */
struct worker_thread {
    pthread_t tid;
    struct engine *eng;
    struct capture *cap;
    unsigned id;
    int started, failed;
};

/* SIGHUP: reopen the output files (logrotate). */
static void on_hup(int sig)
{
    (void)sig;
    hup_requested = 1;
    /* The files are reopened at once, not when the next packet comes by: an idle input (a
     * quiet pipe read with -r -) would otherwise keep writing into the moved file. */
    if (running_output != NULL)
        output_reopen(running_output);
}

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
    capture_break(running_capture);
}

static void usage(FILE *fp)
{
    fprintf(
        fp,
        "usage: mimamori [-c CONFIG] (-r CAPTURE [-r CAPTURE ...] | -i INTERFACE [-i ...])\n"
        "                [--eve PATH] [--inventory PATH] [--inventory-csv PATH]\n"
        "                [--connections PATH] [--connections-csv PATH] [--propose-config PATH]\n"
        "                [--test-config] [-v]\n"
        "       mimamori --version\n");
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_packet(void *ud, const struct capture_pkt *pkt)
{
    const struct worker_thread *t = ud;

    engine_packet(t->eng, t->id, pkt);
}

static void *worker_main(void *arg)
{
    struct worker_thread *t = arg;
    char errbuf[CAPTURE_ERRBUF_SIZE], name[16]; /* a thread name holds 15 characters */

    snprintf(name, sizeof(name), "mm-worker%u", t->id); /* top -H, ps -L, gdb */
    prctl(PR_SET_NAME, name, 0, 0, 0);
    while (!stop_requested) {
        int r = capture_dispatch(t->cap, on_packet, t, errbuf, sizeof(errbuf));
        if (r == MM_ECAPTURE) {
            log_warnx("worker %u: %s", t->id, errbuf);
            t->failed = 1;
            stop_requested = 1; /* the others, and the main thread, stop too */
            break;
        }
        if (r == MM_EEOF)
            break;
        engine_worker_tick(t->eng, t->id, wall_us());
    }
    engine_worker_done(t->eng, t->id);
    return NULL;
}

/*
 * Several workers: the first worker's handles (cap) create the kernel fanout groups, and each
 * further worker opens the interfaces again and joins them, before privileges are dropped.
 */
static int open_workers(struct capture *cap, struct worker_thread *wt, unsigned nworkers,
                        const char *const *ifaces, unsigned nifaces, const struct mm_config *cfg,
                        char *err, size_t errlen)
{
    struct capture_live_config lc = cfg->live;
    unsigned i;

    if (capture_join_workers(cap, NULL, err, errlen) != 0)
        return -1;
    lc.hold = 1;
    for (i = 1; i < nworkers; i++) {
        wt[i].id = i;
        if (capture_open_live(&wt[i].cap, ifaces, nifaces, &lc, err, errlen) != 0 ||
            capture_join_workers(wt[i].cap, cap, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Start the workers after the first; signals stay with the main thread. */
static int start_workers(struct worker_thread *wt, unsigned nworkers, struct engine *eng)
{
    sigset_t all, old;
    unsigned i;
    int r = 0;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (i = 1; i < nworkers && r == 0; i++) {
        wt[i].eng = eng;
        engine_attach(eng, i, wt[i].cap);
        if ((r = pthread_create(&wt[i].tid, NULL, worker_main, &wt[i])) == 0)
            wt[i].started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r == 0 ? 0 : -1;
}

static int load_config(const char *path, struct mm_config **cfg, unsigned *nerr)
{
    struct config_diag *diag = calloc(1, sizeof(*diag));
    unsigned i;
    int r;

    if (diag == NULL)
        fatalx("out of memory");
    if (path == NULL && access(MM_SYSCONF_FILE, F_OK) == 0)
        path = MM_SYSCONF_FILE;
    r = path ? config_load_file(path, cfg, diag) : config_load_default(cfg, diag);
    for (i = 0; i < diag->count && i < CONFIG_MAX_DIAGS; i++)
        fprintf(stderr, "%s\n", diag->msg[i]);
    for (i = 0; i < diag->nwarn && i < CONFIG_MAX_WARNS; i++)
        fprintf(stderr, "%s\n", diag->warn[i]);
    if (diag->count > CONFIG_MAX_DIAGS)
        fprintf(stderr, "%s: %u more errors not shown\n", path ? path : "(embedded default)",
                diag->count - CONFIG_MAX_DIAGS);
    if (nerr != NULL)
        *nerr = diag->count;
    if (r == MM_ENOMEM)
        log_warnx("out of memory loading the configuration");
    if (r == 0 && (*cfg)->nfeeds > 0)
        log_info("intel: %zu indicators from %u feeds (%zu expired, %zu skipped), %.1f MB",
                 (*cfg)->intel_count, (*cfg)->nfeeds, (*cfg)->intel_expired, (*cfg)->intel_skipped,
                 (double)(*cfg)->intel_bytes / 1e6);
    free(diag);
    return r;
}

/*
 * A reload's snapshot, loaded on the reloader's thread (SIGHUP, a changed feed): switched to
 * only when it loaded cleanly; otherwise the running one stays, and the errors are counted.
 */
static void reload(struct mm_config **cfg, struct mm_config *next, unsigned nerr,
                   struct engine *eng)
{
    if (next != NULL && engine_reload(eng, next, wall_us()) == 0) {
        reloader_retire(*cfg);
        *cfg = next;
        log_info("configuration reloaded from %s (%u rules)", next->source,
                 next->ruleset ? next->ruleset->n : 0);
        notify_status("configuration reloaded");
        return;
    }
    config_free(next);
    engine_reload_failed(eng, nerr > 0 ? nerr : 1);
    log_warnx("reload failed (%u errors): keeping the running configuration", nerr);
    notify_status("reload failed: running configuration kept");
}

/*
 * Drop to sensor.user (root only when the config says so), with no capabilities left; first,
 * as root, make the spool directory and the block list's directory the user's (made by the
 * sensor, or the user's already: an existing directory of anyone else is refused).
 */
static int become_user(const struct mm_config *cfg, const struct privs_owner *own,
                       struct output *out, char *err, size_t len)
{
    char why[512];

    if (geteuid() == 0 && output_give_spool(out, own, why, sizeof(why)) != 0) {
        snprintf(err, len, "spool directory: %.400s", why);
        return -1;
    }
    if (geteuid() == 0 && cfg->response.enforce && cfg->response.block_file != NULL) {
        /* The block list is replaced by rename: its directory must be the sensor's. */
        char dir[1024];
        char *slash;
        snprintf(dir, sizeof(dir), "%s", cfg->response.block_file);
        if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
            *slash = '\0';
        if (privs_make_dir(dir, 0755, own, why, sizeof(why)) != 0) {
            snprintf(err, len, "block list directory: %.400s", why);
            return -1;
        }
    }
    if (privs_drop(own->uid, own->gid, err, len) != 0)
        return -1;
    log_info("running as %s (uid %u, gid %u) without capabilities", cfg->user, (unsigned)own->uid,
             (unsigned)own->gid);
    return 0;
}

/* What the command line asked for. */
struct args {
    const char *config_path, *eve_path, *inventory_path, *inventory_csv, *connections_path;
    const char *connections_csv, *propose_path;
    char *files[MAX_FILES];
    unsigned nfiles;
    const char *ifaces[MM_MAX_IFACES];
    unsigned nifaces;
    int test_config, verbose;
    int ifaces_given; /* by -i, not from the config */
};

/* One run: what main() opened, closed in reverse by sensor_close(). */
struct sensor {
    struct args a;
    struct mm_config *cfg;
    struct capture *cap;
    struct eve *eve;
    struct output *out;
    struct engine *eng;
    struct records rec; /* the inventory and what else is kept beside events */
    struct reloader rl; /* SIGHUP's loads, off the capture thread */
    struct worker_thread wt[MM_MAX_WORKERS];
    unsigned nworkers;
    struct privs_owner own;
    char ifstore[MM_MAX_IFACES][64];
    char instance[OUTPUT_MAX_INSTANCE], default_eve[PATH_MAX];
    char errbuf[CAPTURE_ERRBUF_SIZE];
};

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        {"eve", required_argument, NULL, 'E'},
        {"test-config", no_argument, NULL, 'T'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"config", required_argument, NULL, 'c'},
        {"inventory", required_argument, NULL, 'I'},
        {"inventory-csv", required_argument, NULL, 'C'},
        {"connections", required_argument, NULL, 'X'},
        {"connections-csv", required_argument, NULL, 'Y'},
        {"propose-config", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "c:r:i:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->config_path = optarg;
            break;
        case 'r':
            if (a->nfiles == MAX_FILES) {
                log_warnx("at most %d capture files", MAX_FILES);
                return 2;
            }
            a->files[a->nfiles++] = optarg;
            break;
        case 'i':
            if (a->nifaces == MM_MAX_IFACES) {
                log_warnx("at most %u interfaces", MM_MAX_IFACES);
                return 2;
            }
            a->ifaces[a->nifaces++] = optarg;
            break;
        case 'E':
            a->eve_path = optarg;
            break;
        case 'I':
            a->inventory_path = optarg;
            break;
        case 'C':
            a->inventory_csv = optarg;
            break;
        case 'X':
            a->connections_path = optarg;
            break;
        case 'Y':
            a->connections_csv = optarg;
            break;
        case 'P':
            a->propose_path = optarg;
            break;
        case 'T':
            a->test_config = 1;
            break;
        case 'v':
            a->verbose++;
            break;
        case 'V':
            printf("mimamori %s\n", MM_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || (a->nfiles > 0 && a->nifaces > 0)) {
        usage(stderr);
        return 2;
    }
    a->ifaces_given = a->nifaces > 0;
    return -1;
}

/* --test-config: the paths the config names are checked too; the exit code. */
static int test_config(struct mm_config *cfg)
{
    struct config_diag *diag = calloc(1, sizeof(*diag));
    unsigned i;
    int r = 0;

    if (diag == NULL || config_check_paths(cfg, diag) != 0) {
        for (i = 0; diag != NULL && i < diag->count && i < CONFIG_MAX_DIAGS; i++)
            fprintf(stderr, "%s\n", diag->msg[i]);
        r = 1;
    } else {
        printf("%s: configuration OK (%u zones, %u rules, %u maintenance windows, %u "
               "suppressions, %u DICOM AE titles, %u HL7 applications)\n",
               cfg->source, cfg->nconfigured, cfg->ruleset ? cfg->ruleset->n : 0, cfg->nwindows,
               cfg->nsuppress, cfg->ndicom_aes, cfg->nhl7_apps);
        if (cfg->nfeeds > 0)
            printf("%s: %zu indicators from %u intel feeds (%zu expired, %zu skipped, %zu "
                   "duplicates), %.1f MB\n",
                   cfg->source, cfg->intel_count, cfg->nfeeds, cfg->intel_expired,
                   cfg->intel_skipped, cfg->intel_duplicates, (double)cfg->intel_bytes / 1e6);
    }
    free(diag);
    return r;
}

/* Without -r or -i, the config's interfaces; 0, or 2 when there is nothing to read. */
static int pick_inputs(struct sensor *s)
{
    struct args *a = &s->a;
    unsigned i;

    /* Copied: the names must outlive a reload, which frees the config they came from. */
    for (i = 0; a->nfiles == 0 && a->nifaces == 0 && i < s->cfg->ninterfaces; i++) {
        snprintf(s->ifstore[i], sizeof(s->ifstore[i]), "%s", s->cfg->interfaces[i]);
        a->ifaces[i] = s->ifstore[i];
    }
    if (a->nfiles == 0 && a->nifaces == 0)
        a->nifaces = s->cfg->ninterfaces;
    if (a->nfiles == 0 && a->nifaces == 0) {
        log_warnx("nothing to read: give -r CAPTURE or -i INTERFACE (or sensor.interface in "
                  "the config)");
        usage(stderr);
        return 2;
    }
    return 0;
}

/* The packet source, each worker's handles, and the interface resets go out of. */
static int open_capture(struct sensor *s)
{
    const struct args *a = &s->a;
    int r;

    s->nworkers = 1;
    if (a->nifaces > 0)
        s->nworkers = s->cfg->workers;
    else if (s->cfg->workers > 1)
        log_info("reading files: one worker (sensor.workers is for live capture)");
    r = a->nfiles > 0
            ? capture_open_files(&s->cap, a->files, a->nfiles, s->errbuf, sizeof(s->errbuf))
            : capture_open_live(&s->cap, a->ifaces, a->nifaces, &s->cfg->live, s->errbuf,
                                sizeof(s->errbuf));
    if (r == 0 && s->nworkers > 1 &&
        open_workers(s->cap, s->wt, s->nworkers, a->ifaces, a->nifaces, s->cfg, s->errbuf,
                     sizeof(s->errbuf)) != 0)
        r = MM_ECAPTURE;
    /* Resets go out of their own interface if the site has one; opened while we may. */
    if (r == 0 && a->nifaces > 0 && s->cfg->response.enforce &&
        s->cfg->response.interface != NULL &&
        capture_open_inject(s->cap, s->cfg->response.interface, s->errbuf, sizeof(s->errbuf)) != 0)
        r = MM_ECAPTURE;
    if (r != 0)
        log_warnx("%s", s->errbuf);
    return r;
}

/*
 * The instance, which names its spools (and, for mimamori@IFACE, its default EVE file): its
 * interfaces joined with '+', or "read" for files. Without --eve and outputs:, everything goes
 * to the default file: eve.json, or with interfaces given by -i (one instance among several),
 * eve-INSTANCE.json.
 */
static void name_instance(struct sensor *s)
{
    struct args *a = &s->a;
    char ifnames[128];
    unsigned i;

    snprintf(ifnames, sizeof(ifnames), "%s", a->nifaces > 0 ? "" : "read");
    for (i = 0; i < a->nifaces; i++)
        snprintf(ifnames + strlen(ifnames), sizeof(ifnames) - strlen(ifnames), "%s%s",
                 i > 0 ? "+" : "", a->ifaces[i]);
    output_instance_name(s->instance, sizeof(s->instance), ifnames);
    if (a->eve_path == NULL && s->cfg->noutputs == 0 && !a->ifaces_given)
        a->eve_path = DEFAULT_EVE_PATH;
    if (a->eve_path == NULL && s->cfg->noutputs == 0) {
        snprintf(s->default_eve, sizeof(s->default_eve), "%s/eve-%s.json", MM_LOG_DIR, s->instance);
        a->eve_path = s->default_eve;
    }
}

/*
 * The outputs and the engine; a live sensor then becomes sensor.user, with everything that
 * needed privileges open, and takes its instance's spool lock before the output thread starts.
 */
static int open_outputs(struct sensor *s)
{
    const struct args *a = &s->a;
    int live = a->nifaces > 0;

    name_instance(s);
    if (live && privs_lookup(s->cfg->user, s->cfg->group, &s->own.uid, &s->own.gid, s->errbuf,
                             sizeof(s->errbuf)) != 0)
        goto fail;
    if (output_open(&s->out, s->cfg, a->eve_path, live, s->instance, live ? &s->own : NULL,
                    s->errbuf, sizeof(s->errbuf)) != 0)
        goto fail;
    if (eve_create(&s->eve, s->out) != 0 ||
        engine_create(&s->eng, s->cfg, s->eve, a->ifaces, a->nifaces, s->nworkers) != 0) {
        snprintf(s->errbuf, sizeof(s->errbuf), "out of memory setting up the engine");
        goto fail;
    }
    engine_attach(s->eng, 0, s->cap);
    s->rec.inventory_path = a->inventory_path;
    s->rec.inventory_csv = a->inventory_csv;
    s->rec.connections_path = a->connections_path;
    s->rec.connections_csv = a->connections_csv;
    s->rec.propose_path = a->propose_path;
    if (records_open(&s->rec, s->cfg, s->eng, s->eve, a->ifaces_given ? s->instance : NULL,
                     s->errbuf, sizeof(s->errbuf)) != 0)
        goto fail;
    if (live && become_user(s->cfg, &s->own, s->out, s->errbuf, sizeof(s->errbuf)) != 0)
        goto fail;
    /* One process per instance's spools: a second mimamori@eth1 stops here. */
    if (live && output_lock(s->out, s->errbuf, sizeof(s->errbuf)) != 0)
        goto fail;
    if (output_start(s->out) != 0) {
        snprintf(s->errbuf, sizeof(s->errbuf), "cannot start the output thread");
        goto fail;
    }
    return 0;
fail:
    log_warnx("%s", s->errbuf);
    return -1;
}

static void set_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART; /* a reopen request must not break a blocking read */
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Tells systemd the sensor is ready; the watchdog interval (0: none). */
static uint64_t say_ready(struct sensor *s)
{
    char ifnames[128] = "", st[200];
    unsigned i;

    for (i = 0; i < s->a.nifaces; i++)
        snprintf(ifnames + strlen(ifnames), sizeof(ifnames) - strlen(ifnames), "%s%s",
                 i > 0 ? ", " : "", s->a.ifaces[i]);
    engine_tick(s->eng, wall_us());
    if (s->nworkers > 1)
        snprintf(st, sizeof(st), "capturing on %s, %u workers", ifnames, s->nworkers);
    else
        snprintf(st, sizeof(st), "capturing on %s", ifnames);
    notify_ready(st);
    return notify_watchdog_usec() / 2;
}

/*
 * Stopping live: what the kernel holds already was sent before the stop and is read first
 * (for at most half a second: a mirror port never goes quiet by itself).
 */
static void drain(struct sensor *s)
{
    uint64_t until = wall_us() + 500000;
    int r, breaks = 0;

    while (wall_us() < until) {
        r = capture_dispatch(s->cap, on_packet, &s->wt[0], s->errbuf, sizeof(s->errbuf));
        if (r == MM_EEOF && breaks++ == 0)
            continue; /* the stop's own break, taken once */
        if (r <= 0)
            break;
    }
}

/* The first worker's loop, on the main thread, until the input ends or a signal stops it. */
static int run(struct sensor *s)
{
    struct mm_config *next;
    unsigned nerr;
    int live = s->a.nifaces > 0, status = 0, r;
    uint64_t watchdog_us = live ? say_ready(s) : 0, next_ping_us = wall_us() + watchdog_us;

    s->wt[0].eng = s->eng;
    s->wt[0].cap = s->cap;
    reloader_init(&s->rl, s->a.config_path, load_config);
    while (!stop_requested) {
        r = capture_dispatch(s->cap, on_packet, &s->wt[0], s->errbuf, sizeof(s->errbuf));
        if (r == MM_EEOF)
            break;
        if (r == MM_ECAPTURE) {
            log_warnx("%s", s->errbuf);
            if (live) {
                status = 1;
                break;
            }
        }
        if (live) {
            uint64_t now = wall_us();
            engine_worker_tick(s->eng, 0, now);
            engine_tick(s->eng, now);
            records_tick(&s->rec, s->cfg, now);
            /* The capture read times out every 250 ms, so the loop comes by often enough. */
            if (watchdog_us > 0 && now >= next_ping_us) {
                notify_watchdog();
                next_ping_us = now + watchdog_us;
            }
            if (reloader_feeds_changed(&s->rl, s->cfg, now)) {
                log_info("an intel feed changed: reloading the configuration");
                reloader_start(&s->rl);
            }
        }
        if (hup_requested) { /* the files were reopened by the signal handler */
            hup_requested = 0;
            reloader_start(&s->rl);
        }
        if (reloader_collect(&s->rl, &next, &nerr))
            reload(&s->cfg, next, nerr, s->eng);
    }
    if (live && stop_requested && status == 0)
        drain(s);
    return status;
}

/* Stops the other workers and writes every flow out; 1 if a worker failed. */
static int finish(struct sensor *s)
{
    unsigned i;
    int status = 0;

    running_capture = NULL;
    running_output = NULL;
    if (s->a.nifaces > 0)
        notify_stopping();
    stop_requested = 1; /* the other workers too, if the input ended */
    reloader_stop(&s->rl);
    for (i = 1; i < s->nworkers; i++) {
        if (s->wt[i].started)
            pthread_join(s->wt[i].tid, NULL);
        if (s->wt[i].failed)
            status = 1;
    }
    engine_finish(s->eng);
    return status;
}

static void sensor_close(struct sensor *s)
{
    unsigned i;

    engine_destroy(s->eng);
    records_close(&s->rec);
    output_close(s->out); /* drains the queue, which may still hold the writer's flow records */
    eve_destroy(s->eve);
    for (i = 1; i < s->nworkers; i++)
        capture_close(s->wt[i].cap);
    capture_close(s->cap);
    config_free(s->cfg);
}

int main(int argc, char **argv)
{
    static struct sensor s; /* large (capture buffers' names, paths): not on the stack */
    int status;

    if ((status = parse_args(argc, argv, &s.a)) >= 0)
        return status;
    log_set_verbose(s.a.verbose);
    if (load_config(s.a.config_path, &s.cfg, NULL) != 0)
        return 1;
    if (s.a.test_config) {
        status = test_config(s.cfg);
        config_free(s.cfg);
        return status;
    }
    if ((status = pick_inputs(&s)) != 0) {
        config_free(s.cfg);
        return status;
    }
    if (open_capture(&s) != 0 || open_outputs(&s) != 0) {
        sensor_close(&s);
        return 1;
    }
    set_signals();
    running_capture = s.cap;
    running_output = s.out;
    status = 0;
    if (s.nworkers > 1 && start_workers(s.wt, s.nworkers, s.eng) != 0) {
        log_warnx("cannot start the packet workers");
        stop_requested = 1;
        status = 1;
    }
    status |= run(&s);
    status |= finish(&s);
    status |= records_finish(&s.rec, s.cfg);
    sensor_close(&s);
    return status;
}
