/*
 * The response stage. A match of a rule whose action is reset or block is checked in order:
 * protected hosts, TCP (for resets), the rate limit, dry run, live capture; then resets are
 * built from the flow's tracked sequence numbers and the link-layer header of the packet at
 * hand and sent to both ends, and blocks go into a fixed table of addresses with their expiry
 * and escalation step, written out as a file (atomically) and passed to the site's command.
 * Each outcome is an EVE "drop" event and a line in the alert's metadata.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mimamori/error.h"
#include "mimamori/log.h"
#include "mimamori/response.h"
#include "mimamori/zone.h"

#define US                  1000000ull
#define RESPONSE_MAX_BLOCKS 4096
#define RESPONSE_FORGET_US  (86400ull * US) /* a repeat within a day escalates */

extern char **environ;

struct block {
    uint8_t addr[16];
    uint64_t expires_us, last_us;
    unsigned level; /* steps taken, 1 = first */
    int active;
    char rule[64];
};

struct response {
    const struct mm_config *cfg;
    struct eve *eve;
    const struct eve_ctx *ctx;
    struct capture *cap; /* live only */
    const struct response_pkt *cur;
    struct block *blocks;
    uint64_t next_expiry_us;
    uint64_t minute_start_us;
    unsigned minute_used;
    unsigned children; /* hook commands not yet reaped */
    struct response_stats st;
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t response_build_rst(uint8_t *out, size_t cap, const struct flow *f, const uint8_t *l2,
                          uint32_t l2_len, int dir, int to_server)
{
    int way = to_server ? FLOW_TOSERVER : FLOW_TOCLIENT;
    const uint8_t *src = to_server ? flow_src_addr(f) : flow_dst_addr(f);
    const uint8_t *dst = to_server ? flow_dst_addr(f) : flow_src_addr(f);
    uint16_t sport = to_server ? flow_src_port(f) : flow_dst_port(f);
    uint16_t dport = to_server ? flow_dst_port(f) : flow_src_port(f);
    size_t ip_len = f->ip_version == 4 ? 20 : 40, n = (size_t)l2_len + ip_len + 20;
    uint8_t *ip = out + l2_len, *tcp = ip + ip_len;
    uint32_t sum;

    if (n > cap || l2_len < 14 || f->key.proto != 6)
        return 0;
    memcpy(out, l2, l2_len);
    if (way != dir) { /* the other way from the packet at hand: swap the MAC addresses */
        memcpy(out, l2 + 6, 6);
        memcpy(out + 6, l2, 6);
    }
    memset(ip, 0, ip_len + 20);
    if (f->ip_version == 4) {
        ip[0] = 0x45;
        put16(ip + 2, 40);
        put16(ip + 6, 0x4000); /* don't fragment */
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, src + 12, 4);
        memcpy(ip + 16, dst + 12, 4);
        put16(ip + 10, fold(sum16(0, ip, 20)));
        sum = sum16(sum16(0, ip + 12, 8), (const uint8_t *)"\0\x06\0\x14", 4);
    } else {
        ip[0] = 0x60;
        put16(ip + 4, 20);
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        sum = sum16(sum16(0, ip + 8, 32), (const uint8_t *)"\0\0\0\x14\0\0\0\x06", 8);
    }
    put16(tcp, sport);
    put16(tcp + 2, dport);
    put32(tcp + 4, f->tcp_next[way]);  /* exactly what the receiver expects next */
    put32(tcp + 8, f->tcp_next[!way]); /* and what it has sent */
    tcp[12] = 5 << 4;
    tcp[13] = TCP_RST | TCP_ACK;
    put16(tcp + 16, fold(sum16(sum, tcp, 20)));
    return n;
}

/* --- policy --------------------------------------------------------------------------------- */

enum response_action response_action(const struct response *r, const struct rule *rule)
{
    const struct config_response *c = &r->cfg->response;
    const char *cat = rules_category_name((enum alert_category)rule->category);
    unsigned i;

    for (i = 0; i < c->nactions; i++) /* a rule key first, then its category */
        if (strcmp(c->actions[i].name, rule->key) == 0)
            return (enum response_action)c->actions[i].action;
    for (i = 0; i < c->nactions; i++)
        if (strcmp(c->actions[i].name, cat) == 0)
            return (enum response_action)c->actions[i].action;
    return (enum response_action)rule->response;
}

