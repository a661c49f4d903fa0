# SPDX-License-Identifier: Apache-2.0
"""The target firmware (QEMU) as an SMP device for the host CLI, through
smpdfu-linkemu serial: a whole `smpdfu dfu`, and an upload cut mid-way that
resumes after the machine reset (the progress record on the semihosting
flash file survives SYSRESETREQ). Each ends with a state read."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import (LINKEMU, SMPDFU, FwCase, Proc, image_list, make_image, run_qemu, slot,  # noqa: E402
                   smpdfu)


class TargetFirmware(FwCase):
    def setUp(self):
        super().setUp()
        self.board = self.boards[0]
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1).hash

    def start(self, baud="0"):
        le = self.track(Proc([LINKEMU, "serial", "--baud", baud], "smpdfu-linkemu"))
        le.wait_line(lambda l: l == "ready", timeout=30)
        client = next(l[8:] for l in le.log() if l.startswith("client: "))
        target = next(l[8:] for l in le.log() if l.startswith("target: "))
        self.q = self.track(run_qemu(self.board, "target",
                                     ["flash=" + self.path("t.flash"), "factory=" + self.path("v1.bin"),
                                      "slot=131072", "buf=512"], ["-serial", target],
                                     name="target firmware"))
        self.q.wait_line(lambda l: l.endswith(", ready"))
        return "serial:" + client

    def test_host_cli_dfu(self):
        v2_hash = make_image(self.path("v2.bin"), "2.0.0", 60000, 2).hash
        conn = self.start()
        rc, out, err = smpdfu(conn, "dfu", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertTrue(json.loads(out)["reset"])
        self.assertIn("boot: image 0 swap test", self.q.log())
        imgs = image_list(conn)
        self.assert_slot0(imgs, v2_hash, True)
        self.assertEqual(slot(imgs, 0, 1)["hash"], self.v1_hash)

    def test_upload_resumes_after_machine_reset(self):
        v2_hash = make_image(self.path("v2.bin"), "2.0.0", 90000, 3).hash
        conn = self.start(baud="115200")  # paced, so the cut lands mid-way
        up = self.track(Proc([SMPDFU, "--conn", conn, "image", "upload", self.path("v2.bin")],
                             "smpdfu image upload"))

        def past(line, n=30000):
            return " img upload " in line and "off=" in line and \
                int(line.split("off=")[1].split()[0]) >= n
        self.q.wait_line(past)
        up.stop()                                          # the client goes away mid-upload
        self.assertEqual(smpdfu(conn, "os", "reset")[0], 0)  # the machine resets
        line = self.q.wait_line(lambda l: l.startswith("img: upload progress restored at "))
        saved = int(line.split(" at ")[1].split()[0])
        self.assertGreaterEqual(saved, 30000)
        rc, out, err = smpdfu(conn, "image", "upload", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        self.assertTrue(res["resumed"], res)
        self.assertGreaterEqual(res["resume_off"], 30000)
        self.assertEqual(slot(image_list(conn), 0, 1)["hash"], v2_hash)


if __name__ == "__main__":
    unittest.main(verbosity=2)
