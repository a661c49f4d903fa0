#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""scripts/mkimage.py against `smpdfu image info`: hashes, versions, TLVs,
signatures, padded images and the trailer layout, and byte flips that must be
refused with a reason (never a crash). Env: SMPDFU_BUILD, SMPDFU_SOURCE."""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import MKIMAGE, SMPDFU, Tally  # noqa: E402
PY = sys.executable

TALLY = Tally()
check = TALLY.check


def mk(*args):
    out = subprocess.run([PY, MKIMAGE] + list(args), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("mkimage.py %s failed: %s" % (args, out.stderr))
    return out.stdout


def info(path, key=None, json_after=False):
    cmd = [SMPDFU, "--json", "image", "info", path] if not json_after else \
          [SMPDFU, "image", "info", path, "--json"]
    if key:
        cmd += ["--key", key]
    p = subprocess.run(cmd, capture_output=True, text=True)
    doc = None
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        pass
    return p.returncode, doc, p.stderr


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    tmp = tempfile.mkdtemp(prefix="smpdfu_imggen_")
    keys = {}
    for kind in ("ecdsa-p256", "ecdsa-p384", "ed25519"):
        priv = os.path.join(tmp, kind + ".pem")
        pub = os.path.join(tmp, kind + ".pub.pem")
        mk("genkey", "--type", kind, priv, "--public", pub)
        keys[kind] = (priv, pub)

    prot = ["--security-counter", "0x01020003", "--dependency", "1:2.3.4+5",
            "--protected-tlv", "0xa0=0xdeadbeef", "--protected-tlv", "0x1b5=hello"]
    variants = [
        ("unsigned", None, ["--sha", "256"]),
        ("unsigned-384", None, ["--sha", "384"]),
        ("unsigned-512-prot", None, ["--sha", "512"] + prot),
        ("ecdsa", "ecdsa-p256", []),
        ("ecdsa-prot", "ecdsa-p256", prot),
        ("ecdsa-pubkey", "ecdsa-p256", ["--public-key-format", "full"]),
        ("ecdsa-p384", "ecdsa-p384", ["--sha", "384"]),
        ("ed25519", "ed25519", ["--sha", "256"]),
        ("ed25519-512-prot", "ed25519", ["--sha", "512"] + prot),
    ]
    for i, (name, kind, extra) in enumerate(variants):
        path = os.path.join(tmp, name + ".bin")
        args = ["sign", path, "--json", "--version", "%d.%d.%d+%d" % (i + 1, 2, 300 + i, 70000 + i),
                "--payload-size", str(1000 + 37 * i), "--seed", name, "--header-size", "0x200"]
        if kind:
            args += ["--key", keys[kind][0]]
        gen = json.loads(mk(*(args + extra)))
        data = read(path)
        # Our own hash over [0, hdr + img + prot): independent of both tools.
        hfun = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}[gen["hash_alg"]]
        hdr_size, prot_size, img_size = struct.unpack_from("<HHI", data, 8)
        mine = hfun(data[:hdr_size + img_size + prot_size]).hexdigest()
        check(mine == gen["image_hash"], name + ": generator hash")

        rc, doc, err = info(path, keys[kind][1] if kind else None)
        check(rc == 0 and doc is not None and doc["ok"], name + ": info ok (%s)" % err.strip())
        if not doc or "image_hash" not in doc:
            continue
        check(doc["image_hash"] == mine, name + ": smpdfu image hash")
        check(doc["hash"]["computed"] == mine and doc["hash"]["match"], name + ": recomputed hash")
        check(doc["hash"]["alg"] == gen["hash_alg"], name + ": hash alg")
        check(doc["file_sha256"] == hashlib.sha256(data).hexdigest(), name + ": file sha256")
        check(doc["version"] == "%d.2.%d.%d" % (i + 1, 300 + i, 70000 + i), name + ": version")
        check(doc["header"]["img_size"] == 1000 + 37 * i, name + ": img_size")
        check(doc["header"]["protect_tlv_size"] == gen["protect_tlv_size"], name + ": prot size")
        got = [(t["type"], t["len"], t["area"], t["value"]) for t in doc["tlvs"]]
        want = [(t["type"], t["len"], t["area"], t["value"]) for t in gen["tlvs"]]
        check(got == want, name + ": TLVs %s vs %s" % ([g[:3] for g in got], [w[:3] for w in want]))
        if kind:
            check(doc["signature"]["verified"] is True, name + ": signature verified")
            check(doc["signature"]["key_type"] == kind, name + ": key type")
        else:
            check(doc["signature"]["name"] == "none", name + ": unsigned")
        # --json after the file works too.
        rc2, doc2, _ = info(path, json_after=True)
        check(rc2 == 0 and doc2 and doc2["image_hash"] == mine, name + ": --json after FILE")

        # Byte flips that must be refused.
        positions = list(range(0, 32)) + [32, 100, hdr_size - 1]
        positions += [hdr_size + k * img_size // 7 for k in range(7)] + [hdr_size + img_size - 1]
        tlv_base = hdr_size + img_size
        positions += list(range(tlv_base, tlv_base + prot_size))  # whole protected area
        up = tlv_base + prot_size
        positions += list(range(up, up + 4))  # unprotected info
        off = up + 4
        spans = {}
        while off < len(data):
            t, ln = struct.unpack_from("<HH", data, off)
            positions += list(range(off, off + 4))  # every TLV header
            spans[t] = (off + 4, ln)
            off += 4 + ln
        for t in (0x10, 0x11, 0x12):
            if t in spans:
                v, ln = spans[t]
                positions += [v, v + 1, v + ln // 2, v + ln - 1]
        if kind:
            for t in (0x01, 0x02, 0x22, 0x24):
                if t in spans:
                    v, ln = spans[t]
                    positions += [v, v + 2, v + ln // 2, v + ln - 1]
        bad = os.path.join(tmp, name + ".flip.bin")
        refused = 0
        for n, pos in enumerate(sorted(set(positions))):
            m = bytearray(data)
            m[pos] ^= 1 << (n % 8)
            with open(bad, "wb") as f:
                f.write(m)
            rc, d, err = info(bad, keys[kind][1] if kind else None)
            ok = rc == 1 and d is not None and d["ok"] is False and d["error"]["name"].startswith("SMPDFU_E") \
                and "smpdfu: " in err
            check(ok, "%s: flip at %#x (bit %d) -> rc %d %s" % (name, pos, n % 8, rc, err.strip()))
            refused += ok
        print("%s: %d flips refused" % (name, refused))

    # Signed with one key, checked with another: the KEYHASH names another key.
    rc, d, err = info(os.path.join(tmp, "ecdsa.bin"), keys["ed25519"][1])
    check(rc == 1 and d["error"]["name"] == "SMPDFU_EIMG_KEY", "wrong key refused: " + err)
    rc, d, err = info(os.path.join(tmp, "unsigned.bin"), keys["ecdsa-p256"][1])
    check(rc == 1 and d["error"]["name"] == "SMPDFU_EIMG_NO_SIG", "unsigned + --key refused")
    # A private key works for checking too (its public half is used).
    rc, d, err = info(os.path.join(tmp, "ed25519.bin"), keys["ed25519"][0])
    check(rc == 0 and d["signature"]["verified"], "private Ed25519 key as --key")
    rc, d, err = info(os.path.join(tmp, "ecdsa.bin"), keys["ecdsa-p256"][0])
    check(rc == 0 and d["signature"]["verified"], "private ECDSA key as --key")

    # Padded + confirmed images: trailer layout per protocol.md §7.1/§7.2, refused for upload.
    S = 0x8000
    for A, image_ok_off in ((8, S - 24), (32, S - 64)):
        path = os.path.join(tmp, "padded%d.bin" % A)
        gen = json.loads(mk("sign", path, "--json", "--key", keys["ecdsa-p256"][0], "--pad",
                            "--confirm", "--slot-size", hex(S), "--max-align", str(A),
                            "--align", "4", "--version", "1.0.0"))
        data = read(path)
        check(len(data) == S, "padded A=%d: slot-sized" % A)
        magic = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980") if A == 8 else \
            struct.pack("<H", A) + bytes.fromhex("2de15d29410b8d77679c110f1f8a")
        check(data[S - 16:] == magic, "padded A=%d: magic at S-16" % A)
        check(data[image_ok_off] == 0x01, "padded A=%d: image_ok at S-%d" % (A, S - image_ok_off))
        rest = data[gen["unpadded_size"]:S - 16]
        k = image_ok_off - gen["unpadded_size"]
        check(rest[:k] == b"\xff" * k and rest[k + 1:] == b"\xff" * (len(rest) - k - 1),
              "padded A=%d: everything else erased" % A)
        check(gen["trailer_size"] == 128 * 3 * 4 + 4 * A + max(16, A), "padded A=%d: trailer size" % A)
        # `image info` shows it all and succeeds, warning that uploads refuse it.
        rc, d, err = info(path)
        check(rc == 0 and d["ok"] and d["uploadable"] is False and
              d["warning"]["name"] == "SMPDFU_EIMG_PADDED" and d["warning"]["offset"] == S - 16 and
              d["image_hash"] == gen["image_hash"] and d["hash"]["match"],
              "padded A=%d: shown with a warning: %s" % (A, err.strip()))
        check("upload the unpadded signed image" in err and "warning" in err,
              "padded A=%d: reason in words" % A)
        # The unpadded front of the file is the image itself.
        with open(path + ".front", "wb") as f:
            f.write(data[:gen["unpadded_size"]])
        rc, d, _ = info(path + ".front", keys["ecdsa-p256"][1])
        check(rc == 0 and d["image_hash"] == gen["image_hash"], "padded A=%d: front is valid" % A)
    # --pad without --confirm: magic only, image_ok erased.
    path = os.path.join(tmp, "padded-test.bin")
    mk("sign", path, "--pad", "--slot-size", hex(S))
    data = read(path)
    check(data[S - 24] == 0xff and data[S - 16:S - 12] == bytes.fromhex("77c295f3"), "pad without confirm")

    # Trailing garbage is its own reason.
    data = read(os.path.join(tmp, "unsigned.bin"))
    with open(os.path.join(tmp, "trailing.bin"), "wb") as f:
        f.write(data + b"\x00" * 40)
    rc, d, err = info(os.path.join(tmp, "trailing.bin"))
    check(rc == 1 and d["error"]["name"] == "SMPDFU_EIMG_TRAILING" and d["error"]["offset"] == len(data),
          "trailing bytes refused")
    # Truncations.
    for cut in (0, 10, 31, 32, 600, len(data) - 1):
        with open(os.path.join(tmp, "cut.bin"), "wb") as f:
            f.write(data[:cut])
        rc, d, err = info(os.path.join(tmp, "cut.bin"))
        check(rc == 1 and d["error"]["name"] in ("SMPDFU_EIMG_TRUNC", "SMPDFU_EIMG_TLV_OVERRUN"),
              "cut at %d refused (%s)" % (cut, err.strip()))

    # Usage errors exit 2; a missing file exits 1.
    for argv in (["image", "info"], ["image", "info", "a", "b"], ["image", "info", "x", "--bogus"],
                 ["image", "info", "x", "--key"]):
        p = subprocess.run([SMPDFU] + argv, capture_output=True, text=True)
        check(p.returncode == 2 and "usage" in p.stderr, "usage error %s -> 2" % argv)
    p = subprocess.run([SMPDFU, "image", "info", os.path.join(tmp, "nope.bin")], capture_output=True, text=True)
    check(p.returncode == 1 and "nope.bin" in p.stderr, "missing file -> 1")
    # Text mode names both hashes.
    p = subprocess.run([SMPDFU, "image", "info", os.path.join(tmp, "ecdsa.bin"), "--key", keys["ecdsa-p256"][1]],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "image list" in p.stdout and "upload" in p.stdout and "verified" in p.stdout,
          "text output explains the hashes")

    return TALLY.summary()


if __name__ == "__main__":
    sys.exit(main())
