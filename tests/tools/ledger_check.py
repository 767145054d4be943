#!/usr/bin/python3
"""The ledger check (inventory.ledger) end to end, its verdicts worked out here from the ledger.

usage: ledger_check.py MIMAMORI PCAPS_DIR WORKDIR SCENARIO_GENERATOR

1. The model hospital's medical_zone_benign scenario (HIS, LIS, a CT and a PACS) with a ledger
   written as Excel writes CSV (byte order mark, CRLF, a quoted name with a comma, Japanese):
   the PACS listed in the wrong zone (moved), the CT missing.
2. iphone.pcap from ../shared (skipped without it): the iPhone's address listed with another
   MAC, and a row listed by MAC alone, so that a device whose MAC the sensor never saw is not
   judged.
3. The inventory's own CSV export used as the ledger: no ledger alert at all.
4. A ledger with a zone the site does not have: --test-config fails with file:line:col.

For each device of the sensor's inventory the expected alerts are derived from the ledger
here (by address, then by MAC; unknown only when judgeable; zone from the scenario's /16s),
and the alerts of the ledger rules must be exactly those, with the evidence naming the row.
"""
import csv
import io
import json
import os
import subprocess
import sys

CRITICAL = {"medical_devices", "emr"}


def run(mimamori, pcap, site, work, tag, extra=()):
    eve, inv = os.path.join(work, tag + ".eve.json"), os.path.join(work, tag + ".inv.jsonl")
    for p in (eve, inv):
        if os.path.exists(p):
            os.unlink(p)
    subprocess.run([mimamori, "-c", site, "-r", pcap, "--eve", eve, "--inventory", inv] +
                   list(extra), check=True, capture_output=True)
    alerts = [json.loads(line) for line in open(eve)]
    alerts = [e for e in alerts if e["event_type"] == "alert" and
              e["alert"]["metadata"]["rule"][0].startswith("ledger.")]
    return alerts, [json.loads(line) for line in open(inv)]


def expected(devices, rows):
    """(rule, device ip) pairs the ledger rules must raise, worked out from the ledger."""
    by_ip = {r["ip"]: r for r in rows if r.get("ip")}
    by_mac = {r["mac"].lower(): r for r in rows if r.get("mac")}
    mac_only = any(r.get("mac") and not r.get("ip") for r in rows)
    want = set()
    for d in devices:
        row = by_ip.get(d["ip"]) or (by_mac.get(d["mac"]) if d["mac"] else None)
        if row is None:
            if d["mac"] is None and mac_only:
                continue
            if d["zone"] in CRITICAL:
                want.add(("ledger.unknown_device_critical", d["ip"]))
            elif d["zone"] != "guest":
                want.add(("ledger.unknown_device", d["ip"]))
        elif row.get("zone") and row["zone"] != d["zone"]:
            want.add(("ledger.zone_mismatch", d["ip"]))
        ip_row = by_ip.get(d["ip"])
        if ip_row and ip_row.get("mac") and d["mac"] and ip_row["mac"].lower() != d["mac"]:
            want.add(("ledger.mac_mismatch", d["ip"]))
    return want


def got_of(alerts):
    out = set()
    for e in alerts:
        ev = dict(v.split("=", 1) for v in e["alert"]["metadata"]["evidence"])
        out.add((e["alert"]["metadata"]["rule"][0], ev["device"]))
    return out


def write_ledger(path, rows, header=("ip", "mac", "name", "zone", "owner")):
    buf = io.StringIO()
    w = csv.writer(buf, dialect="excel")  # CRLF, quotes where needed
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def compare(label, alerts, devices, rows):
    want, got = expected(devices, rows), got_of(alerts)
    bad = 0
    if want != got:
        bad += 1
        print(f"{label}: ledger alerts {sorted(got)}, the ledger says {sorted(want)}")
    if len(alerts) != len(got):
        bad += 1
        print(f"{label}: {len(alerts)} ledger alerts for {len(got)} findings: not once each")
    by_ip = {r["ip"]: r for r in rows if r.get("ip")}
    for e in alerts:
        ev = dict(v.split("=", 1) for v in e["alert"]["metadata"]["evidence"])
        row = by_ip.get(ev["device"])
        if row and row.get("name") and ev.get("device_name") != row["name"]:
            bad += 1
            print(f"{label}: alert names {ev.get('device_name')!r}, the row {row['name']!r}")
        if e["alert"]["metadata"]["rule"][0] == "ledger.zone_mismatch" and \
                ev.get("listed_zone") != row["zone"]:
            bad += 1
            print(f"{label}: listed_zone {ev.get('listed_zone')}, the row {row['zone']}")
    print(f"{label}: {len(devices)} devices, {len(rows)} ledger rows, {len(got)} findings")
    return bad, len(got)


