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
import select
import sys
import threading
import time
import tty
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import E2ECase, smpdfu  # noqa: E402

# v1 write response, length 0x0100, group 0, seq 0x42, id 0.
NOISE = bytes([0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x42, 0x00])


class NoisyBridge:
    """client <-> our pty pair <-> the target's pty. Noise once, before the
    first request is forwarded."""

    def __init__(self, target_pty, noise):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.dev = os.open(target_pty, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.dev)
        self.noise = noise
        self.noise_sent = False
        self.stop_r, self.stop_w = os.pipe()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while True:
            r, _, _ = select.select([self.master, self.dev, self.stop_r], [], [])
            if self.stop_r in r:
                return
            if self.master in r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""  # the client closed its side (EIO): wait for the next
                if data:
                    if not self.noise_sent:
                        os.write(self.master, self.noise)
                        self.noise_sent = True
                    os.write(self.dev, data)
            if self.dev in r:
                os.write(self.master, os.read(self.dev, 4096))

    def close(self):
        os.write(self.stop_w, b"x")
        self.th.join(5)
        for fd in (self.master, self.slave, self.dev, self.stop_r, self.stop_w):
            os.close(fd)


class RawNoise(E2ECase):
    def wait_lines(self, t, text, count, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [l for l in t.lines() if text in l]
            if len(got) >= count:
                return got
            time.sleep(0.01)
        self.fail("fewer than %d log lines with %r: %r" % (count, text, t.lines()[-20:]))

    def test_echo_after_header_shaped_noise(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, raw=True)
        b = NoisyBridge(t.pty, NOISE)
        self.addCleanup(b.close)
        rc, out, err = smpdfu("serial:%s,raw" % b.path, "os", "echo", "through the noise")
        self.assertTrue(b.noise_sent)
        self.assertEqual((rc, out.strip()), (0, "through the noise"), err)
        # The device answered the first try (swallowed) and the retransmission.
        self.assertEqual(len(self.wait_lines(t, "os echo", 2)), 2)

    def test_noise_between_requests_of_a_session(self):
        """A later command on the same bridge has a clean decoder: the noise
        is sent once, so the first command pays the gap, the next none."""
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, raw=True)
        b = NoisyBridge(t.pty, NOISE)
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
