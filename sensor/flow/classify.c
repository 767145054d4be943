/*
 * The nDPI wrapper (with classify_meta.c, the only files that include nDPI). Per-flow nDPI state
 * comes from a free list, so steady-state traffic allocates only when more flows are being
 * classified at once than ever before. Detection follows ndpiReader's rules (the same packet
 * budgets, give-up with guessing at the end) so results can be compared with it flow by flow.
 *
 * The state is bounded: at most max_states flows are classified at once, and nDPI's memory
 * for them (counted through its allocator hooks, per classifier) stays under memcap. Flows
 * being classified are kept least recently fed first; when a new flow finds the classifier at
 * a limit, the flow fed the longest ago is given up on (nDPI's guess, as when its packet budget
 * runs out) to make room. A flood of flows that never finish (an attacker choosing the
 * sensor's memory) so recycles its own states, while a real flow, fed every few milliseconds,
 * finishes first.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ndpi_api.h>

#include "mimamori/classify.h"
#include "mimamori/dnscache.h"
#include "mimamori/error.h"
#include "mimamori/limits.h"
#include "mimamori/log.h"
#include "mimamori/snmp.h"

#include "classify_int.h"

struct classify_flow {
    struct ndpi_flow_struct *nf;
    struct classify_flow *next_free;
    struct classify_flow *prev, *next; /* being classified: least recently fed first */
    struct flow *owner;
    ndpi_protocol proto; /* last detected */
    uint16_t pkts;
    uint8_t detected;
    char qname[DNS_NAME_MAX]; /* the first DNS question as sent, or "" */
    uint8_t sslv2;            /* the client sent an SSL 2.0 ClientHello */
    int8_t ssh_first;         /* who sent the first SSH banner: 0 client, 1 server, -1 none */
    uint8_t spoke[2];         /* a side's first data was seen (by FLOW_TOSERVER/TOCLIENT) */
    uint8_t shell;            /* SHELL_* of a side's first data, 0x10 when the server's */
    uint8_t snmp;             /* SNMP_SEEN_* */
    uint8_t rcmd;             /* 1: an r-command request to 512-514, 2: and its server's answer */
};

/* Mimamori's own protocols (medical.h) and the nDPI category they are given. */
#define CATEGORY_HEALTH NDPI_PROTOCOL_CATEGORY_CUSTOM_1

static const struct {
    uint16_t id;
    const char *name, *app_proto;
} own_protocols[] = {
    {CLASSIFY_PROTO_HL7, "HL7", "hl7"},
    {CLASSIFY_PROTO_DICOM, "DICOM", "dicom"},
};

static int own_index(uint16_t id)
{
    unsigned i;

    for (i = 0; i < sizeof(own_protocols) / sizeof(own_protocols[0]); i++)
        if (own_protocols[i].id == id)
            return (int)i;
    return -1;
}

struct classify {
    struct ndpi_detection_module_struct *mod;
    struct classify_flow *free_list;
    struct classify_flow *lru_head, *lru_tail; /* the flows being classified */
    uint32_t max_states;                       /* 0: no limit */
    uint64_t memcap;                           /* 0: no limit */
    int64_t bytes; /* nDPI's allocations for this classifier's flows, state blocks included */
    int emergency; /* at a limit: making room by giving up on the oldest */
    struct classify_stats st;
    int names; /* mod is the loaders' module (names_mod), not ours to free */
};

/*
 * nDPI's allocations are counted for the classifier whose flow they serve: the calls into nDPI
 * for a flow set it (on that worker's thread); what nDPI allocates while loading a module is
 * not a flow's. Sizes are malloc's usable sizes, taken alike on allocation and free.
 */
static _Thread_local struct classify *tl_cls;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *hook_malloc(size_t n)
{
    void *p = malloc(n);

    if (p != NULL && tl_cls != NULL)
        tl_cls->bytes += (int64_t)malloc_usable_size(p);
    return p;
}

static void hook_free(void *p)
{
    if (p != NULL && tl_cls != NULL)
        tl_cls->bytes -= (int64_t)malloc_usable_size(p);
    free(p);
}

