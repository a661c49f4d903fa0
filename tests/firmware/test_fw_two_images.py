# SPDX-License-Identifier: Apache-2.0
"""The nRF5340 flow from the central firmware: the network core image
(image 1) and the application (image 0), both linked into the central,
uploaded in that order, one reset applies both. Against smpdfu-target
--images 2 and against the target firmware (images=2) in a second QEMU.
Each ends with a state read: both new hashes in slot 0, confirmed. The
devices use 1 KiB SMP buffers: the state of four slots does not fit 384
bytes (MGMT_ERR_EMSGSIZE, as on Zephyr)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import (LINKEMU, FwCase, HostTarget, Proc, fw_info, image_hash, image_list,  # noqa: E402
                   make_image, run_qemu, slot)


class TwoImages(FwCase):
    def setUp(self):
        super().setUp()
        self.board = self.boards[0]
        info = fw_info(self.board)
        self.app_hash = image_hash(info["image0"])
        self.net_hash = image_hash(info["image1"])
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1).hash
        self.net1_hash = make_image(self.path("net1.bin"), "1.0.0", 8000, 11).hash

    def central(self, pty):
        q = self.track(run_qemu(self.board, "central", ["images=2"], ["-serial", pty],
                                name="central firmware"))
        status = q.wait_exit()
        log = q.log()
        self.assertEqual(status, 0, log)
        # the network core goes first
        ups = [l for l in log if l.startswith("image ") and l.endswith("uploading the image")]
        self.assertEqual(ups, ["image 1: uploading the image", "image 0: uploading the image"], log)
        self.assertEqual(sum(1 for l in log if l == "resetting the device"), 1, log)

    def check(self, conn):
        imgs = image_list(conn)
        self.assert_slot0(imgs, self.app_hash, True, image=0)
        self.assert_slot0(imgs, self.net_hash, True, image=1)
        self.assertEqual(slot(imgs, 0, 1)["hash"], self.v1_hash)

    def test_to_host_target(self):
        t = self.track(HostTarget(self.tmp, ["--images", "2", "--slot-size", "128K", "--buf-size", "1024", "--factory",
                                             self.path("v1.bin"), "--factory1", self.path("net1.bin")]))
        self.central(t.pty)
        self.check(t.conn())

    def test_to_target_firmware(self):
        p = self.track(Proc([LINKEMU, "serial", "--baud", "0"], "smpdfu-linkemu"))
        p.wait_line(lambda l: l == "ready", timeout=30)
        client = next(l[8:] for l in p.log() if l.startswith("client: "))
        target = next(l[8:] for l in p.log() if l.startswith("target: "))
        tq = self.track(run_qemu(self.board, "target",
                                 ["flash=" + self.path("t.flash"), "images=2", "slot=131072", "buf=1024",
                                  "factory=" + self.path("v1.bin"),
                                  "factory1=" + self.path("net1.bin")], ["-serial", target],
                                 name="target firmware"))
        tq.wait_line(lambda l: l.endswith(", ready"))
        self.central(client)
        self.assertIn("boot: image 1 swap perm", tq.log())
        self.check("serial:" + client)


if __name__ == "__main__":
    unittest.main(verbosity=2)
