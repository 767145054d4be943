/*
 * Syslog formatting and transports. Sockets are blocking with SO_SNDTIMEO, connects are
 * bounded with poll(); sends never raise SIGPIPE. A stream's health is read from the socket
 * itself: a FIN or reset from the receiver shows as POLLRDHUP/POLLHUP/POLLERR (syslog
 * receivers never send data, so readable data is not looked at), and SIOCOUTQ gives the bytes
 * still unacknowledged, which the output stage turns into messages to send again.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "mimamori/error.h"
#include "mimamori/syslog.h"
#include "mimamori/tz.h"
#include "mimamori/syslog_tls.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

struct syslog_conn {
    enum syslog_transport transport;
    int fd;
    struct syslog_tls_session *tls;
};

size_t syslog_format(char *buf, size_t size, unsigned pri, uint64_t ts_us, const char *hostname,
                     unsigned procid, const char *msgid, const char *msg, size_t len)
{
    time_t sec = (time_t)(ts_us / 1000000u);
    char date[32], zone[8], host[256];
    struct tm tm;
    size_t i, n;
    int hdr;

    tz_localtime(sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm); /* +0900 -> +09:00 */
    if (strlen(zone) == 5) {
        zone[6] = '\0';
        zone[5] = zone[4];
        zone[4] = zone[3];
        zone[3] = ':';
    }
    for (i = 0; hostname[i] != '\0' && i < sizeof(host) - 1; i++)
        host[i] = hostname[i] > 0x20 && hostname[i] < 0x7f ? hostname[i] : '_';
    host[i] = '\0';
    hdr = snprintf(buf, size, "<%u>1 %s.%06u%s %s mimamori %u %s - ", pri, date,
                   (unsigned)(ts_us % 1000000u), zone, i > 0 ? host : "-", procid, msgid);
    if (hdr < 0)
        return 0;
    n = (size_t)hdr + len;
    if (n < size) {
        memcpy(buf + hdr, msg, len);
        buf[n] = '\0';
    }
    return n;
}

int syslog_facility(const char *name)
{
    static const struct {
        const char *name;
        int code;
    } f[] = {{"user", 1},    {"daemon", 3},  {"auth", 4},    {"authpriv", 10},
             {"local0", 16}, {"local1", 17}, {"local2", 18}, {"local3", 19},
             {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23}};
    size_t i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (strcasecmp(f[i].name, name) == 0)
            return f[i].code;
    return MM_ENOTFOUND;
}

/* A socket connected to the target within its timeout, or -1. */
static int connect_to(const struct syslog_target *t, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL, *ai;
    struct timeval tv = {.tv_sec = t->timeout_ms / 1000, .tv_usec = (t->timeout_ms % 1000) * 1000};
    int fd = -1, r;

    hints.ai_socktype = t->transport == SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM;
    if ((r = getaddrinfo(t->host, t->port, &hints, &res)) != 0) {
        snprintf(err, errlen, "%s: %s", t->host, gai_strerror(r));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        struct pollfd p;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EINPROGRESS) {
            p.fd = fd;
            p.events = POLLOUT;
            if (poll(&p, 1, (int)t->timeout_ms) != 1)
                errno = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                errno = 0;
            else
                errno = soerr;
        } else if (errno == EINPROGRESS) {
            errno = 0;
        }
        if (errno == 0 || t->transport == SYSLOG_UDP) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            break;
        }
        snprintf(err, errlen, "connect %s:%s: %s", t->host, t->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int syslog_open(struct syslog_conn **out, const struct syslog_target *t, char *err, size_t errlen)
{
    struct syslog_conn *c;
    int fd;

    *out = NULL;
    if ((fd = connect_to(t, err, errlen)) < 0)
        return MM_EIO;
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        close(fd);
        return MM_ENOMEM;
    }
    c->transport = t->transport;
    c->fd = fd;
    if (t->transport == SYSLOG_TLS &&
        syslog_tls_connect(&c->tls, t->tls, fd, t->server_name ? t->server_name : t->host, err,
                           errlen) != 0) {
        close(fd);
        free(c);
        return MM_EIO;
    }
    *out = c;
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return MM_EIO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int syslog_send(struct syslog_conn *c, const char *msg, size_t len)
{
    char frame[24];
    int n;

    if (c->transport == SYSLOG_UDP) {
        /* An ICMP refusal of an earlier datagram is reported here: one more try. */
        if (send(c->fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len ||
            (errno == ECONNREFUSED && send(c->fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len))
            return 0;
        return MM_EIO;
    }
    n = snprintf(frame, sizeof(frame), "%zu ", len); /* RFC 6587 octet counting */
    if (c->tls != NULL)
        return syslog_tls_write(c->tls, frame, (size_t)n) == 0 ? syslog_tls_write(c->tls, msg, len)
                                                               : MM_EIO;
    return write_all(c->fd, frame, (size_t)n) == 0 ? write_all(c->fd, msg, len) : MM_EIO;
}

int syslog_alive(struct syslog_conn *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};

    if (c->transport == SYSLOG_UDP)
        return 1;
    return poll(&p, 1, 0) == 0 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

uint64_t syslog_unacked(struct syslog_conn *c)
{
    int n = 0;

    if (c->transport == SYSLOG_UDP || ioctl(c->fd, SIOCOUTQ, &n) != 0 || n < 0)
        return 0;
    return (uint64_t)n;
}

void syslog_close(struct syslog_conn *c)
{
    if (c == NULL)
        return;
    syslog_tls_close(c->tls);
    close(c->fd);
    free(c);
}
