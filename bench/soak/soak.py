#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Soak: many full DFUs over hostile links (docs/benchmarks.md, "Soak").

Each run is a whole `smpdfu dfu` (upload, test, reset, wait, confirm) of a
fresh v2 image onto a fresh emulated device (smpdfu-target holding v1), over
one of the profiles below, followed by a state read over a clean connection
that must show the v2 hash in slot 0, confirmed. A run that fails is rerun
with the same command (what a user or a gateway would do), up to --attempts
times in all: a profile passes only if every DFU ends with the right image.

The same DFU is first timed on the clean version of each link; the report
gives, per profile, successes, and the median / p95 / max DFU time as a
multiple of the clean median. The figures are measurements, not assertions:
the exit status is 1 only when a DFU did not end with the right image.

  soak.py [--count N] [--only SUBSTR] [--markdown] [--seed S]   (tools: $SMPDFU_BUILD, else build/release)

Profiles:
  serial-noisy   console framing, 1 Mbaud, 1 % of lines lost, 1e-3 bytes flipped
  serial-zephyr  console framing, 115200, the target's stock-Zephyr UART RX model
  raw-noise      raw UART (pty), header-shaped noise bursts before 1 % of the
                 client's writes, towards each side
  udp-lossy      UDP, 5 % loss, 5 % duplication, 5 % reordering, 5 ms latency
  killed         serial 1 Mbaud; the target is killed (SIGKILL) once in the
                 upload and cut by power once in the swap, then restarted
