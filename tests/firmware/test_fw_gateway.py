"""The gateway: `smpdfu serve-image` feeds an image over the central
firmware's uplink UART (UART1, through smpdfu-linkemu serial); the central
holds only an 8 KiB window of it and relays it over UART0 to smpdfu-target.
A 256+ KiB image with the uplink cut and restored mid-transfer (it resumes),
a corrupted image (the device never receives its last chunk), and an uplink
line that loses pieces and flips bits (seeded). Each test
ends with a state read of the device."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import (LINKEMU, SMPDFU, FwCase, HostTarget, Proc, image_list, make_image,  # noqa: E402
                   run_qemu, slot)


class GatewayBase(FwCase):
    uplink_line = ["--baud", "0"]

    def setUp(self):
        super().setUp()
        self.board = self.boards[0]
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1)
        self.t = self.track(HostTarget(self.tmp, ["--factory", self.path("v1.bin"), "--slot-size",
                                                  "384K", "--buf-size", "2048"]))
        le = self.track(Proc([LINKEMU, "serial"] + self.uplink_line, "smpdfu-linkemu (uplink)"))
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
                                   ["source=uplink"] + list(args) + ["uplink-timeout=300"],
                                   ["-serial", self.t.pty, "-serial", self.up_mcu],
                                   name="central firmware (gateway)"))


class Gateway(GatewayBase):
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


class LossyUplink(GatewayBase):
    """The uplink line loses pieces (linkemu cuts the stream at newline bytes,
    about every 256 bytes of binary frames) and flips bits, with fixed seeds:
    the block protocol asks again, the device gets the exact image."""
    uplink_line = ["--baud", "0", "--loss", "0.03", "--flip", "0.0002", "--seed", "5"]

    def test_lossy_uplink(self):
        img = self.path("img.bin")
        img_hash = make_image(img, "3.0.0", 48000, 9)
        self.serve(img)
        q = self.central(["uplink-timeout=200"])  # the first value of an option counts
        status = q.wait_exit()
        log = q.log()
        self.assertEqual(status, 0, log)
        stats = [l for l in log if l.startswith("uplink: ") and " resends, " in l]
        self.assertEqual(len(stats), 1, log)
        self.assertGreater(int(stats[0].split()[1]), 0, stats)   # losses happened and were repaired
        self.assert_slot0(image_list(self.t.udp), img_hash, True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
