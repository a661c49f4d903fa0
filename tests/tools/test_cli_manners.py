# SPDX-License-Identifier: Apache-2.0
"""The CLI's manners (issue 12): every command has --help with its options and
an example, every option a command parses is in its help and in the man page,
global options are taken anywhere, named connections come from the config
file, `os reset` returns once the device answers again, and text-mode uploads
end with a summary line. The tools' man pages list every option their --help
does (they are generated from it) and every option their parsers accept."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import BUILD, SMPDFU, SOURCE, TARGET, LINKEMU, Proc, make_image  # noqa: E402


def run(*args, env=None, timeout=120):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def commands():
    """(group, command or None, handler name) from `smpdfu --help`."""
    rc, out, _ = run(SMPDFU, "--help")
    assert rc == 0
    cmds = []
    body = out.split("commands", 1)[1]
    for line in body.splitlines():
        m = re.match(r"^  ([a-z]+)(?: ([a-z]+))?\s{2,}", line)
        if m:
            cmds.append((m.group(1), m.group(2)))
    return cmds


def handler_options(group, command):
    """The option literals the command's handler compares its arguments with."""
    fn = "smpdfu_cmd_%s%s" % (group + "_" if command else group, command or "")
    for f in sorted(os.listdir(os.path.join(SOURCE, "tools", "smpdfu"))):
        if not f.endswith(".c"):
            continue
        src = open(os.path.join(SOURCE, "tools", "smpdfu", f)).read()
        m = re.search(r"\nint %s\(const smpdfu_cli_t[^\n]*\n\{(.*?)\n\}\n" % re.escape(fn), src, re.S)
        if m:
            return set(re.findall(r'strcmp\([a-z_\[\]]+, "(--[a-z0-9-]+)"\)', m.group(1))) - {"--json"}
    raise AssertionError("no handler %s in tools/smpdfu" % fn)


def man_text(tool):
    page = os.path.join(BUILD, "man", tool + ".1")
    if not os.path.exists(page):
        return None
    # The page as roff source: \- is a dash.
    return open(page).read().replace("\\-", "-").replace("\\e", "\\")


