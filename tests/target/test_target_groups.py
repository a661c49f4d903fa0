# SPDX-License-Identifier: Apache-2.0
"""smpdfu-target: the groups beyond OS and image (stat, settings, fs, shell,
enum; taskstat, mpstat, datetime, reset force/boot_mode) and MCUboot serial
recovery, through the independent client in tests/lib (protocol.md §13-§19)."""
import hashlib
import os
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import smp  # noqa: E402
import tcase  # noqa: E402
from smp import (GROUP_ENUM, GROUP_FS, GROUP_IMAGE, GROUP_OS, GROUP_SETTINGS,  # noqa: E402
                 GROUP_SHELL, GROUP_STAT)


def pattern(n, seed):
    out = b""
    block = seed.encode()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return out[:n]


class OsGroup(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.t = self.start(["--buf-size", "2048"])
        self.c = self.client(self.t)

    def test_taskstat_reports_own_threads(self):
        tasks = self.c.read(GROUP_OS, 2)["tasks"]
        self.assertIn("smpdfu-target", tasks)
        main = tasks["smpdfu-target"]
        # ..._ONLY_SUPPORTED_STATS (Zephyr's default): no cswcnt/checkin keys
        self.assertEqual(set(main), {"prio", "tid", "state", "stksiz", "stkuse", "runtime"})
        self.assertGreater(main["stksiz"], 0)
        self.assertGreater(main["stkuse"], 0)
        self.assertEqual(main["state"], 0)  # it is running while it answers
        self.assertEqual(sorted(t["tid"] for t in tasks.values()), list(range(len(tasks))))

    def test_mpstat_heap(self):
        pools = self.c.read(GROUP_OS, 3)["mpools"]
        heap = pools["heap"]
        self.assertEqual(heap["blksiz"], 16)
        # (under ASan mallinfo2() reports zeros: only the relations hold everywhere)
        self.assertLessEqual(heap["nfree"], heap["nblks"])
        self.assertLessEqual(heap["min"], heap["nfree"])

    def test_datetime(self):
        # the RTC is not set at power on
        self.assertEqual(self.c.read(GROUP_OS, 4), {"err": {"group": 0, "rc": 4}})
        self.assertEqual(self.c.read(GROUP_OS, 4, version=0), {"rc": 5})  # v1: ENOENT
        self.assertEqual(self.c.write(GROUP_OS, 4, {"datetime": "2024-02-29T12:34:56.789"}), {})
        got = self.c.read(GROUP_OS, 4)["datetime"]
        self.assertTrue(got.startswith("2024-02-29T12:"), got)
        self.assertRegex(got, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,3}$")
        # a time zone after the seconds is accepted and ignored, as in Zephyr
        self.assertEqual(self.c.write(GROUP_OS, 4, {"datetime": "2030-01-02T03:04:05+02:00"}), {})
        self.assertTrue(self.c.read(GROUP_OS, 4)["datetime"].startswith("2030-01-02T03:0"))
        for bad in ("2024-13-01T00:00:00", "2024-01-01", "yesterday at noon!!", "1899-01-01T00:00:00"):
            self.assertEqual(self.c.write(GROUP_OS, 4, {"datetime": bad}), {"rc": 3}, bad)
        self.assertEqual(self.c.write(GROUP_OS, 4, {"datetime": 5}), {"rc": 3})
        # a day the month does not have: the RTC driver refuses it
        self.assertEqual(self.c.write(GROUP_OS, 4, {"datetime": "2023-02-29T00:00:00"}),
                         {"err": {"group": 0, "rc": 5}})

    def test_reset_boot_mode_out_of_range(self):
        self.assertEqual(self.c.reset(boot_mode=256), {"rc": 3})
        self.assertEqual(self.c.echo("alive"), {"r": "alive"})


class ResetForce(tcase.TargetCase):
    def test_force(self):
        t = self.start(["--reset-needs-force"])
        c = self.client(t)
        self.assertEqual(c.reset(), {"rc": 10})
        self.assertEqual(c.reset(force=False), {"rc": 10})
        self.assertEqual(c.reset(force=True), {})
        self.assertTrue(t.wait_log("reset: application running"))


class StatGroup(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.t = self.start()
        self.c = self.client(self.t)

    def test_list(self):
        rsp = self.c.read(GROUP_STAT, 1)
        self.assertEqual(rsp["rc"], 0)  # stat list keeps the legacy rc
        self.assertEqual(rsp["stat_list"][:3], ["smp", "smp_requests", "smp_errors"])

    def test_counters_count(self):
        a = self.c.stat("smp")
        self.assertEqual(a["name"], "smp")
        b = self.c.stat("smp")["fields"]
        a = a["fields"]
        self.assertEqual(b["requests"] - a["requests"], 1)
        self.assertEqual(b["responses"] - a["responses"], 1)
        self.assertGreater(b["bytes_in"], a["bytes_in"])
        self.assertGreater(b["bytes_out"], a["bytes_out"])
        e0 = self.c.stat("smp_errors")["fields"]
        r0 = self.c.stat("smp_requests")["fields"]
        self.assertEqual(self.c.read(GROUP_OS, 7, {"format": "q"}), {"err": {"group": 0, "rc": 2}})
        e1 = self.c.stat("smp_errors")["fields"]
        r1 = self.c.stat("smp_requests")["fields"]
        self.assertEqual(e1["os"] - e0["os"], 1)
        self.assertEqual(r1["os"] - r0["os"], 1)
        self.assertEqual(r1["stat"] - r0["stat"], 2)

    def test_unknown_group(self):
        # Zephyr reports it under ZEPHYR_MGMT_GRP_BASIC (63)
        self.assertEqual(self.c.stat("nope"), {"err": {"group": 63, "rc": 3}})
        self.assertEqual(self.c.read(GROUP_STAT, 0, {"name": "nope"}, version=0), {"rc": 1})
        self.assertEqual(self.c.read(GROUP_STAT, 0, {"name": ""}), {"rc": 3})
        self.assertEqual(self.c.read(GROUP_STAT, 0, {"name": "x" * 32}), {"rc": 3})


class SettingsGroup(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.t = self.start()
        self.c = self.client(self.t)

    def test_read_write_errors(self):
        self.assertEqual(self.c.settings_write("app/x", b"\x01\x02\x03"), {})
        self.assertEqual(self.c.settings_read("app/x"), {"val": b"\x01\x02\x03"})
        self.assertEqual(self.c.settings_read("app/x", max_size=1), {"val": b"\x01"})
        self.assertEqual(self.c.settings_read("app/x", max_size=1000),
                         {"val": b"\x01\x02\x03", "max_size": 64})
        self.assertEqual(self.c.settings_read("app/none"), {"err": {"group": 3, "rc": 3}})
        self.assertEqual(self.c.settings_read("app/none", version=0), {"rc": 5})
        self.assertEqual(self.c.settings_read("a" * 32), {"err": {"group": 3, "rc": 2}})
        self.assertEqual(self.c.settings_read(""), {"rc": 3})
        self.assertEqual(self.c.settings_write("/x", b"1"), {"err": {"group": 3, "rc": 5}})
        self.assertEqual(self.c.write(GROUP_SETTINGS, 0, {"name": "app/x", "val": "text"}), {"rc": 3})
        self.assertEqual(self.c.write(GROUP_SETTINGS, 2, {}), {})   # commit
        self.assertEqual(self.c.read(GROUP_SETTINGS, 1), {"rc": 8})  # delete is write-only

    def test_save_persists_across_restart_and_kill(self):
        self.assertEqual(self.c.settings_write("app/kept", b"yes"), {})
        self.assertEqual(self.c.write(GROUP_SETTINGS, 3, {}), {})    # save
        self.assertEqual(self.c.settings_write("app/unsaved", b"no"), {})
        self.restart(self.t, kill=True)
        c = self.client(self.t)
        self.assertEqual(c.settings_read("app/kept"), {"val": b"yes"})
        self.assertEqual(c.settings_read("app/unsaved"), {"err": {"group": 3, "rc": 3}})
        # delete removes the stored value; the running value stays until a reboot
        self.assertEqual(c.write(GROUP_SETTINGS, 1, {"name": "app/kept"}), {})
        self.assertEqual(c.settings_read("app/kept"), {"val": b"yes"})
        self.reset(c)
        self.assertTrue(self.t.wait_log("reset: application running"))
        self.assertEqual(c.settings_read("app/kept"), {"err": {"group": 3, "rc": 3}})

    def test_load_restores_stored_values(self):
        self.assertEqual(self.c.settings_write("app/z", b"1"), {})
        self.assertEqual(self.c.write(GROUP_SETTINGS, 3, {}), {})
        self.assertEqual(self.c.settings_write("app/z", b"2"), {})
        self.assertEqual(self.c.settings_read("app/z"), {"val": b"2"})
        self.assertEqual(self.c.read(GROUP_SETTINGS, 3, {}), {})     # load
        self.assertEqual(self.c.settings_read("app/z"), {"val": b"1"})

    def test_store_compacts(self):
        # many saves of the same keys fill a page several times over
        for i in range(300):
            self.assertEqual(self.c.settings_write("app/k%d" % (i % 5), bytes([i % 256]) * 40), {})
            self.assertEqual(self.c.write(GROUP_SETTINGS, 3, {}), {})
        self.restart(self.t)
        c = self.client(self.t)
        for k in range(5):
            last = max(i for i in range(300) if i % 5 == k)
            self.assertEqual(c.settings_read("app/k%d" % k), {"val": bytes([last % 256]) * 40})


class FsGroup(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "root")
        self.outside = os.path.join(self.tmp, "outside")
        os.makedirs(os.path.join(self.root, "sub"))
        os.makedirs(self.outside)
        with open(os.path.join(self.outside, "secret.txt"), "wb") as f:
            f.write(b"top secret")
        os.symlink(self.outside, os.path.join(self.root, "out"))
        os.symlink(os.path.join(self.outside, "secret.txt"), os.path.join(self.root, "s.txt"))
        os.symlink("sub", os.path.join(self.root, "in"))
        self.t = self.start(["--fs-root", self.root, "--buf-size", "1024"])
        self.c = self.client(self.t)

    def test_upload_download_status_hash(self):
        data = pattern(200000, "fs")
        rsp = self.c.fs_upload("/sub/big.bin", data, chunk=900)
        self.assertEqual(rsp, {"off": len(data)})
        with open(os.path.join(self.root, "sub", "big.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        got, first = self.c.fs_download("/sub/big.bin")
        self.assertEqual(got, data)
        self.assertEqual(first["len"], len(data))
        self.assertEqual(first["off"], 0)
        # chunks are sized to the device's buffer
        self.assertGreater(len(first["data"]), 900)
        self.assertLessEqual(len(first["data"]) + 8 + 40, 1024)
        second = self.c.read(GROUP_FS, 0, {"name": "/sub/big.bin", "off": len(first["data"])})
        self.assertNotIn("len", second)  # "len" only in the answer at offset 0
        self.assertEqual(self.c.read(GROUP_FS, 1, {"name": "/sub/big.bin"}), {"len": len(data)})
        h = self.c.read(GROUP_FS, 2, {"name": "/sub/big.bin", "type": "sha256"})
        self.assertEqual(h, {"type": "sha256", "len": len(data),
                             "output": hashlib.sha256(data).digest()})
        h = self.c.read(GROUP_FS, 2, {"name": "/sub/big.bin"})  # default: crc32
        self.assertEqual(h, {"type": "crc32", "len": len(data), "output": zlib.crc32(data)})
        h = self.c.read(GROUP_FS, 2, {"name": "/sub/big.bin", "type": "crc32", "off": 1000,
                                      "len": 5000})
        self.assertEqual(h, {"type": "crc32", "off": 1000, "len": 5000,
                             "output": zlib.crc32(data[1000:6000])})
        self.assertEqual(self.c.read(GROUP_FS, 2, {"name": "/sub/big.bin", "type": "md5"}),
                         {"err": {"group": 8, "rc": 13}})
        self.assertEqual(self.c.read(GROUP_FS, 2, {"name": "/sub/big.bin", "off": len(data)}),
                         {"err": {"group": 8, "rc": 12}})
        self.assertEqual(self.c.read(GROUP_FS, 3), {"types": {
            "crc32": {"format": 0, "size": 4}, "sha256": {"format": 1, "size": 32}}})
        self.assertEqual(self.c.write(GROUP_FS, 4), {})  # close

    def test_resume_after_restart_and_offset_mismatch(self):
        data = pattern(50000, "resume")
        rsp = self.c.fs_upload("/r.bin", data, chunk=700, stop=20000)
        part = rsp["off"]
        self.assertLess(part, len(data))
        self.restart(self.t, kill=True)
        c = self.client(self.t)
        # a wrong offset: err 11 with the file's length, and the transfer is forgotten
        self.assertEqual(c.write(GROUP_FS, 0, {"name": "/r.bin", "off": part + 1, "data": b"x"}),
                         {"err": {"group": 8, "rc": 11}, "len": part})
        rsp = c.fs_upload("/r.bin", data, chunk=700, start=part)
        self.assertEqual(rsp["off"], len(data))
        with open(os.path.join(self.root, "r.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        # the resumed upload never got "len", so its file stays open until a
        # close; then a new upload at offset 0 truncates
        self.assertEqual(c.write(GROUP_FS, 4), {})
        self.assertEqual(c.fs_upload("/r.bin", b"short"), {"off": 5})
        self.assertEqual(os.path.getsize(os.path.join(self.root, "r.bin")), 5)

    def test_escapes_refused(self):
        for name in ("../outside/secret.txt", "/../outside/secret.txt", "sub/../../outside/secret.txt",
                     "/out/secret.txt", "/s.txt"):
            self.assertEqual(self.c.read(GROUP_FS, 0, {"name": name, "off": 0}),
                             {"err": {"group": 8, "rc": 2}}, name)
            self.assertEqual(self.c.read(GROUP_FS, 1, {"name": name}),
                             {"err": {"group": 8, "rc": 2}}, name)
            self.assertEqual(self.c.write(GROUP_FS, 0, {"name": name, "off": 0, "len": 1,
                                                          "data": b"X"}),
                             {"err": {"group": 8, "rc": 2}}, name)
        with open(os.path.join(self.outside, "secret.txt"), "rb") as f:
            self.assertEqual(f.read(), b"top secret")
        # an absolute path is the device's, under the root: no host file behind it
        self.assertEqual(self.c.read(GROUP_FS, 1, {"name": "/etc/passwd"}),
                         {"err": {"group": 8, "rc": 3}})
        # a symlink that stays inside the root is followed
        self.assertEqual(self.c.fs_upload("/in/ok.txt", b"fine"), {"off": 4})
        self.assertTrue(os.path.exists(os.path.join(self.root, "sub", "ok.txt")))

    def test_other_errors(self):
        self.assertEqual(self.c.read(GROUP_FS, 1, {"name": "/sub"}), {"err": {"group": 8, "rc": 4}})
        self.assertEqual(self.c.read(GROUP_FS, 1, {"name": "/none"}), {"err": {"group": 8, "rc": 3}})
        self.assertEqual(self.c.read(GROUP_FS, 1, {"name": "/none"}, version=0), {"rc": 5})
        self.assertEqual(self.c.write(GROUP_FS, 0, {"name": "/nodir/a", "off": 0, "len": 1,
                                                      "data": b"a"}),
                         {"err": {"group": 8, "rc": 14}})
        self.assertEqual(self.c.write(GROUP_FS, 0, {"name": "/a", "off": 0, "data": b"a"}),
                         {"rc": 3})  # no len at offset 0
        self.assertEqual(self.c.read(GROUP_FS, 0, {"name": "/a"}), {"rc": 3})  # no off
        self.assertEqual(self.c.read(GROUP_FS, 1, {"name": "x" * 65}), {"rc": 3})
        open(os.path.join(self.root, "empty"), "wb").close()
        self.assertEqual(self.c.read(GROUP_FS, 2, {"name": "/empty"}), {"err": {"group": 8, "rc": 16}})


class ShellGroup(tcase.TargetCase):
    def setUp(self):
        super().setUp()
        self.t = self.start()
        self.c = self.client(self.t)

    def test_exec(self):
        self.assertEqual(self.c.shell("echo", "hello", "world"), {"o": "hello world\n", "ret": 0})
        self.assertEqual(self.c.shell("kernel", "version"), {"o": "Zephyr version 4.4.0\n", "ret": 0})
        up = self.c.shell("kernel", "uptime")
        self.assertRegex(up["o"], r"^Uptime: \d+ ms\n$")
        self.assertEqual(up["ret"], 0)
        self.assertEqual(self.c.shell("frobnicate", "now"),
                         {"o": "frobnicate: command not found\n", "ret": -8})
        self.assertEqual(self.c.shell(), {"err": {"group": 9, "rc": 3}})
        self.assertEqual(self.c.shell("echo", "x" * 300), {"err": {"group": 9, "rc": 2}})
        self.assertEqual(self.c.write(GROUP_SHELL, 0, {"argv": ["echo", "x" * 300]}, version=0),
                         {"rc": 3})
        self.assertEqual(self.c.write(GROUP_SHELL, 0, {"nope": 1}), {"rc": 3})
        self.assertEqual(self.c.read(GROUP_SHELL, 0, {"argv": ["echo"]}), {"rc": 8})


class EnumGroup(tcase.TargetCase):
    def test_enum(self):
        t = self.start(["--fs-root", self.tmp])
        c = self.client(t)
        groups = c.read(GROUP_ENUM, 1)["groups"]
        self.assertEqual(groups, [0, 1, 2, 3, 8, 9, 10])
        self.assertEqual(c.read(GROUP_ENUM, 0), {"count": len(groups)})
        self.assertEqual(c.read(GROUP_ENUM, 2, {"index": 0}), {"group": 0})
        self.assertEqual(c.read(GROUP_ENUM, 2, {"index": len(groups) - 1}), {"group": 10, "end": True})
        self.assertEqual(c.read(GROUP_ENUM, 2, {"index": len(groups)}), {"err": {"group": 10, "rc": 4}})
        d = c.read(GROUP_ENUM, 3)["groups"]
        self.assertEqual([g["group"] for g in d], groups)
        self.assertEqual(d[0]["name"], "os mgmt")
        self.assertEqual(d[-1], {"group": 10, "name": "enum mgmt", "handlers": 4})
        d = c.read(GROUP_ENUM, 3, {"groups": [9, 77, 1]})["groups"]
        self.assertEqual([g["group"] for g in d], [1, 9])
        self.assertEqual(c.read(GROUP_ENUM, 3, {"groups": list(range(17))}),
                         {"err": {"group": 10, "rc": 2}})


class GroupsOff(tcase.TargetCase):
    def test_switched_off_groups_answer_enotsup(self):
        t = self.start(["--fs-root", self.tmp, "--no-group", "shell", "--no-group", "fs",
                        "--no-group", "taskstat", "--no-group=settings", "--no-group", "stat"])
        c = self.client(t)
        self.assertEqual(c.shell("echo", "x"), {"rc": 8})
        self.assertEqual(c.read(GROUP_FS, 1, {"name": "/x"}), {"rc": 8})
        self.assertEqual(c.read(GROUP_OS, 2), {"rc": 8})
        self.assertEqual(c.settings_read("app/x"), {"rc": 8})
        self.assertEqual(c.stat("smp"), {"rc": 8})
        self.assertEqual(c.read(GROUP_ENUM, 1), {"groups": [0, 1, 10]})
        self.assertIn("mpools", c.read(GROUP_OS, 3))  # the rest is still there

    def test_bad_group_name(self):
        t = harness.Target(self.tmp, tcase.BASE_ARGS + ["--no-group", "nosuch"])
        with self.assertRaises(RuntimeError):
            t.start()


class SerialRecovery(tcase.TargetCase):
    def enter(self, c, t):
        self.assertEqual(c.reset(boot_mode=1), {})
        self.assertTrue(t.wait_log("reset: MCUboot serial recovery"))

    def test_enter_upload_leave(self):
        t = self.start()
        c = self.client(t)
        self.assertEqual(self.slot(c, 0)["version"], "1.0.0")
        self.enter(c, t)
        # boot_serial's answers: a list without state flags, params of its own
        imgs = c.state()["images"]
        self.assertEqual(imgs, [{"slot": 0, "version": "1.0.0", "hash": self.v1.image_hash}])
        self.assertEqual(c.read(GROUP_OS, 6), {"buf_size": 512, "buf_count": 1})
        self.assertEqual(c.echo("boot"), {"r": "boot"})
        self.assertEqual(c.read(GROUP_OS, 7, {"format": "a"}), {"rc": 8})   # no os info
        self.assertEqual(c.read(GROUP_OS, 8), {"rc": 8})                    # no bootloader info
        self.assertEqual(c.shell("echo", "x"), {"rc": 8})
        self.assertEqual(c.write(GROUP_IMAGE, 0, {"confirm": True}), {"rc": 8})
        self.assertEqual(c.write(GROUP_IMAGE, 5, {}), {"rc": 8})            # no erase
        slots = c.read(GROUP_IMAGE, 6)["images"][0]["slots"]
        self.assertEqual(slots[0]["upload_image_id"], 0)
        self.assertNotIn("upload_image_id", slots[1])
        # upload v2 straight into the primary slot: "rc" 0 in every answer, no "match"
        data = self.v2.data
        off = 0
        while off < len(data):
            body = {"off": off, "data": data[off:off + 256]}
            if off == 0:
                body.update({"len": len(data), "image": 0})
            rsp = c.write(GROUP_IMAGE, 1, body)
            self.assertEqual(set(rsp), {"rc", "off"})
            self.assertEqual(rsp["rc"], 0)
            off = rsp["off"]
        # a wrong offset is answered with rc 0 and the expected offset
        self.assertEqual(c.write(GROUP_IMAGE, 1, {"off": 7, "data": b"x"}),
                         {"rc": 0, "off": len(data)})
        # past the length: EINVAL
        self.assertEqual(c.write(GROUP_IMAGE, 1, {"off": len(data), "data": b"x"}), {"rc": 3})
        self.assertEqual(c.state()["images"],
                         [{"slot": 0, "version": "1.1.0", "hash": self.v2.image_hash}])
        # a plain reset: MCUboot boots the uploaded image
        self.assertEqual(c.reset(), {"rc": 0})
        self.assertTrue(t.wait_log("reset: application running"))
        e = self.slot(c, 0)
        self.assertEqual(e["version"], "1.1.0")
        self.assertTrue(e["active"])

    def test_over_the_serial_console(self):
        t = self.start(serial=True)
        c = self.client(t, "serial")
        self.enter(c, t)
        self.assertEqual(c.state()["images"][0]["version"], "1.0.0")
        self.assertEqual(c.read(GROUP_OS, 6), {"buf_size": 512, "buf_count": 1})
        # frames (length + packet + CRC) up to MCUboot's 512 bytes get
        # through, though the application's buf_size is 384
        data = self.v2.data
        off = 0
        while off < len(data):
            body = {"off": off, "data": data[off:off + 470]}
            if off == 0:
                body["len"] = len(data)
            pkt = smp.packet(2, GROUP_IMAGE, 1, body)
            self.assertLessEqual(len(pkt) + 4, 512)
            off = c.write(GROUP_IMAGE, 1, body)["off"]
        self.assertEqual(c.state()["images"][0]["version"], "1.1.0")
        self.assertEqual(c.reset(), {"rc": 0})
        self.assertTrue(t.wait_log("reset: application running"))
        self.assertEqual(c.read(GROUP_OS, 6), {"buf_size": 384, "buf_count": 4})
        self.assertEqual(self.slot(c, 0)["version"], "1.1.0")

    def test_refusals(self):
        t = self.start()
        c = self.client(t)
        self.enter(c, t)
        self.assertEqual(c.write(GROUP_IMAGE, 1, {"data": b"x"}), {"rc": 3})           # no off
        self.assertEqual(c.write(GROUP_IMAGE, 1, {"off": 0, "data": b"x"}), {"rc": 3})  # no len
        self.assertEqual(c.write(GROUP_IMAGE, 1, {"off": 0, "data": b"x", "len": 1 << 20}),
                         {"rc": 3})                                                     # too big
        self.assertEqual(c.write(GROUP_IMAGE, 1, {"off": 0, "data": b"x", "len": 10, "image": 1}),
                         {"rc": 3})   # == image count: its area does not open
        self.assertEqual(c.write(GROUP_IMAGE, 1, {"off": 0, "data": b"x", "len": 10, "image": 5}),
                         {"rc": 5})   # > image count: ENOENT
        # a request with an op other than read/write gets no answer at all
        c.send_raw(smp.packet(1, GROUP_OS, 0, {"d": "x"}))
        self.assertEqual(c.recv_packets(0.3), [])
        # packets larger than the receive buffer are lost
        c.send_raw(smp.packet(0, GROUP_OS, 0, {"d": "y" * 600}))
        self.assertEqual(c.recv_packets(0.3), [])

    def test_no_application(self):
        # an empty flash: MCUboot finds nothing to boot and stays in recovery
        t = self.start(["--recovery-no-app"], factory=False)
        c = self.client(t)
        self.assertTrue(t.wait_log("MCUboot serial recovery"))
        self.assertEqual(c.state(), {"images": []})
        data = self.v1.data
        off = 0
        while off < len(data):
            body = {"off": off, "data": data[off:off + 256]}
            if off == 0:
                body["len"] = len(data)
            off = c.write(GROUP_IMAGE, 1, body)["off"]
        self.assertEqual(c.reset(), {"rc": 0})
        self.assertTrue(t.wait_log("reset: application running"))
        self.assertEqual(self.slot(c, 0)["version"], "1.0.0")

    def test_two_images(self):
        net = harness.make_image(os.path.join(self.tmp, "net.bin"), "2.0.0", 3000, "n")
        t = self.start(["--images", "2", "--factory1", os.path.join(self.tmp, "net.bin")])
        c = self.client(t)
        self.enter(c, t)
        imgs = c.state()["images"]
        self.assertEqual([(e["image"], e["slot"], e["version"]) for e in imgs],
                         [(0, 0, "1.0.0"), (1, 0, "2.0.0")])
        net2 = harness.make_image(os.path.join(self.tmp, "net2.bin"), "2.1.0", 3000, "m")
        data = net2.data
        off = 0
        while off < len(data):
            body = {"off": off, "data": data[off:off + 256]}
            if off == 0:
                body.update({"len": len(data), "image": 1})
            off = c.write(GROUP_IMAGE, 1, body)["off"]
        self.assertEqual(c.reset(), {"rc": 0})
        self.assertTrue(t.wait_log("reset: application running"))
        self.assertEqual(self.slot(c, 0, image=1)["version"], "2.1.0")
        self.assertEqual(self.slot(c, 0, image=0)["version"], "1.0.0")


if __name__ == "__main__":
    tcase.main()
