"""Shared pieces of the firmware tests: find the firmware builds, run the
firmware in QEMU (qemu-system-arm, semihosting), read its report lines and
its exit status, and read a device's state with the smpdfu CLI.

The firmware is a separate cross build per board (docs/firmware.md):
  cmake -S . -B build/fw-mps2-an505 -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
        -DSMPDFU_FIRMWARE=ON -DSMPDFU_BOARD=mps2-an505
SMPDFU_FW_ROOT (default SOURCE/build) holds fw-<board>/ folders. A test is
skipped, with the command above in the message, only when no build is there.
"""
import json
import os
import queue
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tools import BUILD, LINKEMU, SMPDFU, SOURCE, TARGET, make_image  # noqa: E402,F401

BOARDS = ["mps2-an505", "mps2-an385"]
FW_ROOT = os.environ.get("SMPDFU_FW_ROOT", os.path.join(SOURCE, "build"))
QEMU = shutil.which("qemu-system-arm") or "/usr/bin/qemu-system-arm"
# A fail-safe against a hung run, not a timing assertion: every wait below
# ends on the event (a line, an exit) long before it.
LIMIT = 300


def fw_dir(board):
    return os.path.join(FW_ROOT, "fw-" + board)


def built_boards():
    return [b for b in BOARDS if os.path.exists(os.path.join(fw_dir(b), "central.elf"))]


def fw_info(board):
    with open(os.path.join(fw_dir(board), "firmware.json")) as f:
        return json.load(f)


