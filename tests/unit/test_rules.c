/*
 * Rule-file tests: every rule type compiles from a minimal valid rule, and each class of
 * mistake is reported at its file:line:col with the exact message; the shipped ruleset compiles
 * against the default config; keys and signature ids must be unique; rule matching by
 * protocol, category and port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/classify.h"
#include "mimamori/config.h"
#include "mimamori/error.h"
#include "mimamori/rules.h"

static struct config_diag diag;
static struct mm_config *cfg;

static int setup(void **state)
{
    static const char site[] = "zones:\n"
                               "  emr: {networks: [10.1.0.0/16]}\n"
                               "  pacs: {networks: [10.2.0.0/16]}\n";
    (void)state;
    return config_load_string("site.yaml", site, sizeof(site) - 1, &cfg, &diag);
}

static int teardown(void **state)
{
    (void)state;
    config_free(cfg);
    return 0;
}

/* The words every rule needs, then the type-specific lines. */
#define HEAD(type)                                                                                 \
    "rules:\n"                                                                                     \
    "  - key: t.rule\n"                                                                            \
    "    signature_id: 1000\n"                                                                     \
    "    type: " type "\n"                                                                         \
    "    severity: 2\n"                                                                            \
    "    category: Lateral movement\n"                                                             \
    "    signature: A test rule\n"                                                                 \
    "    message_ja: テスト\n"                                                                  \
    "    mitre_attack: [T1021]\n"                                                                  \
    "    guideline: MHLW-6.0 SO 13.2\n"

static struct ruleset *load_ok(const char *yaml)
{
    struct ruleset *rs = NULL;
    int r = rules_load_string(cfg, "r.yaml", yaml, strlen(yaml), &rs, &diag);

    if (r != 0)
        fprintf(stderr, "unexpected: %s\n", diag.count ? diag.msg[0] : "?");
    assert_int_equal(r, 0);
    assert_int_equal(rs->n, 1);
    return rs;
}

static void load_bad(const char *yaml, const char *want)
{
    struct ruleset *rs = NULL;

    diag.count = 0;
    assert_int_equal(rules_load_string(cfg, "r.yaml", yaml, strlen(yaml), &rs, &diag), MM_ECONFIG);
    assert_null(rs);
    assert_true(diag.count >= 1);
    assert_string_equal(diag.msg[0], want);
}

static void test_every_type_valid(void **state)
{
    static const struct {
        const char *yaml;
        enum rule_type type;
    } ok[] = {
        {HEAD("segmentation") "    from: [pacs]\n    to: [emr]\n"
                              "    allow: [{protocols: [HTTP], ports: [tcp/8080]}]\n",
         RULE_SEGMENTATION},
        {HEAD("egress") "    from: [internal]\n    protocols: [Tor]\n", RULE_EGRESS},
        {HEAD("dns_resolver") "    to: [internet]\n", RULE_DNS_RESOLVER},
        {HEAD("lateral") "    to: [emr]\n    except_from: [admin]\n    ports: [tcp/5985-5986]\n",
         RULE_LATERAL},
        {HEAD("fanout") "    protocols: [SMBv23]\n    threshold: 10\n    window: 1m\n",
         RULE_FANOUT},
        {HEAD("remote_maintenance") "    maintenance_window: outside\n    from: [vendor_remote]\n",
         RULE_MAINTENANCE},
        {HEAD("obsolete") "    tls_versions: [TLSv1]\n", RULE_OBSOLETE},
        {HEAD("scan") "    mode: hosts\n    threshold: 30\n    window: 60\n", RULE_SCAN},
        {HEAD("brute_force") "    protocols: [SSH]\n    threshold: 15\n    window: 5m\n"
                             "    max_duration: 30s\n",
         RULE_BRUTE_FORCE},
        {HEAD("exfiltration") "    bytes: 50MiB\n    window: 1h\n", RULE_EXFILTRATION},
        {HEAD("beaconing") "    threshold: 8\n    jitter: 15\n    min_interval: 30s\n",
         RULE_BEACONING},
        {HEAD("ndpi_risk") "    risks: [suspicious_dga_domain]\n", RULE_NDPI_RISK},
        {HEAD("rogue_service") "    services: [dhcp, ntp]\n", RULE_ROGUE_SERVICE},
        {HEAD("medical_zone") "    from: [internal]\n    to: [internet]\n    protocols: [HL7]\n",
         RULE_MEDICAL_ZONE},
        {HEAD("dicom_ae") "    check: move_destination\n", RULE_DICOM_AE},
        {HEAD("hl7_sender") "    from: [internal]\n", RULE_HL7_SENDER},
        {HEAD("dicom_reject") "    threshold: 5\n    window: 5m\n", RULE_DICOM_REJECT},
        {HEAD("end_of_support") "    from: [clinical]\n", RULE_END_OF_SUPPORT},
        {HEAD("ledger") "    check: mac_mismatch\n", RULE_LEDGER},
        {HEAD("baseline") "    check: new_destination\n    from: [emr]\n", RULE_BASELINE},
        {HEAD("health") "    check: upstream_loss\n    window: 5m\n    threshold: 1000\n"
                        "    percent: 5\n",
         RULE_HEALTH},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct ruleset *rs = load_ok(ok[i].yaml);
        assert_int_equal(rs->r[0].type, ok[i].type);
        assert_int_equal(rs->r[0].sid, 1000);
        assert_int_equal(rs->r[0].category, CAT_LATERAL);
        rules_free(rs);
    }
}

