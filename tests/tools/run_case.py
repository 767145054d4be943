#!/usr/bin/python3
"""Run one end-to-end case: its events against facts from tshark, then field by field against
the reviewed golden file.

usage: run_case.py MIMAMORI CASE_DIR [SHARED_DIR]
       run_case.py --regen MIMAMORI CASE_DIR...

A case directory holds input.pcap (or input.pcapng), site.yaml, expected.jsonl and facts.json.
A case may instead hold input.ref, the path of a capture under SHARED_DIR/pcaps that may not be
copied here; such a case compares its alerts only with the golden (the flows of the shared
corpus are checked against ndpiReader elsewhere) and exits 77 (skipped) when the corpus is
absent.

First the facts (case_facts.py, pulled with tshark): every flow the sensor reports that tshark
also saw must carry the same DNS query name, TLS SNI, JA3, JA3S and HTTP host (present on both
sides or on neither), and every alert that names a protocol must be on a flow where Wireshark's
dissectors found that protocol, and every alert that names a DCE-RPC operation ("dce_rpc=" and
"opnum=") must be on a flow where Wireshark decoded a request of that interface and operation
number; an alert saying a default SNMP community was used must be on a flow whose community
tshark read as "public" or "private", and no event may carry a community tshark read; an
alert saying NTLMv1 must be on a flow where tshark read a 24-byte NT response. Then the golden:
the flow events, ordered by start time and 5-tuple, must match the flow records of
expected.jsonl in count and in every field listed in FIELDS; the alerts, ordered by time, rule and addresses, must match its alert records in every
field of ALERT_FIELDS (rule, category, severity, zones, hosts, evidence, count). flow_id and
timestamps are not compared. --regen rewrites expected.jsonl from the current output, for
review before committing; the facts are not regenerated from the sensor, ever.
Schema validation of the same events is the test schema_check.py.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

FIELDS = [
    "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto", "vlan", "community_id",
    "icmp_type", "icmp_code",
    "ndpi.protocol", "ndpi.category", "ndpi.confidence", "ndpi.risks",
    "ndpi.src_zone", "ndpi.dest_zone",
    "flow.pkts_toserver", "flow.pkts_toclient", "flow.bytes_toserver", "flow.bytes_toclient",
    "flow.state", "flow.reason", "flow.age",
    "tcp.tcp_flags_ts", "tcp.tcp_flags_tc",
    "tls.sni", "tls.version", "http.hostname", "http.http_user_agent", "dns.rrname",
    "ssh.client.software_version", "ssh.server.software_version", "flow.alerted",
    "ndpi.hl7", "ndpi.dicom",
]

ALERT_FIELDS = [
    "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto",
    "alert.signature_id", "alert.rev", "alert.signature", "alert.category", "alert.severity",
    "alert.action", "alert.metadata.rule", "alert.metadata.src_zone", "alert.metadata.dest_zone",
    "alert.metadata.mitre_attack", "alert.metadata.guideline", "alert.metadata.evidence",
    "alert.metadata.count", "alert.metadata.src_device", "alert.metadata.dest_device",
]


def get(ev, path):
    for part in path.split("."):
        if not isinstance(ev, dict) or part not in ev:
            return None
        ev = ev[part]
    return ev


SHARED = None  # the shared corpus directory (../shared)

# nDPI's protocol names in alert evidence, and the Wireshark dissectors that confirm them.
DISSECTORS = {
    "Telnet": {"telnet"}, "SMBv1": {"smb"}, "SMBv23": {"smb2"}, "RDP": {"rdp", "tpkt", "cotp"},
    "FTP_CONTROL": {"ftp"}, "DNS": {"dns"}, "TLS": {"tls"}, "HTTP": {"http"}, "VNC": {"vnc"},
    "HL7": {"hl7"}, "DICOM": {"dicom"}, "DCE_RPC": {"dcerpc"}, "OpenVPN": {"openvpn"},
    "SMTP": {"smtp"}, "SSH": {"ssh"}, "NetBIOS": {"nbss", "nbns", "nbdgm"},
}
FACT_FIELDS = ["dns.rrname", "tls.sni", "tls.ja3.hash", "tls.ja3s.hash", "http.hostname"]


def check_facts(case, events):
    """Differences between the events and the case's tshark facts; prints each."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import case_facts
    path = os.path.join(case, "facts.json")
    if not os.path.exists(path):
        print(f"{case}: no facts.json (make it with tests/tools/case_facts.py)")
        return 1
    with open(path) as f:
        facts = json.load(f)["flows"]
    bad = checked = 0
    for e in events:
        if e["event_type"] not in ("flow", "alert") or "src_port" not in e:
            continue
        k = case_facts.flow_key(f"{e['src_ip']}:{e['src_port']}",
                                f"{e['dest_ip']}:{e['dest_port']}", e["proto"])
        fact = facts.get(k)
        if fact is None:
            continue
        checked += 1
        if e["event_type"] == "flow":
            for field in FACT_FIELDS:
                if field.startswith("tls.") and "openvpn" in fact["protocols"]:
                    continue  # TLS inside OpenVPN's control channel: not a TLS flow
                if get(e, field) != fact.get(field):
                    bad += 1
                    print(f"fact {k}: {field}: sensor {get(e, field)!r}, tshark "
                          f"{fact.get(field)!r}")
            continue
        evidence = e["alert"]["metadata"]["evidence"]
        if "auth=NTLMv1" in evidence and 24 not in fact.get("ntlm.nt_response_len", []):
            bad += 1
            print(f"fact {k}: alert says NTLMv1, tshark read NT responses of "
                  f"{fact.get('ntlm.nt_response_len', [])} bytes")
        hint = dict(v.split("=", 1) for v in evidence if v.startswith(("device=", "windows=")))
        if "windows" in hint and f"{hint['device']}={hint['windows']}" not in fact.get(
                "ntlm.versions", []):
            bad += 1
            print(f"fact {k}: alert says {hint['device']} stated Windows {hint['windows']}, "
                  f"tshark read {fact.get('ntlm.versions', [])}")
        ended = [v.split("=", 1)[1] for v in evidence if v.startswith("support_ended=")]
        if ended and e["timestamp"][:10] <= ended[0]:
            bad += 1
            print(f"fact {k}: an end-of-support alert at {e['timestamp']}, support ended "
                  f"{ended[0]}")
        if ("risk=snmp_default_community" in evidence and
                fact.get("snmp.community") not in ("public", "private")):
            bad += 1
            print(f"fact {k}: alert says a default SNMP community, tshark read another")
        rpc = [v.split("=", 1)[1] for v in evidence if v.startswith(("dce_rpc=", "opnum="))]
        if len(rpc) == 2 and rpc[0].split(".")[0] in case_facts.DCERPC_IFACES:
            op = f"{rpc[0].split('.')[0]}:{rpc[1]}"
            if op not in fact.get("dcerpc.ops", []):
                bad += 1
                print(f"fact {k}: alert {e['alert']['metadata']['rule'][0]} says {rpc[0]} "
                      f"({op}), tshark decoded {fact.get('dcerpc.ops', [])}")
        for ev in evidence:
            if not ev.startswith("protocol=") or ev.endswith(")"):
                continue  # "protocol=SSH (Match by port)": a guess, said to be one
            names = ev[len("protocol="):].split(".")
            want = set().union(*(DISSECTORS.get(n, set()) for n in names))
            if want and not want & set(fact["protocols"]):
                bad += 1
                print(f"fact {k}: alert {e['alert']['metadata']['rule'][0]} says {ev}, tshark "
                      f"dissected {fact['protocols']}")
    # A device name an alert gives must be one tshark read for that address (NTLMSSP here; the
    # cases have no other name source), anywhere in the capture.
    known = set().union(*(set(f.get("ntlm.names", [])) for f in facts.values())) if facts else set()
    for e in events:
        md = e.get("alert", {}).get("metadata", {})
        for end, key in (("src_ip", "src_device"), ("dest_ip", "dest_device")):
            if key in md and f"{e[end]}={md[key][0]}" not in known:
                bad += 1
                print(f"alert {md['rule'][0]}: {key} {md[key][0]!r} for {e[end]}: tshark read "
                      f"no such name for it")
    # The community is a password: it never leaves the sensor.
    secrets = {f["snmp.community"] for f in facts.values() if f.get("snmp.community")}
    for e in events:
        text = json.dumps(e)
        for c in secrets:
            if f'"{c}"' in text or f"={c}" in text:
                bad += 1
                print(f"an event carries the SNMP community {c!r}: {text[:120]}")
    if checked == 0 and facts:
        bad += 1
        print(f"{case}: no event matched a flow of facts.json")
    return bad