def smpdfu(conn, *args, timeout=LIMIT, json_out=False):
    cmd = [SMPDFU] + (["--conn", conn] if conn else []) + (["--json"] if json_out else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def image_hash(path):
    rc, out, err = smpdfu(None, "image", "info", path, json_out=True)
    if rc != 0:
        raise AssertionError("image info %s: %s" % (path, err))
    info = json.loads(out)
    return info.get("image_hash") or info["hash"]


def image_list(conn):
    rc, out, err = smpdfu(conn, "image", "list", json_out=True)
    if rc != 0:
        raise AssertionError("image list over %s failed: %s" % (conn, err))
    return json.loads(out)["images"]


def slot(images, image, slot_no):
    for e in images:
        if e.get("image", 0) == image and e["slot"] == slot_no:
            return e
    return None


class Proc:
    """A child process whose stdout and stderr lines are collected in order."""

    def __init__(self, cmd, name):
        self.name = name
        self.cmd = cmd
        self.lines = []
        self.lock = threading.Lock()
        self.q = queue.Queue()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.open_streams = 2
        self.threads = [threading.Thread(target=self._drain, args=(s,), daemon=True)
                        for s in (self.proc.stdout, self.proc.stderr)]
        for t in self.threads:
            t.start()

    def _drain(self, stream):
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            with self.lock:
                self.lines.append(line)
            self.q.put(line)
        self.q.put(None)

    def log(self):
        with self.lock:
            return list(self.lines)

    def wait_line(self, pred, timeout=LIMIT, after=0):
        """The first line (seen so far or coming, from index `after` on) for
        which pred(line) is true; AssertionError when the process ends first."""
        seen = after
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                cur = list(self.lines)
            for line in cur[seen:]:
                if pred(line):
                    return line
            seen = len(cur)
            try:
                item = self.q.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("%s: no such line within %d s:\n%s" % (
                    self.name, timeout, "\n".join(self.log()[-40:])))
            if item is None:
                self.open_streams -= 1
                if self.open_streams == 0:
                    with self.lock:
                        cur = list(self.lines)
                    for line in cur[seen:]:
                        if pred(line):
                            return line
                    raise AssertionError("%s ended (status %s) before the line came:\n%s" % (
                        self.name, self.proc.wait(10), "\n".join(self.log()[-40:])))

    def wait_exit(self, timeout=LIMIT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("%s did not exit:\n%s" % (self.name, "\n".join(self.log()[-40:])))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for t in self.threads:
            t.join(10)  # EOF comes with the exit
        self.proc.stdout.close()
        self.proc.stderr.close()


def qemu_cmd(board, app, args, serial):
    """qemu-system-arm command for firmware app (central/target) on board;
    args go to the firmware as its semihosting command line; serial is a
    list of QEMU options that connect UART0 (and more)."""
    sh = "enable=on,target=native,arg=" + app + "".join(",arg=" + a for a in args)
    return [QEMU, "-M", board, "-nographic", "-monitor", "none", "-semihosting-config", sh,
            "-kernel", os.path.join(fw_dir(board), app + ".elf")] + list(serial)


def run_qemu(board, app, args, serial, name=None):
    return Proc(qemu_cmd(board, app, args, serial), name or "%s on %s" % (app, board))


class HostTarget:
    """smpdfu-target with a pty (console or raw) and a UDP port for state reads."""

    def __init__(self, tmp, args, raw=False, flash=None):
        self.flash = flash or os.path.join(tmp, "host-target.flash")
        cmd = [TARGET, "--flash", self.flash, "--udp", "127.0.0.1:0",
               "--raw-uart" if raw else "--serial", "--reset-delay-ms", "0"] + list(args)
        self.p = Proc(cmd, "smpdfu-target")
        self.p.wait_line(lambda l: l == "ready", 30)
        log = self.p.log()
        self.pty = next(l[8:] for l in log if l.startswith("serial: "))
        self.udp = "udp:127.0.0.1:" + next(l.rsplit(":", 1)[1] for l in log if l.startswith("udp: "))

    def stop(self):
        self.p.stop()


def tcp_bridge(pty_path):
    """One TCP client <-> a pty (what ser2net does): lets QEMU's UART connect
    to a TCP socket (-chardev socket,host=...,port=...). Returns (listener, port)."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    fd = os.open(pty_path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)

    def run():
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

    threading.Thread(target=run, daemon=True).start()
    return ls, ls.getsockname()[1]


class FwCase(unittest.TestCase):
    """Skips (with the build command) when no firmware is built."""

    def setUp(self):
        if os.environ.get("SMPDFU_FW_TESTS", "1") == "0":
            self.skipTest("SMPDFU_FW_TESTS=0: the firmware tests run in another pass")
        self.boards = built_boards()
        if not self.boards:
            self.skipTest("firmware not built (no %s/fw-<board>/central.elf): cmake -S . -B "
                          "build/fw-mps2-an505 -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake "
                          "-DSMPDFU_FIRMWARE=ON -DSMPDFU_BOARD=mps2-an505 && cmake --build "
                          "build/fw-mps2-an505" % FW_ROOT)
        for exe in (TARGET, SMPDFU):
            if not os.path.exists(exe):
                self.skipTest("%s not built" % exe)
        self.tmpd = tempfile.TemporaryDirectory(prefix="smpdfu-fw-")
        self.tmp = self.tmpd.name
        self.procs = []

    def tearDown(self):
        failed = self._failed()
        for p in reversed(self.procs):
            p.stop()
            if failed:
                sys.stderr.write("--- %s\n%s\n" % (p.name, "\n".join(p.log()[-60:])))
        self.tmpd.cleanup()

    def _failed(self):
        res = getattr(self, "_outcome", None)
        result = getattr(res, "result", None)
        errs = getattr(result, "errors", []) + getattr(result, "failures", [])
        return any(t is self for t, _ in errs)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def track(self, p):
        self.procs.append(p.p if isinstance(p, HostTarget) else p)
        return p

    def assert_slot0(self, images, hash_, confirmed=True, image=0):
        s0 = slot(images, image, 0)
        self.assertIsNotNone(s0, images)
        self.assertEqual(s0["hash"], hash_)
        self.assertEqual(bool(s0.get("confirmed")), confirmed, images)
