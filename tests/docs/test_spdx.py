# SPDX-License-Identifier: Apache-2.0
"""Every source file carries an SPDX line naming the project's licence
(Apache-2.0, LICENSE) in its first lines, and the LICENSE file is there."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import SOURCE  # noqa: E402

ROOT = os.path.abspath(SOURCE)
TAG = "SPDX-License-Identifier: Apache-2.0"
# What counts as source: code, build files, scripts.
EXTS = (".c", ".h", ".py", ".cmake", ".in", ".S", ".s", ".ld", ".bash", ".sh")
NAMES = ("CMakeLists.txt", "rules")
SCRIPT_DIRS = ("scripts", ".ci")


def files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True).stdout.decode()
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for d, dirs, fs in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in ("build", ".git")]
            names += [os.path.relpath(os.path.join(d, f), ROOT) for f in fs]
    for n in names:
        base = os.path.basename(n)
        top = n.split("/")[0]
        if "/corpus/" in n or not os.path.isfile(os.path.join(ROOT, n)):
            continue
        if base.endswith(EXTS) or base in NAMES or top in SCRIPT_DIRS:
            yield n


def main():
    passed = failed = 0
    lic = os.path.join(ROOT, "LICENSE")
    if os.path.isfile(lic) and "Apache License" in open(lic).read(2000):
        passed += 1
    else:
        failed += 1
        print("FAIL LICENSE missing or not the Apache License 2.0")
    for n in sorted(files()):
        with open(os.path.join(ROOT, n), errors="replace") as f:
            head = "".join(f.readline() for _ in range(5))
        if TAG in head:
            passed += 1
        else:
            failed += 1
            print("FAIL %s: no '%s' in its first five lines" % (n, TAG))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
