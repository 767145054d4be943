/*
 * Site-config tests: a full valid file, the embedded default, and each class of mistake with
 * the exact file:line:col it must be reported at; zone lookup by longest prefix with the
 * implicit internet and unzoned zones. Messages a site's administrator can act on: a tab, a
 * byte that is not UTF-8, nesting past the cap (refused before libyaml scans it), an interface
 * name too long, a zone named almost like a standard one (a warning), an output directory that
 * does not exist (--test-config).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/rules.h"
#include "mimamori/zone.h"

static struct config_diag diag;

static struct mm_config *load_ok(const char *yaml)
{
    struct mm_config *c = NULL;
    int r = config_load_string("site.yaml", yaml, strlen(yaml), &c, &diag);
    if (r != 0)
        fprintf(stderr, "unexpected: %s\n", diag.count ? diag.msg[0] : "?");
    assert_int_equal(r, 0);
    return c;
}

/* Load must fail and the first diagnostic must be exactly want. */
static void load_bad(const char *yaml, const char *want)
{
    struct mm_config *c = NULL;
    int r = config_load_string("site.yaml", yaml, strlen(yaml), &c, &diag);
    assert_int_equal(r, MM_ECONFIG);
    assert_null(c);
    assert_true(diag.count >= 1);
    assert_string_equal(diag.msg[0], want);
}

static int zone_of(const struct mm_config *c, const char *ip)
{
    uint8_t a[16];
    assert_int_equal(zone_parse_addr(ip, a), 0);
    return config_zone_of(c, a);
}

static const char site[] = "sensor:\n"
                           "  name: hospital-a-core1\n"
                           "  interface: eth1\n"
                           "  snaplen: 1600\n"
                           "  promiscuous: false\n"
                           "  bpf: not host 10.10.0.5\n"
                           "  buffer_size: 256MiB\n"
                           "  workers: 2\n"
                           "home_networks: [10.0.0.0/8, 192.168.0.0/16]\n"
                           "zones:\n"
                           "  emr:\n"
                           "    description: 電子カルテ servers\n"
                           "    networks: [10.10.1.0/24, 10.10.2.5/32]\n"
                           "  clinical:\n"
                           "    networks: [10.10.0.0/16]\n"
                           "  vendor_remote:\n"
                           "    networks: [203.0.113.0/24, 2001:db8:1::/48]\n"
                           "services:\n"
                           "  dns: [10.10.0.53]\n"
                           "  ntp: [10.10.0.123, 10.10.0.124]\n"
                           "rules: [" MM_SHIPPED_RULES "]\n"
                           "outputs:\n"
                           "  - type: file\n"
                           "    path: /var/log/mimamori/eve.json\n"
                           "    rotate_size: 100MiB\n"
                           "  - {type: syslog, transport: udp, address: '10.1.1.1:514'}\n"
                           "  - {type: syslog, transport: tls, address: 'siem.example:6514',\n"
                           "     facility: authpriv, types: [alert]}\n"
                           "delivery: {queue_events: 4096, drain_timeout: 30s}\n"
                           "flow:\n"
                           "  max_flows: 1000\n"
                           "  max_classifying: 300\n"
                           "  classify_memcap: 2MiB\n"
                           "  timeouts: {udp: 60, tcp_established: 3600}\n"
                           "medical:\n"
                           "  dicom_ae_titles:\n"
                           "    CT01: [10.10.3.10]\n"
                           "    PACS: [emr, 10.20.0.0/16]\n"
                           "  hl7_applications:\n"
                           "    HIS: emr\n";

