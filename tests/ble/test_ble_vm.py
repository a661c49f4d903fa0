# SPDX-License-Identifier: Apache-2.0
"""BLE over real BlueZ (issue 10): boots the VM of scripts/ble-vm (Debian's kernel and BlueZ,
btvirt's virtual LE controllers) with smpdfu's tools in it, runs tests/ble/vm_test.sh there
(smpdfu-target behind smpdfu-ble-peripheral on one controller, the smpdfu CLI on another) and
asserts on the results it prints on the serial console: scan, every command, the whole DFU
with the reset's reconnection, resume after the link drops mid-upload, a large image with a
window, and ATT MTU 23 refused with a sentence. Each case ends with a state read."""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import BUILD, SOURCE, main, make_image  # noqa: E402

VMDIR = os.environ.get("SMPDFU_BLE_VM_DIR", os.path.join(SOURCE, "build", "ble-vm"))
VM = os.path.join(SOURCE, "scripts", "ble-vm")
TOOLS = ("smpdfu", "smpdfu-target", "smpdfu-ble-peripheral")


def libs(binary):
    """The shared libraries a binary loads (ldd), as absolute paths."""
    out = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    paths = []
    for line in out.splitlines():
        parts = line.split()
        for p in parts:
            if p.startswith("/"):
                paths.append(p)
                break
    return paths


def make_payload(root):
    if os.path.exists(root):
        shutil.rmtree(root)
    pl = os.path.join(root, "payload")
    os.makedirs(os.path.join(pl, "bin"))
    for t in TOOLS:
        shutil.copy2(os.path.join(BUILD, t), os.path.join(pl, "bin", t))
        # Same Debian 12 inside: the host's libraries, at their own paths.
        for lib in libs(os.path.join(BUILD, t)):
            # At the real path: /lib is a link to usr/lib in the VM, which a lib/ folder in the
            # payload archive would replace.
            dst = os.path.join(root, os.path.realpath(os.path.dirname(lib)).lstrip("/"), os.path.basename(lib))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.realpath(lib), dst)
    shutil.copy2(os.path.join(SOURCE, "tests", "ble", "vm_test.sh"), os.path.join(pl, "run"))
    hashes = {}
    hashes["v1"] = make_image(os.path.join(pl, "app-v1.bin"), "1.0.0", 20000, 1).hash
    hashes["v2"] = make_image(os.path.join(pl, "app-v2.bin"), "2.0.0", 24000, 2).hash
    hashes["v3"] = make_image(os.path.join(pl, "app-v3.bin"), "3.0.0", 30000, 3).hash
    hashes["big"] = make_image(os.path.join(pl, "app-big.bin"), "4.0.0", 200000, 4).hash
    return hashes


class BleVm(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for t in TOOLS:
            if not os.path.exists(os.path.join(BUILD, t)):
                raise unittest.SkipTest("%s not built (libsystemd-dev missing?)" % t)
        b = subprocess.run([VM, "build", VMDIR], capture_output=True, text=True)
        if b.returncode:
            raise AssertionError("the BLE VM could not be built:\n" + b.stdout + b.stderr)
        cls.hashes = make_payload(os.path.join(BUILD, "ble-payload"))
        cls.results, cls.states, cls.console = {}, {}, []
        p = subprocess.Popen([VM, "run", VMDIR, os.path.join(BUILD, "ble-payload")], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, errors="replace")
        for line in p.stdout:
            line = line.rstrip("\r\n")
            cls.console.append(line)
            print(line, flush=True)
            if line.startswith("RESULT "):
                _, case, verdict, detail = (line.split(" ", 3) + [""])[:4]
                cls.results[case] = (verdict, detail)
            elif line.startswith("STATE "):
                _, case, doc = (line.split(" ", 2) + [""])[:3]
                cls.states[case] = doc
        cls.rc = p.wait()

    def result(self, case):
        self.assertIn(case, self.results, "no result for %s; console:\n%s" % (case, "\n".join(self.console[-40:])))
        verdict, detail = self.results[case]
        self.assertEqual(verdict, "PASS", "%s: %s" % (case, detail))
        return detail

    def slots(self, case):
        self.assertIn(case, self.states)
        return json.loads(self.states[case])["images"]

    def test_vm_ran_to_the_end(self):
        self.assertIn("vm-test: done", self.console)
        self.assertIn("ble-vm: exit 0", self.console)

    def test_scan_finds_the_peripheral(self):
        detail = self.result("scan")
        dev = json.loads(detail)["devices"][0]
        self.assertEqual(dev["name"], "smpdfu-vm")
        # btvirt's controllers report RSSI 127 (not available): BlueZ then has none, and so null.
        self.assertIn("rssi", dev)

    def test_every_command(self):
        detail = self.result("commands")
        self.assertIn("hello-ble", detail)
        self.assertIn("AcquireWrite", detail)
        self.assertIn("AcquireNotify", detail)

    def test_dfu_with_reset_and_reconnect(self):
        self.result("dfu")
        s = self.slots("dfu")
        active = [x for x in s if x.get("active")]
        self.assertEqual(len(active), 1)
        self.assertEqual(active[0]["hash"], self.hashes["v2"])
        self.assertTrue(active[0]["confirmed"])

    def test_resume_after_the_link_drops(self):
        self.result("resume")
        s = self.slots("resume")
        self.assertIn(self.hashes["v3"], [x["hash"] for x in s if x["slot"] == 1])

    def test_large_image_with_window(self):
        self.result("large")
        s = self.slots("large")
        self.assertIn(self.hashes["big"], [x["hash"] for x in s if x["slot"] == 1])

    def test_mtu_23_refused_with_a_sentence(self):
        detail = self.result("mtu23")
        self.assertIn("ATT MTU is 23", detail)
        self.assertIn("fragments of 20", detail)
        s = self.slots("mtu23")
        self.assertNotIn(self.hashes["v3"], [x["hash"] for x in s if x["slot"] == 1])


if __name__ == "__main__":
    main()
