/*
 * Scenario capture generator: writes, for each rule type, an attack scenario and a benign one
 * as tests/-style directories (input.pcap written with libpcap, site.yaml, expected.txt). The
 * model hospital of site.yaml puts each standard zone in its own 10.x.0.0/16; the traffic is
 * built packet by packet (Ethernet, IPv4, TCP/UDP/ICMP with real checksums and handshakes) with
 * just enough application payload for nDPI to name the protocol. expected.txt lists the exact
 * alerts ("rule src dst count") the sensor must raise, and nothing else; benign scenarios
 * expect none. Packet times start on Tuesday 2026-11-24 14:00 JST, inside the site's weekly
 * maintenance window, unless a scenario moves them.
 *
 * The "demo" scenario has no site.yaml: it is tests/data/demo.pcap, the quick start's capture,
 * and its alerts are those of the embedded default configuration.
 *
 * usage: mimamori-scenarios OUTDIR [NAME]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#define T0       1795496400000000ull /* 2026-11-24T05:00:00Z = Tuesday 14:00 JST */
#define MS       1000ull
#define SEC      1000000ull
#define MAX_MSGS 8

struct gen {
    pcap_dumper_t *d;
    uint64_t t;   /* next packet time, microseconds */
    FILE *expect; /* expected.txt */
};

struct msg {
    int to_client;
    const char *data;
    size_t len;
    uint32_t wire_extra; /* bytes the wire carried beyond what is captured */
};

/* --- packets -------------------------------------------------------------------------------- */

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) {
        fprintf(stderr, "bad address %s\n", s);
        exit(2);
    }
    return ntohl(a.s_addr);
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* One IPv4 packet in Ethernet; l4 is the transport header plus payload. */
static void emit_ip(struct gen *g, uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *l4,
                    size_t l4len, uint32_t wire_extra, int bcast)
{
    uint8_t f[2048];
    uint8_t *ip = f + 14;
    struct pcap_pkthdr h;
    size_t total = 20 + l4len;
    uint32_t iptotal = (uint32_t)total + wire_extra;

    memset(f, 0, 34);
    memset(f, bcast ? 0xff : 0x02, 6);
    if (!bcast)
        put32(f + 2, dst);
    f[6] = 0x02;
    put32(f + 8, src);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(iptotal > 65535 ? 65535 : iptotal));
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum(ip, 20, 0));
    memcpy(ip + 20, l4, l4len);
    h.ts.tv_sec = (time_t)(g->t / SEC);
    h.ts.tv_usec = (suseconds_t)(g->t % SEC);
    h.caplen = (uint32_t)(14 + total);
    h.len = h.caplen + wire_extra;
    pcap_dump((u_char *)g->d, &h, f);
    g->t += 1 * MS;
}

/* An ARP request (RFC 826) for target from sender, to the Ethernet broadcast address. */
static void arp_request(struct gen *g, const char *sender, const char *target)
{
    uint8_t f[60];
    struct pcap_pkthdr h;
    uint32_t sip = sender[0] ? ip4(sender) : 0; /* "": a probe, from 0.0.0.0 */

    memset(f, 0, sizeof(f));
    memset(f, 0xff, 6);
    f[6] = 0x02;
    put32(f + 8, sip != 0 ? sip : ip4(target));
    put16(f + 12, 0x0806);
    put16(f + 14, 1);      /* Ethernet */
    put16(f + 16, 0x0800); /* IPv4 */
    f[18] = 6, f[19] = 4;
    put16(f + 20, 1); /* request */
    memcpy(f + 22, f + 6, 6);
    put32(f + 28, sip);
    put32(f + 38, ip4(target));
    h.ts.tv_sec = (time_t)(g->t / SEC);
    h.ts.tv_usec = (suseconds_t)(g->t % SEC);
    h.caplen = h.len = sizeof(f);
    pcap_dump((u_char *)g->d, &h, f);
    g->t += 20 * MS;
}

static uint16_t l4sum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *l4, size_t len)
{
    uint8_t ph[12];
    uint32_t sum = 0;
    size_t i;

    put32(ph, src);
    put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)len);
    for (i = 0; i < 12; i += 2)
        sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
    return csum(l4, len, sum);
}

#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10
#define FIN 0x01

static void tcp_pkt(struct gen *g, uint32_t s, uint16_t sp, uint32_t d, uint16_t dp, uint32_t seq,
                    uint32_t ack, uint8_t flags, const char *data, size_t len, uint32_t extra)
{
    uint8_t l4[1600];

    memset(l4, 0, 20);
    put16(l4, sp);
    put16(l4 + 2, dp);
    put32(l4 + 4, seq);
    put32(l4 + 8, ack);
    l4[12] = 5 << 4;
    l4[13] = flags;
    put16(l4 + 14, 64240);
    memcpy(l4 + 20, data, len);
    put16(l4 + 16, l4sum(s, d, 6, l4, 20 + len));
    emit_ip(g, s, d, 6, l4, 20 + len, extra, 0);
}

enum tcp_end { TCP_CLOSE = 0, TCP_REFUSED, TCP_PROBE };

/* A TCP connection: handshake, the messages in order, FIN both ways (or refused / probed). */
static void tcp_conv(struct gen *g, const char *cli, uint16_t sp, const char *srv, uint16_t dp,
                     enum tcp_end how, const struct msg *m, unsigned n)
{
    uint32_t c = ip4(cli), s = ip4(srv), cs = 1000, ss = 5000;
    unsigned i;

    tcp_pkt(g, c, sp, s, dp, cs++, 0, SYN, "", 0, 0);
    if (how == TCP_REFUSED) {
        tcp_pkt(g, s, dp, c, sp, 0, cs, RST | ACK, "", 0, 0);
        return;
    }
    tcp_pkt(g, s, dp, c, sp, ss++, cs, SYN | ACK, "", 0, 0);
    if (how == TCP_PROBE) {
        tcp_pkt(g, c, sp, s, dp, cs, 0, RST, "", 0, 0);
        return;
    }
    tcp_pkt(g, c, sp, s, dp, cs, ss, ACK, "", 0, 0);
    for (i = 0; i < n; i++) {
        uint32_t wire = (uint32_t)m[i].len + m[i].wire_extra;
        if (m[i].to_client) {
            tcp_pkt(g, s, dp, c, sp, ss, cs, PSH | ACK, m[i].data, m[i].len, m[i].wire_extra);
            ss += wire;
            tcp_pkt(g, c, sp, s, dp, cs, ss, ACK, "", 0, 0);
        } else {
            tcp_pkt(g, c, sp, s, dp, cs, ss, PSH | ACK, m[i].data, m[i].len, m[i].wire_extra);
            cs += wire;
            tcp_pkt(g, s, dp, c, sp, ss, cs, ACK, "", 0, 0);
        }
    }
    tcp_pkt(g, c, sp, s, dp, cs++, ss, FIN | ACK, "", 0, 0);
    tcp_pkt(g, s, dp, c, sp, ss++, cs, FIN | ACK, "", 0, 0);
    tcp_pkt(g, c, sp, s, dp, cs, ss, ACK, "", 0, 0);
}

static void udp_pkt(struct gen *g, const char *src, uint16_t sp, const char *dst, uint16_t dp,
                    const uint8_t *data, size_t len, int bcast)
{
    uint8_t l4[1600];
    uint32_t s = ip4(src), d = ip4(dst);

    put16(l4, sp);
    put16(l4 + 2, dp);
    put16(l4 + 4, (uint16_t)(8 + len));
    put16(l4 + 6, 0);
    memcpy(l4 + 8, data, len);
    put16(l4 + 6, l4sum(s, d, 17, l4, 8 + len));
    emit_ip(g, s, d, 17, l4, 8 + len, 0, bcast);
}

static void icmp_echo(struct gen *g, const char *src, const char *dst, int reply)
{
    uint8_t l4[16] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'm', 'i', 'm', 'a', 'm', 'o', 'r', 'i'};

    put16(l4 + 2, csum(l4, sizeof(l4), 0));
    emit_ip(g, ip4(src), ip4(dst), 1, l4, sizeof(l4), 0, 0);
    if (reply) {
        l4[0] = 0;
        l4[2] = l4[3] = 0;
        put16(l4 + 2, csum(l4, sizeof(l4), 0));
        emit_ip(g, ip4(dst), ip4(src), 1, l4, sizeof(l4), 0, 0);
    }
}

/* --- application payloads ------------------------------------------------------------------- */