static void test_valid_site(void **state)
{
    struct mm_config *c = load_ok(site);

    (void)state;
    assert_string_equal(c->sensor_name, "hospital-a-core1");
    assert_int_equal(c->ninterfaces, 1);
    assert_string_equal(c->interfaces[0], "eth1");
    config_free(c);
    c = load_ok("sensor: {interface: [eth1, eth2]}\n");
    assert_int_equal(c->ninterfaces, 2);
    assert_string_equal(c->interfaces[1], "eth2");
    config_free(c);
    c = load_ok(site);
    assert_int_equal(c->nconfigured, 3);
    assert_int_equal(c->nzones, 2 + 3 + 8); /* implicit, configured, other standard names */
    assert_string_equal(config_zone_name(c, zone_of(c, "10.10.1.7")), "emr");
    assert_string_equal(config_zone_name(c, zone_of(c, "10.10.2.5")), "emr");
    assert_string_equal(config_zone_name(c, zone_of(c, "10.10.2.6")), "clinical");
    assert_string_equal(config_zone_name(c, zone_of(c, "10.99.0.1")), "unzoned");
    assert_string_equal(config_zone_name(c, zone_of(c, "8.8.8.8")), "internet");
    assert_string_equal(config_zone_name(c, zone_of(c, "172.16.0.1")), "internet");
    assert_string_equal(config_zone_name(c, zone_of(c, "203.0.113.9")), "vendor_remote");
    assert_string_equal(config_zone_name(c, zone_of(c, "2001:db8:1::5")), "vendor_remote");
    assert_int_equal(c->services[SVC_DNS].n, 1);
    assert_int_equal(c->services[SVC_NTP].n, 2);
    assert_int_equal(c->services[SVC_DHCP].n, 0);
    assert_int_equal(c->nrules, 1);
    assert_int_equal(c->noutputs, 3);
    assert_string_equal(c->outputs[0].path, "/var/log/mimamori/eve.json");
    assert_int_equal(c->outputs[0].types, OUTPUT_EV_ALL);
    assert_int_equal(c->outputs[0].rotate_size, 100u << 20);
    assert_int_equal(c->outputs[1].type, OUTPUT_SYSLOG);
    assert_int_equal(c->outputs[1].types, 1u << OUTPUT_EV_ALERT | 1u << OUTPUT_EV_STATS);
    assert_int_equal(c->outputs[1].facility, 16);
    assert_int_equal(c->outputs[1].max_rate, 2000);
    assert_string_equal(c->outputs[2].transport, "tls");
    assert_int_equal(c->outputs[2].facility, 10);
    assert_int_equal(c->outputs[2].types, 1u << OUTPUT_EV_ALERT);
    assert_int_equal(c->delivery.queue_events, 4096);
    assert_string_equal(c->delivery.spool_dir, MM_SPOOL_DIR);
    assert_int_equal(c->delivery.drain_s, 30);
    assert_int_equal(c->live.snaplen, 1600);
    assert_false(c->live.promisc);
    assert_string_equal(c->live.bpf, "not host 10.10.0.5");
    assert_int_equal(c->live.buffer_size, 256u << 20);
    assert_int_equal(c->workers, 2);
    assert_string_equal(c->user, "mimamori");
    assert_int_equal(c->flow.max_flows, 1000);
    assert_int_equal(c->max_classifying, 300);
    assert_int_equal(c->classify_memcap, 2u << 20);
    assert_int_equal(c->flow.timeout[FT_UDP], 60);
    assert_int_equal(c->flow.timeout[FT_TCP_EST], 3600);
    assert_int_equal(c->flow.timeout[FT_ICMP], MM_TIMEOUT_ICMP);
    {
        const struct config_named_hosts *pacs =
            config_named_find(c->dicom_aes, c->ndicom_aes, "PACS");
        uint8_t a[16];
        assert_int_equal(c->ndicom_aes, 2);
        assert_non_null(pacs);
        assert_null(config_named_find(c->dicom_aes, c->ndicom_aes, "pacs")); /* exact case */
        zone_parse_addr("10.20.5.5", a);
        assert_true(config_hostset_has(&pacs->hosts, a, zone_of(c, "10.20.5.5")));
        zone_parse_addr("10.10.1.9", a); /* in zone emr */
        assert_true(config_hostset_has(&pacs->hosts, a, zone_of(c, "10.10.1.9")));
        zone_parse_addr("10.10.3.10", a);
        assert_false(config_hostset_has(&pacs->hosts, a, zone_of(c, "10.10.3.10")));
        assert_int_equal(c->nhl7_apps, 1);
        assert_string_equal(c->hl7_apps[0].name, "HIS");
    }
    config_free(c);
}

static void test_default(void **state)
{
    struct mm_config *c = NULL;

    (void)state;
    assert_int_equal(config_load_default(&c, &diag), 0);
    assert_string_equal(config_zone_name(c, zone_of(c, "172.20.1.1")), "unzoned");
    assert_string_equal(config_zone_name(c, zone_of(c, "fd12::1")), "unzoned");
    assert_string_equal(config_zone_name(c, zone_of(c, "1.1.1.1")), "internet");
    assert_int_equal(c->nconfigured, 0);
    assert_int_equal(c->workers, 1);
    assert_int_equal(c->nrules, 1);
    assert_non_null(c->ruleset); /* the shipped ruleset, built in */
    assert_true(c->ruleset->n >= 20);
    config_free(c);
}