static void hooks_set(void)
{
    set_ndpi_malloc(hook_malloc);
    set_ndpi_free(hook_free);
}

/*
 * The loaders look protocol, category and risk names up in a module of their own. Building one
 * costs about 25 ms (nDPI loads its address lists into it), as much as a worker's, so the first
 * classifier created detects with that same module rather than building another: the lookups
 * only read its tables, and they run on the main thread, which is also the first worker's.
 */
static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ndpi_detection_module_struct *names_mod;
static int names_lent;

static struct ndpi_detection_module_struct *module_new(void)
{
    struct ndpi_detection_module_struct *m;
    NDPI_PROTOCOL_BITMASK all;

    pthread_once(&hooks_once, hooks_set); /* before nDPI allocates anything */
    if ((m = ndpi_init_detection_module(ndpi_no_prefs)) == NULL)
        return NULL;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(m, &all);
    ndpi_finalize_initialization(m);
    ndpi_category_set_name(m, CATEGORY_HEALTH, "Health");
    return m;
}

static struct ndpi_detection_module_struct *names(void)
{
    pthread_mutex_lock(&names_mu);
    if (names_mod == NULL)
        names_mod = module_new();
    pthread_mutex_unlock(&names_mu);
    return names_mod;
}

int classify_create(struct classify **out)
{
    struct ndpi_detection_module_struct *m = names();
    struct classify *c;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return MM_ENOMEM;
    pthread_mutex_lock(&names_mu);
    if (!names_lent && m != NULL) { /* lent once only: one that has seen traffic is not again */
        c->mod = m;
        c->names = names_lent = 1;
    }
    pthread_mutex_unlock(&names_mu);
    if (c->mod == NULL && (c->mod = module_new()) == NULL) {
        free(c);
        return MM_ENOMEM;
    }
    *out = c;
    return 0;
}

void classify_set_limits(struct classify *c, uint32_t max_states, uint64_t memcap)
{
    c->max_states = max_states;
    c->memcap = memcap;
    /* The states themselves must fit, or room could be made only by emptying the table. */
    if (max_states > 0 && memcap > 0 && memcap < (uint64_t)max_states * MM_CLASSIFY_STATE_BYTES)
        c->memcap = (uint64_t)max_states * MM_CLASSIFY_STATE_BYTES;
}

void classify_destroy(struct classify *c)
{
    struct classify_flow *s, *next;

    if (c == NULL)
        return;
    tl_cls = c;
    for (s = c->free_list; s != NULL; s = next) {
        next = s->next_free;
        ndpi_free(s->nf);
        free(s);
    }
    tl_cls = NULL;
    if (!c->names)
        ndpi_exit_detection_module(c->mod);
    free(c);
}

/* The flow fed most recently goes last; the one fed the longest ago is given up on first. */
static void lru_unlink(struct classify *c, struct classify_flow *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->lru_head = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    else
        c->lru_tail = s->prev;
    s->prev = s->next = NULL;
}

static void lru_append(struct classify *c, struct classify_flow *s)
{
    s->prev = c->lru_tail;
    s->next = NULL;
    if (c->lru_tail != NULL)
        c->lru_tail->next = s;
    else
        c->lru_head = s;
    c->lru_tail = s;
}

static int at_limit(const struct classify *c, int leaving)
{
    /* Leaving the emergency takes a tenth below the limits, so that it does not flap. */
    uint64_t states = c->max_states, mem = c->memcap;

    if (leaving)
        states -= states / 10, mem -= mem / 10;
    return (c->max_states > 0 && c->st.active >= states) ||
           (c->memcap > 0 && c->bytes > 0 && (uint64_t)c->bytes > mem);
}

static void finish(struct classify *c, struct flow *f, int give_up);

struct flow *classify_make_room(struct classify *c)
{
    struct flow *victim;

