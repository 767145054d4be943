/*
 * What nDPI found out about a flow beyond its protocol (TLS SNI, version, JA3/JA3S, HTTP host and
 * user agent, the DNS query name, SSH software), copied out of nDPI's flow state into one block
 * before that state is recycled. Every string comes from the packet: it is cut to
 * MM_META_MAX_STR, and bytes that are not printable ASCII or valid UTF-8 are escaped, so what
 * reaches an event is always valid and never a control character.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "mimamori/classify.h"
#include "mimamori/limits.h"

#include "classify_int.h"

struct classify_meta {
    uint16_t off[META__COUNT]; /* offset into data; 0: absent (data[0] is NUL) */
    char data[];
};

/* Length of the valid UTF-8 sequence of a non-ASCII character at s (RFC 3629), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0; /* overlong */
    else if (s[0] == 0xED)
        hi = 0x9F; /* surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90; /* overlong */
    else if (s[0] == 0xF4)
        hi = 0x8F; /* beyond U+10FFFF */
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/*
 * A metadata string as events carry it, into out (at most MM_META_MAX_STR characters and the
 * NUL): valid UTF-8 text as it is; a control character, a backslash or a byte that is not
 * UTF-8 escaped as \xHH (a backslash as \\). Whoever sends a Host header or an SNI with a
 * stray byte would otherwise have the whole value, and the evidence naming it, dropped: the
 * JSON writer refuses strings that are not UTF-8. Returns the length written.
 */
static size_t meta_clean(char *out, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strnlen(in, MM_META_MAX_STR), i = 0, o = 0, k;

    while (i < n) {
        for (k = i; k < n && s[k] >= 0x20 && s[k] < 0x7F && s[k] != '\\'; k++)
            ; /* a run of plain text, copied at once */
        if (k > i) {
            if (k - i > MM_META_MAX_STR - o) /* escapes before it took room */
                k = i + (MM_META_MAX_STR - o);
            memcpy(out + o, s + i, k - i);
            o += k - i;
            if (o == MM_META_MAX_STR)
                break;
            i = k;
            continue;
        }
        if (s[i] >= 0x80 && (k = utf8_len(s + i, n - i)) > 0) {
            if (o + k > MM_META_MAX_STR)
                break;
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
            continue;
        }
        if (o + (s[i] == '\\' ? 2 : 4) > MM_META_MAX_STR)
            break;
        out[o++] = '\\';
        if (s[i] == '\\') {
            out[o++] = '\\';
        } else {
            out[o++] = 'x';
            out[o++] = hex[s[i] >> 4];
            out[o++] = hex[s[i] & 15];
        }
        i++;
    }
    out[o] = '\0';
    return o;
}

/* Split an SSH banner "SSH-2.0-OpenSSH_8.9" to its software part "OpenSSH_8.9". */
static const char *ssh_software(const char *banner)
{
    const char *p;

    if (strncmp(banner, "SSH-", 4) != 0 || (p = strchr(banner + 4, '-')) == NULL)
        return banner;
    return p + 1;
}