static void test_values(void **state)
{
    struct ruleset *rs;
    const struct rule *r;

    (void)state;
    rs = load_ok(
        HEAD("exfiltration") "    bytes: 50MiB\n    window: 2h\n    dedup: 1d\n"
                             "    from: [emr, pacs]\n    except_from: [unzoned]\n"
                             "    next_ja: 送信先を確認する\n    next_en: Check the destination\n");
    r = &rs->r[0];
    assert_string_equal(r->next_ja, "送信先を確認する");
    assert_string_equal(r->next_en, "Check the destination");
    assert_int_equal(r->bytes, 50ull * 1048576);
    assert_int_equal(r->window_s, 7200);
    assert_int_equal(r->dedup_s, 86400);
    assert_int_equal(r->rev, 1);
    assert_true(r->from & ZONE_BIT(config_zone_index(cfg, "pacs")));
    assert_false(r->from & ZONE_BIT(ZONE_INTERNET));
    assert_true(r->except_from & ZONE_BIT(ZONE_UNZONED));
    assert_int_equal(r->to, ~(zone_set)0); /* not given: any zone */
    rules_free(rs);

    rs = load_ok(HEAD("lateral") "    to: [internal]\n    protocols: [smbv1, RDP]\n"
                                 "    ports: [445, udp/161, tcp/5985-5986]\n");
    r = &rs->r[0];
    assert_int_equal(r->to, ZONES_INTERNAL);
    assert_int_equal(r->match.nprotos, 2);
    assert_int_equal(r->match.protos[0], classify_lookup_protocol("SMBv1"));
    assert_int_equal(r->match.nports, 3);
    assert_int_equal(r->match.ports[0].l4, 0);
    assert_int_equal(r->match.ports[1].l4, 17);
    assert_int_equal(r->match.ports[2].lo, 5985);
    assert_int_equal(r->match.ports[2].hi, 5986);
    rules_free(rs);
}

