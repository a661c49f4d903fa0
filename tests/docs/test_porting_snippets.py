#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The snippets of docs/porting.md that use only smpdfu's API compile and link.

Every fenced block whose info string is "c compile" is written to a file of
its own, compiled with the host cc (-std=c99 -Wall -Wextra -Werror, smpdfu's
include/), and all of them are linked together with the portable libraries'
sources and an empty main: a name that does not exist, a wrong signature or
a field that moved fails here. SDK snippets (plain "c" blocks) are not
compiled; each must name the SDK version it was written against.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import SOURCE as SRC, Tally  # noqa: E402

DOC = os.path.join(SRC, "docs", "porting.md")
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Os"]
SDK_WORDS = ("Zephyr", "nRF Connect SDK", "ESP-IDF")

TALLY = Tally()
check = TALLY.check


def blocks(text):
    """[(info, code, line)] of the fenced blocks."""
    out = []
    for m in re.finditer(r"^```([^\n]*)\n(.*?)^```\s*$", text, re.S | re.M):
        out.append((m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1))
    return out


def main():
    with open(DOC) as f:
        text = f.read()
    bl = blocks(text)
    comp = [(code, line) for info, code, line in bl if info == "c compile"]
    check(len(comp) >= 4, "porting.md has the compiled snippets (client, DFU, server, feeder): %d" % len(comp))
    # SDK snippets say which SDK they were written against (first line comment).
    for info, code, line in bl:
        if info == "c":
            first = code.strip().splitlines()[0] if code.strip() else ""
            check(any(w in first for w in SDK_WORDS) and re.search(r"\d+\.\d+", first),
                  "line %d: an SDK snippet names its SDK and version on its first line: %r" % (line, first))
    cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
    tmp = tempfile.mkdtemp(prefix="smpdfu-porting-")
    try:
        objs = []
        for i, (code, line) in enumerate(comp):
            c = os.path.join(tmp, "snippet_%d.c" % i)
            with open(c, "w") as f:
                f.write("#line %d \"docs/porting.md\"\n" % (line + 1))
                f.write(code)
            o = c[:-2] + ".o"
            p = subprocess.run([cc] + FLAGS + ["-I", os.path.join(SRC, "include"), "-c", c, "-o", o],
                               capture_output=True, text=True)
            check(p.returncode == 0, "snippet at porting.md line %d compiles:\n%s" % (line, p.stderr[-3000:]))
            if p.returncode == 0:
                objs.append(o)
        main_c = os.path.join(tmp, "main.c")
        with open(main_c, "w") as f:
            f.write("int main(void) { return 0; }\n")
        libs = []
        for d in ("src/core", "src/client", "src/server"):
            libs += [os.path.join(SRC, d, x) for x in sorted(os.listdir(os.path.join(SRC, d))) if x.endswith(".c")]
        exe = os.path.join(tmp, "snippets")
        p = subprocess.run([cc, "-std=c99", "-Os", "-I", os.path.join(SRC, "include"), "-I",
                            os.path.join(SRC, "src", "core"), main_c] + objs + libs + ["-o", exe],
                           capture_output=True, text=True)
        check(p.returncode == 0, "the snippets link against the portable libraries:\n" + p.stderr[-3000:])
        if p.returncode == 0:
            r = subprocess.run([exe])
            check(r.returncode == 0, "the linked program runs")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TALLY.summary()


if __name__ == "__main__":
    sys.exit(main())
