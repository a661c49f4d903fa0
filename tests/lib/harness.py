# SPDX-License-Identifier: Apache-2.0
"""The one helper module of the Python tests (and of bench/) for processes
and images:

- where things are: SOURCE, BUILD (the env variables SMPDFU_SOURCE and
  SMPDFU_BUILD that CTest sets for every Python test; else this checkout
  and its build/), tool(name), SMPDFU, TARGET, LINKEMU, MKIMAGE;
- make_image(): an MCUboot image through scripts/mkimage.py, as an Image;
- smpdfu() / run() / image_list() / slot() / reset(): the CLI as a user runs it;
- Proc: any child process, its stdout and stderr lines collected by a
  thread (stderr first); waits end on a line or on the exit, never on a time;
- Target: smpdfu-target on a flash file (UDP, console or raw pty), its
  request log, sync() and stop() (after wait_blocked_in_poll());
- Relay (UDP, drops by content), tcp_bridge (a pty over TCP) and
  NoiseBridge (header-shaped noise on a raw UART): what tests put between
  the CLI and the device;
- Case: a unittest.TestCase that prints its processes' logs when it failed,
  told by the public result object; main(): unittest.main and the closing
  "N passed, M failed" line; Tally: the same line for scripts that count
  their own checks.
"""
import hashlib
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import tty
import unittest

SOURCE = os.environ.get("SMPDFU_SOURCE") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("SMPDFU_BUILD") or os.path.join(SOURCE, "build")
MKIMAGE = os.path.join(SOURCE, "scripts", "mkimage.py")

# Only ends a wait for something that is not coming (a test that already failed).
PATIENCE = 60


def tool(name):
    """Path of a built program (smpdfu, smpdfu-target, a tests/progs helper)."""
    return os.path.join(BUILD, name)


SMPDFU = tool("smpdfu")
TARGET = tool("smpdfu-target")
LINKEMU = tool("smpdfu-linkemu")


# ---------------------------------------------------------------- images

class Image:
    """An image make_image() wrote: path, version, data (the file's bytes),
    hash (the image hash in hex, as `image list` shows it), image_hash (the
    same as bytes, as the device sends it) and sha (SHA-256 of the file)."""

    def __init__(self, path, version, data, image_hash):
        self.path = path
        self.version = version
        self.data = data
        self.image_hash = image_hash
        self.hash = image_hash.hex()
        self.sha = hashlib.sha256(data).digest()