/* Whether an end of f is protected; *which gets it and its zone. */
static int protected_end(const struct response *r, const struct flow *f, char *which, size_t len)
{
    const uint8_t *ends[2] = {flow_src_addr(f), flow_dst_addr(f)};
    char a[48];
    int i;

    for (i = 0; i < 2; i++) {
        int z = config_zone_of(r->cfg, ends[i]);
        if (config_hostset_has(&r->cfg->response.protect, ends[i], z)) {
            snprintf(which, len, "%s (zone %s)", zone_addr_str(ends[i], a, sizeof(a)),
                     config_zone_name(r->cfg, z));
            return 1;
        }
    }
    return 0;
}

static int rate_ok(struct response *r, uint64_t now_us)
{
    if (now_us >= r->minute_start_us + 60 * US || now_us < r->minute_start_us) {
        r->minute_start_us = now_us;
        r->minute_used = 0;
    }
    if (r->minute_used >= r->cfg->response.max_per_minute)
        return 0;
    r->minute_used++;
    return 1;
}

static void record(struct response *r, const struct flow *f, struct eve_response *ev, char **copy)
{
    if (r->eve != NULL)
        eve_write_response(r->eve, r->ctx, f, ev, copy);
}

/* --- block list ----------------------------------------------------------------------------- */

