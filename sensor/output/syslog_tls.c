/*
 * The OpenSSL wrapper (the only file that includes OpenSSL). Certificate verification is on
 * whenever a session is made: the chain must lead to the configured CA file (or the system's
 * store) and the certificate must name the host we asked for (SSL_set1_host), which is also
 * sent as SNI when it is a name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mimamori/error.h"
#include "mimamori/syslog_tls.h"

struct syslog_tls_ctx {
    SSL_CTX *ctx;
};

struct syslog_tls_session {
    SSL *ssl;
};

static void ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(err, errlen, "%s: %s", what, e != 0 ? buf : "failed");
    ERR_clear_error();
}

int syslog_tls_ctx_create(struct syslog_tls_ctx **out, const char *ca, const char *cert,
                          const char *key, char *err, size_t errlen)
{
    struct syslog_tls_ctx *c;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL ||
        (c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        free(c);
        snprintf(err, errlen, "TLS: out of memory");
        return MM_ENOMEM;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if ((ca != NULL ? SSL_CTX_load_verify_locations(c->ctx, ca, NULL)
                    : SSL_CTX_set_default_verify_paths(c->ctx)) != 1) {
        ssl_error(err, errlen, ca != NULL ? ca : "system CA store");
        syslog_tls_ctx_destroy(c);
        return MM_ECONFIG;
    }
    if (cert != NULL &&
        (SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1 ||
         SSL_CTX_use_PrivateKey_file(c->ctx, key != NULL ? key : cert, SSL_FILETYPE_PEM) != 1 ||
         SSL_CTX_check_private_key(c->ctx) != 1)) {
        ssl_error(err, errlen, cert);
        syslog_tls_ctx_destroy(c);
        return MM_ECONFIG;
    }
    *out = c;
    return 0;
}

void syslog_tls_ctx_destroy(struct syslog_tls_ctx *c)
{
    if (c == NULL)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

int syslog_tls_connect(struct syslog_tls_session **out, struct syslog_tls_ctx *c, int fd,
                       const char *name, char *err, size_t errlen)
{
    struct syslog_tls_session *s;
    int is_name = strspn(name, "0123456789.:") != strlen(name);

    *out = NULL;
    if ((s = calloc(1, sizeof(*s))) == NULL || (s->ssl = SSL_new(c->ctx)) == NULL) {
        free(s);
        snprintf(err, errlen, "TLS: out of memory");
        return MM_ENOMEM;
    }
    SSL_set_fd(s->ssl, fd);
    if (is_name) {
        SSL_set_tlsext_host_name(s->ssl, name);
        SSL_set1_host(s->ssl, name);
    } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), name);
    }
    if (SSL_connect(s->ssl) != 1) {
        long v = SSL_get_verify_result(s->ssl);
        if (v != X509_V_OK)
            snprintf(err, errlen, "TLS handshake: certificate not accepted: %s",
                     X509_verify_cert_error_string(v));
        else
            ssl_error(err, errlen, "TLS handshake");
        SSL_free(s->ssl);
        free(s);
        return MM_EIO;
    }
    *out = s;
    return 0;
}

int syslog_tls_write(struct syslog_tls_session *s, const void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        size_t n;
        if (SSL_write_ex(s->ssl, (const char *)buf + done, len - done, &n) != 1) {
            ERR_clear_error();
            return MM_EIO;
        }
        done += n;
    }
    return 0;
}

void syslog_tls_close(struct syslog_tls_session *s)
{
    if (s == NULL)
        return;
    SSL_shutdown(s->ssl);
    ERR_clear_error();
    SSL_free(s->ssl);
    free(s);
}
