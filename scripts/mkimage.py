#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""mkimage.py: build MCUboot images the way imgtool does (protocol.md §6, §7).

Written for smpdfu's tests and demos (imgtool is not installable here). Needs
only Debian's python3 and python3-cryptography.

  mkimage.py genkey --type ecdsa-p256|ecdsa-p384|ed25519 KEY.pem [--public PUB.pem]
  mkimage.py getpub KEY.pem PUB.pem
  mkimage.py sign [options] OUT.bin       (see --help)

`sign` prints the image hash (the hash TLV: what `image list` shows), the
SHA-256 of the output file (the upload `sha`), or all details with --json.
"""
import argparse
import hashlib
import json
import re
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

IMAGE_MAGIC = 0x96F3B83D
HDR_LEN = 32
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908

TLV = {
    "KEYHASH": 0x01, "PUBKEY": 0x02, "SHA256": 0x10, "SHA384": 0x11, "SHA512": 0x12,
    "ECDSA_SIG": 0x22, "ED25519": 0x24, "DEPENDENCY": 0x40, "SEC_CNT": 0x50,
}
SHA = {"256": (hashlib.sha256, "SHA256"), "384": (hashlib.sha384, "SHA384"),
       "512": (hashlib.sha512, "SHA512")}
# imgtool's pairing of key types and image hashes (first = its "auto" choice).
KEY_SHA = {"ecdsa-p256": ["256"], "ecdsa-p384": ["384"], "ed25519": ["256", "512"]}

MAGIC_A8 = bytes([0x77, 0xC2, 0x95, 0xF3, 0x60, 0xD2, 0xEF, 0x7F,
                  0x35, 0x52, 0x50, 0x0F, 0x2C, 0xB6, 0x79, 0x80])
MAGIC_TAIL = bytes([0x2D, 0xE1, 0x5D, 0x29, 0x41, 0x0B, 0x8D, 0x77,
                    0x67, 0x9C, 0x11, 0x0F, 0x1F, 0x8A])

FLAGS = {"PIC": 0x1, "NON_BOOTABLE": 0x10, "RAM_LOAD": 0x20, "ROM_FIXED": 0x100}


class UsageError(Exception):
    pass


def align_up(n, a):
    return (n + a - 1) // a * a


def int_any(s):
    return int(s, 0)


def parse_version(s):
    """"1", "1.2", "1.2.3", "1.2.3+4" (imgtool's forms) -> (maj, min, rev, build)."""
    m = re.fullmatch(r"(\d+)(?:\.(\d+)(?:\.(\d+)(?:\+(\d+))?)?)?", s)
    if not m:
        raise UsageError("bad --version '%s' (want MAJOR.MINOR.REVISION+BUILD)" % s)
    v = tuple(int(x) if x is not None else 0 for x in m.groups())
    limits = (0xFF, 0xFF, 0xFFFF, 0xFFFFFFFF)
    if any(x > lim for x, lim in zip(v, limits)):
        raise UsageError("--version '%s' does not fit u8.u8.u16+u32" % s)
    return v


def trailer_magic(max_align):
    if max_align == 8:
        return MAGIC_A8
    return struct.pack("<H", max_align) + MAGIC_TAIL


def trailer_size(write_align, max_align, max_sectors, overwrite_only):
    """imgtool's _trailer_size (no encryption)."""
    magic_area = align_up(16, max_align)
    if overwrite_only:
        return max_align * 2 + magic_area
    return max_sectors * 3 * write_align + max_align * 4 + magic_area


def load_key(path):
    with open(path, "rb") as f:
        data = f.read()
    key = serialization.load_pem_private_key(data, password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key, "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        name = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384"}.get(key.curve.name)
        if name:
            return key, name
    raise UsageError("%s: unsupported key type (ECDSA P-256/P-384 or Ed25519)" % path)


def public_der(key):
    # imgtool hashes / embeds the key as DER SubjectPublicKeyInfo.
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_digest(key, kind, covered, digest):
    if kind == "ed25519":
        return key.sign(digest)  # imgtool: plain Ed25519 over the image digest
    alg = hashes.SHA256() if kind == "ecdsa-p256" else hashes.SHA384()
    return key.sign(covered, ec.ECDSA(alg))  # DER; hashing `covered` again gives `digest`


def payload_bytes(args):
    if args.payload:
        with open(args.payload, "rb") as f:
            return f.read()
    # Deterministic pseudo-random bytes: SHA-256 in counter mode over the seed.
    out = bytearray()
    ctr = 0
    seed = str(args.seed).encode()
    while len(out) < args.payload_size:
        out += hashlib.sha256(seed + struct.pack("<Q", ctr)).digest()
        ctr += 1
    return bytes(out[:args.payload_size])


def parse_tlv_arg(s):
    """TYPE=VALUE: VALUE is 0x-hex bytes or text."""
    if "=" not in s:
        raise UsageError("--protected-tlv wants TYPE=VALUE, not '%s'" % s)
    t, v = s.split("=", 1)
    t = int(t, 0)
    if not 0 <= t <= 0xFFFE:
        raise UsageError("TLV type %#x out of range" % t)
    if v.startswith("0x"):
        try:
            val = bytes.fromhex(v[2:])
        except ValueError:
            raise UsageError("bad hex value in --protected-tlv '%s'" % s)
    else:
        val = v.encode()
    if len(val) > 0xFFFF:
        raise UsageError("TLV value too long")
    return t, val


def parse_dependency(s):
    """IMAGE_ID:VERSION, e.g. 1:1.2.3+0."""
    m = re.fullmatch(r"(\d+):(.+)", s)
    if not m:
        raise UsageError("--dependency wants IMAGE:VERSION, not '%s'" % s)
    return int(m.group(1)), parse_version(m.group(2))


def tlv_area(magic, entries):
    body = b"".join(struct.pack("<HH", t, len(v)) + v for t, v in entries)
    if 4 + len(body) > 0xFFFF:
        raise UsageError("TLV area too large")
    return struct.pack("<HH", magic, 4 + len(body)) + body


def build(args):
    version = parse_version(args.version)
    payload = payload_bytes(args)
    hs = args.header_size
    if not HDR_LEN <= hs <= 0xFFFF:
        raise UsageError("--header-size must be 32..65535")
    if args.align not in (1, 2, 4, 8, 16, 32):
        raise UsageError("--align must be 1, 2, 4, 8, 16 or 32")
    max_align = args.max_align if args.max_align is not None else max(8, args.align)
    if max_align not in (8, 16, 32):
        raise UsageError("--max-align must be 8, 16 or 32")

    key = kind = None
    if args.key:
        key, kind = load_key(args.key)
    sha = args.sha
    if sha == "auto":
        sha = KEY_SHA[kind][0] if kind else "256"
    if kind and sha not in KEY_SHA[kind]:
        raise UsageError("a %s key cannot be used with --sha %s (allowed: %s)"
                         % (kind, sha, ", ".join(KEY_SHA[kind])))
    hfun, hname = SHA[sha]

    # Protected TLVs in imgtool's order: security counter, dependencies, custom.
    prot = []
    if args.security_counter is not None:
        prot.append((TLV["SEC_CNT"], struct.pack("<I", args.security_counter)))
    for dep in args.dependency or []:
        img, v = parse_dependency(dep)
        prot.append((TLV["DEPENDENCY"], struct.pack("<B3xBBHI", img, *v)))
    for s in args.protected_tlv or []:
        prot.append(parse_tlv_arg(s))
    prot_area = tlv_area(TLV_PROT_INFO_MAGIC, prot) if prot else b""

    flags = 0
    for name in args.flag or []:
        if name not in FLAGS:
            raise UsageError("unknown --flag %s (%s)" % (name, ", ".join(FLAGS)))
        flags |= FLAGS[name]
    if args.load_addr:
        flags |= FLAGS["RAM_LOAD"]
    if args.rom_fixed is not None:
        flags |= FLAGS["ROM_FIXED"]
    load_addr = args.rom_fixed if args.rom_fixed is not None else args.load_addr

    header = struct.pack("<IIHHIIBBHII", IMAGE_MAGIC, load_addr, hs, len(prot_area),
                         len(payload), flags, version[0], version[1], version[2], version[3], 0)
    # imgtool --pad-header fills the header room with the erased value.
    covered = header + bytes([args.erased_val]) * (hs - HDR_LEN) + payload + prot_area
    digest = hfun(covered).digest()

    unprot = [(TLV[hname], digest)]
    if key is not None:
        pub = public_der(key)
        if args.public_key_format == "hash":
            unprot.append((TLV["KEYHASH"], hfun(pub).digest()))
        else:
            unprot.append((TLV["PUBKEY"], pub))
        sig = sign_digest(key, kind, covered, digest)
        unprot.append((TLV["ECDSA_SIG"] if kind.startswith("ecdsa") else TLV["ED25519"], sig))
    image = covered + tlv_area(TLV_INFO_MAGIC, unprot)
    unpadded_len = len(image)

    tsize = None
    if args.slot_size:
        tsize = trailer_size(args.align, max_align, args.max_sectors, args.overwrite_only)
        if len(image) + tsize > args.slot_size:
            raise UsageError("image (%#x) + trailer (%#x) exceed the slot size %#x"
                             % (len(image), tsize, args.slot_size))
    if args.pad:
        if not args.slot_size:
            raise UsageError("--pad needs --slot-size")
        if args.slot_size % max_align:
            raise UsageError("--slot-size must be a multiple of --max-align")
        fill = bytearray([args.erased_val]) * (args.slot_size - len(image))
        magic = trailer_magic(max_align)
        fill[-16:] = magic
        if args.confirm and not args.overwrite_only:
            # image_ok sits one max_align below the (aligned) magic area.
            fill[-(align_up(16, max_align) + max_align)] = 0x01
        image += bytes(fill)
    elif args.confirm:
        raise UsageError("--confirm needs --pad")

    with open(args.out, "wb") as f:
        f.write(image)
    return {
        "file": args.out,
        "size": len(image),
        "unpadded_size": unpadded_len,
        "version": "%d.%d.%d+%d" % version,
        "hash_alg": "sha" + sha,
        "image_hash": digest.hex(),
        "hashed_len": len(covered),
        "file_sha256": hashlib.sha256(image).hexdigest(),
        "key_type": kind,
        "hdr_size": hs,
        "img_size": len(payload),
        "protect_tlv_size": len(prot_area),
        "flags": flags,
        "trailer_size": tsize,
        "max_align": max_align,
        "tlvs": [{"type": t, "len": len(v), "area": "protected", "value": v.hex()} for t, v in prot]
        + [{"type": t, "len": len(v), "area": "unprotected", "value": v.hex()} for t, v in unprot],
    }


def cmd_genkey(args):
    if args.type == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif args.type == "ecdsa-p256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = ec.generate_private_key(ec.SECP384R1())
    with open(args.key, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    if args.public:
        write_public(key, args.public)


def write_public(key, path):
    with open(path, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


def main(argv):
    ap = argparse.ArgumentParser(prog="mkimage.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("genkey", help="make a signing key (PKCS#8 PEM)")
    g.add_argument("--type", "-t", choices=["ecdsa-p256", "ecdsa-p384", "ed25519"],
                   default="ecdsa-p256")
    g.add_argument("key")
    g.add_argument("--public", "-p", help="also write the public key (PEM) here")

    p = sub.add_parser("getpub", help="write the public key of a private key (PEM)")
    p.add_argument("key")
    p.add_argument("out")

    s = sub.add_parser("sign", help="build an image")
    s.add_argument("out")
    s.add_argument("--version", "-v", default="0.0.0", help="MAJOR.MINOR.REVISION+BUILD")
    s.add_argument("--header-size", "-H", type=int_any, default=0x200,
                   help="header room before the payload (default 0x200, padded with --erased-val)")
    s.add_argument("--align", type=int, default=1, help="flash write alignment (trailer size)")
    s.add_argument("--max-align", type=int, default=None, help="BOOT_MAX_ALIGN (default max(8, align))")
    s.add_argument("--slot-size", "-S", type=int_any, default=0)
    s.add_argument("--max-sectors", type=int, default=128)
    s.add_argument("--overwrite-only", action="store_true")
    s.add_argument("--pad", action="store_true", help="pad to --slot-size and write the trailer magic")
    s.add_argument("--confirm", action="store_true", help="with --pad: also set image_ok")
    s.add_argument("--erased-val", type=int_any, default=0xFF)
    s.add_argument("--key", "-k", help="private key PEM (ECDSA P-256/P-384 or Ed25519)")
    s.add_argument("--public-key-format", choices=["hash", "full"], default="hash")
    s.add_argument("--sha", choices=["auto", "256", "384", "512"], default="auto")
    s.add_argument("--security-counter", type=int_any)
    s.add_argument("--dependency", action="append", help="IMAGE:VERSION (protected TLV 0x40)")
    s.add_argument("--protected-tlv", action="append", metavar="TYPE=VALUE",
                   help="custom protected TLV; VALUE is 0x-hex or text")
    s.add_argument("--load-addr", type=int_any, default=0)
    s.add_argument("--rom-fixed", type=int_any)
    s.add_argument("--flag", action="append", help="extra header flag: " + ", ".join(FLAGS))
    src = s.add_mutually_exclusive_group()
    src.add_argument("--payload", help="payload file")
    src.add_argument("--payload-size", type=int_any, default=1024,
                     help="size of a pseudo-random payload (default 1024)")
    s.add_argument("--seed", default="0", help="seed of the pseudo-random payload")
    s.add_argument("--json", action="store_true", help="print all details as JSON")

    args = ap.parse_args(argv)
    try:
        if args.cmd == "genkey":
            cmd_genkey(args)
        elif args.cmd == "getpub":
            key, _ = load_key(args.key)
            write_public(key, args.out)
        else:
            r = build(args)
            if args.json:
                print(json.dumps(r, indent=1))
            else:
                print("image hash  %s  (%s: what `image list` shows)" % (r["image_hash"], r["hash_alg"]))
                print("file sha256 %s  (the upload `sha`)" % r["file_sha256"])
                print("wrote %s: %d bytes, version %s" % (r["file"], r["size"], r["version"]))
    except (UsageError, OSError, ValueError) as e:
        print("mkimage.py: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
