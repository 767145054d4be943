/*
 * What the classifier reads from a flow's packets itself, where nDPI 4.2 falls short: an SSL 2.0
 * ClientHello, SSH protocol 1 banners, a command shell answering on a plain TCP connection, a
 * BSD r-command's request, whether Telnet credentials really crossed, and whether a DGA verdict
 * rests on a subdomain only. Pure functions over bytes
 * and nDPI's flow state.
 */
#include <string.h>
#include <strings.h>

#include <ndpi_api.h>

#include "mimamori/dnscache.h"

#include "classify_int.h"

#define CLEAR_CREDENTIALS (1ULL << NDPI_CLEAR_TEXT_CREDENTIALS)

/*
 * nDPI 4.2 gives every Telnet session the clear-text credentials risk, whether or not anyone
 * logged in (a server that refuses at once, a banner grab). It is kept only where its own
 * dissector saw a user name or a password cross; other protocols set it on what they saw.
 */
int classify__credentials_seen(const struct ndpi_flow_struct *nf, const ndpi_protocol *p)
{
    if (!(nf->risk & CLEAR_CREDENTIALS) ||
        (p->app_protocol != NDPI_PROTOCOL_TELNET && p->master_protocol != NDPI_PROTOCOL_TELNET))
        return 1;
    return nf->protos.telnet.username_found || nf->protos.telnet.password_found;
}

/*
 * SSH protocol version 1 (a banner "SSH-1.x-", not "SSH-1.99-", which says 2.0 is spoken):
 * broken since 2001 and past every vendor's support. nDPI 4.2 reports it under its own risks
 * for obsolete SSH versions only for some 2.0 software; these mark version 1 too.
 */
uint64_t classify__ssh_v1_risks(const struct ndpi_flow_struct *nf, const ndpi_protocol *p,
                                int swapped)
{
    const uint64_t cli = 1ULL << NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER,
                   srv = 1ULL << NDPI_SSH_OBSOLETE_SERVER_VERSION_OR_CIPHER;
    uint64_t r = 0;

    if (p->app_protocol != NDPI_PROTOCOL_SSH && p->master_protocol != NDPI_PROTOCOL_SSH)
        return 0;
    if (strncmp(nf->protos.ssh.client_signature, "SSH-1.", 6) == 0 &&
        strncmp(nf->protos.ssh.client_signature, "SSH-1.99-", 9) != 0)
        r |= swapped ? srv : cli;
    if (strncmp(nf->protos.ssh.server_signature, "SSH-1.", 6) == 0 &&
        strncmp(nf->protos.ssh.server_signature, "SSH-1.99-", 9) != 0)
        r |= swapped ? cli : srv;
    return r;
}

/*
 * An SSL 2.0 ClientHello (draft-hickman-netscape-ssl-00): a two-byte record header with its
 * top bit set, message type 1, version 0x0002, and lengths that add up (cipher specs of three
 * bytes, a session id of 0 or 16, a challenge of 16 to 32). nDPI 4.2 does not know SSL 2.0; a
 * client still offering it is a device past its end of support. (A TLS client's hello in the
 * old format, for compatibility, carries 0x0300 or later and is not counted.)
 */
int classify__sslv2_client_hello(const uint8_t *p, uint32_t len)
{
    uint32_t rec = ((uint32_t)(p[0] & 0x7f) << 8) | p[1];
    uint32_t specs = (uint32_t)p[5] << 8 | p[6], sid = (uint32_t)p[7] << 8 | p[8],
             challenge = (uint32_t)p[9] << 8 | p[10];

    (void)len; /* the caller saw 11 bytes; the rest may be in later segments */
    return (p[0] & 0x80) && p[2] == 0x01 && p[3] == 0x00 && p[4] == 0x02 && specs > 0 &&
           specs % 3 == 0 && (sid == 0 || sid == 16) && challenge >= 16 && challenge <= 32 &&
           rec == 9 + specs + sid + challenge;
}