    if (!at_limit(c, c->emergency)) {
        if (c->emergency) {
            c->emergency = 0;
            c->st.emerg_over++;
            log_info("classifier below its limits again (%llu flows given up on so far)",
                     (unsigned long long)c->st.evicted);
        }
        return NULL;
    }
    if (c->emergency && !at_limit(c, 0))
        return NULL; /* between the limits: states are free again, none is taken */
    if (!c->emergency) {
        c->emergency = 1;
        c->st.emerg_entered++;
        log_warnx("classifier at its limit (%llu flows, %llu bytes of nDPI state): the flows "
                  "fed the longest ago are given up on (counted in stats)",
                  (unsigned long long)c->st.active, (unsigned long long)c->bytes);
    }
    if (c->lru_head == NULL)
        return NULL;
    victim = c->lru_head->owner;
    finish(c, victim, 1);
    c->st.evicted++;
    return victim;
}

int classify_flow_start(struct classify *c, struct flow *f)
{
    struct classify_flow *s = c->free_list;

    if (s != NULL) {
        c->free_list = s->next_free;
    } else {
        tl_cls = c;
        s = calloc(1, sizeof(*s));
        if (s != NULL && (s->nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT)) == NULL) {
            free(s);
            s = NULL;
        }
        tl_cls = NULL;
        if (s == NULL) {
            c->st.state_failures++;
            f->app.done = 1;
            return MM_ENOMEM;
        }
        c->st.state_allocs++;
    }
    memset(s->nf, 0, SIZEOF_FLOW_STRUCT);
    memset(&s->proto, 0, sizeof(s->proto));
    s->pkts = 0;
    s->detected = 0;
    s->qname[0] = '\0';
    s->sslv2 = 0;
    s->ssh_first = -1;
    s->spoke[0] = s->spoke[1] = 0;
    s->shell = 0;
    s->snmp = 0;
    s->rcmd = 0;
    s->next_free = NULL;
    s->owner = f;
    lru_append(c, s);
    f->app.state = s;
    c->st.started++;
    c->st.active++;
    return 0;
}

static void state_put(struct classify *c, struct flow *f)
{
    struct classify_flow *s = f->app.state;

    lru_unlink(c, s);
    tl_cls = c;
    ndpi_free_flow_data(s->nf);
    tl_cls = NULL;
    s->owner = NULL;
    s->next_free = c->free_list;
    c->free_list = s;
    f->app.state = NULL;
    c->st.active--;
}

#define SNMP_SEEN_COMMUNITY 0x1u /* a v1 or v2c message */
#define SNMP_SEEN_DEFAULT   0x2u /* ... with a default community */

/* SNMP on its ports: the version and whether the community is a default one. */
static void snmp_message(struct classify_flow *s, const struct pkt_view *pv)
{
    struct snmp_msg m;

    if (pv->proto != 17 ||
        (pv->src_port != 161 && pv->dst_port != 161 && pv->src_port != 162 && pv->dst_port != 162))
        return;
    if (snmp_parse(pv->payload, pv->payload_len, &m) != 0 || m.version == SNMP_V3)
        return;
    s->snmp |= SNMP_SEEN_COMMUNITY;
    if (m.default_community)
        s->snmp |= SNMP_SEEN_DEFAULT;
}

/* The SNMP risks of a flow nDPI also found to be SNMP. */
static uint64_t snmp_risks(unsigned seen, const ndpi_protocol *p)
{
    uint64_t r = 0;

    if (p->master_protocol != NDPI_PROTOCOL_SNMP && p->app_protocol != NDPI_PROTOCOL_SNMP)
        return 0;
    /* One finding per flow: a default community says the community is in clear text too. */
    if (seen & SNMP_SEEN_DEFAULT)
        r |= 1ULL << CLASSIFY_RISK_SNMP_DEFAULT_COMMUNITY;
    else if (seen & SNMP_SEEN_COMMUNITY)
        r |= 1ULL << CLASSIFY_RISK_SNMP_COMMUNITY;
    return r;
}

