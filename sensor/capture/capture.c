/*
 * The libpcap wrapper (the only file that includes pcap.h). Files are checked when opened, so
 * a typo in the fifth -r fails before the first packet, and are then read one after another.
 * Timestamps are requested in microseconds whatever the file stores. Link types are mapped to
 * the decoder's; a file with one we do not decode is refused with its name. Live, several
 * interfaces are read in turn, a batch each, without blocking, each packet handed over where it
 * lies in the kernel's ring, and waited on together in poll(); each keeps its own counters. With
 * several workers each opens its own handles and joins a kernel fanout group per interface, so the
 * kernel splits the traffic by flow.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <pcap/pcap.h>

#include "mimamori/capture.h"
#include "mimamori/error.h"
#include "mimamori/log.h"

#define CAPTURE_FILE_BUFFER (1u << 20) /* stdio buffer of a capture file */
#define CAPTURE_TIMEOUT_MS  250        /* live: longest wait before capture_dispatch() returns 0 */
#define CAPTURE_BATCH       64         /* live: packets taken from one interface in one go */

/* One live interface. */
struct live {
    pcap_t *p;
    int fd; /* to wait on in poll() */
    char *name;
    enum mm_link link;
    struct capture_stats st;
    struct pcap_stat last; /* libpcap's counters are 32-bit and wrap: widened by deltas */
    int fanout;            /* the kernel fanout group shared with the other workers, or -1 */
};

struct capture {
    pcap_t *p;  /* the file being read */
    char *fbuf; /* its stdio buffer */
    enum mm_link link;
    char *const *files;
    unsigned nfiles, cur;
    struct live live[CAPTURE_MAX_IFACES];
    unsigned nlive, turn; /* live interfaces; the one to read first next time */
    pcap_t *inject;       /* the response interface, or NULL */
    char *bpf;            /* live: the capture filter, installed late on held handles */
    int held;             /* live: opened to join another worker's fanout groups */
    int waited;           /* live: poll() has run since the last packet */
    struct capture_stats st;
};

static enum mm_link link_from_dlt(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return MM_LINK_ETHERNET;
    case DLT_LINUX_SLL:
        return MM_LINK_SLL;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        return MM_LINK_SLL2;
#endif
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        return MM_LINK_RAW;
    case DLT_NULL:
        return MM_LINK_NULL;
    case DLT_LOOP:
        return MM_LINK_LOOP;
    default:
        return MM_LINK_UNSUPPORTED;
    }
}

static int open_file(struct capture *c, const char *path, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    struct stat st;
    FILE *fp;
    pcap_t *p;
    int dlt;

    /* Opening a FIFO waits for its writer: said, so that a wait is not taken for a hang. */
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
        log_warnx("%s is a FIFO: waiting for a writer", path);
    fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb"); /* "-": standard input */
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return MM_ECAPTURE;
    }
    /*
     * libpcap reads a record at a time: a large stdio buffer saves most of the system calls
     * (glibc takes the size only with a buffer given). One file is open at a time.
     */
    if (c->p != NULL) {
        pcap_close(c->p);
        c->p = NULL;
    }
    if (c->fbuf != NULL)
        setvbuf(fp, c->fbuf, _IOFBF, CAPTURE_FILE_BUFFER);
    p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (p == NULL) { /* fp is still ours */
        if (fp != stdin)
            fclose(fp);
        snprintf(err, errlen, "%s: %s", path, perr);
        return MM_ECAPTURE;
    }
    dlt = pcap_datalink(p);
    if (link_from_dlt(dlt) == MM_LINK_UNSUPPORTED) {
        snprintf(err, errlen, "%s: link type %s (%d) is not supported", path,
                 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "unknown", dlt);
        pcap_close(p);
        return MM_EUNSUPPORTED;
    }
    c->p = p;
    c->link = link_from_dlt(dlt);
    return 0;
}

int capture_open_files(struct capture **out, char *const *files, unsigned n, char *err,
                       size_t errlen)
{
    struct capture *c;
    unsigned i;
    int r;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return MM_ENOMEM;
    c->files = files;
    c->nfiles = n;
    c->fbuf = malloc(CAPTURE_FILE_BUFFER); /* without it, stdio's own */
    for (i = n; i-- > 0;) {                /* check all; the first file stays open */
        if ((r = open_file(c, files[i], err, errlen)) != 0) {
            capture_close(c);
            return r;
        }
    }
    *out = c;
    return 0;
}