class Manners(unittest.TestCase):
    def test_every_command_has_help_with_its_options_and_an_example(self):
        cmds = commands()
        self.assertGreaterEqual(len(cmds), 13)
        man = man_text("smpdfu")
        for group, command in cmds:
            words = [group] + ([command] if command else [])
            rc, out, err = run(SMPDFU, *words, "--help")
            self.assertEqual(rc, 0, (words, err))
            self.assertIn("example:", out, words)
            self.assertIn("usage: smpdfu", out, words)
            for opt in handler_options(group, command):
                self.assertIn(opt, out, "%s parses %s but its --help does not say so" % (" ".join(words), opt))
                if man is not None:
                    self.assertIn(opt, man, "man smpdfu lacks %s of %s" % (opt, " ".join(words)))
            # -h works the same, and before the command as well.
            self.assertEqual(run(SMPDFU, "-h", *words)[1], out)

    def test_tool_options_are_in_help_and_man_page(self):
        for tool, path, src in (("smpdfu-target", TARGET, "tools/smpdfu-target/main.c"),
                                ("smpdfu-linkemu", LINKEMU, "tools/smpdfu-linkemu/main.c"),
                                ("smpdfu", SMPDFU, "tools/smpdfu/main.c")):
            rc, out, _ = run(path, "--help")
            self.assertEqual(rc, 0, tool)
            code = open(os.path.join(SOURCE, src)).read()
            # getopt_long tables ({"name", ...}) and strcmp(x, "--name") parsers.
            opts = set("--" + o for o in re.findall(r'\{"([a-z0-9-]+)", (?:no|required|optional)_argument', code))
            opts |= set(re.findall(r'"(--[a-z0-9-]+)"', code))
            opts -= {"--help-all"}
            for o in sorted(opts):
                self.assertIn(o, out, "%s accepts %s but --help does not name it" % (tool, o))
            man = man_text(tool)
            if man is not None:
                for o in sorted(set(re.findall(r"--[a-z0-9-]+", out))):
                    self.assertIn(o, man, "man %s lacks %s" % (tool, o))
            rc, ver, _ = run(path, "--version")
            self.assertEqual(rc, 0, tool)
            self.assertRegex(ver, r"^%s \d+\.\d+\.\d+\n$" % re.escape(tool))

    def test_usage_errors_are_sentences(self):
        for args in (["--timeout", "nan", "image", "list"], ["--timeout", "0", "os", "echo", "x"],
                     ["--retries", "-1", "image", "list"], ["image", "list", "--timeout"],
                     ["image", "frobnicate"], ["frobnicate"], ["image", "upload", "--bogus"]):
            rc, out, err = run(SMPDFU, "--conn", "udp:127.0.0.1:9", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertRegex(err, r"^smpdfu: \S.*\n$", args)


class WithDevice(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="smpdfu-manners-")
        d = self.tmp.name
        self.v1 = os.path.join(d, "v1.bin")
        self.v2 = os.path.join(d, "v2.bin")
        make_image(self.v1, "1.0.0", 3000, 1)
        self.v2_hash = make_image(self.v2, "2.0.0", 20000, 2).hash
        self.t = Proc([TARGET, "-q", "--flash", os.path.join(d, "flash"), "--factory", self.v1,
                       "--udp", "127.0.0.1:0", "--reset-delay-ms", "200"]).wait_ready()
        self.conn = "udp:" + self.t.info["udp"]
        self.env = dict(os.environ, HOME=d, XDG_CONFIG_HOME=os.path.join(d, "xdg"))
        self.env.pop("SMPDFU_CONN", None)
        self.env.pop("SMPDFU_CONFIG", None)

    def tearDown(self):
        self.t.kill()
        self.tmp.cleanup()

    def smpdfu(self, *args):
        return run(SMPDFU, *args, env=self.env)

    def test_global_options_anywhere(self):
        rc, out, err = self.smpdfu("image", "list", "--conn", self.conn, "--json")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("{"), out)
        rc, out, err = self.smpdfu("os", "echo", "--conn", self.conn, "--", "--json")
        self.assertEqual((rc, out), (0, "--json\n"), err)

    def test_named_connection_from_config_file(self):
        cfg = os.path.join(self.tmp.name, "xdg", "smpdfu")
        os.makedirs(cfg)
        with open(os.path.join(cfg, "config"), "w") as f:
            f.write("# defaults\nconn = udp:127.0.0.1:9\ntimeout = 0.3\n\n[board]\nconn = %s\nretries = 2\n"
                    % self.conn)
        rc, out, err = self.smpdfu("--conn", "board", "os", "echo", "hi")
        self.assertEqual((rc, out), (0, "hi\n"), err)
        # The top-level conn is the default (nobody answers on port 9).
        rc, _, err = self.smpdfu("os", "echo", "hi")
        self.assertEqual(rc, 1, err)
        self.assertIn("127.0.0.1:9", err)
        # $SMPDFU_CONN wins over the file; --conn over both.
        env = dict(self.env, SMPDFU_CONN=self.conn)
        self.assertEqual(run(SMPDFU, "os", "echo", "x", env=env)[:2], (0, "x\n"))
        rc, _, err = self.smpdfu("--conn", "nosuch", "os", "echo", "x")
        self.assertEqual(rc, 2)
        self.assertIn("no [nosuch]", err)
        with open(os.path.join(cfg, "config"), "a") as f:
            f.write("colour = blue\n")
        rc, _, err = self.smpdfu("--conn", "board", "os", "echo", "x")
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"config:8: unknown key 'colour'")

    def test_reset_waits_for_the_device(self):
        rc, out, err = self.smpdfu("--conn", self.conn, "image", "upload", self.v2)
        self.assertEqual(rc, 0, err)
        # The summary: bytes, time, rate, retransmissions.
        self.assertRegex(out, r"uploaded \d+ bytes to image 0 in \d+\.\d s, [\d.]+ [kM]?B/s .*\d+ retransmissions")
        self.assertEqual(self.smpdfu("--conn", self.conn, "image", "test", self.v2_hash)[0], 0)
        rc, out, err = self.smpdfu("--conn", self.conn, "os", "reset")
        self.assertEqual((rc, out), (0, "the device is back\n"), err)
        # Right after it returns, the device runs the new image: no waiting here.
        rc, out, err = self.smpdfu("--conn", self.conn, "--json", "image", "list")
        self.assertEqual(rc, 0, err)
        self.assertIn(self.v2_hash, out.split("\"slot\": 1")[0])

    def test_reset_no_wait(self):
        rc, out, err = self.smpdfu("--conn", self.conn, "--json", "os", "reset", "--no-wait")
        self.assertEqual((rc, out), (0, '{"reset": true, "back": null}\n'), err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
