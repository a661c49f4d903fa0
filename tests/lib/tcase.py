# SPDX-License-Identifier: Apache-2.0
"""unittest base for tests that drive a real smpdfu-target process."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import smp  # noqa: E402

SLOT = 64 * 1024
PAGE = 4096
BASE_ARGS = ["--slot-size", str(SLOT), "--page-size", str(PAGE), "--reset-delay-ms", "0"]


class TargetCase(harness.Case):
    target_args = []
    serial = False
    raw = False

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smpdfu-target-")
        self.v1 = harness.make_image(os.path.join(self.tmp, "v1.bin"), "1.0.0", 6000, "a")
        self.v2 = harness.make_image(os.path.join(self.tmp, "v2.bin"), "1.1.0", 9000, "b")
        self.targets = []
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for t in self.targets:
            t.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, extra=(), factory=True, flash=None, serial=None, raw=None):
        args = BASE_ARGS + list(self.target_args) + list(extra)
        if factory:
            args += ["--factory", os.path.join(self.tmp, "v1.bin")]
        t = harness.Target(self.tmp, args, flash=flash,
                           serial=self.serial if serial is None else serial,
                           raw=self.raw if raw is None else raw)
        t.start()
        self.targets.append(self.track(t))
        return t

    def client(self, t, kind="udp", timeout=smp.PATIENCE):
        c = smp.connect(t, kind, timeout)
        self.clients.append(c)
        return c

    def restart(self, t, kill=False):
        if kill:
            t.kill()
        else:
            t.stop()
        for c in self.clients:
            c.close()
        self.clients = []
        t.start()
        return t

    def reset(self, c):
        """os reset; the emulator reboots before it reads the next request."""
        self.assertEqual(c.write(0, 5, {}), {})

    def images(self, c):
        return c.state()["images"]

    def slot(self, c, slot, image=0):
        for e in self.images(c):
            if e["slot"] == slot and e.get("image", 0) == image:
                return e
        return None

    def assertErr(self, rsp, group, rc):
        self.assertEqual(rsp, {"err": {"group": group, "rc": rc}})


def main():
    unittest.main(verbosity=2)