static void test_errors(void **state)
{
    (void)state;
    load_bad(HEAD("lateral") "    to: [emr]\n    protocols: [SMBv9]\n",
             "r.yaml:12:17: unknown protocol 'SMBv9' (nDPI's protocol names)");
    load_bad(HEAD("lateral") "    to: [ward7]\n    ports: [445]\n",
             "r.yaml:11:10: unknown zone 'ward7' in to");
    load_bad(HEAD("lateral") "    to: [10.0.0.0/8]\n    ports: [445]\n",
             "r.yaml:11:9: to takes zone names; put networks in the site config");
    load_bad(HEAD("lateral") "    to: [emr]\n    ports: [tcp/70000]\n",
             "r.yaml:12:13: bad port 'tcp/70000' (tcp/445, udp/53, tcp/5985-5986 or a bare "
             "number)");
    load_bad(HEAD("lateral") "    to: [emr]\n",
             "r.yaml:2:5: lateral rule 't.rule' needs to and protocols or ports");
    load_bad(HEAD("segmentation") "    to: [emr]\n",
             "r.yaml:2:5: segmentation rule 't.rule' needs from and to");
    load_bad(HEAD("segmentation") "    from: [emr]\n    to: [pacs]\n    threshold: 3\n",
             "r.yaml:13:16: 'threshold' does not apply to rules of type segmentation");
    load_bad(HEAD("fanout") "    protocols: [RDP]\n    window: 60s\n",
             "r.yaml:2:5: fanout rule 't.rule' needs protocols or ports, threshold and window");
    load_bad(HEAD("scan") "    mode: ports\n    threshold: 1000\n    window: 60s\n",
             "r.yaml:12:16: threshold must be a whole number from 2 to 256, not '1000'");
    load_bad(HEAD("scan") "    mode: diagonal\n    threshold: 10\n    window: 60s\n",
             "r.yaml:11:11: mode must be ports, hosts or service, not 'diagonal'");
    load_bad(HEAD("brute_force") "    protocols: [SSH]\n    threshold: 5\n    window: 5 min\n",
             "r.yaml:13:13: window must be a duration from 1s to 30d (90, 90s, 5m, 2h, 1d), not "
             "'5 min'");
    load_bad(HEAD("exfiltration") "    bytes: lots\n    window: 1h\n",
             "r.yaml:11:12: bytes must be a size such as 52428800, 50MB or 50MiB, not 'lots'");
    load_bad(HEAD("beaconing") "    threshold: 3\n",
             "r.yaml:11:16: threshold must be a whole number from 4 to 256, not '3'");
    load_bad(HEAD("remote_maintenance") "    maintenance_window: sometimes\n    from: [emr]\n",
             "r.yaml:11:25: maintenance_window must be inside or outside, not 'sometimes'");
    load_bad(HEAD("remote_maintenance") "    from: [emr]\n",
             "r.yaml:2:5: remote_maintenance rule 't.rule' needs maintenance_window and from or "
             "protocols");
    load_bad(HEAD("obsolete") "    tls_versions: [TLSv1.2]\n",
             "r.yaml:11:20: unknown TLS version 'TLSv1.2' (SSLv2, SSLv3, TLSv1, TLSv1.1)");
    load_bad(HEAD("obsolete") "    from: [emr]\n",
             "r.yaml:2:5: obsolete rule 't.rule' needs protocols, ports, tls_versions or risks");
    load_bad(HEAD("ndpi_risk") "    risks: [very_bad]\n",
             "r.yaml:11:13: unknown nDPI risk 'very_bad' (e.g. suspicious_dga_domain)");
    load_bad(HEAD("rogue_service") "    services: [smtp]\n",
             "r.yaml:11:16: unknown service 'smtp' (dns, dhcp, ntp, domain_controllers)");
    load_bad(HEAD("egress") "    allow: [{to: [emr]}]\n",
             "r.yaml:11:12: 'allow' does not apply to rules of type egress");
    load_bad(HEAD("dns_resolver") "    colour: red\n",
             "r.yaml:11:5: unknown key 'colour' in a rule");
    load_bad(HEAD("sideways") "",
             "r.yaml:4:11: unknown rule type 'sideways' (segmentation, "
             "egress, dns_resolver, lateral, fanout, remote_maintenance, "
             "obsolete, scan, brute_force, exfiltration, beaconing, "
             "ndpi_risk, rogue_service, medical_zone, dicom_ae, hl7_sender, "
             "dicom_reject, dcerpc, dns_tunnel, arp_sweep, end_of_support, ledger, baseline, "
             "health, intel)");
    load_bad(HEAD("baseline") "    check: new_friend\n",
             "r.yaml:11:12: check must be new_peer, new_service or new_destination, not "
             "'new_friend'");
    load_bad(HEAD("baseline") "    to: [emr]\n", "r.yaml:2:5: baseline rule 't.rule' needs check");
    load_bad(HEAD("health") "    check: mood\n",
             "r.yaml:11:12: check must be silence, one_way, upstream_loss, drops, clock or "
             "output, not 'mood'");
    load_bad(HEAD("ledger") "    check: vibes\n",
             "r.yaml:11:12: check must be unknown_device, zone_mismatch, mac_mismatch or "
             "firmware_change, not 'vibes'");
    load_bad(HEAD("medical_zone") "    protocols: [HL7, SMBv1]\n",
             "r.yaml:11:16: medical_zone rule 't.rule': protocols are HL7, DICOM");
    load_bad(HEAD("dicom_ae") "    from: [internal]\n",
             "r.yaml:2:5: dicom_ae rule 't.rule' needs check");
    load_bad(HEAD("dicom_ae") "    check: patient_name\n",
             "r.yaml:11:12: check must be calling_ae, called_ae or move_destination, not "
             "'patient_name'");
    load_bad(HEAD("dicom_reject") "    threshold: 5\n",
             "r.yaml:2:5: dicom_reject rule 't.rule' needs threshold and window");
    load_bad(HEAD("hl7_sender") "    check: calling_ae\n",
             "r.yaml:11:12: 'check' does not apply to rules of type hl7_sender");
}

