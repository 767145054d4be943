#!/usr/bin/python3
"""Threat-intelligence feeds matched against shared captures, the indicators taken by tshark.

usage: intel_check.py MIMAMORI PCAPS WORKDIR

For each capture the test reads a fact with tshark (a TLS server name, client JA3, the server
certificate's SHA-1 over its DER bytes, an HTTP request's host and path, a DNS question, a
server address), writes it into feed files in the three formats hospitals receive (a STIX 2.1
bundle, a MISP CSV export, a plain list), each feed with its own severity and category, and
runs the sensor with a site config naming the feeds. Each capture must raise exactly the
intel alerts the test expects: the feed, the indicator, the field it was seen in, the feed's
severity and category, the STIX id / MISP uuid / line, and the description. An expired STIX
indicator, a pattern joining two observations by AND and a MISP attribute not meant for IDS
must raise nothing. A feed with a typo fails --test-config with the config's place and the
feed's own file and line. Exit 77 (skipped) without the shared corpus or tshark.
"""
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, failures  # noqa: E402



def tshark(pcap, flt, field):
    r = subprocess.run(["tshark", "-r", pcap, "-Y", flt, "-T", "fields", "-e", field],
                       capture_output=True, text=True)
    return [x for x in r.stdout.split("\n") if x.strip()]


def facts(pcaps):
    tls = os.path.join(pcaps, "protocols", "443-curl.pcap")
    http = os.path.join(pcaps, "protocols", "cs_http_post.pcapng")
    dns = os.path.join(pcaps, "protocols", "dns.pcap")
    cert = tshark(tls, "tls.handshake.certificate", "tls.handshake.certificate")[0].split(",")[0]
    return {
        "tls": tls, "http": http, "dns": dns,
        "sni": tshark(tls, "tls.handshake.type == 1", "tls.handshake.extensions_server_name")[0],
        "ja3": tshark(tls, "tls.handshake.type == 1", "tls.handshake.ja3")[0],
        "server": tshark(tls, "tls.handshake.type == 1", "ip.dst")[0],
        "sha1": hashlib.sha1(bytes.fromhex(cert.replace(":", ""))).hexdigest(),
        "url": tshark(http, "http.request", "http.host")[0] +
        tshark(http, "http.request", "http.request.uri")[0],
        "qname": sorted(set(tshark(dns, "dns.flags.response == 0", "dns.qry.name")))[-1],
        "answer": tshark(dns, "dns.flags.response == 1 && dns.a", "dns.a")[0].split(",")[0],
        "answered": tshark(dns, "dns.flags.response == 1 && dns.a", "dns.qry.name")[0],
    }


