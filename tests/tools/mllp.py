#!/usr/bin/python3
"""A minimal HL7 v2 MLLP peer for the live tests: two real processes talking over TCP.

usage: mllp.py serve PORT            receive messages, answer each with an ACK (AE for ORU,
                                     AA otherwise), until the peer closes; then exit
       mllp.py send HOST PORT APP    send an ADT^A01, an ORU^R01 and an ADT^A08 as sending
                                     application APP, wait for each ACK, print the codes

The messages carry made-up patient segments (PID, NK1, OBX with free text) so the tests can
check that none of it reaches an event.
"""
import socket
import sys

VT, FS, CR = b"\x0b", b"\x1c", b"\r"


def frame(segments):
    return VT + CR.join(s.encode() for s in segments) + CR + FS + CR


def messages(app):
    msh = f"MSH|^~\\&|{app}|HOSP_A|HIS|HOSP_A|20261125090000||"
    return [
        [msh + "ADT^A01^ADT_A01|MSG0001|P|2.5",
         "EVN|A01|20261125090000",
         "PID|1||PAT00042^^^HOSP_A||YAMADA^TARO||19700101|M",
         "NK1|1|YAMADA^HANAKO|SPO"],
        [msh + "ORU^R01^ORU_R01|MSG0002|P|2.5",
         "PID|1||PAT00042^^^HOSP_A||YAMADA^TARO",
         "OBR|1||LAB123|HBA1C",
         "OBX|1|NM|HBA1C||6.5|%|||||F",
         "NTE|1||Patient reports fatigue"],
        [msh + "ADT^A08^ADT_A01|MSG0003|P|2.5",
         "PID|1||PAT00042^^^HOSP_A||YAMADA^TARO"],
    ]


def read_frame(conn, buf):
    while FS + CR not in buf:
        data = conn.recv(4096)
        if not data:
            return None, buf
        buf += data
    end = buf.index(FS + CR)
    start = buf.find(VT)
    return buf[start + 1:end], buf[end + 2:]


def serve(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    print("listening", flush=True)
    conn, _ = srv.accept()
    buf = b""
    while True:
        msg, buf = read_frame(conn, buf)
        if msg is None:
            break
        fields = msg.split(CR)[0].decode().split("|")
        mtype, control = fields[8], fields[9]
        code = "AE" if mtype.startswith("ORU") else "AA"
        trigger = mtype.split("^")[1] if "^" in mtype else ""
        ack = [f"MSH|^~\\&|HIS|HOSP_A|{fields[2]}|{fields[3]}|20261125090001||ACK^{trigger}|"
               f"ACK{control}|P|2.5",
               f"MSA|{code}|{control}"]
        conn.sendall(frame(ack))
    conn.close()
    srv.close()


def send(host, port, app):
    conn = socket.create_connection((host, port), timeout=10)
    buf = b""
    codes = []
    for m in messages(app):
        conn.sendall(frame(m))
        ack, buf = read_frame(conn, buf)
        codes.append(ack.split(CR)[1].decode().split("|")[1])
    conn.close()
    print(" ".join(codes))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