static void test_errors_with_positions(void **state)
{
    (void)state;
    load_bad("sensor:\n  name: a\nzonez: {}\n", "site.yaml:3:1: unknown key 'zonez'");
    load_bad("sensor: {interface: [eth1, eth2, eth1]}\n",
             "site.yaml:1:34: interface 'eth1' is listed twice");
    load_bad("sensor: {interface: []}\n",
             "site.yaml:1:21: sensor.interface lists 1 to 8 interfaces");
    load_bad("zones:\n  emr:\n    networks: [10.1.0.0/33]\n",
             "site.yaml:3:16: bad network '10.1.0.0/33' in zones.emr: prefix length must be "
             "0-32");
    load_bad("zones:\n  emr:\n    networks: [10.1.0.1/16]\n",
             "site.yaml:3:16: bad network '10.1.0.1/16' in zones.emr: host bits set after the "
             "prefix length");
    load_bad("home_networks: [10.0.0.0/8, bogus]\n",
             "site.yaml:1:29: bad network 'bogus' in home_networks: not an IP address");
    load_bad("zones:\n  EMR:\n    networks: [10.1.0.0/16]\n",
             "site.yaml:2:3: zone name 'EMR' must be lower-case letters, digits and '_' (at "
             "most 31), starting with a letter");
    load_bad("zones:\n  internet:\n    networks: [0.0.0.0/0]\n",
             "site.yaml:2:3: zone 'internet' is implicit and cannot be configured");
    load_bad("zones:\n  a:\n    networks: [10.1.0.0/16]\n  b:\n    networks: [10.1.0.0/16]\n",
             "site.yaml:5:16: network '10.1.0.0/16' is already in zone 'a'");
    load_bad("zones:\n  a:\n    netwrks: [10.1.0.0/16]\n",
             "site.yaml:3:5: unknown key 'netwrks' in zone 'a'");
    load_bad("sensor: hospital\n", "site.yaml:1:9: sensor must be a mapping");
    load_bad("flow:\n  max_flows: lots\n",
             "site.yaml:2:14: flow.max_flows must be a whole number from 16 to 16777216, not "
             "'lots'");
    load_bad(
        "inventory:\n  state: /var/lib/x\n  intervall: 5m\n",
        "site.yaml:3:3: unknown key 'inventory.intervall' (state, ledger, interval, max_devices)");
    load_bad("inventory:\n  max_devices: 8\n",
             "site.yaml:2:16: inventory.max_devices must be a whole number from 16 to 16777216, "
             "not '8'");
    load_bad("services:\n  dns: [10.0.0.300]\n",
             "site.yaml:2:9: bad address '10.0.0.300' in services.dns");
    load_bad("services:\n  smtp: [10.0.0.3]\n",
             "site.yaml:2:3: unknown service 'smtp' (known: dns, dhcp, ntp, domain_controllers)");
    load_bad("local_domains: [hospital.jp, 'a..b']\n",
             "site.yaml:1:30: bad domain 'a..b' (a name, or '*.' and a name for any name below "
             "it)");
    load_bad("outputs:\n  - type: file\n", "site.yaml:2:5: file output needs a path");
    load_bad("outputs:\n  - {type: syslog, transport: sctp, address: 'h:514'}\n",
             "site.yaml:2:31: unknown transport 'sctp' (udp, tcp or tls)");
    load_bad("outputs:\n  - {type: syslog, transport: tcp, address: siem.example}\n",
             "site.yaml:2:45: address 'siem.example' must be host:port ([v6]:port)");
    load_bad("outputs:\n  - {type: syslog, transport: tcp, address: '::1:514'}\n",
             "site.yaml:2:45: address '::1:514' must be host:port ([v6]:port)");
    load_bad("outputs:\n  - {type: syslog, address: 'h:514'}\n",
             "site.yaml:2:5: syslog output needs a transport (udp, tcp or tls)");
    load_bad("outputs:\n  - {type: syslog, transport: tcp, address: 'h:514', ca: /etc/passwd}\n",
             "site.yaml:2:5: ca, cert, key and server_name are for transport tls");
    load_bad("outputs:\n  - {type: syslog, transport: tls, address: 'h:6514', ca: /no/ca.pem}\n",
             "site.yaml:2:59: ca '/no/ca.pem' cannot be read: No such file or directory");
    load_bad("outputs:\n  - {type: syslog, transport: tcp, address: 'h:514', max_rate: 10}\n",
             "site.yaml:2:5: max_message and max_rate are for transport udp");
    load_bad("outputs:\n  - {type: syslog, transport: udp, address: 'h:514', types: [dns]}\n",
             "site.yaml:2:62: unknown event type 'dns' (alert, flow, stats, inventory)");
    load_bad("outputs:\n  - {type: syslog, transport: udp, address: 'h:514', facility: kern}\n",
             "site.yaml:2:64: unknown facility 'kern' (local0..local7, user, daemon, auth, "
             "authpriv)");
    load_bad("outputs:\n  - {type: file, path: /tmp/x, address: 'h:514'}\n",
             "site.yaml:2:32: unknown key 'address' in a file output");
    load_bad("sensor:\n  bpf: 'tcp port 99999'\n",
             "site.yaml:2:8: sensor.bpf: illegal port number 99999 > 65535");
    load_bad("sensor:\n  snaplen: 10\n",
             "site.yaml:2:12: sensor.snaplen must be a whole number from 96 to 262144, not '10'");
    load_bad("sensor:\n  colour: red\n",
             "site.yaml:2:3: unknown key 'sensor.colour' (name, interface, snaplen, promiscuous, "
             "buffer_size, bpf, user, group, workers)");
    load_bad("sensor:\n  workers: 9\n",
             "site.yaml:2:12: sensor.workers must be a whole number from 1 to 8, not '9'");
    load_bad("sensor:\n  workers: 0\n",
             "site.yaml:2:12: sensor.workers must be a whole number from 1 to 8, not '0'");
    load_bad("delivery:\n  spool_directory: spool\n",
             "site.yaml:2:20: delivery.spool_directory must be an absolute path");
    load_bad("delivery:\n  queue_events: 2\n",
             "site.yaml:2:17: delivery.queue_events must be a whole number from 16 to 16777216, "
             "not '2'");
    load_bad("sensor:\n  name: a\n  name: b\n", "site.yaml:3:3: duplicate key 'name'");
    load_bad("zones:\n  emr: [\n", "site.yaml:3:1: did not find expected node content while "
                                   "parsing a flow node");
    load_bad("medical:\n  dicom_ae_titles:\n    CT_SCANNER_NUMBER_1: [10.0.0.1]\n",
             "site.yaml:3:5: 'CT_SCANNER_NUMBER_1' in medical.dicom_ae_titles: names are 1 to 16 "
             "characters");
    load_bad("medical:\n  hl7_applications:\n    HIS: [ward7]\n",
             "site.yaml:3:11: unknown zone 'ward7' in medical.hl7_applications");
    load_bad("medical:\n  dicom_aes: {}\n",
             "site.yaml:2:3: unknown key 'medical.dicom_aes' (dicom_ae_titles, hl7_applications)");
    load_bad("medical:\n  hl7_applications: [HIS]\n",
             "site.yaml:2:21: medical.hl7_applications must be a mapping");
    /* Rule files: a pattern that matches none, or only directories (once read as a file, with
     * the directory's name in place of the site file's). */
    load_bad("sensor: {name: a}\nrules: [/nonexistent/*.yaml]\n",
             "site.yaml:2:9: no rule files match '/nonexistent/*.yaml'");
    load_bad("sensor: {name: a}\nrules:\n  - " MM_SHIPPED_RULES "\n  - /etc\n",
             "site.yaml:4:5: no rule files (regular files) match '/etc'");
}

