/*
 * Engine tests: with several workers a reload returns only once every other worker has moved
 * past the packet it was on (so the caller may free the snapshot it replaced), or has ended;
 * and flow records, copied out of the engine's lock by each worker, all reach the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/config.h"
#include "mimamori/engine.h"
#include "mimamori/eve.h"
#include "mimamori/output.h"
#include "pkt_build.h"

static const char site[] = "sensor: {name: engine-test}\n";
static const char *const ifaces[] = {"mirror0"};

struct fixture {
    struct mm_config *cfg;
    struct output *out;
    struct eve *eve;
    struct engine *eng;
    char path[64];
};

static void open_fixture(struct fixture *x, unsigned workers)
{
    struct config_diag diag = {0};
    char err[256];
    int fd;

    memset(x, 0, sizeof(*x));
    assert_int_equal(config_load_string("site.yaml", site, sizeof(site) - 1, &x->cfg, &diag), 0);
    strcpy(x->path, "/tmp/mm-engine-XXXXXX");
    assert_true((fd = mkstemp(x->path)) >= 0);
    close(fd);
    assert_int_equal(output_open(&x->out, x->cfg, x->path, 0, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(output_start(x->out), 0);
    assert_int_equal(eve_create(&x->eve, x->out), 0);
    /* several workers are for live capture: an interface name, never opened here */
    assert_int_equal(engine_create(&x->eng, x->cfg, x->eve, ifaces, 1, workers), 0);
}

/* Ends everything; returns how many flow records the file holds. */
static unsigned close_fixture(struct fixture *x)
{
    char line[4096];
    unsigned flows = 0;
    FILE *f;

    engine_destroy(x->eng);
    output_close(x->out);
    eve_destroy(x->eve);
    f = fopen(x->path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL)
        flows += strstr(line, "\"event_type\":\"flow\"") != NULL;
    fclose(f);
    unlink(x->path);
    config_free(x->cfg);
    return flows;
}

/* A UDP packet from src:sport to 10.0.0.2:53, 16 bytes of payload. */
static void udp_packet(struct capture_pkt *p, uint8_t *frame, const char *src, uint16_t sport,
                       uint64_t ts_us)
{
    size_t n = build_eth(frame, 0x0800);

    n += build_ipv4(frame + n, 17, src, "10.0.0.2", 8 + 16);
    n += build_udp(frame + n, sport, 53, 16);
    memset(frame + n, 0x5a, 16);
    n += 16;
    memset(p, 0, sizeof(*p));
    p->data = frame;
    p->caplen = p->wire_len = (uint32_t)n;
    p->ts_us = ts_us;
    p->link = MM_LINK_ETHERNET;
}

struct late_worker {
    struct engine *eng;
    int moved;    /* set just before worker 1 takes its next packet */
    int finish;   /* end the thread instead */
    int reloaded; /* the reload has returned */
};

/*
 * Worker 1 is idle for 200 ms, then takes packets until the reload has returned (so a main
 * thread slower than that to start the reload still sees it move on), or ends.
 */
static void *worker1(void *arg)
{
    struct late_worker *lw = arg;
    struct capture_pkt p;
    uint8_t frame[128];

    usleep(200 * 1000);
    __atomic_store_n(&lw->moved, 1, __ATOMIC_SEQ_CST);
    if (lw->finish) {
        engine_worker_done(lw->eng, 1);
        return NULL;
    }
    udp_packet(&p, frame, "10.0.0.1", 40001, 1000000);
    do {
        engine_packet(lw->eng, 1, &p);
        usleep(1000);
    } while (!__atomic_load_n(&lw->reloaded, __ATOMIC_SEQ_CST));
    return NULL;
}

static void reload_waiting_for(struct fixture *x, int finish)
{
    struct late_worker lw = {.eng = x->eng, .finish = finish};
    struct config_diag diag = {0};
    struct mm_config *next;
    pthread_t t;

    assert_int_equal(config_load_string("site.yaml", site, sizeof(site) - 1, &next, &diag), 0);
    assert_int_equal(pthread_create(&t, NULL, worker1, &lw), 0);
    assert_int_equal(engine_reload(x->eng, next, 0), 0);
    /* It came back only after worker 1 moved on: the old snapshot is free to go. */
    assert_int_equal(__atomic_load_n(&lw.moved, __ATOMIC_SEQ_CST), 1);
    __atomic_store_n(&lw.reloaded, 1, __ATOMIC_SEQ_CST);
    config_free(x->cfg);
    x->cfg = next;
    pthread_join(t, NULL);
}

static void test_reload_waits_for_workers(void **state)
{
    struct fixture x;
    struct capture_pkt p;
    uint8_t frame[128];

    (void)state;
    alarm(30); /* a reload that never returns fails rather than hangs */
    open_fixture(&x, 2);
    udp_packet(&p, frame, "10.0.0.1", 40000, 1000000);
    engine_packet(x.eng, 0, &p);
    reload_waiting_for(&x, 0); /* worker 1 takes a packet */
    reload_waiting_for(&x, 1); /* worker 1 ends */
    {
        /* A worker that has ended is not waited for. */
        struct config_diag diag = {0};
        struct mm_config *next;
        assert_int_equal(config_load_string("site.yaml", site, sizeof(site) - 1, &next, &diag), 0);
        assert_int_equal(engine_reload(x.eng, next, 0), 0);
        config_free(x.cfg);
        x.cfg = next;
    }
    engine_finish(x.eng);
    /* Both workers' flows (one each) were written when the engine finished. */
    assert_int_equal(close_fixture(&x), 2);
    alarm(0);
}

/* Two threads ending many flows at once: every record reaches the file, none twice. */
struct flood {
    struct engine *eng;
    unsigned worker;
};

static void *flood_main(void *arg)
{
    struct flood *fl = arg;
    struct capture_pkt p;
    uint8_t frame[128];
    unsigned i;

    for (i = 0; i < 2000; i++) {
        /* distinct source ports: new flows; time steps of 200 s end the earlier ones */
        udp_packet(&p, frame, fl->worker == 0 ? "10.0.0.1" : "10.0.0.3", (uint16_t)(10000 + i),
                   1000000 + (uint64_t)i * 200000000ull);
        engine_packet(fl->eng, fl->worker, &p);
    }
    if (fl->worker != 0)
        engine_worker_done(fl->eng, fl->worker);
    return NULL;
}

static void test_records_from_two_workers(void **state)
{
    struct fixture x;
    struct flood a, b;
    pthread_t t;

    (void)state;
    open_fixture(&x, 2);
    a.eng = b.eng = x.eng;
    a.worker = 0;
    b.worker = 1;
    assert_int_equal(pthread_create(&t, NULL, flood_main, &b), 0);
    flood_main(&a);
    pthread_join(t, NULL);
    engine_finish(x.eng);
    assert_int_equal(close_fixture(&x), 4000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_waits_for_workers),
        cmocka_unit_test(test_records_from_two_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