def main():
    mimamori, pcaps, work, gen = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    scen = os.path.join(work, "scenarios")
    subprocess.run([gen, scen, "medical_zone_benign"], check=True, capture_output=True)
    sdir = os.path.join(scen, "medical_zone_benign")
    pcap = os.path.join(sdir, "input.pcap")
    base = open(os.path.join(sdir, "site.yaml")).read()
    bad = findings = 0

    # 1. A moved PACS and a missing CT.
    rows = [{"ip": "10.1.0.10", "name": "電子カルテ HIS, 本番", "zone": "emr", "owner": "医療情報部"},
            {"ip": "10.2.0.30", "name": "LIS", "zone": "departmental", "owner": "検査部"},
            {"ip": "10.2.0.5", "name": "PACS", "zone": "medical_devices", "owner": "放射線部"}]
    ledger = os.path.join(work, "ledger.csv")
    write_ledger(ledger, rows)
    site = os.path.join(work, "site.yaml")
    with open(site, "w") as f:
        f.write(base + f"inventory: {{ledger: {ledger}}}\n")
    alerts, devices = run(mimamori, pcap, site, work, "moved")
    b, n = compare("moved PACS, missing CT", alerts, devices, rows)
    bad, findings = bad + b, findings + n
    crit = [e for e in alerts if e["alert"]["metadata"]["rule"][0].endswith("_critical")]
    if any(e["alert"]["severity"] != 1 for e in crit):
        bad += 1
        print("an unknown device in medical_devices is not severity 1")

    # 3. The export as the ledger: nothing to say.
    export = os.path.join(work, "export.csv")
    run(mimamori, pcap, site, work, "export", ["--inventory-csv", export])
    with open(site, "w") as f:
        f.write(base + f"inventory: {{ledger: {export}}}\n")
    alerts, devices = run(mimamori, pcap, site, work, "roundtrip")
    if alerts:
        bad += 1
        print(f"the inventory's own export as the ledger: {len(alerts)} ledger alerts")

    # 4. A zone the site does not have.
    write_ledger(ledger, rows + [{"ip": "10.4.0.9", "name": "PC", "zone": "wards"}])
    with open(site, "w") as f:
        f.write(base + f"inventory: {{ledger: {ledger}}}\n")
    r = subprocess.run([mimamori, "-c", site, "--test-config"], capture_output=True, text=True)
    if r.returncode != 1 or f"{ledger}:5:" not in r.stderr or "unknown zone 'wards'" not in r.stderr:
        bad += 1
        print(f"a bad ledger: exit {r.returncode}, {r.stderr.strip()!r}")

    # 5. Every alert of every rule names its devices by their rows.
    subprocess.run([gen, scen, "lateral_attack"], check=True, capture_output=True)
    ldir = os.path.join(scen, "lateral_attack")
    lsite = open(os.path.join(ldir, "site.yaml")).read()
    with open(site, "w") as f:
        f.write(lsite)
    first, devices = run(mimamori, os.path.join(ldir, "input.pcap"), site, work, "plain")
    rows = [{"ip": d["ip"], "name": f"機器-{d['ip']}"} for d in devices]
    write_ledger(ledger, rows)
    with open(site, "w") as f:
        f.write(lsite + f"inventory: {{ledger: {ledger}}}\n")
    eve = os.path.join(work, "named.eve.json")
    if os.path.exists(eve):
        os.unlink(eve)
    subprocess.run([mimamori, "-c", site, "-r", os.path.join(ldir, "input.pcap"), "--eve", eve],
                   check=True, capture_output=True)
    named = [json.loads(line) for line in open(eve)]
    named = [e for e in named if e["event_type"] == "alert"]
    names = {r["ip"]: r["name"] for r in rows}
    checked = 0
    for e in named:
        md = e["alert"]["metadata"]
        for end, key in (("src_ip", "src_device"), ("dest_ip", "dest_device")):
            if e.get(end) in names:
                checked += 1
                if md.get(key) != [names[e[end]]]:
                    bad += 1
                    print(f"lateral_attack: {md['rule'][0]} {key} {md.get(key)}, the ledger "
                          f"says {names[e[end]]!r}")
    if checked == 0:
        bad += 1
        print("lateral_attack: no alert end to check the device names of")
    print(f"lateral_attack: {len(named)} alerts, {checked} ends named by the ledger")

    # 2. A MAC that is not the listed one, and a device whose MAC is never seen.
    iphone = os.path.join(pcaps, "protocols", "iphone.pcap")
    if os.path.exists(iphone):
        rows = [{"ip": "192.168.2.17", "mac": "00:11:22:33:44:55", "name": "Nurse iPhone",
                 "zone": "", "owner": "病棟"},
                {"mac": "aa:bb:cc:dd:ee:ff", "name": "a laptop listed by MAC", "zone": ""}]
        write_ledger(ledger, rows)
        with open(site, "w") as f:
            f.write(f"home_networks: [192.168.0.0/16]\ninventory: {{ledger: {ledger}}}\n")
        alerts, devices = run(mimamori, iphone, site, work, "mac")
        b, n = compare("iphone.pcap, another MAC", alerts, devices, rows)
        bad, findings = bad + b, findings + n
        seen = subprocess.run(["tshark", "-r", iphone, "-Y", "dhcp", "-T", "fields", "-e",
                               "dhcp.hw.mac_addr"], capture_output=True, text=True).stdout
        for e in alerts:
            ev = dict(v.split("=", 1) for v in e["alert"]["metadata"]["evidence"])
            if "seen_mac" in ev and ev["seen_mac"] not in seen:
                bad += 1
                print(f"seen_mac {ev['seen_mac']} is no MAC tshark read in its DHCP")
    else:
        print(f"{iphone} absent: the MAC part is skipped")
    if findings < 3:
        bad += 1
        print("fewer than 3 findings: too little was checked")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
