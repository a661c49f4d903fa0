# SPDX-License-Identifier: Apache-2.0
"""An upload over a lossy UDP link (smpdfu-linkemu udp: 1 % loss, duplicated
and reordered datagrams, 2 ms round trip) completes and leaves exactly the
image in slot 1, windowed and stop-and-wait."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lossy_common import LINKEMU, LossyCase  # noqa: E402


class LossyUdp(LossyCase):
    def run_link(self, window, seed):
        # Zephyr's default 384-byte buffers: about 110 chunks, so 1 % loss bites.
        t = self.target("--udp", "127.0.0.1:0", "--buf-count", "4")
        emu = self.start([LINKEMU, "udp", "--listen", "127.0.0.1:0", "--target", t.info["udp"],
                          "--latency", "1", "--loss", "0.01", "--dup", "0.02", "--reorder", "0.02",
                          # a held datagram waits for the next one however slow the
                          # machine is (a timeout would make "reordered" a matter of luck)
                          "--reorder-hold", "600000", "--seed", str(seed)])
        res, st = self.upload_and_check("udp:%s" % emu.info["listen"], emu,
                                        extra=["--timeout", "0.3", "--retries", "8"],
                                        upload_args=["--window", str(window)] if window else [])
        # Every impairment happened at least once (the seed fixes which
        # datagrams; a held one is swapped with the next, a retransmission at
        # worst).
        for k in ("dropped", "duplicated", "reordered"):
            self.assertGreater(st["c2t"][k] + st["t2c"][k], 0, k)
        return res

    def test_windowed(self):
        res = self.run_link(0, 7)
        self.assertGreater(res["go_backs"], 0)

    def test_stop_and_wait(self):
        res = self.run_link(1, 7)
        self.assertEqual(res["window"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
