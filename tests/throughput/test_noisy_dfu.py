# SPDX-License-Identifier: Apache-2.0
"""`smpdfu dfu` with no tuning flags over a noisy serial line (smpdfu-linkemu
serial at 1 Mbaud, 1 % of the lines lost, 1 in 1000 bytes with a flipped
bit, fixed seeds) completes, and a state read shows the new image running
and confirmed. No assertion on time: the bench (bench/resil) measures it."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lossy_common import LINKEMU, SMPDFU, LossyCase  # noqa: E402


class NoisyDfu(LossyCase):
    def run_seed(self, seed):
        t = self.target("--serial")
        emu = self.start([LINKEMU, "serial", "--target-pty", t.info["serial"], "--baud", "1000000",
                          "--loss", "0.01", "--flip", "0.001", "--seed", str(seed)])
        conn = "serial:%s,baud=1000000" % emu.info["client"]
        p = subprocess.run([SMPDFU, "--json", "-v", "--conn", conn, "dfu", self.path("v2.bin")],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, "dfu failed: %s %s" % (p.stdout, p.stderr[-2000:]))
        res = json.loads(p.stdout)
        self.assertEqual(res["status"], "ok")
        up = res["images"][0]
        self.assertTrue(up["uploaded"])
        for k in ("packet_size", "window", "pace_us", "retransmits", "probes"):
            self.assertIn(k, up)
        # The link really spoilt frames: something was sent again.
        self.assertGreater(up["retransmits"] + up["go_backs"] + up["probes"], 0, up)
        # The -v summary names the choices.
        self.assertIn("image 0 upload:", p.stderr)
        self.assertIn("-byte packets", p.stderr)
        # The state read over the same noisy link (generous retries: answers
        # of several lines are lost often).
        self.assert_v2_running(conn, 20)
        print("  seed %d: packet %d, window %d..%d, pace %d us, %d retransmissions, %d probes"
              % (seed, up["packet_size"], up["window_min"], up["window"], up["pace_us"],
                 up["retransmits"], up["probes"]), file=sys.stderr)

    def test_seed_1(self):
        self.run_seed(1)

    def test_seed_2(self):
        self.run_seed(2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