static void test_all_errors_reported(void **state)
{
    struct mm_config *c = NULL;
    const char *y = "foo: 1\nbar: 2\nhome_networks: [x, y]\n";

    (void)state;
    assert_int_equal(config_load_string("s.yaml", y, strlen(y), &c, &diag), MM_ECONFIG);
    assert_int_equal(diag.count, 4);
    assert_string_equal(diag.msg[1], "s.yaml:2:1: unknown key 'bar'");
    assert_string_equal(diag.msg[3],
                        "s.yaml:3:20: bad network 'y' in home_networks: not an IP address");
}

static void test_missing_file(void **state)
{
    struct mm_config *c = NULL;

    (void)state;
    assert_int_equal(config_load_file("/nonexistent/site.yaml", &c, &diag), MM_EIO);
    assert_string_equal(diag.msg[0],
                        "/nonexistent/site.yaml:1:1: cannot open: No such file or directory");
}

/* Every site.yaml shipped with the end-to-end cases and examples must load. */
static void test_shipped_configs_load(void **state)
{
    const char *dirs[] = {MM_TEST_CASES, MM_SHARED_CASES, MM_EXAMPLES};
    char cmd[512], path[512];
    unsigned i, loaded = 0;

    (void)state;
    for (i = 0; i < 3; i++) {
        FILE *p;
        snprintf(cmd, sizeof(cmd), "find %s -name '*.yaml' 2>/dev/null", dirs[i]);
        p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(path, sizeof(path), p) != NULL) {
            struct mm_config *c = NULL;
            path[strcspn(path, "\n")] = '\0';
            if (config_load_file(path, &c, &diag) != 0)
                fail_msg("%s", diag.msg[0]);
            config_free(c);
            loaded++;
        }
        pclose(p);
    }
    assert_true(loaded > 0);
}

