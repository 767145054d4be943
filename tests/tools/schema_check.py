#!/usr/bin/python3
"""Every event of the bundled captures against Suricata's EVE schema.

usage: schema_check.py MIMAMORI GENERATOR WORKDIR SCHEMA CAPTURE_OR_CASE_DIR...

Runs MIMAMORI on each case directory given (input.pcap with its site.yaml), on each capture
file given (the embedded default config), and on every scenario GENERATOR writes into WORKDIR,
and validates every event against SCHEMA (../shared/eve-schema.json, not copied here: it is
Suricata's). Exits 77, a skip ctest shows as one, when SCHEMA is absent; the shared corpus's
own captures are validated by corpus_vs_ndpireader.py.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def runs(gen, work, targets):
    """(name, command arguments) for each capture to run."""
    shutil.rmtree(work, ignore_errors=True)  # no scenario left over from an older generator
    subprocess.run([gen, work], check=True, capture_output=True)
    dirs = targets + [os.path.join(work, n) for n in sorted(os.listdir(work))]
    for t in dirs:
        if os.path.isfile(t):
            yield t, ["-r", t]
            continue
        site = os.path.join(t, "site.yaml")
        pcap = next((os.path.join(t, n) for n in ("input.pcap", "input.pcapng")
                     if os.path.exists(os.path.join(t, n))), None)
        if pcap is not None:
            yield t, (["-c", site] if os.path.exists(site) else []) + ["-r", pcap]


def main():
    mimamori, gen, work, schema_path = sys.argv[1:5]
    if not os.path.exists(schema_path):
        print(f"{schema_path} absent: schema validation skipped")
        return 77
    import jsonschema
    with open(schema_path) as f:
        schema = json.load(f)
    validator = jsonschema.validators.validator_for(schema)(schema)
    n_runs = n_events = bad = 0
    for name, args in runs(gen, work, sys.argv[5:]):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            r = subprocess.run([mimamori] + args + ["--eve", out.name], capture_output=True,
                               text=True)
            if r.returncode != 0:
                print(f"FAIL {name}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
                bad += 1
                continue
            with open(out.name) as f:
                events = [json.loads(line) for line in f]
        n_runs += 1
        for i, ev in enumerate(events, 1):
            n_events += 1
            for e in list(validator.iter_errors(ev))[:1]:
                bad += 1
                print(f"INVALID {name} event {i} ({ev.get('event_type')}): {e.message[:200]}")
    print(f"{n_runs} runs, {n_events} events, {bad} problems")
    return 1 if bad or n_events == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
