"""End-to-end: `smpdfu dfu` loses its device to a power cut in the middle of
MCUboot's swap (smpdfu-target --power-cut-after), the device is powered up
again, and a rerun of `smpdfu dfu` finishes the job: the bootloader completes
the interrupted swap and the new image ends up confirmed in slot 0."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import SMPDFU, TARGET, E2ECase, image_list, make_image, slot, smpdfu  # noqa: E402,E501

CUT_EXIT = 3  # SMPDFU_POWERCUT_EXIT


class Device:
    """smpdfu-target with its log in a file: every boot line is in the file
    before `ready` reaches stdout, and all of it once the process is gone."""

    def __init__(self, flash, log, args):
        self.log = log
        self.err = open(log, "w")
        self.proc = subprocess.Popen([TARGET, "--flash", flash, "--udp", "127.0.0.1:0"] + args,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.port = None
        for line in self.proc.stdout:
            if line.startswith("udp: "):
                self.port = int(line.rsplit(":", 1)[1])
            if line.strip() == "ready":
                break
        self.conn = "udp:127.0.0.1:%d" % self.port

    def lines(self):
        with open(self.log) as f:
            return f.read().splitlines()

    def wait(self, timeout):
        rc = self.proc.wait(timeout)
        self.proc.stdout.close()
        self.err.close()
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait(30)


class PowerCutDfu(E2ECase):
    def setUp(self):
        super().setUp()
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.stop()
        super().tearDown()

    def device(self, args):
        d = Device(self.path("dev.flash"), self.path("dev%d.log" % len(self.devices)), args)
        self.devices.append(d)
        return d

    def cut_then_rerun(self, mode, cut_at):
        self.images()
        d = self.device(["--factory", self.path("v1.bin"), "--mode", mode,
                         "--power-cut-after", str(cut_at)])
        dfu = subprocess.Popen([SMPDFU, "--conn", d.conn, "dfu", self.path("v2.bin")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The device dies in the swap that follows the reset dfu asks for.
        self.assertEqual(d.wait(120), CUT_EXIT, "\n".join(d.lines()))
        log = d.lines()
        self.assertIn("reset: running the bootloader", log)
        self.assertTrue(any(l.startswith("power cut: flash operation %d " % cut_at) for l in log),
                        "\n".join(log))
        # That dfu waits for a device that is gone: the user gives up on it.
        dfu.terminate()
        dfu.communicate(timeout=30)

        # Power back on: the bootloader finishes the swap it was cut in.
        d = self.device(["--mode", mode])
        self.assertIn("boot: image 0 finished an interrupted swap test", d.lines())
        rc, out, err = smpdfu(d.conn, "dfu", self.path("v2.bin"))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("confirmed", out + err)
        imgs = image_list(d.conn)
        self.assert_slot0(imgs, self.v2_hash, True)
        self.assertEqual(slot(imgs, 0, 1)["hash"], self.v1_hash)

    def test_two_images_cut_in_second_swap(self):
        """nRF5340: app and network core swapped in one boot; the cut hits the
        second image's swap. The rerun confirms the application and finds the
        network core applied."""
        self.images()
        net1 = make_image(self.path("net1.bin"), "1.0.0", 8000, 3)
        net2 = make_image(self.path("net2.bin"), "2.0.0", 9000, 4)
        common = ["--images", "2", "--buf-size", "2048"]
        d = self.device(common + ["--factory", self.path("v1.bin"),
                                  "--factory1", self.path("net1.bin"),
                                  "--power-cut-after", "170"])
        dfu = subprocess.Popen([SMPDFU, "--conn", d.conn, "dfu", self.path("v2.bin"),
                                "--image1", self.path("net2.bin")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(d.wait(120), CUT_EXIT, "\n".join(d.lines()))
        dfu.terminate()
        dfu.communicate(timeout=30)
        d = self.device(common)
        self.assertIn("boot: image 1 finished an interrupted swap perm", d.lines())
        # Image 0's finished test swap is not taken back by a bogus revert.
        self.assert_slot0(image_list(d.conn), self.v2_hash, False)
        rc, out, err = smpdfu(d.conn, "dfu", self.path("v2.bin"), "--image1",
                              self.path("net2.bin"))
        self.assertEqual(rc, 0, out + err)
        imgs = image_list(d.conn)
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
