# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the client end-to-end tests: run a real smpdfu-target
process, build images with scripts/mkimage.py, run the smpdfu CLI."""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tools import BUILD, MKIMAGE, SMPDFU, SOURCE, TARGET, make_image, wait_blocked_in_poll  # noqa: E402,F401

# Only ends a wait for something that is not coming (a test that already failed).
PATIENCE = 60


def is_reboot(line):
    """The target's last log line of a reset (after the boot emulation)."""
    return line in ("reset: application running", "reset: halted")


class Target:
    """One smpdfu-target process; its stderr request log is collected."""

    def __init__(self, tmpdir, args=(), flash=None):
        self.tmpdir = tmpdir
        self.flash = flash or os.path.join(tmpdir, "flash.bin")
        self.args = list(args)
        self.proc = None
        self.log = []
        self.cond = threading.Condition()
        self.drain = None
        self.udp_port = None
        self.pty = None

    def start(self, udp="127.0.0.1:0", serial=False, raw=False, timeout=PATIENCE):
        cmd = [TARGET, "--flash", self.flash] + self.args
        if udp:
            cmd += ["--udp", udp]
        if raw:
            cmd += ["--raw-uart"]
        elif serial:
            cmd += ["--serial"]
        # Unbuffered stdout: select() must see every line the target prints.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        with self.cond:
            self.log = []
        self.drain = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
        self.drain.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if not r:
                if self.proc.poll() is not None:
                    break
                continue
            line = self.proc.stdout.readline().decode().strip()
            if line.startswith("udp: "):
                self.udp_port = int(line.rsplit(":", 1)[1])
            elif line.startswith("serial: "):
                self.pty = line[8:]
            elif line == "ready":
                return self
            elif not line and self.proc.poll() is not None:
                break
        raise RuntimeError("target did not start: %s" % "\n".join(self.lines()))

    def _drain(self, proc):
        for line in proc.stderr:
            with self.cond:
                self.log.append(line.decode(errors="replace").rstrip())
                self.cond.notify_all()

    def lines(self):
        """The request log so far. It may lag what the target has done: use
        sync() or wait_lines() first, or read it after the target exited."""
        with self.cond:
            return list(self.log)

    def wait_lines(self, pred, count=1, timeout=PATIENCE):
        """Wait until `count` log lines satisfy pred; returns the log."""
        with self.cond:
            if not self.cond.wait_for(lambda: sum(1 for l in self.log if pred(l)) >= count, timeout):
                raise AssertionError("target never logged the line awaited; log: %s" % "\n".join(self.log[-30:]))
            return list(self.log)

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
        if kind == "udp":
            return "udp:127.0.0.1:%d" % self.udp_port
        if kind == "raw":
            return "serial:%s,raw" % self.pty
        return "serial:%s" % self.pty

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            if sig != signal.SIGKILL:
                wait_blocked_in_poll(self.proc.pid)
            self.proc.send_signal(sig)
            self.proc.wait(PATIENCE)
        if self.drain:
            self.drain.join(PATIENCE)  # the whole log is in lines() once it exits

    def stop(self):
        self.kill(signal.SIGTERM)


def smpdfu(conn, *args, timeout=120, json_out=False, extra=()):
    """Run the CLI; returns (exit status, stdout, stderr)."""
    cmd = [SMPDFU] + list(extra) + (["--conn", conn] if conn else []) + (["--json"] if json_out else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def image_list(conn):
    rc, out, err = smpdfu(conn, "image", "list", json_out=True)
    if rc != 0:
        raise AssertionError("image list failed: %s" % err)
    return json.loads(out)["images"]


def slot(images, image, slot_no):
    for e in images:
        if e["image"] == image and e["slot"] == slot_no:
            return e
    return None


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


class E2ECase(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(TARGET) or not os.path.exists(SMPDFU):
            self.skipTest("smpdfu-target or smpdfu not built")
        self.tmp = tempfile.TemporaryDirectory(prefix="smpdfu-e2e-")
        self.dir = self.tmp.name
        self.targets = []

    def tearDown(self):
        for t in self.targets:
            t.stop()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def target(self, args=(), **kw):
        t = Target(self.dir, args)
        self.targets.append(t)
        return t.start(**kw)

    def assert_slot0(self, images, hash_, confirmed):
        """Image 0 slot 0 holds hash_ and is (or is not) confirmed."""
        a = slot(images, 0, 0)
        self.assertEqual(a["hash"], hash_)
        if confirmed:
            self.assertTrue(a["confirmed"])
        else:
            self.assertFalse(a["confirmed"])

    def images(self, v2_size=60000):
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1)
        self.v2_hash = make_image(self.path("v2.bin"), "2.0.0", v2_size, 2)
