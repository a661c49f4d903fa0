#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent oracle for the console framing (protocol.md 5.1).

Python frames packets with binascii.crc_hqx (CRC-16/XMODEM) and base64 and
checks that C's decoder (build/serial_oracle decode) returns exactly the good
packets; then checks C's encoder byte for byte against Python's framing.
"""
import base64
import binascii
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import tool  # noqa: E402
from smp import serial_encode as frame  # noqa: E402  (the independent client's framing)

ORACLE = tool("serial_oracle")


def frame_per_line(pkt, rng):
    """Each line base64s its own slice of the frame (padding may end any line)."""
    raw = (len(pkt) + 2).to_bytes(2, "big") + pkt + binascii.crc_hqx(pkt, 0).to_bytes(2, "big")
    out, off, first = b"", 0, True
    while off < len(raw):
        n = rng.randint(2 if first else 1, 93)
        out += (b"\x06\x09" if first else b"\x04\x14") + base64.b64encode(raw[off:off + n]) + b"\r\n"
        off += n
        first = False
    return out


def run(mode, data, line_max):
    r = subprocess.run([ORACLE, mode, str(line_max)], input=data, capture_output=True, check=True)
    return r.stdout, r.stderr.decode()


def stats(err):
    return dict(kv.split("=") for kv in err.split())


def main():
    if not os.access(ORACLE, os.X_OK):
        print("missing", ORACLE, file=sys.stderr)
        return 1
    rng = random.Random(5150)
    fails = 0

    # 1. Python encodes, C decodes: good frames in order, bad ones dropped.
    stream, want = b"", []
    bad = {"crc": 0, "b64": 0}
    for i in range(400):
        pkt = bytes(rng.getrandbits(8) for _ in range(rng.randint(8, 1500)))
        kind = rng.random()
        if kind < 0.1:
            f = bytearray(frame(pkt))
            pos = rng.randrange(2, len(f) - 1)
            if f[pos] in b"\n\x04\x14":
                pos = 3
            f[pos] = ord("B") if f[pos] != ord("B") else ord("C")
            stream += bytes(f)
            bad["crc"] += 1
        elif kind < 0.15:
            f = bytearray(frame(pkt))
            f[5] = ord("*")
            stream += bytes(f)
            bad["b64"] += 1
        else:
            stream += frame_per_line(pkt, rng) if kind < 0.4 else frame(pkt)
            want.append(pkt.hex())
        if rng.random() < 0.3:
            stream += b"[%05d] <inf> log: something happened\r\n" % i
    out, err = run("decode", stream, 128)
    got = out.decode().split()
    st = stats(err)
    if got != want:
        print("decode mismatch: %d packets, want %d" % (len(got), len(want)))
        fails += 1
    # a changed character can also break a padded group: CRC or base64
    if int(st["crc_errors"]) + int(st["base64_errors"]) != bad["crc"] + bad["b64"]:
        print("error counts", st, bad)
        fails += 1
    if int(st["packets"]) != len(want):
        print("packet count", st)
        fails += 1

    # 2. C encodes, Python checks byte for byte (and the 5.1 vector).
    vec = bytes.fromhex("0000000600000100A16164626869")
    assert frame(vec) == b"\x06\x09ABAAAAAGAAABAKFhZGJoabgG\n"
    pkts = [vec] + [bytes(rng.getrandbits(8) for _ in range(n)) for n in list(range(0, 300)) + [380, 1000, 2044, 4000]]
    for line_max in (127, 7, 64, 128):
        out, _ = run("encode", "".join(p.hex() + "\n" for p in pkts).encode(), line_max)
        want_bytes = b"".join(frame(p, line_max) for p in pkts)
        if out != want_bytes:
            print("encode mismatch at line_max", line_max)
            fails += 1
    # 3. And C decodes what C encoded (lengths >= 8 only: shorter cannot be SMP).
    out, _ = run("encode", "".join(p.hex() + "\n" for p in pkts).encode(), 127)
    dec, _ = run("decode", out, 127)
    if dec.decode().split() != [p.hex() for p in pkts if len(p) >= 8]:
        print("C round trip mismatch")
        fails += 1

    print("serial oracle: %s (%d packets decoded, %d bad frames dropped, %d encodings compared)"
          % ("FAIL" if fails else "ok", len(want), bad["crc"] + bad["b64"], 4 * len(pkts)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
