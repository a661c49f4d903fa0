# SPDX-License-Identifier: Apache-2.0
"""End-to-end: raw UART (no resync marker) after a burst of noise.

Between smpdfu and smpdfu-target sits a pty bridge. When the client's first
request comes through (so its port is open and flushed), the bridge writes
8 bytes of noise shaped like an SMP response header announcing 256 bytes
towards the client, then forwards the request. The device's answer is
swallowed into that phantom packet; the client's link decoder drops the
partial packet after a quiet gap (half the request timeout), and the
retransmission is answered. Nothing here waits on time: the noise is written
on the event of the first request, and the test waits for the exit status
and the target's log lines.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import E2ECase, smpdfu  # noqa: E402
from harness import NoiseBridge  # noqa: E402

class RawNoise(E2ECase):
    def wait_lines(self, t, text, count, timeout=20):
        """The log lines with text, once there are count of them."""
        return [l for l in t.wait_lines(lambda l: text in l, count, timeout) if text in l]

    def test_echo_after_header_shaped_noise(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, raw=True)
        b = NoiseBridge(t.pty, first=True)
        self.addCleanup(b.close)
        rc, out, err = smpdfu("serial:%s,raw" % b.path, "os", "echo", "through the noise")
        self.assertTrue(b.bursts)  # the noise went out
        self.assertEqual((rc, out.strip()), (0, "through the noise"), err)
        # The device answered the first try (swallowed) and the retransmission.
        self.assertEqual(len(self.wait_lines(t, "os echo", 2)), 2)

    def test_noise_between_requests_of_a_session(self):
        """A later command on the same bridge has a clean decoder: the noise
        is sent once, so the first command pays the gap, the next none."""
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, raw=True)
        b = NoiseBridge(t.pty, first=True)
        self.addCleanup(b.close)
        rc, out, err = smpdfu("serial:%s,raw" % b.path, "os", "echo", "one")
        self.assertEqual((rc, out.strip()), (0, "one"), err)
        self.wait_lines(t, "os echo", 2)
        rc, out, err = smpdfu("serial:%s,raw" % b.path, "os", "echo", "two",
                              extra=["--retries", "0"])
        self.assertEqual((rc, out.strip()), (0, "two"), err)
        self.assertEqual(len(self.wait_lines(t, "os echo", 3)), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