"""
import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# scripts/test runs the soak without SMPDFU_BUILD: the release tree is its default.
os.environ.setdefault("SMPDFU_BUILD", os.path.join(
    os.environ.get("SMPDFU_SOURCE") or os.path.normpath(os.path.join(HERE, "..", "..")), "build", "release"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
from harness import BUILD, NoiseBridge, Proc, make_image, smpdfu as run_cli, tool  # noqa: E402

KiB = 1024


def ready(cmd):
    """cmd started, its 'key: value' lines read up to 'ready'."""
    return Proc(cmd).wait_ready(20)


class Device:
    """smpdfu-target on a flash file, optionally behind smpdfu-linkemu."""

    def __init__(self, tmp, profile, v1):
        self.tmp, self.profile = tmp, profile
        self.flash = os.path.join(tmp, "flash.bin")
        if os.path.exists(self.flash):
            os.unlink(self.flash)
        self.v1 = v1
        self.target = self.emu = None
        self.start_target(factory=True)

    def start_target(self, factory=False, extra=()):
        args = [tool("smpdfu-target"), "--flash", self.flash] + list(self.profile["target"])
        if factory:
            args += ["--factory", self.v1]
        self.target = ready(args + list(extra))
        pty = self.target.info.get("serial")
        if self.profile["link"] == "bridge":
            if self.emu is not None:
                self.emu.close()
            self.emu = NoiseBridge(pty, self.profile["noise"], self.profile.get("seed", 0))
        elif self.profile["link"] in ("console", "raw"):
            if self.emu is None:
                self.emu = ready([tool("smpdfu-linkemu"), "serial", "--target-pty", pty] + self.profile["emu"])
            else:
                # The target's pty is new after a restart: a new emulator in front of it,
                # with a new client pty (the client reconnects by path on each run).
                self.emu.stop()
                self.emu = ready([tool("smpdfu-linkemu"), "serial", "--target-pty", pty] + self.profile["emu"])
        elif self.profile["link"] == "udp":
            if self.emu is not None:
                self.emu.stop()
            self.emu = ready([tool("smpdfu-linkemu"), "udp", "--listen", "127.0.0.1:0", "--target",
                             self.target.info["udp"]] + self.profile["emu"])

    def conn(self):
        if self.profile["link"] == "console":
            return "serial:%s,baud=%d" % (self.emu.info["client"], self.profile["baud"])
        if self.profile["link"] == "raw":
            return "serial:%s,baud=%d,raw" % (self.emu.info["client"], self.profile["baud"])
        if self.profile["link"] == "bridge":
            return "serial:%s,raw" % self.emu.path
        return "udp:%s" % self.emu.info["listen"]

    def clean_conn(self):
        """The target directly, for the final state read."""
        if "serial" in self.target.info:
            return "serial:%s%s" % (self.target.info["serial"],
                                    ",raw" if self.profile["link"] in ("raw", "bridge") else "")
        return "udp:%s" % self.target.info["udp"]

    def close_link(self):
        if isinstance(self.emu, NoiseBridge):
            self.emu.close()
        elif self.emu is not None:
            self.emu.stop()
        self.emu = None

    def close(self):
        if isinstance(self.emu, NoiseBridge):
            self.emu.close()
        elif self.emu is not None:
            self.emu.stop()
        if self.target is not None:
            self.target.stop()


def smpdfu(conn, *args, timeout=600):
    return run_cli(conn, *args, timeout=timeout, json_out=True)


def slot0(dev):
    rc, out, err = smpdfu(dev.clean_conn(), "image", "list", timeout=60)
    if rc != 0:
        return None
    for e in json.loads(out)["images"]:
        if e["image"] == 0 and e["slot"] == 0:
            return e
    return None


def run_dfu(tmp, profile, v1, v2, v2_hash, attempts, rng):
    """One whole DFU on a fresh device; returns (seconds, tries) or raises."""
    dev = Device(tmp, profile, v1)
    try:
        t0 = time.monotonic()
        tries = 0
        disturb = profile.get("disturb")
        while True:
            tries += 1
            if disturb and tries == 1:
                ok = disturb(dev, v2, rng)
            else:
                rc, out, err = smpdfu(dev.conn(), "dfu", v2)
                ok = rc == 0
            if ok:
                break
            if tries >= attempts:
                raise RuntimeError("dfu failed %d times: %s" % (tries, err.strip()[-300:] if not disturb else ""))
        took = time.monotonic() - t0
        # The state read goes to the target directly: nothing else may read its pty.
        dev.close_link()
        e = slot0(dev)
        if e is None or e.get("hash") != v2_hash or not e.get("confirmed"):
            raise RuntimeError("slot 0 after the DFU: %r (want %s, confirmed)" % (e, v2_hash))
        return took, tries
    finally:
        dev.close()


def killed_disturb(dev, v2, rng):
    """The first try is spoilt twice: the target is SIGKILLed after a random
    number of upload requests and restarted, then the rerun's swap is cut by
    power at a random flash step (the target's --power-cut-after) and the
    target restarted once more. Plain reruns (the caller) finish the job."""
    cli = Proc([tool("smpdfu"), "--json", "--conn", dev.conn(), "dfu", v2])
    dev.target.wait_index(lambda l: " img upload " in l, "err", count=rng.randint(3, 30), timeout=300)
    dev.target.kill()
    cli.wait_exit(600)
    dev.start_target(extra=["--power-cut-after", str(rng.randint(1, 40))])
    smpdfu(dev.conn(), "dfu", v2)
    dev.target.p.wait()  # the cut ended it (or the DFU finished and the run goes on)
    dev.target.stop()
    dev.start_target()
    return False


PROFILES = [
    dict(name="serial-noisy", link="console", baud=1000000, size=96 * KiB,
         emu=["--baud", "1000000", "--loss", "0.01", "--flip", "0.001"], target=["--serial"],
         clean_emu=["--baud", "1000000"]),
    # nRF52-like flash times keep the device busy, so its 2 x 128-byte RX line
    # buffers (smpdfu-target's default, Zephyr's) fill and lines are dropped;
    # the clean reference has the same flash times and unlimited buffers.
    dict(name="serial-zephyr", link="console", baud=115200, size=32 * KiB,
         emu=["--baud", "115200"], target=["--serial", "--erase-ms", "85", "--write-us-per-kib", "10000"],
         clean_emu=["--baud", "115200"],
         clean_target=["--serial", "--erase-ms", "85", "--write-us-per-kib", "10000", "--rx-bufs", "0"]),
    # Raw UART (no CRC, no resync marker) with header-shaped noise bursts: 1 %
    # of the client's writes are preceded by one towards each side.
    dict(name="raw-noise", link="bridge", noise=0.01, size=32 * KiB, target=["--serial", "--raw-uart"],
         clean_noise=0.0),
    dict(name="udp-lossy", link="udp", size=96 * KiB,
         emu=["--loss", "0.05", "--dup", "0.05", "--reorder", "0.05", "--latency", "5"], target=["--udp", "127.0.0.1:0"],
         clean_emu=["--latency", "5"]),
    dict(name="killed", link="console", baud=1000000, size=96 * KiB,
         emu=["--baud", "1000000"], target=["--serial"], clean_emu=["--baud", "1000000"], disturb=killed_disturb),
]


def pct(xs, p):
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100, help="DFUs per profile (default 100)")
    ap.add_argument("--clean", type=int, default=5, help="clean-link DFUs per profile for the reference")
    ap.add_argument("--attempts", type=int, default=5, help="tries per DFU before it counts as failed")
    ap.add_argument("--only", help="only profiles whose name contains this")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    for t in ("smpdfu", "smpdfu-target", "smpdfu-linkemu"):
        if not os.path.exists(tool(t)):
            print("soak: %s not built (build dir %s)" % (t, BUILD), file=sys.stderr)
            return 2
    rng = random.Random(args.seed)
    rows, failed = [], 0
    with tempfile.TemporaryDirectory(prefix="smpdfu-soak-") as tmp:
        for prof in PROFILES:
            if args.only and args.only not in prof["name"]:
                continue
            v1 = os.path.join(tmp, "v1.bin")
            v2 = os.path.join(tmp, "v2-%s.bin" % prof["name"])
            make_image(v1, "1.0.0", 4000, 1)
            v2_hash = make_image(v2, "2.0.0", prof["size"], 2).hash
            clean = dict(prof, emu=prof.get("clean_emu", []), target=prof.get("clean_target", prof["target"]),
                         disturb=None, noise=prof.get("clean_noise", 0.0))
            ref = []
            for _ in range(args.clean):
                took, _ = run_dfu(tmp, clean, v1, v2, v2_hash, 1, rng)
                ref.append(took)
            ok, times, tries, errors = 0, [], 0, []
            for i in range(args.count):
                p = dict(prof)
                p["seed"] = args.seed * 1000 + i
                if prof["link"] != "bridge":
                    p["emu"] = prof["emu"] + ["--seed", str(p["seed"])]
                try:
                    took, n = run_dfu(tmp, p, v1, v2, v2_hash, args.attempts, rng)
                except Exception as e:  # report, count, go on
                    errors.append(str(e))
                    continue
                ok += 1
                times.append(took)
                tries += n
            base = statistics.median(ref)
            row = dict(profile=prof["name"], ok=ok, count=args.count, clean_s=base, tries=tries,
                       median=statistics.median(times) / base if times else float("nan"),
                       p95=pct(times, 95) / base if times else float("nan"),
                       max=max(times) / base if times else float("nan"))
            rows.append(row)
            failed += args.count - ok
            print("%-14s %3d/%-3d right hash  clean %.2f s  median %.2fx  p95 %.2fx  max %.2fx  (tries %d)"
                  % (row["profile"], ok, args.count, base, row["median"], row["p95"], row["max"], tries),
                  flush=True)
            for e in errors[:3]:
                print("  failed: %s" % e, flush=True)
    if args.markdown:
        print("\n| profile | right hash | clean DFU | median | p95 | max |\n|---|---|---|---|---|---|")
        for r in rows:
            print("| %s | %d/%d | %.2f s | %.2fx | %.2fx | %.2fx |" % (r["profile"], r["ok"], r["count"], r["clean_s"],
                                                                  r["median"], r["p95"], r["max"]))
    print("soak: %d passed, %d failed" % (sum(r["ok"] for r in rows), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
