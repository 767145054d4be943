#!/usr/bin/python3
"""Facts about a case's capture, pulled with tshark, that the sensor's events must agree with.

usage: case_facts.py CASE_DIR [SHARED_DIR]           writes CASE_DIR/facts.json
       case_facts.py --check CASE_DIR...             tshark again: each facts.json unchanged?

The goldens (expected.jsonl) are the sensor's own output, reviewed; these facts come from
outside it. Per flow (its two endpoints and transport), Wireshark's dissectors give: the first
DNS question's name, the first TLS ClientHello's SNI and JA3, the first ServerHello's JA3S, the
first HTTP request's Host, the DCE-RPC operations requested ("svcctl:12": the interface as
Wireshark names its dissector, and the operation number), the SNMP community of v1/v2c
messages, the sizes of NTLMSSP NT responses (24: NTLMv1), the Windows versions NTLMSSP messages
state ("10.0.0.5=6.1.7601": sender and version) and the computer names they give ("10.0.0.5=PC12"),
and the protocols seen. run_case.py checks every flow event against
them and every alert naming a protocol against the protocols of its flow. Regenerate after
changing a capture; the file says which tshark made it. A case's facts.args (one tshark option
per line, kept in facts.json too) binds a dissector to a port Wireshark does not guess, e.g.
"-d" and "tcp.port==443,openvpn" for OpenVPN over TCP 443.
"""
import json
import os
import subprocess
import sys

FIELDS = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport",
          "udp.dstport", "dns.qry.name", "tls.handshake.type", "tls.handshake.extensions_server_name",
          "tls.handshake.ja3", "tls.handshake.ja3s", "http.request", "http.host", "frame.protocols"]
# DCE-RPC interfaces whose operation numbers Wireshark reads (its dissectors' names): the
# sensor's dcerpc.h table uses the same names.
DCERPC_IFACES = ["drsuapi", "svcctl", "atsvc", "taskschedulerservice", "winreg", "samr",
                 "lsarpc", "netlogon", "srvsvc", "wkssvc", "epm", "efs", "spoolss",
                 "iremotewinspool", "isystemactivator", "eventlog", "dispatch"]
FIELDS += ["dcerpc.pkt_type"] + [i + ".opnum" for i in DCERPC_IFACES] + ["snmp.community", "ntlmssp.auth.ntresponse"]
# The Windows version an NTLMSSP message states, with its sender.
FIELDS += ["ntlmssp.version.major", "ntlmssp.version.minor", "ntlmssp.version.build_number"]
# The computer names NTLMSSP states (the client's workstation, the server's NetBIOS name).
FIELDS += ["ntlmssp.auth.hostname", "ntlmssp.challenge.target_info.nb_computer_name"]
# Protocols of a frame that say nothing about the application.
CARRIERS = {"eth", "ethertype", "ip", "ipv6", "tcp", "udp", "data", "vlan", "mpls", "pwethheur",
            "pweth", "sll", "pppoes", "ppp", "gre", "erspan", "vxlan", "llc", "null", "frame"}


def capture_of(case, shared):
    ref = os.path.join(case, "input.ref")
    if os.path.exists(ref):
        with open(ref) as f:
            return os.path.join(shared, "pcaps", f.read().strip())
    for name in ("input.pcap", "input.pcapng"):
        if os.path.exists(os.path.join(case, name)):
            return os.path.join(case, name)
    sys.exit(f"{case}: no capture")


def flow_key(a, b, proto):
    """Both endpoints, in a fixed order, and the transport: direction does not matter."""
    return "|".join(sorted([a, b])) + "|" + proto


