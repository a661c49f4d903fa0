# SPDX-License-Identifier: Apache-2.0
"""MCU to MCU: the central firmware in one QEMU updates the target firmware
in a second QEMU, UART0 to UART0 through smpdfu-linkemu serial (two ptys).
The target's flash is a host file (semihosting); its `os reset` resets the
QEMU machine (SYSRESETREQ) and the firmware runs the swap on the same file.
Each test ends with a state read (smpdfu image list over the same line) and
the flash file read again by smpdfu-target."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import (LINKEMU, FwCase, HostTarget, Proc, fw_info, image_hash, image_list, smpdfu,  # noqa: E402
                   make_image, run_qemu, slot)

SLOT = 128 * 1024


class McuToMcu(FwCase):
    def setUp(self):
        super().setUp()
        self.board = self.boards[0]
        self.info = fw_info(self.board)
        self.new_hash = image_hash(self.info["image0"])
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1).hash

    def line(self, extra=()):
        args = list(extra) if "--baud" in extra else ["--baud", "0"] + list(extra)
        p = self.track(Proc([LINKEMU, "serial"] + args, "smpdfu-linkemu"))
        p.wait_line(lambda l: l == "ready", timeout=30)
        log = p.log()
        client = next(l[8:] for l in log if l.startswith("client: "))
        target = next(l[8:] for l in log if l.startswith("target: "))
        return client, target

    def fw_target(self, pty, args, board=None):
        q = self.track(run_qemu(board or self.board, "target",
                                ["flash=" + self.path("t.flash"), "factory=" + self.path("v1.bin"),
                                 "slot=%d" % SLOT] + list(args), ["-serial", pty],
                                name="target firmware"))
        q.wait_line(lambda l: l.endswith(", ready"))
        return q

    def central(self, pty, args=(), board=None):
        q = self.track(run_qemu(board or self.board, "central", list(args), ["-serial", pty],
                                name="central firmware"))
        return q.wait_exit(), q.log()

    def test_mcu_to_mcu_console(self):
        client, target = self.line(["--baud", "1000000"])  # paced like a 1 Mbaud UART
        tq = self.fw_target(target, ["buf=1024"])
        status, log = self.central(client)
        self.assertEqual(status, 0, log)
        self.assertIn("dfu: done", log)
        # the target really reset and swapped (the QEMU machine rebooted)
        self.assertIn("boot: image 0 swap test", tq.log())
        self.assertEqual(sum(1 for l in tq.log() if l.endswith(", ready")), 2, tq.log())
        conn = "serial:" + client
        self.assert_slot0(image_list(conn), self.new_hash, True)
        self.assertEqual(slot(image_list(conn), 0, 1)["hash"], self.v1_hash)
        # the flash file is smpdfu-target's format: the host tool sees the same state
        tq.stop()
        ht = self.track(HostTarget(self.tmp, ["--slot-size", str(SLOT)], flash=self.path("t.flash")))
        self.assert_slot0(image_list(ht.conn()), self.new_hash, True)

    def test_mcu_to_mcu_raw_uart_other_board(self):
        """Raw UART framing; the target on the Cortex-M3 board when built."""
        client, target = self.line()
        self.fw_target(target, ["link=raw"], board=self.boards[-1])
        status, log = self.central(client, ["link=raw"])
        self.assertEqual(status, 0, log)
        self.assert_slot0(image_list("serial:%s,raw" % client), self.new_hash, True)

    def test_lossy_line(self):
        """Lines lost both ways and bits flipped (fixed seed): the firmware's
        engine goes back or retransmits, and the update completes."""
        client, target = self.line(["--loss", "0.002", "--flip", "0.00002", "--seed", "3"])
        self.fw_target(target, ["buf=1024"])
        status, log = self.central(client)
        self.assertEqual(status, 0, log)
        up = [l for l in log if l.startswith("upload: image 0,")][0]
        smp = [l for l in log if l.startswith("smp: ")][0]
        go_backs = int(up.split("go-backs ")[1].split(",")[0])
        retransmits = int(smp.split(", ")[1].split()[0])
        self.assertGreater(go_backs + retransmits, 0, log)  # the losses happened and were repaired
        self.assert_slot0(image_list("serial:" + client), self.new_hash, True)

    def test_target_reverts_unconfirmed(self):
        """test-only leaves the new image unconfirmed; the next reset (from
        the host CLI) makes the target firmware's MCUboot revert to v1."""
        client, target = self.line()
        tq = self.fw_target(target, [])
        status, log = self.central(client, ["mode=test-only"])
        self.assertEqual(status, 0, log)
        conn = "serial:" + client
        self.assert_slot0(image_list(conn), self.new_hash, False)
        rc = smpdfu(conn, "os", "reset")[0]
        self.assertEqual(rc, 0)
        tq.wait_line(lambda l: l == "boot: image 0 swap revert")
        tq.wait_line(lambda l: l.endswith(", ready") and tq.log().count(l) == 3)
        self.assert_slot0(image_list(conn), self.v1_hash, True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
