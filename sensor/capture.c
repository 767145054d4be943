/*
 * The libpcap wrapper (the only file that includes pcap.h). Files are checked when opened, so
 * a typo in the fifth -r fails before the first packet, and are then read one after another.
 * Timestamps are requested in microseconds whatever the file stores. Link types are mapped to
 * the decoder's; a file with one we do not decode is refused with its name.
 */
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "mimamori/capture.h"
#include "mimamori/error.h"

#define CAPTURE_TIMEOUT_MS 250 /* live: longest wait before capture_next() returns 0 */

struct capture {
    pcap_t *p;
    enum mm_link link;
    char *const *files;
    unsigned nfiles, cur;
    char *iface;
    int fd;     /* live: to wait on in poll() */
    int waited; /* live: poll() has run since the last packet */
    struct capture_stats st;
    struct pcap_stat last; /* libpcap's counters are 32-bit and wrap: widened by deltas */
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

static int open_file(struct capture *c, const char *path, char *errbuf)
{
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, perr);
    int dlt;

    if (p == NULL) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: %s", path, perr);
        return MM_ECAPTURE;
    }
    dlt = pcap_datalink(p);
    if (link_from_dlt(dlt) == MM_LINK_UNSUPPORTED) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: link type %s (%d) is not supported", path,
                 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "unknown", dlt);
        pcap_close(p);
        return MM_EUNSUPPORTED;
    }
    if (c->p != NULL)
        pcap_close(c->p);
    c->p = p;
    c->link = link_from_dlt(dlt);
    return 0;
}

int capture_open_files(struct capture **out, char *const *files, unsigned n, char *errbuf)
{
    struct capture *c;
    unsigned i;
    int r;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return MM_ENOMEM;
    c->files = files;
    c->nfiles = n;
    for (i = n; i-- > 0;) { /* check all; the first file stays open */
        if ((r = open_file(c, files[i], errbuf)) != 0) {
            capture_close(c);
            return r;
        }
    }
    *out = c;
    return 0;
}

int capture_check_filter(const char *bpf, char *errbuf)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
    struct bpf_program prog;
    int r = 0;

    if (p == NULL) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "out of memory");
        return MM_ENOMEM;
    }
    if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s", pcap_geterr(p));
        r = MM_EINVAL;
    } else {
        pcap_freecode(&prog);
    }
    pcap_close(p);
    return r;
}

int capture_open_live(struct capture **out, const char *iface, const struct capture_live_config *lc,
                      char *errbuf)
{
    struct bpf_program prog;
    char perr[PCAP_ERRBUF_SIZE];
    struct capture *c;
    int r, dlt;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return MM_ENOMEM;
    if ((c->iface = strdup(iface)) == NULL || (c->p = pcap_create(iface, perr)) == NULL) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: %s", iface, c->iface ? perr : "out of memory");
        capture_close(c);
        return MM_ECAPTURE;
    }
    pcap_set_snaplen(c->p, (int)lc->snaplen);
    pcap_set_promisc(c->p, lc->promisc);
    pcap_set_timeout(c->p, CAPTURE_TIMEOUT_MS);
    pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_MICRO);
    if (lc->buffer_size > 0)
        pcap_set_buffer_size(c->p, lc->buffer_size > INT_MAX ? INT_MAX : (int)lc->buffer_size);
    r = pcap_activate(c->p);
    if (r < 0) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: %s", iface,
                 r == PCAP_ERROR ? pcap_geterr(c->p) : pcap_statustostr(r));
        capture_close(c);
        return MM_ECAPTURE;
    }
    if (lc->bpf != NULL) {
        if (pcap_compile(c->p, &prog, lc->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
            pcap_setfilter(c->p, &prog) != 0) {
            snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: filter '%s': %s", iface, lc->bpf,
                     pcap_geterr(c->p));
            capture_close(c);
            return MM_ECAPTURE;
        }
        pcap_freecode(&prog);
    }
    /*
     * With TPACKET_V3 the kernel hands over a block only once it holds packets, so a blocking
     * read on a silent interface never returns: read without blocking and wait in poll() with
     * our own timeout, so a quiet mirror port is noticed and the watchdog still fed.
     */
    if (pcap_setnonblock(c->p, 1, perr) != 0 || (c->fd = pcap_get_selectable_fd(c->p)) < 0) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: cannot read without blocking: %s", iface,
                 pcap_geterr(c->p));
        capture_close(c);
        return MM_ECAPTURE;
    }
    dlt = pcap_datalink(c->p);
    if ((c->link = link_from_dlt(dlt)) == MM_LINK_UNSUPPORTED) {
        snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: link type %d is not supported", iface, dlt);
        capture_close(c);
        return MM_EUNSUPPORTED;
    }
    *out = c;
    return 0;
}