int capture_check_filter(const char *bpf, char *err, size_t errlen)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
    struct bpf_program prog;
    int r = 0;

    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return MM_ENOMEM;
    }
    if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "%s", pcap_geterr(p));
        r = MM_EINVAL;
    } else {
        pcap_freecode(&prog);
    }
    pcap_close(p);
    return r;
}

/* The capture filter (all packets when bpf is NULL). */
static int set_filter(struct live *l, const char *bpf, char *err, size_t errlen)
{
    struct bpf_program prog;
    int r = pcap_compile(l->p, &prog, bpf != NULL ? bpf : "", 1, PCAP_NETMASK_UNKNOWN);

    if (r == 0) {
        r = pcap_setfilter(l->p, &prog);
        pcap_freecode(&prog); /* the kernel has its copy, or it was refused */
    }
    if (r != 0) {
        snprintf(err, errlen, "%s: filter '%s': %s", l->name, bpf != NULL ? bpf : "",
                 pcap_geterr(l->p));
        return MM_ECAPTURE;
    }
    return 0;
}

static int open_one(struct live *l, const char *iface, const struct capture_live_config *lc,
                    char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    int r, dlt;

    l->fanout = -1;
    if ((l->name = strdup(iface)) == NULL || (l->p = pcap_create(iface, perr)) == NULL) {
        snprintf(err, errlen, "%s: %s", iface, l->name ? perr : "out of memory");
        return MM_ECAPTURE;
    }
    pcap_set_snaplen(l->p, (int)lc->snaplen);
    pcap_set_promisc(l->p, lc->promisc);
    pcap_set_timeout(l->p, CAPTURE_TIMEOUT_MS);
    pcap_set_tstamp_precision(l->p, PCAP_TSTAMP_PRECISION_MICRO);
    if (lc->buffer_size > 0)
        pcap_set_buffer_size(l->p, lc->buffer_size > INT_MAX ? INT_MAX : (int)lc->buffer_size);
    if (lc->responding)
        pcap_set_immediate_mode(l->p, 1);
    r = pcap_activate(l->p);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", iface,
                 r == PCAP_ERROR ? pcap_geterr(l->p) : pcap_statustostr(r));
        return MM_ECAPTURE;
    }
    if (lc->hold) {
        /* Nothing is kept until the handle has joined the fanout groups: until then it sees
         * every packet the first worker sees too. */
        static struct bpf_insn drop = BPF_STMT(BPF_RET | BPF_K, 0);
        struct bpf_program none = {1, &drop};
        if (pcap_setfilter(l->p, &none) != 0) {
            snprintf(err, errlen, "%s: %s", iface, pcap_geterr(l->p));
            return MM_ECAPTURE;
        }
    } else if (lc->bpf != NULL && (r = set_filter(l, lc->bpf, err, errlen)) != 0) {
        return r;
    }
    if (lc->responding && pcap_setdirection(l->p, PCAP_D_IN) != 0) {
        snprintf(err, errlen, "%s: cannot capture arriving packets only: %s", iface,
                 pcap_geterr(l->p));
        return MM_ECAPTURE;
    }
    /*
     * With TPACKET_V3 the kernel hands over a block only once it holds packets, so a blocking
     * read on a silent interface never returns: read without blocking and wait in poll() with
     * our own timeout, so a quiet mirror port is noticed and the watchdog still fed.
     */
    if (pcap_setnonblock(l->p, 1, perr) != 0 || (l->fd = pcap_get_selectable_fd(l->p)) < 0) {
        snprintf(err, errlen, "%s: cannot read without blocking: %s", iface, pcap_geterr(l->p));
        return MM_ECAPTURE;
    }
    dlt = pcap_datalink(l->p);
    if ((l->link = link_from_dlt(dlt)) == MM_LINK_UNSUPPORTED) {
        snprintf(err, errlen, "%s: link type %d is not supported", iface, dlt);
        return MM_EUNSUPPORTED;
    }
    return 0;
}

int capture_open_live(struct capture **out, const char *const *ifaces, unsigned n,
                      const struct capture_live_config *lc, char *err, size_t errlen)
{
    struct capture *c;
    unsigned i;
    int r;

    *out = NULL;
    if (n == 0 || n > CAPTURE_MAX_IFACES) {
        snprintf(err, errlen, "between 1 and %d interfaces, not %u", CAPTURE_MAX_IFACES, n);
        return MM_EINVAL;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL ||
        (lc->bpf != NULL && (c->bpf = strdup(lc->bpf)) == NULL)) {
        free(c);
        return MM_ENOMEM;
    }
    c->held = lc->hold;
    for (i = 0; i < n; i++) {
        c->nlive++;
        if ((r = open_one(&c->live[i], ifaces[i], lc, err, errlen)) != 0) {
            capture_close(c);
            return r;
        }
    }
    *out = c;
    return 0;
}

