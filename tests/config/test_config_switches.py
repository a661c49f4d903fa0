#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The footprint switches of include/smpdfu/config.h.

1. Host: the portable libraries (src/core, src/client, src/server) compiled
   with -DSMPDFU_CONFIG=switches_on.h and -Werror, linked with
   switches_check.c, which checks what config.h promises (strerror gives the
   name, device errors read "IMG_ERR_NO_FREE_SLOT (image group error 9)",
   only the console link is there, the image group leaves its log notes
   empty).
2. arm-none-eabi (when installed): the same libraries compiled for a
   Cortex-M33 with the switches reference no printf-family function (nm),
   while the default build does (so the check can see one).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import SOURCE as SRC, Tally  # noqa: E402

HERE = os.path.join(SRC, "tests", "config")
LIB_DIRS = ["src/core", "src/client", "src/server"]
WARN = ["-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wpointer-arith",
        "-Wundef", "-Wformat=2", "-Wvla", "-Wcast-qual", "-Wwrite-strings", "-Werror"]
PRINTF = re.compile(r"\b_*(v?s?n?printf|v?as?printf|v?fprintf|v?dprintf|_printf_\w+|_vfprintf_r|_svfprintf_r|"
                    r"_vfiprintf_r|_svfiprintf_r|_sprintf_r|_snprintf_r|_vsnprintf_r)\b")

TALLY = Tally()
check = TALLY.check


def sources():
    out = []
    for d in LIB_DIRS:
        for f in sorted(os.listdir(os.path.join(SRC, d))):
            if f.endswith(".c"):
                out.append(os.path.join(SRC, d, f))
    return out


def incs():
    return ["-I", os.path.join(SRC, "include"), "-I", os.path.join(SRC, "src", "core"), "-I", HERE]


def host(tmp):
    cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
    exe = os.path.join(tmp, "switches_check")
    p = subprocess.run([cc, "-std=c99", "-Os"] + WARN + incs() + ["-DSMPDFU_CONFIG=switches_on.h",
                       os.path.join(HERE, "switches_check.c")] + sources() + ["-o", exe],
                       capture_output=True, text=True)
    check(p.returncode == 0, "host build with every switch on (-Werror):\n" + p.stderr[-3000:])
    if p.returncode != 0:
        return
    r = subprocess.run([exe], capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    check(r.returncode == 0 and "all checks passed" in r.stdout, "switches_check under the switches")


def arm_printf_refs(tmp, config):
    """{object: [printf-family symbols it references]} for an arm build."""
    refs = {}
    for src in sources():
        obj = os.path.join(tmp, os.path.basename(os.path.dirname(src)) + "-" + os.path.basename(src) + ".o")
        p = subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m33", "-mthumb", "-Os", "-std=c99",
                            "-ffunction-sections", "-fdata-sections", "--specs=nano.specs"] + WARN + incs()
                           + config + ["-c", src, "-o", obj], capture_output=True, text=True)
        check(p.returncode == 0, "arm build of %s %s:\n%s" % (src, config, p.stderr[-2000:]))
        if p.returncode != 0:
            continue
        nm = subprocess.run(["arm-none-eabi-nm", "-u", obj], capture_output=True, text=True).stdout
        hits = [line.split()[-1] for line in nm.splitlines() if PRINTF.search(line.split()[-1] if line.split() else "")]
        if hits:
            refs[os.path.basename(src)] = hits
    return refs


def arm(tmp):
    if not shutil.which("arm-none-eabi-gcc"):
        print("arm-none-eabi-gcc not found: the nm check is skipped (scripts/setup installs it)")
        return
    default = arm_printf_refs(tmp, [])
    check(bool(default), "the default arm build references a printf-family function (the check sees them)")
    print("default build, printf-family references: %s" % default)
    on = arm_printf_refs(tmp, ["-DSMPDFU_CONFIG=switches_on.h"])
    check(on == {}, "no printf-family reference with SMPDFU_NO_PRINTF: %s" % on)
    print("switches on, printf-family references: %s" % (on or "none"))


def main():
    tmp = tempfile.mkdtemp(prefix="smpdfu-config-")
    try:
        host(tmp)
        arm(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TALLY.summary()


if __name__ == "__main__":
    sys.exit(main())
