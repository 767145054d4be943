/*
 * The syslog TLS transport against a real TLS server on loopback (OpenSSL's, in a thread of
 * this test, with a certificate the openssl command makes for "localhost"): a message crosses
 * when the chain leads to the configured CA and the certificate names the host asked for; the
 * handshake is refused, with a reason, when the name differs or the CA is another one.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mimamori/error.h"
#include "mimamori/syslog_tls.h"

static char dir[] = "/tmp/mm-tls-XXXXXX", cert[96], key[96], other[96], other_key[96];

struct server {
    int lfd;
    char got[256];
};

/* Accepts one connection, completes the handshake if it can, and keeps what it reads. */
static void *serve(void *arg)
{
    struct server *s = arg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL *ssl;
    int fd, n, off = 0;

    SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
    if ((fd = accept(s->lfd, NULL, NULL)) >= 0) {
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1)
            while (off < (int)sizeof(s->got) - 1 &&
                   (n = SSL_read(ssl, s->got + off, (int)sizeof(s->got) - 1 - off)) > 0)
                off += n;
        SSL_free(ssl);
        close(fd);
    }
    SSL_CTX_free(ctx);
    return NULL;
}

/* Connects to a fresh server with ca, checking name; the server's text in got. 0 or error. */
static int exchange(const char *ca, const char *name, char *got, size_t gotlen, char *err,
                    size_t errlen)
{
    struct server s = {0};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    struct syslog_tls_ctx *c;
    struct syslog_tls_session *ss;
    pthread_t tid;
    int fd, r;

    assert_true((s.lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s.lfd, 1), 0);
    assert_int_equal(getsockname(s.lfd, (struct sockaddr *)&sa, &sl), 0);
    assert_int_equal(pthread_create(&tid, NULL, serve, &s), 0);
    assert_int_equal(syslog_tls_ctx_create(&c, ca, NULL, NULL, err, errlen), 0);
    assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if ((r = syslog_tls_connect(&ss, c, fd, name, err, errlen)) == 0) {
        assert_int_equal(syslog_tls_write(ss, "<134>1 - hello\n", 15), 0);
        syslog_tls_close(ss);
    }
    close(fd); /* the server's read ends */
    pthread_join(tid, NULL);
    close(s.lfd);
    syslog_tls_ctx_destroy(c);
    snprintf(got, gotlen, "%s", s.got);
    return r;
}

static int make_certs(void **state)
{
    char cmd[1024];

    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cert, sizeof(cert), "%s/c.pem", dir);
    snprintf(key, sizeof(key), "%s/k.pem", dir);
    snprintf(other, sizeof(other), "%s/o.pem", dir);
    snprintf(other_key, sizeof(other_key), "%s/ok.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout %s -out %s "
             ">/dev/null 2>&1 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout %s -out %s "
             ">/dev/null 2>&1",
             key, cert, other_key, other);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_certs(void **state)
{
    char cmd[256];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_delivered(void **state)
{
    char got[256], err[256];

    (void)state;
    if (exchange(cert, "localhost", got, sizeof(got), err, sizeof(err)) != 0)
        fail_msg("handshake: %s", err);
    assert_string_equal(got, "<134>1 - hello\n");
}

static void test_wrong_name(void **state)
{
    char got[256], err[256] = "";

    (void)state;
    assert_int_not_equal(exchange(cert, "siem.example", got, sizeof(got), err, sizeof(err)), 0);
    assert_string_equal(got, "");
    assert_true(strlen(err) > 0);
}

static void test_other_ca(void **state)
{
    char got[256], err[256] = "";

    (void)state;
    /* Same name, but a certificate the configured CA did not sign. */
    assert_int_not_equal(exchange(other, "localhost", got, sizeof(got), err, sizeof(err)), 0);
    assert_string_equal(got, "");
    assert_non_null(strstr(err, "certificate"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered),
        cmocka_unit_test(test_wrong_name),
        cmocka_unit_test(test_other_ca),
    };
    signal(SIGPIPE, SIG_IGN); /* as the sensor does: a peer gone is an error, not a signal */
    return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
