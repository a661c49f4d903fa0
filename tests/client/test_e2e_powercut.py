# SPDX-License-Identifier: Apache-2.0
"""End-to-end: `smpdfu dfu` loses its device to a power cut in the middle of
MCUboot's swap (smpdfu-target --power-cut-after), the device is powered up
again, and a rerun of `smpdfu dfu` finishes the job: the bootloader completes
the interrupted swap and the new image ends up confirmed in slot 0."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import SMPDFU, E2ECase, image_list, make_image, slot, smpdfu  # noqa: E402,E501
from harness import Proc, Target  # noqa: E402

CUT_EXIT = 3  # SMPDFU_POWERCUT_EXIT


class PowerCutDfu(E2ECase):
    def device(self, args):
        """smpdfu-target on dev.flash; its boot log is in lines() once it is ready
        (harness.Proc reads stderr first), all of it once it has exited."""
        d = Target(self.dir, args, flash=self.path("dev.flash"))
        self.targets.append(self.track(d))
        d.start()
        return d

    def cut_then_rerun(self, mode, cut_at):
        self.images()
        d = self.device(["--factory", self.path("v1.bin"), "--mode", mode,
                         "--power-cut-after", str(cut_at)])
        dfu = Proc([SMPDFU, "--conn", d.conn(), "dfu", self.path("v2.bin")])
        # The device dies in the swap that follows the reset dfu asks for.
        self.assertEqual(d.proc.wait_exit(120), CUT_EXIT, "\n".join(d.lines()))
        log = d.lines()
        self.assertIn("reset: running the bootloader", log)
        self.assertTrue(any(l.startswith("power cut: flash operation %d " % cut_at) for l in log),
                        "\n".join(log))
        # That dfu waits for a device that is gone: the user gives up on it.
        dfu.stop(timeout=30)

        # Power back on: the bootloader finishes the swap it was cut in.
        d = self.device(["--mode", mode])
        self.assertIn("boot: image 0 finished an interrupted swap test", d.lines())
        rc, out, err = smpdfu(d.conn(), "dfu", self.path("v2.bin"))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("confirmed", out + err)
        imgs = image_list(d.conn())
        self.assert_slot0(imgs, self.v2_hash, True)
        self.assertEqual(slot(imgs, 0, 1)["hash"], self.v1_hash)

    def test_two_images_cut_in_second_swap(self):
        """nRF5340: app and network core swapped in one boot; the cut hits the
        second image's swap. The rerun confirms the application and finds the
        network core applied."""
        self.images()
        net1 = make_image(self.path("net1.bin"), "1.0.0", 8000, 3).hash
        net2 = make_image(self.path("net2.bin"), "2.0.0", 9000, 4).hash
        common = ["--images", "2", "--buf-size", "2048"]
        d = self.device(common + ["--factory", self.path("v1.bin"),
                                  "--factory1", self.path("net1.bin"),
                                  "--power-cut-after", "170"])
        dfu = Proc([SMPDFU, "--conn", d.conn(), "dfu", self.path("v2.bin"), "--image1", self.path("net2.bin")])
        self.assertEqual(d.proc.wait_exit(120), CUT_EXIT, "\n".join(d.lines()))
        dfu.stop(timeout=30)
        d = self.device(common)
        self.assertIn("boot: image 1 finished an interrupted swap perm", d.lines())
        # Image 0's finished test swap is not taken back by a bogus revert.
        self.assert_slot0(image_list(d.conn()), self.v2_hash, False)
        rc, out, err = smpdfu(d.conn(), "dfu", self.path("v2.bin"), "--image1",
                              self.path("net2.bin"))
        self.assertEqual(rc, 0, out + err)
        imgs = image_list(d.conn())
        self.assert_slot0(imgs, self.v2_hash, True)
        self.assertEqual(slot(imgs, 1, 0)["hash"], net2)
        self.assertEqual(slot(imgs, 1, 1)["hash"], net1)

    def test_move_cut_mid_swap(self):
        self.cut_then_rerun("move", 40)

    def test_scratch_cut_mid_swap(self):
        self.cut_then_rerun("scratch", 30)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
