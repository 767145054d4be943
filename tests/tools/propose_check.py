#!/usr/bin/python3
"""The proposed site config (--propose-config) end to end, read back with PyYAML.

usage: propose_check.py MIMAMORI PCAPS_DIR WORKDIR SCENARIO_GENERATOR

1. Roles: each benign scenario of the model hospital read with the embedded default config
   (no zones); every network the proposal zones must be in the zone the model hospital's own
   site config (written by the generator) gives it. dicom_ae_benign is left out: its CT only
   retrieves a study (C-MOVE) and never stores one, which is what a viewer does, and the
   proposal says so (clinical).
2. Quiet on its own traffic: each scenario with its site config; the proposal keeps the site's
   zones, passes --test-config, and run on the same capture raises no Segmentation violation
   or Unexpected egress alert; every such alert of the first run is covered by a line of the
   proposal naming its hosts (a suppression of that rule, or the zone's egress allowlist).
3. The shared captures (skipped without them): all protocol captures read as one timeline,
   and each non-robustness capture alone: the proposal passes --test-config and is quiet on
   the traffic it came from.
"""
import concurrent.futures
import ipaddress
import json
import os
import subprocess
import sys

import yaml

LOUD = ("Segmentation violation", "Unexpected egress")
UNCLEAR = {"dicom_ae_benign"}


