#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fleet benchmark (docs/fleet.md): one smpdfu-gw updating N emulated devices
at once, against the same devices updated one after another by the CLI
(`smpdfu dfu`), over UDP with 20 ms round trips (smpdfu-linkemu udp
--latency 10 each way) and over serial ptys at 115200 baud (smpdfu-linkemu
serial). Every device: smpdfu-target with v1, updated to v2 (test, reset,
confirm).

Per run: total time (jobs published -> every job SUCCEEDED; for the CLI the
sum of the runs), CPU time of the updater (the gateway process: utime +
stime from /proc; the CLI: getrusage of the children), and memory per
device: the gateway's peak RSS (VmHWM) minus its RSS before the jobs,
divided by N; the CLI: its peak RSS (one device at a time).

A benchmark reports; it never fails on a time. Out of CI (the tests hold the
behaviour). Prints a table and draws bench/fleet/fleet.png (matplotlib).

  bench_fleet.py [--udp 1,8,32,128] [--serial 1,8,32] [--cli-max 32] [--size BYTES] [--build DIR]
                 [--save FILE.json] [--merge FILE.json...]   (--merge: table and chart of saved runs)
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "gw"))


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    cpu = (int(parts[11]) + int(parts[12])) / tck
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, v = line.split(":", 1)
            st[k] = v.strip()
    return cpu, int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0])