static void finish(struct classify *c, struct flow *f, int give_up)
{
    struct classify_flow *s = f->app.state;
    ndpi_protocol p = s->proto;
    struct classify_seen seen = {0};

    if (give_up || p.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
        uint8_t guessed = 0;
        tl_cls = c;
        p = ndpi_detection_giveup(c->mod, s->nf, 1, &guessed);
        tl_cls = NULL;
        if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN && !s->detected)
            c->st.guessed++;
    }
    if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN)
        c->st.unknown++;
    else if (s->detected)
        c->st.detected++;
    f->app.master = p.master_protocol;
    f->app.app = p.app_protocol;
    f->app.category = (uint16_t)p.category;
    f->app.confidence = (uint8_t)s->nf->confidence;
    f->app.risk = classify__credentials_seen(s->nf, &p)
                      ? s->nf->risk
                      : s->nf->risk & ~(1ULL << NDPI_CLEAR_TEXT_CREDENTIALS);
    f->app.done = 1;
    seen.dns_qname = s->qname[0] != '\0' ? s->qname : NULL;
    seen.sslv2 = s->sslv2;
    seen.swapped = s->ssh_first == 1;
    f->app.risk |= classify__ssh_v1_risks(s->nf, &p, seen.swapped);
    /* A shell where nDPI found no protocol (at most a guess from the port). */
    if (s->shell && (p.app_protocol == NDPI_PROTOCOL_UNKNOWN ||
                     s->nf->confidence == NDPI_CONFIDENCE_MATCH_BY_PORT ||
                     s->nf->confidence == NDPI_CONFIDENCE_MATCH_BY_IP))
        f->app.risk |= 1ULL << CLASSIFY_RISK_SHELL;
    if (f->app.risk & (1ULL << CLASSIFY_RISK_SHELL)) {
        static const char *const names[2][4] = {
            {"", "cmd.exe, reverse", "PowerShell, reverse", "Unix shell, reverse"},
            {"", "cmd.exe, bind", "PowerShell, bind", "Unix shell, bind"}};
        seen.shell = names[(s->shell >> 4) & 1][s->shell & 3];
    }
    f->app.risk |= snmp_risks(s->snmp, &p);
    if ((f->app.risk & (1ULL << NDPI_SUSPICIOUS_DGA_DOMAIN)) &&
        classify__dga_explained(c->mod, s->nf->host_server_name))
        f->app.risk &= ~(1ULL << NDPI_SUSPICIOUS_DGA_DOMAIN);
    if (s->rcmd == 2)
        f->app.risk |= 1ULL << CLASSIFY_RISK_R_COMMAND;
    classify__meta_collect(f, s->nf, &p, &seen);
    state_put(c, f);
    c->st.finished++;
}

/*
 * The first question of a DNS, mDNS or LLMNR message, kept as the packet carried it: nDPI's
 * copy of the name is cut at 80 bytes and lower-cased, and exfiltration hides in exactly
 * those names. Over TCP the message follows its two-byte length.
 */
static void dns_question(struct classify_flow *s, const struct pkt_view *pv)
{
    uint16_t sp = pv->src_port, dp = pv->dst_port;

    if (pv->proto == 17 &&
        (sp == 53 || dp == 53 || sp == 5353 || dp == 5353 || sp == 5355 || dp == 5355))
        (void)dnscache_question(pv->payload, pv->payload_len, s->qname);
    else if (pv->proto == 6 && (sp == 53 || dp == 53) && pv->payload_len > 2)
        (void)dnscache_question(pv->payload + 2, pv->payload_len - 2, s->qname);
}

static void first_data(struct classify_flow *s, const struct pkt_view *pv, int dir)
{
    int k;

    if (s->spoke[dir])
        return;
    s->spoke[dir] = 1;
    /* The server's first words: a bind shell; the client's: a reverse shell calling home. */
    if (s->shell == 0 && (k = classify__shell_banner(pv->payload, pv->payload_len)) != 0)
        s->shell = (uint8_t)(k | (dir == FLOW_TOCLIENT ? 0x10 : 0));
    /* The r-commands' servers answer a request with a 0 (go on) or 1 (refused, and why). */
    if (pv->dst_port >= 512 && pv->dst_port <= 514 && dir == FLOW_TOSERVER &&
        classify__rcmd_request(pv->payload, pv->payload_len))
        s->rcmd = 1;
    else if (s->rcmd == 1 && dir == FLOW_TOCLIENT && pv->payload[0] <= 1)
        s->rcmd = 2;
}

