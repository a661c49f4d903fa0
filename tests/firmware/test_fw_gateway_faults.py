# SPDX-License-Identifier: Apache-2.0
"""The gateway with faults: a corrupted image (the device never receives
its last chunk) and an uplink line that loses pieces and flips bits (seeded).
Each ends with a state read of the device."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import image_list, make_image, slot  # noqa: E402
from gwlib import GatewayBase  # noqa: E402


class GatewayFaults(GatewayBase):
    def test_corrupted_image_never_completes_on_the_device(self):
        bad = self.path("bad.bin")
        make_image(bad, "3.0.0", 40000, 8)
        size = os.path.getsize(bad)
        with open(bad, "r+b") as f:                # one payload byte: the hash TLV no longer matches
            f.seek(0x400)
            b = f.read(1)
            f.seek(0x400)
            f.write(bytes([b[0] ^ 0x01]))
        self.serve(bad)
        q = self.central()
        status = q.wait_exit()
        log = q.log()
        self.assertEqual(status, 1, log)
        self.assertTrue(any(l.startswith("dfu: failed (image 0)") for l in log), log)
        # the device never got the last byte: no upload answer reached the size
        tlog = self.t.proc.log()
        self.assertTrue(any(" img upload " in l for l in tlog), tlog)
        self.assertFalse([l for l in tlog if "-> off=%d " % size in l])
        imgs = image_list(self.t.conn())
        self.assert_slot0(imgs, self.v1_hash, True)
        self.assertIsNone(slot(imgs, 0, 1), imgs)


class LossyUplink(GatewayBase):
    """The uplink line loses pieces (linkemu cuts the stream at newline bytes,
    about every 256 bytes of binary frames) and flips bits, with fixed seeds:
    the block protocol asks again, the device gets the exact image."""
    uplink_line = ["--baud", "0", "--loss", "0.03", "--flip", "0.0002", "--seed", "5"]

    def test_lossy_uplink(self):
        """On the Cortex-M3 board when built (its UART1 and IRQ numbers)."""
        self.board = self.boards[-1]
        img = self.path("img.bin")
        img_hash = make_image(img, "3.0.0", 48000, 9).hash
        self.serve(img)
        q = self.central(["uplink-timeout=500"])
        status = q.wait_exit()
        log = q.log()
        self.assertEqual(status, 0, log)
        stats = [l for l in log if l.startswith("uplink: ") and " resends, " in l]
        self.assertEqual(len(stats), 1, log)
        self.assertGreater(int(stats[0].split()[1]), 0, stats)   # losses happened and were repaired
        self.assert_slot0(image_list(self.t.conn()), img_hash, True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
