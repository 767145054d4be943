/*
 * Private to the classifier's files.
 */
#ifndef MIMAMORI_CLASSIFY_INT_H
#define MIMAMORI_CLASSIFY_INT_H

#include <ndpi_api.h>

#include "mimamori/flow.h"

/* What the classifier read from a flow's packets itself, where nDPI falls short. */
struct classify_seen {
    const char *dns_qname; /* the first DNS question as sent, or NULL (nDPI's is cut short) */
    int sslv2;             /* an SSL 2.0 ClientHello, which nDPI does not know */
    int swapped;           /* the server spoke SSH first: nDPI's ssh client_* fields are its */
    const char *shell;     /* a shell answered in clear text: which, and how ("cmd.exe, bind") */
};

/* Copies what nDPI found about f (protocol p), corrected by seen, into f->app.meta. */
void classify__meta_collect(struct flow *f, const struct ndpi_flow_struct *nf,
                            const ndpi_protocol *p, const struct classify_seen *seen);

/* classify_seen.c */
/* Whether nDPI's clear-text credentials risk stands (for Telnet: a user name or password). */
int classify__credentials_seen(const struct ndpi_flow_struct *nf, const ndpi_protocol *p);
/* nDPI's obsolete SSH risks for SSH-1 banners, on the side that sent them. */
uint64_t classify__ssh_v1_risks(const struct ndpi_flow_struct *nf, const ndpi_protocol *p,
                                int swapped);
/* Whether p (len >= 11) begins an SSL 2.0 ClientHello. */
int classify__sslv2_client_hello(const uint8_t *p, uint32_t len);
/* What a command shell says first (banner or prompt) begins p: SHELL_* or 0. */
#define SHELL_CMD        1
#define SHELL_POWERSHELL 2
#define SHELL_UNIX       3
int classify__shell_banner(const uint8_t *p, uint32_t len);

/*
 * Whether something other than generation explains nDPI's DGA verdict on a name: digits in the
 * labels left of its registered domain (without them, "ms.ok.ru" for "732231.ms.ok.ru" and
 * "meet.adobeconnect.com" for "meet27083742.adobeconnect.com" pass nDPI's own check; random
 * letters under a plain domain, "xktzjm.topcentc.top" from a CryptoWall exploit kit, do not);
 * labels that carry data (a tunnel's, which the dns_tunnel rules count); or a suffix no one can
 * register (.local, home.arpa, .internal: Chrome's random probes get the search suffix).
 */
int classify__dga_explained(struct ndpi_detection_module_struct *mod, const char *name);

/*
 * A BSD r-command client's first data (RFC 1282 for rlogin, rshd(8) and rexecd(8)): an optional
 * port number for the error stream, then NUL-terminated printable fields (user names, the
 * command, a password for rexec).
 */
int classify__rcmd_request(const uint8_t *p, uint32_t len);

#endif
