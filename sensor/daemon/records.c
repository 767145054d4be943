/*
 * What the sensor keeps beside its events: the device inventory (always: the end-of-support
 * and ledger rules are about devices), its state file, the external connections list and the
 * communication baseline when asked for, and the files they are written to. Live, the files
 * are written every inventory.interval on a thread of their own (formatting 10,000 devices
 * takes a fifth of a second, which the capture thread must not wait for), from copies the
 * tables give under their locks, one writer at a time; the proposal once learning.period has
 * passed, and everything at exit.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "mimamori/baseline.h"
#include "mimamori/connections.h"
#include "mimamori/engine.h"
#include "mimamori/eve.h"
#include "mimamori/inventory.h"
#include "mimamori/log.h"
#include "mimamori/oui.h"

#include "records.h"

/*
 * The state file of inventory.state (with -i, one per instance: PATH.INSTANCE), loaded before
 * the first packet. One that is not a state file is set aside as PATH.bad, not overwritten.
 */
static void load_state(struct records *r, const struct mm_config *cfg, const char *instance)
{
    unsigned loaded, skipped;
    char bad[PATH_MAX + 32], err[256];

    if (cfg->inventory.state == NULL)
        return;
    snprintf(r->state, sizeof(r->state), "%s%s%s", cfg->inventory.state, instance ? "." : "",
             instance ? instance : "");
    if (inventory_load(r->inv, r->state, &loaded, &skipped, err, sizeof(err)) != 0) {
        snprintf(bad, sizeof(bad), "%s.bad", r->state);
        log_warnx("inventory: %s; %s", err,
                  rename(r->state, bad) == 0 ? "set aside as .bad, starting empty"
                                             : "starting empty");
        return;
    }
    if (loaded + skipped > 0)
        log_info("inventory: %u devices loaded from %s%s", loaded, r->state,
                 skipped > 0 ? " (some lines skipped: unreadable, or no longer internal)" : "");
    if (inventory_learned(r->inv) == NULL)
        return;
    snprintf(r->learned, sizeof(r->learned), "%s.baseline", r->state);
    if (baseline_load(inventory_learned(r->inv), r->learned, &loaded, &skipped, err, sizeof(err)) !=
        0) {
        snprintf(bad, sizeof(bad), "%s.bad", r->learned);
        log_warnx("baseline: %s; %s", err,
                  rename(r->learned, bad) == 0 ? "set aside as .bad, learning again"
                                               : "learning again");
    } else if (loaded + skipped > 0) {
        log_info("baseline: %u entries loaded from %s", loaded, r->learned);
    }
}

int records_open(struct records *r, const struct mm_config *cfg, struct engine *eng,
                 struct eve *eve, const char *instance, char *err, size_t errlen)
{
    struct flow_event_handler h = {inventory_flow_event, NULL, 1u << FLOW_EV_ENDED};

    if (inventory_create(&r->inv, cfg->inventory.max_devices ? cfg->inventory.max_devices
                                                             : MM_INVENTORY_MAX_DEVICES) != 0) {
        snprintf(err, errlen, "out of memory for the inventory");
        return -1;
    }
    inventory_set_config(r->inv, cfg);
    h.ud = r->inv;
    if (engine_subscribe(eng, &h) != 0) {
        snprintf(err, errlen, "cannot subscribe the inventory");
        return -1;
    }
    engine_set_inventory(eng, r->inv);
    load_state(r, cfg, instance);
    if (r->connections_path != NULL || r->connections_csv != NULL) {
        if (connections_create(&r->conns, MM_CONNECTIONS_MAX_PARTIES) != 0) {
            snprintf(err, errlen, "out of memory for the connections list");
            return -1;
        }
        inventory_set_connections(r->inv, r->conns);
    }
    if (r->propose_path != NULL) {
        if (baseline_create(&r->base, MM_BASELINE_MAX_EDGES) != 0) {
            snprintf(err, errlen, "out of memory for the baseline");
            return -1;
        }
        inventory_set_baseline(r->inv, r->base);
    }
    /* The registry (10 ms to read) only where a vendor is written: files, events, ledger. */
    if ((r->inventory_path != NULL || r->inventory_csv != NULL || eve_wants_inventory(eve) ||
         cfg->inventory.ledger != NULL) &&
        oui_load(&r->oui, OUI_DEFAULT_PATH) != 0)
        log_info("%s: not readable, the inventory has no vendors (apt-get install ieee-data)",
                 OUI_DEFAULT_PATH);
    inventory_set_oui(r->inv, r->oui);
    return 0;
}

