/*
 * TLS client connections for syslog over TLS (RFC 5425), the only module that includes
 * OpenSSL. A context holds the trust anchors (a CA file) and an optional client certificate;
 * a session wraps a connected TCP socket, verifies the server's certificate chain and name,
 * and offers blocking writes bounded by the socket's timeouts. TLS 1.2 at least.
 */
#ifndef MIMAMORI_TLS_H
#define MIMAMORI_TLS_H

#include <stddef.h>
#include "mimamori/error.h"

struct syslog_tls_ctx;
struct syslog_tls_session;

/* ca: PEM file of trusted CAs (NULL: the system's); cert/key: client certificate, or NULL. */
MM_MUST_CHECK int syslog_tls_ctx_create(struct syslog_tls_ctx **out, const char *ca,
                                        const char *cert, const char *key, char *err,
                                        size_t errlen);
void syslog_tls_ctx_destroy(struct syslog_tls_ctx *c);

/* Handshake on a connected socket fd (not taken over), checking the certificate for name. */
int syslog_tls_connect(struct syslog_tls_session **out, struct syslog_tls_ctx *c, int fd,
                       const char *name, char *err, size_t errlen);

/* Write all of buf. 0, or MM_EIO when the session is broken. */
int syslog_tls_write(struct syslog_tls_session *s, const void *buf, size_t len);

/* Send close_notify (best effort) and free; the socket stays open. */
void syslog_tls_close(struct syslog_tls_session *s);

#endif
