#!/usr/bin/python3
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

  soak.py [--count N] [--only SUBSTR] [--build DIR] [--markdown] [--seed S]

Profiles:
  serial-noisy   console framing, 1 Mbaud, 1 % of lines lost, 1e-3 bytes flipped
  serial-zephyr  console framing, 115200, the target's stock-Zephyr UART RX model
  raw-noise      raw UART, 1 Mbaud, noise bursts on the idle line
  udp-lossy      UDP, 5 % loss, 5 % duplication, 5 % reordering, 5 ms latency
  killed         serial 1 Mbaud; the target is killed (SIGKILL) once in the
                 upload and cut by power once in the swap, then restarted
"""
import argparse
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("SMPDFU_SOURCE", os.path.normpath(os.path.join(HERE, "..", "..")))
BUILD = os.environ.get("SMPDFU_BUILD", os.path.join(SOURCE, "build", "release"))
MKIMAGE = os.path.join(SOURCE, "scripts", "mkimage.py")
KiB = 1024


class Proc:
    """A child that prints 'key: value' lines and then 'ready' on stdout."""

    def __init__(self, cmd, timeout=20):
        self.cmd = cmd
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.info = {}
        self.buf = b""
        # stderr is the target's request log: kept, and watched for events.
        self.log, self.cond = [], threading.Condition()
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()
        while True:
            line = self.readline(timeout)
            if line is None:
                err = self.kill()
                raise RuntimeError("%s did not get ready: %s" % (os.path.basename(cmd[0]), err))
            if line == "ready":
                return
            k, _, v = line.partition(": ")
            self.info[k] = v

    def _read_log(self):
        for raw in self.p.stderr:
            with self.cond:
                self.log.append(raw.decode(errors="replace").rstrip())
                self.cond.notify_all()
        with self.cond:
            self.log.append(None)  # EOF
            self.cond.notify_all()

    def wait_log(self, pred, count=1, timeout=300):
        """Blocks until `count` log lines satisfy pred (or the log ends);
        returns True when they did."""
        with self.cond:
            def seen():
                return sum(1 for l in self.log if l is not None and pred(l))
            self.cond.wait_for(lambda: seen() >= count or (self.log and self.log[-1] is None), timeout)
            return seen() >= count

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            r, _, _ = select.select([self.p.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.p.stdout.fileno(), 4096) if r else b""
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode().strip()

    def kill(self, sig=signal.SIGKILL):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        self.p.wait()
        self.reader.join()
        return "\n".join(l for l in self.log if l)


def make_image(path, version, size, seed):
    out = subprocess.run([sys.executable, MKIMAGE, "sign", "--version", version, "--payload-size",
                          str(size), "--seed", str(seed), "--json", path],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    return info.get("image_hash") or info["hash"]


def tool(name):
    return os.path.join(BUILD, name)


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
        self.target = Proc(args + list(extra))
        pty = self.target.info.get("serial")
        if self.profile["link"] in ("console", "raw"):
            if self.emu is None:
                self.emu = Proc([tool("smpdfu-linkemu"), "serial", "--target-pty", pty] + self.profile["emu"])
            else:
                # The target's pty is new after a restart: a new emulator in front of it,
                # with a new client pty (the client reconnects by path on each run).
                self.emu.kill(signal.SIGTERM)
                self.emu = Proc([tool("smpdfu-linkemu"), "serial", "--target-pty", pty] + self.profile["emu"])
        elif self.profile["link"] == "udp":
            if self.emu is not None:
                self.emu.kill(signal.SIGTERM)
            self.emu = Proc([tool("smpdfu-linkemu"), "udp", "--listen", "127.0.0.1:0", "--target",
                             self.target.info["udp"]] + self.profile["emu"])

    def conn(self):
        if self.profile["link"] == "console":
            return "serial:%s,baud=%d" % (self.emu.info["client"], self.profile["baud"])
        if self.profile["link"] == "raw":
            return "serial:%s,baud=%d,raw" % (self.emu.info["client"], self.profile["baud"])
        return "udp:%s" % self.emu.info["listen"]

    def clean_conn(self):
        """The target directly, for the final state read."""
        if "serial" in self.target.info:
            return "serial:%s%s" % (self.target.info["serial"], ",raw" if self.profile["link"] == "raw" else "")
        return "udp:%s" % self.target.info["udp"]

    def close(self):
        for p in (self.emu, self.target):
            if p is not None:
                p.kill(signal.SIGTERM)


def smpdfu(conn, *args, timeout=600):
    p = subprocess.run([tool("smpdfu"), "--json", "--conn", conn] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


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
    cli = subprocess.Popen([tool("smpdfu"), "--json", "--conn", dev.conn(), "dfu", v2],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dev.target.wait_log(lambda l: " img upload " in l, count=rng.randint(3, 30))
    dev.target.kill()
    cli.communicate()
    dev.start_target(extra=["--power-cut-after", str(rng.randint(1, 40))])
    smpdfu(dev.conn(), "dfu", v2)
    dev.target.p.wait()  # the cut ended it (or the DFU finished and the run goes on)
    dev.target.kill(signal.SIGTERM)
    dev.start_target()
    return False


PROFILES = [
    dict(name="serial-noisy", link="console", baud=1000000, size=96 * KiB,
         emu=["--baud", "1000000", "--loss", "0.01", "--flip", "0.001"], target=["--serial"],
         clean_emu=["--baud", "1000000"]),
    dict(name="serial-zephyr", link="console", baud=115200, size=32 * KiB,
         emu=["--baud", "115200"], target=["--serial"], clean_emu=["--baud", "115200"],
         clean_target=["--serial"]),
    dict(name="raw-noise", link="raw", baud=1000000, size=96 * KiB,
         emu=["--baud", "1000000", "--noise", "0.02,8"], target=["--serial", "--raw"],
         clean_emu=["--baud", "1000000"]),
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
            v2_hash = make_image(v2, "2.0.0", prof["size"], 2)
            clean = dict(prof, emu=prof["clean_emu"], target=prof.get("clean_target", prof["target"]),
                         disturb=None)
            ref = []
            for _ in range(args.clean):
                took, _ = run_dfu(tmp, clean, v1, v2, v2_hash, 1, rng)
                ref.append(took)
            ok, times, tries, errors = 0, [], 0, []
            for i in range(args.count):
                p = dict(prof)
                p["emu"] = prof["emu"] + ["--seed", str(args.seed * 1000 + i)] if prof["link"] != "none" else prof["emu"]
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