/* Rewrite the block list file (one address per line, "#" comments), atomically. */
static void write_list(struct response *r, uint64_t now_us)
{
    const char *path = r->cfg->response.block_file;
    char tmp[1024], a[48], t[48];
    FILE *fp;
    unsigned i;

    if (path == NULL || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return;
    if ((fp = fopen(tmp, "w")) == NULL) {
        r->st.failed++;
        log_warn("block list %s", tmp);
        return;
    }
    eve_format_time(now_us, t, sizeof(t));
    fprintf(fp, "# Mimamori block list, %s: one address per line\n", t);
    for (i = 0; i < RESPONSE_MAX_BLOCKS; i++) {
        const struct block *b = &r->blocks[i];
        if (!b->active)
            continue;
        eve_format_time(b->expires_us, t, sizeof(t));
        fprintf(fp, "%s # until %s rule=%s level=%u\n", zone_addr_str(b->addr, a, sizeof(a)), t,
                b->rule, b->level);
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        r->st.failed++;
        log_warn("block list %s", path);
    }
}

/* The site's command: COMMAND add|del ADDRESS SECONDS RULE, the event on standard input. */
static void run_command(struct response *r, const char *verb, const char *addr, uint32_t ttl_s,
                        const char *rule, const char *input)
{
    const char *cmd = r->cfg->response.block_command;
    char ttl[16];
    char *argv[6];
    posix_spawn_file_actions_t fa;
    int fds[2], e;
    pid_t pid;

    if (cmd == NULL || pipe(fds) != 0)
        return;
    snprintf(ttl, sizeof(ttl), "%u", ttl_s);
    argv[0] = (char *)cmd, argv[1] = (char *)verb, argv[2] = (char *)addr, argv[3] = ttl;
    argv[4] = (char *)rule, argv[5] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    e = posix_spawn(&pid, cmd, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (e != 0) {
        errno = e;
        r->st.failed++;
        log_warn("block command %s", cmd);
    } else {
        r->children++;
    }
    if (e == 0 && input != NULL) {
        /* One event is far below a pipe's capacity: this does not block. */
        if (write(fds[1], input, strlen(input)) < 0 || write(fds[1], "\n", 1) < 0)
            log_warn("block command %s: input", cmd);
    }
    close(fds[1]);
}

static struct block *find_block(struct response *r, const uint8_t addr[16], int make)
{
    struct block *free_slot = NULL, *oldest = NULL;
    unsigned i;

    for (i = 0; i < RESPONSE_MAX_BLOCKS; i++) {
        struct block *b = &r->blocks[i];
        if (b->last_us != 0 && memcmp(b->addr, addr, 16) == 0)
            return b;
        if (b->last_us == 0 && free_slot == NULL)
            free_slot = b;
        if (!b->active && (oldest == NULL || b->last_us < oldest->last_us))
            oldest = b;
    }
    if (!make)
        return NULL;
    if (free_slot == NULL)
        free_slot = oldest; /* forget the longest-expired */
    if (free_slot != NULL) {
        memset(free_slot, 0, sizeof(*free_slot));
        memcpy(free_slot->addr, addr, 16);
    }
    return free_slot;
}

static void do_block(struct response *r, const struct rule *rule, struct flow *f, uint64_t now_us,
                     struct response_outcome *out, struct eve_response *ev)
{
    const struct config_response *c = &r->cfg->response;
    const uint8_t *addr = flow_src_addr(f); /* the client: who started it */
    struct block *b = find_block(r, addr, 1);
    char a[48], t[48], *line = NULL;

    zone_addr_str(addr, a, sizeof(a));
    if (b == NULL) {
        snprintf(out->text, sizeof(out->text), "not blocked: block list full");
        ev->action = "not_blocked", ev->reason = out->text;
        r->st.failed++;
        record(r, f, ev, NULL);
        return;
    }
    if (b->active) {
        eve_format_time(b->expires_us, t, sizeof(t));
        snprintf(out->text, sizeof(out->text), "%s already blocked until %s", a, t);
        out->blocked = 1;
        return;
    }
    b->level = b->last_us != 0 && now_us < b->last_us + RESPONSE_FORGET_US ? b->level + 1 : 1;
    ev->level = b->level;
    ev->ttl_s = c->block_s[(b->level > c->nblock_s ? c->nblock_s : b->level) - 1];
    ev->address = a;
    if (!c->enforce || r->cap == NULL) {
        snprintf(out->text, sizeof(out->text), "would_block %s for %u s (%s)", a, ev->ttl_s,
                 !c->enforce ? "dry run" : "reading files");
        ev->action = "would_block", ev->reason = out->text;
        r->st.dry_run++;
        if (b->level == 1) /* dry run keeps no state */
            memset(b, 0, sizeof(*b));
        record(r, f, ev, NULL);
        return;
    }
    b->active = 1;
    b->last_us = now_us;
    b->expires_us = now_us + (uint64_t)ev->ttl_s * US;
    snprintf(b->rule, sizeof(b->rule), "%s", rule->key);
    if (b->expires_us < r->next_expiry_us)
        r->next_expiry_us = b->expires_us;
    r->st.blocks++;
    r->st.active_blocks++;
    snprintf(out->text, sizeof(out->text), "blocked %s for %u s (step %u)", a, ev->ttl_s, b->level);
    out->blocked = 1;
    ev->action = "block", ev->reason = out->text, ev->done = 1;
    record(r, f, ev, &line);
    write_list(r, now_us);
    run_command(r, "add", a, ev->ttl_s, rule->key, line);
    free(line);
}

/* Both resets for f from the packet at hand; 0 or -1. */
static int send_resets(struct response *r, const struct flow *f)
{
    const struct response_pkt *p = r->cur;
    uint8_t frame[128];
    size_t n;
    int ok = 0, way;

    /* The server first: it holds the session the client opened. */
    for (way = 1; way >= 0; way--) {
        n = response_build_rst(frame, sizeof(frame), f, p->frame, p->l2_len, p->dir, way);
        if (n == 0 || capture_inject(r->cap, p->iface, frame, n) != 0)
            ok = -1;
    }
    return ok;
}

void response_reset_again(struct response *r, struct flow *f)
{
    if (r->cap == NULL || r->cur == NULL || r->cur->f != f || r->cur->l2_len == 0)
        return;
    if (send_resets(r, f) == 0)
        r->st.resets_again++;
}

static void do_reset(struct response *r, struct flow *f, struct response_outcome *out,
                     struct eve_response *ev)
{
    const struct response_pkt *p = r->cur;

    ev->reset = 1;
    if (!r->cfg->response.enforce || r->cap == NULL) {
        snprintf(out->text, sizeof(out->text), "would_reset (%s)",
                 !r->cfg->response.enforce ? "dry run" : "reading files");
        ev->action = "would_reset", ev->reason = out->text;
        r->st.dry_run++;
        record(r, f, ev, NULL);
        return;
    }
    if (p == NULL || p->f != f || p->l2_len == 0) {
        snprintf(out->text, sizeof(out->text), "not reset: %s",
                 p == NULL || p->f != f ? "the connection has ended"
                                        : "not plain Ethernet (tunnelled or another link)");
        ev->action = "not_reset", ev->reason = out->text;
        r->st.failed++;
        record(r, f, ev, NULL);
        return;
    }
    if (send_resets(r, f) != 0) {
        snprintf(out->text, sizeof(out->text), "not reset: sending failed");
        ev->action = "not_reset", ev->reason = out->text;
        r->st.failed++;
        record(r, f, ev, NULL);
        return;
    }
    snprintf(out->text, sizeof(out->text), "reset both ends");
    f->flags |= FLOW_F_RESET;
    out->blocked = 1;
    ev->action = "reset", ev->reason = out->text, ev->done = 1;
    r->st.resets++;
    record(r, f, ev, NULL);
}

void response_match(struct response *r, const struct rule *rule, struct flow *f, uint64_t now_us,
                    struct response_outcome *out)
{
    enum response_action act = response_action(r, rule);
    const char *verb = act == RESP_RESET ? "reset" : "blocked";
    struct eve_response ev = {.ts_us = now_us, .rule = rule};
    char which[96];

    out->blocked = 0;
    out->text[0] = '\0';
    if (act == RESP_ALERT)
        return;
    ev.reset = act == RESP_RESET;
    ev.action = act == RESP_RESET ? "not_reset" : "not_blocked";
    ev.reason = out->text;
    if (protected_end(r, f, which, sizeof(which))) {
        snprintf(out->text, sizeof(out->text), "not %s: %s is protected", verb, which);
        r->st.protected_skips++;
        record(r, f, &ev, NULL);
        return;
    }
    if (act == RESP_RESET && f->key.proto != 6) {
        snprintf(out->text, sizeof(out->text), "not reset: not TCP");
        record(r, f, &ev, NULL);
        return;
    }
    if (!rate_ok(r, now_us)) {
        snprintf(out->text, sizeof(out->text), "not %s: over %u responses a minute", verb,
                 r->cfg->response.max_per_minute);
        r->st.rate_limited++;
        record(r, f, &ev, NULL);
        return;
    }
    if (act == RESP_RESET)
        do_reset(r, f, out, &ev);
    else
        do_block(r, rule, f, now_us, out, &ev);
}

void response_tick(struct response *r, uint64_t now_us)
{
    unsigned i, expired = 0;
    char a[48];

    while (r->children > 0 && waitpid(-1, NULL, WNOHANG) > 0) /* finished hook commands */
        r->children--;
    if (now_us < r->next_expiry_us)
        return;
    r->next_expiry_us = UINT64_MAX;
    for (i = 0; i < RESPONSE_MAX_BLOCKS; i++) {
        struct block *b = &r->blocks[i];
        if (!b->active)
            continue;
        if (b->expires_us > now_us) {
            if (b->expires_us < r->next_expiry_us)
                r->next_expiry_us = b->expires_us;
            continue;
        }
        b->active = 0;
        expired++;
        r->st.expired++;
        r->st.active_blocks--;
        zone_addr_str(b->addr, a, sizeof(a));
        log_info("response: block of %s (rule %s) expired", a, b->rule);
        run_command(r, "del", a, 0, b->rule, NULL);
    }
    if (expired > 0)
        write_list(r, now_us);
}

/* --- life ----------------------------------------------------------------------------------- */

int response_create(struct response **out, const struct mm_config *cfg, struct eve *eve,
                    const struct eve_ctx *ctx, struct capture *cap, const struct response_pkt *cur)
{
    struct response *r;

    *out = NULL;
    if ((r = calloc(1, sizeof(*r))) == NULL ||
        (r->blocks = calloc(RESPONSE_MAX_BLOCKS, sizeof(*r->blocks))) == NULL) {
        free(r);
        return MM_ENOMEM;
    }
    r->cfg = cfg;
    r->eve = eve;
    r->ctx = ctx;
    r->cap = cap;
    r->cur = cur;
    r->next_expiry_us = UINT64_MAX;
    *out = r;
    return 0;
}

void response_set_capture(struct response *r, struct capture *cap)
{
    r->cap = cap;
}

void response_set_packet(struct response *r, const struct response_pkt *cur)
{
    r->cur = cur;
}

void response_reload(struct response *r, const struct mm_config *cfg)
{
    r->cfg = cfg;
}

void response_destroy(struct response *r)
{
    if (r == NULL)
        return;
    free(r->blocks);
    free(r);
}

void response_get_stats(const struct response *r, struct response_stats *st)
{
    *st = r->st;
}
