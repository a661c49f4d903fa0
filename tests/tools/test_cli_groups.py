# SPDX-License-Identifier: Apache-2.0
"""The smpdfu commands for every group (issue 11) against a real smpdfu-target:
os tasks/mpstat/datetime/groups/reset --bootloader, stat, settings, fs, shell,
enum, a group switched off, fs transfers of a few MiB through smpdfu-linkemu
with loss (fixed seed), transfers resumed after the target was killed (or the
link went dead) at a point chosen by packet count, and `dfu --recovery` for
one image (UDP and serial) and two images. Nothing here waits on time: every outcome is decided by
packet content or counts."""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "client"))
from e2e_common import E2ECase, Target, image_list, make_image, slot, smpdfu  # noqa: E402
from harness import LINKEMU, Proc, Relay, main, smp_hdr  # noqa: E402

SLOT = ["--slot-size", "131072", "--reset-delay-ms", "0"]


def data(n, seed):
    out = bytearray()
    block = seed.encode()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


class Base(E2ECase):
    def setUp(self):
        super().setUp()
        self.root = self.path("root")
        os.makedirs(os.path.join(self.root, "d"))
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 8000, 1).hash

    def dev(self, extra=()):
        self.t = self.target(SLOT + ["--factory", self.path("v1.bin"), "--fs-root", self.root,
                                     "--buf-size", "1024"] + list(extra))
        self.conn = self.t.conn()
        return self.t

    def ok(self, *args, **kw):
        rc, out, err = smpdfu(self.conn, *args, **kw)
        self.assertEqual(rc, 0, (args, out, err))
        return json.loads(out) if kw.get("json_out") else out

    def fails(self, *args, **kw):
        rc, out, err = smpdfu(self.conn, *args, **kw)
        self.assertEqual(rc, 1, (args, out, err))
        return err