static void test_messages_people_can_act_on(void **state)
{
    char deep[256], quoted[320], longif[400];
    struct mm_config *c;
    struct config_diag d = {0};

    (void)state;
    load_bad("sensor:\n\tname: x\n", "site.yaml:2:1: tab character: YAML indents with spaces");
    load_bad("sensor:\n  name: ab\xff\n",
             "site.yaml:2:11: not UTF-8 (byte 0xff): save the file as UTF-8");
    load_bad("sensor:\n  name: \xc3\xa9\xc3\n", /* a character, then half of one */
             "site.yaml:2:10: not UTF-8 (byte 0xc3): save the file as UTF-8");
    snprintf(deep, sizeof(deep), "zones: %.*s", 100,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
             "[[[[[[[[[[[[[[[[[[[[");
    load_bad(deep, "site.yaml:1:72: nested deeper than 64 levels");
    /* Brackets in a quoted string or a comment are text. */
    snprintf(quoted, sizeof(quoted),
             "# %.100s\nzones: {lab: {description: \"%.100s\", networks: [10.31.0.0/16]}}\n",
             deep + 7, deep + 7);
    c = load_ok(quoted);
    config_free(c);
    snprintf(longif, sizeof(longif), "sensor: {interface: %0300d}\n", 0);
    load_bad(longif, "site.yaml:1:21: interface name "
                     "'0000000000000000000000000000000000000000...' is longer than 15 characters");
    /* A misspelt standard zone loads, with a warning; a zone of the site's own does not warn. */
    c = load_ok("zones:\n  lab: {networks: [10.31.0.0/16]}\n"
                "  medical_device: {networks: [10.30.0.0/16]}\n");
    assert_int_equal(diag.nwarn, 1);
    assert_string_equal(diag.warn[0],
                        "site.yaml:3:3: warning: zone 'medical_device' is used by no rule, and "
                        "the shipped rules and default protections name 'medical_devices': did "
                        "you mean 'medical_devices'?");
    config_free(c);
    c = load_ok("outputs:\n  - {type: file, path: /nonexistent-mm/eve.json}\n"
                "  - {type: file, path: /tmp/eve.json}\n");
    assert_int_equal(config_check_paths(c, &d), MM_ECONFIG);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.msg[0], "site.yaml:2:24: output directory /nonexistent-mm: does not "
                                  "exist: make it first (the sensor does not)");
    config_free(c);
}

static void test_domains(void **state)
{
    (void)state;
    assert_true(config_domain_match("update.vendor.example", "update.vendor.example"));
    assert_true(config_domain_match("update.vendor.example", "UPDATE.Vendor.example."));
    assert_false(config_domain_match("update.vendor.example", "x.update.vendor.example"));
    assert_true(config_domain_match("*.vendor.example", "a.b.vendor.example"));
    assert_false(config_domain_match("*.vendor.example", "vendor.example"));
    assert_false(config_domain_match("*.vendor.example", "evilvendor.example"));
    /* A dot escaped inside a DNS label is not a label boundary; an escaped backslash is. */
    assert_false(config_domain_match("*.vendor.example", "evil\\.vendor.example"));
    assert_true(config_domain_match("*.vendor.example", "a\\\\.vendor.example"));
}

static struct config_diag sect_diag;

