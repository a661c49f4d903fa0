# SPDX-License-Identifier: Apache-2.0
"""An upload over a lossy serial line (smpdfu-linkemu serial: 1 % of the lines
dropped, bits flipped) completes and leaves exactly the image in slot 1."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lossy_common import LINKEMU, LossyCase  # noqa: E402


class LossySerial(LossyCase):
    def test_console_framing(self):
        # Raw UART is not tested here: it has no CRC, so a flipped bit would be
        # written to flash, and a lost byte only resynchronises after silence.
        t = self.target("--serial")
        # 1 Mbaud keeps the test short; the seed makes the losses the same every run.
        # Flips: 1 in 10000 bytes; with the lost lines about one chunk in ten is spoilt.
        emu = self.start([LINKEMU, "serial", "--target-pty", t.info["serial"], "--baud", "1000000",
                          "--loss", "0.01", "--flip", "0.0001", "--seed", "42"])
        conn = "serial:%s,baud=1000000" % emu.info["client"]
        res, st = self.upload_and_check(conn, emu, extra=["--timeout", "0.5", "--retries", "8"])
        # The link really was lossy in both directions.
        self.assertGreater(st["c2t"]["dropped"] + st["c2t"]["flipped"], 0)
        self.assertGreater(st["t2c"]["dropped"] + st["t2c"]["flipped"], 0)
        # Scattered losses cost go-backs, not the window.
        self.assertGreater(res["go_backs"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