class Commands(Base):
    def setUp(self):
        super().setUp()
        self.dev()

    def test_os(self):
        tasks = self.ok("os", "tasks", json_out=True)["tasks"]
        self.assertIn("smpdfu-target", [t["name"] for t in tasks])
        self.assertIn("runtime", self.ok("os", "tasks"))
        pools = self.ok("os", "mpstat", json_out=True)["mpools"]
        self.assertEqual(pools[0]["name"], "heap")
        self.assertEqual(pools[0]["blksiz"], 16)
        # a clock never set: Zephyr's error 4, in words
        self.assertIn("real-time clock is not set", self.fails("os", "datetime"))
        self.ok("os", "datetime", "2031-05-06T07:08:09")
        self.assertTrue(self.ok("os", "datetime", json_out=True)["datetime"].startswith("2031-05-06T07:0"))
        # the RTC refuses a day the month lacks (rc 5)
        self.fails("os", "datetime", "2031-02-30T00:00:00")
        groups = self.ok("os", "groups", json_out=True)["groups"]
        names = {g["group"]: g["name"] for g in groups}
        self.assertEqual(names[0], "os mgmt")
        self.assertEqual(names[8], "fs mgmt")
        self.assertIn("shell mgmt", self.ok("os", "groups"))

    def test_reset_into_bootloader_and_back(self):
        out = self.ok("os", "reset", "--bootloader", json_out=True)
        self.assertTrue(out["bootloader"])
        # MCUboot's boot_serial: no state flags, os info refused (rc 8)
        self.assertFalse(any(e.get("active") for e in image_list(self.conn)))
        self.assertIn("does not support", self.fails("os", "info"))
        self.ok("os", "reset")
        self.assertTrue(slot(image_list(self.conn), 0, 0)["active"])

    def test_stat(self):
        self.assertIn("smp", self.ok("stat", "list", json_out=True)["stat_list"])
        before = self.ok("stat", "read", "smp", json_out=True)["fields"]["requests"]
        after = self.ok("stat", "read", "smp", json_out=True)["fields"]["requests"]
        self.assertEqual(after, before + 1)  # the read itself is a request
        self.assertIn("requests", self.ok("stat", "read", "smp"))
        # Zephyr reports it as group 63's error (stat_mgmt.c passes ZEPHYR_MGMT_GRP_BASIC)
        self.assertIn("no statistics group of that name", self.fails("stat", "read", "nope"))

    def test_settings(self):
        self.ok("settings", "write", "app/name", "sensor-7")
        self.assertEqual(self.ok("settings", "read", "app/name"), "sensor-7\n")
        self.ok("settings", "write", "app/blob", "00ff10", "--hex")
        self.assertEqual(self.ok("settings", "read", "app/blob"), "00ff10\n")
        self.assertEqual(self.ok("settings", "read", "app/name", "--hex", json_out=True)["hex"],
                         b"sensor-7".hex())
        self.ok("settings", "save")
        self.ok("settings", "commit")
        # stored across a restart of the device
        self.t.stop()
        self.t.start()
        self.conn = self.t.conn()
        self.ok("settings", "load")
        self.assertEqual(self.ok("settings", "read", "app/name"), "sensor-7\n")
        self.ok("settings", "delete", "app/name")
        # names from Zephyr's CONFIG_MCUMGR_GRP_SETTINGS_NAME_LEN (32) up are refused
        self.assertIn("settings group error 2", self.fails("settings", "write", "a/" + "n" * 40, "v"))
        rc, _, err = smpdfu(self.conn, "settings", "write", "x", "zz", "--hex")
        self.assertEqual(rc, 2)
        self.assertIn("hex digits", err)

    def test_shell(self):
        rc, out, err = smpdfu(self.conn, "shell", "exec", "echo", "hello", "world")
        self.assertEqual((rc, out), (0, "hello world\n"), err)
        self.assertEqual(self.ok("shell", "exec", "kernel", "version", json_out=True),
                         {"o": "Zephyr version 4.4.0\n", "ret": 0})
        rc, out, err = smpdfu(self.conn, "shell", "exec", "frobnicate")
        self.assertEqual(rc, 1)
        self.assertIn("command not found", out)
        self.assertIn("returned -8", err)
        self.assertEqual(self.fails("shell", "exec", "x" * 300).count("too long"), 1)

    def test_enum(self):
        self.assertEqual(self.ok("enum", "count", json_out=True)["count"], 7)
        self.assertEqual(self.ok("enum", "list", json_out=True)["groups"], [0, 1, 2, 3, 8, 9, 10])
        self.assertEqual(self.ok("enum", "single", "6", json_out=True),
                         {"index": 6, "group": 10, "end": True})
        self.assertIn("enum group error 4", self.fails("enum", "single", "7"))
        got = self.ok("enum", "details", "1", "9", json_out=True)["groups"]
        self.assertEqual([(g["group"], g["name"]) for g in got], [(1, "img mgmt"), (9, "shell mgmt")])

    def test_fs_small_commands(self):
        body = data(5000, "small")
        with open(os.path.join(self.root, "d", "f.bin"), "wb") as f:
            f.write(body)
        self.assertEqual(self.ok("fs", "stat", "/d/f.bin", json_out=True)["len"], 5000)
        h = self.ok("fs", "hash", "/d/f.bin", "--type", "sha256", json_out=True)
        self.assertEqual(h["output"], hashlib.sha256(body).hexdigest())
        import zlib
        h = self.ok("fs", "hash", "/d/f.bin", "--off", "100", "--len", "200", json_out=True)
        self.assertEqual((h["type"], h["output"]), ("crc32", "%08x" % zlib.crc32(body[100:300])))
        types = {t["name"]: t for t in self.ok("fs", "types", json_out=True)["types"]}
        self.assertEqual(types["sha256"]["size"], 32)
        self.ok("fs", "close")
        self.assertIn("fs group error 3", self.fails("fs", "stat", "/d/none"))
        # escapes are refused by the device, and said so
        self.assertIn("fs group error 2", self.fails("fs", "download", "/../etc/passwd", self.path("x")))

    def test_fs_roundtrip_small_and_empty(self):
        for n in (0, 1, 700, 70000):
            src = self.path("in%d" % n)
            with open(src, "wb") as f:
                f.write(data(n, str(n)))
            up = self.ok("fs", "upload", src, "/d/n%d" % n, json_out=True)
            if n == 70000:
                # -v: one progress line per step, as image upload (no terminal here)
                rc, _, err = smpdfu(self.conn, "-v", "fs", "upload", src, "/d/v", "--no-resume")
                self.assertEqual(rc, 0, err)
                self.assertIn("progress fs 70000/70000", err)
            self.assertEqual(up["uploaded"], n)
            with open(os.path.join(self.root, "d", "n%d" % n), "rb") as f:
                self.assertEqual(f.read(), data(n, str(n)))
            dst = self.path("out%d" % n)
            down = self.ok("fs", "download", "/d/n%d" % n, dst, json_out=True)
            self.assertEqual(down["downloaded"], n)
            with open(dst, "rb") as f:
                self.assertEqual(f.read(), data(n, str(n)))