/* Whether s (len bytes) begins with text. */
static int begins(const uint8_t *s, uint32_t len, const char *text)
{
    size_t n = strlen(text);

    return len >= n && memcmp(s, text, n) == 0;
}

/* A Unix shell's prompt "sh-5.1$ " or "bash-5.2# " (the default PS1 of sh and bash). */
static int unix_prompt(const uint8_t *p, uint32_t len)
{
    uint32_t i = begins(p, len, "bash-") ? 5 : begins(p, len, "sh-") ? 3 : 0, digits = 0;

    if (i == 0)
        return 0;
    for (; i < len && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'); i++)
        digits++;
    return digits >= 3 && i + 1 < len && (p[i] == '$' || p[i] == '#') && p[i + 1] == ' ';
}

/*
 * What a command shell says first when it answers over a plain TCP connection (a bind or a
 * reverse shell, a worm's backdoor): cmd.exe's and PowerShell's banners, a Windows or Unix
 * prompt. Only the first data of each side is looked at, where no other protocol would begin
 * so; text further into a stream (a web page quoting a banner) is not.
 */
int classify__shell_banner(const uint8_t *p, uint32_t len)
{
    if (begins(p, len, "Windows PowerShell\r\nCopyright (C) Microsoft Corporation") ||
        begins(p, len, "PS C:\\"))
        return SHELL_POWERSHELL;
    if (begins(p, len, "Microsoft Windows [Version ") ||
        (begins(p, len, "C:\\") && memchr(p, '>', len) != NULL && len < 260))
        return SHELL_CMD;
    return unix_prompt(p, len) ? SHELL_UNIX : 0;
}

int classify__rcmd_request(const uint8_t *p, uint32_t len)
{
    uint32_t i = 0;

    if (len == 0 || len > 1024 || p[len - 1] != '\0')
        return 0;
    while (i < len && i < 5 && p[i] >= '0' && p[i] <= '9')
        i++;
    if (p[i] != '\0')
        return 0; /* neither a port number nor rlogin's leading NUL */
    for (; i < len; i++)
        if (p[i] != '\0' && (p[i] < 0x20 || p[i] >= 0x7f))
            return 0;
    return 1;
}

/*
 * Names no one can register (RFC 6761, 6762, 8375, and the suffixes sites use inside): a
 * generated domain must resolve on the internet to reach its server.
 */
static int local_name(const char *name)
{
    static const char *const local[] = {"local",       "localhost", "arpa",   "internal", "lan",
                                        "localdomain", "home",      "corp",   "intranet", "private",
                                        "test",        "invalid",   "example"};
    const char *tld = strrchr(name, '.');
    size_t k;

    tld = tld != NULL ? tld + 1 : name;
    for (k = 0; k < sizeof(local) / sizeof(local[0]); k++)
        if (strcasecmp(tld, local[k]) == 0)
            return 1;
    return 0;
}

int classify__dga_explained(struct ndpi_detection_module_struct *mod, const char *name)
{
    char plain[DNS_NAME_MAX];
    int at = dnscache_registered(name);
    size_t i, n = 0;

    if (local_name(name))
        return 1; /* Chrome's random probes with the search suffix home.arpa, say */
    if (at <= 0 || strlen(name) >= sizeof(plain))
        return 0; /* the name is its registered domain, or has none */
    if (dnscache_data_chars(name, at) > 0)
        return 1; /* data carried in the labels: the dns_tunnel rules' to count */
    for (i = 0; i < (size_t)at; i++) /* the labels left of it without their digits */
        if ((name[i] < '0' || name[i] > '9') &&
            !(name[i] == '.' && (n == 0 || plain[n - 1] == '.')))
            plain[n++] = name[i];
    if (n == (size_t)at)
        return 0; /* no digit there: the verdict stands */
    strcpy(plain + n, name + at);
    return !ndpi_check_dga_name(mod, NULL, plain, 1);
}
