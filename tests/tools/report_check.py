#!/usr/bin/python3
"""Check mimamori-report in a real browser: Debian's headless chromium driven by Selenium.

usage: report_check.py MIMAMORI-REPORT MIMAMORI GENERATOR WORKDIR

The report is made from the EVE file, inventory and connections list the sensor wrote for the
generated scenarios (eve_build.py), with two hostile names added (markup in a device name and in
an external party's name, as a network can send). In the browser the page must have every
section; its figures must equal counts taken here from the input (incidents by severity worked
out with alerts_check's own grouping, alerts, maintenance sessions approved and not, flows,
events, the chart's bars, one obsolete-protocol row per rule with its alert count, parties and
devices); no request may leave the page (chromium's network log holds the document alone, the
page has no script, image or link element); the hostile names show as text. The Japanese and
English reports both print to PDF with chromium --print-to-pdf, and a full-page screenshot of
each is kept in WORKDIR as an artefact. Exit 77 (skipped) without chromium, its driver or
Selenium.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eve_build  # noqa: E402
from alerts_check import expected_groups  # noqa: E402
from livetest import check, failures  # noqa: E402

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SECTIONS = ["summary", "timeline", "incidents", "top", "maintenance", "obsolete", "intel",
            "external", "inventory", "health", "checklist"]
HOSTILE_DEVICE = '<img src="http://127.0.0.1:9/x.png" onerror="alert(1)">'
HOSTILE_PARTY = '<script src="http://127.0.0.1:9/x.js"></script>evil.example'


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400",
              "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def number(driver, key):
    from selenium.webdriver.common.by import By
    text = driver.find_element(By.CSS_SELECTOR, f'[data-k="{key}"]').text
    return int(text.replace(",", "").split()[0])


def expected(events, parties, devices):
    alerts = [e for e in events if e["event_type"] == "alert"]
    by_key = {(e["timestamp"], e["alert"]["signature_id"], e.get("src_ip"), e.get("dest_ip"),
               e.get("src_port", 0)): e for e in alerts}
    groups = expected_groups(alerts)
    sev = Counter(min(by_key[k]["alert"]["severity"] for k in g) for g in groups)
    zones = Counter()
    for g in groups:  # an incident's zone: its lead alert's target zone, else its source's
        lead = min((by_key[k] for k in g), key=lambda e: (e["alert"]["severity"], e["timestamp"]))
        md = lead["alert"]["metadata"]
        zones[(md.get("dest_zone") or md.get("src_zone") or ["-"])[0]] += 1
    ranked = sorted(zones.items(), key=lambda z: (-z[1], z[0]))
    if len(ranked) > 7:
        ranked = ranked[:6] + [("*", sum(n for _, n in ranked[6:]))]
    sev["zones"] = dict(ranked)
    maint = [e for e in alerts if e["alert"]["category"] == "Remote maintenance"]
    obsolete = Counter(e["alert"]["metadata"]["rule"][0] for e in alerts
                       if e["alert"]["category"] == "Obsolete protocol")
    return {
        "incidents": len(groups), "incidents_high": sev[1], "incidents_medium": sev[2],
        "incidents_low": sev[3], "alerts": len(alerts),
        "maintenance_approved": sum(e["alert"]["severity"] == 3 for e in maint),
        "maintenance_unapproved": sum(e["alert"]["severity"] < 3 for e in maint),
        "flows": sum(e["event_type"] == "flow" for e in events), "events": len(events),
        "parties": parties, "devices": devices,
    }, sev, maint, obsolete


def page_checks(driver, url, want, sev, maint, obsolete):
    from selenium.webdriver.common.by import By
    driver.get_log("performance")  # what came before this page
    driver.get(url)
    for s in SECTIONS:
        check(len(driver.find_elements(By.ID, s)) == 1, f"section #{s}")
    for k, v in want.items():
        got = number(driver, k)
        check(got == v, f"{k}: {got} (from the input: {v})")
    for s in (1, 2, 3):
        bars = driver.find_elements(By.CSS_SELECTOR, f'#chart rect[data-s="{s}"]')
        total = sum(int(b.get_attribute("data-n")) for b in bars)
        check(total == sev[s], f"chart: severity {s} bars add up to {total} ({sev[s]})")
    drawn = Counter()
    for b in driver.find_elements(By.CSS_SELECTOR, "#chart-zone rect[data-n]"):
        drawn[b.get_attribute("data-s")] += int(b.get_attribute("data-n"))
    check(dict(drawn) == sev["zones"], f"chart by zone: {dict(drawn)}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#maintenance tbody tr")
    tickets = sorted(x.split("=", 1)[1] for e in maint for x in e["alert"]["metadata"]["evidence"]
                     if x.startswith("ticket="))
    shown = sorted(r.find_elements(By.TAG_NAME, "td")[7].text for r in rows
                   if r.find_elements(By.TAG_NAME, "td")[7].text)
    check(len(rows) == len(maint) and shown == tickets,
          f"maintenance: {len(rows)} sessions, tickets {shown}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#obsolete table:first-of-type tbody tr")
    counts = sorted(int(r.find_elements(By.TAG_NAME, "td")[-1].text) for r in rows)
    check(counts == sorted(obsolete.values()), f"obsolete: one row per rule {counts}")
    # nothing fetched: the network log holds the document alone, and nothing could fetch
    sent = [json.loads(m["message"])["message"] for m in driver.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in sent
            if m["method"] == "Network.requestWillBeSent"]
    check(urls == [url], f"no request but the document's ({len(urls)})")
    check(driver.execute_script("return performance.getEntriesByType('resource').length") == 0,
          "no resource loaded")
    for tag in ("script", "img", "link", "iframe", "object", "embed"):
        check(not driver.find_elements(By.TAG_NAME, tag), f"no <{tag}> element")
    body = driver.find_element(By.TAG_NAME, "body").text
    check(HOSTILE_DEVICE in body and HOSTILE_PARTY in body, "hostile names shown as text")


def screenshot(driver, path):
    h = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 1100, "height": h, "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def main():
    tool, mimamori, gen, work = sys.argv[1:5]
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("skip: python3-selenium is not installed")
        return 77
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        print("skip: chromium or chromium-driver is not installed")
        return 77
    eve, inv, conn, _ = eve_build.build(gen, mimamori, work, None)
    events = [json.loads(line) for line in open(eve)]
    target = next(e["dest_ip"] for e in events if e["event_type"] == "alert" and "dest_ip" in e)
    # the first line naming an address wins: the hostile name goes first
    hostile_inv = os.path.join(work, "named.json")
    with open(hostile_inv, "w") as f:
        f.write(json.dumps({"ip": target, "names": [HOSTILE_DEVICE], "zone": "emr"}) + "\n")
        f.write(open(inv).read())
    with open(conn, "a") as f:
        f.write(json.dumps({"ip": "198.51.100.66", "names": [HOSTILE_PARTY], "direction": "inbound",
                            "remote_access": True, "protocols": ["RDP"], "devices": [target],
                            "flows": {"inbound": 1, "outbound": 0},
                            "bytes": {"to_party": 1, "from_party": 1}}) + "\n")
    parties = sum(1 for _ in open(conn))
    devices = sum(1 for _ in open(hostile_inv))
    want, sev, maint, obsolete = expected(events, parties, devices)
    print(f"     {len(events)} events, {want['alerts']} alerts, {want['incidents']} incidents")

    driver = browser()
    try:
        for lang in ("ja", "en"):
            html = os.path.join(work, f"report-{lang}.html")
            r = subprocess.run([tool, "-o", html, "--lang", lang, "--inventory", hostile_inv,
                                "--inventory", conn, eve], capture_output=True, text=True,
                               env=dict(os.environ, TZ="UTC"))
            check(r.returncode == 0, f"{lang}: mimamori-report exit {r.returncode} {r.stderr}")
            print(f"     {lang}: {os.path.getsize(html)} bytes")
            page_checks(driver, "file://" + html, want, sev, maint, obsolete)
            screenshot(driver, os.path.join(work, f"report-{lang}.png"))
            pdf = os.path.join(work, f"report-{lang}.pdf")
            p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                f"--print-to-pdf={pdf}", "file://" + html],
                               capture_output=True, text=True, timeout=120)
            data = open(pdf, "rb").read() if os.path.exists(pdf) else b""
            pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
            check(p.returncode == 0 and data.startswith(b"%PDF") and pages >= 2,
                  f"{lang}: --print-to-pdf wrote {len(data)} bytes, {pages} pages")
    finally:
        driver.quit()
    r = subprocess.run([tool, "-o", os.path.join(work, "x.html"), "--from", "2026-12-01",
                        "--to", "2026-11-01", eve], capture_output=True)
    check(r.returncode == 2, "--to before --from: usage error")
    r = subprocess.run([tool, "-o", os.path.join(work, "x.html"), os.path.join(work, "none")],
                       capture_output=True)
    check(r.returncode == 1 and not os.path.exists(os.path.join(work, "x.html")),
          "a missing input: exit 1, no report")
    print(f"{'FAIL' if failures else 'ok  '} report_check: {len(failures)} failures; "
          f"screenshots in {work}")
    shutil.rmtree(os.path.join(work, "scenarios"), ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