static void fill(struct capture_pkt *pkt, const struct pcap_pkthdr *h, const u_char *data,
                 enum mm_link link, unsigned iface)
{
    pkt->data = data;
    pkt->caplen = h->caplen;
    pkt->wire_len = h->len < h->caplen ? h->caplen : h->len;
    pkt->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    pkt->link = link;
    pkt->iface = (uint8_t)iface;
}

/* pcap_dispatch()'s callback: the packet as it lies in the kernel ring, handed on. */
struct trampoline {
    struct live *l;
    unsigned iface;
    capture_fn fn;
    void *ud;
};

static void on_pcap(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct trampoline *t = (struct trampoline *)user;
    struct capture_pkt pkt;

    fill(&pkt, h, data, t->l->link, t->iface);
    t->l->st.packets++;
    t->fn(t->ud, &pkt);
}

int capture_dispatch(struct capture *c, capture_fn fn, void *ud, char *err, size_t errlen)
{
    struct pollfd pfd[CAPTURE_MAX_IFACES];
    struct capture_pkt pkt;
    unsigned k;
    int r;

    err[0] = '\0';
    if (c->nlive == 0) { /* files: libpcap reads them into its own buffer, no copy to save */
        if ((r = capture_next(c, &pkt, err, errlen)) == 1)
            fn(ud, &pkt);
        return r;
    }
    for (;;) {
        int total = 0;
        for (k = 0; k < c->nlive; k++) {
            unsigned i = (c->turn + k) % c->nlive;
            struct trampoline t = {&c->live[i], i, fn, ud};
            r = pcap_dispatch(c->live[i].p, CAPTURE_BATCH, on_pcap, (u_char *)&t);
            if (r == PCAP_ERROR_BREAK)
                return MM_EEOF;
            if (r < 0) {
                c->live[i].st.errors++;
                snprintf(err, errlen, "%s: %s", c->live[i].name, pcap_geterr(c->live[i].p));
                return MM_ECAPTURE;
            }
            total += r;
        }
        c->turn = (c->turn + 1) % c->nlive;
        if (total > 0) {
            c->waited = 0;
            return total;
        }
        if (c->waited) {
            c->waited = 0;
            return 0;
        }
        for (k = 0; k < c->nlive; k++) {
            pfd[k].fd = c->live[k].fd;
            pfd[k].events = POLLIN;
        }
        c->waited = 1;
        if (poll(pfd, c->nlive, CAPTURE_TIMEOUT_MS) < 0) {
            c->waited = 0;
            return 0; /* a signal: let the caller look at its flags */
        }
    }
}

int capture_next(struct capture *c, struct capture_pkt *pkt, char *err, size_t errlen)
{
    struct pcap_pkthdr *h;
    const u_char *data;

    err[0] = '\0';
    if (c->nlive > 0)
        return MM_EUNSUPPORTED; /* live: capture_dispatch() */
    for (;;) {
        int r;
        if (c->p == NULL)
            return MM_EEOF;
        r = pcap_next_ex(c->p, &h, &data);
        if (r == 1) {
            fill(pkt, h, data, c->link, 0);
            c->st.packets++;
            return 1;
        }
        if (r == PCAP_ERROR) {
            c->st.errors++;
            snprintf(err, errlen, "%s: %s", c->files[c->cur], pcap_geterr(c->p));
        }
        /* End of this file (or a damaged one): on to the next. */
        pcap_close(c->p);
        c->p = NULL;
        while (++c->cur < c->nfiles) {
            char eb[CAPTURE_ERRBUF_SIZE];
            if (open_file(c, c->files[c->cur], eb, sizeof(eb)) == 0)
                break;
            c->st.errors++;
            if (err[0] == '\0')
                snprintf(err, errlen, "%s", eb);
        }
        if (err[0] != '\0')
            return MM_ECAPTURE; /* reported; the caller calls again to go on */
    }
}

void capture_break(struct capture *c)
{
    unsigned i;

    if (c == NULL)
        return;
    for (i = 0; i < c->nlive; i++)
        if (c->live[i].p != NULL)
            pcap_breakloop(c->live[i].p);
    if (c->p != NULL)
        pcap_breakloop(c->p);
}

