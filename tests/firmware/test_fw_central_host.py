# SPDX-License-Identifier: Apache-2.0
"""The central firmware (QEMU, Cortex-M) updates smpdfu-target over UART0
with the image linked into its flash: console framing over the target's
pty, raw UART, UART0 on a TCP socket, every DFU mode, a refusal. Each test
ends with a state read over smpdfu-target's UDP port."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import (LIMIT, FwCase, HostTarget, fw_info, image_hash, image_list, make_image, run_qemu,  # noqa: E402
                   slot, tcp_bridge)


class CentralToHost(FwCase):
    def setUp(self):
        super().setUp()
        self.board = self.boards[0]
        info = fw_info(self.board)
        self.new_hash = image_hash(info["image0"])
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1).hash

    def target(self, extra=(), raw=False):
        return self.track(HostTarget(self.tmp, ["--factory", self.path("v1.bin"), "--slot-size",
                                                "128K"] + list(extra), raw=raw))

    def central(self, serial, args=(), board=None):
        q = self.track(run_qemu(board or self.board, "central", list(args), serial))
        status = q.wait_exit()
        return status, q.log()

    def test_console_test_confirm(self):
        t = self.target(["--buf-size", "1024"])
        status, log = self.central(["-serial", t.pty])
        self.assertEqual(status, 0, log)
        self.assertIn("dfu: done", log)
        self.assertIn("image 0: the new image is confirmed", log)
        up = [l for l in log if l.startswith("upload: image 0, 98856 bytes, packet 1020")]
        self.assertEqual(len(up), 1, log)
        self.assert_slot0(image_list(t.conn()), self.new_hash, True)
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], self.v1_hash)

    def test_raw_uart(self):
        t = self.target(raw=True)
        status, log = self.central(["-serial", t.pty], ["link=raw"])
        self.assertEqual(status, 0, log)
        self.assert_slot0(image_list(t.conn()), self.new_hash, True)

    def test_uart_on_tcp_socket(self):
        """UART0 connected to a TCP server (as to ser2net, Renode or a board's
        debug bridge) with QEMU's -chardev socket."""
        t = self.target()
        ls, port = tcp_bridge(t.pty)
        self.addCleanup(ls.close)
        status, log = self.central(["-chardev", "socket,id=u0,host=127.0.0.1,port=%d" % port,
                                    "-serial", "chardev:u0"])
        self.assertEqual(status, 0, log)
        self.assert_slot0(image_list(t.conn()), self.new_hash, True)

    def test_test_only_leaves_it_unconfirmed(self):
        t = self.target()
        status, log = self.central(["-serial", t.pty], ["mode=test-only", "window=1"])
        self.assertEqual(status, 0, log)
        self.assert_slot0(image_list(t.conn()), self.new_hash, False)

    def test_step_by_step(self):
        """The CLI's single steps from the firmware: upload-only, list, test,
        reset, (the device swaps), confirm, erase."""
        t = self.target()

        def step(*args):
            status, log = self.central(["-serial", t.pty], list(args))
            self.assertEqual(status, 0, log)
            return [l for l in log if l.startswith("list: ")]

        step("mode=upload-only")
        imgs = image_list(t.conn())
        self.assert_slot0(imgs, self.v1_hash, True)
        self.assertEqual(slot(imgs, 0, 1)["hash"], self.new_hash)
        lines = step("cmd=list")
        self.assertIn("list: image 0 slot 1 version 2.0.0 hash " + self.new_hash, lines)
        lines = step("cmd=test", "hash=" + self.new_hash)
        self.assertIn("list: image 0 slot 1 version 2.0.0 hash %s pending" % self.new_hash, lines)
        step("cmd=reset")
        t.proc.wait_line(lambda l: l == "boot: image 0 swap test", timeout=LIMIT)
        lines = step("cmd=confirm")
        self.assertIn("list: image 0 slot 0 version 2.0.0 hash %s active confirmed" % self.new_hash,
                      lines)
        step("cmd=erase", "slot=1")
        imgs = image_list(t.conn())
        self.assert_slot0(imgs, self.new_hash, True)
        self.assertIsNone(slot(imgs, 0, 1))

    def test_step_refused_by_the_device(self):
        t = self.target()
        status, log = self.central(["-serial", t.pty], ["cmd=test", "hash=" + "ab" * 32])
        self.assertEqual(status, 1, log)
        self.assertTrue(any(l.startswith("test: failed: ") for l in log), log)
        self.assert_slot0(image_list(t.conn()), self.v1_hash, True)

    def test_refused_upload_fails_with_status_1(self):
        # a 64 KiB slot cannot hold the ~97 KiB image: the device refuses it
        t = self.target(["--slot-size", "64K"])
        status, log = self.central(["-serial", t.pty])
        self.assertEqual(status, 1, log)
        self.assertTrue(any(l.startswith("dfu: failed (image 0)") for l in log), log)
        imgs = image_list(t.conn())
        self.assert_slot0(imgs, self.v1_hash, True)
        self.assertIsNone(slot(imgs, 0, 1))

    def test_bad_option_exits_2_with_nothing_sent(self):
        t = self.target()
        status, log = self.central(["-serial", t.pty], ["mode=sideways"])
        self.assertEqual(status, 2, log)
        self.assertTrue(any("mode=sideways" in l for l in log), log)
        self.assertFalse([l for l in t.proc.log() if l.startswith("[serial]")])

    def test_other_board(self):
        """The same update from the Cortex-M3 board (mps2-an385), when built."""
        if len(self.boards) < 2:
            self.skipTest("only %s built" % self.boards[0])
        t = self.target()
        status, log = self.central(["-serial", t.pty], board=self.boards[1])
        self.assertEqual(status, 0, log)
        self.assertIn("central: %s, mode test-confirm, 1 image(s) linked (98856 bytes)" % self.boards[1], log)
        self.assert_slot0(image_list(t.conn()), image_hash(fw_info(self.boards[1])["image0"]), True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
