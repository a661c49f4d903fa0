#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of smpdfu-linkemu: real process, real ptys and sockets,
with a Python peer on the target side (echo or recorder).

Env: SMPDFU_BUILD (build dir, default ./build).
"""
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import tty

BUILD = os.environ.get("SMPDFU_BUILD", "build")
EMU = os.path.join(BUILD, "smpdfu-linkemu")

# --------------------------------------------------------------- helpers


def parse_stats(lines, tag):
    stats = {}
    for line in lines:
        f = line.split()
        if len(f) > 3 and f[0] == "stats" and f[1] == tag:
            stats[f[2]] = {k: int(v) for k, v in (x.split("=") for x in f[3:])}
    return stats


class Emu:
    """smpdfu-linkemu running; .info holds the 'key: value' lines before 'ready'."""

    def __init__(self, *args):
        self.p = subprocess.Popen([EMU, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.fd = self.p.stdout.fileno()
        self.pending = b""
        self.info = {}
        while True:
            line = self.readline(5)
            if line is None:
                self.p.kill()
                raise AssertionError("emulator did not get ready: %s" % self.p.stderr.read())
            if line == "ready":
                break
            k, _, v = line.partition(": ")
            self.info[k] = v

    def readline(self, timeout):
        """One line of the emulator's stdout, or None on timeout / exit."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            r, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return None
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode().strip()

    def wait_stats(self, pred, timeout=5):
        """Wait for an interval stats pair (needs --stats-interval) for which
        pred(stats) holds; returns it, or None."""
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.readline(deadline - time.monotonic())
            if line is None:
                return None
            lines.append(line)
            st = parse_stats(lines[-2:], "interval")
            if len(st) == 2 and pred(st):
                return st
        return None

    def stop(self):
        """SIGTERM, then the final stats: {'c2t': {...}, 't2c': {...}}."""
        self.p.send_signal(signal.SIGTERM)
        out, err = self.p.communicate(timeout=5)
        out = (self.pending + out).decode()
        assert self.p.returncode == 0, "exit %d: %s" % (self.p.returncode, err)
        stats = parse_stats(out.splitlines(), "final")
        assert set(stats) == {"c2t", "t2c"}, out
        return stats


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


