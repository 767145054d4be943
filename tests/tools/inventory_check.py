#!/usr/bin/python3
"""The inventory against what tshark reads of the same captures.

usage: inventory_check.py MIMAMORI PCAPS_DIR WORKDIR SCENARIO_GENERATOR

For each capture below (from ../shared/pcaps/protocols; exit 77 when the corpus is absent) the
sensor writes its inventory (--inventory, embedded default config: RFC 1918 is internal). Every
device must be an address inside the home networks; a device's MAC must be one tshark saw
that address use (as an ARP request's sender, or the client of a DHCP message for it); its
names must be host names tshark read in DHCP option 12 from that MAC; its vendor must be the
IEEE registry's line for the MAC's first three bytes (read here from Debian's ieee-data); each
service must be a port tshark saw that address answer on (a SYN-ACK, or UDP from it); each
software hint one tshark read from it (the Windows version of its NTLMSSP messages, its HTTP
user agent, its SSH banner; DHCP's vendor class and parameter list from its MAC), and an
end-of-support flag must rest on one of them and a last_seen after the day support ended. And
the captures together must give devices with MACs, names and software, so that the check
checks. The inventory events of the EVE file must match the file: one new_device event per
device, new_service events only for services it lists, the last MAC change to its MAC. The
CSV export (--inventory-csv) must read back, with Python's csv module in Excel's dialect, as
the same devices, and the connections' CSV (--connections-csv) as the same parties.

Medical identities, on the HL7 case (tests/cases/hl7_mllp) and the DICOM scenarios made by
SCENARIO_GENERATOR: a device's DICOM AE title must be one tshark read as the calling AE of an
association it requested or the called AE of one it was asked for (the sensor takes it only
from associations accepted: dicom_reject_attack's acceptor has none), its implementation class
and version those of its own A-ASSOCIATE-RQ; its HL7 sending application and facility MSH-3
and MSH-4 of a message it sent (read here from the TCP payload).
"""
import ipaddress
import json
import os
import subprocess
import sys

CAPTURES = ["arkime_curl-enabled-tls13.pcap", "iphone.pcap", "android.pcap", "arkime_wireshark-dhcp.pcap", "gnutella.pcap",
            "../obsolete/netbios.pcap", "../tunnels/anyconnect-vpn.pcap",
            "zeek_smb_raw_ntlm_in_smb.pcap", "arkime_wireshark-smb-on-windows10.pcap",
            "zeek_smb_smb2.pcap", "arkime_ssh2.pcap", "smb2-peter.pcap", "sonos.pcapng",
            "long_tls_certificate.pcap"]
OUI = "/usr/share/ieee-data/oui.txt"
HOME = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                          "fc00::/7")]


def tshark(pcap, filt, fields, occurrence="f"):
    cmd = ["tshark", "-r", pcap, "-Y", filt, "-T", "fields", "-E", "occurrence=" + occurrence]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def facts(pcap):
    macs, names, served = {}, {}, set()
    for ip, mac in tshark(pcap, "arp.opcode == 1", ["arp.src.proto_ipv4", "arp.src.hw_mac"]):
        macs.setdefault(ip, set()).add(mac)
    for mac, name, fqdn, req, ciaddr, yiaddr in tshark(
            pcap, "dhcp", ["dhcp.hw.mac_addr", "dhcp.option.hostname", "dhcp.fqdn.name",
                           "dhcp.option.requested_ip_address", "dhcp.ip.client", "dhcp.ip.your"]):
        for ip in (req, ciaddr, yiaddr):
            if ip and ip != "0.0.0.0":
                macs.setdefault(ip, set()).add(mac)
        for n in (name, fqdn):
            if n:
                names.setdefault(mac, set()).add(n)
    for ip, port in tshark(pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 1",
                           ["ip.src", "tcp.srcport"]):
        served.add((ip, "TCP", int(port)))
    for ip, port in tshark(pcap, "udp && !icmp", ["ip.src", "udp.srcport"]):
        if ip and port:
            served.add((ip, "UDP", int(port)))
    return macs, names, served