def input_of(case):
    ref = os.path.join(case, "input.ref")
    if os.path.exists(ref):
        with open(ref) as f:
            path = os.path.join(SHARED or "", "pcaps", f.read().strip())
        if not os.path.exists(path):
            print(f"{case}: {path} absent, skipped")
            sys.exit(77)
        return path, True
    pcap = (glob.glob(os.path.join(case, "input.pcap*")) or [None])[0]
    if pcap is None:
        sys.exit(f"{case}: no input.pcap")
    return pcap, False


def run(mimamori, case):
    pcap, _ = input_of(case)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = dict(os.environ, TZ="UTC")
        r = subprocess.run([mimamori, "-c", os.path.join(case, "site.yaml"), "-r", pcap,
                            "--eve", out.name], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit(f"{case}: mimamori exited {r.returncode}: {r.stderr}")
        with open(out.name) as f:
            return [json.loads(line) for line in f]


def records(events):
    """Flows, then alerts, each as {field: value} with its event_type."""
    fl = [e for e in events if e["event_type"] == "flow"]
    fl.sort(key=lambda e: (e["flow"]["start"], e["src_ip"], e.get("src_port", 0), e["dest_ip"],
                           e.get("dest_port", 0), e["proto"]))
    al = [e for e in events if e["event_type"] == "alert"]
    al.sort(key=lambda e: (e["timestamp"][:26], e["alert"]["metadata"]["rule"], e.get("src_ip", ""),
                           e.get("src_port", 0), e.get("dest_ip", ""), e.get("dest_port", 0)))
    out = []
    for kind, evs, fields in (("flow", fl, FIELDS), ("alert", al, ALERT_FIELDS)):
        for e in evs:
            r = {k: get(e, k) for k in fields if get(e, k) is not None}
            r["event_type"] = kind
            out.append(r)
    return out


def main():
    global SHARED
    here = os.path.dirname(os.path.abspath(__file__))
    SHARED = os.path.join(here, "..", "..", "..", "shared")
    if sys.argv[1] == "--regen":
        mimamori = sys.argv[2]
        for case in sys.argv[3:]:
            alerts_only = input_of(case)[1]
            with open(os.path.join(case, "expected.jsonl"), "w") as f:
                for fl in records(run(mimamori, case)):
                    if alerts_only and fl["event_type"] != "alert":
                        continue
                    f.write(json.dumps(fl, ensure_ascii=False, sort_keys=True) + "\n")
            print(f"rewrote {case}/expected.jsonl")
        return 0
    mimamori, case = sys.argv[1:3]
    if len(sys.argv) > 3:
        SHARED = sys.argv[3]
    alerts_only = input_of(case)[1]
    events = run(mimamori, case)
    bad = check_facts(case, events)
    got = records(events)
    with open(os.path.join(case, "expected.jsonl")) as f:
        want = [json.loads(line) for line in f if line.strip()]
    for kind in ("alert",) if alerts_only else ("flow", "alert"):
        g_ = [r for r in got if r["event_type"] == kind]
        w_ = [r for r in want if r["event_type"] == kind]
        if len(g_) != len(w_):
            bad += 1
            print(f"{kind} count: got {len(g_)}, expected {len(w_)}")
        for i, (g, w) in enumerate(zip(g_, w_)):
            for k in sorted(set(g) | set(w)):
                if g.get(k) != w.get(k):
                    bad += 1
                    print(f"{kind} {i + 1} ({w.get('src_ip')} -> {w.get('dest_ip')}): {k}: "
                          f"got {g.get(k)!r}, expected {w.get(k)!r}")
    nal = sum(1 for r in got if r["event_type"] == "alert")
    print(f"{os.path.basename(case)}: {len(got) - nal} flows, {nal} alerts, {len(events)} events, "
          f"{bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
