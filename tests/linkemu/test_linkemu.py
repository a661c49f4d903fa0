#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of smpdfu-linkemu: real process, real ptys and sockets,
with a Python peer on the target side (echo or recorder).

No assertion here depends on how fast this machine is. Timing is checked on
the emulator's own clock through its --trace output (docs/linkemu.md,
"Trace"): every carried unit's read time, the time the model scheduled it
for, and the time it was written. The tests recompute the model's schedule
from the read times (pacer, latency, seeded jitter, reorder hold, BLE
connection events) and require the emulator's to be exactly that, and
every unit to be written no earlier than scheduled. How late a loaded
machine writes is not asserted. Waits are for events (bytes, datagrams,
stats lines); their time limits only end a test that already failed.

Env: SMPDFU_BUILD (build dir; tests/lib/harness.py finds it).
"""
import json
import math
import os
import random
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import LINKEMU as EMU, PATIENCE, Proc  # noqa: E402
NS = 1000000000
MS = 1000000

# --------------------------------------------------------------- helpers


def parse_stats(lines, tag):
    stats = {}
    for line in lines:
        f = line.split()
        if len(f) > 3 and f[0] == "stats" and f[1] == tag:
            stats[f[2]] = {k: int(v) for k, v in (x.split("=") for x in f[3:])}
    return stats


class Emu:
    """smpdfu-linkemu running with --trace; .info holds the 'key: value'
    lines before 'ready'."""

    def __init__(self, *args):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpdfu-linkemu-")
        self.trace_path = os.path.join(self.tmp.name, "trace.jsonl")
        self.proc = Proc([EMU, *args, "--trace", self.trace_path], "smpdfu-linkemu")
        try:
            self.proc.wait_ready()
        except RuntimeError as e:
            raise AssertionError("emulator did not get ready: %s" % e)
        self.info = self.proc.info
        self.read = self.proc.out.index("ready") + 1  # stdout lines consumed
        self.records = None

    def wait_stats(self, pred, timeout=PATIENCE):
        """Wait for an interval stats pair (needs --stats-interval) for which
        pred(stats) holds; returns it, or None."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            i = self.proc.wait_index(lambda l: True, "out", after=self.read,
                                     timeout=max(0.0, deadline - time.monotonic()))
            if i is None:
                return None
            self.read = i + 1
            lines.append(self.proc.out[i].strip())
            st = parse_stats(lines[-2:], "interval")
            if len(st) == 2 and pred(st):
                return st

    def stop(self):
        """SIGTERM, then the final stats: {'c2t': {...}, 't2c': {...}}; the
        trace is complete once the process has exited."""
        rc = self.proc.stop()
        out = self.proc.out[self.read:]
        assert rc == 0, "exit %d: %s" % (rc, "\n".join(self.proc.err))
        stats = parse_stats(out, "final")
        assert set(stats) == {"c2t", "t2c"}, "\n".join(out)
        return stats

    def trace(self, direction=None):
        """The trace records (after stop()), times converted to integer ns."""
        if self.records is None:
            self.records = []
            with open(self.trace_path) as f:
                for line in f:
                    r = json.loads(line)
                    for k in ("in", "wire", "due", "out", "held", "ble_in"):
                        if r.get(k) is not None:
                            r[k] = round(r[k] * 1000)
                    self.records.append(r)
            self.tmp.cleanup()
            check_causal(self.records)
        return [r for r in self.records if direction is None or r["dir"] == direction]


def check_causal(recs):
    """What holds for every unit whatever the load: read, then serialised,
    then due, and never written before it was due."""
    for r in recs:
        assert 0 <= r["in"] <= r["wire"] <= r["due"], r
        if r.get("ble_in") is not None:
            assert r["wire"] <= r["ble_in"] <= r["due"], r
        if r["out"] is not None:
            assert r["out"] >= r["due"], "written before it was due: %r" % r
        else:
            assert r.get("dropped") or r.get("overflow"), r


