/*
 * Syslog delivery: RFC 5424 messages carrying one EVE JSON line each, over UDP (RFC 5426),
 * TCP with octet counting (RFC 6587) or TLS (RFC 5425). The formatter is pure; a connection
 * is blocking with a timeout on every operation, so the output thread that owns it can tell a
 * slow or dead receiver from a working one. Stream transports report how many bytes the peer
 * has not acknowledged yet, so what a broken connection lost can be sent again.
 */
#ifndef MIMAMORI_SYSLOG_H
#define MIMAMORI_SYSLOG_H

#include <stddef.h>
#include <stdint.h>
#include "mimamori/error.h"

enum syslog_transport { SYSLOG_UDP = 0, SYSLOG_TCP, SYSLOG_TLS };

struct syslog_tls_ctx;

struct syslog_target {
    enum syslog_transport transport;
    char host[256];
    char port[8];
    const char *server_name;    /* TLS: the name the certificate must carry (default: host) */
    struct syslog_tls_ctx *tls; /* TLS: trust anchors and client certificate (caller's) */
    unsigned timeout_ms;        /* connect and send */
};

/*
 * Write "<PRI>1 TIMESTAMP HOSTNAME mimamori PROCID MSGID - MSG" into buf (NUL-terminated when
 * it fits). TIMESTAMP is ts_us in local time as RFC 3339 (microseconds, "+09:00"); hostname
 * is cleaned to printable ASCII without spaces. Returns the length the message needs.
 */
size_t syslog_format(char *buf, size_t size, unsigned pri, uint64_t ts_us, const char *hostname,
                     unsigned procid, const char *msgid, const char *msg, size_t len);

/* Syslog facility number by name (local0..local7, user, daemon, auth, authpriv), or
 * MM_ENOTFOUND. */
int syslog_facility(const char *name);

struct syslog_conn;

/* Connect (and for TLS, handshake). 0, or MM_EIO with err filled. */
MM_MUST_CHECK int syslog_open(struct syslog_conn **out, const struct syslog_target *t, char *err,
                              size_t errlen);

/* Send one message, framed for the transport. 0, or MM_EIO (the connection is broken). */
int syslog_send(struct syslog_conn *c, const char *msg, size_t len);

/* Whether the peer has not closed or reset the connection (always 1 for UDP). */
int syslog_alive(struct syslog_conn *c);

/* Bytes written to a stream connection that its peer has not acknowledged (0 for UDP). */
uint64_t syslog_unacked(struct syslog_conn *c);

void syslog_close(struct syslog_conn *c);

#endif
