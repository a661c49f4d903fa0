#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Upload rate of the central firmware (QEMU, Cortex-M) against the host CLI
on the same emulated link (docs/benchmarks.md, docs/firmware.md).

For each link setting: smpdfu-target (2 KiB buffers, buf_count 4) behind
smpdfu-linkemu serial with the given baud rate; first the host CLI uploads
the firmware's linked image (`smpdfu --json image upload`, its
`elapsed_ms`), then, on a fresh flash, the central firmware does the same
upload (`mode=upload-only`, its `upload: ... elapsed_ms N` line). Both
figures are image bytes / elapsed time, from the upload's first chunk to
its last answer. A benchmark reports; it never fails on a time.

  bench_firmware.py [--board mps2-an505] [--quick]
"""
import argparse
import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "firmware"))
from fwlib import LINKEMU, HostTarget, Proc, built_boards, fw_info, make_image, run_qemu, smpdfu  # noqa: E402

LINKS = [
    dict(name="console 115200", baud=115200, raw=False),
    dict(name="console 1M", baud=1000000, raw=False),
    dict(name="raw UART 1M", baud=1000000, raw=True),
    dict(name="console unpaced", baud=0, raw=False),
]


def one(tmp, board, image, link, who):
    flash = os.path.join(tmp, "%s-%s.flash" % (who, link["baud"]))
    if os.path.exists(flash):
        os.unlink(flash)
    t = HostTarget(tmp, ["--factory", os.path.join(tmp, "v1.bin"), "--slot-size", "384K", "--buf-size", "2048", "--buf-count", "4", "-q"],
                   raw=link["raw"], flash=flash)
    le = Proc([LINKEMU, "serial", "--target-pty", t.pty, "--baud", str(link["baud"])], "linkemu")
    try:
        le.wait_line(lambda l: l == "ready", timeout=30)
        client = next(l[8:] for l in le.log() if l.startswith("client: "))
        size = os.path.getsize(image)
        if who == "cli":
            conn = "serial:%s%s" % (client, ",raw" if link["raw"] else "")
            rc, out, err = smpdfu(conn, "image", "upload", image, json_out=True)
            if rc != 0:
                raise RuntimeError("CLI upload failed: %s" % err)
            ms = json.loads(out)["elapsed_ms"]
        else:
            q = run_qemu(board, "central", ["mode=upload-only"] + (["link=raw"] if link["raw"] else []),
                         ["-serial", client])
            try:
                if q.wait_exit() != 0:
                    raise RuntimeError("firmware upload failed:\n" + "\n".join(q.log()))
                m = [re.search(r"elapsed_ms (\d+)", l) for l in q.log() if l.startswith("upload: ")]
                ms = int(m[0].group(1))
            finally:
                q.stop()
        return size, ms
    finally:
        le.stop()
        t.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", default=None)
    ap.add_argument("--quick", action="store_true", help="only the 1 Mbaud console link")
    a = ap.parse_args()
    boards = built_boards()
    if not boards:
        print("firmware not built: see docs/firmware.md")
        return 1
    board = a.board or boards[0]
    image = fw_info(board)["image0"]
    links = [LINKS[1]] if a.quick else LINKS
    print("central firmware on %s vs host CLI, image %d bytes, smpdfu-target buf 2048 x 4"
          % (board, os.path.getsize(image)))
    print("| link | host CLI bytes/s | firmware bytes/s | firmware / CLI |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="smpdfu-bench-fw-") as tmp:
        make_image(os.path.join(tmp, "v1.bin"), "1.0.0", 20000, 1)  # what the device runs
        for link in links:
            size, cli_ms = one(tmp, board, image, link, "cli")
            _, fw_ms = one(tmp, board, image, link, "fw")
            cli = size * 1000.0 / max(cli_ms, 1)
            fw = size * 1000.0 / max(fw_ms, 1)
            print("| %s | %.0f | %.0f | %.2fx |" % (link["name"], cli, fw, fw / cli))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