class Pacer:
    """The emulator's pacer (smpdfu_linkemu_pacer_add), in integer ns: a unit
    offered at `now` leaves the wire at t0 + units/rate, t0 being the start of
    the current busy period."""

    def __init__(self, rate):
        self.rate, self.t0, self.units, self.last = rate, 0, 0, 0

    def add(self, now, units):
        if now >= self.last:
            self.t0, self.units = now, 0
        self.units += units
        whole, rest = divmod(self.units, self.rate)
        self.last = self.t0 + whole * NS + (rest * NS + self.rate - 1) // self.rate
        return self.last


class Rng:
    """splitmix64, as smpdfu_linkemu_rng_*."""
    M = (1 << 64) - 1

    def __init__(self, seed):
        self.s = seed & self.M

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & self.M
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.M
        return z ^ (z >> 31)

    def unit(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


def read_exactly(fd, n, timeout=PATIENCE):
    buf = b""
    deadline = time.monotonic() + timeout
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([fd], [], [], left)
        if r:
            buf += os.read(fd, n - len(buf))
    return buf


class PtyPeer:
    """The target side of a serial link: a pty whose far end the emulator
    opens (--target-pty). Records what arrives and optionally echoes."""

    def __init__(self, echo=True):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self.slave)
        self.echo = echo
        self.rx = b""
        self.cond = threading.Condition()
        self.stop_r, self.stop_w = os.pipe()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            r, _, _ = select.select([self.master, self.stop_r], [], [])
            if self.stop_r in r:
                return
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            # Recorded before the echo: whoever sees the echo sees the record.
            with self.cond:
                self.rx += data
                self.cond.notify_all()
            if self.echo:
                os.write(self.master, data)

    def wait(self, pred, timeout=PATIENCE):
        """Wait until pred(received bytes) holds; returns them."""
        with self.cond:
            self.cond.wait_for(lambda: pred(self.rx), timeout)
            return self.rx

    def data(self):
        with self.cond:
            return self.rx

    def close(self):
        os.write(self.stop_w, b"x")
        self.t.join()
        for fd in (self.master, self.slave, self.stop_r, self.stop_w):
            os.close(fd)


