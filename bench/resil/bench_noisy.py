#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Time of a whole `smpdfu dfu` (no tuning flags) on a noisy serial link
against the same DFU on a clean one (docs/benchmarks.md, issue 9's goal:
median noisy <= 3x median clean).

Each run is three real processes on a fresh flash: smpdfu-target (--serial,
its default Zephyr-sized 384-byte buffers), smpdfu-linkemu serial at 1 Mbaud
(clean, or --loss 0.01 --flip 0.001 with a per-run seed) and `smpdfu --json
dfu v2.bin`. The figure is the CLI's wall-clock time from start to exit.

A benchmark reports; it never fails on a time. Exit status 1 only when a DFU
itself failed (the final image list must show v2 running).

  bench_noisy.py [--runs N] [--size BYTES] [--build DIR] [--loss P] [--flip P]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "throughput"))
import lossy_common  # noqa: E402
from lossy_common import Proc, make_image  # noqa: E402


def one_run(build, tmp, v1, v2, v2_hash, noisy, seed, loss, flip, target_args):
    smpdfu = os.path.join(build, "smpdfu")
    flash = os.path.join(tmp, "flash-%d-%d.bin" % (noisy, seed))
    t = Proc([os.path.join(build, "smpdfu-target"), "-q", "--flash", flash, "--factory", v1,
              "--serial"] + target_args).wait_ready()
    emu_cmd = [os.path.join(build, "smpdfu-linkemu"), "serial", "--target-pty", t.info["serial"],
               "--baud", "1000000", "--seed", str(seed)]
    if noisy:
        emu_cmd += ["--loss", str(loss), "--flip", str(flip)]
    emu = Proc(emu_cmd).wait_ready()
    conn = "serial:%s,baud=1000000" % emu.info["client"]
    try:
        t0 = time.monotonic()
        p = subprocess.run([smpdfu, "--json", "--conn", conn, "dfu", v2], capture_output=True,
                           text=True, timeout=600)
        took = time.monotonic() - t0
        ok = p.returncode == 0
        up = {}
        if ok:
            up = json.loads(p.stdout)["images"][0]
            # A fresh process has no round-trip estimate yet: generous retries,
            # answers of several lines are lost often on the noisy line.
            q = subprocess.run([smpdfu, "--json", "--retries", "20", "--conn", conn, "image",
                                "list"], capture_output=True, text=True, timeout=600)
            ok = q.returncode == 0 and any(e["hash"] == v2_hash and e["active"]
                                           for e in json.loads(q.stdout)["images"])
            if not ok:
                return ok, took, up, ["check: " + (q.stderr.strip() or q.stdout.strip())]
        return ok, took, up, p.stderr.strip().splitlines()[-1:] if not ok else ""
    finally:
        emu.kill()
        t.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", type=int, default=100000)
    ap.add_argument("--loss", type=float, default=0.01)
    ap.add_argument("--flip", type=float, default=0.001)
    ap.add_argument("--build", default=os.environ.get("SMPDFU_BUILD",
                                                      os.path.join(HERE, "..", "..", "build", "release")))
    ap.add_argument("--target-arg", action="append", default=[])
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="smpdfu-bench-noisy-") as tmp:
        v1 = os.path.join(tmp, "v1.bin")
        v2 = os.path.join(tmp, "v2.bin")
        make_image(v1, "1.0.0", 4000, 1)
        v2_hash = make_image(v2, "2.0.0", a.size, 2).hash
        times = {}
        for noisy in (False, True):
            name = "noisy (loss %g, flip %g)" % (a.loss, a.flip) if noisy else "clean"
            times[noisy] = []
            for seed in range(1, a.runs + 1):
                ok, took, up, err = one_run(build, tmp, v1, v2, v2_hash, noisy, seed, a.loss, a.flip,
                                            a.target_arg)
                failed += not ok
                print("%-28s seed %2d: %6.2f s %s packet %s window %s..%s pace %s retx %s probes %s %s"
                      % (name, seed, took, "ok  " if ok else "FAIL", up.get("packet_size"),
                         up.get("window_min"), up.get("window"), up.get("pace_us"),
                         up.get("retransmits"), up.get("probes"), err), flush=True)
                if ok:
                    times[noisy].append(took)
        mc = statistics.median(times[False]) if times[False] else float("nan")
        mn = statistics.median(times[True]) if times[True] else float("nan")
        print("\n1 Mbaud serial, %d-byte image, %d runs each" % (os.path.getsize(v2), a.runs))
        print("| link | median s | max s | ok |")
        print("|---|---:|---:|---:|")
        for noisy, m in ((False, mc), (True, mn)):
            ts = times[noisy]
            print("| %s | %.2f | %.2f | %d/%d |" % ("noisy" if noisy else "clean", m,
                                                  max(ts) if ts else float("nan"), len(ts), a.runs))
        print("noisy / clean median: %.2fx" % (mn / mc))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