int classify_packet(struct classify *c, struct flow *f, const struct pkt_view *pv, int dir,
                    uint64_t ts_us)
{
    struct classify_flow *s = f->app.state;
    unsigned budget = f->key.proto == 6 ? MM_CLASSIFY_TCP_PKTS : MM_CLASSIFY_UDP_PKTS;
    uint16_t len = pv->l3_len > 65535 ? 65535 : (uint16_t)pv->l3_len;
    ndpi_protocol p;

    if (s == NULL)
        return 0;
    if (s->qname[0] == '\0' && pv->payload_len > 0)
        dns_question(s, pv);
    if (pv->payload_len > 0 && s->pkts < 4)
        snmp_message(s, pv);
    if (!s->sslv2 && s->pkts < 4 && pv->proto == 6 && pv->payload_len >= 11)
        s->sslv2 = classify__sslv2_client_hello(pv->payload, pv->payload_len);
    tl_cls = c;
    p = ndpi_detection_process_packet(c->mod, s->nf, pv->l3, len, ts_us / 1000);
    tl_cls = NULL;
    if (pv->proto == 6 && pv->payload_len > 0)
        first_data(s, pv, dir);
    /* nDPI takes the first SSH banner for the client's; servers usually speak first. */
    if (s->ssh_first < 0 && pv->payload_len >= 4 && memcmp(pv->payload, "SSH-", 4) == 0)
        s->ssh_first = (int8_t)(dir == FLOW_TOCLIENT);
    s->pkts++;
    if (s != c->lru_tail) {
        lru_unlink(c, s);
        lru_append(c, s);
    }
    if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
        s->proto = p;
        s->detected = 1;
    }
    /* An SNMP request is kept until its answer: whether an agent took the community matters. */
    if (s->detected && !ndpi_extra_dissection_possible(c->mod, s->nf) &&
        !((s->snmp & SNMP_SEEN_COMMUNITY) && f->pkts[FLOW_TOCLIENT] == 0)) {
        finish(c, f, 0);
        return 1;
    }
    if (s->pkts >= budget) {
        finish(c, f, !s->detected);
        return 1;
    }
    return 0;
}

void classify_flow_set(struct classify *c, struct flow *f, uint16_t proto)
{
    if (f->app.state == NULL)
        return;
    f->app.master = NDPI_PROTOCOL_UNKNOWN;
    f->app.app = proto;
    f->app.category = CATEGORY_HEALTH;
    f->app.confidence = NDPI_CONFIDENCE_DPI;
    f->app.risk = 0;
    f->app.done = 1;
    state_put(c, f);
    c->st.detected++;
    c->st.finished++;
}

void classify_flow_finish(struct classify *c, struct flow *f)
{
    if (f->app.state != NULL)
        finish(c, f, !f->app.state->detected);
}

void classify_flow_release(struct classify *c, struct flow *f)
{
    if (f->app.state != NULL)
        state_put(c, f);
    free(f->app.meta);
    f->app.meta = NULL;
}

/* --- names -------------------------------------------------------------------------------- */