def feeds(work, f):
    """The three feed files; returns {indicator: (feed, id or line, description)}."""
    parent = f["sni"].split(".", 1)[1]  # a domain indicator matches the names under it
    stix = {"type": "bundle", "id": "bundle--0001", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0001",
         "pattern_type": "stix", "pattern": f"[domain-name:value = '{parent}']",
         "name": "Test server name", "valid_until": "2099-01-01T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0002",
         "pattern_type": "stix",
         "pattern": f"[x509-certificate:hashes.'SHA-1' = '{f['sha1']}']",
         "description": "Test certificate"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0003",
         "pattern_type": "stix", "pattern": f"[ipv4-addr:value = '{f['server']}']",
         "valid_until": "2001-01-01T00:00:00Z", "description": "expired"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0004",
         "pattern_type": "stix",
         "pattern": f"[ipv4-addr:value = '{f['server']}' AND network-traffic:dst_port = 1]"},
    ]}
    with open(os.path.join(work, "bundle.json"), "w") as out:
        json.dump(stix, out)
    with open(os.path.join(work, "misp.csv"), "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["uuid", "event_id", "category", "type", "value", "comment", "to_ids", "date"])
        w.writerow(["a1b2-0001", "7", "Network activity", "url", "http://" + f["url"],
                    "Test, with a comma", "1", "1700000000"])
        w.writerow(["a1b2-0002", "7", "Network activity", "ip-dst|port", f["server"] + "|443",
                    "not for detection", "0", "1700000000"])
    with open(os.path.join(work, "list.txt"), "w") as out:
        out.write("# written for the test\n")
        out.write(f"{f['ja3']}   # test JA3\n")
        out.write(f"{f['qname']}\n")
        out.write(f"{f['answer']}  # an answer\n")
    return {
        parent: ("stix", "indicator_id=indicator--0001", "Test server name"),
        f["sha1"]: ("stix", "indicator_id=indicator--0002", "Test certificate"),
        "http://" + f["url"]: ("misp", "indicator_id=a1b2-0001", "Test, with a comma"),
        f["ja3"]: ("list", "feed_line=2", "test JA3"),
        f["qname"]: ("list", "feed_line=3", None),
        f["answer"]: ("list", "feed_line=4", "an answer"),
    }


SITE = """intel:
  - {name: stix, path: %(w)s/bundle.json, severity: 1, category: Command and control}
  - {name: misp, path: %(w)s/misp.csv, severity: 2, category: Exfiltration}
  - {name: list, path: %(w)s/list.txt, severity: 3, category: Unexpected egress, format: plain}
"""
FEEDS = {"stix": (1, "Command and control"), "misp": (2, "Exfiltration"),
         "list": (3, "Unexpected egress")}


def alerts(mimamori, site, pcap):
    r = subprocess.run([mimamori, "-c", site, "-r", pcap, "--eve", "-"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL mimamori on {pcap}: {r.stderr}")
    out = []
    for line in r.stdout.splitlines():
        e = json.loads(line)
        if e["event_type"] == "alert" and e["alert"]["metadata"]["rule"] == ["intel.indicator_match"]:
            out.append(e)
    return out


def main():
    mimamori, pcaps, work = sys.argv[1:4]
    if not os.path.isdir(pcaps) or shutil.which("tshark") is None:
        print("skip: the shared corpus or tshark is missing")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    f = facts(pcaps)
    want = feeds(work, f)
    site = os.path.join(work, "site.yaml")
    with open(site, "w") as out:
        out.write(SITE % {"w": work})
    fields = {f["ja3"]: "tls.ja3.hash", f["sha1"]: "tls.fingerprint",
              f["sni"].split(".", 1)[1]: "tls.sni", "http://" + f["url"]: "http.url",
              f["qname"]: "dns.query.rrname", f["answer"]: "dns.answer"}
    expect = {"tls": {f["sni"].split(".", 1)[1]},  # one alert a flow: the most severe feed's
              "http": {"http://" + f["url"]}, "dns": {f["qname"], f["answer"]}}
    for cap, inds in expect.items():
        got = alerts(mimamori, site, f[cap])
        seen = set()
        for e in got:
            ev = dict(x.split("=", 1) for x in e["alert"]["metadata"]["evidence"])
            ind = ev.get("indicator")
            feed, where, desc = want.get(ind, (None, None, None))
            seen.add(ind)
            k, v = where.split("=", 1) if where else (None, None)
            check(ind in inds and ev["feed"] == feed and ev.get(k) == v and
                  ev.get("description") == desc and ev["field"] == fields[ind] and
                  (e["alert"]["severity"], e["alert"]["category"]) == FEEDS[feed],
                  f"{os.path.basename(f[cap])}: {ind} from {ev['feed']} in {ev['field']}")
        check(seen == inds, f"{os.path.basename(f[cap])}: {len(seen)} of {len(inds)} indicators "
                            "raised, nothing else (not the expired, AND or to_ids=0 ones)")
    tls = alerts(mimamori, site, f["tls"])
    check(not any(ind == f["server"] for e in tls for ind in e["alert"]["metadata"]["evidence"]),
          "no alert on the server address (expired, AND, to_ids=0)")
    check(len(tls) == 1 and "also_matched=tls.ja3.hash,tls.fingerprint" in
          tls[0]["alert"]["metadata"]["evidence"], "the flow's other matches named")
    # each kind alone, from a one-line list
    for value, field in ((f["ja3"], "tls.ja3.hash"), (f["sha1"], "tls.fingerprint"),
                         (":".join(f["sha1"][i:i + 2] for i in range(0, 40, 2)).upper(),
                          "tls.fingerprint"), (f["server"], "dest_ip")):
        one = os.path.join(work, "one.txt")
        with open(one, "w") as out:
            out.write(value + "\n")
        with open(os.path.join(work, "one.yaml"), "w") as out:
            out.write(f"intel:\n  - {{name: one, path: {one}}}\n")
        got = alerts(mimamori, os.path.join(work, "one.yaml"), f["tls"])
        check([(e["alert"]["severity"], e["alert"]["category"]) +
               tuple(x for x in e["alert"]["metadata"]["evidence"] if x.startswith("field="))
               for e in got] == [(2, "Command and control", "field=" + field)],
              f"{value[:24]}... alone: one alert in {field} (default severity and category)")

    dns = [dict(x.split("=", 1) for x in e["alert"]["metadata"]["evidence"])
           for e in alerts(mimamori, site, f["dns"])]
    check([d.get("rrname") for d in dns if d["field"] == "dns.answer"] == [f["answered"]],
          f"the answer's alert names the question ({f['answered']})")
    # a typo in a feed: the config fails with both places
    with open(os.path.join(work, "list.txt"), "a") as out:
        out.write("evil..example\n")
    r = subprocess.run([mimamori, "-c", site, "--test-config"], capture_output=True, text=True)
    check(r.returncode == 1 and f"{site}:4:" in r.stderr and "list.txt:5:" in r.stderr,
          f"a broken feed: exit {r.returncode}, {r.stderr.strip().splitlines()[0][:100]}")
    # mistakes in the intel entries themselves
    for entry, want in (("{name: a, path: %s, severity: 4}" % site, "intel severity"),
                        ("{name: a, path: %s, category: Malware}" % site, "not an alert category"),
                        ("{name: a, path: %s, colour: red}" % site, "unknown key 'colour'"),
                        ("{path: %s}" % site, "needs a name and a path"),
                        ("{name: a, path: /nonexistent/feed.txt}", "No such file")):
        bad = os.path.join(work, "bad.yaml")
        with open(bad, "w") as out:
            out.write("intel:\n  - " + entry + "\n")
        r = subprocess.run([mimamori, "-c", bad, "--test-config"], capture_output=True, text=True)
        check(r.returncode == 1 and f"{bad}:2:" in r.stderr and want in r.stderr,
              f"config error: {want}")
    print(f"{'FAIL' if failures else 'ok  '} intel_check: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
