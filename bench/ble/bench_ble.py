#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""BLE upload figures, side by side (issue 10):
- through real BlueZ on both sides in the QEMU VM of scripts/ble-vm (btvirt controllers: no
  data length extension, no 2M PHY, no radio timing; TCG emulation, so the figures measure
  the CPU, not Bluetooth: CPU-bound emulation),
- through smpdfu-linkemu's BLE model with the same engine settings (device buf_size 384,
  buf_count 4, ATT MTU 517, and the btvirt controller's link: LL payload 27, 1M PHY).
Same image, window 1 and 4. Prints a Markdown table (docs/benchmarks.md)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "ble"))
sys.path.insert(0, os.path.join(HERE, "..", "throughput"))
from harness import BUILD, SOURCE  # noqa: E402
import test_ble_vm  # noqa: E402
from bench_throughput import ready  # noqa: E402

SIZE = 200000  # image payload, as the VM test's large image


def linkemu_run(window, image, factory, tmp):
    flash = os.path.join(tmp, "flash.bin")
    if os.path.exists(flash):
        os.unlink(flash)
    t = ready([os.path.join(BUILD, "smpdfu-target"), "-q", "--flash", flash, "--factory", factory, "--slot-size",
              "2M", "--buf-size", "384", "--buf-count", "4", "--udp", "127.0.0.1:0"])
    e = ready([os.path.join(BUILD, "smpdfu-linkemu"), "ble", "--listen", "127.0.0.1:0", "--target", t.info["udp"],
              "--mtu", "517", "--ll-max", "27", "--phy", "1M"])
    try:
        r = subprocess.run([os.path.join(BUILD, "smpdfu"), "--json", "--conn", "udp:%s,mtu=384" % e.info["listen"],
                            "image", "upload", "--window", str(window), image],
                           capture_output=True, text=True, timeout=600)
        return json.loads(r.stdout) if r.returncode == 0 else {"error": r.stdout + r.stderr}
    finally:
        e.stop()
        t.stop()


def main():
    root = os.path.join(BUILD, "ble-bench-payload")
    test_ble_vm.make_payload(root)
    shutil.copy2(os.path.join(HERE, "vm_bench.sh"), os.path.join(root, "payload", "run"))
    vm = os.path.join(SOURCE, "scripts", "ble-vm")
    vmdir = test_ble_vm.VMDIR
    subprocess.run([vm, "build", vmdir], check=True)
    vm_res = {}
    p = subprocess.Popen([vm, "run", vmdir, root], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                         errors="replace")
    for line in p.stdout:
        if line.startswith("BENCH "):
            _, w, doc = line.rstrip().split(" ", 2)
            try:
                vm_res[int(w)] = json.loads(doc)
            except ValueError:
                vm_res[int(w)] = {"error": doc}
    p.wait()
    image = os.path.join(root, "payload", "app-big.bin")
    factory = os.path.join(root, "payload", "app-v1.bin")
    emu_res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in (1, 4):
            emu_res[w] = linkemu_run(w, image, factory, tmp)

    def rate(r):
        if "elapsed_ms" not in r:
            return "failed: %s" % r.get("error", r)[:80]
        return "%.0f" % (r["uploaded"] / (r["elapsed_ms"] / 1000.0))

    print("| window | BlueZ in the VM, B/s (CPU-bound emulation) | linkemu BLE model, B/s (1M PHY, LL 27, MTU 517, 15 ms) |")
    print("|---:|---:|---:|")
    for w in (1, 4):
        print("| %d | %s | %s |" % (w, rate(vm_res.get(w, {"error": "no result"})), rate(emu_res[w])))


if __name__ == "__main__":
    main()