/* nDPI protocol ids to EVE app_proto names where Suricata has one. */
static const char *eve_app_proto(uint16_t id)
{
    switch (id) {
    case NDPI_PROTOCOL_HTTP:
    case NDPI_PROTOCOL_HTTP_PROXY:
    case NDPI_PROTOCOL_HTTP_CONNECT:
        return "http";
    case NDPI_PROTOCOL_TLS:
        return "tls";
    case NDPI_PROTOCOL_DNS:
        return "dns";
    case NDPI_PROTOCOL_SMBV1:
    case NDPI_PROTOCOL_SMBV23:
        return "smb";
    case NDPI_PROTOCOL_SSH:
        return "ssh";
    case NDPI_PROTOCOL_DCERPC:
        return "dcerpc";
    case NDPI_PROTOCOL_KERBEROS:
        return "krb5";
    case NDPI_PROTOCOL_LDAP:
        return "ldap";
    case NDPI_PROTOCOL_NTP:
        return "ntp";
    case NDPI_PROTOCOL_DHCP:
        return "dhcp";
    case NDPI_PROTOCOL_SNMP:
        return "snmp";
    case NDPI_PROTOCOL_SIP:
        return "sip";
    case NDPI_PROTOCOL_RDP:
        return "rdp";
    case NDPI_PROTOCOL_VNC:
        return "rfb";
    case NDPI_PROTOCOL_FTP_CONTROL:
        return "ftp";
    case NDPI_PROTOCOL_FTP_DATA:
        return "ftp-data";
    case NDPI_PROTOCOL_MAIL_SMTP:
        return "smtp";
    case NDPI_PROTOCOL_MAIL_IMAP:
        return "imap";
    case NDPI_PROTOCOL_MAIL_POP:
        return "pop3";
    case NDPI_PROTOCOL_QUIC:
        return "quic";
    case NDPI_PROTOCOL_MQTT:
        return "mqtt";
    case NDPI_PROTOCOL_MODBUS:
        return "modbus";
    case NDPI_PROTOCOL_DNP3:
        return "dnp3";
    case NDPI_PROTOCOL_TFTP:
        return "tftp";
    case NDPI_PROTOCOL_TELNET:
        return "telnet";
    case NDPI_PROTOCOL_POSTGRES:
        return "pgsql";
    case NDPI_PROTOCOL_NFS:
        return "nfs";
    case NDPI_PROTOCOL_MDNS:
        return "mdns";
    case NDPI_PROTOCOL_LLMNR:
        return "llmnr";
    default:
        return NULL;
    }
}

/* a, or "a.b" when b is given, cut to fit buf. */
static void name_join(char *buf, size_t size, const char *a, const char *b)
{
    size_t n = strnlen(a, size - 1), m;

    memcpy(buf, a, n);
    if (b != NULL && n + 1 < size) {
        buf[n++] = '.';
        m = strnlen(b, size - 1 - n);
        memcpy(buf + n, b, m);
        n += m;
    }
    buf[n] = '\0';
}

void classify_names(const struct classify *c, const struct flow_app *a, struct classify_names *n)
{
    ndpi_protocol p = {a->master, a->app, (ndpi_protocol_category_t)a->category};
    uint16_t base = a->master != NDPI_PROTOCOL_UNKNOWN ? a->master : a->app;
    int own = own_index(a->app);

    if (own >= 0) {
        snprintf(n->protocol, sizeof(n->protocol), "%s", own_protocols[own].name);
        n->master = NULL;
        n->app = own_protocols[own].name;
        n->app_proto = own_protocols[own].app_proto;
        n->category = ndpi_category_get_name(c->mod, CATEGORY_HEALTH);
        n->confidence = ndpi_confidence_get_name((ndpi_confidence_t)a->confidence);
        return;
    }

    n->master = a->master != NDPI_PROTOCOL_UNKNOWN ? ndpi_get_proto_name(c->mod, a->master) : NULL;
    n->app = ndpi_get_proto_name(c->mod, a->app);
    /* ndpi_protocol2name()'s "Master.App", "Master" or "App", without its snprintf(): every
     * flow record and alert is named */
    if (a->master == NDPI_PROTOCOL_UNKNOWN || a->master == a->app)
        name_join(n->protocol, sizeof(n->protocol), n->app, NULL);
    else
        name_join(n->protocol, sizeof(n->protocol), n->master,
                  a->app != NDPI_PROTOCOL_UNKNOWN ? n->app : NULL);
    n->category = ndpi_category_get_name(c->mod, p.category);
    n->confidence = ndpi_confidence_get_name((ndpi_confidence_t)a->confidence);
    /* The most specific protocol Suricata has a name for (NetBIOS.SMBv23 is "smb", TLS.Google
     * is "tls"), else nDPI's own name of the base protocol. */
    n->app_proto = eve_app_proto(a->app);
    if (n->app_proto == NULL)
        n->app_proto = eve_app_proto(a->master);
    if (n->app_proto == NULL && base != NDPI_PROTOCOL_UNKNOWN)
        n->app_proto = ndpi_get_proto_name(c->mod, base);
}