static void test_common_errors(void **state)
{
    (void)state;
    load_bad("rules:\n  - key: a\n    type: scan\n", "r.yaml:2:5: rule 'a' needs a signature_id");
    load_bad("rules:\n  - key: Bad Key\n    type: rogue_service\n",
             "r.yaml:2:10: rule key 'Bad Key' must be lower-case letters, digits, '.', '_' and "
             "'-' (at most 63), starting with a letter");
    load_bad("rulez: []\n",
             "r.yaml:1:1: unknown key 'rulez' in a rule file (rules, end_of_support)");
    load_bad(HEAD("rogue_service") "    services: [dns]\n    severity: 4\n",
             "r.yaml:12:5: duplicate key 'severity'");
    load_bad("rules:\n  - key: t\n    signature_id: 5\n    type: ndpi_risk\n    severity: 4\n"
             "    category: Lateral movement\n    signature: s\n    message_ja: m\n"
             "    mitre_attack: [T1021]\n    guideline: g\n    risks: [risky_asn]\n",
             "r.yaml:5:15: severity (1 high, 2 medium, 3 low) must be a whole number from 1 to 3, "
             "not '4'");
    load_bad("rules:\n  - key: t\n    signature_id: 5\n    type: ndpi_risk\n    severity: 1\n"
             "    category: Mischief\n    signature: s\n    message_ja: m\n"
             "    mitre_attack: [T1021]\n    guideline: g\n    risks: [risky_asn]\n",
             "r.yaml:6:15: unknown category 'Mischief' (one of the contract's alert categories, "
             "e.g. 'Lateral movement')");
    load_bad("rules:\n  - key: t\n    signature_id: 5\n    type: ndpi_risk\n    severity: 1\n"
             "    category: Brute force\n    signature: s\n    message_ja: m\n"
             "    mitre_attack: [TA0008]\n    guideline: g\n    risks: [risky_asn]\n",
             "r.yaml:9:20: bad ATT&CK technique id 'TA0008' (T1021 or T1021.002)");
}

static void test_unique(void **state)
{
    static const char two[] = HEAD("rogue_service") "    services: [dns]\n"
                                                    "  - key: t.other\n"
                                                    "    signature_id: 1000\n"
                                                    "    type: scan\n"
                                                    "    severity: 2\n"
                                                    "    category: Reconnaissance\n"
                                                    "    signature: s\n"
                                                    "    message_ja: m\n"
                                                    "    mitre_attack: [T1046]\n"
                                                    "    guideline: g\n"
                                                    "    mode: ports\n"
                                                    "    threshold: 10\n"
                                                    "    window: 60\n";
    (void)state;
    load_bad(two, "r.yaml:12:5: signature_id 1000 of 't.other' is already used by 't.rule'");
}

