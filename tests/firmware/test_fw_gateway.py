# SPDX-License-Identifier: Apache-2.0
"""The gateway: `smpdfu serve-image` feeds an image over the central
firmware's uplink UART (UART1, through smpdfu-linkemu serial); the central
holds only an 8 KiB window of it and relays it over UART0 to smpdfu-target.
A 256+ KiB image with the uplink cut and restored mid-transfer: it resumes.
Ends with a state read of the device. (Faults: test_fw_gateway_faults.py.)"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import image_list, make_image, slot  # noqa: E402
from gwlib import GatewayBase  # noqa: E402


class Gateway(GatewayBase):
    def test_256k_with_uplink_cut_and_restored(self):
        big = self.path("big.bin")
        big_hash = make_image(big, "3.0.0", 262144, 7).hash
        size = os.path.getsize(big)
        self.assertGreaterEqual(size, 256 * 1024)
        s = self.serve(big)
        q = self.central()
        q.wait_line(lambda l: l.startswith("image 0: 25%"))
        cut = len(q.log())
        s.stop()                                   # the uplink goes away mid-transfer
        q.wait_line(lambda l: l == "uplink: no answer, asking again", after=cut)
        self.serve(big)                            # and comes back
        back = q.wait_line(lambda l: l.startswith("uplink: answering again (at byte "), after=cut)
        self.assertGreater(int(back.split("at byte ")[1].rstrip(")")), 0)  # a resume, not a restart
        status = q.wait_exit()
        log = q.log()
        self.assertEqual(status, 0, log)
        self.assertIn("uplink: image of %d bytes (with its sha256)" % size, log)
        ram = [l for l in log if l.startswith("ram: gateway buffers")]
        self.assertEqual(len(ram), 1, log)
        self.assertIn("window 8192,", ram[0])   # what the firmware holds of the image
        imgs = image_list(self.t.conn())
        self.assert_slot0(imgs, big_hash, True)
        self.assertEqual(slot(imgs, 0, 1)["hash"], self.v1_hash)


if __name__ == "__main__":
    unittest.main(verbosity=2)
