"""End-to-end: `smpdfu dfu` over the pty against smpdfu-target's default
serial receive, Zephyr's stock UART (two 128-byte line buffers, lines that
arrive while the flash is busy and both buffers are held are dropped), with
nRF52-like flash times. No client flags: the upload must get through by
itself. The target's count of dropped lines is printed, not asserted (it
depends on how the client's lines fall against the busy times)."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import E2ECase, image_list, smpdfu  # noqa: E402

# nRF52840: about 85 ms per 4 KiB page erase, about 10 ms per KiB written.
FLASH_TIMES = ["--erase-ms", "85", "--write-us-per-kib", "10000"]


class StockUart(E2ECase):
    def test_dfu_no_flags(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin"), "--reset-delay-ms", "0"] + FLASH_TIMES,
                        udp=None, serial=True)
        c = t.conn("serial")
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), json_out=True, timeout=300)
        self.assertEqual(rc, 0, err)
        self.assertTrue(json.loads(out)["reset"])
        self.assert_slot0(image_list(c), self.v2_hash, True)
        drops = [l for l in t.lines() if "line dropped: all 2 RX line buffers held" in l]
        sys.stderr.write("stock UART dfu: %d lines dropped by the target\n" % len(drops))


if __name__ == "__main__":
    unittest.main(verbosity=2)
