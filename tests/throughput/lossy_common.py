# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the lossy-link upload tests: smpdfu-target, smpdfu-linkemu
and the smpdfu CLI as three real processes; every wait is on a process's
ready line or exit status."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import (BUILD, LINKEMU, MKIMAGE, SMPDFU, SOURCE, TARGET, Case, Proc, final_stats,  # noqa: E402,F401
                     make_image)


class LossyCase(Case):
    def setUp(self):
        for b in (SMPDFU, TARGET, LINKEMU):
            if not os.path.exists(b):
                self.skipTest("%s not built" % b)
        self.tmp = tempfile.TemporaryDirectory(prefix="smpdfu-lossy-")
        self.procs = []

    def tearDown(self):
        for p in reversed(self.procs):
            p.kill()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def start(self, cmd):
        p = self.track(Proc(cmd))
        self.procs.append(p)
        return p.wait_ready()

    def target(self, *args):
        self.make_images()
        return self.start([TARGET, "-q", "--flash", self.path("flash.bin"), "--factory",
                           self.path("v1.bin")] + list(args))

    def make_images(self):
        if not hasattr(self, "v2_hash"):
            self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 4000, 1).hash
            # 40 KiB: a few dozen chunks, each a chance for the link to spoil it.
            self.v2_hash = make_image(self.path("v2.bin"), "2.0.0", 40000, 2).hash

    def cli(self, conn, *args, timeout=300):
        p = subprocess.run([SMPDFU, "--json", "--conn", conn] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def assert_v2_running(self, conn, retries):
        """The state read after a DFU, over the same link (--retries
        retries): v2 in slot 0, active and confirmed."""
        q = subprocess.run([SMPDFU, "--json", "--retries", str(retries), "--conn", conn, "image", "list"],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(q.returncode, 0, q.stderr)
        imgs = {(e["image"], e["slot"]): e for e in json.loads(q.stdout)["images"]}
        self.assertEqual(imgs[(0, 0)]["hash"], self.v2_hash)
        self.assertTrue(imgs[(0, 0)]["active"])
        self.assertTrue(imgs[(0, 0)]["confirmed"])

    def upload_and_check(self, conn, emu, extra=(), upload_args=()):
        """Upload v2 over the lossy link; the device must hold exactly v2 in
        slot 1 and report the hash match. Returns (result, linkemu stats)."""
        t0 = time.monotonic()
        rc, out, err = self.cli(conn, *extra, "image", "upload", self.path("v2.bin"), *upload_args)
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, "upload failed: %s %s" % (out, err))
        res = json.loads(out)
        self.assertEqual(res["uploaded"], os.path.getsize(self.path("v2.bin")))
        self.assertTrue(res["verified"], res)  # the target's match: true (or a state read)
        # The state read, also over the lossy link (retries cover its losses).
        rc, out, err = self.cli(conn, *extra, "image", "list")
        self.assertEqual(rc, 0, err)
        slots = {(e["image"], e["slot"]): e for e in json.loads(out)["images"]}
        self.assertEqual(slots[(0, 1)]["hash"], self.v2_hash)
        self.assertEqual(slots[(0, 0)]["hash"], self.v1_hash)
        emu.stop()
        st = final_stats(emu.out)
        self.procs.remove(emu)
        print("  %.2f s, window %d, go-backs %d, link %r" % (took, res["window"], res["go_backs"], st),
              file=sys.stderr)
        return res, st
