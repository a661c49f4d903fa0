# SPDX-License-Identifier: Apache-2.0
"""Where the built tools and scripts are, and image building through
scripts/mkimage.py: shared by the Python tests that run real processes."""
import json
import os
import subprocess
import sys

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