def run(mimamori, pcaps, eve, site=None, propose=None):
    if os.path.exists(eve):
        os.unlink(eve)
    cmd = [mimamori] + (["-c", site] if site else [])
    for p in pcaps:
        cmd += ["-r", p]
    cmd += ["--eve", eve] + (["--propose-config", propose] if propose else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return r.stderr.strip()[-300:] or "exit %d" % r.returncode
    return [e for e in map(json.loads, open(eve)) if e["event_type"] == "alert"
            and e["alert"]["category"] in LOUD]


def test_config(mimamori, path):
    r = subprocess.run([mimamori, "-c", path, "--test-config"], capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def quiet(mimamori, pcaps, work, tag, site=None):
    """Propose from pcaps, check it loads and is quiet on them: (first alerts, proposal, why)."""
    eve1, eve2 = os.path.join(work, tag + ".1.json"), os.path.join(work, tag + ".2.json")
    prop = os.path.join(work, tag + ".proposed.yaml")
    first = run(mimamori, pcaps, eve1, site, prop)
    if isinstance(first, str) and "is not supported" in first:
        return None, None, None  # a link type the sensor does not read (its own check says so)
    if isinstance(first, str):
        return None, None, "the sensor failed: " + first
    ok, out = test_config(mimamori, prop)
    if not ok:
        return first, None, "--test-config fails:\n" + out
    again = run(mimamori, pcaps, eve2, prop)
    if isinstance(again, str):
        return first, None, "the sensor failed on its proposal: " + again
    if again:
        return first, None, "%d alerts on the same traffic: %s" % (
            len(again), sorted({(a["alert"]["metadata"]["rule"][0], a["src_ip"], a["dest_ip"])
                                for a in again})[:5])
    return first, yaml.safe_load(open(prop)), None


def in_hosts(hosts, ip, zone):
    for h in hosts or []:
        if h == zone:
            return True
        try:
            if ipaddress.ip_address(ip) in ipaddress.ip_network(h, strict=False):
                return True
        except ValueError:
            pass
    return False


def covered(prop, a):
    """Whether a line of the proposal names the alert's hosts."""
    rule = a["alert"]["metadata"]["rule"][0]
    sz = a["alert"]["metadata"]["src_zone"][0]
    dz = a["alert"]["metadata"]["dest_zone"][0]
    for s in prop.get("suppress") or []:
        if (s["rule"] == rule and in_hosts(s.get("source"), a["src_ip"], sz) and
                in_hosts(s.get("destination"), a["dest_ip"], dz) and
                s.get("port", a["dest_port"]) == a["dest_port"]):
            return True
    egress = ((prop.get("zones") or {}).get(sz) or {}).get("egress") or {}
    names = {a.get("tls", {}).get("sni"), a.get("http", {}).get("hostname")}
    return (in_hosts(egress.get("networks"), a["dest_ip"], None) or
            bool(names & set(egress.get("domains") or [])))


def model_zones(site):
    nets = [(ipaddress.ip_network(n), z) for z, v in yaml.safe_load(open(site))["zones"].items()
            for n in v["networks"]]
    def zone(net):
        best = None
        for n, z in nets:
            if net.subnet_of(n) and (best is None or n.prefixlen > best[0].prefixlen):
                best = (n, z)
        return best[1] if best else None
    return zone


def check_scenarios(mimamori, work, gen):
    scen = os.path.join(work, "scenarios")
    subprocess.run([gen, scen], check=True, capture_output=True)
    names = sorted(n for n in os.listdir(scen) if os.path.exists(os.path.join(scen, n, "site.yaml")))
    model = model_zones(os.path.join(scen, "medical_zone_benign", "site.yaml"))
    errors, placed, quieted = [], {}, 0
    for n in names:
        pcap, site = os.path.join(scen, n, "input.pcap"), os.path.join(scen, n, "site.yaml")
        if n.endswith("_benign") and n not in UNCLEAR:
            _, prop, why = quiet(mimamori, [pcap], work, n + ".bare")
            if why:
                errors.append("%s (no zones): %s" % (n, why))
                continue
            for zone, v in (prop.get("zones") or {}).items():
                for net in v["networks"]:
                    want = model(ipaddress.ip_network(net))
                    placed[zone] = placed.get(zone, 0) + 1
                    if want != zone:
                        errors.append("%s: %s proposed as %s, the hospital has it in %s"
                                      % (n, net, zone, want))
        first, prop, why = quiet(mimamori, [pcap], work, n, site)
        if why:
            errors.append("%s: %s" % (n, why))
            continue
        if {z for z in prop["zones"]} != set(yaml.safe_load(open(site))["zones"]):
            errors.append("%s: the site's zones were not kept" % n)
        for a in first:
            quieted += 1
            if not covered(prop, a):
                errors.append("%s: no line covers %s %s -> %s:%s" % (
                    n, a["alert"]["metadata"]["rule"][0], a["src_ip"], a["dest_ip"], a["dest_port"]))
    for zone in ("medical_devices", "departmental", "emr", "infrastructure"):
        if not placed.get(zone):
            errors.append("no benign scenario had a device proposed for %s" % zone)
    if quieted == 0:
        errors.append("no scenario had an alert for the proposal to cover")
    print("scenarios: %d, networks placed by role %s, alerts covered %d"
          % (len(names), placed, quieted))
    return errors


def check_shared(mimamori, pcaps, work):
    errors = []
    protocols = sorted(os.path.join(pcaps, "protocols", f)
                       for f in os.listdir(os.path.join(pcaps, "protocols")))
    first, _, why = quiet(mimamori, protocols, work, "protocols")
    if why:
        errors.append("protocols as one timeline: " + why)
    print("protocols as one timeline: %d alerts before, none after" % len(first or []))
    alone = sorted(os.path.join(pcaps, d, f) for d in os.listdir(pcaps)
                   if os.path.isdir(os.path.join(pcaps, d)) and d != "robustness"
                   for f in os.listdir(os.path.join(pcaps, d)))
    def one(p):
        tag = "alone." + os.path.relpath(p, pcaps).replace("/", "_")
        return p, quiet(mimamori, [p], work, tag)
    before = 0
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for p, (first, _, why) in ex.map(one, alone):
            before += len(first or [])
            if why:
                errors.append("%s alone: %s" % (p, why))
    print("shared captures one by one: %d, %d alerts before, none after" % (len(alone), before))
    return errors


def main():
    mimamori, pcaps, work, gen = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    errors = check_scenarios(mimamori, work, gen)
    if os.path.isdir(os.path.join(pcaps, "protocols")):
        errors += check_shared(mimamori, pcaps, work)
    else:
        print("shared captures absent: their part skipped")
    for e in errors:
        print("FAIL", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
