# SPDX-License-Identifier: Apache-2.0
"""A device that stops answering in the middle of an upload: the upload keeps
asking (offset probes) and fails only after the --give-up silence, saying how
long it waited and what the device said last. The target is frozen with
SIGSTOP once the upload's first progress line is out (the upload, slowed by
the target's flash write time, has seconds to go then). No assertion on time."""
import json
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from lossy_common import SMPDFU, LossyCase, Proc, make_image  # noqa: E402


class GiveUp(LossyCase):
    def test_silent_device(self):
        self.make_images()
        big = self.path("big.bin")
        make_image(big, "3.0.0", 200000, 3)
        t = self.target("--udp", "127.0.0.1:0", "--write-us-per-kib", "50000")
        p = Proc([SMPDFU, "--json", "-v", "--give-up", "2", "--timeout", "0.5", "--conn",
                  "udp:%s" % t.info["udp"], "image", "upload", big])
        try:
            # Wait for the first progress line (the upload is under way).
            i = p.wait_index(lambda l: "progress upload " in l, "err")
            self.assertIsNotNone(i, "no progress line (or smpdfu ended early): %s" % "\n".join(p.err))
            os.kill(t.pid, signal.SIGSTOP)
            rc = p.wait_exit(120)
        finally:
            p.kill()
            os.kill(t.pid, signal.SIGCONT)
        out, err, rest = "\n".join(p.out), "\n".join(p.err), "\n".join(p.err[i + 1:])
        self.assertEqual(rc, 1, err)
        res = json.loads(out)
        self.assertEqual(res["code"], "SMPDFU_ESILENT")
        msg = res["error"]
        m = re.search(r"the upload: the device has been silent for ([0-9.]+) s \(--give-up 2\)", msg)
        self.assertIsNotNone(m, msg)
        self.assertGreaterEqual(float(m.group(1)), 2.0)
        # Which answer came last depends on when the freeze landed: the first
        # chunk's or a later one's; either names an offset above 0.
        m = re.search(r"it last answered [0-9.]+ s into the upload with the answer to "
                      r"(the first chunk|a chunk) \(offset ([0-9]+) of %d\)"
                      % os.path.getsize(big), msg)
        self.assertIsNotNone(m, msg)
        self.assertGreater(int(m.group(2)), 0)
        self.assertIn("asking the device which offset it holds", rest)  # -v: it kept asking
        print("  %s" % msg, file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
