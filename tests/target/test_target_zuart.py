# SPDX-License-Identifier: Apache-2.0
"""smpdfu-target: Zephyr's UART receive line buffers (stock model, the default).

Two buffers of 128 bytes (CONFIG_UART_MCUMGR_RX_BUF_COUNT/SIZE defaults);
lines that arrive while the device is busy with a request stay in them, and a
line that begins while both are held is dropped. The busy time is a slow
flash write (--write-us-per-kib): the test waits for the target's log line
announcing it, writes during it, and waits for the log line of the drop.
"""
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import smp  # noqa: E402
import tcase  # noqa: E402
from smp import GROUP_IMAGE, GROUP_OS, OP_WRITE  # noqa: E402

CHUNK = 256
# 256 bytes at this rate keep the flash busy for 3 s: ample time to write a
# burst once the log says the write started.
SLOW = ["--write-us-per-kib", "12000000"]
BUSY = "flash: busy 3000 ms (write)"


def echo_lines(text, seq):
    """The console lines of an echo request (each ends with \\n)."""
    enc = smp.serial_encode(smp.packet(OP_WRITE, GROUP_OS, 0, {"d": text}, seq=seq))
    return [l + b"\n" for l in enc.split(b"\n")[:-1]]


class StockUart(tcase.TargetCase):
    def wait_for(self, t, pattern, timeout=20):
        """Wait for a log line matching the regex (the event, not a delay)."""
        rx = re.compile(pattern)
        i = t.proc.wait_index(rx.search, "err", timeout=timeout)
        if i is None:
            self.fail("no log line matching %r" % pattern)
        return t.log[i]

    def start_busy(self, extra=()):
        """A target whose first upload chunk keeps it busy; sends that chunk
        on the pty and returns (target, client) once the slow write began."""
        t = self.start(list(SLOW) + list(extra), serial=True)
        c = self.client(t, "serial", timeout=20)
        data = self.v2.data
        c.send_raw(smp.packet(OP_WRITE, GROUP_IMAGE, 1,
                              {"off": 0, "data": data[:CHUNK], "len": len(data),
                               "sha": hashlib.sha256(data).digest()}, seq=1))
        self.wait_for(t, re.escape(BUSY))
        return t, c

    def recv_seq(self, c, seq):
        """Packets up to and including the response with this seq."""
        got = []
        while True:
            pkts = c.recv_packets(20)
            self.assertTrue(pkts, "no response with seq %d (got %r)" % (seq, got))
            for p in pkts:
                got.append(smp.unpack_hdr(p)["seq"])
                if got[-1] == seq:
                    return got

    def test_defaults_are_zephyrs(self):
        t = self.start(serial=True)
        c = self.client(t, "serial")
        pkt = smp.packet(OP_WRITE, GROUP_OS, 0, {"d": "L" * 120}, seq=5)
        # Lines of 131 bytes (marker and \n included) do not fit 128.
        c.t.write_bytes(smp.serial_encode(pkt, line_max=131))
        self.wait_for(t, r"line dropped: longer than the 128-byte RX line buffer \(1 so far\)")
        # 128 bytes do: 124 characters ended by \r\n.
        crlf = smp.serial_encode(pkt).replace(b"\n", b"\r\n")
        self.assertEqual(max(len(l) + 1 for l in crlf.split(b"\n")[:-1]), 128)
        c.t.write_bytes(crlf)
        self.assertEqual(self.recv_seq(c, 5), [5])

    def test_burst_while_busy_loses_lines(self):
        t, c = self.start_busy()
        lines = echo_lines("b" * 300, seq=2)
        self.assertGreater(len(lines), 2)
        c.t.write_bytes(b"".join(lines))
        # Two lines fit the two buffers; every later one finds none.
        dropped = len(lines) - 2
        self.wait_for(t, r"line dropped: all 2 RX line buffers held \(%d dropped so far\)"
                      % dropped)
        # The upload is answered after the write; the echo never is: a later
        # request's answer comes with nothing for seq 2 before it.
        self.assertEqual(self.recv_seq(c, 1), [1])
        c.send_raw(smp.packet(OP_WRITE, GROUP_OS, 0, {"d": "after"}, seq=3))
        self.assertEqual(self.recv_seq(c, 3), [3])
        self.assertFalse(any("dropped so far" in l and "(%d " % (dropped + 1) in l
                             for l in t.log))

    def test_paced_lines_get_answered(self):
        t, c = self.start_busy()
        lines = echo_lines("p" * 300, seq=2)
        # Two lines while busy: they wait in the buffers.
        c.t.write_bytes(b"".join(lines[:2]))
        # The answer to the upload says the busy time is over; the rest of
        # the request then finds free buffers.
        self.assertEqual(self.recv_seq(c, 1), [1])
        c.t.write_bytes(b"".join(lines[2:]))
        self.assertEqual(self.recv_seq(c, 2), [2])
        self.assertFalse(any("line dropped" in l for l in t.log))

    def test_lines_received_during_udp_request(self):
        # The flash is busy with a request that came over UDP; a one-line
        # echo on the pty meanwhile waits in a buffer and is answered after.
        t = self.start(list(SLOW), serial=True)
        u = self.client(t, "udp", timeout=20)
        c = self.client(t, "serial", timeout=20)
        data = self.v2.data
        u.send_raw(smp.packet(OP_WRITE, GROUP_IMAGE, 1,
                              {"off": 0, "data": data[:CHUNK], "len": len(data),
                               "sha": hashlib.sha256(data).digest()}, seq=1))
        self.wait_for(t, re.escape(BUSY))
        lines = echo_lines("short", seq=2)
        self.assertEqual(len(lines), 1)
        c.t.write_bytes(lines[0])
        self.assertEqual(self.recv_seq(c, 2), [2])
        self.assertEqual(len(u.recv_packets(20)), 1)

    def test_no_limit_option(self):
        # --rx-bufs 0: the old unlimited receive; the burst is not lost.
        t, c = self.start_busy(["--rx-bufs", "0"])
        c.t.write_bytes(b"".join(echo_lines("u" * 300, seq=2)))
        self.assertEqual(self.recv_seq(c, 2), [1, 2])
        self.assertFalse(any("line dropped" in l for l in t.log))

    def test_more_buffers(self):
        # --rx-bufs 8 holds a 5-line request received while busy.
        t, c = self.start_busy(["--rx-bufs", "8"])
        lines = echo_lines("m" * 300, seq=2)
        self.assertLessEqual(len(lines), 8)
        c.t.write_bytes(b"".join(lines))
        self.assertEqual(self.recv_seq(c, 2), [1, 2])
        self.assertFalse(any("line dropped" in l for l in t.log))

    def test_idle_burst_is_received(self):
        # Not busy: each line is taken as soon as it is in, so a long request
        # sent in one write is answered (a model limit, see docs/target.md).
        t = self.start(serial=True)
        c = self.client(t, "serial")
        self.assertGreater(len(echo_lines("i" * 300, 1)), 2)
        self.assertEqual(c.echo("i" * 300), {"r": "i" * 300})

    def test_option_checks(self):
        import subprocess
        exe = harness.TARGET
        for args, msg in ((["--rx-bufs", "33"], "--rx-bufs must be 0..32"),
                          (["--rx-buf-size", "0"], "needs --rx-bufs 0")):
            p = subprocess.run([exe, "--flash", os.path.join(self.tmp, "f")] + args,
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 2)
            self.assertIn(msg, p.stderr)


class RawUartGap(tcase.TargetCase):
    """--raw-uart has no resync marker: the core link decoder drops a partial
    packet after 100 ms without bytes, and the next request is answered."""

    def test_noise_header_then_echo(self):
        t = self.start(serial=True, raw=True)
        c = self.client(t, "serial")
        # A plausible request header announcing 200 bytes that never come.
        c.t.write_bytes(bytes([0x02, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x01, 0x00]))
        # The drop is the event to wait for; the request after it is clean.
        self.assertTrue(t.wait_log("partial packet dropped after 100 ms without bytes (1 so far)",
                                   timeout=20))
        self.assertEqual(c.echo("after the noise"), {"r": "after the noise"})


if __name__ == "__main__":
    tcase.main()
