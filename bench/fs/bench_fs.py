#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""File transfer (fs group) throughput beside image upload (docs/benchmarks.md).

For each link the same three real processes run as in bench/throughput:
smpdfu-target (with --fs-root), smpdfu-linkemu, and the smpdfu CLI. On each
link, at window 1 and the device's window (buf_count 4), it measures:
  image upload   `smpdfu --json image upload IMAGE`
  fs upload      `smpdfu --json fs upload FILE /f.bin` (same size as the image)
  fs download    `smpdfu --json fs download /f.bin OUT`
The figure is bytes / the CLI's `elapsed_ms` (the transfer itself: for fs
the closing SHA-256 check and the resume probe are outside it). A benchmark
reports; it never fails on a time (exit 1 only when a transfer failed).

  bench_fs.py [--quick] [--markdown] [--build DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "throughput"))
import bench_throughput as bt  # noqa: E402

KiB = 1024
LINKS = [
    dict(name="serial console 115200", link="console", baud=115200, size=32 * KiB),
    dict(name="serial console 1M", link="console", baud=1000000, size=200 * KiB),
    dict(name="UDP RTT 20 ms", link="udp", rtt=20, size=256 * KiB),
    dict(name="BLE 2M, MTU 247, 15 ms", link="ble", size=128 * KiB),
]


def start(sc, tmp):
    flash = os.path.join(tmp, "flash.bin")
    if os.path.exists(flash):
        os.unlink(flash)
    root = os.path.join(tmp, "root")
    os.makedirs(root, exist_ok=True)
    targs = [os.path.join(bt.BUILD, "smpdfu-target"), "-q", "--flash", flash, "--factory",
             os.path.join(tmp, "factory.bin"), "--slot-size", "2M", "--buf-size", "2048",
             "--buf-count", "4", "--fs-root", root]
    emu = os.path.join(bt.BUILD, "smpdfu-linkemu")
    if sc["link"] == "console":
        t = bt.ready(targs + ["--serial"])
        e = bt.ready([emu, "serial", "--target-pty", t.info["serial"], "--baud", str(sc["baud"])])
        return [t, e], "serial:%s,baud=%d" % (e.info["client"], sc["baud"])
    t = bt.ready(targs + ["--udp", "127.0.0.1:0"])
    ea = [emu, "ble" if sc["link"] == "ble" else "udp", "--listen", "127.0.0.1:0", "--target",
          t.info["udp"]]
    if sc["link"] == "udp":
        ea += ["--latency", "%g" % (sc["rtt"] / 2.0)]
    e = bt.ready(ea)
    conn = "udp:%s" % e.info["listen"]
    if sc["link"] == "ble":
        conn += ",mtu=2048"
    return [t, e], conn


def cli(conn, *args):
    r = subprocess.run([os.path.join(bt.BUILD, "smpdfu"), "--json", "--conn", conn] + list(args),
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError((r.stdout + r.stderr).strip())
    return json.loads(r.stdout)


def run_link(sc, window, tmp, size):
    image = os.path.join(tmp, "image.bin")
    n = bt.make_image(image, size)
    procs, conn = start(sc, tmp)
    try:
        w = ["--window", str(window)]
        img = cli(conn, "image", "upload", image, *w)
        up = cli(conn, "fs", "upload", image, "/f.bin", "--no-resume", *w)
        out = os.path.join(tmp, "back.bin")
        if os.path.exists(out):
            os.unlink(out)
        down = cli(conn, "fs", "download", "/f.bin", out, "--no-resume", *w)
        if not (up["verified"] and down["verified"]):
            raise RuntimeError("not verified: %r %r" % (up, down))
        return {k: n / (r["elapsed_ms"] / 1000.0) for k, r in
                (("image upload", img), ("fs upload", up), ("fs download", down))}, n
    finally:
        for p in reversed(procs):
            p.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="files a quarter of the size")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--build", help="build directory (default $SMPDFU_BUILD or build)")
    a = ap.parse_args()
    if a.build:
        bt.BUILD = a.build
    rows, failed = [], 0
    with tempfile.TemporaryDirectory(prefix="smpdfu-bench-fs-") as tmp:
        bt.make_image(os.path.join(tmp, "factory.bin"), 4096)
        for sc in LINKS:
            size = sc["size"] // 4 if a.quick else sc["size"]
            for window in (1, 4):
                try:
                    r, n = run_link(sc, window, tmp, size)
                except RuntimeError as e:
                    print("%s, window %d: FAILED: %s" % (sc["name"], window, e), file=sys.stderr)
                    failed += 1
                    continue
                rows.append((sc["name"], n, window, r))
    print("Machine: %s" % bt.machine())
    if a.markdown:
        print("| link | bytes | window | image upload B/s | fs upload B/s | fs download B/s | fs up / image |")
        print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, window, r in rows:
        ratio = r["fs upload"] / r["image upload"]
        if a.markdown:
            print("| %s | %d | %d | %.0f | %.0f | %.0f | %.2f |" % (
                name, n, window, r["image upload"], r["fs upload"], r["fs download"], ratio))
        else:
            print("%-28s %8d w%d  image %9.0f B/s  fs up %9.0f B/s  fs down %9.0f B/s" % (
                name, n, window, r["image upload"], r["fs upload"], r["fs download"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
