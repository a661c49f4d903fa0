"""The gateway: `smpdfu serve-image` feeds an image over the central
firmware's uplink UART (UART1, through smpdfu-linkemu serial); the central
holds only an 8 KiB window of it and relays it over UART0 to smpdfu-target.
A 256+ KiB image with the uplink cut and restored mid-transfer (it resumes),
and a corrupted image (the device never receives its last chunk). Each test
ends with a state read of the device."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import (LINKEMU, SMPDFU, FwCase, HostTarget, Proc, image_list, make_image,  # noqa: E402
                   run_qemu, slot)


class Gateway(FwCase):
    def setUp(self):
        super().setUp()
        self.board = self.boards[0]
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1)
        self.t = self.track(HostTarget(self.tmp, ["--factory", self.path("v1.bin"), "--slot-size",
                                                  "384K", "--buf-size", "2048"]))
        le = self.track(Proc([LINKEMU, "serial", "--baud", "0"], "smpdfu-linkemu (uplink)"))
        le.wait_line(lambda l: l == "ready", 30)
        self.up_host = next(l[8:] for l in le.log() if l.startswith("client: "))
        self.up_mcu = next(l[8:] for l in le.log() if l.startswith("target: "))

    def serve(self, image):
        s = self.track(Proc([SMPDFU, "--conn", "serial:" + self.up_host, "serve-image", image],
                            "serve-image"))
        s.wait_line(lambda l: l == "ready", 30)
        return s

    def central(self, args=()):
        return self.track(run_qemu(self.board, "central",
                                   ["source=uplink", "uplink-timeout=300"] + list(args),
                                   ["-serial", self.t.pty, "-serial", self.up_mcu],
                                   name="central firmware (gateway)"))

    def test_256k_with_uplink_cut_and_restored(self):
        big = self.path("big.bin")
        big_hash = make_image(big, "3.0.0", 262144, 7)
        size = os.path.getsize(big)
        self.assertGreaterEqual(size, 256 * 1024)
        s = self.serve(big)
        q = self.central()
        q.wait_line(lambda l: l.startswith("image 0: 25%"))
        cut = len(q.log())
        s.stop()                                   # the uplink goes away mid-transfer
        q.wait_line(lambda l: l == "uplink: no answer, asking again", after=cut)
        self.serve(big)                            # and comes back
        back = q.wait_line(lambda l: l.startswith("uplink: answering again (at byte "), after=cut)
        self.assertGreater(int(back.split("at byte ")[1].rstrip(")")), 0)  # a resume, not a restart
        status = q.wait_exit()
        log = q.log()
        self.assertEqual(status, 0, log)
        self.assertIn("uplink: image of %d bytes (with its sha256)" % size, log)
        ram = [l for l in log if l.startswith("ram: gateway buffers")]
        self.assertEqual(len(ram), 1, log)
        self.assertIn("window 8192,", ram[0])   # what the firmware holds of the image
        imgs = image_list(self.t.udp)
        self.assert_slot0(imgs, big_hash, True)
        self.assertEqual(slot(imgs, 0, 1)["hash"], self.v1_hash)

    def test_corrupted_image_never_completes_on_the_device(self):
        bad = self.path("bad.bin")
        make_image(bad, "3.0.0", 40000, 8)
        size = os.path.getsize(bad)
        with open(bad, "r+b") as f:                # one payload byte: the hash TLV no longer matches
            f.seek(0x400)
            b = f.read(1)
            f.seek(0x400)
            f.write(bytes([b[0] ^ 0x01]))
        self.serve(bad)
        q = self.central()
        status = q.wait_exit()
        log = q.log()
        self.assertEqual(status, 1, log)
        self.assertTrue(any(l.startswith("dfu: failed (image 0)") for l in log), log)
        # the device never got the last byte: no upload answer reached the size
        tlog = self.t.p.log()
        self.assertTrue(any(" img upload " in l for l in tlog), tlog)
        self.assertFalse([l for l in tlog if "-> off=%d " % size in l])
        imgs = image_list(self.t.udp)
        self.assert_slot0(imgs, self.v1_hash, True)
        self.assertIsNone(slot(imgs, 0, 1), imgs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