def name_facts(pcap):
    """Names name services give addresses, per source: NetBIOS registrations and answers (the
    name without its <xx> type), mDNS/LLMNR and DNS answers (every name with every address of
    the same response)."""
    named = {}
    for addrs, nbnames in tshark(pcap, "nbns.flags.opcode == 5 || nbns.flags.opcode == 8 || "
                                 "(nbns.flags.response == 1 && nbns.flags.opcode == 0)",
                                 ["nbns.addr", "nbns.name"], "a"):
        for a in filter(None, addrs.split(",")):
            for n in nbnames.split(","):
                named.setdefault(("netbios", a), set()).add(n.split("<")[0].strip())
    for src_ip, host, nb in tshark(pcap, "ntlmssp.auth.hostname || "
                                   "ntlmssp.challenge.target_info.nb_computer_name",
                                   ["ip.src", "ntlmssp.auth.hostname",
                                    "ntlmssp.challenge.target_info.nb_computer_name"], "a"):
        for n in filter(None, (host + "," + nb).split(",")):
            named.setdefault(("ntlm", src_ip), set()).add(n)
    for port, src in (("5353", "mdns"), ("5355", "mdns"), ("53", "dns")):
        for rnames, addrs, ptrs in tshark(pcap, f"udp.srcport == {port} && dns.flags.response == 1",
                                          ["dns.resp.name", "dns.a", "dns.ptr.domain_name"], "a"):
            for a in filter(None, addrs.split(",")):
                for n in filter(None, rnames.split(",")):
                    named.setdefault((src, a), set()).add(n)
            for r, t in zip(rnames.split(","), ptrs.split(",")):
                parts = r.split(".")
                if t and len(parts) == 6 and r.endswith(".in-addr.arpa"):
                    named.setdefault((src, ".".join(reversed(parts[:4]))), set()).add(t)
    for src_ip, dns_names in tshark(pcap, "x509ce.dNSName", ["ip.src", "x509ce.dNSName"], "a"):
        for n in filter(None, dns_names.split(",")):
            named.setdefault(("tls_cert", src_ip), set()).add(n)
    return named


def software_facts(pcap):
    """What tshark reads of each address's software (DHCP's by MAC): sets of values per hint."""
    sw = {}
    add = lambda who, hint, v: sw.setdefault((who, hint), set()).add(v)
    for src, major, minor, build in tshark(pcap, "ntlmssp.version.major", [
            "ip.src", "ntlmssp.version.major", "ntlmssp.version.minor",
            "ntlmssp.version.build_number"]):
        add(src, "windows", f"{major}.{minor}.{build}")
    for src, ua in tshark(pcap, "http.user_agent", ["ip.src", "http.user_agent"]):
        add(src, "user_agent", ua[:63])
    for src, banner in tshark(pcap, "ssh.protocol", ["ip.src", "ssh.protocol"]):
        add(src, "ssh", banner.split("-", 2)[-1][:63])
    for mac, vendor in tshark(pcap, "dhcp.option.vendor_class_id",
                              ["dhcp.hw.mac_addr", "dhcp.option.vendor_class_id"]):
        add(mac, "dhcp_vendor", vendor)
    for mac, items in tshark(pcap, "dhcp.option.request_list_item",
                             ["dhcp.hw.mac_addr", "dhcp.option.request_list_item"], "a"):
        add(mac.split(",")[0], "dhcp_parameters", items)
    return sw


def check_software(name, dev, sw):
    """Each software hint the sensor kept is one tshark read from that device."""
    bad = 0
    for hint, value in dev.get("software", {}).items():
        who = dev["mac"] if hint.startswith("dhcp_") else dev["ip"]
        want = sw.get((who, hint), set())
        if hint == "dhcp_parameters":  # the sensor cuts a long list at a whole number
            ok = any(w == value or w.startswith(value + ",") for w in want)
        else:
            ok = value in want
        if not ok:
            bad += 1
            print(f"{name}: {dev['ip']} {hint} {value!r}, tshark read {want}")
    eos = dev.get("end_of_support")
    if eos is not None and (dev["software"].get(eos["hint"]) != eos["value"] or
                            eos["ended"] >= dev["last_seen"][:10]):
        bad += 1
        print(f"{name}: {dev['ip']} flagged {eos} on {dev['software']}, last seen "
              f"{dev['last_seen']}")
    return bad, len(dev.get("software", {}))


