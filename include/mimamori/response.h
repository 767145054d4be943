/*
 * Response (遮断): what a rule's match does besides alerting, opt-in per rule (response:) or per
 * rule key and category in the site config (response.actions). reset sends TCP resets to both
 * ends of the connection with the sequence numbers the flow table tracks; block puts the
 * client's address on a block list for a time that grows on repeat, exported as a file (for
 * firewalls and the shipped nftables hook) and to a site command. Never against a protected
 * host (default: the medical_devices and emr zones), at most max_per_minute, and in dry-run
 * mode (the default) only recorded. Every response, done or not, is an event.
 */
#ifndef MIMAMORI_RESPONSE_H
#define MIMAMORI_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "mimamori/capture.h"
#include "mimamori/config.h"
#include "mimamori/eve.h"
#include "mimamori/flow.h"
#include "mimamori/rules.h"
#include "mimamori/error.h"

/* The packet being processed, set by the engine: resets copy its link-layer header. */
struct response_pkt {
    const struct flow *f; /* its flow, or NULL outside packet processing */
    const uint8_t *frame; /* Ethernet frame */
    uint32_t l2_len;      /* bytes before the IP header (0: not Ethernet, or tunnelled) */
    uint8_t iface;
    uint8_t dir; /* FLOW_TOSERVER or FLOW_TOCLIENT */
};

/* What happened, for the alert. */
struct response_outcome {
    int blocked; /* really reset or blocked */
    char text[160];
};

struct response;

/* cap may be NULL (files: nothing is sent); cur is the engine's current packet. 0 or MM_ENOMEM. */
MM_MUST_CHECK int response_create(struct response **out, const struct mm_config *cfg,
                                  struct eve *eve, const struct eve_ctx *ctx, struct capture *cap,
                                  const struct response_pkt *cur);
void response_destroy(struct response *r);

/* Live capture: resets are sent through cap. Until then (and reading files) nothing is. */
void response_set_capture(struct response *r, struct capture *cap);

/* Several workers: the packet of the worker now holding the engine's lock. */
void response_set_packet(struct response *r, const struct response_pkt *cur);

/* Use cfg from now on; the block list carries over. */
void response_reload(struct response *r, const struct mm_config *cfg);

/* The action for rule under the current config. */
enum response_action response_action(const struct response *r, const struct rule *rule);

/* rule matched flow f at now_us (alerted or folded): respond as configured. */
void response_match(struct response *r, const struct rule *rule, struct flow *f, uint64_t now_us,
                    struct response_outcome *out);

/*
 * A packet of a flow that was reset (FLOW_F_RESET) and is still talking: the ends may have
 * moved on before the first resets arrived, so they go again with the sequence numbers of now.
 */
void response_reset_again(struct response *r, struct flow *f);

/* Time passed: expire blocks, reap hook commands. */
void response_tick(struct response *r, uint64_t now_us);

struct response_stats {
    uint64_t resets, resets_again, blocks, dry_run, protected_skips, rate_limited, failed, expired;
    unsigned active_blocks;
};
void response_get_stats(const struct response *r, struct response_stats *st);

/*
 * Build the TCP reset that ends flow f toward one end (to_server: as if from the client). l2 is
 * the Ethernet header of a packet of f going in direction dir (l2_len bytes, VLAN tags
 * included). Returns the frame length, or 0 if out is too small. Pure.
 */
size_t response_build_rst(uint8_t *out, size_t cap, const struct flow *f, const uint8_t *l2,
                          uint32_t l2_len, int dir, int to_server);

#endif