/* The state file and the inventory files asked for. */
static int write_files(struct records *r, int at_exit)
{
    const char *path[2] = {r->inventory_path, r->inventory_csv};
    struct inventory_stats st;
    char err[256]; /* its own: this may run beside the capture thread */
    int i, status = 0;

    inventory_get_stats(r->inv, &st);
    if (r->state[0] != '\0' && inventory_save(r->inv, r->state, err, sizeof(err)) != 0) {
        log_warnx("inventory: %s", err);
        status = 1;
    }
    if (r->learned[0] != '\0' &&
        baseline_save(inventory_learned(r->inv), r->learned, err, sizeof(err)) != 0) {
        log_warnx("baseline: %s", err);
        status = 1;
    }
    for (i = 0; r->conns != NULL && i < 2; i++)
        if ((i ? r->connections_csv : r->connections_path) != NULL &&
            connections_write(r->conns, i ? r->connections_csv : r->connections_path,
                              i ? CONNECTIONS_CSV : CONNECTIONS_JSON, err, sizeof(err)) != 0) {
            log_warnx("connections: %s", err);
            status = 1;
        }
    for (i = 0; i < 2; i++) {
        if (path[i] == NULL)
            continue;
        if (inventory_write(r->inv, r->oui, path[i], i ? INVENTORY_CSV : INVENTORY_JSON, err,
                            sizeof(err)) != 0) {
            log_warnx("inventory: %s", err);
            status = 1;
        } else if (at_exit) {
            log_info("inventory: %u devices written to %s%s", st.devices, path[i],
                     st.aged > 0 ? " (the table was full: those silent longest left)" : "");
        }
    }
    return status;
}

static int write_proposal(struct records *r, const struct mm_config *cfg)
{
    struct baseline_stats st;
    struct timespec t0, t1;
    char err[256];

    if (r->base == NULL)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (baseline_propose(r->base, r->inv, cfg, r->propose_path, err, sizeof(err)) != 0) {
        log_warnx("proposal: %s", err);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    baseline_get_stats(r->base, &st);
    log_info("proposal: a site config from %u conversations written to %s in %lld ms", st.edges,
             r->propose_path,
             (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    return 0;
}

static atomic_int writing;

static void *writer(void *arg)
{
    prctl(PR_SET_NAME, "mm-inventory", 0, 0, 0); /* for top -H, and gone when done */
    write_files(arg, 0);
    atomic_store(&writing, 0);
    return NULL;
}

/* A turn of the writer, skipped when the last one has not finished. */
static void write_later(struct records *r)
{
    sigset_t all, old;
    pthread_t t;
    int rc;

    if ((r->state[0] == '\0' && r->inventory_path == NULL && r->inventory_csv == NULL &&
         r->conns == NULL) ||
        atomic_exchange(&writing, 1) != 0)
        return;       /* nothing to write, or the last turn still writing */
    sigfillset(&all); /* signals stay the capture thread's, as for the workers */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&t, NULL, writer, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        atomic_store(&writing, 0);
    else
        pthread_detach(t);
}

void records_tick(struct records *r, const struct mm_config *cfg, uint64_t now_us)
{
    if (now_us >= r->next_us) { /* the first pass only sets the clock */
        if (r->next_us != 0)
            write_later(r);
        r->next_us =
            now_us + (cfg->inventory.interval_s ? cfg->inventory.interval_s : 300) * 1000000ull;
    }
    if (r->base != NULL && !r->proposed) {
        if (r->propose_us == 0)
            r->propose_us =
                now_us + (cfg->learning_s ? cfg->learning_s : MM_LEARNING_S) * 1000000ull;
        else if (now_us >= r->propose_us)
            r->proposed = 1, write_proposal(r, cfg);
    }
}

int records_finish(struct records *r, const struct mm_config *cfg)
{
    while (atomic_load(&writing) != 0)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    return write_files(r, 1) | write_proposal(r, cfg);
}

void records_close(struct records *r)
{
    inventory_destroy(r->inv);
    connections_destroy(r->conns);
    baseline_destroy(r->base);
    oui_free(r->oui);
}