def read_exactly(fd, n, timeout):
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
    opens (--target-pty). Records (time, bytes) and optionally echoes."""

    def __init__(self, echo=True):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self.slave)
        self.echo = echo
        self.rx = []
        self.lock = threading.Lock()
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
            with self.lock:
                self.rx.append((time.monotonic(), data))
            if self.echo:
                os.write(self.master, data)

    def data(self):
        with self.lock:
            return b"".join(d for _, d in self.rx)

    def close(self):
        os.write(self.stop_w, b"x")
        self.t.join()
        for fd in (self.master, self.slave, self.stop_r, self.stop_w):
            os.close(fd)


class UdpPeer:
    """The target side of a datagram link: echoes (or answers with a fixed
    reply) and records (time, datagram)."""

    def __init__(self, reply=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.port = self.s.getsockname()[1]
        self.reply = reply
        self.rx = []
        self.running = True
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.s.settimeout(0.05)
        while self.running:
            try:
                data, addr = self.s.recvfrom(65536)
            except socket.timeout:
                continue
            self.rx.append((time.monotonic(), data))
            self.s.sendto(data if self.reply is None else self.reply, addr)

    def close(self):
        self.running = False
        self.t.join()
        self.s.close()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp_emu(peer, *args, mode="udp"):
    port = free_port()
    emu = Emu(mode, "--listen", "127.0.0.1:%d" % port, "--target", "127.0.0.1:%d" % peer.port, *args)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect(("127.0.0.1", port))
    c.settimeout(3)
    return emu, c


def recv_all(sock, quiet):
    got = []
    sock.settimeout(quiet)
    try:
        while True:
            got.append(sock.recv(65536))
    except socket.timeout:
        pass
    return got


# ---------------------------------------------------------------- serial


def test_serial_intact():
    peer = PtyPeer()
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "1000000")
    assert emu.info["target"] == peer.path
    fd = open_raw(emu.info["client"])
    data = bytes(random.Random(1).randrange(256) for _ in range(5000))
    os.write(fd, data)
    back = read_exactly(fd, len(data), 5)
    st = emu.stop()
    os.close(fd)
    peer.close()
    assert back == data, "echo differs (%d of %d bytes back)" % (len(back), len(data))
    assert st["c2t"]["bytes_in"] == st["c2t"]["bytes_out"] == len(data)
    assert st["t2c"]["bytes_out"] == len(data)
    assert st["c2t"]["dropped"] == st["c2t"]["flipped"] == 0


def test_serial_pair_mode():
    emu = Emu("serial", "--baud", "0")
    tfd = open_raw(emu.info["target"])
    cfd = open_raw(emu.info["client"])
    os.write(cfd, b"hello target\n")
    assert read_exactly(tfd, 13, 3) == b"hello target\n"
    os.write(tfd, b"hello client\n")
    assert read_exactly(cfd, 13, 3) == b"hello client\n"
    st = emu.stop()
    os.close(cfd)
    os.close(tfd)
    assert st["c2t"]["units_out"] == 1 and st["t2c"]["units_out"] == 1


def test_serial_pacing():
    baud = 19200  # 1920 bytes/s
    n = 1920
    peer = PtyPeer(echo=False)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", str(baud))
    fd = open_raw(emu.info["client"])
    t0 = time.monotonic()
    os.write(fd, b"U" * n)
    deadline = t0 + 5
    while len(peer.data()) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    emu.stop()
    os.close(fd)
    peer.close()
    assert len(peer.data()) == n
    first, last = peer.rx[0][0], peer.rx[-1][0]
    # The first byte is in after one byte time; n-1 more byte times to the last.
    rate = (n - 1) / (last - first)
    expected = baud / 10
    print("  serial pacing: %.0f B/s measured, %.0f configured (%.1f %%)" % (rate, expected, 100 * rate / expected))
    assert 0.80 * expected <= rate <= 1.05 * expected, rate
    total = last - t0
    assert total >= n * 10 / baud * 0.95, total


def test_serial_latency():
    peer = PtyPeer(echo=False)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "0", "--latency", "200,0")
    fd = open_raw(emu.info["client"])
    t0 = time.monotonic()
    os.write(fd, b"x\n")
    while not peer.rx and time.monotonic() < t0 + 3:
        time.sleep(0.005)
    emu.stop()
    os.close(fd)
    peer.close()
    assert peer.rx, "nothing arrived"
    dt = peer.rx[0][0] - t0
    assert 0.195 <= dt < 0.6, dt


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
    end = time.monotonic() + 3
    while peer.data().count(b"\n") < done["c2t"]["units_out"] and time.monotonic() < end:
        time.sleep(0.01)
    st = emu.stop()
    os.close(fd)
    peer.close()
    rx = peer.data()
    got = [l + b"\n" for l in rx.split(b"\n")[:-1]]
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
    back = read_exactly(fd, len(data), 5)
    st = emu.stop()
    os.close(fd)
    peer.close()
    rx = peer.data()
    assert len(rx) == len(data)
    for a, b in zip(data, rx):
        assert bin(a ^ b).count("1") == 1, (a, b)
    assert back == rx, "t2c has no flips configured but changed bytes"
    assert st["c2t"]["flipped"] == len(data) and st["t2c"]["flipped"] == 0
    # Partial probability: the count reported is the count observed.
    peer = PtyPeer(echo=False)
    emu = Emu("serial", "--target-pty", peer.path, "--baud", "0", "--flip", "0.1", "--seed", "9")
    fd = open_raw(emu.info["client"])
    os.write(fd, data)
    end = time.monotonic() + 3
    while len(peer.data()) < len(data) and time.monotonic() < end:
        time.sleep(0.02)
    st = emu.stop()
    os.close(fd)
    peer.close()
    rx = peer.data()
    observed = sum(1 for a, b in zip(data, rx) if a != b)
    assert len(rx) == len(data) and observed == st["c2t"]["flipped"] and 0 < observed < len(data)


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
    peer.close()
    c.close()
    assert got == sent
    assert st["c2t"]["units_in"] == st["c2t"]["units_out"] == st["t2c"]["units_out"] == len(sent)
    assert st["c2t"]["bytes_out"] == sum(map(len, sent))


def test_udp_listen_port_zero():
    """--listen H:0 binds a free port and prints the one bound."""
    peer = UdpPeer()
    emu = Emu("udp", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:%d" % peer.port)
    host, _, port = emu.info["listen"].rpartition(":")
    assert host == "127.0.0.1" and int(port) > 0
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect((host, int(port)))
    c.settimeout(3)
    c.send(b"port zero")
    assert c.recv(100) == b"port zero"
    emu.stop()
    peer.close()
    c.close()


def test_udp_refuses_remote():
    r = subprocess.run([EMU, "udp", "--target", "192.0.2.1:1337", "--duration", "1"],
                       capture_output=True, text=True, timeout=5)
    assert r.returncode == 2 and "loopback" in r.stdout, (r.returncode, r.stdout)


def udp_burst(args, n=20, quiet=0.4):
    peer = UdpPeer()
    emu, c = udp_emu(peer, *args)
    sent = [b"dgram %02d" % i for i in range(n)]
    for d in sent:
        c.send(d)
    back = recv_all(c, quiet)
    st = emu.stop()
    peer.close()
    c.close()
    return sent, [d for _, d in peer.rx], back, st


def test_udp_loss():
    sent, rx, back, st = udp_burst(["--loss", "1,0"])
    assert rx == [] and back == [] and st["c2t"]["dropped"] == len(sent)
    sent, rx, back, st = udp_burst(["--loss", "0,1"])
    assert rx == sent and back == [] and st["t2c"]["dropped"] == len(sent)
    sent, rx, back, st = udp_burst(["--loss", "0.4,0", "--seed", "11"])
    assert len(rx) == len(sent) - st["c2t"]["dropped"] and 0 < len(rx) < len(sent)
    assert rx == [d for d in sent if d in rx], "order changed"
    _, rx2, _, _ = udp_burst(["--loss", "0.4,0", "--seed", "11"])
    assert rx2 == rx, "same seed, different losses"


def test_udp_dup():
    sent, rx, back, st = udp_burst(["--dup", "1,0"])
    assert rx == [d for d in sent for _ in (0, 1)], rx
    assert st["c2t"]["duplicated"] == len(sent) and st["c2t"]["units_out"] == 2 * len(sent)
    assert len(back) == 2 * len(sent) and st["t2c"]["duplicated"] == 0


def test_udp_reorder():
    sent, rx, back, st = udp_burst(["--reorder", "1,0"], n=10)
    # Each held datagram is overtaken by the next one: 1 0 3 2 5 4 ...
    expect = [sent[i ^ 1] for i in range(10)]
    assert rx == expect, rx
    assert st["c2t"]["reordered"] == 5
    # A datagram held with nobody behind it goes out after the hold time.
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--reorder", "1,0", "--reorder-hold", "150")
    t0 = time.monotonic()
    c.send(b"alone")
    assert c.recv(100) == b"alone"
    dt = time.monotonic() - t0
    st = emu.stop()
    peer.close()
    c.close()
    assert 0.145 <= dt < 0.6 and st["c2t"]["reordered"] == 0, dt


def test_udp_latency_jitter():
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--latency", "60,40", "--jitter", "10,0", "--seed", "2")
    rtts = []
    for i in range(10):
        t0 = time.monotonic()
        c.send(b"ping %d" % i)
        assert c.recv(100) == b"ping %d" % i
        rtts.append(time.monotonic() - t0)
    emu.stop()
    peer.close()
    c.close()
    assert min(rtts) >= 0.090 and max(rtts) < 0.3, rtts
    assert max(rtts) - min(rtts) > 0.003, "jitter had no effect: %r" % rtts


def test_udp_rate():
    rate = 20000
    peer = UdpPeer()
    emu, c = udp_emu(peer, "--rate", "%d,0" % rate)
    n, size = 20, 1000
    for i in range(n):
        c.send(bytes([i]) * size)
    end = time.monotonic() + 4
    while len(peer.rx) < n and time.monotonic() < end:
        time.sleep(0.02)
    emu.stop()
    peer.close()
    c.close()
    assert len(peer.rx) == n
    measured = (n - 1) * size / (peer.rx[-1][0] - peer.rx[0][0])
    print("  udp rate: %.0f B/s measured, %d configured" % (measured, rate))
    assert 0.80 * rate <= measured <= 1.05 * rate, measured


# ------------------------------------------------------------------- ble


def limit_kib(pkt, resp, pipelined, *ble):
    out = subprocess.run([EMU, "limits", "--pkt", str(pkt), "--overhead", "0", "--resp", str(resp), *ble],
                         capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("BLE")][0]
    f = line.split()  # ... STOPWAIT KiB/s PIPELINED KiB/s
    return float(f[-2] if pipelined else f[-4]) * 1024


BLE = ["--mtu", "247", "--interval", "15", "--pdus", "4", "--phy", "2M"]


def test_ble_stream():
    peer = UdpPeer()
    emu, c = udp_emu(peer, *BLE, mode="ble")
    n, size = 20, 2048
    sent = [bytes([i]) * size for i in range(n)]
    for d in sent:
        c.send(d)
    end = time.monotonic() + 5
    while len(peer.rx) < n and time.monotonic() < end:
        time.sleep(0.02)
    st = emu.stop()
    peer.close()
    c.close()
    assert [d for _, d in peer.rx] == sent
    # 2048 B = 8 fragments of 244 + one of 96; each fits one LL PDU (251).
    assert st["c2t"]["ble_pdus"] == 9 * n, st["c2t"]
    measured = (n - 1) * size / (peer.rx[-1][0] - peer.rx[0][0])
    limit = limit_kib(size, 0, True, *BLE)
    print("  ble stream: %.0f B/s measured, limit %.0f B/s" % (measured, limit))
    assert 0.80 * limit <= measured <= 1.10 * limit, (measured, limit)


def test_ble_stop_and_wait():
    peer = UdpPeer(reply=b"r" * 20)
    emu, c = udp_emu(peer, *BLE, mode="ble")
    n, size = 10, 2048
    c.send(b"q" * size)
    assert c.recv(100) == b"r" * 20
    t0 = time.monotonic()
    for _ in range(n):
        c.send(b"q" * size)
        assert c.recv(100) == b"r" * 20
    dt = time.monotonic() - t0
    st = emu.stop()
    peer.close()
    c.close()
    measured = n * size / dt
    limit = limit_kib(size, 20, False, *BLE)
    print("  ble stop-and-wait: %.0f B/s measured, limit %.0f B/s" % (measured, limit))
    assert 0.80 * limit <= measured <= 1.05 * limit, (measured, limit)
    assert st["t2c"]["ble_pdus"] == n + 1


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
