#!/usr/bin/python3
"""Real hospital-protocol traffic in network namespaces, captured and read back by the sensor.

usage: medical_live.py MIMAMORI SCHEMA WORKDIR

Two namespaces joined by a veth pair: 'pacs' (10.231.0.1) runs the servers — dcmtk's storescp
(accepting, and a second one refusing every association), dcmqrscp (C-MOVE), and an MLLP peer
(tests/tools/mllp.py) — and 'modality' (10.231.0.2) runs the clients: echoscu, storescu with a
CT and an MR image, echoscu with a spoofed AE title, six echoscu attempts at the refusing port,
movescu towards an unknown destination, and the MLLP sender. tcpdump captures in 'pacs'; the
sensor reads the capture with a site config whose inventory lists the real AE titles and HL7
applications, and every reported field and alert is checked, as is the absence of the
patient data the images and messages carry. Read again without zones, the inventory names both
ends by their DICOM and HL7 identities and the proposed config zones them by what they did.
Traffic never leaves the two namespaces.

Needs root, iproute2, tcpdump and dcmtk; exits 77 (skipped) without them.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, failures, settled  # noqa: E402

NS_SRV, NS_CLI = "mm-pacs-%d" % os.getpid(), "mm-mod-%d" % os.getpid()
SRV, CLI = "10.231.0.1", "10.231.0.2"
TOOLS = ["ip", "tcpdump", "storescp", "storescu", "echoscu", "movescu", "dcmqrscp", "dump2dcm"]
PATIENT = ["YAMADA", "TARO", "HANAKO", "PAT00042", "19700101", "fatigue", "HBA1C"]

SITE = f"""sensor:
  name: live-test
home_networks: [10.231.0.0/24]
zones:
  departmental:
    networks: [{SRV}/32]
  medical_devices:
    networks: [{CLI}/32]
medical:
  dicom_ae_titles:
    PACS: [{SRV}]
    ARCHIVE: [{SRV}]
    CT01: [{CLI}]
  hl7_applications:
    HIS: [{SRV}]
    RIS: [{CLI}]
