#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Upload throughput of smpdfu over emulated links (docs/benchmarks.md).

For each scenario three real processes run: smpdfu-target (the device),
smpdfu-linkemu (the link: serial at a baud rate, UDP with a round trip, BLE)
and the smpdfu CLI (`smpdfu --json image upload`). Each upload runs twice,
window 1 (stop-and-wait) and windowed (the device's buf_count), on a fresh
flash. The figure is image bytes / the upload's elapsed time as the CLI
reports it (`elapsed_ms`: from the `os params` read to the last answer).
The limit is the link's theoretical image throughput for the packet size
used: `smpdfu-linkemu limits` (smpdfu_linkemu_limit_bps()) for serial and
BLE, window * data / RTT for UDP (no bandwidth cap; processing ignored).

A benchmark reports; it never fails on a time. Exit status 1 only when an
upload itself failed.

  bench_throughput.py [--quick] [--markdown] [--only SUBSTR] [--build DIR]
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import harness  # noqa: E402
from harness import BUILD, SOURCE  # noqa: E402

KiB = 1024

# name, link, parameters, image size (full run), target extras
# link: console | raw (serial pty through linkemu serial), udp, ble
SCENARIOS = [
    dict(name="serial console 115200", link="console", baud=115200, size=32 * KiB, buf=2048, count=4),
    dict(name="serial raw UART 115200", link="raw", baud=115200, size=40 * KiB, buf=2048, count=4),
    dict(name="serial console 1M", link="console", baud=1000000, size=200 * KiB, buf=2048, count=4),
    dict(name="serial raw UART 1M", link="raw", baud=1000000, size=240 * KiB, buf=2048, count=4),
    dict(name="serial console 115200, flash 10 ms/KiB", link="console", baud=115200, size=32 * KiB,
         buf=2048, count=4, target=["--write-us-per-kib", "10000"]),
    dict(name="UDP RTT 1 ms", link="udp", rtt=1, size=1024 * KiB, buf=2048, count=4),
    dict(name="UDP RTT 20 ms", link="udp", rtt=20, size=256 * KiB, buf=2048, count=4),
    dict(name="UDP RTT 50 ms", link="udp", rtt=50, size=128 * KiB, buf=2048, count=4),
    dict(name="BLE 2M, MTU 247, 15 ms, 4 PDUs/ev", link="ble", size=128 * KiB, buf=2048, count=4),
]

# Response to an upload chunk: 8-byte header + {"off": N} (9 bytes from smpdfu-target).
RESP = 17


def ready(cmd, timeout=10):
    """cmd started (a harness.Proc), its 'key: value' lines read up to 'ready'."""
    return harness.Proc(cmd).wait_ready(timeout)


def make_image(path, size):
    # payload = size - 512 header - TLVs (~48); the exact file size is read back.
    harness.make_image(path, "2.0.0", max(1024, size - 600), 7)
    return os.path.getsize(path)


def linkemu_limits(pkt, overhead, resp):
    """Parse `smpdfu-linkemu limits`: {(kind, baud or 'ble'): (stop&wait B/s, pipelined B/s)}."""
    out = subprocess.run([os.path.join(BUILD, "smpdfu-linkemu"), "limits", "--pkt", str(pkt),
                          "--overhead", str(overhead), "--resp", str(resp)],
                         check=True, capture_output=True, text=True).stdout
    lim = {}
    for line in out.splitlines():
        m = re.match(r"(console|raw UART) (\d+) baud\s+([\d.]+) KiB/s\s+([\d.]+) KiB/s", line)
        if m:
            lim[("raw" if m.group(1) == "raw UART" else "console", int(m.group(2)))] = (
                float(m.group(3)) * KiB, float(m.group(4)) * KiB)
        m = re.match(r"BLE .*?\s([\d.]+) KiB/s\s+([\d.]+) KiB/s", line)
        if m:
            lim[("ble", 0)] = (float(m.group(1)) * KiB, float(m.group(2)) * KiB)
    return lim


def chunk_overhead(size):
    """Non-data bytes of a mid-image chunk: header 8 + map 1 + "data" 5 + bstr head 3 +
    "off" 4 + offset 3 (below 64 KiB) or 5, weighted over the image."""
    low = min(size, 65536)
    return round((24 * low + 26 * (size - low)) / size)


def run_one(sc, window, image, size, tmp):
    flash = os.path.join(tmp, "flash.bin")
    if os.path.exists(flash):
        os.unlink(flash)
    targs = [os.path.join(BUILD, "smpdfu-target"), "-q", "--flash", flash, "--factory",
             os.path.join(tmp, "factory.bin"), "--slot-size", "2M", "--buf-size", str(sc["buf"]),
             "--buf-count", str(sc["count"])] + sc.get("target", [])
    emu_bin = os.path.join(BUILD, "smpdfu-linkemu")
    procs = []
    try:
        if sc["link"] in ("console", "raw"):
            targs.append("--serial" if sc["link"] == "console" else "--raw-uart")
            t = ready(targs)
            procs.append(t)
            e = ready([emu_bin, "serial", "--target-pty", t.info["serial"], "--baud", str(sc["baud"])])
            procs.append(e)
            conn = "serial:%s,baud=%d%s" % (e.info["client"], sc["baud"], ",raw" if sc["link"] == "raw" else "")
        else:
            targs += ["--udp", "127.0.0.1:0"]
            t = ready(targs)
            procs.append(t)
            ea = [emu_bin, "ble" if sc["link"] == "ble" else "udp", "--listen", "127.0.0.1:0",
                  "--target", t.info["udp"]]
            if sc["link"] == "udp":
                ea += ["--latency", "%g" % (sc["rtt"] / 2.0)]
            e = ready(ea)
            procs.append(e)
            conn = "udp:%s" % e.info["listen"]
            if sc["link"] == "ble":
                conn += ",mtu=%d" % sc["buf"]  # the BLE model fragments; Zephyr reassembles
        cmd = [os.path.join(BUILD, "smpdfu"), "--json", "--conn", conn, "image", "upload", image]
        if window:
            cmd += ["--window", str(window)]
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        wall = time.monotonic() - t0
        if r.returncode != 0:
            return dict(error=(r.stdout + r.stderr).strip())
        res = json.loads(r.stdout)
        if res.get("uploaded") != size or not res.get("verified"):
            return dict(error="upload incomplete: %r" % res)
        res["wall_s"] = wall
        res["bps"] = size / (res["elapsed_ms"] / 1000.0)
        return res
    finally:
        for p in reversed(procs):
            p.stop()


def limit_for(sc, res, size):
    pkt = res["chunk_packet"]
    ov = chunk_overhead(size)
    if sc["link"] == "udp":
        d = pkt - ov
        rtt = sc["rtt"] / 1000.0
        return res["window"] * d / rtt
    lim = linkemu_limits(pkt, ov, RESP)
    key = (sc["link"], sc.get("baud", 0))
    sw, pipe = lim[key]
    return sw if res["window"] == 1 else pipe


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs, %s %s" % (cpu, os.cpu_count() or 0, platform.system(), platform.release())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="images a quarter of the size")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--only", help="run scenarios whose name contains this")
    args = ap.parse_args()

    print("# smpdfu upload throughput, %s" % time.strftime("%Y-%m-%d %H:%M %Z"))
    print("# machine: %s" % machine())
    print("# command: %s" % " ".join([os.path.relpath(sys.argv[0], SOURCE)] + sys.argv[1:]))
    rows = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="smpdfu-bench-") as tmp:
        make_image(os.path.join(tmp, "factory.bin"), 8 * KiB)
        if args.markdown:
            print("| scenario | packet | image | window | bytes/s | limit B/s | ratio | windowed / window 1 |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
        else:
            print("%-40s %6s %7s %3s %10s %10s %6s %6s" % ("scenario", "packet", "image", "win", "bytes/s",
                                                           "limit", "ratio", "speedup"))
        for sc in SCENARIOS:
            if args.only and args.only not in sc["name"]:
                continue
            want = sc["size"] // 4 if args.quick else sc["size"]
            image = os.path.join(tmp, "img-%d.bin" % want)
            if not os.path.exists(image):
                make_image(image, want)
            size = os.path.getsize(image)
            base = None
            for window in (1, 0):
                res = run_one(sc, window, image, size, tmp)
                if "error" in res:
                    failed = True
                    print("%-40s window %s: FAILED: %s" % (sc["name"], window or "auto", res["error"]))
                    continue
                lim = limit_for(sc, res, size)
                ratio = res["bps"] / lim
                speed = ""
                if window == 1:
                    base = res["bps"]
                elif base:
                    speed = "%.2fx" % (res["bps"] / base)
                rows.append((sc["name"], res, lim))
                if args.markdown:
                    print("| %s | %d | %d | %d | %.0f | %.0f | %.1f %% | %s |" % (
                        sc["name"], res["chunk_packet"], size, res["window"], res["bps"], lim, 100 * ratio,
                        speed))
                else:
                    print("%-40s %6d %7d %3d %10.0f %10.0f %5.1f%% %6s" % (
                        sc["name"], res["chunk_packet"], size, res["window"], res["bps"], lim, 100 * ratio,
                        speed))
                sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