class SwitchedOff(Base):
    def test_group_switched_off(self):
        self.dev(["--no-group", "shell", "--no-group", "taskstat"])
        self.assertIn("does not support", self.fails("shell", "exec", "help"))
        self.assertIn("does not support", self.fails("os", "tasks"))
        names = [g["name"] for g in self.ok("os", "groups", json_out=True)["groups"]]
        self.assertNotIn("shell mgmt", names)


class Lossy(Base):
    """A few MiB each way through smpdfu-linkemu dropping 3 % of the datagrams
    (fixed seed)."""

    def test_fs_through_lossy_link(self):
        self.dev()
        emu = Proc([LINKEMU, "udp", "--listen", "127.0.0.1:0", "--target",
                    "127.0.0.1:%d" % self.t.udp_port, "--loss", "0.03", "--seed", "7"]).wait_ready()
        try:
            conn = "udp:" + emu.info["listen"]
            body = data(3 * 1024 * 1024, "lossy")
            src = self.path("big.bin")
            with open(src, "wb") as f:
                f.write(body)
            rc, out, err = smpdfu(conn, "fs", "upload", src, "/d/big.bin", json_out=True,
                                  extra=["--timeout", "0.2", "--retries", "20"], timeout=600)
            self.assertEqual(rc, 0, err)
            up = json.loads(out)
            self.assertTrue(up["verified"])
            self.assertGreater(up["retransmits"] + up["go_backs"], 0)  # the loss was felt
            with open(os.path.join(self.root, "d", "big.bin"), "rb") as f:
                self.assertEqual(f.read(), body)
            dst = self.path("back.bin")
            rc, out, err = smpdfu(conn, "fs", "download", "/d/big.bin", dst, json_out=True,
                                  extra=["--timeout", "0.2", "--retries", "20"], timeout=600)
            self.assertEqual(rc, 0, err)
            self.assertTrue(json.loads(out)["verified"])
            with open(dst, "rb") as f:
                self.assertEqual(f.read(), body)
        finally:
            emu.kill()


class Resume(Base):
    def test_upload_resumes_after_the_target_is_killed(self):
        self.dev()
        body = data(1024 * 1024, "resume")
        src = self.path("up.bin")
        with open(src, "wb") as f:
            f.write(body)
        seen = [0]

        def pass_c2t(d):
            if smp_hdr(d) == (2, 8, 0):
                seen[0] += 1
                if seen[0] == 300:  # the 300th chunk never arrives: the device dies
                    self.t.kill()
                    return False
            return seen[0] < 300

        relay = Relay(self.t.udp_port, lambda way, d: way == "c2t" and not pass_c2t(d))
        try:
            rc, out, err = smpdfu("udp:127.0.0.1:%d" % relay.port, "fs", "upload", src, "/d/up.bin",
                                  extra=["--timeout", "0.3", "--retries", "1"])
        finally:
            relay.close()
        self.assertEqual(rc, 1)
        self.assertIn("run the same command again to resume", err)
        have = os.path.getsize(os.path.join(self.root, "d", "up.bin"))
        self.assertGreater(have, 0)
        self.assertLess(have, len(body))
        self.t.start()
        self.conn = self.t.conn()
        up = self.ok("fs", "upload", src, "/d/up.bin", json_out=True)
        self.assertTrue(up["resumed"])
        self.assertEqual(up["resume_off"], have)
        self.assertEqual(up["bytes_sent"], len(body) - have)
        self.assertTrue(up["verified"])
        with open(os.path.join(self.root, "d", "up.bin"), "rb") as f:
            self.assertEqual(f.read(), body)

    def test_download_resumes_after_the_target_is_killed(self):
        self.dev()
        body = data(1024 * 1024, "down")
        with open(os.path.join(self.root, "d", "dn.bin"), "wb") as f:
            f.write(body)
        seen = [0]

        def pass_c2t(d):
            if smp_hdr(d) == (0, 8, 0):
                seen[0] += 1
                if seen[0] == 400:  # the device dies before it reads the 400th ask
                    self.t.kill()
            return seen[0] < 400

        relay = Relay(self.t.udp_port, lambda way, d: way == "c2t" and not pass_c2t(d))
        dst = self.path("dn.bin")
        try:
            rc, out, err = smpdfu("udp:127.0.0.1:%d" % relay.port, "fs", "download", "/d/dn.bin",
                                  dst, extra=["--timeout", "0.3", "--retries", "1"])
        finally:
            relay.close()
        self.assertEqual(rc, 1)
        kept = os.path.getsize(dst)
        self.assertGreater(kept, 0)
        self.assertLess(kept, len(body))
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), body[:kept])  # only whole bytes are kept
        self.t.start()
        self.conn = self.t.conn()
        down = self.ok("fs", "download", "/d/dn.bin", dst, json_out=True)
        self.assertTrue(down["resumed"])
        self.assertEqual(down["resume_off"], kept)
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), body)


