# SPDX-License-Identifier: Apache-2.0
"""smpdfu-target: image upload, erase and slot info (protocol.md §4.3-§4.5)."""
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import smp  # noqa: E402
import tcase  # noqa: E402
from tcase import PAGE, SLOT  # noqa: E402

IMG = 1


class Upload(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.t = self.start()
        self.c = self.client(self.t)

    def up(self, body, **kw):
        return self.c.write(IMG, 1, body, **kw)

    def test_first_chunk_checks_in_zephyr_order(self):
        d = self.v2.data
        # data < 32 bytes wins over a missing len
        self.assertErr(self.up({"off": 0, "data": d[:31]}), 1, 22)
        self.assertErr(self.up({"off": 0, "data": d[:64]}), 1, 21)
        bad = b"\0" + d[1:64]
        # bad magic wins over an over-long sha
        self.assertErr(self.up({"off": 0, "data": bad, "len": 100, "sha": b"s" * 33}), 1, 23)
        self.assertErr(self.up({"off": 0, "data": d[:64], "len": len(d), "sha": b"s" * 33}), 1, 24)
        self.assertErr(self.up({"data": d[:64], "len": len(d)}), 1, 20)
        self.assertErr(self.up({"off": 0, "data": d[:64], "len": SLOT + 1}), 1, 30)
        # v1 translation
        self.assertEqual(self.up({"off": 0, "data": d[:31]}, version=0), {"rc": 3})
        self.assertEqual(self.up({"off": 0, "data": bad, "len": 100}, version=0), {"rc": 1})
        self.assertEqual(self.up({"off": 0, "data": d[:64], "len": SLOT + 1}, version=0), {"rc": 1})
        self.assertEqual(self.up({"data": d[:64]}, version=0), {"rc": 3})

    def test_bad_types_and_sizes(self):
        d = self.v2.data
        for body in ({"off": 0, "data": "text", "len": 5},
                     {"off": -1, "data": d[:64], "len": len(d)},
                     {"off": 0, "data": d[:64], "len": 2 ** 32},
                     {"off": 0, "data": d[:64], "len": len(d), "image": -1},
                     {"off": 0, "data": d[:64], "len": len(d), "upgrade": 1},
                     {"off": 0, "data": d[:64], "len": len(d), "sha": "text"}):
            self.assertEqual(self.up(body), {"rc": 3}, body)
        self.assertEqual(self.c.write(IMG, 1, b""), {"rc": 3})

    def test_upload_match_state_and_session_end(self):
        rsp = self.c.upload(self.v2.data)
        self.assertEqual(rsp, {"off": len(self.v2.data), "match": True})
        e = self.slot(self.c, 1)
        self.assertEqual(e["hash"], self.v2.image_hash)
        self.assertEqual(e["version"], "1.1.0")
        for k in ("pending", "confirmed", "active", "permanent"):
            self.assertIs(e[k], False, k)
        self.assertIs(e["bootable"], True)
        a = self.slot(self.c, 0)
        self.assertTrue(a["active"] and a["confirmed"] and not a["pending"])
        self.assertEqual(self.c.state()["splitStatus"], 0)
        self.assertNotIn("image", a)
        # lost final response: the retransmitted last chunk gets off 0
        d = self.v2.data
        last = (len(d) - 1) // 256 * 256
        self.assertEqual(self.up({"off": last, "data": d[last:]}), {"off": 0})
        self.assertEqual(self.slot(self.c, 1)["hash"], self.v2.image_hash)

    def test_match_false_and_short_sha(self):
        rsp = self.c.upload(self.v2.data, sha=hashlib.sha256(b"other").digest())
        self.assertEqual(rsp["match"], False)
        rsp = self.c.upload(self.v2.data, sha=self.v2.sha[:8])
        self.assertEqual(rsp["match"], False)   # a short sha cannot be checked
        rsp = self.c.upload(self.v2.data, sha=False)
        self.assertEqual(rsp, {"off": len(self.v2.data), "match": False})

    def test_already_there_shortcut(self):
        self.c.upload(self.v2.data)
        d = self.v2.data
        rsp = self.up({"off": 0, "data": d[:100], "len": len(d), "sha": self.v2.sha})
        self.assertEqual(rsp, {"off": len(d), "match": True})

    def test_wrong_offset_and_resume(self):
        d = self.v2.data
        self.c.upload(d, chunk=300, stop=3000)
        # a chunk at the wrong offset is dropped, the answer is where we are
        self.assertEqual(self.up({"off": 1000, "data": d[1000:1100]}), {"off": 3000})
        self.assertEqual(self.up({"off": 5000, "data": d[5000:5100]}), {"off": 3000})
        # the client vanishes; a new one resumes by sha
        c2 = self.client(self.t)
        rsp = c2.write(IMG, 1, {"off": 0, "data": d[:300], "len": len(d), "sha": self.v2.sha})
        self.assertEqual(rsp, {"off": 3000})
        rsp = c2.upload(d, start=3000)
        self.assertEqual(rsp["match"], True)
        # another sha starts over
        self.c.upload(self.v1.data, chunk=300, stop=600)
        rsp = self.up({"off": 0, "data": d[:300], "len": len(d), "sha": self.v2.sha})
        self.assertEqual(rsp, {"off": 300})

    def test_no_session_and_overrun(self):
        d = self.v2.data
        self.assertEqual(self.up({"off": 512, "data": d[512:600]}), {"off": 0})
        near = (len(d) - 50) // 128 * 128
        for version, want in ((1, {"err": {"group": 1, "rc": 31}}), (0, {"rc": 1})):
            self.c.upload(d, chunk=128, stop=near)
            self.assertEqual(self.up({"off": near, "data": d[near:] + b"x"}, version=version), want)
            # the error closed the session
            self.assertEqual(self.up({"off": near, "data": d[near:]}), {"off": 0})
        self.assertEqual(self.up({"off": 0, "data": d[:300], "len": len(d),
                                  "sha": self.v2.sha}), {"off": 300})
        self.assertEqual(self.up({"off": 300, "data": b""}), {"off": 300})

    def test_upgrade_flag(self):
        old = harness.make_image(os.path.join(self.tmp, "old.bin"), "0.9.0", 3000, "o")
        same = harness.make_image(os.path.join(self.tmp, "same.bin"), "1.0.0", 3000, "s")
        for img in (old, same):
            self.assertErr(self.c.upload(img.data, upgrade=True), 1, 27)
            self.assertEqual(self.up({"off": 0, "data": img.data[:256],
                                      "len": len(img.data), "upgrade": True}, version=0),
                             {"rc": 6})
        self.assertEqual(self.c.upload(self.v2.data, upgrade=True)["match"], True)

    def test_erase_only_what_is_needed(self):
        big = harness.make_image(os.path.join(self.tmp, "big.bin"), "2.0.0", 40000, "big")
        self.c.upload(big.data)
        small = self.v2.data
        self.c.upload(small)
        base = SLOT  # slot 1
        end = (len(small) + PAGE - 1) // PAGE * PAGE
        # pages past the new image still hold the old image
        self.assertEqual(smp.flash_read(self.t.flash, base + end, 64), big.data[end:end + 64])
        # the trailer page was erased
        self.assertEqual(smp.flash_read(self.t.flash, base + SLOT - PAGE, PAGE), b"\xff" * PAGE)
        self.assertEqual(smp.flash_read(self.t.flash, base, len(small)), small)

    def test_erase(self):
        self.c.upload(self.v2.data)
        self.assertErr(self.c.write(IMG, 5, {"slot": 0}), 1, 9)
        self.assertEqual(self.c.write(IMG, 5, {"slot": 0}, version=0), {"rc": 6})
        self.assertErr(self.c.write(IMG, 5, {"slot": 7}), 1, 14)
        self.assertEqual(self.c.write(IMG, 5, {"slot": "1"}), {"rc": 3})
        self.assertEqual(self.c.write(IMG, 5, b""), {"rc": 3})
        self.assertEqual(self.c.write(IMG, 5, {}), {})   # default: slot 1
        self.assertIsNone(self.slot(self.c, 1))
        self.assertEqual(smp.flash_read(self.t.flash, SLOT, SLOT), b"\xff" * SLOT)
        self.assertEqual(self.c.write(IMG, 5, {"slot": 1}), {})   # already blank
        # erase ends an upload session
        self.c.upload(self.v2.data, stop=512)
        self.assertEqual(self.c.write(IMG, 5, {}), {})
        self.assertEqual(self.up({"off": 512, "data": self.v2.data[512:600]}), {"off": 0})

    def test_slot_info(self):
        self.assertEqual(self.c.read(IMG, 6), {"images": [
            {"image": 0, "slots": [{"slot": 0, "size": SLOT},
                                   {"slot": 1, "size": SLOT, "upload_image_id": 0}]}]})

    def test_state_write_rules(self):
        c = self.c
        self.assertErr(c.write(IMG, 0, {}), 1, 24)                       # test without hash
        self.assertErr(c.write(IMG, 0, {"hash": b"h" * 31}), 1, 24)
        self.assertErr(c.write(IMG, 0, {"hash": b"h" * 32}), 1, 8)
        self.assertEqual(c.write(IMG, 0, {"hash": b"h" * 32}, version=0), {"rc": 1})
        self.assertEqual(c.write(IMG, 0, {"hash": "h" * 32}), {"rc": 3})   # hash is a bstr
        self.assertEqual(c.write(IMG, 0, {"confirm": 1}), {"rc": 3})
        self.assertErr(c.write(IMG, 0, {"hash": self.v1.image_hash}), 1, 33)
        # confirming what runs is a no-op success returning the state
        self.assertEqual(c.write(IMG, 0, {"confirm": True})["images"][0]["confirmed"], True)
        c.upload(self.v2.data)
        h2 = self.v2.image_hash
        st = c.write(IMG, 0, {"hash": h2})
        self.assertTrue(st["images"][1]["pending"] and not st["images"][1]["permanent"])
        self.assertIn("pending", c.write(IMG, 0, {"hash": h2})["images"][1])   # test again: ok
        self.assertErr(c.write(IMG, 0, {"hash": h2, "confirm": True}), 1, 28)
        self.assertEqual(c.write(IMG, 0, {"hash": h2, "confirm": True}, version=0), {"rc": 6})
        self.assertErr(c.write(IMG, 0, {"confirm": True}), 1, 28)
        # re-uploading the same image hits the "already there" shortcut: the
        # pending test stays (nothing is erased)
        self.assertEqual(c.upload(self.v2.data)["match"], True)
        self.assertTrue(self.slot(c, 1)["pending"])
        # erasing a pending slot is allowed (ALLOW_ERASE_PENDING), and so is a
        # new upload into it
        self.assertEqual(c.write(IMG, 5, {}), {})
        c.upload(self.v2.data)
        self.assertFalse(self.slot(c, 1)["pending"])
        st = c.write(IMG, 0, {"hash": h2, "confirm": True})
        self.assertTrue(st["images"][1]["pending"] and st["images"][1]["permanent"])
        self.assertErr(c.write(IMG, 0, {"hash": h2}), 1, 28)
        self.assertEqual(c.write(IMG, 0, {"hash": h2, "confirm": True})["images"][1]["permanent"],
                         True)
        self.assertErr(c.write(IMG, 0, {"confirm": True}), 1, 28)


class UploadSerial(tcase.TargetCase):
    serial = True

    def test_upload_over_pty(self):
        t = self.start()
        c = self.client(t, "serial")
        rsp = c.upload(self.v2.data, chunk=240)
        self.assertEqual(rsp["match"], True)
        self.assertEqual(self.slot(c, 1)["hash"], self.v2.image_hash)


if __name__ == "__main__":
    tcase.main()
