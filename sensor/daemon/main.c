/*
 * The mimamori command: parse the command line of ../shared/docs/contract.md, load the site
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

#define DEFAULT_EVE_PATH MM_EVE_PATH /* under the configured prefix (CMakeLists.txt) */
#define MAX_FILES        1024

/* Set by signal handlers, read by every worker: lock-free atomics, safe in both places. */
static atomic_int stop_requested, hup_requested;
static struct capture *running_capture;

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
}

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
    capture_break(running_capture);
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: mimamori [-c CONFIG] (-r CAPTURE [-r CAPTURE ...] | -i INTERFACE [-i ...])\n"
            "                [--eve PATH] [--test-config] [-v]\n"
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
        int r = capture_dispatch(t->cap, on_packet, t, errbuf);
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
                        char *errbuf)
{
    struct capture_live_config lc = cfg->live;
    unsigned i;

    if (capture_join_workers(cap, NULL, errbuf) != 0)
        return -1;
    lc.hold = 1;
    for (i = 1; i < nworkers; i++) {
        wt[i].id = i;
        if (capture_open_live(&wt[i].cap, ifaces, nifaces, &lc, errbuf) != 0 ||
            capture_join_workers(wt[i].cap, cap, errbuf) != 0)
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
        fprintf(stderr, "mimamori: out of memory loading the configuration\n");
    free(diag);
    return r;
}

/*
 * SIGHUP: load the config and rules again into a new snapshot and switch to it only when it
 * loaded cleanly; otherwise the running one stays, and the errors are printed and counted.
 */
static void reload(struct mm_config **cfg, const char *path, struct engine *eng)
{
    struct mm_config *next = NULL;
    unsigned nerr = 0;
    int r = load_config(path, &next, &nerr);

    if (r == 0 && engine_reload(eng, next, wall_us()) == 0) {
        config_free(*cfg);
        *cfg = next;
        log_warnx("configuration reloaded from %s (%u rules)", next->source,
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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"eve", required_argument, NULL, 'E'},    {"test-config", no_argument, NULL, 'T'},
        {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
        {"config", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
    };
    char *files[MAX_FILES];
    unsigned nfiles = 0;
    const char *config_path = NULL, *eve_path = NULL, *ifaces[MM_MAX_IFACES];
    unsigned nifaces = 0, i;
    char ifnames[128] = "", ifstore[MM_MAX_IFACES][64];
    int test_config = 0, verbose = 0, ch, r, status = 0, ifaces_given;
    char instance[OUTPUT_MAX_INSTANCE], default_eve[PATH_MAX];
    struct mm_config *cfg = NULL;
    struct capture *cap = NULL;
    struct eve *eve = NULL;
    struct output *out = NULL;
    uint64_t watchdog_us = 0, next_ping_us = 0;
    struct engine *eng = NULL;
    struct worker_thread wt[MM_MAX_WORKERS];
    unsigned nworkers = 1;
    struct sigaction sa;
    struct privs_owner own;
    char errbuf[CAPTURE_ERRBUF_SIZE];

    while ((ch = getopt_long(argc, argv, "c:r:i:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'r':
            if (nfiles == MAX_FILES) {
                fprintf(stderr, "mimamori: at most %d capture files\n", MAX_FILES);
                return 2;
            }
            files[nfiles++] = optarg;
            break;
        case 'i':
            if (nifaces == MM_MAX_IFACES) {
                fprintf(stderr, "mimamori: at most %u interfaces\n", MM_MAX_IFACES);
                return 2;
            }
            ifaces[nifaces++] = optarg;
            break;
        case 'E':
            eve_path = optarg;
            break;
        case 'T':
            test_config = 1;
            break;
        case 'v':
            verbose++;
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
    if (optind < argc || (nfiles > 0 && nifaces > 0)) {
        usage(stderr);
        return 2;
    }
    log_set_verbose(verbose);

    if (load_config(config_path, &cfg, NULL) != 0)
        return 1;
    if (test_config) {
        struct config_diag *diag = calloc(1, sizeof(*diag));
        if (diag == NULL || config_check_paths(cfg, diag) != 0) {
            for (i = 0; diag != NULL && i < diag->count && i < CONFIG_MAX_DIAGS; i++)
                fprintf(stderr, "%s\n", diag->msg[i]);
            free(diag);
            config_free(cfg);
            return 1;
        }
        free(diag);
        printf("%s: configuration OK (%u zones, %u rules, %u maintenance windows, %u "
               "suppressions, %u DICOM AE titles, %u HL7 applications)\n",
               cfg->source, cfg->nconfigured, cfg->ruleset ? cfg->ruleset->n : 0, cfg->nwindows,
               cfg->nsuppress, cfg->ndicom_aes, cfg->nhl7_apps);
        config_free(cfg);
        return 0;
    }
    ifaces_given = nifaces > 0;
    /* Copied: the names must outlive a reload, which frees the config they came from. */
    for (i = 0; nfiles == 0 && nifaces == 0 && i < cfg->ninterfaces; i++) {
        snprintf(ifstore[i], sizeof(ifstore[i]), "%s", cfg->interfaces[i]);
        ifaces[i] = ifstore[i];
    }
    if (nfiles == 0 && nifaces == 0)
        nifaces = cfg->ninterfaces;
    if (nfiles == 0 && nifaces == 0) {
        fprintf(stderr, "mimamori: nothing to read: give -r CAPTURE or -i INTERFACE "
                        "(or sensor.interface in the config)\n");
        usage(stderr);
        config_free(cfg);
        return 2;
    }

    memset(wt, 0, sizeof(wt));
    if (nifaces > 0)
        nworkers = cfg->workers;
    else if (cfg->workers > 1)
        log_info("reading files: one worker (sensor.workers is for live capture)");
    r = nfiles > 0 ? capture_open_files(&cap, files, nfiles, errbuf)
                   : capture_open_live(&cap, ifaces, nifaces, &cfg->live, errbuf);
    if (r == 0 && nworkers > 1 &&
        open_workers(cap, wt, nworkers, ifaces, nifaces, cfg, errbuf) != 0)
        r = MM_ECAPTURE;
    if (r != 0) {
        fprintf(stderr, "mimamori: %s\n", errbuf);
        for (i = 1; i < nworkers; i++)
            capture_close(wt[i].cap);
        capture_close(cap);
        config_free(cfg);
        return 1;
    }
    /* Resets go out of their own interface if the site has one; opened while we may. */
    if (nifaces > 0 && cfg->response.enforce && cfg->response.interface != NULL &&
        capture_open_inject(cap, cfg->response.interface, errbuf) != 0) {
        fprintf(stderr, "mimamori: %s\n", errbuf);
        status = 1;
        goto done;
    }
    /* The instance, which names its spools (and, for mimamori@IFACE, its default EVE file):
     * its interfaces joined with '+', or "read" for files. */
    snprintf(ifnames, sizeof(ifnames), "%s", nifaces > 0 ? "" : "read");
    for (i = 0; i < nifaces; i++)
        snprintf(ifnames + strlen(ifnames), sizeof(ifnames) - strlen(ifnames), "%s%s",
                 i > 0 ? "+" : "", ifaces[i]);
    output_instance_name(instance, sizeof(instance), ifnames);
    ifnames[0] = '\0';
    /* Without --eve and outputs:, everything goes to the default file: eve.json, or with
     * interfaces given by -i (one instance among several), eve-INSTANCE.json. */
    if (eve_path == NULL && cfg->noutputs == 0 && !ifaces_given)
        eve_path = DEFAULT_EVE_PATH;
    if (eve_path == NULL && cfg->noutputs == 0) {
        snprintf(default_eve, sizeof(default_eve), "%s/eve-%s.json", MM_LOG_DIR, instance);
        eve_path = default_eve;
    }
    /* A live sensor becomes sensor.user: known before anything is opened for it. */
    if (nifaces > 0 &&
        privs_lookup(cfg->user, cfg->group, &own.uid, &own.gid, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "mimamori: %s\n", errbuf);
        status = 1;
        goto done;
    }
    if (output_create(&out, cfg, eve_path, nifaces > 0, instance, nifaces > 0 ? &own : NULL, errbuf,
                      sizeof(errbuf)) != 0) {
        fprintf(stderr, "mimamori: %s\n", errbuf);
        status = 1;
        goto done;
    }
    if (eve_create(&eve, out) != 0 ||
        engine_create(&eng, cfg, eve, ifaces, nifaces, nworkers) != 0) {
        status = 1;
        goto done;
    }
    engine_attach(eng, 0, cap);
    /* A live sensor parses no packet with privileges: everything that needed them is open. */
    if (nifaces > 0 && become_user(cfg, &own, out, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "mimamori: %s\n", errbuf);
        status = 1;
        goto done;
    }
    /* One process per instance's spools: a second mimamori@eth1 stops here. */
    if (nifaces > 0 && output_lock(out, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "mimamori: %s\n", errbuf);
        status = 1;
        goto done;
    }
    if (output_start(out) != 0) {
        fprintf(stderr, "mimamori: cannot start the output thread\n");
        status = 1;
        goto done;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART; /* a reopen request must not break a blocking read */
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    running_capture = cap;
    if (nworkers > 1 && start_workers(wt, nworkers, eng) != 0) {
        log_warnx("cannot start the packet workers");
        stop_requested = 1;
        status = 1;
    }

    if (nifaces > 0) {
        char st[200];
        for (i = 0; i < nifaces; i++)
            snprintf(ifnames + strlen(ifnames), sizeof(ifnames) - strlen(ifnames), "%s%s",
                     i > 0 ? ", " : "", ifaces[i]);
        engine_tick(eng, wall_us());
        if (nworkers > 1)
            snprintf(st, sizeof(st), "capturing on %s, %u workers", ifnames, nworkers);
        else
            snprintf(st, sizeof(st), "capturing on %s", ifnames);
        notify_ready(st);
        watchdog_us = notify_watchdog_usec() / 2;
        next_ping_us = wall_us() + watchdog_us;
    }
    wt[0].eng = eng;
    wt[0].cap = cap;
    while (!stop_requested) {
        r = capture_dispatch(cap, on_packet, &wt[0], errbuf);
        if (r == MM_EEOF) {
            break;
        } else if (r == MM_ECAPTURE) {
            log_warnx("%s", errbuf);
            if (nifaces > 0) {
                status = 1;
                break;
            }
        }
        if (nifaces > 0) {
            uint64_t now = wall_us();
            engine_worker_tick(eng, 0, now);
            engine_tick(eng, now);
            /* The capture read times out every 250 ms, so the loop comes by often enough. */
            if (watchdog_us > 0 && now >= next_ping_us) {
                notify_watchdog();
                next_ping_us = now + watchdog_us;
            }
        }
        if (hup_requested) {
            hup_requested = 0;
            output_reopen(out);
            reload(&cfg, config_path, eng);
        }
    }
    running_capture = NULL;
    if (nifaces > 0)
        notify_stopping();
    stop_requested = 1; /* the other workers too, if the input ended */
    for (i = 1; i < nworkers; i++) {
        if (wt[i].started)
            pthread_join(wt[i].tid, NULL);
        if (wt[i].failed)
            status = 1;
    }
    engine_finish(eng);

done:
    engine_destroy(eng);
    output_close(out); /* drains the queue, which may still hold the writer's flow records */
    eve_close(eve);
    for (i = 1; i < nworkers; i++)
        capture_close(wt[i].cap);
    capture_close(cap);
    config_free(cfg);
    return status;
}