class UdpPeer:
    """The target side of a datagram link: echoes (or answers with a fixed
    reply) and records each datagram."""

    def __init__(self, reply=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.port = self.s.getsockname()[1]
        self.reply = reply
        self.rx = []
        self.cond = threading.Condition()
        self.stop_r, self.stop_w = os.pipe()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            r, _, _ = select.select([self.s, self.stop_r], [], [])
            if self.stop_r in r:
                return
            data, addr = self.s.recvfrom(65536)
            # Recorded before the answer: whoever sees the answer sees the record.
            with self.cond:
                self.rx.append(data)
                self.cond.notify_all()
            self.s.sendto(data if self.reply is None else self.reply, addr)

    def wait(self, n, timeout=PATIENCE):
        """Wait until n datagrams arrived (and were answered)."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.rx) >= n, timeout)
            return list(self.rx)

    def close(self):
        os.write(self.stop_w, b"x")
        self.t.join()
        for fd in (self.stop_r, self.stop_w):
            os.close(fd)
        self.s.close()


def udp_emu(peer, *args, mode="udp"):
    """An emulator on a port the kernel picked (no free-port race) in front of
    peer, and a client socket connected to it."""
    emu = Emu(mode, "--listen", "127.0.0.1:0", "--target", "127.0.0.1:%d" % peer.port, *args)
    host, _, port = emu.info["listen"].rpartition(":")
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect((host, int(port)))
    c.settimeout(PATIENCE)
    return emu, c


def settled(s):
    """Every datagram the direction took in has been written, dropped or
    refused (a duplicate is one more write)."""
    return s["units_out"] - s["duplicated"] + s["dropped"] + s["overflow"] == s["units_in"]


def in_order(recs):
    """Units in the order the emulator read them (the trace is in write order)."""
    return sorted(recs, key=lambda r: (r["unit"], r.get("byte", 0), r.get("copy", 0)))


# ---------------------------------------------------------------- serial


def test_serial_intact():
    peer = PtyPeer()
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "1000000")
    assert emu.info["target"] == peer.path
    fd = open_raw(emu.info["client"])
    data = bytes(random.Random(1).randrange(256) for _ in range(5000))
    os.write(fd, data)
    back = read_exactly(fd, len(data))
    st = emu.stop()
    tr = emu.trace()
    os.close(fd)
    peer.close()
    assert back == data, "echo differs (%d of %d bytes back)" % (len(back), len(data))
    assert st["c2t"]["bytes_in"] == st["c2t"]["bytes_out"] == len(data)
    assert st["t2c"]["bytes_out"] == len(data)
    assert st["c2t"]["dropped"] == st["c2t"]["flipped"] == 0
    # one trace line per byte each way, every one written
    for d in ("c2t", "t2c"):
        recs = [r for r in tr if r["dir"] == d]
        assert [r["byte"] for r in recs] == list(range(len(data))), d
        assert all(r["out"] is not None and r["bytes"] == 1 for r in recs), d


def test_serial_pair_mode():
    emu = Emu("serial", "--baud", "0")
    tfd = open_raw(emu.info["target"])
    cfd = open_raw(emu.info["client"])
    os.write(cfd, b"hello target\n")
    assert read_exactly(tfd, 13) == b"hello target\n"
    os.write(tfd, b"hello client\n")
    assert read_exactly(cfd, 13) == b"hello client\n"
    st = emu.stop()
    emu.trace()
    os.close(cfd)
    os.close(tfd)
    assert st["c2t"]["units_out"] == 1 and st["t2c"]["units_out"] == 1


def check_paced(recs, baud, latency_ns):
    """Each byte leaves the wire 10 bits after the previous one of its busy
    period (or 10 bits after it was read, on an idle wire), exactly; it is
    due latency later. Returns the number of busy periods."""
    pacer = Pacer(baud)
    periods = 0
    for r in in_order(recs):
        if r["in"] >= pacer.last:
            periods += 1
        assert r["wire"] == pacer.add(r["in"], 10), (r, pacer.t0, pacer.units)
        assert r["due"] == r["wire"] + latency_ns, r
    return periods


def test_serial_pacing_and_latency():
    baud = 19200  # 1920 bytes/s: a byte every 520833.3 ns
    lines = [b"pacing line %04d of the test\n" % i for i in range(64)]
    data = b"".join(lines)
    peer = PtyPeer(echo=True)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", str(baud), "--latency", "0,25")
    fd = open_raw(emu.info["client"])
    os.write(fd, data)
    back = read_exactly(fd, len(data))
    st = emu.stop()
    c2t, t2c = emu.trace("c2t"), emu.trace("t2c")
    os.close(fd)
    peer.close()
    assert back == data
    assert len(c2t) == len(t2c) == len(data) == st["c2t"]["bytes_out"]
    periods = check_paced(c2t, baud, 0)
    check_paced(t2c, baud, 25 * MS)
    # Written in one go, read long before the wire (1 s of it) is free: one
    # busy period, whose last byte leaves exactly len*10/baud after the first
    # byte was read.
    first, last = in_order(c2t)[0], in_order(c2t)[-1]
    print("  serial pacing: %d busy period(s), last byte due %.6f s after the first was read"
          % (periods, (last["due"] - first["in"]) / NS))
    if periods == 1:
        assert last["wire"] - first["in"] == math.ceil(len(data) * 10 * NS / baud)
    # lines are counted by their \n
    assert sum(1 for r in c2t if r.get("nl")) == len(lines) == st["c2t"]["units_out"]
    assert max(r["unit"] for r in c2t) == len(lines) - 1


def test_serial_latency_unpaced():
    peer = PtyPeer(echo=False)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "0", "--latency", "200,0")
    fd = open_raw(emu.info["client"])
    os.write(fd, b"x\n")
    assert peer.wait(lambda rx: len(rx) == 2) == b"x\n"
    emu.stop()
    tr = emu.trace()
    os.close(fd)
    peer.close()
    assert len(tr) == 2
    for r in tr:
        assert r["dir"] == "c2t" and r["wire"] == r["in"] and r["due"] == r["in"] + 200 * MS, r


def lines_run(loss, seed, count=60):
    peer = PtyPeer(echo=False)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "0", "--loss", "%s,0" % loss, "--seed", str(seed),
              "--stats-interval", "20")
    fd = open_raw(emu.info["client"])
    sent = [b"line %03d payload\n" % i for i in range(count)]
    os.write(fd, b"".join(sent))
    # Every line either carried or dropped, by the emulator's own count...
    done = emu.wait_stats(lambda s: s["c2t"]["units_out"] + s["c2t"]["dropped"] == count)
    assert done, "the emulator never finished the lines"
    # ...and the peer has read all that was carried.
    rx = peer.wait(lambda rx: rx.count(b"\n") >= done["c2t"]["units_out"])
    st = emu.stop()
    tr = emu.trace("c2t")
    os.close(fd)
    peer.close()
    got = [l + b"\n" for l in rx.split(b"\n")[:-1]]
    # The trace names the dropped lines: the others are what arrived.
    dropped = {r["unit"] for r in tr if r.get("dropped")}
    assert all(r["out"] is None for r in tr if r["unit"] in dropped)
    assert got == [l for i, l in enumerate(sent) if i not in dropped]
    return sent, got, st


def test_serial_line_loss():
    sent, got, st = lines_run(0.0, 1)
    assert got == sent and st["c2t"]["dropped"] == 0 and st["c2t"]["units_out"] == len(sent)
    sent, got, st = lines_run(1.0, 1)
    assert got == [] and st["c2t"]["dropped"] == len(sent) == st["c2t"]["units_in"]
    assert st["c2t"]["bytes_out"] == 0
    sent, got, st = lines_run(0.5, 42)
    assert all(l in sent for l in got), "a line arrived damaged"
    assert len(got) == st["c2t"]["units_out"] == len(sent) - st["c2t"]["dropped"]
    assert 0 < st["c2t"]["dropped"] < len(sent)
    _, got2, st2 = lines_run(0.5, 42)
    assert got2 == got and st2["c2t"]["dropped"] == st["c2t"]["dropped"], "same seed, different losses"
    _, got3, _ = lines_run(0.5, 43)
    assert got3 != got, "another seed gave the very same losses"


def test_serial_flip():
    peer = PtyPeer(echo=True)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "0", "--flip", "1,0", "--seed", "5")
    fd = open_raw(emu.info["client"])
    data = bytes(range(256)) * 4
    os.write(fd, data)
    back = read_exactly(fd, len(data))
    st = emu.stop()
    emu.trace()
    os.close(fd)
    peer.close()
    rx = peer.data()
    assert len(rx) == len(data)
    for a, b in zip(data, rx):
        assert bin(a ^ b).count("1") == 1, (a, b)
    assert back == rx, "t2c has no flips configured but changed bytes"
    assert st["c2t"]["flipped"] == len(data) and st["t2c"]["flipped"] == 0
    # Partial probability: the bytes the trace marks flipped are the ones
    # that arrived changed.
    peer = PtyPeer(echo=False)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "0", "--flip", "0.1", "--seed", "9")
    fd = open_raw(emu.info["client"])
    os.write(fd, data)
    rx = peer.wait(lambda rx: len(rx) >= len(data))
    st = emu.stop()
    tr = emu.trace("c2t")
    os.close(fd)
    peer.close()
    observed = [i for i, (a, b) in enumerate(zip(data, rx)) if a != b]
    assert len(rx) == len(data) and len(observed) == st["c2t"]["flipped"] and 0 < len(observed) < len(data)
    assert observed == [r["byte"] for r in in_order(tr) if r.get("flipped")]


# ------------------------------------------------------------------- udp


def test_udp_intact():
    peer = UdpPeer()
    emu, c = udp_emu(peer)
    rnd = random.Random(3)
    sent = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 1400))) for _ in range(30)]
    got = []
    for d in sent:
        c.send(d)
        got.append(c.recv(65536))
    st = emu.stop()
    tr = emu.trace()
    peer.close()
    c.close()
    assert got == sent
    assert st["c2t"]["units_in"] == st["c2t"]["units_out"] == st["t2c"]["units_out"] == len(sent)
    assert st["c2t"]["bytes_out"] == sum(map(len, sent))
    for d in ("c2t", "t2c"):
        recs = [r for r in tr if r["dir"] == d]
        assert [(r["unit"], r["bytes"]) for r in recs] == list(enumerate(map(len, sent))), d
        # unimpaired: due the moment it was read
        assert all(r["in"] == r["wire"] == r["due"] for r in recs), d


def test_udp_listen_port_zero():
    """--listen H:0 binds a free port and prints the one bound."""
    peer = UdpPeer()
    emu = Emu("udp", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:%d" % peer.port)
    host, _, port = emu.info["listen"].rpartition(":")
    assert host == "127.0.0.1" and int(port) > 0
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect((host, int(port)))
    c.settimeout(PATIENCE)
    c.send(b"port zero")
    assert c.recv(100) == b"port zero"
    emu.stop()
    peer.close()
    c.close()


def test_udp_refuses_remote():
    r = subprocess.run([EMU, "udp", "--target", "192.0.2.1:1337", "--duration", "1"],
                       capture_output=True, text=True, timeout=PATIENCE)
    assert r.returncode == 2 and "loopback" in r.stdout, (r.returncode, r.stdout)


def udp_burst(args, n=20):
    """Send n datagrams at once to an echoing peer; wait (on the emulator's
    stats) until both directions have settled every datagram."""
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--stats-interval", "20", *args)
    sent = [b"dgram %02d" % i for i in range(n)]
    for d in sent:
        c.send(d)
    done = emu.wait_stats(lambda s: s["c2t"]["units_in"] == n and settled(s["c2t"]) and
                          s["t2c"]["units_in"] == s["c2t"]["units_out"] and settled(s["t2c"]))
    assert done, "the emulator never settled the burst"
    # Exactly what the emulator wrote each way.
    back = [c.recv(65536) for _ in range(done["t2c"]["units_out"])]
    rx = peer.wait(done["c2t"]["units_out"])
    st = emu.stop()
    tr = emu.trace()
    peer.close()
    c.close()
    return sent, rx, back, st, tr


def test_udp_loss():
    sent, rx, back, st, _ = udp_burst(["--loss", "1,0"])
    assert rx == [] and back == [] and st["c2t"]["dropped"] == len(sent)
    sent, rx, back, st, _ = udp_burst(["--loss", "0,1"])
    assert rx == sent and back == [] and st["t2c"]["dropped"] == len(sent)
    sent, rx, back, st, tr = udp_burst(["--loss", "0.4,0", "--seed", "11"])
    assert len(rx) == len(sent) - st["c2t"]["dropped"] and 0 < len(rx) < len(sent)
    assert rx == [d for d in sent if d in rx], "order changed"
    lost = [r["unit"] for r in tr if r["dir"] == "c2t" and r.get("dropped")]
    assert rx == [d for i, d in enumerate(sent) if i not in lost]
    _, rx2, _, _, _ = udp_burst(["--loss", "0.4,0", "--seed", "11"])
    assert rx2 == rx, "same seed, different losses"


def test_udp_dup():
    sent, rx, back, st, tr = udp_burst(["--dup", "1,0"])
    assert rx == [d for d in sent for _ in (0, 1)], rx
    assert st["c2t"]["duplicated"] == len(sent) and st["c2t"]["units_out"] == 2 * len(sent)
    assert len(back) == 2 * len(sent) and st["t2c"]["duplicated"] == 0
    c2t = [r for r in tr if r["dir"] == "c2t"]
    assert [(r["unit"], r.get("copy", 0)) for r in c2t] == [(i, k) for i in range(len(sent)) for k in (0, 1)]


def test_udp_reorder():
    # A hold far longer than any stall: each held datagram is overtaken by the
    # next one, whenever it comes: 1 0 3 2 5 4 ...
    sent, rx, back, st, tr = udp_burst(["--reorder", "1,0", "--reorder-hold", "600000"], n=10)
    expect = [sent[i ^ 1] for i in range(10)]
    assert rx == expect, rx
    assert st["c2t"]["reordered"] == 5
    c2t = {r["unit"]: r for r in tr if r["dir"] == "c2t"}
    for i in range(0, 10, 2):
        held, next_ = c2t[i], c2t[i + 1]
        assert held["reordered"] and held["held"] == held["wire"] + 600000 * MS, held
        assert held["due"] == next_["due"] and held["out"] >= next_["out"], (held, next_)
    # A datagram held with nobody behind it is due exactly the hold time after
    # it would have been, and is not counted as reordered.
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--reorder", "1,0", "--reorder-hold", "150")
    c.send(b"alone")
    assert c.recv(100) == b"alone"
    st = emu.stop()
    (r,) = emu.trace("c2t")
    peer.close()
    c.close()
    assert st["c2t"]["reordered"] == 0 and not r.get("reordered")
    assert r["held"] == r["due"] == r["in"] + 150 * MS, r


def test_udp_latency_jitter():
    seed, lat, jit, back_lat = 2, 60, 10, 40
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--latency", "%d,%d" % (lat, back_lat), "--jitter", "%d,0" % jit,
                     "--seed", str(seed))
    for i in range(10):
        c.send(b"ping %d" % i)
        assert c.recv(100) == b"ping %d" % i
    emu.stop()
    c2t, t2c = in_order(emu.trace("c2t")), in_order(emu.trace("t2c"))
    peer.close()
    c.close()
    # c2t: the seeded jitter draw of each datagram (the 4th number of its
    # direction's stream: loss, dup, reorder, jitter), never reordering.
    rng = Rng(seed * 2)
    last, offsets = 0, []
    for r in c2t:
        for _ in range(3):
            rng.next()
        j = int((rng.unit() * 2.0 - 1.0) * (jit * MS))
        due = r["wire"] if j < 0 and -j > lat * MS else r["wire"] + lat * MS + j
        due = max(due, last)
        last = due
        assert r["due"] == due, (r, due)
        assert r["wire"] + (lat - jit) * MS <= r["due"] <= r["wire"] + (lat + jit) * MS, r
        offsets.append(r["due"] - r["wire"])
    assert len(set(offsets)) > 1, "jitter had no effect: %r" % offsets
    # t2c: latency only
    assert all(r["due"] == r["wire"] + back_lat * MS for r in t2c), t2c


def test_udp_rate():
    rate, n, size = 20000, 20, 1000
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--rate", "%d,0" % rate)
    for i in range(n):
        c.send(bytes([i]) * size)
    rx = peer.wait(n)
    emu.stop()
    c2t = in_order(emu.trace("c2t"))
    peer.close()
    c.close()
    assert rx == [bytes([i]) * size for i in range(n)]
    pacer = Pacer(rate)
    for r in c2t:
        assert r["wire"] == pacer.add(r["in"], size) and r["due"] == r["wire"], r
    # Sent at once, read long before the link (1 s of it) is free: one busy
    # period of exactly n*size/rate.
    if all(r["in"] < p["wire"] for p, r in zip(c2t, c2t[1:])):
        assert c2t[-1]["wire"] - c2t[0]["in"] == n * size * NS // rate


def test_udp_never_early():
    """Due times 0.2 ms apart, closer than the emulator's wake-ups (--tick-us
    500): each wake-up writes a batch, and none of it before its time."""
    rate, n, size = 100000, 200, 20
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--rate", "%d,%d" % (rate, rate), "--latency", "3")
    for i in range(n):
        c.send(b"%020d" % i)
    rx = peer.wait(n)
    back = [c.recv(100) for _ in range(n)]
    emu.stop()
    tr = emu.trace()  # checks out >= due for every datagram
    peer.close()
    c.close()
    assert rx == back == [b"%020d" % i for i in range(n)]
    for d in ("c2t", "t2c"):
        pacer = Pacer(rate)
        for r in in_order([r for r in tr if r["dir"] == d]):
            assert r["wire"] == pacer.add(r["in"], size) and r["due"] == r["wire"] + 3 * MS, r


# ------------------------------------------------------------------- ble


def limit_bps(pkt, resp, pipelined, *ble):
    out = subprocess.run([EMU, "limits", "--pkt", str(pkt), "--overhead", "0", "--resp", str(resp), *ble],
                         capture_output=True, text=True, check=True, timeout=PATIENCE).stdout
    line = [l for l in out.splitlines() if l.startswith("BLE")][0]
    f = line.split()  # ... STOPWAIT KiB/s PIPELINED KiB/s
    return float(f[-2] if pipelined else f[-4]) * 1024


BLE = ["--mtu", "247", "--interval", "15", "--pdus", "4", "--phy", "2M"]
MTU, INTERVAL, PDUS, PHY, LL_MAX = 247, 15 * MS, 4, 2, 251
TIFS = 150000


def air_ns(payload):
    return ((2 if PHY == 2 else 1) + 4 + 2 + payload + 3) * 8 * 1000 // PHY


def packet_pdus(n):
    """LL payload sizes carrying an SMP packet of n bytes."""
    sizes = []
    for off in range(0, n, MTU - 3):
        l2 = min(n - off, MTU - 3) + 7
        while l2:
            sizes.append(min(l2, LL_MAX))
            l2 -= sizes[-1]
    return sizes


def ble_model(units):
    """The connection event schedule (docs/linkemu.md, BLE model) for the
    datagrams {dir: [(ble_in, bytes), ...]} in FIFO order: event k at
    k*interval carries, alternating central and peripheral, at most PDUS data
    PDUs per side of data that was in the stage by then. Returns {dir: [dict
    of pdu0, pdus, ev0, ev1, due]}."""
    q = {d: [[t, packet_pdus(n), {"pdus": 0}] for t, n in units[d]] for d in ("c2t", "t2c")}
    done = {d: [] for d in q}
    count = {"c2t": 0, "t2c": 0}
    k = None
    while q["c2t"] or q["t2c"]:
        heads = [q[d][0][0] for d in q if q[d]]
        k = max(0 if k is None else k + 1, min(-(-t // INTERVAL) for t in heads))
        t_ev, el, n = k * INTERVAL, 0, {"c2t": 0, "t2c": 0}
        while True:
            p = {}
            for d in q:
                h = q[d][0] if q[d] else None
                ready = h and (h[2]["pdus"] or h[0] <= t_ev) and n[d] < PDUS
                p[d] = h[1][0] if ready else 0
            if not p["c2t"] and not p["t2c"]:
                break
            a0, a1 = air_ns(p["c2t"]), air_ns(p["t2c"])
            if el + a0 + a1 + 2 * TIFS > INTERVAL:
                break
            arrive = {"c2t": t_ev + el + a0, "t2c": t_ev + el + a0 + TIFS + a1}
            for d in q:
                if not p[d]:
                    continue
                h = q[d][0]
                r = h[2]
                if not r["pdus"]:
                    r.update(pdu0=count[d], ev0=k)
                r["pdus"] += 1
                r["ev1"] = k
                count[d] += 1
                n[d] += 1
                h[1].pop(0)
                if not h[1]:
                    r["due"] = arrive[d]
                    done[d].append(r)
                    q[d].pop(0)
            el += a0 + a1 + 2 * TIFS
    return done


def check_ble(tr):
    """Every carried datagram got exactly the PDUs, events and arrival time
    the model gives the datagrams as they entered the BLE stage."""
    recs = {d: [r for r in tr if r["dir"] == d and not r.get("copy") and not r.get("dropped")]
            for d in ("c2t", "t2c")}
    model = ble_model({d: [(r["ble_in"], r["bytes"]) for r in recs[d]] for d in recs})
    for d in recs:
        for r, m in zip(recs[d], model[d]):
            got = {k: r[k] for k in ("pdu0", "pdus", "ev0", "ev1", "due")}
            assert got == m, (d, r, m)
        assert len(recs[d]) == len(model[d])
    return recs


def test_ble_stream():
    peer = UdpPeer()
    emu, c = udp_emu(peer, *BLE, mode="ble")
    n, size = 20, 2048
    sent = [bytes([i]) * size for i in range(n)]
    for d in sent:
        c.send(d)
    rx = peer.wait(n)
    # The echoes too: a unit still inside the emulator at the end has no
    # trace line, yet took its share of connection events.
    back = [c.recv(65536) for _ in range(n)]
    st = emu.stop()
    recs = check_ble(emu.trace())
    peer.close()
    c.close()
    assert rx == sent and back == sent
    # 2048 B = 8 fragments of 244 + one of 96; each fits one LL PDU (251).
    assert st["c2t"]["ble_pdus"] == 9 * n and all(r["pdus"] == 9 for r in recs["c2t"]), st["c2t"]
    # When every datagram was in before the first event (the usual case),
    # each event carries exactly 4 PDUs: 9 PDUs -> PDU p in event ev0+p//4.
    c2t = recs["c2t"]
    if all(r["ble_in"] <= c2t[0]["ev0"] * INTERVAL for r in c2t):
        assert [r["ev1"] - c2t[0]["ev0"] for r in c2t] == [(9 * (i + 1) - 1) // 4 for i in range(n)]
    # The model streaming saturated agrees with `smpdfu-linkemu limits`.
    m = ble_model({"c2t": [(0, size)] * n, "t2c": []})["c2t"]
    virtual = (n - 1) * size / ((m[-1]["due"] - m[0]["due"]) / NS)
    limit = limit_bps(size, 0, True, *BLE)
    print("  ble stream: %.0f B/s on the model's clock, limit %.0f B/s" % (virtual, limit))
    assert abs(virtual / limit - 1) < 0.02, (virtual, limit)


def test_ble_stop_and_wait():
    peer = UdpPeer(reply=b"r" * 20)
    emu, c = udp_emu(peer, *BLE, mode="ble")
    n, size = 11, 2048
    for _ in range(n):
        c.send(b"q" * size)
        assert c.recv(100) == b"r" * 20
    st = emu.stop()
    recs = check_ble(emu.trace())
    peer.close()
    c.close()
    assert st["t2c"]["ble_pdus"] == n and st["c2t"]["ble_pdus"] == 9 * n
    # A request takes 3 events (4 + 4 + 1 PDUs); its answer, in the stage only
    # after the request's last PDU arrived, goes in a later event.
    for q, a in zip(recs["c2t"], recs["t2c"]):
        assert q["ev1"] - q["ev0"] == 2 and a["ev0"] > q["ev1"] and a["pdus"] == 1, (q, a)
    # With an answer in the very next event and the next request in the one
    # after, the model gives the limit's cycle of 4 events exactly.
    limit = limit_bps(size, 20, False, *BLE)
    assert abs(limit / (size / (4 * INTERVAL / NS)) - 1) < 1e-3, limit  # printed to 0.01 KiB/s


# ------------------------------------------------------------------ main


def main():
    tests = [(k, v) for k, v in globals().items() if k.startswith("test_") and callable(v)]
    passed = failed = 0
    for name, fn in tests:
        t = time.monotonic()
        try:
            fn()
        except Exception as e:  # report and go on
            failed += 1
            print("FAIL %s: %r" % (name, e))
            import traceback
            traceback.print_exc()
        else:
            passed += 1
            print("ok   %s (%.2f s)" % (name, time.monotonic() - t))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
