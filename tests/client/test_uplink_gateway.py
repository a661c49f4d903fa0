# SPDX-License-Identifier: Apache-2.0
"""The gateway case on a host: `smpdfu serve-image` serves an image over the
uplink block protocol (TCP socket or pty), tests/progs/uplink_gateway pulls
it with the portable uplink client into a streamed source (8 KiB window)
and relays it with the DFU orchestrator to a real smpdfu-target over UDP.
Every case ends in a state read of the device. Waits are on lines the
processes print, never on time."""
import os
import socket
import re
import select
import json
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import BUILD, MKIMAGE, SMPDFU, E2ECase, Target, image_list, slot  # noqa: E402
from harness import LINKEMU, Proc, main  # noqa: E402

GATEWAY = os.path.join(BUILD, "uplink_gateway")
SIZE = 300000  # payload: the image is over 256 KiB


class CutProxy:
    """A TCP relay between serve-image and the gateway's uplink port that
    closes both sides once `limit` bytes went from serve-image to the
    gateway: a cut at a byte count, whatever the machine's load."""

    def __init__(self, target, limit):
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.limit = limit
        self.cut = threading.Event()
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.port = self.ls.getsockname()[1]
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        try:
            a, _ = self.ls.accept()
        except OSError:
            return
        b = socket.create_connection(self.target)
        sent = 0
        try:
            while sent < self.limit:
                r, _, _ = select.select([a, b], [], [])
                if a in r:
                    d = a.recv(min(4096, self.limit - sent))
                    if not d:
                        break
                    b.sendall(d)
                    sent += len(d)
                if b in r:
                    d = b.recv(4096)
                    if not d:
                        break
                    a.sendall(d)
        except OSError:
            pass
        finally:
            a.close()
            b.close()
            self.cut.set()

    def close(self):
        self.ls.close()


