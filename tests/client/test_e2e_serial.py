# SPDX-License-Identifier: Apache-2.0
"""End-to-end: the smpdfu CLI against a real smpdfu-target over its pty
(console framing and raw UART)."""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import E2ECase, image_list, reset, slot, smpdfu  # noqa: E402
from harness import tcp_bridge  # noqa: E402


class Serial(E2ECase):
    def test_seed_flow_console(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, serial=True)
        c = t.conn("serial")
        rc, out, err = smpdfu(c, "os", "params", json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["max_packet"], 380)  # buf_size 384 - 4
        rc, out, err = smpdfu(c, "image", "upload", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["chunk_packet"], 380)
        # every chunk but the first and the last filled the 380-byte limit:
        # 8 header + A2 + "data" (5) + bstr head (3) + "off" (4) + off (3) = 24
        # the log of every chunk is in once the target has logged a later request
        lens = [int(x) for x in re.findall(r" img upload .*? len=(\d+)", "\n".join(t.sync(c)))]
        self.assertGreater(len(lens), 100)
        self.assertEqual(set(lens[1:-1]), {380 - 24})
        self.assertEqual(slot(image_list(c), 0, 1)["hash"], self.v2_hash)
        self.assertEqual(smpdfu(c, "image", "test", self.v2_hash)[0], 0)
        self.assert_slot0(reset(t, c), self.v2_hash, False)
        self.assertEqual(smpdfu(c, "image", "confirm")[0], 0)
        self.assert_slot0(reset(t, c), self.v2_hash, True)

    def test_dfu_console(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, serial=True)
        c = t.conn("serial")
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertTrue(json.loads(out)["reset"])
        self.assert_slot0(image_list(c), self.v2_hash, True)

    def test_dfu_raw_uart(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, raw=True)
        c = t.conn("raw")
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"))
        self.assertEqual(rc, 0, err)
        self.assert_slot0(image_list(c), self.v2_hash, True)

    def test_os_commands(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, serial=True)
        c = t.conn("serial")
        rc, out, err = smpdfu(c, "os", "echo", "hello there")
        self.assertEqual((rc, out.strip()), (0, "hello there"), err)
        rc, out, err = smpdfu(c, "os", "bootloader", json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["bootloader"], "MCUboot")
        rc, out, err = smpdfu(c, "os", "info", "x")
        self.assertEqual(rc, 1)
        self.assertIn("the device refused", err)


class SerialOverTcp(E2ECase):
    def test_dfu_over_tcp(self):
        """A UART exposed over TCP (QEMU, Renode, ser2net): console framing."""
        self.images()
        t = self.target(["--factory", self.path("v1.bin")], udp=None, serial=True)
        ls, port = tcp_bridge(t.pty)
        self.addCleanup(ls.close)
        c = "tcp:127.0.0.1:%d" % port
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertTrue(json.loads(out)["reset"])
        self.assert_slot0(image_list(c), self.v2_hash, True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