/* A certificate's SHA-1 fingerprint in hex, or NULL when nDPI saw no certificate. */
static const char *cert_sha1(const uint8_t fp[20], char out[41])
{
    static const uint8_t none[20];

    if (memcmp(fp, none, 20) == 0)
        return NULL;
    for (int i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", fp[i]);
    return out;
}

/* TLS, QUIC and DTLS: server name, version, JA3 both ways, certificate names and fingerprint. */
static void tls_meta(const char **val, const struct ndpi_flow_struct *nf, char tls_version[32],
                     char sha1[41])
{
    val[META_TLS_SNI] = nf->host_server_name;
    if (nf->protos.tls_quic.ssl_version != 0) {
        uint8_t unknown;
        val[META_TLS_VERSION] =
            ndpi_ssl_version2str(tls_version, 32, nf->protos.tls_quic.ssl_version, &unknown);
    }
    val[META_TLS_JA3] = nf->protos.tls_quic.ja3_client;
    val[META_TLS_JA3S] = nf->protos.tls_quic.ja3_server;
    val[META_TLS_CERT_NAMES] = nf->protos.tls_quic.server_names;
    val[META_TLS_CERT_SHA1] = cert_sha1(nf->protos.tls_quic.sha1_certificate_fingerprint, sha1);
}

void classify__meta_collect(struct flow *f, const struct ndpi_flow_struct *nf,
                            const ndpi_protocol *p, const struct classify_seen *seen)
{
    const char *dns_qname = seen->dns_qname;
    const char *val[META__COUNT] = {0};
    char tls_version[32], sha1[41], clean[META__COUNT][MM_META_MAX_STR + 1];
    size_t total = 1, len[META__COUNT];
    struct classify_meta *m;
    uint16_t ids[2] = {p->master_protocol, p->app_protocol};
    int i, f_;

    for (i = 0; i < 2; i++) {
        switch (ids[i]) {
        case NDPI_PROTOCOL_TLS:
        case NDPI_PROTOCOL_QUIC:
        case NDPI_PROTOCOL_DTLS:
            tls_meta(val, nf, tls_version, sha1);
            break;
        case NDPI_PROTOCOL_HTTP:
        case NDPI_PROTOCOL_HTTP_PROXY:
        case NDPI_PROTOCOL_HTTP_CONNECT:
            val[META_HTTP_HOST] = nf->host_server_name;
            val[META_HTTP_USER_AGENT] = nf->http.user_agent;
            val[META_HTTP_URL] = nf->http.url;
            break;
        case NDPI_PROTOCOL_DNS:
        case NDPI_PROTOCOL_MDNS:
        case NDPI_PROTOCOL_LLMNR:
            /* nDPI's copy is cut at 80 bytes, lower-cased, its first byte lost on some
             * names: the name as the packet carried it, when the question was read. */
            val[META_DNS_RRNAME] = dns_qname != NULL ? dns_qname : nf->host_server_name;
            break;
        case NDPI_PROTOCOL_SSH:
            /* nDPI's "client" banner is the first one seen, the server's when it spoke first. */
            val[seen->swapped ? META_SSH_SERVER : META_SSH_CLIENT] =
                ssh_software(nf->protos.ssh.client_signature);
            val[seen->swapped ? META_SSH_CLIENT : META_SSH_SERVER] =
                ssh_software(nf->protos.ssh.server_signature);
            break;
        default:
            break;
        }
    }
    val[META_SHELL] = seen->shell;
    if (seen->sslv2 && val[META_TLS_VERSION] == NULL)
        val[META_TLS_VERSION] = "SSLv2";
    for (f_ = 0; f_ < META__COUNT; f_++) {
        if (f_ == META_DNS_RRNAME && val[f_] != NULL && val[f_] == dns_qname) {
            /* printable ASCII already, escaped as RFC 1035 writes names (dnscache.h) */
            len[f_] = strnlen(dns_qname, MM_META_MAX_STR);
            memcpy(clean[f_], dns_qname, len[f_]);
        } else {
            len[f_] = val[f_] != NULL ? meta_clean(clean[f_], val[f_]) : 0;
        }
        if (len[f_] > 0)
            total += len[f_] + 1;
    }
    if (total == 1 || (m = malloc(sizeof(*m) + total)) == NULL)
        return;
    m->data[0] = '\0';
    total = 1;
    for (f_ = 0; f_ < META__COUNT; f_++) {
        m->off[f_] = 0;
        if (len[f_] == 0)
            continue;
        m->off[f_] = (uint16_t)total;
        memcpy(m->data + total, clean[f_], len[f_]);
        m->data[total + len[f_]] = '\0';
        total += len[f_] + 1;
    }
    f->app.meta = m;
}

size_t classify_meta_size(const struct classify_meta *m)
{
    size_t end = 1, e;
    int i;

    for (i = 0; i < META__COUNT; i++)
        if (m->off[i] != 0 && (e = m->off[i] + strlen(m->data + m->off[i]) + 1) > end)
            end = e;
    return sizeof(*m) + end;
}

const char *classify_meta_get(const struct classify_meta *m, enum classify_meta_field field)
{
    if (m == NULL || (unsigned)field >= META__COUNT || m->off[field] == 0)
        return NULL;
    return m->data + m->off[field];
}