class Recovery(Base):
    def test_one_image(self):
        self.dev()
        v2 = make_image(self.path("v2.bin"), "2.0.0", 30000, 2).hash
        out = self.ok("dfu", "--recovery", self.path("v2.bin"), json_out=True)
        self.assertEqual((out["status"], out["running"], out["entered_by_reset"]), ("ok", "2.0.0", True))
        a = slot(image_list(self.conn), 0, 0)
        self.assertEqual(a["hash"], v2)
        self.assertTrue(a["active"])
        self.assertIn("MCUboot serial recovery", "\n".join(self.t.lines()))

    def test_one_image_over_serial(self):
        """The usual way into MCUboot's serial recovery: a UART (512-byte frames there)."""
        self.t = self.target(SLOT + ["--factory", self.path("v1.bin"), "--buf-size", "1024"],
                             serial=True)
        self.conn = self.t.conn("serial")
        v2 = make_image(self.path("v2.bin"), "2.0.0", 30000, 2).hash
        out = self.ok("dfu", "--recovery", self.path("v2.bin"), json_out=True)
        self.assertEqual(out["running"], "2.0.0")
        self.assertEqual(slot(image_list(self.conn), 0, 0)["hash"], v2)

    def test_two_images(self):
        make_image(self.path("n1.bin"), "1.0.0", 5000, 11)
        self.dev(["--images", "2", "--factory1", self.path("n1.bin")])
        v2 = make_image(self.path("v2.bin"), "2.0.0", 30000, 2).hash
        n2 = make_image(self.path("n2.bin"), "2.1.0", 9000, 12).hash
        self.ok("dfu", "--recovery", self.path("v2.bin"), "--image1", self.path("n2.bin"))
        imgs = image_list(self.conn)
        self.assertEqual(slot(imgs, 0, 0)["hash"], v2)
        self.assertEqual(slot(imgs, 1, 0)["hash"], n2)

    def test_image1_on_a_one_image_bootloader_is_refused_in_words(self):
        self.dev()
        make_image(self.path("v2.bin"), "2.0.0", 30000, 2)
        make_image(self.path("n2.bin"), "2.1.0", 9000, 12)
        err = self.fails("dfu", "--recovery", self.path("v2.bin"), "--image1", self.path("n2.bin"))
        self.assertIn("the bootloader has no such image", err)

    def test_bricked_device_already_in_recovery(self):
        self.t = self.target(SLOT + ["--recovery-no-app"])
        self.conn = self.t.conn()
        v2 = make_image(self.path("v2.bin"), "2.0.0", 30000, 2).hash
        out = self.ok("dfu", "--recovery", self.path("v2.bin"), json_out=True)
        self.assertFalse(out["entered_by_reset"])
        self.assertEqual(slot(image_list(self.conn), 0, 0)["hash"], v2)


if __name__ == "__main__":
    main()
