# SPDX-License-Identifier: Apache-2.0
"""Silent wrong acceptances become clear answers (issue 9, item 6).

Real processes only: smpdfu, smpdfu-target and smpdfu-linkemu as a user runs
them. Where a device must go quiet at a chosen point, a UDP relay in this test
drops packets by their content (never by time), so every outcome is fixed.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "client"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from e2e_common import E2ECase, MKIMAGE, SMPDFU, TARGET, Target, image_list, slot, smpdfu  # noqa: E402
from harness import LINKEMU as LINKEMU_PATH, Proc, Relay, main, run, smp_hdr  # noqa: E402

SLOT = ["--slot-size", "65536", "--reset-delay-ms", "0"]


class NumericOptions(unittest.TestCase):
    """Every numeric option refuses what is not a number in its range, with a
    sentence and exit status 2, before anything is opened or sent."""

    def test_smpdfu(self):
        bad = {
            "--timeout": ["nan", "NaN", "-nan", "0", "-1", "inf", "1e400", "0.0001", "3600.5", "2x",
                          "", " 1", "0x10"],
            "--retries": ["-1", "101", "1.5", "", "3x", " 3"],
        }
        for opt, values in bad.items():
            for v in values:
                rc, _, err = run([SMPDFU, "--conn", "udp:127.0.0.1:9", opt, v, "os", "echo", "x"])
                self.assertEqual(rc, 2, "%s %r: %s" % (opt, v, err))
                self.assertIn("%s wants" % opt, err)
                self.assertIn("'%s'" % v, err)
        cmds = [
            ["image", "upload", "f.bin", "--window", "9"],
            ["image", "upload", "f.bin", "--window", "-1"],
            ["image", "upload", "f.bin", "--window", ""],
            ["image", "upload", "f.bin", "--image", "256"],
            ["image", "upload", "f.bin", "--image", ""],
            ["image", "upload", "f.bin", "--image", "0.5"],
            ["dfu", "f.bin", "--window", "1e3"],
            ["dfu", "f.bin", "--reboot-timeout", "nan"],
            ["dfu", "f.bin", "--reboot-timeout", "0"],
            ["dfu", "f.bin", "--quiet-ms", "1.5"],
            ["dfu", "f.bin", "--quiet-ms", "-5"],
            ["image", "erase", ""],
            ["image", "erase", "-1"],
            ["image", "test", "0x" + "ab" * 31],     # sscanf's %2x took these
            ["image", "test", "-1" + "ab" * 31],
            ["image", "confirm", " f" + "ab" * 31],
        ]
        for c in cmds:
            rc, _, err = run([SMPDFU, "--conn", "udp:127.0.0.1:9"] + c)
            self.assertEqual(rc, 2, "%s: %s" % (c, err))
            self.assertTrue("wants" in err or "64 hex digits" in err or "no hash" in err, err)
        # Numbers inside --conn: a negative baud used to wrap around to 1.
        for spec in ("serial:/dev/null,baud=-18446744073709551615", "serial:/dev/null,baud= 9600",
                     "udp:127.0.0.1:-1", "udp:127.0.0.1:65536"):
            rc, _, err = run([SMPDFU, "--conn", spec, "os", "echo", "x"])
            self.assertEqual(rc, 2, "%s: %s" % (spec, err))
            self.assertIn("cannot understand --conn", err)
        # SMPDFU_HTTP_TIMEOUT=nan is ignored in words, not turned into garbage.
        env = dict(os.environ, SMPDFU_HTTP_TIMEOUT="nan")
        p = subprocess.run([SMPDFU, "image", "info", "http://127.0.0.1:9/x.bin"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertIn("ignoring SMPDFU_HTTP_TIMEOUT='nan'", p.stderr)

    def test_target(self):
        tmp = self._tmp()
        cases = [
            (["--page-size", "0"], "power of two"),
            (["--page-size", "3000"], "power of two"),
            (["--slot-size", "18014398509481984k"], "too large"),
            (["--slot-size", "-4294967295"], "wants a whole number"),
            (["--buf-count", "0"], "--buf-count must be"),
            (["--images", "-1"], "wants a whole number"),
            (["--reset-delay-ms", "4294967295"], "--reset-delay-ms must be"),
            (["--erase-ms", "1.5"], "wants a whole number"),
            (["--rx-buf-size", "3"], "--rx-buf-size must be"),
            (["--rx-line-max", "3"], "--rx-buf-size must be"),  # the older name of the same option
        ]
        for args, words in cases:
            rc, _, err = run([TARGET, "--flash", os.path.join(tmp, "f.bin"), "--udp", "127.0.0.1:0"] +
                             args)
            self.assertEqual(rc, 2, "%s: %s" % (args, err))  # not a crash (SIGFPE was -8)
            self.assertIn(words, err)

    def test_linkemu(self):
        for args in (["serial", "--baud", "115200.5"], ["udp", "--seed", "-1"], ["udp", "--loss", "nan"],
                     ["udp", "--loss", "inf"], ["ble", "--mtu", "23.5"], ["limits", "--pkt", "nan"],
                     ["limits", "--pkt", " 100"], ["udp", "--latency", "5,nan"]):
            rc, _, err = run([LINKEMU_PATH] + args)
            self.assertEqual(rc, 2, "%s: %s" % (args, err))
            self.assertIn("bad value", err)
        rc, out, err = run([LINKEMU_PATH, "limits", "--pkt", "100"])
        self.assertEqual(rc, 0, err)  # good values still work

    def _tmp(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="smpdfu-answers-")
        self.addCleanup(shutil.rmtree, d, True)
        return d


class DeviceAnswers(E2ECase):
    def start(self, args=(), flash="flash.bin"):
        t = Target(self.dir, list(SLOT) + ["--factory", self.path("v1.bin")] + list(args),
                   flash=self.path(flash))
        self.targets.append(t)
        return t.start()

    def test_valid_values_still_work(self):
        self.images(9000)
        t = self.start()
        rc, out, err = smpdfu(t.conn(), "os", "echo", "hi", extra=["--timeout", "2.5", "--retries", "0"])
        self.assertEqual((rc, out.strip()), (0, "hi"), err)

    def test_window_above_buf_count(self):
        self.images(9000)
        t = self.start(["--buf-count", "2"])
        rc, out, err = smpdfu(t.conn(), "image", "upload", self.path("v2.bin"), "--window", "8",
                              json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertIn("--window 8 is more than the device's 2 SMP buffers", err)
        self.assertLessEqual(json.loads(out)["window"], 2)
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], self.v2_hash)
        # Within the device's count: no warning.
        t2 = self.start(["--buf-count", "4"], flash="flash2.bin")
        rc, out, err = smpdfu(t2.conn(), "image", "upload", self.path("v2.bin"), "--window", "2")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("warning", err)

    def test_image_the_device_lacks(self):
        self.images(9000)
        t = self.start()
        for args in (["image", "upload", self.path("v2.bin"), "--image", "5"],
                     ["dfu", self.path("v2.bin"), "--image1", self.path("v1.bin")]):
            rc, out, err = smpdfu(t.conn(), *args)
            self.assertEqual(rc, 1, err)
            self.assertIn("has no image", err)
            self.assertIn("image 0 only", err)
            self.assertIn("nothing was sent", err)
        self.assertIsNone(slot(image_list(t.conn()), 0, 1))  # indeed nothing was written
        rc, out, _ = smpdfu(t.conn(), "image", "upload", self.path("v2.bin"), "--image", "3", json_out=True)
        self.assertEqual(json.loads(out)["code"], "SMPDFU_ENOTFOUND")
        # --force sends it; a one-image device (like Zephyr) ignores the number
        # and stores it as image 0's update.
        rc, out, err = smpdfu(t.conn(), "image", "upload", self.path("v2.bin"), "--image", "5", "--force")
        self.assertEqual(rc, 0, err)
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], self.v2_hash)

    def test_image_the_two_image_device_lacks(self):
        self.images(9000)
        t = self.target(list(SLOT) + ["--images", "2", "--factory", self.path("v1.bin"),
                                      "--factory1", self.path("v1.bin")])
        rc, out, err = smpdfu(t.conn(), "image", "upload", self.path("v2.bin"), "--image", "5")
        self.assertEqual(rc, 1, err)
        self.assertIn("it has images 0 to 1", err)
        # Forced, the device itself refuses it (Zephyr: no slot for that image).
        rc, out, err = smpdfu(t.conn(), "image", "upload", self.path("v2.bin"), "--image", "5",
                              "--force")
        self.assertEqual(rc, 1, err)
        self.assertIn("the device refused the upload", err)
        # Image 1 exists: no refusal.
        rc, out, err = smpdfu(t.conn(), "image", "upload", self.path("v2.bin"), "--image", "1")
        self.assertEqual(rc, 0, err)

    def test_padded_image(self):
        self.images(9000)
        pad = self.path("pad.bin")
        subprocess.run([sys.executable, MKIMAGE, "sign", "--version", "3.0.0", "--payload-size", "5000",
                        "--seed", "9", "--slot-size", "65536", "--pad", "--confirm", pad],
                       check=True, capture_output=True)
        rc, out, err = smpdfu(None, "image", "info", pad)
        self.assertEqual(rc, 0, err)
        self.assertIn("image hash", out)
        self.assertIn("warning", err)
        self.assertIn("MCUboot trailer", err)
        rc, out, err = smpdfu(None, "image", "info", pad, json_out=True)
        d = json.loads(out)
        self.assertEqual(rc, 0)
        self.assertTrue(d["ok"])
        self.assertFalse(d["uploadable"])
        self.assertEqual(d["warning"]["name"], "SMPDFU_EIMG_PADDED")
        t = self.start()
        for args in (["image", "upload", pad], ["dfu", pad]):
            rc, out, err = smpdfu(t.conn(), *args)
            self.assertEqual(rc, 1, err)
            self.assertIn("nothing was sent", err)
            self.assertIn("swap at the next reset before any test", err)
            self.assertIn("--force", err)
        self.assertIsNone(slot(image_list(t.conn()), 0, 1))
        # --force sends the file as it is: its trailer marks it permanent at once,
        # which is exactly what the refusal warned about.
        rc, out, err = smpdfu(t.conn(), "image", "upload", pad, "--force")
        self.assertEqual(rc, 0, err)
        self.assertIn("sending", err)
        s1 = slot(image_list(t.conn()), 0, 1)
        self.assertTrue(s1["pending"] and s1["permanent"], s1)

    def test_dev_zero_and_pipe(self):
        for path, kind in (("/dev/zero", "character device"),):
            rc, out, err = smpdfu(None, "image", "info", path)
            self.assertEqual(rc, 1)
            self.assertIn(kind, err)
            self.assertNotIn("directory", err)
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        rc, out, err = smpdfu(None, "image", "info", fifo, timeout=30)  # must not block
        self.assertEqual(rc, 1)
        self.assertIn("a pipe, not a regular file", err)

    def test_key_errors(self):
        self.images(9000)
        empty = self.path("empty.pem")
        open(empty, "w").close()
        rc, out, err = smpdfu(None, "image", "info", self.path("v1.bin"), "--key", empty)
        self.assertEqual(rc, 1)
        self.assertIn("the file is empty", err)
        self.assertNotIn("No such file", err)
        key = self.path("k.pem")
        subprocess.run([sys.executable, MKIMAGE, "genkey", "--type", "ecdsa-p256", key], check=True,
                       capture_output=True)
        os.chmod(key, 0)
        os.chmod(self.dir, 0o755)
        cmd = [SMPDFU, "image", "info", self.path("v1.bin"), "--key", key]
        if os.geteuid() == 0:
            # root reads anything: drop to nobody to see what a user sees.
            if not shutil.which("setpriv"):
                self.skipTest("running as root without setpriv")
            os.chmod(self.path("v1.bin"), 0o644)
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
        # A home of its own: root's config directory is not nobody's to read.
        env = dict(os.environ, HOME=self.dir, XDG_CONFIG_HOME=self.dir)
        env.pop("SMPDFU_CONFIG", None)
        rc, out, err = run(cmd, env=env)
        self.assertEqual(rc, 1, err)
        self.assertIn("Permission denied", err)
        self.assertNotIn("No such file", err)

    def test_unknown_host(self):
        for kind in ("udp", "tcp"):
            rc, out, err = smpdfu("%s:no-such-host.invalid:1337" % kind, "os", "echo", "x")
            self.assertEqual(rc, 1)
            self.assertIn("cannot resolve host name 'no-such-host.invalid'", err)
            self.assertNotIn("Success", err)

    def test_silence_worded_by_what_was_heard(self):
        self.images(30000)
        t = self.start()
        # Nothing ever heard: the port may be wrong.
        quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        quiet.bind(("127.0.0.1", 0))
        self.addCleanup(quiet.close)
        rc, out, err = smpdfu("udp:127.0.0.1:%d" % quiet.getsockname()[1], "image", "list",
                              extra=["--timeout", "0.3", "--retries", "0"])
        self.assertEqual(rc, 1)
        self.assertIn("right port", err)
        # Answers, then silence: the device went quiet, the port is right.
        answers = [0]

        def after_five(direction, d):
            if direction == "t2c":
                answers[0] += 1
            return answers[0] > 5

        r = Relay(t.udp_port, after_five)
        self.addCleanup(r.close)
        rc, out, err = smpdfu("udp:127.0.0.1:%d" % r.port, "image", "upload", self.path("v2.bin"),
                              extra=["--timeout", "1", "--retries", "1", "--give-up", "2"])
        self.assertEqual(rc, 1, err)
        self.assertNotIn("right port", err)
        # An upload says how long the device was silent and what it said last.
        self.assertIn("has been silent for", err)
        self.assertIn("last answered", err)

    def test_no_return_after_reset(self):
        self.images(9000)
        t = self.start()
        reset_seen = [False]

        def after_reset(direction, d):
            if reset_seen[0] and direction == "c2t":
                return True  # the device never comes back
            if direction == "c2t" and smp_hdr(d)[1:] == (0, 5):
                reset_seen[0] = True
            return False

        r = Relay(t.udp_port, after_reset)
        self.addCleanup(r.close)
        rc, out, err = smpdfu("udp:127.0.0.1:%d" % r.port, "dfu", self.path("v2.bin"),
                              "--reboot-timeout", "2", "--quiet-ms", "0",
                              extra=["--timeout", "2", "--retries", "2"])
        self.assertEqual(rc, 1, err)
        self.assertTrue(reset_seen[0])
        self.assertIn("did not answer again after the reset", err)
        self.assertNotIn("right port", err)


class TargetWords(unittest.TestCase):
    """What smpdfu-target says at start, read after it exits (no log race)."""

    def setUp(self):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="smpdfu-answers-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start_stop(self, args, while_up=None):
        """Start the target, wait for "ready", run while_up(udp_port), stop it;
        returns (stdout lines up to ready, whole stderr)."""
        p = Proc([TARGET, "--flash", os.path.join(self.dir, "f.bin")] + SLOT + args)
        i = p.wait_index(lambda l: l.strip() == "ready", "out")
        lines = [l.strip() for l in p.out[:None if i is None else i + 1]]
        port = next((int(l.rsplit(":", 1)[1]) for l in lines if l.startswith("udp: ")), None)
        try:
            if while_up and "ready" in lines:
                while_up(port)
        finally:
            p.stop(timeout=30)
        return lines, "".join(l + "\n" for l in p.err)

    def test_non_loopback_bind_warns(self):
        for spec in ("0.0.0.0:0", "[::]:0"):
            if spec.startswith("[") and not socket.has_ipv6:
                continue
            lines, err = self.start_stop(["-q", "--udp", spec])
            if "ready" not in lines and "Address family" in err:
                continue  # no IPv6 here
            self.assertIn("ready", lines, err)
            self.assertIn("no authentication", err)
            self.assertIn("anyone", err)
        for spec in ("127.0.0.1:0", "127.0.0.5:0"):
            lines, err = self.start_stop(["-q", "--udp", spec])
            self.assertIn("ready", lines, err)
            self.assertNotIn("authentication", err)

    def test_unresolvable_udp_address(self):
        rc, _, err = run([TARGET, "--flash", os.path.join(self.dir, "f.bin"), "-q", "--udp",
                          "no-such-host.invalid:1337"])
        self.assertEqual(rc, 2)
        self.assertIn("--udp no-such-host.invalid:1337: ", err)  # then getaddrinfo's words
        self.assertNotIn("bad --udp address", err)

    def test_no_factory_says_it_holds_no_image(self):
        lines, err = self.start_stop(["--udp", "127.0.0.1:0"])
        self.assertIn("ready", lines)
        self.assertIn("holds no image", err)
        self.assertIn("answers no SMP request", err)
        # Even with -q: a device that never answers must say why.
        os.unlink(os.path.join(self.dir, "f.bin"))
        lines, err = self.start_stop(["-q", "--udp", "127.0.0.1:0"])
        self.assertIn("holds no image", err)

    def test_no_factory_device_is_silent_like_a_halted_mcuboot(self):
        got = []

        def ask(port):
            got.append(smpdfu("udp:127.0.0.1:%d" % port, "image", "list",
                              extra=["--timeout", "0.3", "--retries", "1"]))

        lines, err = self.start_stop(["--udp", "127.0.0.1:0"], ask)
        rc, out, cerr = got[0]
        self.assertEqual(rc, 1)
        self.assertIn("no answer", cerr)
        # The target's log says why, once, though two requests came.
        self.assertEqual(err.count("request ignored: halted in the bootloader"), 1, err)


if __name__ == "__main__":
    main()
