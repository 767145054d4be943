/*
 * TLS client connections for syslog over TLS (RFC 5425), the only module that includes
 * OpenSSL. A context holds the trust anchors (a CA file) and an optional client certificate;
 * a session wraps a connected TCP socket, verifies the server's certificate chain and name,
 * and offers blocking writes bounded by the socket's timeouts. TLS 1.2 at least.
 */
#ifndef MIMAMORI_TLS_H
#define MIMAMORI_TLS_H

#include <stddef.h>

struct tls_ctx;
struct tls_session;

/* ca: PEM file of trusted CAs (NULL: the system's); cert/key: client certificate, or NULL. */
int tls_ctx_create(struct tls_ctx **out, const char *ca, const char *cert, const char *key,
                   char *err, size_t errlen);
void tls_ctx_destroy(struct tls_ctx *c);

/* Handshake on a connected socket fd (not taken over), checking the certificate for name. */
int tls_connect(struct tls_session **out, struct tls_ctx *c, int fd, const char *name, char *err,
                size_t errlen);

/* Write all of buf. 0, or MM_EIO when the session is broken. */
int tls_write(struct tls_session *s, const void *buf, size_t len);

/* Send close_notify (best effort) and free; the socket stays open. */
void tls_close(struct tls_session *s);

#endif
