/*
 * Packet sources through libpcap: pcap and pcapng files read in order as one timeline, or a live
 * interface. Packets come out with microsecond timestamps and the decoder's link type; time
 * always comes from the packets, never from the clock.
 */
#ifndef MIMAMORI_CAPTURE_H
#define MIMAMORI_CAPTURE_H

#include <stdint.h>

#include "mimamori/decode.h"
#include "mimamori/limits.h"
#include "mimamori/error.h"

#define CAPTURE_ERRBUF_SIZE 512
#define CAPTURE_MAX_IFACES  MM_MAX_IFACES

struct capture;

struct capture_pkt {
    const uint8_t *data; /* valid until the next read (live: during the callback) */
    uint32_t caplen, wire_len;
    uint64_t ts_us;
    enum mm_link link;
    uint8_t iface; /* live: index of the interface it came from (0 for files) */
};

/*
 * Files: each is opened (and checked) now, then read in the order given. 0, or MM_ECAPTURE /
 * MM_EUNSUPPORTED with err explaining which file and why.
 */
MM_MUST_CHECK int capture_open_files(struct capture **out, char *const *files, unsigned n,
                                     char *err, size_t errlen);

/* How a live interface is opened (a mirror port: promiscuous, whole frames, a large ring). */
struct capture_live_config {
    uint32_t snaplen;     /* bytes kept of each frame */
    int promisc;          /* promiscuous mode */
    uint64_t buffer_size; /* kernel ring (TPACKET_V3) in bytes, 0: libpcap's default */
    const char *bpf;      /* capture filter, or NULL */
    int responding;       /* resets are sent: packets as they come (immediate mode, not in
                             blocks), and only those arriving (never the sensor's own) */
    int hold;             /* a worker after the first: keep nothing until it has joined the
                             first's fanout groups (capture_join_workers) */
};

/*
 * Live interfaces (1 to CAPTURE_MAX_IFACES), all opened alike, read in turn. 0 or MM_ECAPTURE
 * with err naming the interface.
 */
MM_MUST_CHECK int capture_open_live(struct capture **out, const char *const *ifaces, unsigned n,
                                    const struct capture_live_config *lc, char *err, size_t errlen);

/*
 * Open iface for sending only (the response interface), before privileges are dropped. 0 or
 * MM_ECAPTURE with err.
 */
MM_MUST_CHECK int capture_open_inject(struct capture *c, const char *iface, char *err,
                                      size_t errlen);

/*
 * Send a frame: on the response interface if one was opened, else on live interface iface.
 * 0, or MM_EUNSUPPORTED (reading files), MM_EIO.
 */
int capture_inject(struct capture *c, unsigned iface, const uint8_t *frame, size_t len);

/* Whether a capture filter compiles (for Ethernet frames); 0, or MM_EINVAL with err. */
int capture_check_filter(const char *bpf, char *err, size_t errlen);

/*
 * Reading files: the next packet, 1 with *pkt filled, MM_EEOF at the end of the last file. A
 * damaged file (truncated record) is reported through err, counted, and reading goes on with
 * the next file. Live captures are read with capture_dispatch() (MM_EUNSUPPORTED here).
 */
int capture_next(struct capture *c, struct capture_pkt *pkt, char *err, size_t errlen);

/*
 * Live, the fast way: up to a batch of packets from each interface in turn, each handed to fn
 * where it lies in the kernel's ring, valid only during the call (pcap_next_ex() would copy
 * every packet out first). Returns how many, 0 after one wait in vain, MM_EEOF
 * after capture_break(), MM_ECAPTURE with err. Reading files: one packet, as capture_next().
 */
typedef void (*capture_fn)(void *ud, const struct capture_pkt *pkt);
int capture_dispatch(struct capture *c, capture_fn fn, void *ud, char *err, size_t errlen);

/* Stop reading (from a signal handler): the next read returns MM_EEOF. */
void capture_break(struct capture *c);

struct capture_stats {
    uint64_t packets;        /* delivered to us */
    uint64_t kernel_packets; /* live: seen by the kernel */
    uint64_t kernel_drops, kernel_ifdrops;
    uint64_t errors; /* damaged files, read errors */
};
void capture_get_stats(struct capture *c, struct capture_stats *st);

/* Live: each interface's name and counters (out has CAPTURE_MAX_IFACES); 0 for files. */
struct capture_iface {
    const char *name;
    struct capture_stats st;
};
unsigned capture_ifaces(struct capture *c, struct capture_iface *out);

/*
 * Live, several workers: each opens the interfaces itself, then joins the first worker's kernel
 * fanout groups (first is NULL, or c, for the first worker, which creates them). The kernel
 * then gives each flow, both directions, to one worker by a symmetric hash. 0 or MM_ECAPTURE.
 */
int capture_join_workers(struct capture *c, const struct capture *first, char *err, size_t errlen);

/* The file being read, or NULL. */
const char *capture_current_file(const struct capture *c);

void capture_close(struct capture *c);

#endif