int capture_next(struct capture *c, struct capture_pkt *pkt, char *errbuf)
{
    struct pcap_pkthdr *h;
    const u_char *data;

    errbuf[0] = '\0';
    for (;;) {
        int r;
        if (c->p == NULL)
            return MM_EEOF;
        r = pcap_next_ex(c->p, &h, &data);
        if (r == 1) {
            pkt->data = data;
            pkt->caplen = h->caplen;
            pkt->wire_len = h->len < h->caplen ? h->caplen : h->len;
            pkt->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
            pkt->link = c->link;
            c->st.packets++;
            c->waited = 0;
            return 1;
        }
        if (r == 0) { /* live, nothing ready: wait once, then report the timeout */
            struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
            if (c->waited) {
                c->waited = 0;
                return 0;
            }
            c->waited = 1;
            if (poll(&pfd, 1, CAPTURE_TIMEOUT_MS) < 0) {
                c->waited = 0;
                return 0; /* a signal: let the caller look at its flags */
            }
            continue;
        }
        if (r == PCAP_ERROR_BREAK && c->iface != NULL)
            return MM_EEOF;
        if (r == PCAP_ERROR) {
            c->st.errors++;
            snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s: %s", c->iface ? c->iface : c->files[c->cur],
                     pcap_geterr(c->p));
            if (c->iface != NULL)
                return MM_ECAPTURE;
        }
        /* End of this file (or a damaged one): on to the next. */
        pcap_close(c->p);
        c->p = NULL;
        if (c->iface != NULL)
            return MM_EEOF;
        while (++c->cur < c->nfiles) {
            char eb[CAPTURE_ERRBUF_SIZE];
            if (open_file(c, c->files[c->cur], eb) == 0)
                break;
            c->st.errors++;
            if (errbuf[0] == '\0')
                snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "%s", eb);
        }
        if (errbuf[0] != '\0')
            return MM_ECAPTURE; /* reported; the caller calls again to go on */
    }
}

void capture_break(struct capture *c)
{
    if (c != NULL && c->p != NULL)
        pcap_breakloop(c->p);
}

void capture_get_stats(struct capture *c, struct capture_stats *st)
{
    struct pcap_stat ps;

    if (c->iface != NULL && c->p != NULL && pcap_stats(c->p, &ps) == 0) {
        /* Unsigned 32-bit differences stay right across one wrap between two reads. */
        c->st.kernel_packets += (uint32_t)(ps.ps_recv - c->last.ps_recv);
        c->st.kernel_drops += (uint32_t)(ps.ps_drop - c->last.ps_drop);
        c->st.kernel_ifdrops += (uint32_t)(ps.ps_ifdrop - c->last.ps_ifdrop);
        c->last = ps;
    }
    *st = c->st;
    if (c->iface == NULL)
        st->kernel_packets = c->st.packets;
}

const char *capture_iface(const struct capture *c)
{
    return c->iface;
}

const char *capture_current_file(const struct capture *c)
{
    return c->iface == NULL && c->cur < c->nfiles ? c->files[c->cur] : NULL;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    if (c->p != NULL)
        pcap_close(c->p);
    free(c->iface);
    free(c);
}
