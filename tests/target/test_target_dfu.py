# SPDX-License-Identifier: Apache-2.0
"""smpdfu-target: whole DFU cycles through the boot emulation, restarts and
abuse (protocol.md §4.2, §7; architecture.md "Resume after a target restart")."""
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cbor2  # noqa: E402
import harness  # noqa: E402
import smp  # noqa: E402
import tcase  # noqa: E402
from tcase import PAGE, SLOT  # noqa: E402

IMG = 1


def flags(e):
    return {k for k in ("pending", "confirmed", "active", "permanent") if e.get(k)}


class Dfu(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.t = self.start(self.extra())
        self.c = self.client(self.t)

    def extra(self):
        return []

    def test_then_reset(self):
        self.do_test_then_reset()

    def do_test_then_reset(self):
        c = self.c
        self.assertEqual(c.upload(self.v2.data)["match"], True)
        c.write(IMG, 0, {"hash": self.v2.image_hash})
        self.reset(c)
        self.assertTrue(self.t.wait_log("boot: image 0 swap test"))
        s0, s1 = self.slot(c, 0), self.slot(c, 1)
        self.assertEqual(s0["hash"], self.v2.image_hash)
        self.assertEqual(flags(s0), {"active"})           # running, not confirmed
        self.assertEqual(s1["hash"], self.v1.image_hash)
        self.assertEqual(flags(s1), {"confirmed"})        # the revert target
        # the secondary is in use while unconfirmed: uploads and erase refused
        self.assertErr(c.upload(self.v2.data), 1, 9)
        self.assertEqual(c.write(IMG, 1, {"off": 0, "data": self.v2.data[:256],
                                         "len": len(self.v2.data)}, version=0), {"rc": 6})
        self.assertErr(c.write(IMG, 5, {"slot": 1}), 1, 9)
        self.assertErr(c.write(IMG, 0, {"hash": self.v1.image_hash}), 1, 28)
        self.assertErr(c.write(IMG, 0, {"hash": self.v2.image_hash}), 1, 33)
        return c

    def test_test_reset_reverts(self):
        c = self.do_test_then_reset()
        self.reset(c)
        self.assertTrue(self.t.wait_log("boot: image 0 swap revert"))
        s0, s1 = self.slot(c, 0), self.slot(c, 1)
        self.assertEqual(s0["hash"], self.v1.image_hash)
        self.assertEqual(flags(s0), {"active", "confirmed"})
        self.assertEqual(s1["hash"], self.v2.image_hash)
        self.assertEqual(flags(s1), set())
        # the reverted image can be tested again
        c.write(IMG, 0, {"hash": self.v2.image_hash})
        self.assertEqual(flags(self.slot(c, 1)), {"pending"})

    def test_test_reset_confirm_reset_keeps(self):
        c = self.do_test_then_reset()
        st = c.write(IMG, 0, {"confirm": True})
        self.assertEqual(flags(st["images"][0]), {"active", "confirmed"})
        self.assertEqual(flags(st["images"][1]), set())
        self.reset(c)
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        self.assertEqual(flags(self.slot(c, 0)), {"active", "confirmed"})
        # now a new upload is allowed again
        self.assertEqual(c.upload(self.v1.data)["match"], True)

    def test_permanent(self):
        c = self.c
        c.upload(self.v2.data)
        st = c.write(IMG, 0, {"hash": self.v2.image_hash, "confirm": True})
        self.assertEqual(flags(st["images"][1]), {"pending", "permanent"})
        self.reset(c)
        self.assertEqual(flags(self.slot(c, 0)), {"active", "confirmed"})
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        self.reset(c)
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        self.assertEqual(self.slot(c, 1)["hash"], self.v1.image_hash)

    def test_corrupt_secondary_fails_validation(self):
        c = self.c
        c.upload(self.v2.data)
        # flip a payload byte in the flash file: the hash TLV no longer matches
        self.t.stop()
        with open(self.t.flash, "r+b") as f:
            f.seek(SLOT + 0x300)
            b = f.read(1)
            f.seek(SLOT + 0x300)
            f.write(bytes([b[0] ^ 0xFF]))
        self.restart(self.t)
        c = self.client(self.t)
        c.write(IMG, 0, {"hash": self.v2.image_hash})
        self.reset(c)
        self.assertTrue(self.t.wait_log("boot: image 0 swap test rejected"))
        self.assertEqual(self.slot(c, 0)["hash"], self.v1.image_hash)
        self.assertIsNone(self.slot(c, 1))       # MCUboot erased it
        self.assertEqual(smp.flash_read(self.t.flash, SLOT, 64), b"\xff" * 64)

    def test_kill_and_restart_keeps_state_and_progress(self):
        c = self.c
        d = self.v2.data
        c.upload(d, chunk=200, stop=5000)
        self.restart(self.t, kill=True)
        self.assertTrue(self.t.wait_log("upload progress restored"))
        c = self.client(self.t)
        rsp = c.write(IMG, 1, {"off": 0, "data": d[:200], "len": len(d), "sha": self.v2.sha})
        at = rsp["off"]
        self.assertGreater(at, 4000)
        self.assertLessEqual(at, 5000)
        self.assertEqual(c.upload(d, chunk=200, start=at)["match"], True)
        # a pending test survives a kill; the power cycle runs the swap
        c.write(IMG, 0, {"hash": self.v2.image_hash})
        self.restart(self.t, kill=True)
        c = self.client(self.t)
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        self.assertEqual(flags(self.slot(c, 0)), {"active"})

    def test_kill_mid_chunk_stream_resumes_consistently(self):
        # SIGKILL while requests are flowing; whatever the saved offset, the
        # resumed upload must end with a matching image.
        d = harness.make_image(os.path.join(self.tmp, "big.bin"), "3.0.0", 30000, "k")
        c = self.c
        c.upload(d.data, chunk=256, stop=8192)
        for _ in range(3):
            c.send_raw(smp.packet(2, IMG, 1, {"off": 8192, "data": d.data[8192:8448]}))
        self.restart(self.t, kill=True)
        c = self.client(self.t)
        rsp = c.write(IMG, 1, {"off": 0, "data": d.data[:256], "len": len(d.data),
                               "sha": d.sha})
        self.assertGreater(rsp["off"], 0)
        self.assertEqual(c.upload(d.data, chunk=256, start=rsp["off"])["match"], True)
        self.assertEqual(self.slot(c, 1)["hash"], d.image_hash)

    def test_bad_requests_leave_flash_alone(self):
        c = self.c
        c.upload(self.v2.data)
        before = smp.file_digest(self.t.flash)
        rnd = random.Random(7)
        junk = [b"", b"\x00", b"\x02\x00\xff\xff\x00\x01\x00\x01",
                smp.pack_hdr(2, 1, 1, 1, 3) + b"\xa1\x63off",
                smp.pack_hdr(2, 1, 0, 1, 4) + b"\xa1\x64hash",
                smp.packet(2, 1, 1, {"off": 0, "data": b"\x3d\xb8\xf3\x96" + b"\0" * 40}),
                smp.packet(2, 1, 0, {"hash": b"\0" * 32, "confirm": True}),
                smp.packet(2, 1, 5, {"slot": 0}),
                smp.packet(2, 1, 5, {"slot": 2 ** 40}),
                smp.packet(2, 1, 1, {"off": 2 ** 33, "data": b""}),
                smp.packet(2, 1, 1, {"off": 0, "data": self.v2.data[:100], "len": SLOT + 1})]
        for _ in range(300):
            n = rnd.randrange(0, 80)
            body = bytes(rnd.randrange(256) for _ in range(n))
            junk.append(smp.pack_hdr(rnd.choice([0, 2]), rnd.choice([0, 1, 1, 1]),
                                     rnd.choice([0, 1, 5, 6]), 0, len(body) + rnd.choice([0, 0, 5]),
                                     version=rnd.choice([0, 1])) + body)
        for i, j in enumerate(junk):
            c.send_raw(j)
            if i % 16 == 15:
                c.barrier()  # all handled (answered or not): never a receive buffer overrun
        c.barrier()
        self.assertEqual(c.echo("alive"), {"r": "alive"})
        self.assertEqual(smp.file_digest(self.t.flash), before)
        self.assertEqual(self.slot(c, 1)["hash"], self.v2.image_hash)
        self.assertEqual(self.t.proc.poll(), None)


class DfuSelfConfirm(tcase.TargetCase):
    def test_self_confirm_and_test_on_upload(self):
        t = self.start(["--self-confirm", "--test-on-upload"])
        c = self.client(t)
        self.assertEqual(c.upload(self.v2.data)["match"], True)
        self.assertEqual(flags(self.slot(c, 1)), {"pending"})
        self.reset(c)
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        self.assertEqual(flags(self.slot(c, 0)), {"active", "confirmed"})
        self.reset(c)
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        # an upload whose sha does not match is not marked
        self.assertEqual(c.upload(self.v1.data, sha=b"\0" * 32)["match"], False)
        self.assertEqual(flags(self.slot(c, 1)), set())


class DfuOverwrite(tcase.TargetCase):
    def test_overwrite_only(self):
        t = self.start(["--mode", "overwrite"])
        c = self.client(t)
        self.assertEqual(c.read(0, 8, {"query": "mode"}), {"mode": 2})
        c.upload(self.v2.data)
        c.write(IMG, 0, {"hash": self.v2.image_hash})
        self.reset(c)
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)
        self.assertEqual(flags(self.slot(c, 0)), {"active", "confirmed"})
        self.assertIsNone(self.slot(c, 1))
        self.reset(c)
        self.assertEqual(self.slot(c, 0)["hash"], self.v2.image_hash)