static void live_stats(struct live *l)
{
    struct pcap_stat ps;

    if (l->p != NULL && pcap_stats(l->p, &ps) == 0) {
        /* Unsigned 32-bit differences stay right across one wrap between two reads. */
        l->st.kernel_packets += (uint32_t)(ps.ps_recv - l->last.ps_recv);
        l->st.kernel_drops += (uint32_t)(ps.ps_drop - l->last.ps_drop);
        l->st.kernel_ifdrops += (uint32_t)(ps.ps_ifdrop - l->last.ps_ifdrop);
        l->last = ps;
    }
}

void capture_get_stats(struct capture *c, struct capture_stats *st)
{
    unsigned i;

    *st = c->st;
    if (c->nlive == 0) {
        st->kernel_packets = c->st.packets;
        return;
    }
    for (i = 0; i < c->nlive; i++) {
        live_stats(&c->live[i]);
        st->packets += c->live[i].st.packets;
        st->kernel_packets += c->live[i].st.kernel_packets;
        st->kernel_drops += c->live[i].st.kernel_drops;
        st->kernel_ifdrops += c->live[i].st.kernel_ifdrops;
        st->errors += c->live[i].st.errors;
    }
}

unsigned capture_ifaces(struct capture *c, struct capture_iface *out)
{
    unsigned i;

    for (i = 0; i < c->nlive; i++) {
        live_stats(&c->live[i]);
        out[i].name = c->live[i].name;
        out[i].st = c->live[i].st;
    }
    return c->nlive;
}

int capture_open_inject(struct capture *c, const char *iface, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    int r;

    if ((c->inject = pcap_create(iface, perr)) == NULL) {
        snprintf(err, errlen, "response interface %s: %s", iface, perr);
        return MM_ECAPTURE;
    }
    pcap_set_snaplen(c->inject, 96); /* never read */
    if ((r = pcap_activate(c->inject)) < 0) {
        snprintf(err, errlen, "response interface %s: %s", iface,
                 r == PCAP_ERROR ? pcap_geterr(c->inject) : pcap_statustostr(r));
        pcap_close(c->inject);
        c->inject = NULL;
        return MM_ECAPTURE;
    }
    return 0;
}

int capture_inject(struct capture *c, unsigned iface, const uint8_t *frame, size_t len)
{
    pcap_t *p = c->inject != NULL ? c->inject : iface < c->nlive ? c->live[iface].p : NULL;

    if (p == NULL)
        return MM_EUNSUPPORTED;
    return pcap_inject(p, frame, len) == (int)len ? 0 : MM_EIO;
}

int capture_join_workers(struct capture *c, const struct capture *first, char *err, size_t errlen)
{
    unsigned i;

    for (i = 0; i < c->nlive; i++) {
        struct live *l = &c->live[i];
        int fd = pcap_fileno(l->p), arg;
        socklen_t len = sizeof(arg);
        /* Hash fanout: the kernel's symmetric flow hash picks the socket, so both directions
         * of a flow reach the same worker. Not PACKET_FANOUT_FLAG_DEFRAG: the kernel would
         * reassemble fragments, and drop malformed ones, before the sensor saw them; later
         * fragments may reach another worker, which only counts them (decode.c). */
        unsigned mode = PACKET_FANOUT_HASH;
        if (first == NULL || first == c) /* the first worker: a new group, its id the kernel's */
            arg = (int)((mode | PACKET_FANOUT_FLAG_UNIQUEID) << 16);
        else if (i < first->nlive && first->live[i].fanout >= 0)
            arg = (int)(mode << 16) | first->live[i].fanout;
        else {
            snprintf(err, errlen, "%s: the first worker has no fanout group", l->name);
            return MM_EINVAL;
        }
        if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0 ||
            getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0) {
            snprintf(err, errlen,
                     "%s: cannot share the interface between "
                     "workers (PACKET_FANOUT): %s",
                     l->name, strerror(errno));
            return MM_ECAPTURE;
        }
        l->fanout = arg & 0xffff;
        /* A member now: from here on it gets its share, filtered as the site wants. */
        if (c->held && set_filter(l, c->bpf, err, errlen) != 0)
            return MM_ECAPTURE;
    }
    c->held = 0;
    return 0;
}

const char *capture_current_file(const struct capture *c)
{
    return c->nlive == 0 && c->cur < c->nfiles ? c->files[c->cur] : NULL;
}

void capture_close(struct capture *c)
{
    unsigned i;

    if (c == NULL)
        return;
    if (c->p != NULL)
        pcap_close(c->p);
    free(c->fbuf);
    if (c->inject != NULL)
        pcap_close(c->inject);
    free(c->bpf);
    for (i = 0; i < c->nlive; i++) {
        if (c->live[i].p != NULL)
            pcap_close(c->live[i].p);
        free(c->live[i].name);
    }
    free(c);
}