def make_image(path, version="1.0.0", payload_size=4096, seed=0, extra=()):
    """Build an MCUboot image with scripts/mkimage.py sign (a payload of
    payload_size bytes drawn from seed; extra: more sign options)."""
    out = subprocess.run([sys.executable, MKIMAGE, "sign", "--version", version, "--payload-size",
                          str(payload_size), "--seed", str(seed), "--json"] + list(extra) + [path],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    for k in ("image_hash", "hash"):
        if k in info:
            with open(path, "rb") as f:
                return Image(path, version, f.read(), bytes.fromhex(info[k]))
    raise KeyError("no image hash in mkimage --json output: %r" % info)


# ------------------------------------------------------------------- CLI

def smpdfu(conn, *args, timeout=120, json_out=False, extra=(), env=None):
    """Run the CLI (--conn conn unless None, --json if json_out; extra:
    options before them); returns (exit status, stdout, stderr)."""
    cmd = [SMPDFU] + list(extra) + (["--conn", conn] if conn else []) + (["--json"] if json_out else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def run(cmd, timeout=60, env=None):
    """Run any command to its end; returns (exit status, stdout, stderr)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def image_list(conn, timeout=120):
    """`image list` of the device on conn (its "images" array)."""
    rc, out, err = smpdfu(conn, "image", "list", json_out=True, timeout=timeout)
    if rc != 0:
        raise AssertionError("image list over %s failed: %s" % (conn, err))
    return json.loads(out)["images"]


def slot(images, image, slot_no):
    """The entry of images for (image, slot_no), or None."""
    for e in images:
        if e.get("image", 0) == image and e["slot"] == slot_no:
            return e
    return None


def smp_hdr(d):
    """(op, group, id) of an SMP packet."""
    op, _flags, _len, group, _seq, cid = struct.unpack(">BBHHBB", d[:8])
    return op & 7, group, cid


# ------------------------------------------------------------- processes

def wait_blocked_in_poll(pid, timeout=PATIENCE):
    """Wait until process pid sleeps in poll(), its idle state, before a
    stop signal is sent to it. smpdfu-target checks its stop flag before an
    unbounded poll(): a SIGTERM that lands between the two is not seen until
    something else wakes it. Sent while it is blocked in poll(), the signal
    always ends it. Linux /proc only; elsewhere this returns at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/wchan" % pid) as f:
                wchan = f.read()
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return  # gone, or no /proc
        if state in ("Z", "X"):
            return  # already exited
        if state != "S" or "poll" not in wchan:
            if wchan in ("", "0") and state == "S":
                return  # wchan hidden: cannot tell, do not wait
            time.sleep(0.001)  # polling a state, not waiting for a time to pass
            continue
        return


class Proc:
    """A child process. A thread collects its stdout lines (out), its stderr
    lines (err) and both in the order they came (lines). It reads stderr
    before stdout: what the child wrote to stderr before a stdout line (a
    boot log before 'ready') is in err once that line is in out. Every wait
    ends on a line or on the end of the output; patience (PATIENCE unless
    given) only bounds a wait for what is not coming. A process that
    announces itself prints 'key: value' lines and then 'ready' on stdout:
    wait_ready() reads them into info."""

    def __init__(self, cmd, name=None, env=None, stdin=subprocess.DEVNULL, patience=PATIENCE):
        self.cmd = list(cmd)
        self.patience = patience
        self.name = name or os.path.basename(cmd[0])
        self.out, self.err, self.lines = [], [], []
        self.info = {}
        self.cond = threading.Condition()
        self.open = 2
        self.p = subprocess.Popen(self.cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.pid = self.p.pid
        self.readers = [threading.Thread(target=self._read, daemon=True)]
        for th in self.readers:
            th.start()

    def _read(self):
        err, out = self.p.stderr.fileno(), self.p.stdout.fileno()
        into = {err: self.err, out: self.out}
        buf = {err: b"", out: b""}
        live = [err, out]

        def take(fd):
            data = os.read(fd, 65536)
            buf[fd] += data
            *done, buf[fd] = buf[fd].split(b"\n")
            if not data:
                done, buf[fd] = done + ([buf[fd]] if buf[fd] else []), b""
                live.remove(fd)
            with self.cond:
                for raw in done:
                    line = raw.decode(errors="replace").rstrip()
                    into[fd].append(line)
                    self.lines.append(line)
                if not data:
                    self.open -= 1
                self.cond.notify_all()

        while live:
            r, _, _ = select.select(live, [], [])
            if err in r or out in r and err in live:
                # All that stderr holds, before stdout: it was written before this stdout line.
                while err in live and select.select([err], [], [], 0)[0]:
                    take(err)
            if out in r:
                take(out)

    def log(self, stream="lines"):
        """A copy of the lines so far ("out", "err" or both: "lines")."""
        with self.cond:
            return list(getattr(self, stream))

    def wait_index(self, pred, stream="lines", after=0, count=1, timeout=None):
        """Index of the count-th line of stream (from index after on) for
        which pred(line) is true; None when the output ended (the process
        exited) or timeout passed first."""
        deadline = time.monotonic() + (self.patience if timeout is None else timeout)
        seen, found = after, 0
        with self.cond:
            while True:
                lines = getattr(self, stream)
                for i in range(seen, len(lines)):
                    if pred(lines[i]):
                        found += 1
                        if found >= count:
                            return i
                seen = len(lines)
                left = deadline - time.monotonic()
                if self.open == 0 or left <= 0:
                    return None
                self.cond.wait(left)

    def wait_line(self, pred, stream="lines", after=0, count=1, timeout=None):
        """The line wait_index() finds; AssertionError, with the log, when it
        does not come."""
        i = self.wait_index(pred, stream, after, count, timeout)
        if i is None:
            raise AssertionError("%s: the line awaited did not come (%s):\n%s" % (
                self.name, "exit status %s" % self.p.poll() if self.open == 0 else "still running",
                "\n".join(self.log()[-40:])))
        return getattr(self, stream)[i]

    def wait_match(self, pattern, after=0, timeout=None):
        """(index, match) of the first stdout line from index after on that
        the regular expression pattern matches."""
        rx = re.compile(pattern)
        i = self.wait_index(rx.search, "out", after, timeout=timeout)
        if i is None:
            raise AssertionError("%s: no line matching %r:\n%s" % (self.name, pattern, "\n".join(self.log()[-40:])))
        return i, rx.search(self.out[i])

    def wait_ready(self, timeout=None):
        """Wait for the 'ready' line; the 'key: value' lines before it go to info."""
        i = self.wait_index(lambda l: l.strip() == "ready", "out", timeout=timeout)
        if i is None:
            self.kill()
            raise RuntimeError("%s did not get ready: %s" % (self.name, "\n".join(self.err)))
        for line in self.out[:i]:
            k, _, v = line.strip().partition(": ")
            self.info[k] = v
        return self

    def poll(self):
        """Its exit status, None while it runs."""
        return self.p.poll()

    @property
    def returncode(self):
        return self.p.returncode

    def send_signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def wait_exit(self, timeout=None):
        """The exit status; the process is killed and AssertionError raised
        when it does not end."""
        try:
            rc = self.p.wait(self.patience if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not exit:\n%s" % (self.name, "\n".join(self.log()[-40:])))
        self._join()
        return rc

    def stop(self, sig=signal.SIGTERM, idle=False, timeout=PATIENCE):
        """Send sig (after waiting for the process to block in poll() when
        idle, see wait_blocked_in_poll) unless it has exited; wait for the
        exit (SIGKILL if sig did not end it) and for the rest of its output.
        Returns the exit status."""
        if self.p.poll() is None:
            if idle and sig != signal.SIGKILL:
                wait_blocked_in_poll(self.p.pid)
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout)
        self._join()
        return self.p.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def _join(self):
        # The readers end at EOF, which comes with the exit: then the lists hold every line.
        for th in self.readers:
            th.join(PATIENCE)
        for s in (self.p.stdout, self.p.stderr):
            s.close()


class Target:
    """smpdfu-target on a flash file (tmpdir/flash.bin unless flash), with
    --udp udp (None: no UDP), --serial or --raw-uart; args go first. start()
    (again after a stop: the same flash) reads its udp:/serial: lines;
    its stderr request log is `log` (the current run's lines)."""

    def __init__(self, tmpdir, args=(), flash=None, udp="127.0.0.1:0", serial=False, raw=False):
        self.tmpdir = tmpdir
        self.flash = flash or os.path.join(tmpdir, "flash.bin")
        self.args = list(args)
        self.udp, self.serial, self.raw = udp, serial, raw
        self.proc = None
        self.udp_addr = self.udp_port = self.pty = None

    def start(self, timeout=PATIENCE, **transport):
        """Start it (udp=, serial=, raw= given here replace the constructor's)
        and wait for its ready line; returns self."""
        for k, v in transport.items():
            if k not in ("udp", "serial", "raw"):
                raise TypeError("Target.start: no option %r" % k)
            setattr(self, k, v)
        cmd = [TARGET, "--flash", self.flash] + self.args
        if self.udp:
            cmd += ["--udp", self.udp]
        if self.raw:
            cmd += ["--raw-uart"]
        elif self.serial:
            cmd += ["--serial"]
        self.proc = Proc(cmd, "smpdfu-target")
        self.proc.wait_ready(timeout)
        self.udp_addr = self.udp_port = self.pty = None
        if "udp" in self.proc.info:
            host, port = self.proc.info["udp"].rsplit(":", 1)
            self.udp_addr = (host.strip("[]"), int(port))
            self.udp_port = int(port)
        self.pty = self.proc.info.get("serial")
        return self

    @property
    def log(self):
        """This run's request log (stderr lines), as the reader has it so far."""
        return self.proc.err if self.proc else []

    def lines(self):
        """A copy of the request log so far. It may lag what the target has
        done: use sync() or wait_lines() first, or read it after the exit."""
        return self.proc.log("err")

    def wait_lines(self, pred, count=1, timeout=PATIENCE):
        """Wait until count log lines satisfy pred; returns the log."""
        if self.proc.wait_index(pred, "err", count=count, timeout=timeout) is None:
            raise AssertionError("target never logged the line awaited; log: %s" % "\n".join(self.lines()[-30:]))
        return self.lines()

    def wait_log(self, text, timeout=PATIENCE):
        """Wait until a log line contains text (True), or give up (False)."""
        return self.proc.wait_index(lambda l: text in l, "err", timeout=timeout) is not None

    def sync(self, conn):
        """A barrier: an `os echo` request, then wait until the target has
        logged it. The target logs requests in order, so every line of every
        earlier request is in lines() afterwards."""
        is_echo = lambda l: l.startswith("[") and " os echo " in l  # noqa: E731
        before = sum(1 for l in self.lines() if is_echo(l))
        rc, _, err = smpdfu(conn, "os", "echo", "sync")
        if rc != 0:
            raise AssertionError("sync echo failed: %s" % err)
        return self.wait_lines(is_echo, before + 1)

    def resets(self):
        """Resets the target has finished (its reboot logged)."""
        return sum(1 for l in self.lines() if is_reboot(l))

    def conn(self, kind="udp"):
        """--conn for the CLI: "udp", "serial" (console) or "raw"."""
        if kind == "udp":
            return "udp:127.0.0.1:%d" % self.udp_port
        if kind == "raw":
            return "serial:%s,raw" % self.pty
        return "serial:%s" % self.pty

    def stop(self, sig=signal.SIGTERM):
        """Stop it (SIGTERM once it idles in poll()); its exit status."""
        return self.proc.stop(sig, idle=True) if self.proc else None

    def kill(self):
        return self.stop(signal.SIGKILL)


def is_reboot(line):
    """The target's last log line of a reset (after the boot emulation)."""
    return line in ("reset: application running", "reset: halted")


def reset(target, conn):
    """`os reset`, then wait for the target to log the end of its reboot (not
    a time: the target answers the reset first and reboots after its reset
    delay); returns `image list` of the rebooted device."""
    before = target.resets()
    rc, _, err = smpdfu(conn, "os", "reset")
    if rc != 0:
        raise AssertionError("os reset failed: %s" % err)
    target.wait_lines(is_reboot, before + 1)
    return image_list(conn)


def final_stats(lines):
    """smpdfu-linkemu's 'stats final DIR k=v ...' lines -> {dir: {k: int}}."""
    st = {}
    for line in lines:
        w = line.split()
        if len(w) > 3 and w[0] == "stats" and w[1] == "final":
            st[w[2]] = {k: int(v) for k, v in (x.split("=") for x in w[3:])}
    return st


# ------------------------------------------------- things between the two

class Relay:
    """UDP relay client <-> target port. drop(direction, datagram) decides
    per datagram (direction "c2t" or "t2c"); a dropped one is never
    delivered. port: where the client sends."""

    def __init__(self, target_port, drop):
        self.drop = drop
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.bind(("127.0.0.1", 0))
        self.down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.down.connect(("127.0.0.1", target_port))
        self.port = self.up.getsockname()[1]
        self.client = None
        self.stop_r, self.stop_w = os.pipe()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while True:
            r, _, _ = select.select([self.up, self.down, self.stop_r], [], [])
            if self.stop_r in r:
                return
            if self.up in r:
                d, self.client = self.up.recvfrom(65536)
                if not self.drop("c2t", d):
                    self.down.send(d)
            if self.down in r:
                try:
                    d = self.down.recv(65536)
                except ConnectionRefusedError:
                    continue
                if self.client and not self.drop("t2c", d):
                    self.up.sendto(d, self.client)

    def close(self):
        os.write(self.stop_w, b"x")
        self.th.join(5)
        for s in (self.up, self.down):
            s.close()
        os.close(self.stop_r)
        os.close(self.stop_w)


def tcp_bridge(pty_path):
    """One TCP client at a time <-> a pty (what ser2net does): a UART over
    TCP for the CLI's tcp: connection or QEMU's -chardev socket. Returns
    (listening socket, port); closing the socket ends it."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    fd = os.open(pty_path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)

    def serve():
        while True:
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            with conn:
                while True:
                    r, _, _ = select.select([conn, fd], [], [])
                    if conn in r:
                        data = conn.recv(4096)
                        if not data:
                            break
                        os.write(fd, data)
                    if fd in r:
                        conn.sendall(os.read(fd, 4096))

    threading.Thread(target=serve, daemon=True).start()
    return ls, ls.getsockname()[1]


# v1 write response header announcing 256 bytes: what a burst of line noise
# looks like at its worst (a plausible header that swallows what follows).
NOISE = bytes([0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x42, 0x00])


class NoiseBridge:
    """client <-> a pty pair of ours (path) <-> the target's pty, for raw
    UART. Before forwarding a write of the client: with first, a burst of
    noise goes to the client before the first write only; then, with
    probability p each (random.Random(seed)), a burst goes to the client and
    another to the target. bursts counts them."""

    def __init__(self, target_pty, p=0.0, seed=0, first=False, noise=NOISE):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.dev = os.open(target_pty, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.dev)
        self.p, self.rng, self.first, self.noise = p, random.Random(seed), first, noise
        self.bursts = 0
        self.stop_r, self.stop_w = os.pipe()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while True:
            r, _, _ = select.select([self.master, self.dev, self.stop_r], [], [])
            if self.stop_r in r:
                return
            try:
                if self.master in r:
                    try:
                        data = os.read(self.master, 4096)
                    except OSError:
                        data = b""  # the client closed its side: wait for the next one
                    if data:
                        if self.first and self.bursts == 0:
                            os.write(self.master, self.noise)
                            self.bursts += 1
                        if self.rng.random() < self.p:
                            os.write(self.master, self.noise)
                            self.bursts += 1
                        if self.rng.random() < self.p:
                            os.write(self.dev, self.noise)
                            self.bursts += 1
                        os.write(self.dev, data)
                if self.dev in r:
                    os.write(self.master, os.read(self.dev, 4096))
            except OSError:
                return  # the target went away (restart): this bridge is done

    def close(self):
        os.write(self.stop_w, b"x")
        self.th.join(5)
        for fd in (self.master, self.slave, self.dev, self.stop_r, self.stop_w):
            os.close(fd)


# ------------------------------------------------------------------ tests

class Tally:
    """The checks of a test script that counts them itself: check() counts
    one (printing "FAIL: what" when cond is false); summary() prints
    "N passed, M failed" and returns the exit status."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def main():
    """unittest.main for a test file, then the closing line CTest's summary
    reads ("N passed, M failed", skipped tests in neither); exits 1 on a
    failure."""
    r = unittest.main(exit=False, verbosity=2).result
    bad = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - bad - len(r.skipped), bad))
    sys.exit(1 if bad else 0)


class Case(unittest.TestCase):
    """A test that runs processes. run() learns from the result object (the
    public API: its errors and failures) whether this test failed, and then
    prints the last lines of every process it tracked (track())."""

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        self._tracked = []
        super().run(result)
        if any(t is self for t, _ in result.errors + result.failures):
            for p in self._tracked:
                name, lines = (p.name, p.lines) if isinstance(p, Proc) else ("smpdfu-target", p.log)
                sys.stderr.write("--- %s\n%s\n" % (name, "\n".join(lines[-60:])))
        return result

    def track(self, p):
        """Keep p (a Proc or a Target) to show its log if the test fails; returns p."""
        self._tracked.append(p)
        return p
