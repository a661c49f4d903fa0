# SPDX-License-Identifier: Apache-2.0
"""smpdfu-target killed by a power cut at every flash write and erase of a
swap (--power-cut-after N, N = 1, 2, ... until a boot completes uncut), in
every swap mode, upgrade and revert: the next start must finish the job
(resume or start over, as MCUboot does) and end with a valid image in slot 0,
never a brick. A few cuts also hit the recovery boot itself."""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import tcase  # noqa: E402

IMG = 1
CUT_EXIT = 3  # SMPDFU_POWERCUT_EXIT


def flags(e):
    return {k for k in ("pending", "confirmed", "active", "permanent") if e.get(k)}


class PowerCut(tcase.TargetCase):
    def cut_run(self, flash, extra, n):
        """Start the target over `flash` with a cut at operation n of its
        start-up boot. True when it was cut, False when the boot completed
        (the target then got ready; it is stopped)."""
        cmd = [harness.TARGET, "--flash", flash, "--udp", "127.0.0.1:0", "--power-cut-after", str(n)]
        cmd += tcase.BASE_ARGS + list(extra)
        p = harness.Proc(cmd)
        ready = p.wait_index(lambda l: l.strip() == "ready", "out") is not None
        rc = p.stop() if ready else p.wait_exit(30)
        err = "\n".join(p.err)
        if ready:
            self.assertEqual(rc, 0, err)
            self.assertNotIn("power cut", err)
            return False
        self.assertEqual(rc, CUT_EXIT, err)
        self.assertIn("power cut: flash operation %d " % n, err)
        return True

    def snapshot(self, mode, revert):
        """The flash just before the boot to cut: v2 marked for test (and,
        for a revert, swapped in and running unconfirmed)."""
        t = self.start(["--mode", mode])
        c = self.client(t)
        self.assertEqual(c.upload(self.v2.data)["match"], True)
        c.write(IMG, 0, {"hash": self.v2.image_hash})
        if revert:
            self.reset(c)
            self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        t.stop()
        self.targets.remove(t)
        snap = os.path.join(self.tmp, "snap-%s-%d.flash" % (mode, revert))
        shutil.copy(t.flash, snap)
        return snap

    def check(self, flash, mode, revert, what):
        """Start normally over `flash`: slot 0 must hold the image the swap
        was heading for, in MCUboot's end state."""
        t = self.start(["--mode", mode], factory=False, flash=flash)
        c = self.client(t)
        s0, s1 = self.slot(c, 0), self.slot(c, 1)
        self.assertIsNotNone(s0, what)
        if revert:
            self.assertEqual(s0["hash"], self.v1.image_hash, what)
            self.assertEqual(flags(s0), {"active", "confirmed"}, what)
            self.assertEqual(s1["hash"], self.v2.image_hash, what)
            self.assertEqual(flags(s1), set(), what)
        elif mode == "overwrite":
            self.assertEqual(s0["hash"], self.v2.image_hash, what)
            self.assertEqual(flags(s0), {"active", "confirmed"}, what)
            self.assertIsNone(s1, what)
        else:
            self.assertEqual(s0["hash"], self.v2.image_hash, what)
            self.assertEqual(flags(s0), {"active"}, what)
            self.assertEqual(s1["hash"], self.v1.image_hash, what)
            self.assertEqual(flags(s1), {"confirmed"}, what)
        t.stop()
        self.targets.remove(t)
        for cl in self.clients:
            cl.close()
        self.clients = []

    def every_cut(self, mode, revert):
        snap = self.snapshot(mode, revert)
        flash = os.path.join(self.tmp, "cut.flash")
        n = 1
        while True:
            shutil.copy(snap, flash)
            if not self.cut_run(flash, ["--mode", mode], n):
                break
            self.check(flash, mode, revert, "%s revert=%s cut at %d" % (mode, revert, n))
            n += 1
        self.assertGreater(n, 10)  # a swap is many steps
        cuts = n - 1
        # Cut again during the recovery, at a few points of a few swaps (a
        # recovery shorter than the second cut point completes instead: the
        # next boot would be a new one, so that pair is not checked).
        doubles = 0
        for first in (1, cuts // 3, cuts // 2, cuts - 1):
            for second in (1, 2, 5):
                shutil.copy(snap, flash)
                self.assertTrue(self.cut_run(flash, ["--mode", mode], first))
                if not self.cut_run(flash, ["--mode", mode], second):
                    continue
                self.check(flash, mode, revert,
                           "%s revert=%s cut at %d then %d" % (mode, revert, first, second))
                doubles += 1
        self.assertGreaterEqual(doubles, 6)
        sys.stderr.write("%s %s: %d cut points and %d double cuts, each recovered\n"
                         % (mode, "revert" if revert else "upgrade", cuts, doubles))

    def test_move_upgrade(self):
        self.every_cut("move", False)

    def test_move_revert(self):
        self.every_cut("move", True)

    def test_scratch_upgrade(self):
        self.every_cut("scratch", False)

    def test_scratch_revert(self):
        self.every_cut("scratch", True)

    def test_overwrite_upgrade(self):
        self.every_cut("overwrite", False)


if __name__ == "__main__":
    tcase.main()
