#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""How closely smpdfu-linkemu keeps its model's schedule on this machine
(docs/linkemu.md, "Timing on a real machine").

The tests check the model on the emulator's own clock (tests/linkemu); what
they cannot check is how late a loaded machine writes. This prints, for a
few links, the wall-clock rate a peer measured against the configured one,
and from the --trace output the lateness of each unit (written − due):
median, 99th percentile and maximum.

A benchmark reports; it never fails on a time. Exit status 1 only when a
run itself failed (nothing arrived).

  bench_linkemu.py [--build DIR]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("SMPDFU_SOURCE", os.path.normpath(os.path.join(HERE, "..", "..")))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else float("nan")


def lateness(recs):
    late = [(r["out"] - r["due"]) / 1e3 for r in recs if r["out"] is not None]
    return "lateness median %.0f us, p99 %.0f us, max %.0f us" % (pct(late, 50), pct(late, 99), max(late))


def serial(t, baud=19200, n=1920):
    peer = t.PtyPeer(echo=False)
    emu = t.Emu("serial", "--target-pty", peer.path, "--baud", str(baud))
    fd = t.open_raw(emu.info["client"])
    os.write(fd, b"U" * n)
    # the arrival times of the first and the last byte at the peer
    first = last = None
    while True:
        rx = peer.wait(lambda rx, k=len(peer.data()): len(rx) > k, 10)
        now = time.monotonic()
        first = first or now
        if len(rx) >= n:
            last = now
            break
    emu.stop()
    recs = emu.trace("c2t")
    os.close(fd)
    peer.close()
    rate = (n - 1) / (last - first) if last > first else float("nan")
    print("serial %d baud: %.0f B/s measured at the peer, %.0f configured (%.1f %%); %s"
          % (baud, rate, baud / 10, 100 * rate * 10 / baud, lateness(recs)))


def udp(t, rate=20000, n=20, size=1000):
    peer = t.UdpPeer()
    emu, c = t.udp_emu(peer, "--rate", "%d,0" % rate)
    times = []
    for i in range(n):
        c.send(bytes([i]) * size)
    for k in range(1, n + 1):
        peer.wait(k, 10)
        times.append(time.monotonic())
    emu.stop()
    recs = emu.trace("c2t")
    peer.close()
    c.close()
    measured = (n - 1) * size / (times[-1] - times[0])
    print("udp %d B/s: %.0f B/s measured at the peer (%.1f %%); %s"
          % (rate, measured, 100 * measured / rate, lateness(recs)))


def ble(t, n=20, size=2048):
    peer = t.UdpPeer()
    emu, c = t.udp_emu(peer, *t.BLE, mode="ble")
    times = []
    for i in range(n):
        c.send(bytes([i]) * size)
    for k in range(1, n + 1):
        peer.wait(k, 10)
        times.append(time.monotonic())
    for _ in range(n):
        c.recv(65536)
    emu.stop()
    recs = emu.trace()
    peer.close()
    c.close()
    measured = (n - 1) * size / (times[-1] - times[0])
    limit = t.limit_bps(size, 0, True, *t.BLE)
    print("ble stream (%s): %.0f B/s measured at the peer, limit %.0f B/s; %s"
          % (" ".join(t.BLE), measured, limit, lateness(recs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("SMPDFU_BUILD", os.path.join(SOURCE, "build")))
    a = ap.parse_args()
    os.environ["SMPDFU_BUILD"] = a.build
    # The tests' emulator driver and peers (real processes, ptys, sockets).
    sys.path.insert(0, os.path.join(SOURCE, "tests", "linkemu"))
    import test_linkemu as t  # noqa: E402
    ok = True
    for run in (serial, udp, ble):
        try:
            run(t)
        except Exception as e:  # report and go on
            ok = False
            print("%s: failed: %r" % (run.__name__, e))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