class DfuTwoImages(tcase.TargetCase):
    def test_image_1(self):
        net1 = harness.make_image(os.path.join(self.tmp, "net1.bin"), "1.0.0", 5000, "n1")
        net2 = harness.make_image(os.path.join(self.tmp, "net2.bin"), "1.2.0", 7000, "n2")
        t = self.start(["--images", "2", "--buf-size", "2048", "--factory1",
                        os.path.join(self.tmp, "net1.bin")])
        c = self.client(t)
        imgs = self.images(c)
        self.assertEqual([(e["image"], e["slot"]) for e in imgs], [(0, 0), (1, 0)])
        self.assertEqual(imgs[1]["hash"], net1.image_hash)
        self.assertEqual(c.read(IMG, 6)["images"][1],
                         {"image": 1, "slots": [{"slot": 0, "size": SLOT},
                                                {"slot": 1, "size": SLOT, "upload_image_id": 1}]})
        self.assertErr(c.upload(net2.data, image=2), 1, 9)
        self.assertEqual(c.upload(net2.data, image=1, chunk=1024)["match"], True)
        self.assertEqual(self.slot(c, 1, image=1)["hash"], net2.image_hash)
        self.assertIsNone(self.slot(c, 1, image=0))
        # confirming image 1's primary is denied; its secondary may be
        self.assertErr(c.write(IMG, 0, {"hash": net1.image_hash, "confirm": True}), 1, 32)
        st = c.write(IMG, 0, {"hash": net2.image_hash})
        e = [x for x in st["images"] if x["image"] == 1 and x["slot"] == 1][0]
        self.assertEqual(flags(e), {"pending"})
        self.reset(c)
        self.assertTrue(t.wait_log("boot: image 1 swap test"))
        self.assertEqual(self.slot(c, 0, image=1)["hash"], net2.image_hash)
        self.assertEqual(self.slot(c, 0, image=0)["hash"], self.v1.image_hash)


