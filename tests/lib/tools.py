# SPDX-License-Identifier: Apache-2.0
"""Where the built tools and scripts are, and image building through
scripts/mkimage.py: shared by the Python tests that run real processes."""
import json
import os
import subprocess
import sys
import time

SOURCE = os.environ.get("SMPDFU_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SMPDFU_BUILD", os.path.join(SOURCE, "build"))
SMPDFU = os.path.join(BUILD, "smpdfu")
TARGET = os.path.join(BUILD, "smpdfu-target")
LINKEMU = os.path.join(BUILD, "smpdfu-linkemu")
MKIMAGE = os.path.join(SOURCE, "scripts", "mkimage.py")


def make_image(path, version, payload_size, seed):
    """Builds an image; returns its image hash (hex, what `image list` shows)."""
    out = subprocess.run([sys.executable, MKIMAGE, "sign", "--version", version, "--payload-size",
                          str(payload_size), "--seed", str(seed), "--json", path],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    for k in ("image_hash", "hash"):
        if k in info:
            return info[k]
    raise KeyError("no image hash in mkimage --json output: %r" % info)


def wait_blocked_in_poll(pid, timeout=60):
    """Wait until process pid sleeps in poll(), its idle state, before a
    stop signal is sent to it. smpdfu-target checks its stop flag before an
    unbounded poll(): a SIGTERM that lands between the two is not seen until
    something else wakes it. Sent while it is blocked in poll(), the signal
    always ends it. Linux /proc only; elsewhere this returns at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/wchan" % pid) as f:
                wchan = f.read()
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return  # gone, or no /proc
        if state in ("Z", "X"):
            return  # already exited
        if state != "S" or "poll" not in wchan:
            if wchan in ("", "0") and state == "S":
                return  # wchan hidden: cannot tell, do not wait
            time.sleep(0.001)  # polling a state, not waiting for a time to pass
            continue
        return
