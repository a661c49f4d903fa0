# SPDX-License-Identifier: Apache-2.0
"""Streaming uploads on POSIX: `smpdfu dfu URL` and `image upload URL|-`
read the image through a 32 KiB window with HTTP Range requests (or
standard input), check it as it passes and never send the final chunk of
a bad image. A local http.server subclass started by the test (Range
honoured, Range ignored, 404, a body cut mid-way), a real smpdfu-target
over UDP. Every case ends in a state read of the device or its log."""
import http.server
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import SMPDFU, E2ECase, Target, image_list, slot, smpdfu  # noqa: E402
from harness import main, make_image  # noqa: E402

SIZE = 300000


class Server:
    """Serves self.files; per path a mode: "range" (206 for Range), "ignore"
    (always 200 and the whole body), "cut" (the first answer stops after a
    third of the body and closes). Logs (path, Range header) per GET."""

    def __init__(self):
        self.files = {}
        self.modes = {}
        self.log = []
        self.cut_done = set()
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                srv.log.append((self.path, rng))
                body = srv.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                mode = srv.modes.get(self.path, "range")
                if mode == "cut-ignore":
                    mode = "ignore" if self.path in srv.cut_done else "cut"
                start = 0
                m = re.match(r"bytes=(\d+)-$", rng or "")
                if m and mode != "ignore":
                    start = int(m.group(1))
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % len(body))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                part = body[start:]
                if m and mode != "ignore":
                    self.send_response(206)
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(part)))
                if mode == "cut" and self.path not in srv.cut_done:
                    srv.cut_done.add(self.path)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(part[: len(body) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.end_headers()
                try:
                    self.wfile.write(part)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_rss(cmd, tmpdir):
    """Run cmd; (exit status, stdout, stderr, its peak RSS in KiB)."""
    with open(os.path.join(tmpdir, "o"), "w+") as o, open(os.path.join(tmpdir, "e"), "w+") as e:
        p = subprocess.Popen(cmd, stdout=o, stderr=e)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        o.seek(0)
        e.seek(0)
        return p.returncode, o.read(), e.read(), ru.ru_maxrss


class HttpStream(E2ECase):
    def setUp(self):
        super().setUp()
        self.images(v2_size=SIZE)
        with open(self.path("v2.bin"), "rb") as f:
            self.v2 = f.read()
        self.srv = Server()
        self.addCleanup(self.srv.stop)
        for mode in ("range", "ignore", "cut"):
            self.srv.files["/%s.bin" % mode] = self.v2
            self.srv.modes["/%s.bin" % mode] = mode

    def dev(self, extra=()):
        return self.target(["--factory", self.path("v1.bin"), "--slot-size", "512K",
                            "--buf-size", "1024"] + list(extra))

    def upload_offsets(self, t):
        return [int(x) for x in re.findall(r" img upload .*-> off=(\d+)", "\n".join(t.sync(t.conn())))]

    def test_dfu_with_range(self):
        t = self.dev()
        rc, out, err = smpdfu(t.conn(), "dfu", self.srv.url("/range.bin"))
        self.assertEqual(rc, 0, err)
        self.assertIn("streaming %d bytes from %s through a 32768-byte window" %
                      (len(self.v2), self.srv.url("/range.bin")), err)
        self.assert_slot0(image_list(t.conn()), self.v2_hash, True)
        # Every request asked for a range; the image came in one transfer.
        gets = [r for p, r in self.srv.log if p == "/range.bin"]
        self.assertEqual(gets, ["bytes=0-"])

    def test_range_ignored(self):
        t = self.dev()
        rc, out, err = smpdfu(t.conn(), "image", "upload", self.srv.url("/ignore.bin"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], self.v2_hash)

    def test_cut_mid_body_resumes(self):
        """The server closes after a third of the body: a new Range request
        continues from the first byte still wanted."""
        t = self.dev()
        rc, out, err = smpdfu(t.conn(), "dfu", self.srv.url("/cut.bin"))
        self.assertEqual(rc, 0, err)
        gets = [r for p, r in self.srv.log if p == "/cut.bin"]
        self.assertEqual(gets[0], "bytes=0-")
        self.assertGreaterEqual(len(gets), 2, gets)
        resumed_at = int(re.match(r"bytes=(\d+)-", gets[1]).group(1))
        self.assertGreater(resumed_at, 0)
        self.assertLessEqual(resumed_at, len(self.v2) // 3)
        self.assert_slot0(image_list(t.conn()), self.v2_hash, True)

    def test_cut_and_range_ignored(self):
        """Cut mid-body by a server that ignores Range: the next answer
        starts from 0 again and is skipped up to the first byte wanted."""
        self.srv.files["/cutig.bin"] = self.v2
        self.srv.modes["/cutig.bin"] = "cut-ignore"
        t = self.dev()
        rc, out, err = smpdfu(t.conn(), "image", "upload", self.srv.url("/cutig.bin"))
        self.assertEqual(rc, 0, err)
        self.assertIn("the server ignores Range requests", err)
        gets = [r for p, r in self.srv.log if p == "/cutig.bin"]
        self.assertGreaterEqual(len(gets), 2, gets)
        self.assertNotEqual(gets[1], "bytes=0-")
        self.assertEqual(slot(image_list(t.conn()), 0, 1)["hash"], self.v2_hash)

    def test_404(self):
        t = self.dev()
        rc, out, err = smpdfu(t.conn(), "dfu", self.srv.url("/missing.bin"))
        self.assertEqual(rc, 1)
        self.assertIn("the server answered HTTP status 404 for %s" % self.srv.url("/missing.bin"), err)
        self.assertEqual(self.upload_offsets(t), [])
        self.assert_slot0(image_list(t.conn()), self.v1_hash, True)

    def test_corrupt_image_final_chunk_never_sent(self):
        bad = bytearray(self.v2)
        bad[150000] ^= 0x5A
        self.srv.files["/bad.bin"] = bytes(bad)
        t = self.dev()
        rc, out, err = smpdfu(t.conn(), "dfu", self.srv.url("/bad.bin"))
        self.assertEqual(rc, 1)
        self.assertIn("the image hash does not match its contents", err)
        offs = self.upload_offsets(t)
        self.assertTrue(offs)
        self.assertLess(max(offs), len(bad))           # never complete on the device
        self.assertGreater(max(offs), len(bad) - 32768)  # yet it got nearly all of it
        imgs = image_list(t.conn())
        self.assertIsNone(slot(imgs, 0, 1), imgs)
        self.assert_slot0(imgs, self.v1_hash, True)

    def test_stdin(self):
        t = self.dev()
        with open(self.path("v2.bin"), "rb") as f:
            p = subprocess.run([SMPDFU, "--conn", t.conn(), "dfu", "-", "--size", str(len(self.v2))],
                               stdin=f, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("streaming %d bytes from standard input" % len(self.v2), p.stderr)
        self.assert_slot0(image_list(t.conn()), self.v2_hash, True)
        # without --size: a usage error, nothing read
        with open(self.path("v2.bin"), "rb") as f:
            p = subprocess.run([SMPDFU, "--conn", t.conn(), "image", "upload", "-"],
                               stdin=f, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("needs its size: --size BYTES", p.stderr)

    def test_stdin_cannot_go_back(self):
        """The device loses its session mid-upload (killed, restarted with a
        fresh flash): the upload would start again at 0, which standard
        input cannot give again: refused in words."""
        t = Target(self.dir, ["--factory", self.path("v1.bin"), "--slot-size", "512K",
                              "--buf-size", "1024", "--write-us-per-kib", "3000"])
        self.targets.append(t)
        t.start()
        port = t.udp_port
        f = open(self.path("v2.bin"), "rb")
        self.addCleanup(f.close)
        p = subprocess.Popen([SMPDFU, "-v", "--conn", t.conn(), "--timeout", "0.5", "--retries", "20",
                              "image", "upload", "-", "--size", str(len(self.v2))],
                             stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in p.stderr:
            m = re.match(r"progress upload (\d+)/(\d+)", line)
            if m and int(m.group(1)) > 100000:
                t.kill()
                break
        os.remove(t.flash)
        t2 = Target(self.dir, ["--factory", self.path("v1.bin"), "--slot-size", "512K",
                               "--buf-size", "1024"], flash=t.flash)
        self.targets.append(t2)
        t2.start(udp="127.0.0.1:%d" % port)
        rest = p.stderr.read()
        self.assertEqual(p.wait(60), 1, rest)
        self.assertIn("standard input cannot go back", rest)
        self.assertIsNone(slot(image_list(t2.conn()), 0, 1))

    def test_memory_bounded_by_window(self):
        """A 6 MiB image streams with a peak RSS far below its size (the
        whole-download path held it all)."""
        big = self.path("big.bin")
        make_image(big, "3.0.0", 6 * 1024 * 1024, 7)
        with open(big, "rb") as f:
            self.srv.files["/big.bin"] = f.read()
        t = self.dev(["--slot-size", "8M", "--buf-size", "2048"])
        rc, out, err, rss = run_rss([SMPDFU, "--conn", t.conn(), "image", "upload",
                                     self.srv.url("/big.bin")], self.dir)
        self.assertEqual(rc, 0, err)
        rc0, _, _, rss0 = run_rss([SMPDFU, "--conn", t.conn(), "image", "list"], self.dir)
        self.assertEqual(rc0, 0)
        self.assertLess(rss - rss0, 3 * 1024, (rss, rss0))  # KiB: well under the 6 MiB image


if __name__ == "__main__":
    main()