def check_csv(name, inv):
    """The CSV, read as Excel's dialect with a BOM, holds the JSON lines' devices."""
    import csv
    with open(inv + ".csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, dialect="excel"))
    with open(inv + ".csv", "rb") as f:
        raw = f.read()
    devices = [json.loads(line) for line in open(inv)]
    got = [(r["ip"], r["mac"], r["names"], r["zone"]) for r in rows]
    want = [(d["ip"], d["mac"] or "", "; ".join(d["names"]), d["zone"]) for d in devices]
    if got != want or not raw.startswith(b"\xef\xbb\xbf") or raw.count(b"\r\n") != len(rows) + 1:
        print(f"{name}: the CSV's rows {got} differ from the inventory's {want}")
        return 1
    return 0


def check_connections_csv(name, conn):
    """The connections' CSV, read as Excel's dialect with a BOM, holds the JSON lines' parties."""
    import csv
    with open(conn + ".csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, dialect="excel"))
    parties = [json.loads(line) for line in open(conn)]
    got = [(r["ip"], r["names"], r["direction"], r["devices"], int(r["flows_outbound"]),
            int(r["bytes_to_party"])) for r in rows]
    want = [(p["ip"], "; ".join(p["names"]), p["direction"], "; ".join(p["devices"]),
             p["flows"]["outbound"], p["bytes"]["to_party"]) for p in parties]
    if got != want:
        print(f"{name}: the connections CSV's rows differ from the JSON lines'")
        return 1
    return 0


def check_events(name, eve, inv):
    """The inventory events tell the same story as the file: one new_device per device, a
    new_service only for a service it lists, the last MAC change to the MAC it ends with."""
    devices = {d["ip"]: d for d in (json.loads(line) for line in open(inv))}
    new, svc, ident = {}, {}, {}
    for e in (json.loads(line) for line in open(eve)):
        if e["event_type"] != "inventory":
            continue
        c = e["ndpi"]["inventory"]
        ip = e["src_ip"]
        if c["device"]["ip"] != ip:
            print(f"{name}: an inventory event's src_ip {ip} is not its device's")
            return 1
        if c["change"] == "new_device":
            new[ip] = new.get(ip, 0) + 1
        elif c["change"] == "new_service":
            svc.setdefault(ip, []).append(c["what"])
        else:
            ident.setdefault(ip, {})[c["what"]] = c["to"]
    bad = 0
    for ip, d in devices.items():
        want_svc = sorted(f"{s['proto']}/{s['port']}" for s in d["services"])
        # A device made by the update that found its first service reports it in its
        # new_device record, not as a new_service event.
        got_svc = sorted(svc.get(ip, []))
        if new.get(ip) != 1 or not set(got_svc) <= set(want_svc) or len(set(got_svc)) != len(got_svc):
            bad += 1
            print(f"{name}: {ip}: {new.get(ip, 0)} new_device events, services {got_svc} of "
                  f"{want_svc}")
        if d["mac"] is not None and "mac" in ident.get(ip, {}) and ident[ip]["mac"] != d["mac"]:
            bad += 1
            print(f"{name}: {ip}: last MAC change to {ident[ip]['mac']}, inventory {d['mac']}")
    if set(new) - set(devices):
        bad += 1
        print(f"{name}: new_device events for {set(new) - set(devices)}, not in the inventory")
    return bad


def check_connections(name, pcap, path):
    """The external parties (--connections): each outside the home networks; each listed device
    exchanged packets with it; each name a TLS server name or HTTP host tshark read toward it,
    a DNS name of the certificate it sent, or the name a DNS answer gave its address;
    its direction not against the TCP connections tshark saw opened (a SYN without ACK)."""
    pairs, opened, names = set(), set(), {}
    for src, dst, syn, ack, udp in tshark(pcap, "ip", ["ip.src", "ip.dst", "tcp.flags.syn",
                                                        "tcp.flags.ack", "udp.srcport"]):
        pairs.add((src, dst))
        if syn in ("1", "True") and ack in ("0", "False"):  # UDP has no opener to go by
            opened.add((src, dst))
    for dst, sni, host in tshark(pcap, "tls.handshake.extensions_server_name || http.host",
                                 ["ip.dst", "tls.handshake.extensions_server_name", "http.host"]):
        names.setdefault(dst, set()).update(n.lower() for n in filter(None, (sni, host)))
    for qname, addrs in tshark(pcap, "dns.flags.response == 1 && dns.a",
                               ["dns.qry.name", "dns.a"], "a"):
        for a in filter(None, addrs.split(",")):
            names.setdefault(a, set()).add(qname.split(",")[0].lower())
    for src, dns_names in tshark(pcap, "x509ce.dNSName", ["ip.src", "x509ce.dNSName"], "a"):
        names.setdefault(src, set()).update(n.lower() for n in dns_names.split(",") if n)
    bad = n = 0
    for p in (json.loads(line) for line in open(path)):
        n += 1
        ip = p["ip"]
        if any(ipaddress.ip_address(ip) in h for h in HOME):
            bad += 1
            print(f"{name}: external party {ip} is inside the home networks")
        for d in p["devices"]:
            if (d, ip) not in pairs and (ip, d) not in pairs:
                bad += 1
                print(f"{name}: {ip} lists device {d}, tshark saw no packet between them")
        if not {x.lower() for x in p["names"]} <= names.get(ip, set()):
            bad += 1
            print(f"{name}: {ip} named {p['names']}, tshark read {names.get(ip)}")
        # Outbound against what tshark saw open: the party's own SYNs or first datagrams and
        # none of a device's (flows picked up mid-stream open nothing either way).
        if p["direction"] == "outbound" and any((ip, d) in opened for d in p["devices"]) and \
                not any((d, ip) in opened for d in p["devices"]):
            bad += 1
            print(f"{name}: {ip} outbound, but only it opened flows")
        if p["direction"] == "inbound" and any((d, ip) in opened for d in p["devices"]) and \
                not any((ip, d) in opened for d in p["devices"]):
            bad += 1
            print(f"{name}: {ip} inbound, but only devices opened flows")
    return bad, n


def medical_facts(pcap):
    ae, impl, hl7 = {}, {}, {}
    for src, dst, calling, called, uid, ver, pdu in tshark(
            pcap, "dicom.assoc.ae.calling",
            ["ip.src", "ip.dst", "dicom.assoc.ae.calling", "dicom.assoc.ae.called",
             "dicom.userinfo.uid", "dicom.userinfo.version", "dicom.pdu.type"]):
        if int(pdu, 0) == 1:  # A-ASSOCIATE-RQ: src requests as calling, dst is called
            ae.setdefault(src, set()).add(calling.strip())
            ae.setdefault(dst, set()).add(called.strip())
            impl.setdefault(src, set()).add((uid, ver.strip()))
    for src, payload in tshark(pcap, "tcp.len > 0", ["ip.src", "tcp.payload"]):
        text = bytes.fromhex(payload.replace(":", "")).decode("latin-1")
        for seg in text.replace("\x0b", "").split("\r"):
            if seg.startswith("MSH|"):
                f = seg.split("|")
                hl7.setdefault(src, set()).add((f[2].split("^")[0], f[3].split("^")[0]))
    return ae, impl, hl7


def check_medical(mimamori, pcap, site, work, label):
    inv = os.path.join(work, label + ".inventory.jsonl")
    cmd = [mimamori, "-r", pcap, "--eve", os.path.join(work, "eve.json"), "--inventory", inv]
    if site is not None:
        cmd += ["-c", site]
    subprocess.run(cmd, check=True, capture_output=True)
    ae, impl, hl7 = medical_facts(pcap)
    bad = seen = 0
    for dev in (json.loads(line) for line in open(inv)):
        ip, dm, hm = dev["ip"], dev.get("dicom"), dev.get("hl7")
        if dm is not None:
            seen += 1
            if "ae_title" in dm and dm["ae_title"] not in ae.get(ip, set()):
                bad += 1
                print(f"{label}: {ip} AE {dm['ae_title']!r}, tshark {ae.get(ip)}")
            got = (dm.get("implementation_class_uid", ""), dm.get("implementation_version", ""))
            if got != ("", "") and got not in impl.get(ip, set()):
                bad += 1
                print(f"{label}: {ip} implementation {got}, tshark {impl.get(ip)}")
        if hm is not None:
            seen += 1
            got = (hm["sending_application"], hm["sending_facility"])
            if got not in hl7.get(ip, set()):
                bad += 1
                print(f"{label}: {ip} HL7 {got}, its messages say {hl7.get(ip)}")
    print(f"{label}: {seen} medical identities checked")
    return bad, seen


def registry():
    vendors = {}
    with open(OUI, encoding="utf-8", errors="replace") as f:
        for line in f:
            if "(hex)" in line:
                prefix, _, vendor = line.partition("(hex)")
                vendors[prefix.strip().lower().replace("-", ":")] = vendor.strip()
    return vendors


def main():
    mimamori, pcaps, work, gen = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    bad, seen = check_medical(mimamori, os.path.join(here, "..", "cases", "hl7_mllp",
                                                     "input.pcap"), None, work, "hl7_mllp")
    scen = os.path.join(work, "scenarios")
    for name in ("dicom_ae_benign", "dicom_reject_attack"):
        subprocess.run([gen, scen, name], check=True)
        b, n = check_medical(mimamori, os.path.join(scen, name, "input.pcap"),
                             os.path.join(scen, name, "site.yaml"), work, name)
        bad, seen = bad + b, seen + n
    if seen < 3:
        bad += 1
        print("fewer than 3 medical identities: nothing much was checked")
    d = os.path.join(pcaps, "protocols")
    if not os.path.isdir(d):
        print(f"{d} absent: the ARP and DHCP part is skipped")
        return 1 if bad else 77
    vendors = registry() if os.path.exists(OUI) else None
    total_mac = total_name = total_sw = total_parties = 0
    for name in CAPTURES:
        pcap = os.path.join(d, name)
        name = os.path.basename(name)
        inv = os.path.join(work, name + ".inventory.jsonl")
        eve = os.path.join(work, name + ".eve.json")
        if os.path.exists(eve):
            os.unlink(eve)
        subprocess.run([mimamori, "-r", pcap, "--eve", eve,
                        "--inventory", inv, "--inventory-csv", inv + ".csv",
                        "--connections", inv + ".conn", "--connections-csv", inv + ".conn.csv"],
                       check=True, capture_output=True)
        b, n = check_connections(name, pcap, inv + ".conn")
        bad, total_parties = bad + b, total_parties + n
        bad += check_csv(name, inv)
        bad += check_connections_csv(name, inv + ".conn")
        bad += check_events(name, eve, inv)
        macs, names, served = facts(pcap)
        named = name_facts(pcap)
        sw = software_facts(pcap)
        devices = [json.loads(line) for line in open(inv)]
        with_mac = with_name = 0
        for dev in devices:
            b, n = check_software(name, dev, sw)
            bad, total_sw = bad + b, total_sw + n
            ip = dev["ip"]
            if not any(ipaddress.ip_address(ip) in n for n in HOME):
                bad += 1
                print(f"{name}: {ip} is outside the home networks")
            if dev["mac"] is not None:
                with_mac += 1
                if dev["mac"] not in macs.get(ip, set()):
                    bad += 1
                    print(f"{name}: {ip} has mac {dev['mac']}, tshark saw {macs.get(ip)}")
                want = vendors.get(dev["mac"][:8]) if vendors is not None else None
                if vendors is not None and dev["vendor"] != want:
                    bad += 1
                    print(f"{name}: {dev['mac']} vendor {dev['vendor']!r}, registry {want!r}")
            for src, n in dev.get("name_sources", {}).items():
                with_name += 1
                if src in ("dhcp", "dhcp_fqdn"):
                    want = names.get(dev["mac"], set())
                else:
                    want = named.get((src, ip), set())
                if n.lower() not in {w.lower() for w in want}:
                    bad += 1
                    print(f"{name}: {ip} named {n!r} by {src}, tshark read {want}")
            if {n.lower() for n in dev["names"]} != \
                    {n.lower() for n in dev.get("name_sources", {}).values()}:
                bad += 1
                print(f"{name}: {ip} names {dev['names']} are not its sources' names")
            for s in dev["services"]:
                if (ip, s["proto"], s["port"]) not in served:
                    bad += 1
                    print(f"{name}: {ip} serves {s['proto']}/{s['port']}, tshark saw no answer")
        total_mac += with_mac
        total_name += with_name
        print(f"{name}: {len(devices)} devices, {with_mac} with a MAC, {with_name} names")
    print(f"{total_sw} software hints, {total_parties} external parties checked")
    if total_parties < 10:
        bad += 1
        print("fewer than 10 external parties: the connections list was hardly checked")
    if total_mac == 0 or total_name == 0 or total_sw < 10:
        bad += 1
        print("no device with a MAC or a name, or few software hints: too little was checked")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