def run_one(kind, n, size, do_cli):
    import gwlib
    d = tempfile.mkdtemp(prefix="smpdfu-fleet-")
    p = lambda x: os.path.join(d, x)  # noqa: E731
    gwlib.make_image(p("v1.bin"), "1.0.0", 16000, 1)
    gwlib.make_image(p("v2.bin"), "2.0.0", size, 2)
    http = gwlib.HttpServer()
    with open(p("v2.bin"), "rb") as f:
        url = http.add("/v2.bin", f.read())
    broker = gwlib.Broker(d).start()
    targets, links, devs = [], [], []
    res = {"kind": kind, "n": n}
    try:
        for i in range(n):
            t = gwlib.Target(d, ([] if os.environ.get("FLEET_DEBUG") else ["-q"]) + ["--factory", p("v1.bin")],
                             flash=p("d%d.flash" % i))
            t.start(serial=(kind == "serial"), udp="127.0.0.1:0")
            targets.append(t)
            lp, conn = gwlib.linkemu_udp(t.udp_port) if kind == "udp" else gwlib.linkemu_serial(t.pty)
            links.append(lp)
            devs.append(("dev-%d" % i, conn))
        things = [x for x, _ in devs]
        cloud = gwlib.Cloud(broker, things)
        gw = gwlib.Gateway(d, "gw-bench", broker, devs,
                           extra="allow_http = true\nconcurrency = %d\nprogress_interval = 1" % n)
        gw.start()
        gw.wait_line("ready: %d devices" % n)
        _, rss0, _ = proc_stat(gw.proc.pid)
        cpu0, _, _ = proc_stat(gw.proc.pid)
        t0 = time.monotonic()
        for x in things:
            cloud.add_job(x, "fw-2", gwlib.image_doc(url, p("v2.bin")))
        cloud.wait_final([(x, "fw-2") for x in things])
        res["gw_s"] = time.monotonic() - t0
        cpu1, _, hwm = proc_stat(gw.proc.pid)
        res["gw_cpu"] = cpu1 - cpu0
        res["gw_rss0_kib"] = rss0
        res["gw_kib_per_dev"] = (hwm - rss0) / n
        res["gw_hwm_kib"] = hwm
        res["ok"] = sum(1 for x in things if cloud.job(x, "fw-2")["status"] == "SUCCEEDED")
        for x in things:
            j = cloud.job(x, "fw-2")
            if j["status"] != "SUCCEEDED":
                print("%s n=%d: %s %s: %s" % (kind, n, x, j["status"], j.get("details")), flush=True)
                if os.environ.get("FLEET_DEBUG"):
                    print("\n".join(l for l in gw.log if x + ":" in l))
                    print("\n".join(targets[things.index(x)].lines()[-40:]))
        gw.kill(15)
        cloud.close()
        if do_cli:
            # The same devices back to v1 is not needed: a fresh set would cost
            # as much to start; the CLI updates them again from v2 to v3.
            gwlib.make_image(p("v3.bin"), "3.0.0", size, 3)
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            ok = 0
            for _, conn in devs:
                r = subprocess.run([gwlib.SMPDFU, "--conn", conn, "--quiet", "dfu", p("v3.bin")],
                                   capture_output=True, text=True)
                ok += r.returncode == 0
            res["cli_s"] = time.monotonic() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            res["cli_cpu"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            res["cli_kib"] = ru1.ru_maxrss
            res["cli_ok"] = ok
    finally:
        for lp in links:
            lp.kill()
        for t in targets:
            t.stop()
        broker.stop()
        http.stop()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--udp", default="1,8,32,128")
    ap.add_argument("--serial", default="1,8,32")
    ap.add_argument("--cli-max", type=int, default=32, help="run the sequential CLI up to this many devices")
    ap.add_argument("--size", type=int, default=32768, help="image payload bytes")
    ap.add_argument("--build", default=os.path.join(SRC, "build", "release"))
    ap.add_argument("--png", default=os.path.join(HERE, "fleet.png"))
    ap.add_argument("--save", help="write the rows as JSON here")
    ap.add_argument("--merge", nargs="+", help="saved runs to print and draw together (nothing is run); "
                                               "a later row of the same link and size wins where it has more")
    a = ap.parse_args()
    os.environ["SMPDFU_BUILD"] = os.path.abspath(a.build)
    rows = []
    if a.merge:
        by = {}
        for f in a.merge:
            with open(f) as fh:
                for r in json.load(fh):
                    k = (r["kind"], r["n"])
                    if k not in by or len(r) >= len(by[k]):
                        by[k] = r
        rows = sorted(by.values(), key=lambda r: (r["kind"] != "udp", r["n"]))
    else:
        for kind, spec in (("udp", a.udp), ("serial", a.serial)):
            for n in [int(x) for x in spec.split(",") if x]:
                r = run_one(kind, n, a.size, n <= a.cli_max)
                rows.append(r)
                print_row(r, flush=True)
    if a.save:
        with open(a.save, "w") as fh:
            json.dump(rows, fh, indent=1)
    print()
    print("| link | devices | gateway total s | gateway CPU s | gateway peak RSS KiB | (peak - idle) / N KiB | CLI one-by-one total s | CLI CPU s | CLI peak KiB | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cli = ("%.1f | %.2f | %d | %.1fx" % (r["cli_s"], r["cli_cpu"], r["cli_kib"], r["cli_s"] / r["gw_s"])
               if "cli_s" in r else "not run | | |")
        print("| %s | %d | %.1f | %.2f | %d | %.0f | %s |" % (
            "UDP 20 ms RTT" if r["kind"] == "udp" else "serial 115200", r["n"], r["gw_s"], r["gw_cpu"],
            r["gw_hwm_kib"], r["gw_kib_per_dev"], cli))
    draw(rows, a.png)


def print_row(r, flush=False):
    print("%s n=%d: gateway %.1f s (cpu %.2f s, %.0f KiB/device, %d/%d ok)%s" % (
        r["kind"], r["n"], r["gw_s"], r["gw_cpu"], r["gw_kib_per_dev"], r["ok"], r["n"],
        "; CLI one by one %.1f s (cpu %.2f s, peak %d KiB, %d ok)" % (r["cli_s"], r["cli_cpu"], r["cli_kib"], r["cli_ok"])
        if "cli_s" in r else ""), flush=flush)


def draw(rows, png):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: no chart")
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind, label in (("udp", "UDP 20 ms RTT"), ("serial", "serial 115200")):
        rs = [r for r in rows if r["kind"] == kind]
        if not rs:
            continue
        ax.plot([r["n"] for r in rs], [r["gw_s"] for r in rs], "o-", label="smpdfu-gw, %s" % label)
        rc = [r for r in rs if "cli_s" in r]
        if rc:
            ax.plot([r["n"] for r in rc], [r["cli_s"] for r in rc], "s--", label="CLI one by one, %s" % label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("devices")
    ax.set_ylabel("total time to update all (s)")
    ax.set_title("One gateway, one poll loop vs the CLI device by device")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print("chart: %s" % png)


if __name__ == "__main__":
    main()