/* A DNS query (answer == NULL) or a response giving name the IPv4 address answer. */
static size_t dns_msg(uint8_t *p, uint16_t id, const char *name, const char *answer)
{
    size_t n = 12;
    const char *s = name;

    memset(p, 0, 12);
    put16(p, id);
    p[2] = answer ? 0x81 : 0x01;
    p[3] = answer ? 0x80 : 0x00;
    put16(p + 4, 1);
    put16(p + 6, answer ? 1 : 0);
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        p[n++] = (uint8_t)l;
        memcpy(p + n, s, l);
        n += l;
        s += l + (dot ? 1 : 0);
    }
    p[n++] = 0;
    put16(p + n, 1); /* A */
    put16(p + n + 2, 1);
    n += 4;
    if (answer) {
        put16(p + n, 0xc00c);
        put16(p + n + 2, 1);
        put16(p + n + 4, 1);
        put32(p + n + 6, 300);
        put16(p + n + 10, 4);
        put32(p + n + 12, ip4(answer));
        n += 16;
    }
    return n;
}

static void dns_exchange(struct gen *g, const char *cli, const char *srv, const char *name,
                         const char *answer)
{
    static uint16_t id = 0x4d4d, port = 40000;
    uint8_t b[512];
    size_t n;

    port++;
    n = dns_msg(b, ++id, name, NULL);
    udp_pkt(g, cli, port, srv, 53, b, n, 0);
    n = dns_msg(b, id, name, answer);
    udp_pkt(g, srv, 53, cli, port, b, n, 0);
}

static void http_get(struct gen *g, const char *cli, uint16_t sp, const char *srv, uint16_t dp,
                     const char *host)
{
    char req[256];
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct msg m[2];

    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: scenario/1\r\n\r\n",
             host);
    m[0] = (struct msg){0, req, strlen(req), 0};
    m[1] = (struct msg){1, resp, sizeof(resp) - 1, 0};
    tcp_conv(g, cli, sp, srv, dp, TCP_CLOSE, m, 2);
}