class DfuSigned(tcase.TargetCase):
    def test_signature_checked_on_swap(self):
        script = harness.MKIMAGE
        keys = []
        for name in ("a", "b"):
            k = os.path.join(self.tmp, name + ".pem")
            subprocess.run([sys.executable, script, "genkey", "--type", "ecdsa-p256", k,
                            "--public", k + ".pub"], check=True, capture_output=True)
            keys.append(k)
        good = harness.make_image(os.path.join(self.tmp, "good.bin"), "2.0.0", 5000, "g",
                              extra=["--key", keys[0]])
        other = harness.make_image(os.path.join(self.tmp, "other.bin"), "2.1.0", 5000, "o",
                               extra=["--key", keys[1]])
        harness.make_image(os.path.join(self.tmp, "v1.bin"), "1.0.0", 6000, "a",
                       extra=["--key", keys[0]])
        t = self.start(["--key", keys[0] + ".pub"])
        c = self.client(t)
        c.upload(other.data)
        c.write(IMG, 0, {"hash": other.image_hash})
        self.reset(c)
        self.assertTrue(t.wait_log("boot: image 0 swap test rejected"))
        self.assertIsNone(self.slot(c, 1))
        c.upload(good.data)
        c.write(IMG, 0, {"hash": good.image_hash})
        self.reset(c)
        self.assertEqual(self.slot(c, 0)["hash"], good.image_hash)


if __name__ == "__main__":
    tcase.main()