def extract(pcap, args):
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=,"] + args
    for f in FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    # A capture cut short in its last packet (some of the corpus's are) is read up to there.
    if r.returncode != 0 and "cut short" not in r.stderr:
        sys.exit(f"{pcap}: tshark: {r.stderr.strip()}")
    out = r.stdout
    flows = {}
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        src = (v["ip.src"] or v["ipv6.src"]).split(",")[-1]  # the innermost header
        dst = (v["ip.dst"] or v["ipv6.dst"]).split(",")[-1]
        if v["tcp.srcport"]:
            proto, sp, dp = "TCP", v["tcp.srcport"], v["tcp.dstport"]
        elif v["udp.srcport"]:
            proto, sp, dp = "UDP", v["udp.srcport"].split(",")[-1], v["udp.dstport"].split(",")[-1]
        else:
            continue
        if not src:
            continue
        k = flow_key(f"{src}:{sp}", f"{dst}:{dp}", proto)
        fl = flows.setdefault(k, {"protocols": set()})
        fl["protocols"].update(p for p in v["frame.protocols"].split(":") if p not in CARRIERS)
        first = lambda s: s.split(",")[0] if s else ""
        if v["dns.qry.name"] and "dns.rrname" not in fl:
            fl["dns.rrname"] = first(v["dns.qry.name"])
        types = v["tls.handshake.type"].split(",") if v["tls.handshake.type"] else []
        if "1" in types and "tls.client_hello" not in fl:
            fl["tls.client_hello"] = True
            if v["tls.handshake.extensions_server_name"]:
                fl["tls.sni"] = first(v["tls.handshake.extensions_server_name"])
            if v["tls.handshake.ja3"]:
                fl["tls.ja3.hash"] = first(v["tls.handshake.ja3"])
        if "2" in types and v["tls.handshake.ja3s"] and "tls.ja3s.hash" not in fl:
            fl["tls.ja3s.hash"] = first(v["tls.handshake.ja3s"])
        if v["http.request"] and v["http.host"] and "http.hostname" not in fl:
            fl["http.hostname"] = first(v["http.host"])
        for r in filter(None, v["ntlmssp.auth.ntresponse"].split(",")):
            fl.setdefault("ntlm.nt_response_len", set()).add(len(r.replace(":", "")) // 2)
        if v["ntlmssp.version.major"]:
            ver = zip(*(v["ntlmssp.version." + x].split(",") for x in ("major", "minor", "build_number")))
            fl.setdefault("ntlm.versions", set()).update(f"{src}={'.'.join(t)}" for t in ver)
        for n in filter(None, (v["ntlmssp.auth.hostname"] + "," +
                               v["ntlmssp.challenge.target_info.nb_computer_name"]).split(",")):
            fl.setdefault("ntlm.names", set()).add(f"{src}={n}")
        if v["snmp.community"] and "snmp.community" not in fl:
            fl["snmp.community"] = first(v["snmp.community"])
        if "0" in v["dcerpc.pkt_type"].split(","):  # a request (type 0) in this frame
            for i in DCERPC_IFACES:
                for n in filter(None, v[i + ".opnum"].split(",")):
                    fl.setdefault("dcerpc.ops", set()).add(f"{i}:{n}")
    for fl in flows.values():
        fl.pop("tls.client_hello", None)
        fl["protocols"] = sorted(fl["protocols"])
        for key in ("dcerpc.ops", "ntlm.nt_response_len", "ntlm.versions", "ntlm.names"):
            if key in fl:
                fl[key] = sorted(fl[key])
    return flows


def facts_of(case, shared):
    version = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    args = []
    if os.path.exists(os.path.join(case, "facts.args")):
        with open(os.path.join(case, "facts.args")) as f:
            args = [line.strip() for line in f if line.strip()]
    return {"made_by": version, "tshark_args": args,
            "flows": extract(capture_of(case, shared), args)}


def check(cases):
    """The committed facts must be what tshark says now: nobody edited them by hand."""
    import shutil
    if shutil.which("tshark") is None:
        print("tshark absent: skipped")
        return 77
    bad = 0
    for case in cases:
        with open(os.path.join(case, "facts.json")) as f:
            committed = json.load(f)
        fresh = json.loads(json.dumps(facts_of(case, "")))
        if fresh["flows"] != committed["flows"]:
            bad += 1
            print(f"{case}: facts.json differs from what {fresh['made_by']} says now")
    print(f"{len(cases)} cases, {bad} with facts that differ")
    return 1 if bad else 0


def main():
    if sys.argv[1] == "--check":
        return check(sys.argv[2:])
    case = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "..", "shared")
    facts = facts_of(case, shared)
    with open(os.path.join(case, "facts.json"), "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print(f"{case}: {len(facts['flows'])} flows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