"""

IMAGE = """(0002,0002) UI ={sop}
(0002,0003) UI [{uid}]
(0002,0010) UI =LittleEndianExplicit
(0008,0016) UI ={sop}
(0008,0018) UI [{uid}]
(0008,0060) CS [{modality}]
(0010,0010) PN [YAMADA^TARO]
(0010,0020) LO [PAT00042]
(0010,0030) DA [19700101]
(0020,000d) UI [1.2.392.200036.9999.1]
(0020,000e) UI [{uid}.1]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 2
(0028,0011) US 2
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 0
(7fe0,0010) OW 0001\\0002\\0003\\0004
"""

QRSCP = """NetworkTCPPort = 11114
MaxPDUSize = 16384
MaxAssociations = 16
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
ARCHIVE {db} RW (10, 16mb) ANY
AETable END
"""



def run(*args, ns=None, **kw):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)


def spawn(*args, ns, **kw):
    return subprocess.Popen(["ip", "netns", "exec", ns] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def wait_listening(ports):
    for _ in range(100):
        out = run("ss", "-ltnH", ns=NS_SRV).stdout
        if all(f":{p} " in out for p in ports):
            return True
        time.sleep(0.1)
    return False


def setup_net():
    for cmd in (["ip", "netns", "add", NS_SRV], ["ip", "netns", "add", NS_CLI],
                ["ip", "link", "add", "mmv-s", "netns", NS_SRV, "type", "veth", "peer", "name",
                 "mmv-c", "netns", NS_CLI],
                ["ip", "-n", NS_SRV, "addr", "add", SRV + "/24", "dev", "mmv-s"],
                ["ip", "-n", NS_CLI, "addr", "add", CLI + "/24", "dev", "mmv-c"],
                ["ip", "-n", NS_SRV, "link", "set", "mmv-s", "up"],
                ["ip", "-n", NS_CLI, "link", "set", "mmv-c", "up"],
                ["ip", "-n", NS_SRV, "link", "set", "lo", "up"],
                ["ip", "-n", NS_CLI, "link", "set", "lo", "up"]):
        subprocess.run(cmd, check=True, capture_output=True)
    # No segmentation offload: the capture then holds what a mirror port would see.
    for ns, dev in ((NS_SRV, "mmv-s"), (NS_CLI, "mmv-c")):
        run("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", ns=ns)


def teardown_net():
    for ns in (NS_SRV, NS_CLI):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def make_traffic(work):
    images = []
    for name, sop, uid in (("ct", "CTImageStorage", "1.2.392.200036.9999.1.1.1"),
                           ("mr", "MRImageStorage", "1.2.392.200036.9999.1.1.2")):
        dump = os.path.join(work, name + ".dump")
        with open(dump, "w") as f:
            f.write(IMAGE.format(sop=sop, uid=uid, modality=name.upper()))
        path = os.path.join(work, name + ".dcm")
        subprocess.run(["dump2dcm", dump, path], check=True, capture_output=True)
        images.append(path)
    db = os.path.join(work, "db")
    os.makedirs(db, exist_ok=True)
    os.makedirs(os.path.join(work, "in"), exist_ok=True)
    with open(os.path.join(work, "dcmqrscp.cfg"), "w") as f:
        f.write(QRSCP.format(db=db))

    pcap = os.path.join(work, "medical.pcap")
    procs = []
    dump = spawn("tcpdump", "-i", "mmv-s", "--immediate-mode", "-U", "-s", "0", "-Z", "root",
                 "-w", pcap, "tcp", ns=NS_SRV)
    try:
        line = dump.stderr.readline()
        check("listening" in line, "tcpdump is capturing")
        procs.append(spawn("storescp", "-aet", "PACS", "-od", os.path.join(work, "in"), "11112",
                           ns=NS_SRV))
        procs.append(spawn("storescp", "-aet", "PACS", "--refuse", "11113", ns=NS_SRV))
        procs.append(spawn("dcmqrscp", "-c", os.path.join(work, "dcmqrscp.cfg"), "-s", "11114",
                           ns=NS_SRV))
        mllp = spawn(sys.executable, os.path.join(os.path.dirname(__file__), "mllp.py"), "serve",
                     "2575", ns=NS_SRV)
        procs.append(mllp)
        check(wait_listening([11112, 11113, 11114, 2575]), "servers listening")

        r = run("echoscu", "-aet", "CT01", "-aec", "PACS", SRV, "11112", ns=NS_CLI)
        check(r.returncode == 0, "echoscu CT01 -> PACS succeeded")
        r = run("storescu", "-aet", "CT01", "-aec", "PACS", SRV, "11112", *images, ns=NS_CLI)
        check(r.returncode == 0, "storescu sent the CT and MR images")
        r = run("echoscu", "-aet", "SPOOF", "-aec", "PACS", SRV, "11112", ns=NS_CLI)
        check(r.returncode == 0, "echoscu SPOOF -> PACS succeeded")
        for _ in range(6):
            r = run("echoscu", "-aet", "CT01", "-aec", "PACS", SRV, "11113", ns=NS_CLI)
        check(r.returncode != 0, "the refusing storescp rejected the associations")
        r = run("movescu", "-aet", "CT01", "-aec", "ARCHIVE", "-aem", "EVIL_WS", "-S", "-k",
                "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=1.2.392.200036.9999.1", SRV,
                "11114", ns=NS_CLI)
        r = run(sys.executable, os.path.join(os.path.dirname(__file__), "mllp.py"), "send", SRV,
                "2575", "LIS", ns=NS_CLI)
        check(r.stdout.split() == ["AA", "AE", "AA"], "MLLP peer acknowledged AA AE AA")
        mllp.wait(timeout=10)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        # tcpdump -U writes each packet as it comes: once the file stops growing, the peers'
        # last segments are in it.
        settled(pcap)
        dump.terminate()
        dump.wait(timeout=10)
        stats = dump.stderr.read().split()
        captured = stats[stats.index("captured") - 2] if "captured" in stats else "?"
        received = stats[stats.index("received") - 2] if "received" in stats else "!"
        check(captured == received, f"tcpdump wrote all {received} packets it received")
    check(len(os.listdir(os.path.join(work, "in"))) == 2, "storescp stored both images")
    return pcap


def by_port(flows, port):
    return [f for f in flows if f.get("dest_port") == port]


def verify(mimamori, schema, work, pcap):
    site = os.path.join(work, "site.yaml")
    with open(site, "w") as f:
        f.write(SITE)
    eve = os.path.join(work, "eve.json")
    r = subprocess.run([mimamori, "-c", site, "-r", pcap, "--eve", eve], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, "sensor exit 0 " + r.stderr.strip())
    text = open(eve).read()
    if os.path.exists(schema):
        r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__),
                                                         "eve_check.py"), schema, eve],
                           capture_output=True, text=True)
        check(r.returncode == 0, "events valid against the EVE schema: " + r.stdout.strip()[-80:])
    for word in PATIENT:
        check(word not in text, f"no patient data '{word}' in any event")
    events = [json.loads(line) for line in text.splitlines()]
    flows = [e for e in events if e["event_type"] == "flow" and e.get("proto") == "TCP"]
    alerts = [e for e in events if e["event_type"] == "alert"]

    dicom = lambda f: f["ndpi"].get("dicom", {})
    echo, store, spoof = by_port(flows, 11112)[:3] + [{}] * max(0, 3 - len(by_port(flows, 11112)))
    check(echo.get("app_proto") == "dicom", "echo flow is dicom")
    check(dicom(echo).get("calling_ae") == "CT01" and dicom(echo).get("called_ae") == "PACS",
          "echo AE titles CT01 -> PACS")
    check(dicom(echo).get("commands") == {"C-ECHO": 1}, "echo: one C-ECHO")
    check(dicom(echo).get("sop_classes") == ["Verification"], "echo: Verification SOP class")
    check(dicom(echo).get("association") == "released", "echo: association released")
    check(dicom(store).get("commands") == {"C-STORE": 2}, "store: two C-STORE requests")
    check(sorted(dicom(store).get("sop_classes", [])) == ["CT Image Storage", "MR Image Storage"],
          "store: CT and MR Image Storage")
    check(dicom(store).get("responses") == 2 and dicom(store).get("failed_responses") == 0,
          "store: two successful responses")
    ctx = dicom(store).get("presentation_contexts", {})
    check(ctx.get("proposed", 0) >= 2 and ctx.get("accepted", 0) >= 2,
          "store: presentation contexts proposed and accepted")
    check(dicom(store).get("implementation_version", "").startswith("OFFIS_DCMTK"),
          "store: implementation version name")
    check(dicom(spoof).get("calling_ae") == "SPOOF", "third association from AE SPOOF")
    refused = by_port(flows, 11113)
    check(len(refused) == 6 and all(dicom(f).get("association") == "rejected" and
                                    dicom(f).get("reject", {}).get("source") == "service-user"
                                    for f in refused), "six rejected associations")
    move = by_port(flows, 11114)
    mv = dicom(move[0]) if move else {}
    check(mv.get("commands") == {"C-MOVE": 1} and mv.get("move_destinations") == ["EVIL_WS"],
          "C-MOVE to EVIL_WS")
    # Nothing matches the key in the empty archive: success with no sub-operations.
    check(mv.get("responses") == 1 and mv.get("failed_responses") == 0, "C-MOVE answered")

    hl7 = by_port(flows, 2575)
    h = hl7[0]["ndpi"].get("hl7", {}) if hl7 else {}
    check(hl7 and hl7[0].get("app_proto") == "hl7", "MLLP flow is hl7")
    check(h.get("messages_toserver") == 3 and h.get("messages_toclient") == 3,
          "three messages each way")
    check(sorted(h.get("message_types", [])) ==
          ["ACK^A01", "ACK^A08", "ACK^R01", "ADT^A01", "ADT^A08", "ORU^R01"], "message types")
    check(h.get("sending_application") == "LIS" and h.get("receiving_application") == "HIS",
          "sending and receiving application")
    check(h.get("ack_codes") == {"AA": 2, "AE": 1}, "acknowledgment codes AA x2, AE x1")

    def fired(rule):
        return [a for a in alerts if a["alert"]["metadata"]["rule"] == [rule]]
    spoofed = fired("medical.dicom_unknown_calling_ae")
    check(len(spoofed) == 1 and "calling_ae=SPOOF" in spoofed[0]["alert"]["metadata"]["evidence"],
          "alert: unknown calling AE SPOOF")
    probing = fired("medical.dicom_association_probing")
    check(len(probing) == 1 and "rejections=5" in probing[0]["alert"]["metadata"]["evidence"],
          "alert: association probing after 5 rejections")
    dest = fired("medical.dicom_move_unknown_destination")
    check(len(dest) == 1 and "move_destination=EVIL_WS" in dest[0]["alert"]["metadata"]["evidence"]
          and dest[0]["alert"]["category"] == "Exfiltration", "alert: C-MOVE to unknown EVIL_WS")
    sender = fired("medical.hl7_unknown_sender")
    check(len(sender) == 1 and "hl7_sending_application=LIS" in
          sender[0]["alert"]["metadata"]["evidence"] and
          f"sender={CLI}" in sender[0]["alert"]["metadata"]["evidence"],
          "alert: HL7 from unlisted application LIS")
    others = [a["alert"]["metadata"]["rule"][0] for a in alerts
              if a["alert"]["metadata"]["rule"][0] not in (
                  "medical.dicom_unknown_calling_ae", "medical.dicom_association_probing",
                  "medical.dicom_move_unknown_destination", "medical.hl7_unknown_sender")]
    check(others == [], "no other alerts (clinical zones may exchange HL7/DICOM): %s" % others)
    verify_inventory(mimamori, work, pcap, store)


def verify_inventory(mimamori, work, pcap, store):
    """The same capture without zones: the inventory names both ends, the proposal zones them."""
    inv, prop = os.path.join(work, "inventory.jsonl"), os.path.join(work, "proposed.yaml")
    r = subprocess.run([mimamori, "-r", pcap, "--eve", os.path.join(work, "bare.json"),
                        "--inventory", inv, "--propose-config", prop], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, "sensor with --inventory and --propose-config exit 0")
    devices = {d["ip"]: d for d in map(json.loads, open(inv))} if os.path.exists(inv) else {}
    cli, srv = devices.get(CLI, {}), devices.get(SRV, {})
    sd = store["ndpi"].get("dicom", {}) if store else {}
    check(cli.get("dicom", {}).get("ae_title") == "CT01", "inventory: the modality's AE title")
    check(cli.get("dicom", {}).get("implementation_version") == sd.get("implementation_version")
          and cli["dicom"]["implementation_version"].startswith("OFFIS_DCMTK"),
          "inventory: the modality's implementation version, as its association stated it")
    check(cli.get("dicom", {}).get("implementation_class_uid", "").startswith("1.2.276.0.7230010.3"),
          "inventory: the implementation class UID under DCMTK's root (OFFIS, 1.2.276.0.7230010.3)")
    check(srv.get("dicom", {}).get("ae_title") in ("PACS", "ARCHIVE"), "inventory: the PACS's AE")
    # What the test sent: echoscu (Verification), storescu (a CT and an MR image), movescu
    # (Study Root MOVE); dcmtk's movescu may propose more, so these must be among them.
    sent = {"Verification", "CT Image Storage", "MR Image Storage",
            "Study Root Query/Retrieve - MOVE"}
    for who, dev in (("modality", cli), ("PACS", srv)):
        got = set(dev.get("dicom", {}).get("sop_classes", []))
        check(sent <= got and got <= sent | {"other"},
              f"inventory: the {who}'s SOP classes are those the test requested: {sorted(got)}")
    check(cli.get("hl7", {}).get("sending_application") == "LIS",
          "inventory: the HL7 sender's application")
    check(not any(w in open(inv).read() for w in PATIENT) if os.path.exists(inv) else False,
          "no patient data in the inventory")
    # The PACS stored images and answered a C-MOVE: departmental. The client stored images, but
    # mllp.py also made it send ADT^A01 first, which only an EMR or HIS does: emr, listed alone.
    text = open(prop).read() if os.path.exists(prop) else ""
    zones = (yaml.safe_load(text) or {}).get("zones") or {}
    nets = {z: v.get("networks", []) for z, v in zones.items()}
    check(f"{SRV}/32" in nets.get("departmental", []) and
          f"- {SRV}/32  # archives DICOM images or answers queries (PACS)" in text,
          "proposal: the PACS in departmental, with its role")
    check(f"{CLI}/32" in nets.get("emr", []) and
          f"- {CLI}/32  # sends HL7 admissions or orders (EMR or HIS)" in text,
          "proposal: the ADT sender in emr, with its role")
    r = subprocess.run([mimamori, "-c", prop, "--test-config"], capture_output=True, text=True)
    check(r.returncode == 0, "proposal passes --test-config " + r.stdout.strip()[-80:])


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, schema, work = sys.argv[1:]
    if os.geteuid() != 0:
        print("skipped: needs root for network namespaces")
        return 77
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        print("skipped: missing " + " ".join(missing))
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        try:
            setup_net()
        except subprocess.CalledProcessError as e:
            print("skipped: cannot create network namespaces here: " +
                  (e.stderr or b"").decode(errors="replace").strip())
            return 77
        pcap = make_traffic(work)
    finally:
        teardown_net()
    verify(mimamori, schema, work, pcap)
    print(f"medical_live: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
