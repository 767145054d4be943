#!/usr/bin/python3
"""How long the tools for readers take on a day of alerts and on a month of events.

usage: readers.py MIMAMORI-ALERTS MIMAMORI-REPORT MIMAMORI GENERATOR WORKDIR [--alerts N]
                  [--events N] [--runs N]

The events are the sensor's own: every generated scenario read by mimamori (eve_build.py), then
repeated with times spread evenly over the period and each copy's internal addresses moved to
another host, so that incidents and devices grow as they would at a site. --alerts N (default
100,000) alert lines over one day are read by mimamori-alerts (the on-call view, then --json);
--events N (default 1,000,000) events of every type over 30 days by mimamori-report. Each run
--runs times (default 3); the best and the median wall time, the peak RSS and the output's
size are printed. A benchmark, not a test: it asserts nothing.
"""
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import eve_build  # noqa: E402


def moved(ip, k):
    p = ip.split(".")
    if len(p) == 4 and p[0] == "10":
        n = (int(p[2]) * 256 + int(p[3]) + k * 7) % 65000
        p[2], p[3] = str(n // 256), str(n % 256 or 1)
    return ".".join(p)


def spread(events, n, seconds, path):
    """n events from the templates, evenly over `seconds` from the first one's day."""
    start = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
    with open(path, "w") as out:
        for i in range(n):
            e = dict(events[i % len(events)])
            k = i // len(events)
            t = start + seconds * i / n
            e["timestamp"] = (datetime.fromtimestamp(t, timezone.utc)
                              .strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000")
            for f in ("src_ip", "dest_ip"):
                if f in e:
                    e[f] = moved(e[f], k)
            out.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")


def timed(cmd, runs):
    """Best and median wall time, and the largest peak RSS of this command's own runs."""
    walls, rss = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t)
        if status != 0:
            raise SystemExit(f"{cmd[0]} failed: {status}")
        rss = max(rss, usage.ru_maxrss)
    return min(walls), statistics.median(walls), rss


def main():
    alerts_tool, report_tool, mimamori, gen, work = sys.argv[1:6]
    args = sys.argv[6:]
    opt = {a: int(args[i + 1]) for i, a in enumerate(args) if a.startswith("--")}
    n_alerts, n_events = opt.get("--alerts", 100000), opt.get("--events", 1000000)
    runs = opt.get("--runs", 3)
    eve, _, _, _ = eve_build.build(gen, mimamori, os.path.join(work, "build"), None)
    events = [json.loads(line) for line in open(eve)]
    alerts = [e for e in events if e["event_type"] == "alert"]

    day = os.path.join(work, "day.json")
    spread(alerts, n_alerts, 86400, day)
    size = os.path.getsize(day)
    for label, extra in (("view", []), ("--json", ["--json"])):
        best, med, rss = timed([alerts_tool] + extra + [day], runs)
        print(f"mimamori-alerts {label}: {n_alerts} alert lines ({size / 1e6:.0f} MB): "
              f"best {best:.2f} s, median {med:.2f} s, peak RSS {rss / 1024:.0f} MB")

    month = os.path.join(work, "month.json")
    spread(events, n_events, 30 * 86400, month)
    size = os.path.getsize(month)
    html = os.path.join(work, "report.html")
    if os.path.exists(report_tool):
        best, med, rss = timed([report_tool, "-o", html, month], runs)
        print(f"mimamori-report: {n_events} events over 30 days ({size / 1e6:.0f} MB): "
              f"best {best:.2f} s, median {med:.2f} s, peak RSS {rss / 1024:.0f} MB, "
              f"HTML {os.path.getsize(html) / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
