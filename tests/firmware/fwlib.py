# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the firmware tests: find the firmware builds, run the
firmware in QEMU (qemu-system-arm, semihosting), read its report lines and
its exit status, and read a device's state with the smpdfu CLI.

The firmware is a separate cross build per board (docs/firmware.md):
  cmake -S . -B build/fw-mps2-an505 -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
        -DSMPDFU_FIRMWARE=ON -DSMPDFU_BOARD=mps2-an505
SMPDFU_FW_ROOT (default SOURCE/build) holds fw-<board>/ folders. A test is
skipped, with the command above in the message, only when no build is there.
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import BUILD, LINKEMU, SMPDFU, SOURCE, TARGET, Case, Proc, Target, make_image, slot, tcp_bridge  # noqa: E402,F401

BOARDS = ["mps2-an505", "mps2-an385"]
FW_ROOT = os.environ.get("SMPDFU_FW_ROOT", os.path.join(SOURCE, "build"))
QEMU = shutil.which("qemu-system-arm") or "/usr/bin/qemu-system-arm"
# A fail-safe against a hung run, not a timing assertion: every wait below
# ends on the event (a line, an exit) long before it.
LIMIT = 300


def fw_dir(board):
    return os.path.join(FW_ROOT, "fw-" + board)


def built_boards():
    return [b for b in BOARDS if os.path.exists(os.path.join(fw_dir(b), "central.elf"))]


def fw_info(board):
    with open(os.path.join(fw_dir(board), "firmware.json")) as f:
        return json.load(f)


def smpdfu(conn, *args, timeout=LIMIT, json_out=False):
    return harness.smpdfu(conn, *args, timeout=timeout, json_out=json_out)


def image_hash(path):
    rc, out, err = smpdfu(None, "image", "info", path, json_out=True)
    if rc != 0:
        raise AssertionError("image info %s: %s" % (path, err))
    info = json.loads(out)
    return info.get("image_hash") or info["hash"]


def image_list(conn):
    return harness.image_list(conn, timeout=LIMIT)


def qemu_cmd(board, app, args, serial):
    """qemu-system-arm command for firmware app (central/target) on board;
    args go to the firmware as its semihosting command line; serial is a
    list of QEMU options that connect UART0 (and more)."""
    sh = "enable=on,target=native,arg=" + app + "".join(",arg=" + a for a in args)
    return [QEMU, "-M", board, "-nographic", "-monitor", "none", "-semihosting-config", sh,
            "-kernel", os.path.join(fw_dir(board), app + ".elf")] + list(serial)


def run_qemu(board, app, args, serial, name=None):
    return Proc(qemu_cmd(board, app, args, serial), name or "%s on %s" % (app, board), patience=LIMIT)


class HostTarget(Target):
    """smpdfu-target with a pty (console, or raw) and a UDP port for state
    reads (conn()), no reset delay; started."""

    def __init__(self, tmp, args, raw=False, flash=None):
        super().__init__(tmp, ["--reset-delay-ms", "0"] + list(args),
                         flash=flash or os.path.join(tmp, "host-target.flash"), serial=not raw, raw=raw)
        self.start(30)


class FwCase(Case):
    """Skips (with the build command) when no firmware is built."""

    def setUp(self):
        if os.environ.get("SMPDFU_FW_TESTS", "1") == "0":
            self.skipTest("SMPDFU_FW_TESTS=0: the firmware tests run in another pass")
        self.boards = built_boards()
        if not self.boards:
            self.skipTest("firmware not built (no %s/fw-<board>/central.elf): cmake -S . -B "
                          "build/fw-mps2-an505 -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake "
                          "-DSMPDFU_FIRMWARE=ON -DSMPDFU_BOARD=mps2-an505 && cmake --build "
                          "build/fw-mps2-an505" % FW_ROOT)
        for exe in (TARGET, SMPDFU):
            if not os.path.exists(exe):
                self.skipTest("%s not built" % exe)
        self.tmpd = tempfile.TemporaryDirectory(prefix="smpdfu-fw-")
        self.tmp = self.tmpd.name
        self.procs = []

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()
        self.tmpd.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def track(self, p):
        """p (a Proc or a HostTarget) is stopped at the end, its log shown if the test fails."""
        self.procs.append(p)
        return super().track(p)

    def assert_slot0(self, images, hash_, confirmed=True, image=0):
        s0 = slot(images, image, 0)
        self.assertIsNotNone(s0, images)
        self.assertEqual(s0["hash"], hash_)
        self.assertEqual(bool(s0.get("confirmed")), confirmed, images)