class Uplink(E2ECase):
    def setUp(self):
        super().setUp()
        if not os.path.exists(GATEWAY):
            self.skipTest("uplink_gateway not built")
        self.procs = []
        self.images(v2_size=SIZE)
        self.size = os.path.getsize(self.path("v2.bin"))
        self.assertGreaterEqual(self.size, 256 * 1024)

    def tearDown(self):
        for p in self.procs:
            p.kill()
        super().tearDown()

    def start(self, cmd):
        p = Proc(cmd, patience=120)
        self.procs.append(self.track(p))
        return p

    def dev(self, args=(), flash=None):
        # The reboot follows the reset answer at once: the DFU's quiet
        # second after the reset is then always longer than the reboot.
        t = Target(self.dir, ["--factory", self.path("v1.bin"), "--slot-size", "512K",
                              "--buf-size", "1024", "--reset-delay-ms", "0"] + list(args), flash=flash)
        self.targets.append(t)
        return t.start()

    def gateway(self, t, *args, uplink="tcp"):
        g = self.start([GATEWAY, "--target", t.conn(), "--uplink", uplink] + list(args))
        _, m = g.wait_match(r"^uplink: (\S+)")
        return g, m.group(1)

    def serve(self, spec, image="v2.bin", extra=()):
        s = self.start([SMPDFU, "--conn", spec, "serve-image", self.path(image)] + list(extra))
        s.wait_match(r"^ready$")
        return s

    def result(self, g):
        _, m = g.wait_match(r"^result: (.*)$")
        rc = g.wait_exit()
        return rc, m.group(1)

    def test_dfu_over_tcp_uplink(self):
        t = self.dev()
        g, spec = self.gateway(t)
        self.serve(spec)
        rc, res = self.result(g)
        self.assertEqual((rc, res), (0, "ok"), "\n".join(g.out[-20:]))
        # The file sha came with INFO, the window stayed at 8 KiB.
        _, m = g.wait_match(r"^info size=(\d+) sha=(\d)")
        self.assertEqual((int(m.group(1)), m.group(2)), (self.size, "1"))
        _, m = g.wait_match(r"^ram: stream (\d+) window (\d+) crc (\d+) .* total (\d+)")
        self.assertLessEqual(int(m.group(2)), 8192)
        self.assertLessEqual(int(m.group(4)), 12 * 1024)
        self.assert_slot0(image_list(t.conn()), self.v2_hash, True)

    def test_upload_over_pty_uplink(self):
        t = self.dev()
        g, spec = self.gateway(t, "--mode", "upload-only", uplink="pty")
        self.assertTrue(spec.startswith("serial:/dev/"), spec)
        self.serve(spec)
        rc, res = self.result(g)
        self.assertEqual((rc, res), (0, "ok"), "\n".join(g.out[-20:]))
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], self.v2_hash)

    def test_already_uploaded(self):
        """A second DFU after an upload-only run: the device already holds
        the file (its SHA-256, from the uplink's INFO, matches), answers the
        first chunk with the full size, and the DFU takes the hash from the
        device's secondary slot, marks, resets and confirms."""
        t = self.dev()
        g, spec = self.gateway(t, "--mode", "upload-only")
        self.serve(spec)
        self.assertEqual(self.result(g), (0, "ok"))
        g, spec = self.gateway(t)
        self.serve(spec)
        rc, res = self.result(g)
        self.assertEqual((rc, res), (0, "ok"), "\n".join(g.out[-20:]))
        ups = [l for l in t.sync(t.conn()) if " img upload " in l]
        self.assertIn("already there", ups[-1])
        self.assert_slot0(image_list(t.conn()), self.v2_hash, True)

    def test_uplink_cut_and_restored(self):
        """The host program's link is cut mid-transfer (after a third of the
        image has crossed it, counted in bytes, not read from a log): the
        gateway keeps asking, and a new host program picks up where the
        stream stopped."""
        t = self.dev()
        g, spec = self.gateway(t)
        assert spec.startswith("tcp:"), spec
        proxy = CutProxy(spec[len("tcp:"):], self.size // 3)
        self.addCleanup(proxy.close)
        s = self.serve("tcp:127.0.0.1:%d" % proxy.port)
        i = 0
        proxy.cut.wait(120)
        self.assertTrue(proxy.cut.is_set(), "the uplink never carried a third of the image")
        s.kill()
        # The uplink is gone: the gateway's requests go unanswered.
        j, _ = g.wait_match(r"^disconnected$", i)
        j, _ = g.wait_match(r"^uplink retry \d+$", j)
        self.serve(spec)
        k, _ = g.wait_match(r"^connected$", j)
        g.wait_match(r"^uplink back \d+$", k)
        rc, res = self.result(g)
        self.assertEqual((rc, res), (0, "ok"), "\n".join(g.out[-20:]))
        # The upload itself never started over.
        _, m = g.wait_match(r"^uplink retries \d+ dropped \d+; upload go_backs \d+ restarts (\d+)")
        self.assertEqual(m.group(1), "0")
        self.assert_slot0(image_list(t.conn()), self.v2_hash, True)

    def test_target_restart_refetches(self):
        """The device loses its session mid-upload (killed, restarted on the
        same flash): it resumes from its saved offset, far below the
        gateway's window, so the stream asks the uplink again for those
        bytes (checked by CRC against the first pass)."""
        t = Target(self.dir, ["--factory", self.path("v1.bin"), "--slot-size", "512K",
                              "--buf-size", "1024", "--write-us-per-kib", "3000"])
        self.targets.append(t)
        t.start()
        port = t.udp_port
        g, spec = self.gateway(t)
        self.serve(spec)
        i = 0
        while True:
            i, m = g.wait_match(r"^progress (\d+)/\d+$", i + 1)
            if int(m.group(1)) > 150000:
                break
        t.kill()
        t2 = Target(self.dir, ["--slot-size", "512K", "--buf-size", "1024"], flash=t.flash)
        self.targets.append(t2)
        t2.start(udp="127.0.0.1:%d" % port)
        g.wait_match(r"^uplink refetch (\d+)$", i)
        rc, res = self.result(g)
        self.assertEqual((rc, res), (0, "ok"), "\n".join(g.out[-30:]))
        ups = [l for l in t2.sync(t2.conn()) if " img upload " in l]
        self.assertFalse([l for l in ups if "(new)" in l], ups[:5])
        self.assert_slot0(image_list(t2.conn()), self.v2_hash, True)

    def test_lossy_uplink(self):
        """The uplink line drops 1 % of its 'lines' (bytes up to a 0x0a) and
        flips 1 byte in 20000 (smpdfu-linkemu, fixed seed): frames are lost
        or fail their CRC, requests are resent, the image arrives whole."""
        t = self.dev()
        # 1 Mbaud: a 1 KiB block takes 10 ms, so 100 ms is a lost frame.
        g, spec = self.gateway(t, "--mode", "upload-only", "--timeout-ms", "100", uplink="pty")
        emu = self.start([LINKEMU, "serial", "--target-pty", spec.split(":", 1)[1], "--baud", "1000000",
                          "--loss", "0.01", "--flip", "0.00005", "--seed", "7"])
        _, m = emu.wait_match(r"^client: (\S+)")
        emu.wait_match(r"^ready$")
        self.serve("serial:%s,baud=1000000" % m.group(1))
        rc, res = self.result(g)
        self.assertEqual((rc, res), (0, "ok"), "\n".join(g.out[-20:]))
        _, m = g.wait_match(r"^uplink retries (\d+) dropped (\d+)")
        self.assertGreater(int(m.group(1)), 0)
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], self.v2_hash)

    def test_signed_image(self):
        """With a key the stream checks the signature before the final
        chunk: the right key passes, another key is refused at the end."""
        keys = []
        for name in ("a", "b"):
            k = self.path(name + ".pem")
            subprocess.run([sys.executable, MKIMAGE, "genkey", "--type", "ecdsa-p256", k,
                            "--public", k + ".pub"], check=True, capture_output=True)
            keys.append(k)
        out = subprocess.run([sys.executable, MKIMAGE, "sign", "--version", "2.0.0", "--payload-size",
                              str(SIZE), "--seed", "9", "--key", keys[0], "--json", self.path("s.bin")],
                             check=True, capture_output=True, text=True).stdout
        h = json.loads(out)["image_hash"]
        t = self.dev()
        g, spec = self.gateway(t, "--mode", "upload-only", "--key", keys[0] + ".pub")
        self.serve(spec, image="s.bin")
        rc, res = self.result(g)
        self.assertEqual((rc, res), (0, "ok"), "\n".join(g.out[-20:]))
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], h)
        t2 = self.dev(flash=self.path("flash2.bin"))
        g, spec = self.gateway(t2, "--mode", "upload-only", "--key", keys[1] + ".pub")
        self.serve(spec, image="s.bin")
        rc, res = self.result(g)
        self.assertEqual(rc, 1)
        self.assertIn("SMPDFU_EIMG_KEY", res)
        size = os.path.getsize(self.path("s.bin"))
        offs = [int(x) for x in re.findall(r" img upload .*-> off=(\d+)", "\n".join(t2.sync(t2.conn())))]
        self.assertTrue(offs and max(offs) < size)
        self.assertIsNone(slot(image_list(t2.conn()), 0, 1))

    def test_corrupted_image_never_complete(self):
        with open(self.path("v2.bin"), "rb") as f:
            bad = bytearray(f.read())
        bad[100000] ^= 0x55  # a payload byte: the hash TLV no longer matches
        with open(self.path("bad.bin"), "wb") as f:
            f.write(bad)
        t = self.dev()
        g, spec = self.gateway(t)
        self.serve(spec, image="bad.bin")
        rc, res = self.result(g)
        self.assertEqual(rc, 1)
        self.assertIn("SMPDFU_EIMG_HASH_MISMATCH", res)
        # The device got everything but the final chunk: its upload offset
        # never reached the size, and it lists no image in slot 1.
        offs = [int(x) for x in re.findall(r" img upload .*-> off=(\d+)", "\n".join(t.sync(t.conn())))]
        self.assertTrue(offs)
        self.assertLess(max(offs), self.size)
        self.assertGreater(max(offs), self.size - 4 * 8192)  # nearly all of it
        imgs = image_list(t.conn())
        self.assertIsNone(slot(imgs, 0, 1), imgs)
        self.assert_slot0(imgs, self.v1_hash, True)


if __name__ == "__main__":
    main()