int classify_is_rpc_carrier(const struct flow_app *a)
{
    return classify_is(a, NDPI_PROTOCOL_DCERPC) || classify_is(a, NDPI_PROTOCOL_SMBV1) ||
           classify_is(a, NDPI_PROTOCOL_SMBV23);
}

int classify_is_guess(const struct flow_app *a)
{
    return a->confidence == NDPI_CONFIDENCE_MATCH_BY_PORT ||
           a->confidence == NDPI_CONFIDENCE_MATCH_BY_IP;
}

static const struct {
    unsigned bit;
    const char *key, *text;
} own_risks[] = {
#define X(id, bit, key, text) {bit, key, text},
    CLASSIFY_OWN_RISKS_X(X)
#undef X
};

_Static_assert(NDPI_MAX_RISK <= 61, "the sensor's own risks take the bits above nDPI's");

unsigned classify_risk_names(uint64_t risk, const char **names, unsigned max)
{
    unsigned n = 0, k;
    int i;

    for (i = 1; i < NDPI_MAX_RISK && n < max; i++)
        if (risk & (1ULL << i))
            names[n++] = ndpi_risk2str((ndpi_risk_enum)i);
    for (k = 0; k < sizeof(own_risks) / sizeof(own_risks[0]) && n < max; k++)
        if (risk & (1ULL << own_risks[k].bit))
            names[n++] = own_risks[k].text;
    return n;
}

void classify_get_stats(const struct classify *c, struct classify_stats *st)
{
    *st = c->st;
    st->memuse =
        (c->bytes > 0 ? (uint64_t)c->bytes : 0) + c->st.state_allocs * sizeof(struct classify_flow);
    st->memcap = c->memcap;
}

/* --- names for the loaders ------------------------------------------------------------------ */

int classify_lookup_protocol(const char *name)
{
    struct ndpi_detection_module_struct *m = names();
    ndpi_proto_defaults_t *d;
    unsigned i, n;

    for (i = 0; i < sizeof(own_protocols) / sizeof(own_protocols[0]); i++)
        if (strcasecmp(own_protocols[i].name, name) == 0)
            return own_protocols[i].id;
    if (m == NULL || strcasecmp(name, "Unknown") == 0)
        return MM_ENOTFOUND;
    d = ndpi_get_proto_defaults(m);
    n = ndpi_get_num_supported_protocols(m);
    for (i = 0; i < n; i++)
        if (d[i].protoName != NULL && strcasecmp(d[i].protoName, name) == 0)
            return (int)i;
    return MM_ENOTFOUND;
}

int classify_lookup_category(const char *name)
{
    struct ndpi_detection_module_struct *m = names();
    int i;

    for (i = 1; m != NULL && i < NDPI_PROTOCOL_NUM_CATEGORIES; i++) {
        const char *cn = ndpi_category_get_name(m, (ndpi_protocol_category_t)i);
        if (cn != NULL && strcasecmp(cn, name) == 0)
            return i;
    }
    return MM_ENOTFOUND;
}

const char *classify_protocol_name(uint16_t id)
{
    struct ndpi_detection_module_struct *m = names();
    int own = own_index(id);

    if (own >= 0)
        return own_protocols[own].name;
    return m != NULL ? ndpi_get_proto_name(m, id) : "Unknown";
}