static void load_bad_section(const char *yaml, const char *want)
{
    struct mm_config *c = NULL;

    assert_int_equal(config_load_string("site.yaml", yaml, strlen(yaml), &c, &sect_diag),
                     MM_ECONFIG);
    assert_true(sect_diag.count >= 1);
    assert_string_equal(sect_diag.msg[0], want);
}

static void test_site_sections(void **state)
{
    static const char ok[] = "zones:\n"
                             "  emr:\n"
                             "    networks: [10.1.0.0/16]\n"
                             "    egress: {networks: [192.0.2.0/24], domains: ['*.x.example'],"
                             " protocols: [NTP]}\n"
                             "maintenance:\n"
                             "  timezone: Asia/Tokyo\n"
                             "  windows:\n"
                             "    - {name: w, days: [sat, sun], start: '22:00', end: '02:00',"
                             " sources: [vendor_remote], targets: [emr, 10.2.0.1]}\n"
                             "    - {ticket: CHG-9, start: 2026-11-25T09:00, end: "
                             "2026-11-25T12:00}\n"
                             "suppress:\n"
                             "  - {rule: obsolete.ftp, source: 10.1.0.0/16, port: 21}\n";
    struct mm_config *c = NULL;
    uint8_t a[16];

    (void)state;
    assert_int_equal(config_load_string("site.yaml", ok, sizeof(ok) - 1, &c, &sect_diag), 0);
    assert_non_null(c->egress[config_zone_index(c, "emr")]);
    assert_int_equal(c->nwindows, 2);
    assert_int_equal(c->windows[0].days, 0x41);
    assert_int_equal(c->windows[0].start_min, 22 * 60);
    assert_int_equal(c->windows[1].from_s, 1795564800); /* 09:00 JST = 00:00Z */
    assert_int_equal(c->nsuppress, 1);
    assert_int_equal(zone_parse_addr("10.2.0.1", a), 0);
    assert_true(config_hostset_has(&c->windows[0].targets, a, ZONE_UNZONED));
    assert_int_equal(zone_parse_addr("10.2.0.2", a), 0);
    assert_false(config_hostset_has(&c->windows[0].targets, a, ZONE_UNZONED));
    config_free(c);

    load_bad_section(
        "zones:\n  emr:\n    networks: [10.1.0.0/16]\n    egress: {domains: ['a..b']}\n",
        "site.yaml:4:24: bad domain 'a..b' (a name, or '*.' and a name for any name "
        "below it)");
    load_bad_section(
        "zones:\n  emr:\n    networks: [10.1.0.0/16]\n    egress: {protocols: [Gopher2]}\n",
        "site.yaml:4:26: unknown protocol 'Gopher2' (nDPI's protocol names)");
    load_bad_section(
        "maintenance: {timezone: Asia/Atlantis}\n",
        "site.yaml:1:25: unknown time zone 'Asia/Atlantis' (an Area/City of tzdata, UTC, or "
        "+HH:MM)");
    load_bad_section("maintenance:\n  windows:\n    - {name: w, days: [tue], start: '25:00', end: "
                     "'17:00'}\n",
                     "site.yaml:3:37: start of a weekly window must be HH:MM, not '25:00'");
    load_bad_section("maintenance:\n  windows:\n    - {name: w, start: 2026-11-25T09:00, end: "
                     "2026-11-25T12:00}\n",
                     "site.yaml:3:7: a one-off window needs the ticket that approved it");
    load_bad_section("maintenance:\n  windows:\n    - {ticket: T, start: 2026-11-25T09:00, end: "
                     "2026-11-25T08:00}\n",
                     "site.yaml:3:49: window ends before it starts");
    load_bad_section(
        "maintenance:\n  windows:\n    - {ticket: T, days: [tue], start: '09:00', end: "
        "'10:00', sources: [ward9]}\n",
        "site.yaml:3:72: unknown zone 'ward9' in sources");
    load_bad_section("suppress:\n  - {rule: no.such.rule}\n",
                     "site.yaml:2:12: suppress names unknown rule 'no.such.rule'");
    load_bad_section("suppress:\n  - {source: 10.0.0.0/8}\n",
                     "site.yaml:2:5: a suppression names the rule or the category it silences (one of them)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_site_sections),
        cmocka_unit_test(test_valid_site),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_errors_with_positions),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_shipped_configs_load),
        cmocka_unit_test(test_messages_people_can_act_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