static const char ssh_c[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
static const char ssh_s[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
static const struct msg ssh_msgs[] = {{1, ssh_s, sizeof(ssh_s) - 1, 0},
                                      {0, ssh_c, sizeof(ssh_c) - 1, 0}};

/* SMB2 NEGOTIATE request in a NetBIOS session message (MS-SMB2 2.2.3), and a response. */
static const char smb2_neg[] = "\x00\x00\x00\x68"
                               "\xfeSMB\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x24\x00\x02\x00\x01\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\x00\x00\x02\x02\x10\x02";
static const struct msg smb_msgs[] = {{0, smb2_neg, sizeof(smb2_neg) - 1, 0},
                                      {1, smb2_neg, sizeof(smb2_neg) - 1, 0}};

/*
 * An SMB1 NEGOTIATE request offering NT LM 0.12 and the SMB2 dialects ([MS-SMB] 2.2.4.52.1),
 * as Windows clients begin.
 */
static const char smb1_neg[] = "\x00\x00\x00\x45"
                               "\xffSMB\x72\x00\x00\x00\x00\x18\x53\xc8\x00\x00\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\xff\xfe\x00\x00\x00\x00\x00\x00"
                               "\x00\x22\x00"
                               "\x02NT LM 0.12\x00\x02SMB 2.002\x00\x02SMB 2.???\x00";

/* The client offers SMB1 and SMB2; the server answers in SMB2, as a modern Windows does. */
static const struct msg smb_multi_msgs[] = {{0, smb1_neg, sizeof(smb1_neg) - 1, 0},
                                            {1, smb2_neg, sizeof(smb2_neg) - 1, 0},
                                            {0, smb2_neg, sizeof(smb2_neg) - 1, 0}};

/* Telnet: the server's option negotiation (RFC 854 IAC DO/WILL) and a login prompt. */
static const char telnet_s[] = "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27";
static const char telnet_c[] = "\xff\xfb\x18\xff\xfb\x20\xff\xfb\x23\xff\xfb\x27";
static const char telnet_login[] = "login: ";
static const struct msg telnet_msgs[] = {{1, telnet_s, sizeof(telnet_s) - 1, 0},
                                         {0, telnet_c, sizeof(telnet_c) - 1, 0},
                                         {1, telnet_login, sizeof(telnet_login) - 1, 0}};

static const char blob[] = "\x17\x03\x03\x00\x20opaque-application-data-of-a-session..";

/* --- hospital protocols --------------------------------------------------------------------- */

/* One HL7 v2 message in an MLLP frame; the PID segment holds nothing real. */
static size_t hl7_frame(char *b, size_t size, const char *app, const char *type)
{
    int n = snprintf(b, size,
                     "\x0bMSH|^~\\&|%s|HOSP|PEER|HOSP|20261124140000||%s|1|P|2.5\r"
                     "PID|1||0000^^^HOSP||TEST^PATIENT\r\x1c\r",
                     app, type);
    return (size_t)n;
}

/* HL7 message from app over MLLP, answered with an ACK from ack_app (NULL: no answer). */
static void hl7_conv(struct gen *g, const char *cli, uint16_t sp, const char *srv, const char *app,
                     const char *ack_app)
{
    char m1[256], m2[256];
    struct msg m[2];

    m[0] = (struct msg){0, m1, hl7_frame(m1, sizeof(m1), app, "ADT^A01"), 0};
    m[1] = (struct msg){1, m2, ack_app ? hl7_frame(m2, sizeof(m2), ack_app, "ACK^A01") : 0, 0};
    tcp_conv(g, cli, sp, srv, 2575, TCP_CLOSE, m, ack_app ? 2 : 1);
}

static size_t put_item(uint8_t *p, uint8_t type, const char *v)
{
    size_t n = strlen(v);

    p[0] = type;
    p[1] = 0;
    put16(p + 2, (uint16_t)n);
    memcpy(p + 4, v, n);
    return 4 + n;
}

/* The implementation version name requests carry (PS3.7 D.3.3.2), or NULL for none. */
static const char *dicom_impl_version;

/*
 * A-ASSOCIATE-RQ (type 1) or -AC (2) with one presentation context for abstract; a request
 * also carries user information with an implementation class and version when one is set.
 */
static size_t dicom_assoc(uint8_t *p, int type, const char *calling, const char *called,
                          const char *abstract)
{
    uint8_t ctx[128];
    size_t n = 74, c = 4;

    memset(p, 0, 74);
    p[0] = (uint8_t)type;
    put16(p + 6, 1);
    memset(p + 10, ' ', 32);
    memcpy(p + 10, called, strlen(called));
    memcpy(p + 26, calling, strlen(calling));
    n += put_item(p + n, 0x10, "1.2.840.10008.3.1.1.1");
    memset(ctx, 0, 4);
    ctx[0] = 1;
    if (type == 1)
        c += put_item(ctx + c, 0x30, abstract);
    c += put_item(ctx + c, 0x40, "1.2.840.10008.1.2");
    p[n] = (uint8_t)(type == 1 ? 0x20 : 0x21);
    p[n + 1] = 0;
    put16(p + n + 2, (uint16_t)c);
    memcpy(p + n + 4, ctx, c);
    n += 4 + c;
    if (type == 1 && dicom_impl_version != NULL) {
        size_t u = put_item(p + n + 4, 0x52, "1.2.392.200036.9116.2.5.1");
        u += put_item(p + n + 4 + u, 0x55, dicom_impl_version);
        p[n] = 0x50;
        p[n + 1] = 0;
        put16(p + n + 2, (uint16_t)u);
        n += 4 + u;
    }
    put32(p + 2, (uint32_t)(n - 6));
    return n;
}

/* P-DATA with one command: field, SOP class, and for C-MOVE the destination. */
static size_t dicom_cmd(uint8_t *p, uint16_t field, const char *sop, const char *dest)
{
    size_t n = 12, len = strlen(sop) + (strlen(sop) & 1);

    p[0] = 4, p[1] = 0;
    p[10] = 1, p[11] = 3;
    memcpy(p + n, "\x00\x00\x02\x00", 4);
    p[n + 4] = (uint8_t)len, p[n + 5] = p[n + 6] = p[n + 7] = 0;
    memset(p + n + 8, 0, len);
    memcpy(p + n + 8, sop, strlen(sop));
    n += 8 + len;
    memcpy(p + n, "\x00\x00\x00\x01\x02\x00\x00\x00", 8);
    p[n + 8] = (uint8_t)field, p[n + 9] = (uint8_t)(field >> 8);
    n += 10;
    if (dest != NULL) {
        memcpy(p + n, "\x00\x00\x00\x06\x10\x00\x00\x00", 8);
        memset(p + n + 8, ' ', 16);
        memcpy(p + n + 8, dest, strlen(dest));
        n += 24;
    }
    put32(p + 2, (uint32_t)(n - 6));
    put32(p + 6, (uint32_t)(n - 10));
    return n;
}

static const char rj_pdu[] = "\x03\x00\x00\x00\x00\x04\x00\x01\x01\x03";
static const char release_rq[] = "\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00";
static const char release_rp[] = "\x06\x00\x00\x00\x00\x04\x00\x00\x00\x00";

#define VERIFICATION "1.2.840.10008.1.1"
#define CT_STORAGE   "1.2.840.10008.5.1.4.1.1.2"
#define STUDY_MOVE   "1.2.840.10008.5.1.4.1.2.2.2"

/*
 * A DICOM association from calling to called: rejected, or accepted with one command
 * (field, SOP class, move destination) and its success response, then released.
 */
static void dicom_conv(struct gen *g, const char *cli, uint16_t sp, const char *srv,
                       const char *calling, const char *called, int rejected, uint16_t field,
                       const char *sop, const char *dest)
{
    static uint8_t rq[512], ac[512], cmd[256], rsp[256];
    struct msg m[6];
    unsigned n = 0;

    m[n++] = (struct msg){0, (const char *)rq, dicom_assoc(rq, 1, calling, called, sop), 0};
    if (rejected) {
        m[n++] = (struct msg){1, rj_pdu, sizeof(rj_pdu) - 1, 0};
    } else {
        m[n++] = (struct msg){1, (const char *)ac, dicom_assoc(ac, 2, calling, called, sop), 0};
        m[n++] = (struct msg){0, (const char *)cmd, dicom_cmd(cmd, field, sop, dest), 0};
        m[n++] = (struct msg){1, (const char *)rsp,
                              dicom_cmd(rsp, (uint16_t)(field | 0x8000), sop, NULL), 0};
        m[n++] = (struct msg){0, release_rq, sizeof(release_rq) - 1, 0};
        m[n++] = (struct msg){1, release_rp, sizeof(release_rp) - 1, 0};
    }
    tcp_conv(g, cli, sp, srv, 104, TCP_CLOSE, m, n);
}

/* --- the model hospital --------------------------------------------------------------------- */

static const char site_yaml[] =
    "# The scenario generator's model hospital: one /16 per standard zone.\n"
    "sensor: {name: scenario}\n"
    "home_networks: [10.0.0.0/8]\n"
    "zones:\n"
    "  emr: {networks: [10.1.0.0/16]}\n"
    "  departmental: {networks: [10.2.0.0/16]}\n"
    "  medical_devices: {networks: [10.3.0.0/16]}\n"
    "  clinical:\n"
    "    networks: [10.4.0.0/16]\n"
    "    egress:\n"
    "      networks: [198.51.100.0/24]\n"
    "      domains: ['*.vendor-update.example']\n"
    "  office: {networks: [10.5.0.0/16]}\n"
    "  infrastructure: {networks: [10.6.0.0/16]}\n"
    "  admin: {networks: [10.7.0.0/16]}\n"
    "  vendor_remote: {networks: [10.8.0.0/16]}\n"
    "  guest: {networks: [10.9.0.0/16]}\n"
    "  dmz: {networks: [10.10.0.0/16]}\n"
    "  partner: {networks: [10.11.0.0/16]}\n"
    "local_domains: ['*.hospital-a.jp']\n"
    "services:\n"
    "  dns: [10.6.0.53]\n"
    "  dhcp: [10.6.0.67]\n"
    "  ntp: [10.6.0.123]\n"
    "maintenance:\n"
    "  timezone: Asia/Tokyo\n"
    "  windows:\n"
    "    - name: pacs-weekly\n"
    "      days: [tue]\n"
    "      start: '13:00'\n"
    "      end: '17:00'\n"
    "      sources: [vendor_remote]\n"
    "      targets: [10.2.0.5]\n"
    "    - ticket: CHG-2026-1125\n"
    "      start: 2026-11-25T09:00\n"
    "      end: 2026-11-25T12:00\n"
    "      sources: [10.11.0.7]\n"
    "      targets: [emr]\n"
    "medical:\n"
    "  dicom_ae_titles:\n"
    "    PACS: [10.2.0.5]\n"
    "    CT01: [10.3.0.20]\n"
    "  hl7_applications:\n"
    "    HIS: [emr]\n"
    "    LIS: [10.2.0.30]\n";

static void expect(struct gen *g, const char *rule, const char *src, const char *dst, int count)
{
    fprintf(g->expect, "%s %s %s %d\n", rule, src, dst, count);
}

/* --- scenarios ------------------------------------------------------------------------------ */

static void seg_attack(struct gen *g)
{
    http_get(g, "10.9.0.10", 50001, "10.4.0.20", 8080, "10.4.0.20");
    expect(g, "segmentation.guest_to_internal", "10.9.0.10", "10.4.0.20", 1);
}

static void seg_benign(struct gen *g)
{
    dns_exchange(g, "10.9.0.10", "10.6.0.53", "www.example.com", "93.184.216.34");
    http_get(g, "10.9.0.10", 50002, "93.184.216.34", 80, "www.example.com");
}

static void egress_attack(struct gen *g)
{
    http_get(g, "10.1.0.10", 50010, "203.0.113.50", 80, "evil.example");
    expect(g, "egress.unexpected", "10.1.0.10", "203.0.113.50", 1);
}

/* src visiting twelve web servers, net.100 to net.111, a second apart. */
static void browse(struct gen *g, const char *src, const char *net)
{
    char dst[32];
    int i;

    for (i = 0; i < 12; i++) {
        snprintf(dst, sizeof(dst), "%s.%d", net, 100 + i);
        http_get(g, src, (uint16_t)(50300 + i), dst, 80, dst);
        g->t += SEC;
    }
}

/*
 * A host of a closed zone browsing twelve web servers: one alert that says more may follow,
 * and one report of the eleven others (rules/egress.yaml: fold: source).
 */
static void browse_attack(struct gen *g)
{
    browse(g, "10.1.0.12", "203.0.113");
    expect(g, "egress.unexpected", "10.1.0.12", "203.0.113.100", 1);
    expect(g, "egress.unexpected", "10.1.0.12", "203.0.113.111", 11);
}

/* The same twelve visits, to the zone's allowlisted network. */
static void browse_benign(struct gen *g)
{
    browse(g, "10.4.0.12", "198.51.100");
}

static void egress_benign(struct gen *g)
{
    /* Allowed by name (from the DNS answer), by host header and by network. */
    dns_exchange(g, "10.4.0.10", "10.6.0.53", "dl.vendor-update.example", "203.0.113.77");
    tcp_conv(g, "10.4.0.10", 50011, "203.0.113.77", 443, TCP_CLOSE,
             (const struct msg[]){{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}},
             2);
    http_get(g, "10.4.0.10", 50012, "203.0.113.78", 80, "cdn.vendor-update.example");
    http_get(g, "10.4.0.10", 50013, "198.51.100.9", 80, "198.51.100.9");
}

static void tunnel_attack(struct gen *g)
{
    tcp_conv(g, "10.5.0.30", 50020, "203.0.113.53", 853, TCP_CLOSE,
             (const struct msg[]){{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}},
             2);
    expect(g, "egress.tunnel_or_remote_app", "10.5.0.30", "203.0.113.53", 1);
}

static void tunnel_benign(struct gen *g)
{
    /* The same from guest Wi-Fi, and a refused attempt from the office. */
    tcp_conv(g, "10.9.0.30", 50021, "203.0.113.53", 853, TCP_CLOSE,
             (const struct msg[]){{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}},
             2);
    tcp_conv(g, "10.5.0.31", 50022, "203.0.113.53", 853, TCP_REFUSED, NULL, 0);
}

static void resolver_attack(struct gen *g)
{
    dns_exchange(g, "10.5.0.40", "8.8.8.8", "www.example.com", "93.184.216.34");
    expect(g, "egress.unapproved_resolver", "10.5.0.40", "8.8.8.8", 1);
}

static void resolver_benign(struct gen *g)
{
    dns_exchange(g, "10.5.0.40", "10.6.0.53", "www.example.com", "93.184.216.34");
    dns_exchange(g, "10.6.0.53", "8.8.8.8", "www.example.com", "93.184.216.34"); /* forwarder */
}

static void lateral_attack(struct gen *g)
{
    tcp_conv(g, "10.4.0.30", 50030, "10.1.0.5", 445, TCP_CLOSE, smb_msgs, 2);
    expect(g, "lateral.admin_protocol_into_core", "10.4.0.30", "10.1.0.5", 1);
}

static void lateral_benign(struct gen *g)
{
    tcp_conv(g, "10.7.0.5", 50031, "10.1.0.5", 445, TCP_CLOSE, smb_msgs, 2);
    http_get(g, "10.4.0.30", 50032, "10.1.0.5", 80, "emr.hospital.example");
}

static void fanout(struct gen *g, int hosts)
{
    char dst[32];
    int i;

    for (i = 1; i <= hosts; i++) {
        snprintf(dst, sizeof(dst), "10.4.1.%d", i);
        tcp_conv(g, "10.4.0.40", (uint16_t)(50100 + i), dst, 445, TCP_CLOSE, smb_msgs, 2);
        g->t += 500 * MS;
    }
}

static void fanout_attack(struct gen *g)
{
    fanout(g, 12);
    expect(g, "lateral.admin_fanout", "10.4.0.40", "10.4.1.10", 1);
}

static void fanout_benign(struct gen *g)
{
    fanout(g, 6);
}

static void maint_attack(struct gen *g)
{
    /* Inside the window to a target it does not list, and outside it (20:00 JST). */
    tcp_conv(g, "10.8.0.5", 50041, "10.2.0.9", 3389, TCP_CLOSE,
             (const struct msg[]){{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}},
             2);
    g->t = T0 + 6 * 3600 * SEC;
    tcp_conv(g, "10.8.0.5", 50040, "10.2.0.5", 3389, TCP_CLOSE,
             (const struct msg[]){{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}},
             2);
    expect(g, "maintenance.session_unapproved", "10.8.0.5", "10.2.0.9", 1);
    expect(g, "maintenance.session_unapproved", "10.8.0.5", "10.2.0.5", 1);
}

static void maint_benign(struct gen *g)
{
    /* Inside the weekly window, and inside the one-off ticket: recorded at low severity. */
    tcp_conv(g, "10.8.0.5", 50042, "10.2.0.5", 3389, TCP_CLOSE,
             (const struct msg[]){{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}},
             2);
    g->t = T0 + 20 * 3600 * SEC; /* Wednesday 10:00 JST */
    tcp_conv(g, "10.11.0.7", 50043, "10.1.0.8", 22, TCP_CLOSE, ssh_msgs, 2);
    expect(g, "maintenance.session_recorded", "10.8.0.5", "10.2.0.5", 1);
    expect(g, "maintenance.session_recorded", "10.11.0.7", "10.1.0.8", 1);
}

static void obsolete_attack(struct gen *g)
{
    int i;

    for (i = 0; i < 3; i++) {
        tcp_conv(g, "10.4.0.50", (uint16_t)(50050 + i), "10.3.0.7", 23, TCP_CLOSE, telnet_msgs, 3);
        g->t += 5 * SEC;
    }
    expect(g, "obsolete.telnet", "10.4.0.50", "10.3.0.7", 1);
    expect(g, "obsolete.telnet", "10.4.0.50", "10.3.0.7", 2); /* the folded repeats */
}

/* What every Windows client since Vista does: offer SMB1 too, and be answered in SMB2. */
static void smbv1_benign(struct gen *g)
{
    tcp_conv(g, "10.5.0.31", 50062, "10.5.1.20", 445, TCP_CLOSE, smb_multi_msgs, 3);
}

/* An SSL 2.0 ClientHello: three SSL 2.0 cipher kinds, no session id, a 16-byte challenge. */
static const char sslv2_hello[] =
    "\x80\x22\x01\x00\x02\x00\x09\x00\x00\x00\x10"
    "\x01\x00\x80\x03\x00\x80\x07\x00\xc0"
    "\x5a\x11\x2e\x93\x0c\x44\x71\xbe\x28\x6d\x90\x0f\xe3\x37\xa2\x58";
/* The same hello in SSL 2.0's record format from a TLS 1.0 client (version 0x0301). */
static const char v2compat_hello[] =
    "\x80\x22\x01\x03\x01\x00\x09\x00\x00\x00\x10"
    "\x00\x00\x2f\x00\x00\x35\x00\x00\x0a"
    "\x5a\x11\x2e\x93\x0c\x44\x71\xbe\x28\x6d\x90\x0f\xe3\x37\xa2\x58";
/* The server's answer, cut short: what matters is that the hello was answered. */
static const char sslv2_server[] = "\x80\x0b\x04\x00\x01\x00\x02\x00\x00\x00\x03\x00\x10";

static void sslv2_attack(struct gen *g)
{
    const struct msg m[] = {{0, sslv2_hello, sizeof(sslv2_hello) - 1, 0},
                            {1, sslv2_server, sizeof(sslv2_server) - 1, 0}};

    tcp_conv(g, "10.5.0.40", 50070, "10.5.1.40", 443, TCP_CLOSE, m, 2);
    expect(g, "obsolete.tls_version", "10.5.0.40", "10.5.1.40", 1);
}

/* A TLS client's hello in the old record format is no SSL 2.0. */
static void sslv2_benign(struct gen *g)
{
    const struct msg m[] = {{0, v2compat_hello, sizeof(v2compat_hello) - 1, 0},
                            {1, sslv2_server, sizeof(sslv2_server) - 1, 0}};

    tcp_conv(g, "10.5.0.41", 50071, "10.5.1.40", 443, TCP_CLOSE, m, 2);
}

/* SSH protocol 1.5 on both sides: a device and its server past any vendor's support. */
static const char ssh1_c[] = "SSH-1.5-1.2.27\r\n";
static const char ssh1_s[] = "SSH-1.5-OpenSSH_2.5.2p2\r\n";

static void ssh1_attack(struct gen *g)
{
    const struct msg m[] = {{1, ssh1_s, sizeof(ssh1_s) - 1, 0}, {0, ssh1_c, sizeof(ssh1_c) - 1, 0}};

    tcp_conv(g, "10.5.0.42", 50072, "10.5.1.42", 22, TCP_CLOSE, m, 2);
    expect(g, "obsolete.ssh_version", "10.5.0.42", "10.5.1.42", 1);
}

/* SSH-1.99: a server that also speaks 2.0, with a 2.0 client: no version 1 in use. */
static void ssh1_benign(struct gen *g)
{
    static const char s199[] = "SSH-1.99-OpenSSH_9.2\r\n";
    const struct msg m[] = {{1, s199, sizeof(s199) - 1, 0}, {0, ssh_c, sizeof(ssh_c) - 1, 0}};

    tcp_conv(g, "10.5.0.43", 50073, "10.5.1.42", 22, TCP_CLOSE, m, 2);
}

/* A worm's bind shell on 4444 of an EMR server: cmd.exe answers, runs whoami, prompts again. */
static const char cmd_banner[] = "Microsoft Windows [Version 10.0.17763.4377]\r\n"
                                 "(c) 2018 Microsoft Corporation. All rights reserved.\r\n\r\n"
                                 "C:\\Windows\\system32>";
static const char cmd_whoami[] = "whoami\r\n";
static const char cmd_out[] = "nt authority\\system\r\n\r\nC:\\Windows\\system32>";

static void shell_attack(struct gen *g)
{
    const struct msg m[] = {{1, cmd_banner, sizeof(cmd_banner) - 1, 0},
                            {0, cmd_whoami, sizeof(cmd_whoami) - 1, 0},
                            {1, cmd_out, sizeof(cmd_out) - 1, 0}};

    tcp_conv(g, "10.5.0.50", 50080, "10.1.0.20", 4444, TCP_CLOSE, m, 3);
    expect(g, "c2.cleartext_shell", "10.5.0.50", "10.1.0.20", 1);
}

/* A reverse shell: an EMR server calls out and its PowerShell speaks first. */
static void shell_reverse_attack(struct gen *g)
{
    static const char banner[] = "Windows PowerShell\r\nCopyright (C) Microsoft Corporation. "
                                 "All rights reserved.\r\n\r\nPS C:\\Windows\\system32> ";
    static const char cmd[] = "whoami\n";
    const struct msg m[] = {{0, banner, sizeof(banner) - 1, 0}, {1, cmd, sizeof(cmd) - 1, 0}};

    tcp_conv(g, "10.1.0.21", 50090, "203.0.113.66", 4443, TCP_CLOSE, m, 2);
    expect(g, "c2.cleartext_shell", "10.1.0.21", "203.0.113.66", 1);
    expect(g, "egress.unexpected", "10.1.0.21", "203.0.113.66", 1);
}

/* A help page quoting cmd.exe's banner: the text is there, but no shell began the stream. */
static void shell_benign(struct gen *g)
{
    static const char req[] = "GET /help/cmd.html HTTP/1.1\r\nHost: intranet\r\n\r\n";
    static const char page[] = "HTTP/1.1 200 OK\r\nContent-Length: 44\r\n\r\n"
                               "Microsoft Windows [Version 10.0.17763.4377]\n";
    const struct msg m[] = {{0, req, sizeof(req) - 1, 0}, {1, page, sizeof(page) - 1, 0}};

    tcp_conv(g, "10.5.0.51", 50081, "10.5.1.51", 8080, TCP_CLOSE, m, 2);
}

static void obsolete_benign(struct gen *g)
{
    tcp_conv(g, "10.7.0.50", 50055, "10.3.0.7", 22, TCP_CLOSE, ssh_msgs, 2);
}

/* SNMP v2c gets of sysDescr and a CT scanner's answers, and SNMPv3's discovery exchange. */
static const char snmp_get_public[] =
    "\x30\x29\x02\x01\x01\x04\x06public\xa0\x1c\x02\x04\x12\x34\x56\x78\x02\x01\x00\x02\x01\x00"
    "\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00";
static const char snmp_resp_public[] =
    "\x30\x33\x02\x01\x01\x04\x06public\xa2\x26\x02\x04\x12\x34\x56\x78\x02\x01\x00\x02\x01\x00"
    "\x30\x18\x30\x16\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x04\x0a"
    "CT-SCANNER";
static const char snmp_get_site[] =
    "\x30\x2f\x02\x01\x01\x04\x0chosp-ro-7f3a\xa0\x1c\x02\x04\x12\x34\x56\x78\x02\x01\x00\x02"
    "\x01\x00\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00";
static const char snmp_resp_site[] =
    "\x30\x39\x02\x01\x01\x04\x0chosp-ro-7f3a\xa2\x26\x02\x04\x12\x34\x56\x78\x02\x01\x00\x02"
    "\x01\x00\x30\x18\x30\x16\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x04\x0a"
    "CT-SCANNER";
static const char snmp_v3_get[] =
    "\x30\x3e\x02\x01\x03\x30\x11\x02\x04\x00\x00\x30\x39\x02\x03\x00\xff\xe3\x04\x01\x04\x02"
    "\x01\x03\x04\x10\x30\x0e\x04\x00\x02\x01\x00\x02\x01\x00\x04\x00\x04\x00\x04\x00\x30\x14"
    "\x04\x00\x04\x00\xa0\x0e\x02\x04\x00\x00\x04\xd2\x02\x01\x00\x02\x01\x00\x30\x00";
static const char snmp_v3_report[] =
    "\x30\x48\x02\x01\x03\x30\x11\x02\x04\x00\x00\x30\x39\x02\x03\x00\xff\xe3\x04\x01\x04\x02"
    "\x01\x03\x04\x15\x30\x13\x04\x05\x80\x00\x1f\x88\x04\x02\x01\x01\x02\x01\x05\x04\x00\x04"
    "\x00\x04\x00\x30\x19\x04\x05\x80\x00\x1f\x88\x04\x04\x00\xa8\x0e\x02\x04\x00\x00\x04\xd2"
    "\x02\x01\x00\x02\x01\x00\x30\x00";

static void snmp_pair(struct gen *g, const char *cli, uint16_t sp, const char *dev, const char *req,
                      size_t rlen, const char *resp, size_t alen)
{
    udp_pkt(g, cli, sp, dev, 161, (const uint8_t *)req, rlen, 0);
    if (resp != NULL)
        udp_pkt(g, dev, 161, cli, sp, (const uint8_t *)resp, alen, 0);
}

/*
 * A CT scanner answering the default community, a probe of another device with it that
 * nobody answers (not a use), and the site's poller with its own community on v2c.
 */
static void snmp_attack(struct gen *g)
{
    snmp_pair(g, "10.4.0.70", 50161, "10.3.0.30", snmp_get_public, sizeof(snmp_get_public) - 1,
              snmp_resp_public, sizeof(snmp_resp_public) - 1);
    snmp_pair(g, "10.4.0.70", 50162, "10.3.0.31", snmp_get_public, sizeof(snmp_get_public) - 1,
              NULL, 0);
    snmp_pair(g, "10.6.0.161", 50163, "10.3.0.32", snmp_get_site, sizeof(snmp_get_site) - 1,
              snmp_resp_site, sizeof(snmp_resp_site) - 1);
    expect(g, "obsolete.snmp_default_community", "10.4.0.70", "10.3.0.30", 1);
    expect(g, "obsolete.snmp_community", "10.6.0.161", "10.3.0.32", 1);
}

/* SNMPv3: no community at all. */
static void snmp_benign(struct gen *g)
{
    snmp_pair(g, "10.6.0.161", 50164, "10.3.0.33", snmp_v3_get, sizeof(snmp_v3_get) - 1,
              snmp_v3_report, sizeof(snmp_v3_report) - 1);
}

/* rsh: the error stream's port, then local user, remote user and command; the server's 0. */
static void rcmd_attack(struct gen *g)
{
    static const char port[] = "1022", req[] = "admin\0root\0cat /etc/shadow", ok[] = "";
    const struct msg m[] = {{0, port, sizeof(port), 0}, {0, req, sizeof(req), 0}, {1, ok, 1, 0}};

    tcp_conv(g, "10.4.0.71", 1023, "10.3.0.34", 514, TCP_CLOSE, m, 3);
    expect(g, "obsolete.r_commands", "10.4.0.71", "10.3.0.34", 1);
}

/* Syslog over TCP to port 514, which nDPI 4.2 also calls by that port: no r-command. */
static void rcmd_benign(struct gen *g)
{
    static const char line[] = "<13>Dec  3 03:00:00 ct01 console: study 1.2.3 sent to PACS\n";
    const struct msg m[] = {{0, line, sizeof(line) - 1, 0}};

    tcp_conv(g, "10.3.0.35", 50514, "10.6.0.200", 514, TCP_CLOSE, m, 1);
}

static void portscan(struct gen *g, int ports)
{
    int p;

    for (p = 1; p <= ports; p++)
        tcp_conv(g, "10.4.0.60", 50200, "10.2.0.8", (uint16_t)(1000 + p),
                 p % 4 ? TCP_REFUSED : TCP_PROBE, NULL, 0);
}

static void portscan_attack(struct gen *g)
{
    portscan(g, 25);
    expect(g, "recon.port_scan", "10.4.0.60", "10.2.0.8", 1);
}

static void portscan_benign(struct gen *g)
{
    portscan(g, 8);
}

/*
 * NULL, FIN and Xmas probes (no SYN, no ACK) from 10.4.0.61 to 10.2.0.9, ports 20 up: a closed
 * port answers RST, an open one (FTP 21, Telnet 23) says nothing. No payload crosses, so no
 * protocol was spoken: nDPI can only guess one from the port.
 */
static void stealth_scan(struct gen *g, int ports)
{
    static const uint8_t kinds[] = {0, FIN, FIN | PSH | 0x20};
    uint32_t c = ip4("10.4.0.61"), s = ip4("10.2.0.9");
    int p;

    for (p = 0; p < ports; p++) {
        uint16_t dp = (uint16_t)(20 + p);
        tcp_pkt(g, c, 61000, s, dp, 7000, 0, kinds[p % 3], "", 0, 0);
        if (dp != 21 && dp != 23)
            tcp_pkt(g, s, dp, c, 61000, 0, 7000, RST | ACK, "", 0, 0);
    }
}

static void stealth_attack(struct gen *g)
{
    stealth_scan(g, 26);
    expect(g, "recon.port_scan", "10.4.0.61", "10.2.0.9", 1);
}

static void stealth_benign(struct gen *g)
{
    stealth_scan(g, 8); /* under the scan's threshold; and no FTP nor Telnet was spoken */
}

/*
 * A UDP scan from 10.4.0.62 of 10.2.0.10: an empty datagram to each port, a closed port
 * answering ICMP port unreachable (type 3, code 3, quoting the datagram's headers).
 */
static void udp_scan(struct gen *g, int ports)
{
    static const uint8_t none[1] = {0};
    uint8_t l4[8 + 28];
    int p;

    for (p = 0; p < ports; p++) {
        uint16_t dp = (uint16_t)(2000 + p);
        udp_pkt(g, "10.4.0.62", 62000, "10.2.0.10", dp, none, 0, 0);
        memset(l4, 0, sizeof(l4));
        l4[0] = 3;
        l4[1] = 3;
        l4[8] = 0x45; /* the quoted IPv4 header: protocol UDP, then the UDP header */
        put16(l4 + 10, 28);
        l4[16] = 64;
        l4[17] = 17;
        put32(l4 + 20, ip4("10.4.0.62"));
        put32(l4 + 24, ip4("10.2.0.10"));
        put16(l4 + 18, csum(l4 + 8, 20, 0));
        put16(l4 + 28, 62000);
        put16(l4 + 30, dp);
        put16(l4 + 32, 8);
        put16(l4 + 2, csum(l4, sizeof(l4), 0));
        emit_ip(g, ip4("10.2.0.10"), ip4("10.4.0.62"), 1, l4, sizeof(l4), 0, 0);
    }
}

static void udp_scan_attack(struct gen *g)
{
    udp_scan(g, 25);
    expect(g, "recon.port_scan", "10.4.0.62", "10.2.0.10", 1);
}

static void udp_scan_benign(struct gen *g)
{
    udp_scan(g, 8);
}

static void sweep(struct gen *g, int hosts)
{
    char dst[32];
    int i;

    for (i = 1; i <= hosts; i++) {
        snprintf(dst, sizeof(dst), "10.5.1.%d", i);
        icmp_echo(g, "10.5.0.9", dst, i % 3 == 0);
    }
}

static void sweep_attack(struct gen *g)
{
    sweep(g, 35);
    expect(g, "recon.host_sweep", "10.5.0.9", "10.5.1.30", 1);
}

static void sweep_benign(struct gen *g)
{
    sweep(g, 10);
}

/* nmap -sn on the local /24: an ARP request for every address, 20 ms apart. */
static void arp_sweep_attack(struct gen *g)
{
    char dst[32];
    int i;

    for (i = 1; i <= 60; i++) {
        snprintf(dst, sizeof(dst), "10.4.7.%d", i);
        arp_request(g, "10.4.7.200", dst);
    }
    expect(g, "recon.arp_sweep", "10.4.7.200", "10.4.7.40", 1);
}

/*
 * A router refreshing 20 neighbours, and 30 PCs each checking the address DHCP gave them
 * (probes from 0.0.0.0) and announcing it (sender = target): no sweep.
 */
static void arp_sweep_benign(struct gen *g)
{
    char dst[32];
    int i;

    for (i = 1; i <= 20; i++) {
        snprintf(dst, sizeof(dst), "10.4.7.%d", 3 * i);
        arp_request(g, "10.4.7.1", dst);
    }
    for (i = 100; i < 130; i++) {
        snprintf(dst, sizeof(dst), "10.4.7.%d", i);
        arp_request(g, "", dst);
        arp_request(g, dst, dst);
    }
}

/* An infected PC trying 445 on 35 internet hosts, most of which never answer. */
static void wormsweep_attack(struct gen *g)
{
    char dst[32];
    int i;

    for (i = 1; i <= 35; i++) {
        snprintf(dst, sizeof(dst), "198.18.%d.%d", i, 7 * i);
        tcp_conv(g, "10.5.0.19", (uint16_t)(51000 + i), dst, 445, i % 5 ? TCP_PROBE : TCP_REFUSED,
                 NULL, 0);
    }
    expect(g, "recon.internet_service_sweep", "10.5.0.19", "198.18.30.210", 1);
}

/* A peer-to-peer client reaching 35 peers, each on its own port, many gone: no sweep. */
static void wormsweep_benign(struct gen *g)
{
    char dst[32];
    int i;

    for (i = 1; i <= 35; i++) {
        snprintf(dst, sizeof(dst), "198.18.%d.%d", i, 7 * i);
        tcp_conv(g, "10.5.0.20", (uint16_t)(52000 + i), dst, (uint16_t)(20000 + 97 * i),
                 i % 5 ? TCP_PROBE : TCP_REFUSED, NULL, 0);
    }
}

static void brute(struct gen *g, int sessions)
{
    int i;

    for (i = 0; i < sessions; i++) {
        tcp_conv(g, "10.4.0.70", (uint16_t)(50300 + i), "10.4.0.71", 22, TCP_CLOSE, ssh_msgs, 2);
        g->t += 4 * SEC;
    }
}

static void brute_attack(struct gen *g)
{
    brute(g, 16);
    expect(g, "bruteforce.auth_service", "10.4.0.70", "10.4.0.71", 1);
}

static void brute_benign(struct gen *g)
{
    brute(g, 5);
}

static void upload(struct gen *g, const char *cli, const char *srv, unsigned mb)
{
    struct msg m[MAX_MSGS];
    unsigned i, per = 60000; /* each segment carries 60 kB on the wire, 40 bytes captured */

    for (i = 0; i < MAX_MSGS; i++)
        m[i] = (struct msg){0, blob, 40, per - 40};
    for (i = 0; i < mb * 1000000u / (per * MAX_MSGS) + 1; i++)
        tcp_conv(g, cli, (uint16_t)(51000 + i % 1000), srv, 443, TCP_CLOSE, m, MAX_MSGS);
}

static void exfil_attack(struct gen *g)
{
    upload(g, "10.5.0.80", "203.0.113.80", 110);
    expect(g, "exfil.volume_to_internet", "10.5.0.80", "203.0.113.80", 1);
}

static void exfil_benign(struct gen *g)
{
    upload(g, "10.5.0.80", "203.0.113.80", 20);
}

static void beacon(struct gen *g, int regular)
{
    static const int jitter[] = {0, 31, 7, 55, 12, 44, 3, 27, 50, 18, 9};
    int i;

    for (i = 0; i < 11; i++) {
        g->t = T0 + (uint64_t)i * 60 * SEC + (regular ? 0 : (uint64_t)jitter[i] * SEC);
        tcp_conv(
            g, "10.5.0.90", (uint16_t)(52000 + i), "203.0.113.90", 8443, TCP_CLOSE,
            (const struct msg[]){{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}},
            2);
    }
}

static void beacon_attack(struct gen *g)
{
    beacon(g, 1);
    expect(g, "c2.beaconing", "10.5.0.90", "203.0.113.90", 1);
}

static void beacon_benign(struct gen *g)
{
    beacon(g, 0);
}

static void dga_attack(struct gen *g)
{
    dns_exchange(g, "10.5.0.95", "10.6.0.53", "xktzjm.topcentc.top", "203.0.113.95");
    expect(g, "c2.dga_domain", "10.5.0.95", "10.6.0.53", 1);
}

/*
 * A city's site; a numbered meeting host under a known domain; Chrome's random probe with the
 * site's own search suffix (local_domains) and with home.arpa. nDPI alone calls the last three
 * DGA.
 */
static void dga_benign(struct gen *g)
{
    dns_exchange(g, "10.5.0.95", "10.6.0.53", "www.city.okayama.jp", "203.0.113.96");
    dns_exchange(g, "10.5.0.95", "10.6.0.53", "meet27083742.adobeconnect.com", "203.0.113.97");
    dns_exchange(g, "10.5.0.95", "10.6.0.53", "tqimoyfjlwqmts.hospital-a.jp", "10.6.0.98");
    dns_exchange(g, "10.5.0.95", "10.6.0.53", "tqimoyfjlwqmts.home.arpa", "10.6.0.98");
}

/* A file leaving in base32 chunks, one lookup each, under the attacker's domain. */
static void dns_tunnel_attack(struct gen *g)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint32_t seed = 0x2468ace1u;
    char name[128];
    int i, k;

    for (i = 0; i < 25; i++) {
        for (k = 0; k < 40; k++) {
            seed = seed * 1103515245u + 12345u;
            name[k] = b32[(seed >> 16) & 31];
        }
        snprintf(name + 40, sizeof(name) - 40, ".%02d.t.exfil-example.net", i);
        dns_exchange(g, "10.5.0.96", "10.6.0.53", name, "203.0.113.98");
    }
    expect(g, "exfil.dns_tunnel", "10.5.0.96", "10.6.0.53", 1);
}

/*
 * What is not a tunnel: a long content-addressed host name asked for again and again, many
 * short host names under one CDN, and block-list lookups (an address in the labels).
 */
static void dns_tunnel_benign(struct gen *g)
{
    char name[128];
    int i;

    for (i = 0; i < 25; i++) {
        dns_exchange(g, "10.5.0.97", "10.6.0.53", "d3kxf7q2m9zw1v8c4b6n0a5s.cloudfront.net",
                     "203.0.113.99");
        snprintf(name, sizeof(name), "edge-%03d.tokyo.cdn.example.net", 7 * i);
        dns_exchange(g, "10.5.0.97", "10.6.0.53", name, "203.0.113.100");
        snprintf(name, sizeof(name), "%d.%d.113.203.zen.spamhaus.org", i, 3 * i);
        dns_exchange(g, "10.5.0.97", "10.6.0.53", name, "127.0.0.2");
    }
}

/* A DHCP OFFER (RFC 2131) from server to 255.255.255.255. */
static void dhcp_offer(struct gen *g, const char *server)
{
    uint8_t b[300];

    memset(b, 0, sizeof(b));
    b[0] = 2; /* BOOTREPLY */
    b[1] = 1;
    b[2] = 6;
    put32(b + 4, 0x3903f326);
    put32(b + 16, ip4("10.4.0.200"));
    put32(b + 20, ip4(server));
    memcpy(b + 28, "\x02\x00\x00\x00\x00\x01", 6);
    put32(b + 236, 0x63825363);
    memcpy(b + 240, "\x35\x01\x02\x36\x04", 5);
    put32(b + 245, ip4(server));
    b[249] = 0xff;
    udp_pkt(g, server, 67, "255.255.255.255", 68, b, 250, 1);
}

static void rogue_attack(struct gen *g)
{
    dns_exchange(g, "10.4.0.10", "10.4.0.99", "www.example.com", "203.0.113.99");
    dhcp_offer(g, "10.4.0.98");
    expect(g, "rogue.dns", "10.4.0.10", "10.4.0.99", 1);
    expect(g, "rogue.dhcp", "10.4.0.98", "255.255.255.255", 1);
}

static void rogue_benign(struct gen *g)
{
    dns_exchange(g, "10.4.0.10", "10.6.0.53", "www.example.com", "203.0.113.99");
    dhcp_offer(g, "10.6.0.67");
}

/* The same lateral movement, silenced by a suppress entry: no alert, one suppressed. */
static void suppressed(struct gen *g)
{
    FILE *real = g->expect;

    if ((g->expect = fopen("/dev/null", "w")) == NULL)
        exit(1);
    lateral_attack(g);
    fclose(g->expect);
    g->expect = real;
    fprintf(g->expect, "suppressed 1\n");
}

static void medzone_attack(struct gen *g)
{
    /* The HIS sends ADT to a host on the internet; the CT sends an image to an office PC. */
    hl7_conv(g, "10.1.0.10", 52001, "203.0.113.50", "HIS", NULL);
    dicom_conv(g, "10.3.0.20", 52002, "10.5.0.30", "CT01", "VIEWER", 0, 0x0001, CT_STORAGE, NULL);
    expect(g, "medical.cleartext_to_internet", "10.1.0.10", "203.0.113.50", 1);
    expect(g, "egress.unexpected", "10.1.0.10", "203.0.113.50", 1);
    expect(g, "medical.cleartext_outside_clinical_zones", "10.3.0.20", "10.5.0.30", 1);
    expect(g, "medical.dicom_unknown_called_ae", "10.3.0.20", "10.5.0.30", 1);
}

static void medzone_benign(struct gen *g)
{
    /* HIS -> LIS across clinical zones, CT -> PACS: what the inventory describes. */
    hl7_conv(g, "10.1.0.10", 52011, "10.2.0.30", "HIS", "LIS");
    dicom_conv(g, "10.3.0.20", 52012, "10.2.0.5", "CT01", "PACS", 0, 0x0001, CT_STORAGE, NULL);
    dicom_conv(g, "10.3.0.20", 52013, "10.2.0.5", "CT01", "PACS", 0, 0x0030, VERIFICATION, NULL);
}

static void dicom_ae_attack(struct gen *g)
{
    /* A clinical PC calls itself CT01, then asks the PACS to move a study to "USBDRIVE". */
    dicom_conv(g, "10.4.0.77", 52021, "10.2.0.5", "CT01", "PACS", 0, 0x0030, VERIFICATION, NULL);
    dicom_conv(g, "10.3.0.20", 52022, "10.2.0.5", "CT01", "PACS", 0, 0x0021, STUDY_MOVE,
               "USBDRIVE");
    expect(g, "medical.dicom_unknown_calling_ae", "10.4.0.77", "10.2.0.5", 1);
    expect(g, "medical.dicom_move_unknown_destination", "10.3.0.20", "10.2.0.5", 1);
}

static void dicom_ae_benign(struct gen *g)
{
    dicom_conv(g, "10.3.0.20", 52031, "10.2.0.5", "CT01", "PACS", 0, 0x0021, STUDY_MOVE, "CT01");
}

/* The CT's DICOM software changes between two studies: the ledger rule reports it. */
static void firmware_attack(struct gen *g)
{
    dicom_impl_version = "CTVENDOR_310";
    dicom_conv(g, "10.3.0.20", 52035, "10.2.0.5", "CT01", "PACS", 0, 0x0001, CT_STORAGE, NULL);
    dicom_impl_version = "CTVENDOR_320";
    dicom_conv(g, "10.3.0.20", 52036, "10.2.0.5", "CT01", "PACS", 0, 0x0001, CT_STORAGE, NULL);
    dicom_impl_version = NULL;
    expect(g, "ledger.firmware_change", "10.3.0.20", "10.2.0.5", 1);
}

/*
 * The learned baseline, with learning.period 10m: ten ward PCs use the EMR's web service and
 * the CT stores a study on the PACS; then learning is over.
 */
static void baseline_learn(struct gen *g)
{
    const struct msg m[] = {{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}};
    char pc[16];
    unsigned i;

    for (i = 0; i < 10; i++) {
        snprintf(pc, sizeof(pc), "10.4.0.%u", 10 + i);
        tcp_conv(g, pc, (uint16_t)(51000 + i), "10.1.0.10", 443, TCP_CLOSE, m, 2);
    }
    dicom_conv(g, "10.3.0.20", 52101, "10.2.0.5", "CT01", "PACS", 0, 0x0001, CT_STORAGE, NULL);
    g->t = T0 + 11 * 60 * SEC;
}

/* After learning: a PC reaches a service the CT never offered, the CT a PC it never reached. */
static void baseline_attack(struct gen *g)
{
    const struct msg m[] = {{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}};

    baseline_learn(g);
    tcp_conv(g, "10.4.0.77", 51100, "10.3.0.20", 8080, TCP_CLOSE, m, 2);
    tcp_conv(g, "10.3.0.20", 51101, "10.4.0.50", 9100, TCP_CLOSE, m, 2);
    tcp_conv(g, "10.4.0.31", 51102, "10.1.0.10", 443, TCP_CLOSE, m, 2); /* busy: not news */
    expect(g, "baseline.new_service", "10.4.0.77", "10.3.0.20", 1);
    expect(g, "baseline.new_peer_outbound", "10.3.0.20", "10.4.0.50", 1);
}

/* After learning: the same study again, and a ward PC new to the EMR's busy web service. */
static void baseline_benign(struct gen *g)
{
    const struct msg m[] = {{0, blob, sizeof(blob) - 1, 0}, {1, blob, sizeof(blob) - 1, 0}};

    baseline_learn(g);
    dicom_conv(g, "10.3.0.20", 52102, "10.2.0.5", "CT01", "PACS", 0, 0x0001, CT_STORAGE, NULL);
    tcp_conv(g, "10.4.0.31", 51103, "10.1.0.10", 443, TCP_CLOSE, m, 2);
}

/* Two studies from the same software: nothing changed. */
static void firmware_benign(struct gen *g)
{
    dicom_impl_version = "CTVENDOR_310";
    dicom_conv(g, "10.3.0.20", 52037, "10.2.0.5", "CT01", "PACS", 0, 0x0001, CT_STORAGE, NULL);
    dicom_conv(g, "10.3.0.20", 52038, "10.2.0.5", "CT01", "PACS", 0, 0x0001, CT_STORAGE, NULL);
    dicom_impl_version = NULL;
}

static void hl7_sender_attack(struct gen *g)
{
    /* A clinical PC sends ADT as "HIS", which the inventory lists for the EMR zone only. */
    hl7_conv(g, "10.4.0.80", 52041, "10.2.0.30", "HIS", "LIS");
    expect(g, "medical.hl7_unknown_sender", "10.4.0.80", "10.2.0.30", 1);
}

static void hl7_sender_benign(struct gen *g)
{
    hl7_conv(g, "10.1.0.11", 52051, "10.2.0.30", "HIS", "LIS");
}

static void dicom_probe_n(struct gen *g, int n)
{
    int i;

    for (i = 0; i < n; i++)
        dicom_conv(g, "10.3.0.20", (uint16_t)(52060 + i), "10.2.0.5", "CT01", "PACS", 1, 0,
                   VERIFICATION, NULL);
}

static void dicom_reject_attack(struct gen *g)
{
    dicom_probe_n(g, 6);
    expect(g, "medical.dicom_association_probing", "10.3.0.20", "10.2.0.5", 1);
}

static void dicom_reject_benign(struct gen *g)
{
    dicom_probe_n(g, 2);
}

/*
 * Many alerts, one a second: 150 terminals each using Telnet to its own device, an alert
 * each (the rule reports each server once a day). The delivery tests read it through syslog.
 */
static void alert_burst(struct gen *g)
{
    char cli[32], srv[32];
    int i;

    for (i = 0; i < 150; i++) {
        snprintf(cli, sizeof(cli), "10.4.1.%d", 1 + i);
        snprintf(srv, sizeof(srv), "10.3.1.%d", 1 + i);
        tcp_conv(g, cli, (uint16_t)(40000 + i), srv, 23, TCP_CLOSE, telnet_msgs, 3);
        expect(g, "obsolete.telnet", cli, srv, 1);
        g->t += SEC;
    }
}

/*
 * The quick-start demo (tests/data/demo.pcap): a night on an unzoned RFC 1918 network, so the
 * embedded default configuration alone raises alerts. Expected alerts are for that config.
 */
static void demo(struct gen *g)
{
    int i;

    g->t = T0 + 12 * 3600 * SEC; /* 02:00 JST */
    dns_exchange(g, "10.5.0.95", "10.6.0.53", "xktzjm.topcentc.top", "203.0.113.95");
    for (i = 0; i < 3; i++)
        tcp_conv(g, "10.4.0.50", (uint16_t)(50050 + i), "10.3.0.7", 23, TCP_CLOSE, telnet_msgs, 3);
    portscan(g, 25);
    fanout(g, 12);
    tcp_conv(g, "10.4.0.30", 50030, "10.1.0.5", 445, TCP_CLOSE, smb_msgs, 2);
    dicom_conv(g, "10.3.0.20", 50104, "203.0.113.80", "CT01", "CLOUDPACS", 0, 0x0001, CT_STORAGE,
               NULL);
    expect(g, "c2.dga_domain", "10.5.0.95", "10.6.0.53", 1);
    expect(g, "medical.cleartext_to_internet", "10.3.0.20", "203.0.113.80", 1);
    expect(g, "obsolete.telnet", "10.4.0.50", "10.3.0.7", 1);
    expect(g, "obsolete.telnet", "10.4.0.50", "10.3.0.7", 2);
    expect(g, "recon.port_scan", "10.4.0.60", "10.2.0.8", 1);
    expect(g, "lateral.admin_fanout", "10.4.0.40", "10.4.1.10", 1);
}

static const struct scenario {
    const char *name;
    void (*fn)(struct gen *g);
    const char *extra_yaml;
    int default_config; /* no site.yaml: the embedded default */
} scenarios[] = {
    {"segmentation_attack", seg_attack, NULL, 0},
    {"segmentation_benign", seg_benign, NULL, 0},
    {"egress_attack", egress_attack, NULL, 0},
    {"egress_benign", egress_benign, NULL, 0},
    {"browse_attack", browse_attack, NULL, 0},
    {"browse_benign", browse_benign, NULL, 0},
    {"tunnel_attack", tunnel_attack, NULL, 0},
    {"tunnel_benign", tunnel_benign, NULL, 0},
    {"resolver_attack", resolver_attack, NULL, 0},
    {"resolver_benign", resolver_benign, NULL, 0},
    {"lateral_attack", lateral_attack, NULL, 0},
    {"lateral_benign", lateral_benign, NULL, 0},
    {"fanout_attack", fanout_attack, NULL, 0},
    {"fanout_benign", fanout_benign, NULL, 0},
    {"maintenance_attack", maint_attack, NULL, 0},
    {"maintenance_benign", maint_benign, NULL, 0},
    {"obsolete_attack", obsolete_attack, NULL, 0},
    {"obsolete_benign", obsolete_benign, NULL, 0},
    {"portscan_attack", portscan_attack, NULL, 0},
    {"portscan_benign", portscan_benign, NULL, 0},
    {"smbv1_benign", smbv1_benign, NULL, 0},
    {"shell_attack", shell_attack, NULL, 0},
    {"shell_benign", shell_benign, NULL, 0},
    {"shell_reverse_attack", shell_reverse_attack, NULL, 0},
    {"sslv2_attack", sslv2_attack, NULL, 0},
    {"sslv2_benign", sslv2_benign, NULL, 0},
    {"ssh1_attack", ssh1_attack, NULL, 0},
    {"ssh1_benign", ssh1_benign, NULL, 0},
    {"stealth_scan_attack", stealth_attack, NULL, 0},
    {"stealth_scan_benign", stealth_benign, NULL, 0},
    {"udp_scan_attack", udp_scan_attack, NULL, 0},
    {"udp_scan_benign", udp_scan_benign, NULL, 0},
    {"snmp_attack", snmp_attack, NULL, 0},
    {"snmp_benign", snmp_benign, NULL, 0},
    {"rcmd_attack", rcmd_attack, NULL, 0},
    {"rcmd_benign", rcmd_benign, NULL, 0},
    {"sweep_attack", sweep_attack, NULL, 0},
    {"sweep_benign", sweep_benign, NULL, 0},
    {"arp_sweep_attack", arp_sweep_attack, NULL, 0},
    {"arp_sweep_benign", arp_sweep_benign, NULL, 0},
    {"internet_sweep_attack", wormsweep_attack, NULL, 0},
    {"internet_sweep_benign", wormsweep_benign, NULL, 0},
    {"bruteforce_attack", brute_attack, NULL, 0},
    {"bruteforce_benign", brute_benign, NULL, 0},
    {"exfiltration_attack", exfil_attack, NULL, 0},
    {"exfiltration_benign", exfil_benign, NULL, 0},
    {"beaconing_attack", beacon_attack, NULL, 0},
    {"beaconing_benign", beacon_benign, NULL, 0},
    {"dga_attack", dga_attack, NULL, 0},
    {"dga_benign", dga_benign, NULL, 0},
    {"dns_tunnel_attack", dns_tunnel_attack, NULL, 0},
    {"dns_tunnel_benign", dns_tunnel_benign, NULL, 0},
    {"rogue_attack", rogue_attack, NULL, 0},
    {"rogue_benign", rogue_benign, NULL, 0},
    {"medical_zone_attack", medzone_attack, NULL, 0},
    {"medical_zone_benign", medzone_benign, NULL, 0},
    {"dicom_ae_attack", dicom_ae_attack, NULL, 0},
    {"dicom_ae_benign", dicom_ae_benign, NULL, 0},
    {"firmware_change_attack", firmware_attack, NULL, 0},
    {"firmware_change_benign", firmware_benign, NULL, 0},
    {"hl7_sender_attack", hl7_sender_attack, NULL, 0},
    {"hl7_sender_benign", hl7_sender_benign, NULL, 0},
    {"dicom_reject_attack", dicom_reject_attack, NULL, 0},
    {"dicom_reject_benign", dicom_reject_benign, NULL, 0},
    {"baseline_attack", baseline_attack, "learning: {period: 10m}\n", 0},
    {"baseline_benign", baseline_benign, "learning: {period: 10m}\n", 0},
    {"demo", demo, NULL, 1},
    {"alert_burst", alert_burst, NULL, 0},
    {"suppressed", suppressed,
     "suppress:\n"
     "  - rule: lateral.admin_protocol_into_core\n"
     "    source: [10.4.0.30]\n"
     "    destination: emr\n"
     "    port: 445\n"
     "    reason: EMR print bridge (ticket CHG-1)\n",
     0},
};

static int write_scenario(const char *outdir, const struct scenario *s)
{
    char path[4096];
    struct gen g = {.t = T0};
    pcap_t *p;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", outdir, s->name);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s/site.yaml", outdir, s->name);
    if (!s->default_config) {
        if ((fp = fopen(path, "w")) == NULL) {
            perror(path);
            return -1;
        }
        fprintf(fp, "%s%s", site_yaml, s->extra_yaml ? s->extra_yaml : "");
        fclose(fp);
    }
    snprintf(path, sizeof(path), "%s/%s/expected.txt", outdir, s->name);
    if ((g.expect = fopen(path, "w+")) == NULL) {
        perror(path);
        return -1;
    }
    p = pcap_open_dead(DLT_EN10MB, 65535);
    snprintf(path, sizeof(path), "%s/%s/input.pcap", outdir, s->name);
    if ((g.d = pcap_dump_open(p, path)) == NULL) {
        fprintf(stderr, "%s: %s\n", path, pcap_geterr(p));
        return -1;
    }
    s->fn(&g);
    pcap_dump_close(g.d);
    pcap_close(p);
    fclose(g.expect);
    return 0;
}

int main(int argc, char **argv)
{
    size_t i;
    int done = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s OUTDIR [NAME]\n", argv[0]);
        return 2;
    }
    mkdir(argv[1], 0755);
    for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        if (argc > 2 && strcmp(argv[2], scenarios[i].name) != 0)
            continue;
        if (write_scenario(argv[1], &scenarios[i]) != 0)
            return 1;
        done++;
    }
    if (done == 0) {
        fprintf(stderr, "no scenario named %s\n", argv[2]);
        return 2;
    }
    return 0;
}