static void test_shipped_ruleset(void **state)
{
    struct mm_config *c = NULL;
    unsigned i, j, types = 0;

    (void)state;
    assert_int_equal(config_load_default(&c, &diag), 0);
    assert_non_null(c->ruleset);
    for (i = 0; i < c->ruleset->n; i++) {
        const struct rule *r = &c->ruleset->r[i];
        types |= 1u << r->type;
        assert_true(r->sid >= 9100000 && r->sid < 9200000);
        assert_true(r->nmitre > 0 || r->type == RULE_HEALTH); /* a fault is no technique */
        assert_non_null(strstr(r->guideline, "MHLW-6.0 SO"));
        if (r->next_ja == NULL || r->next_en == NULL) /* what the on-call reader does next */
            fail_msg("shipped rule %s has no next_ja or next_en", r->key);
        assert_non_null(r->guideline_ja); /* spelled out as a reader knows it */
        assert_non_null(strstr(r->guideline_ja,
                               "医療情報システムの安全管理に関するガイドライン 第6.0版 "
                               "システム運用編 "));
        assert_string_equal(r->guideline_ja + strlen(r->guideline_ja) - strlen(r->guideline + 12),
                            r->guideline + 12); /* the section, as "MHLW-6.0 SO " leaves it */
        assert_non_null(strstr(r->guideline_en, ", System Operation, "));
        for (j = 0; j < i; j++)
            assert_int_not_equal(c->ruleset->r[j].sid, r->sid);
    }
    assert_int_equal(types, (1u << RULE__COUNT) - 1); /* every rule type is shipped */
    config_free(c);
}

/*
 * The end-of-support table: fnmatch patterns per hint, the packet's date against the day
 * support ended (inclusive), the last loaded entry deciding, and its errors at their place.
 */
static void test_end_of_support(void **state)
{
    static const char yaml[] = "end_of_support:\n"
                               "  - product: Windows 7\n"
                               "    ended: 2020-01-14\n"
                               "    windows: [\"6.1.*\"]\n"
                               "    user_agent: \"Mozilla/5.0 (Windows NT 6.1*\"\n"
                               "  - product: Windows 7 with ESU\n" /* a site moves the date */
                               "    ended: 2023-01-10\n"
                               "    source: our ESU contract\n"
                               "    windows: [\"6.1.7601\"]\n";
    static const uint64_t jan14 = 1578960000ull * 1000000u; /* 2020-01-14T00:00:00Z */
    const uint64_t day = 86400ull * 1000000u;
    struct ruleset *rs = NULL;
    const struct eos_entry *e;

    (void)state;
    assert_int_equal(rules_load_string(cfg, "r.yaml", yaml, strlen(yaml), &rs, &diag), 0);
    assert_int_equal(rs->n, 0);
    assert_int_equal(rs->neos, 2);
    assert_null(rules_eos_match(rs, EOS_HINT_WINDOWS, "6.1.7600", jan14 + day - 1));
    e = rules_eos_match(rs, EOS_HINT_WINDOWS, "6.1.7600", jan14 + day);
    assert_non_null(e);
    assert_string_equal(e->product, "Windows 7");
    assert_string_equal(e->ended, "2020-01-14");
    /* 7601 is the site's entry, supported until 2023 by its own word. */
    assert_null(rules_eos_match(rs, EOS_HINT_WINDOWS, "6.1.7601", jan14 + 30 * day));
    assert_string_equal(
        rules_eos_match(rs, EOS_HINT_WINDOWS, "6.1.7601", jan14 + 1200 * day)->source,
        "our ESU contract");
    assert_null(rules_eos_match(rs, EOS_HINT_WINDOWS, "10.0.19045", jan14 + 1200 * day));
    assert_null(rules_eos_match(rs, EOS_HINT_SSH, "6.1.7600", jan14 + 1200 * day));
    assert_non_null(rules_eos_match(rs, EOS_HINT_USER_AGENT,
                                    "Mozilla/5.0 (Windows NT 6.1; Win64; x64)", jan14 + day));
    rules_free(rs);
    load_bad("end_of_support:\n  - product: X\n    ended: 2020-02-30\n    ssh: [\"a*\"]\n",
             "r.yaml:3:12: ended: '2020-02-30' is not a date (YYYY-MM-DD)");
    load_bad("end_of_support:\n  - product: X\n    ended: 2020-02-01\n",
             "r.yaml:2:5: an end_of_support entry needs product, ended and a hint pattern");
    load_bad("end_of_support:\n  - product: X\n    ended: 2020-02-01\n    os: [a]\n",
             "r.yaml:4:5: unknown key 'os' in an end_of_support entry (product, ended, source, "
             "windows, user_agent, ssh, dhcp_vendor, dicom_version)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_valid), cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),           cmocka_unit_test(test_common_errors),
        cmocka_unit_test(test_unique),           cmocka_unit_test(test_shipped_ruleset),
        cmocka_unit_test(test_end_of_support),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
