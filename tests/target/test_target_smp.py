# SPDX-License-Identifier: Apache-2.0
"""smpdfu-target: dispatcher rules and the OS group, over UDP and the pty
(protocol.md §1.5, §1.6, §2, §3, §5)."""
import os
import signal
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cbor2  # noqa: E402
import harness  # noqa: E402
import smp  # noqa: E402
import tcase  # noqa: E402
from smp import GROUP_OS, OP_READ, OP_WRITE  # noqa: E402


class Dispatch(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.t = self.start(serial=True)
        self.c = self.client(self.t)

    def test_echo_v1_v2_read_write(self):
        for kind in ("udp", "serial"):
            c = self.c if kind == "udp" else self.client(self.t, "serial")
            for version in (0, 1):
                for op in (OP_READ, OP_WRITE):
                    h, body = c.request(op, GROUP_OS, 0, {"d": "hi " + kind}, version=version)
                    self.assertEqual(body, {"r": "hi " + kind})
                    self.assertEqual(h["op"], op + 1)
                    self.assertEqual(h["version"], version)
                    self.assertEqual(h["flags"], 0)

    def test_response_is_indefinite_map_without_rc(self):
        h, raw = self.c.transact_raw(smp.packet(OP_READ, GROUP_OS, 6, {}, seq=7))
        self.assertEqual(raw[0], 0xBF)
        self.assertEqual(raw[-1], 0xFF)
        self.assertEqual(h["seq"], 7)
        self.assertEqual(cbor2.loads(raw), {"buf_size": 384, "buf_count": 4})

    def test_unknown_group_command_op(self):
        self.assertEqual(self.c.read(99, 0), {"rc": 8})
        self.assertEqual(self.c.read(GROUP_OS, 42), {"rc": 8})
        self.assertEqual(self.c.read(GROUP_OS, 5), {"rc": 8})   # reset is write-only
        self.assertEqual(self.c.write(GROUP_OS, 6), {"rc": 8})  # params is read-only
        self.assertEqual(self.c.read(GROUP_OS, 1), {"rc": 8})   # console echo: no handler

    def test_response_ops_and_versions(self):
        for op in (1, 3, 5, 7):
            h, raw = self.c.transact_raw(smp.packet(op, GROUP_OS, 0, {"d": "x"}, seq=3))
            self.assertEqual(cbor2.loads(raw), {"rc": 8}, op)
            self.assertEqual(h["op"], 3 if op != 0 else 1)
        for version in (2, 3):
            h, raw = self.c.transact_raw(smp.packet(0, GROUP_OS, 0, {"d": "x"}, version=version))
            self.assertEqual(cbor2.loads(raw), {"rc": 13})
            self.assertEqual(h["version"], 1)
            self.assertEqual(h["op"], 1)

    def test_truncated(self):
        self.c.send_raw(b"\x08\x00\x00")
        self.assertEqual(self.c.barrier(), [])  # no answer to it
        # header claims 10 payload bytes, 2 present: ECORRUPT with a response
        h, raw = self.c.transact_raw(smp.pack_hdr(0, 0, 0, 9, 10) + b"\xa0\xa0")
        self.assertEqual(cbor2.loads(raw), {"rc": 9})
        self.assertEqual(h["seq"], 9)
        h, raw = self.c.transact_raw(smp.pack_hdr(2, 1, 1, 1, 0xFFFF) + b"\xa0")
        self.assertEqual(cbor2.loads(raw), {"rc": 9})
        self.assertEqual(self.c.echo("still here"), {"r": "still here"})

    def test_several_requests_in_one_packet(self):
        a = smp.packet(0, 0, 0, {"d": "one"}, seq=1)
        b = smp.packet(0, 0, 6, {}, seq=2)
        self.c.send_raw(a + b)
        pkts = self.c.recv_packets(count=2)
        self.assertEqual([smp.unpack_hdr(p)["seq"] for p in pkts], [1, 2])
        self.assertEqual(cbor2.loads(pkts[0][8:]), {"r": "one"})
        # an error stops processing: the third request is never answered
        bad = smp.packet(0, 77, 0, {}, seq=3)
        self.c.send_raw(a + bad + b)
        pkts = self.c.recv_packets(count=2)
        self.assertEqual(len(pkts), 2)
        self.assertEqual(cbor2.loads(pkts[1][8:]), {"rc": 8})
        self.assertEqual(self.c.barrier(), [])  # and no third answer

    def test_bad_payloads(self):
        bad = [b"",                      # empty: the map decoder fails
               b"\xff\x00",              # not CBOR
               b"\xa1\x61d\x01",         # "d" is an int
               b"\xa1\x61d\x42hi",       # "d" is a byte string
               b"\xa2\x61d\x61a\x61d\x61b",  # duplicate key
               b"\xa1\x61d",             # truncated
               b"\x81\x61d",             # array, not map
               b"\xbf\x61d\x7f\x61a\xff\xff"]  # indefinite text string
        for payload in bad:
            h, raw = self.c.transact_raw(smp.pack_hdr(2, 0, 0, 5, len(payload)) + payload)
            self.assertEqual(cbor2.loads(raw), {"rc": 3}, payload.hex())
        # unknown keys are skipped; a missing "d" echoes the empty string
        self.assertEqual(self.c.write(0, 0, {"x": [1, {"y": 2}], "d": "ok"}), {"r": "ok"})
        self.assertEqual(self.c.write(0, 0, {}), {"r": ""})

    def test_response_too_large_is_emsgsize(self):
        # a definite-map request of exactly buf_size bytes; the indefinite
        # response map is one byte longer than buf_size
        text = "x" * (384 - 8 - 1 - 2 - 3)
        pkt = smp.packet(2, 0, 0, {"d": text})
        self.assertEqual(len(pkt), 384)
        h, raw = self.c.transact_raw(pkt)
        self.assertEqual(cbor2.loads(raw), {"rc": 7})
        # larger than buf_size: not even received
        self.c.send_raw(smp.packet(2, 0, 0, {"d": text + "y"}))
        self.assertEqual(self.c.barrier(), [])

    def test_info(self):
        self.assertEqual(self.c.read(0, 7, {}), {"output": "Zephyr"})
        self.assertEqual(self.c.read(0, 7, {"format": ""}), {"output": "Zephyr"})
        self.assertEqual(self.c.read(0, 7, {"format": "on"}), {"output": "smpdfu-target Zephyr"})
        out = self.c.read(0, 7, {"format": "a"})["output"].split(" ")
        self.assertEqual(out[0], "Zephyr")
        self.assertEqual(out[-1], "Zephyr")
        self.assertIn("arm", out)
        self.assertEqual(self.c.read(0, 7, {"format": "sx"}), {"err": {"group": 0, "rc": 2}})
        self.assertEqual(self.c.read(0, 7, {"format": "q"}, version=0), {"rc": 3})
        self.assertEqual(self.c.read(0, 7, {"format": 5}), {"rc": 3})

    def test_bootloader_info(self):
        self.assertEqual(self.c.read(0, 8, {}), {"bootloader": "MCUboot"})
        self.assertEqual(self.c.read(0, 8, {"query": "mode"}), {"mode": 3})
        self.assertEqual(self.c.read(0, 8, {"query": "nope"}), {"rc": 3})
        self.assertEqual(self.c.read(0, 8, b""), {"rc": 3})

    def test_serial_limits(self):
        s = self.client(self.t, "serial")
        self.assertEqual(s.echo("x" * 60), {"r": "x" * 60})
        # a line longer than the 128-byte RX buffer is dropped, no answer
        pkt = smp.packet(2, 0, 0, {"d": "y" * 150}, seq=50)
        s.t.write_bytes(smp.serial_encode(pkt, line_max=220))
        self.assertEqual(s.barrier(), [])
        # a frame longer than buf_size - 4 is dropped
        pkt = smp.packet(2, 0, 0, {"d": "z" * 369}, seq=51)
        self.assertEqual(len(pkt), 8 + 375)
        s.t.write_bytes(smp.serial_encode(pkt))
        self.assertEqual(s.barrier(), [])
        # bad CRC: dropped
        good = smp.serial_encode(smp.packet(2, 0, 0, {"d": "crc"}, seq=52))
        bad = good[:4] + (b"A" if good[4:5] != b"A" else b"B") + good[5:]
        s.t.write_bytes(bad)
        self.assertEqual(s.barrier(), [])
        # log lines between frames are ignored; the largest frame works
        s.t.write_bytes(b"some log output\n")
        text = "w" * (380 - 8 - 1 - 2 - 3)
        self.assertEqual(s.echo(text), {"r": text})

    def test_reset_answers_first(self):
        h, body = self.c.request(OP_WRITE, 0, 5, {})
        self.assertEqual(body, {})
        self.assertEqual(h["op"], 3)
        self.assertTrue(self.t.wait_log("reset: application running"))
        self.assertEqual(self.c.echo("after"), {"r": "after"})
        # "force" is ignored without the reset hook, whatever its type
        self.assertEqual(self.c.write(0, 5, {"force": 1}), {})

    def test_sigterm_exits_cleanly(self):
        self.assertEqual(self.t.stop(signal.SIGTERM), 0)


class ResetDelay(tcase.TargetCase):
    def test_old_image_answers_until_the_reboot(self):
        # A delay no stall reaches: the echo is answered before the reboot
        # whatever the load (the reboot itself: test_reset_answers_first).
        t = self.start(["--reset-delay-ms", "600000"])
        c = self.client(t)
        self.assertEqual(c.write(0, 5, {}), {})
        self.assertEqual(c.echo("before"), {"r": "before"})
        self.assertTrue(t.wait_log("os echo"))  # the log holds every line up to the echo
        self.assertTrue(any("os reset: rebooting in 600000 ms" in l for l in t.log), t.log)
        self.assertFalse(any(l.startswith("reset: ") for l in t.log), t.log)


class RawUart(tcase.TargetCase):
    raw = True

    def test_raw_uart_echo(self):
        t = self.start()
        c = self.client(t, "serial")
        self.assertEqual(c.echo("raw"), {"r": "raw"})
        h, body = c.request(0, 0, 6)
        self.assertEqual(body, {"buf_size": 384, "buf_count": 4})


class Ipv6AndOptions(tcase.TargetCase):
    def test_ipv6_and_buf_size(self):
        args = tcase.BASE_ARGS + ["--factory", os.path.join(self.tmp, "v1.bin"),
                                  "--buf-size", "2048", "--buf-count", "2",
                                  "--mode", "scratch", "--udp", "[::1]:0"]
        t = harness.Target(self.tmp, args, udp=False)
        try:
            t.start()
        except RuntimeError as e:
            if "Address family" in str(e) or "Cannot assign" in str(e):
                self.skipTest("no IPv6 loopback")
            raise
        self.targets.append(t)
        self.assertEqual(t.udp_addr[0], "::1")
        c = self.client(t)
        self.assertEqual(c.read(0, 6), {"buf_size": 2048, "buf_count": 2})
        self.assertEqual(c.read(0, 8, {"query": "mode"}), {"mode": 1})
        self.assertEqual(c.echo("v" * 1500), {"r": "v" * 1500})


if __name__ == "__main__":
    tcase.main()
