"""Build an EVE file the way a site would have one: the sensor run over the generated scenarios.

Used by the checks of mimamori-alerts and mimamori-report. Every scenario with a site config is
read with that config, its zones given descriptions (as a site writes them) so that alerts carry
them; scenarios without one are read with the embedded default config. The events of all runs
are concatenated, as a day's file from several captures would be.
"""
import os
import shutil
import subprocess

import yaml

DESCRIPTIONS = {
    "emr": "電子カルテサーバ",
    "departmental": "部門システム (PACS・検査・薬剤)",
    "clinical": "病棟・外来の電子カルテ端末",
    "vendor_remote": "保守業者のリモート回線",
}


def build(gen, mimamori, work, pattern=("_attack", "_benign")):
    """Returns (path of the EVE file, of the inventory, of the connections list, the scenario
    names); pattern: the endings of the scenario names to take (None: all)."""
    shutil.rmtree(work, ignore_errors=True)
    scen = os.path.join(work, "scenarios")
    os.makedirs(scen)
    subprocess.run([gen, scen], check=True, stdout=subprocess.DEVNULL)
    eve = os.path.join(work, "eve.json")
    inv = os.path.join(work, "inventory.json")
    conn = os.path.join(work, "connections.json")
    names = []
    with open(eve, "w") as out, open(inv, "w") as invout, open(conn, "w") as connout:
        for name in sorted(os.listdir(scen)):
            if pattern and not name.endswith(pattern):
                continue
            d = os.path.join(scen, name)
            conf = []
            site = os.path.join(d, "site.yaml")
            if os.path.exists(site):
                cfg = yaml.safe_load(open(site))
                for zone, z in (cfg.get("zones") or {}).items():
                    if zone in DESCRIPTIONS:
                        z["description"] = DESCRIPTIONS[zone]
                described = os.path.join(d, "site-described.yaml")
                with open(described, "w") as f:
                    yaml.safe_dump(cfg, f, allow_unicode=True)
                conf = ["-c", described]
            part = os.path.join(d, "eve.json")
            part_inv = os.path.join(d, "inventory.json")
            part_conn = os.path.join(d, "connections.json")
            subprocess.run([mimamori] + conf + ["-r", os.path.join(d, "input.pcap"), "--eve", part,
                            "--inventory", part_inv, "--connections", part_conn], check=True,
                           capture_output=True, env=dict(os.environ, TZ="UTC"))
            with open(part) as f:
                out.write(f.read())
            with open(part_inv) as f:
                invout.write(f.read())
            with open(part_conn) as f:
                connout.write(f.read())
            names.append(name)
    return eve, inv, conn, names
