# SPDX-License-Identifier: Apache-2.0
"""End-to-end: the smpdfu CLI against a real smpdfu-target process over UDP."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import (SMPDFU, E2ECase, Target, image_list, make_image, reset, slot,  # noqa: E402
                        smpdfu)


class SeedFlow(E2ECase):
    def test_upload_test_reset_confirm(self):
        """upload v2 -> listed in slot 1 -> test -> reset -> v2 runs unconfirmed
        -> confirm -> reset -> still v2."""
        self.images()
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        imgs = image_list(c)
        self.assertEqual(slot(imgs, 0, 0)["hash"], self.v1_hash)
        self.assertTrue(slot(imgs, 0, 0)["active"] and slot(imgs, 0, 0)["confirmed"])

        rc, out, err = smpdfu(c, "image", "upload", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        # serial-sized device buffer (384) over UDP: every chunk packet is 384
        self.assertEqual(res["chunk_packet"], 384)
        self.assertEqual(res["window"], 4)
        s1 = slot(image_list(c), 0, 1)
        self.assertEqual(s1["hash"], self.v2_hash)
        self.assertFalse(s1["pending"])

        rc, out, err = smpdfu(c, "image", "test", self.v2_hash)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"flags:.*pending")
        imgs = reset(t, c)
        a = slot(imgs, 0, 0)
        self.assertEqual(a["hash"], self.v2_hash)
        self.assertTrue(a["active"])
        self.assertFalse(a["confirmed"])

        rc, _, err = smpdfu(c, "image", "confirm")
        self.assertEqual(rc, 0, err)
        self.assertTrue(slot(image_list(c), 0, 0)["confirmed"])
        self.assert_slot0(reset(t, c), self.v2_hash, True)

    def test_revert_without_confirm(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), "--mode", "test-only")
        self.assertEqual(rc, 0, err)
        self.assertIn("runs unconfirmed", err)
        self.assert_slot0(image_list(c), self.v2_hash, False)
        self.assert_slot0(reset(t, c), self.v1_hash, True)

    def test_dfu_test_and_confirm(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        self.assertEqual(res["status"], "ok")
        self.assertTrue(res["reset"])
        self.assertTrue(res["images"][0]["uploaded"])
        self.assert_slot0(image_list(c), self.v2_hash, True)
        # Confirmed survives a reset.
        self.assert_slot0(reset(t, c), self.v2_hash, True)
        # Running it already: nothing to do, no reset.
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        self.assertFalse(res["reset"])
        self.assertFalse(res["images"][0]["uploaded"])

    def test_self_confirming_target(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin"), "--self-confirm"])
        c = t.conn()
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"))
        self.assertEqual(rc, 0, err)
        self.assertIn("already confirmed itself", err)
        self.assert_slot0(image_list(c), self.v2_hash, True)

    def test_confirm_only(self):
        self.images()
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), "--mode", "confirm-only")
        self.assertEqual(rc, 0, err)
        self.assertIn("boot permanently", err)
        self.assert_slot0(image_list(c), self.v2_hash, True)

    def test_already_pending_error_in_words(self):
        self.images()
        v3 = make_image(self.path("v3.bin"), "3.0.0", 5000, 3).hash
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        self.assertEqual(smpdfu(c, "dfu", self.path("v2.bin"), "--mode", "upload-only")[0], 0)
        self.assertEqual(smpdfu(c, "image", "test", self.v2_hash)[0], 0)
        # The pending v2 is in slot 1: a confirm of the running slot is refused.
        rc, out, err = smpdfu(c, "image", "test", v3)
        self.assertEqual(rc, 1)
        self.assertIn("the device refused the test", err)
        self.assertIn("(image group error 8", err)  # v3 is nowhere: HASH_NOT_FOUND
        rc, out, err = smpdfu(c, "image", "confirm", self.v1_hash)
        self.assertEqual(rc, 1)
        self.assertIn("already pending", err)
        self.assertIn("image group error 28", err)


class Resume(E2ECase):
    def test_resume_after_target_killed(self):
        """SIGKILL the target mid-upload, restart it on the same port and
        flash: the upload continues from the saved offset, not from zero."""
        self.images(v2_size=200000)
        t = Target(self.dir, ["--factory", self.path("v1.bin"), "--write-us-per-kib", "15000"])
        self.targets.append(t)
        t.start()
        port = t.udp_port
        c = t.conn()
        p = subprocess.Popen([SMPDFU, "-v", "--conn", c, "--timeout", "0.5", "--retries", "20", "--json",
                              "image", "upload", self.path("v2.bin")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        size = os.path.getsize(self.path("v2.bin"))
        killed_at = None
        for line in p.stderr:
            m = re.match(r"progress upload (\d+)/(\d+)", line)
            if m and int(m.group(1)) > size // 3:
                killed_at = int(m.group(1))
                t.kill()
                break
        self.assertIsNotNone(killed_at, "no progress seen")
        t2 = Target(self.dir, ["--write-us-per-kib", "1000"], flash=t.flash)
        self.targets.append(t2)
        t2.start(udp="127.0.0.1:%d" % port)
        rest = p.stderr.read()
        out = p.stdout.read()
        self.assertEqual(p.wait(60), 0, rest)
        res = json.loads(out)
        self.assertEqual(res["restarts"], 0)
        # The restarted target never started a new session: its first upload
        # answer named an offset past zero (its saved progress), and every
        # chunk after that was at or past it.
        ups = [l for l in t2.sync(c) if " img upload " in l]
        self.assertTrue(ups, t2.lines())
        self.assertFalse([l for l in ups if "(new)" in l], ups[:5])
        m = re.search(r"-> off=(\d+)", ups[0])
        self.assertIsNotNone(m, ups[0])
        resumed = int(m.group(1))
        self.assertGreater(resumed, 0)
        # Not past what the first target got before it died (its log is
        # complete once it exited; one request may have been written but not
        # logged). The client's own progress line lags, so it is no bound.
        held = [int(x) for x in re.findall(r" img upload .*-> off=(\d+)", "\n".join(t.lines()))]
        self.assertTrue(held)
        self.assertLessEqual(resumed, max(held) + 4096)
        offs_sent = [int(x) for x in re.findall(r" off=(\d+) len=", "\n".join(ups[1:]))]
        self.assertTrue(offs_sent and min(offs_sent) >= resumed, offs_sent[:5])
        # the client's progress never went back to the start
        offs = [int(x) for x in re.findall(r"progress upload (\d+)/", rest)]
        self.assertTrue(offs and min(offs) >= resumed, offs[:5])
        self.assertEqual(slot(image_list(c), 0, 1)["hash"], self.v2_hash)

    def test_resume_after_client_killed(self):
        """The link is lost (client killed) mid-upload; a new upload of the
        same file resumes: first chunk with the same sha -> device offset."""
        self.images(v2_size=150000)
        t = self.target(["--factory", self.path("v1.bin"), "--write-us-per-kib", "10000"])
        c = t.conn()
        p = subprocess.Popen([SMPDFU, "-v", "--conn", c, "--json", "image", "upload", self.path("v2.bin")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        size = os.path.getsize(self.path("v2.bin"))
        at = None
        for line in p.stderr:
            m = re.match(r"progress upload (\d+)/", line)
            if m and int(m.group(1)) > size // 4:
                at = int(m.group(1))
                p.kill()
                break
        p.wait()
        self.assertIsNotNone(at)
        rc, out, err = smpdfu(c, "image", "upload", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        self.assertTrue(res["resumed"])
        self.assertGreaterEqual(res["resume_off"], at)
        self.assertEqual(slot(image_list(c), 0, 1)["hash"], self.v2_hash)

    def test_zephyr_like_target_restarts_from_zero(self):
        """A target without a saved session (Zephyr) loses the upload on a
        restart: the client notices (off 0), starts over and says so."""
        self.images(v2_size=120000)
        t = Target(self.dir, ["--factory", self.path("v1.bin"), "--write-us-per-kib", "10000", "--no-resume"])
        self.targets.append(t)
        t.start()
        port = t.udp_port
        p = subprocess.Popen([SMPDFU, "-v", "--conn", t.conn(), "--timeout", "0.5", "--retries", "20",
                              "--json", "image", "upload", self.path("v2.bin")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        size = os.path.getsize(self.path("v2.bin"))
        for line in p.stderr:
            m = re.match(r"progress upload (\d+)/", line)
            if m and int(m.group(1)) > size // 4:
                t.kill()
                break
        t2 = Target(self.dir, ["--no-resume"], flash=t.flash)
        self.targets.append(t2)
        t2.start(udp="127.0.0.1:%d" % port)
        rest = p.stderr.read()
        self.assertEqual(p.wait(60), 0, rest)
        res = json.loads(p.stdout.read())
        self.assertEqual(res["restarts"], 1)
        self.assertGreaterEqual(res["session_losses"], 1)
        self.assertEqual(slot(image_list(t2.conn()), 0, 1)["hash"], self.v2_hash)


class TwoImages(E2ECase):
    def test_app_and_netcore(self):
        self.images()
        n1 = make_image(self.path("n1.bin"), "1.0.0", 8000, 11).hash
        n2 = make_image(self.path("n2.bin"), "1.1.0", 12000, 12).hash
        # 4 slots listed: the state answer needs more than Zephyr's default 384 bytes
        t = self.target(["--images", "2", "--buf-size", "2048", "--factory", self.path("v1.bin"), "--factory1", self.path("n1.bin")])
        c = t.conn()
        rc, out, err = smpdfu(c, "dfu", self.path("v2.bin"), "--image1", self.path("n2.bin"))
        self.assertEqual(rc, 0, err)
        # the network core went first
        self.assertLess(err.index("image 1: uploading"), err.index("image 0: uploading"))
        imgs = image_list(c)
        self.assertEqual(slot(imgs, 0, 0)["hash"], self.v2_hash)
        self.assertTrue(slot(imgs, 0, 0)["confirmed"])
        if slot(imgs, 1, 0) is not None:
            self.assertEqual(slot(imgs, 1, 0)["hash"], n2)


class Failures(E2ECase):
    def test_malformed_image_refused_before_sending(self):
        self.images()
        data = bytearray(open(self.path("v2.bin"), "rb").read())
        data[1000] ^= 0xFF  # payload byte: the hash TLV no longer matches
        open(self.path("bad.bin"), "wb").write(data)
        t = self.target(["--factory", self.path("v1.bin")])
        for args in (["dfu", self.path("bad.bin")], ["image", "upload", self.path("bad.bin")]):
            rc, out, err = smpdfu(t.conn(), *args)
            self.assertEqual(rc, 1)
            self.assertIn("nothing was sent", err)
            self.assertIn("hash does not match", err)
        open(self.path("junk.bin"), "wb").write(b"\x00" * 100)
        rc, out, err = smpdfu(t.conn(), "dfu", self.path("junk.bin"), json_out=True)
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out)["code"], "SMPDFU_EIMG_MAGIC")
        # The target logs every request it gets as "[udp] ...", in order: after
        # a marker echo, only the echo (or its retransmissions) is there.
        reqs = [l for l in t.sync(t.conn()) if l.startswith("[")]
        self.assertTrue(reqs)
        self.assertEqual([l for l in reqs if " os echo " not in l], [])

    def test_dead_device_reported_within_timeout(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))  # a port where nobody answers SMP
        port = s.getsockname()[1]
        t0 = time.monotonic()
        rc, out, err = smpdfu("udp:127.0.0.1:%d" % port, "image", "list",
                              extra=["--timeout", "0.4", "--retries", "2"])
        took = time.monotonic() - t0
        # What the client did: the request and its two retransmissions, the
        # same packet each time, then it gave up.
        s.settimeout(60)
        tries = [s.recv(65536) for _ in range(3)]
        s.setblocking(False)
        with self.assertRaises(BlockingIOError):
            s.recv(65536)
        s.close()
        self.assertEqual(len(set(tries)), 1)
        self.assertEqual(rc, 1)
        self.assertIn("no answer", err)
        self.assertIn("right port", err)
        # Never early (a lower bound a slow machine cannot break): each of the
        # 3 tries waited its 0.4 s. How late it gave up is not asserted.
        self.assertGreaterEqual(took, 1.2)
        # nothing listening at all (ICMP refused) is the same silence
        rc, out, err = smpdfu("udp:127.0.0.1:%d" % port, "os", "echo", "x",
                              extra=["--timeout", "0.3", "--retries", "0"])
        self.assertEqual(rc, 1)
        self.assertIn("no answer", err)
        # TCP: refused at once
        rc, out, err = smpdfu("tcp:127.0.0.1:%d" % port, "os", "echo", "x")
        self.assertEqual(rc, 1)
        self.assertIn("cannot open", err)
        # bad spec: usage error
        rc, out, err = smpdfu("bogus:thing", "os", "echo", "x")
        self.assertEqual(rc, 2)

    def test_ipv6(self):
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.bind(("::1", 0))
            s.close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        self.images()
        t = Target(self.dir, ["--factory", self.path("v1.bin")])
        self.targets.append(t)
        t.start(udp="[::1]:0")
        rc, out, err = smpdfu("udp:[::1]:%d" % t.udp_port, "os", "echo", "six")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "six")


if __name__ == "__main__":
    unittest.main(verbosity=2)
