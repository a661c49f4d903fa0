# SPDX-License-Identifier: Apache-2.0
"""`smpdfu dfu` with no tuning flags through a 115200-baud line
(smpdfu-linkemu serial) against smpdfu-target's stock Zephyr UART receive
(two 128-byte line buffers held while a request and its flash time run; the
target's default) with nRF52-like flash times: multi-line frames sent back to
back lose lines while the device writes. The upload must get through by
itself (smaller frames, a smaller window, or paced lines: whatever the link
shows), and a state read must show the new image running and confirmed. No
assertion on time or on which choice was made: they depend on how the lines
fall against the busy times."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lossy_common import LINKEMU, SMPDFU, LossyCase  # noqa: E402

FLASH_TIMES = ["--erase-ms", "85", "--write-us-per-kib", "10000"]


class StockUartDfu(LossyCase):
    def test_dfu_no_flags_115200(self):
        t = self.target("--serial", *FLASH_TIMES)
        emu = self.start([LINKEMU, "serial", "--target-pty", t.info["serial"], "--baud", "115200"])
        conn = "serial:%s,baud=115200" % emu.info["client"]
        p = subprocess.run([SMPDFU, "--json", "-v", "--conn", conn, "dfu", self.path("v2.bin")],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, "dfu failed: %s %s" % (p.stdout, p.stderr[-2000:]))
        up = json.loads(p.stdout)["images"][0]
        self.assertTrue(up["uploaded"])
        self.assert_v2_running(conn, 10)
        print("  stock UART 115200: packet %d, window %d..%d, pace %d us, %d retransmissions, "
              "%d probes" % (up["packet_size"], up["window_min"], up["window"], up["pace_us"],
                             up["retransmits"], up["probes"]), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