/* nDPI 4.2's ndpi_risk_enum, as identifiers for rule files. */
static const char *const risk_keys[NDPI_MAX_RISK] = {
    [NDPI_URL_POSSIBLE_XSS] = "url_possible_xss",
    [NDPI_URL_POSSIBLE_SQL_INJECTION] = "url_possible_sql_injection",
    [NDPI_URL_POSSIBLE_RCE_INJECTION] = "url_possible_rce_injection",
    [NDPI_BINARY_APPLICATION_TRANSFER] = "binary_application_transfer",
    [NDPI_KNOWN_PROTOCOL_ON_NON_STANDARD_PORT] = "known_protocol_on_non_standard_port",
    [NDPI_TLS_SELFSIGNED_CERTIFICATE] = "tls_selfsigned_certificate",
    [NDPI_TLS_OBSOLETE_VERSION] = "tls_obsolete_version",
    [NDPI_TLS_WEAK_CIPHER] = "tls_weak_cipher",
    [NDPI_TLS_CERTIFICATE_EXPIRED] = "tls_certificate_expired",
    [NDPI_TLS_CERTIFICATE_MISMATCH] = "tls_certificate_mismatch",
    [NDPI_HTTP_SUSPICIOUS_USER_AGENT] = "http_suspicious_user_agent",
    [NDPI_HTTP_NUMERIC_IP_HOST] = "http_numeric_ip_host",
    [NDPI_HTTP_SUSPICIOUS_URL] = "http_suspicious_url",
    [NDPI_HTTP_SUSPICIOUS_HEADER] = "http_suspicious_header",
    [NDPI_TLS_NOT_CARRYING_HTTPS] = "tls_not_carrying_https",
    [NDPI_SUSPICIOUS_DGA_DOMAIN] = "suspicious_dga_domain",
    [NDPI_MALFORMED_PACKET] = "malformed_packet",
    [NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER] = "ssh_obsolete_client_version_or_cipher",
    [NDPI_SSH_OBSOLETE_SERVER_VERSION_OR_CIPHER] = "ssh_obsolete_server_version_or_cipher",
    [NDPI_SMB_INSECURE_VERSION] = "smb_insecure_version",
    [NDPI_TLS_SUSPICIOUS_ESNI_USAGE] = "tls_suspicious_esni_usage",
    [NDPI_UNSAFE_PROTOCOL] = "unsafe_protocol",
    [NDPI_DNS_SUSPICIOUS_TRAFFIC] = "dns_suspicious_traffic",
    [NDPI_TLS_MISSING_SNI] = "tls_missing_sni",
    [NDPI_HTTP_SUSPICIOUS_CONTENT] = "http_suspicious_content",
    [NDPI_RISKY_ASN] = "risky_asn",
    [NDPI_RISKY_DOMAIN] = "risky_domain",
    [NDPI_MALICIOUS_JA3] = "malicious_ja3",
    [NDPI_MALICIOUS_SHA1_CERTIFICATE] = "malicious_sha1_certificate",
    [NDPI_DESKTOP_OR_FILE_SHARING_SESSION] = "desktop_or_file_sharing_session",
    [NDPI_TLS_UNCOMMON_ALPN] = "tls_uncommon_alpn",
    [NDPI_TLS_CERT_VALIDITY_TOO_LONG] = "tls_cert_validity_too_long",
    [NDPI_TLS_SUSPICIOUS_EXTENSION] = "tls_suspicious_extension",
    [NDPI_TLS_FATAL_ALERT] = "tls_fatal_alert",
    [NDPI_SUSPICIOUS_ENTROPY] = "suspicious_entropy",
    [NDPI_CLEAR_TEXT_CREDENTIALS] = "clear_text_credentials",
    [NDPI_DNS_LARGE_PACKET] = "dns_large_packet",
    [NDPI_DNS_FRAGMENTED] = "dns_fragmented",
    [NDPI_INVALID_CHARACTERS] = "invalid_characters",
    [NDPI_POSSIBLE_EXPLOIT] = "possible_exploit",
    [NDPI_TLS_CERTIFICATE_ABOUT_TO_EXPIRE] = "tls_certificate_about_to_expire",
};

int classify_lookup_risk(const char *name)
{
    int i;

    for (i = 1; i < NDPI_MAX_RISK; i++)
        if (risk_keys[i] != NULL && strcmp(risk_keys[i], name) == 0)
            return i;
    for (i = 0; i < (int)(sizeof(own_risks) / sizeof(own_risks[0])); i++)
        if (strcmp(name, own_risks[i].key) == 0)
            return (int)own_risks[i].bit;
    return MM_ENOTFOUND;
}

const char *classify_risk_key(unsigned risk)
{
    unsigned k;

    for (k = 0; k < sizeof(own_risks) / sizeof(own_risks[0]); k++)
        if (risk == own_risks[k].bit)
            return own_risks[k].key;
    return risk > 0 && risk < NDPI_MAX_RISK && risk_keys[risk] != NULL ? risk_keys[risk]
                                                                       : "unknown";
}
