# SPDX-License-Identifier: Apache-2.0
"""HTTP(S) image sources: `image info URL` downloads the image and checks it
exactly as a file; `dfu URL` / `image upload URL` stream it (their own tests
are in test_http_stream.py). A real local HTTP server, a real smpdfu-target
over UDP."""
import http.server
import json
import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from e2e_common import E2ECase, image_list, smpdfu  # noqa: E402

BIG = 17 * 1024 * 1024  # over the 16 MiB cap


class Server:
    """http.server in a thread on 127.0.0.1:0; routes map a path to bytes or
    a special behaviour. Every request path is logged."""

    def __init__(self):
        self.files = {}
        self.requests = []
        self.release = threading.Event()  # lets a hanging handler finish
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.requests.append(self.path)
                p = self.path
                if p in srv.files:
                    body = srv.files[p]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif p == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/app.bin")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif p == "/cut.bin":
                    # Promises the whole image, sends half, closes.
                    body = srv.files["/app.bin"]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                elif p == "/big-declared":
                    self.send_response(200)
                    self.send_header("Content-Length", str(BIG))
                    self.end_headers()
                elif p == "/big-stream":
                    # No Content-Length: the body ends at close; only the
                    # byte count can stop it.
                    self.send_response(200)
                    self.end_headers()
                    chunk = b"\xaa" * 65536
                    try:
                        for _ in range(BIG // len(chunk)):
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                elif p == "/hang":
                    srv.release.wait(30)
                else:
                    self.send_error(404)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class HttpSource(E2ECase):
    def setUp(self):
        super().setUp()
        self.images()
        self.srv = Server()
        with open(self.path("v2.bin"), "rb") as f:
            self.v2 = f.read()
        self.srv.files["/app.bin"] = self.v2
        self.addCleanup(self.srv.stop)

    def requests_to(self, t):
        """Requests the target logged, after a marker echo (logged in order)."""
        return [l for l in t.sync(t.conn()) if l.startswith("[")]

    def test_image_info_same_as_file(self):
        rc, out_f, err = smpdfu(None, "image", "info", self.path("v2.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        rc, out_u, err = smpdfu(None, "image", "info", self.srv.url("/app.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")  # --json: no progress on stderr
        f, u = json.loads(out_f), json.loads(out_u)
        self.assertEqual(u["image_hash"], self.v2_hash)
        self.assertEqual(u["image_hash"], f["image_hash"])
        self.assertEqual(u["file_sha256"], f["file_sha256"])
        self.assertTrue(u["hash"]["match"])
        self.assertEqual(u["size"], len(self.v2))
        # Text form, through a redirect: progress line on stderr, hash on stdout.
        rc, out, err = smpdfu(None, "image", "info", self.srv.url("/moved"))
        self.assertEqual(rc, 0, err)
        self.assertIn("downloaded %d bytes from %s" % (len(self.v2), self.srv.url("/moved")), err)
        self.assertIn("image hash %s" % self.v2_hash, out)
        self.assertIn("matches the contents", out)
        self.assertIn("/app.bin", self.srv.requests)
        # --quiet: no progress line
        rc, out, err = smpdfu(None, "image", "info", self.srv.url("/app.bin"), extra=["--quiet"])
        self.assertEqual(rc, 0, err)
        self.assertNotIn("downloaded", err)

    def test_dfu_from_url(self):
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        rc, out, err = smpdfu(c, "dfu", self.srv.url("/app.bin"))
        self.assertEqual(rc, 0, err)
        self.assertIn("streaming %d bytes" % len(self.v2), err)
        self.assert_slot0(image_list(c), self.v2_hash, True)

    def test_upload_from_url(self):
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        rc, out, err = smpdfu(c, "image", "upload", self.srv.url("/app.bin"), json_out=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["uploaded"], len(self.v2))
        s1 = [e for e in image_list(c) if e["image"] == 0 and e["slot"] == 1]
        self.assertEqual(s1[0]["hash"], self.v2_hash)

    def test_http_404(self):
        rc, out, err = smpdfu(None, "image", "info", self.srv.url("/nope.bin"))
        self.assertEqual(rc, 1)
        self.assertIn("HTTP status 404", err)
        self.assertEqual(out, "")

    def test_bad_downloads_refused_before_sending(self):
        """Refused before any image byte reaches the device: a short image
        (its header says more), a short --image1 download, a 404. (A
        corrupt streamed image is refused at its final chunk, see
        test_http_stream.py.)"""
        bad = bytearray(self.v2)
        bad[1000] ^= 0xFF  # payload byte: the hash TLV no longer matches
        self.srv.files["/corrupt.bin"] = bytes(bad)
        self.srv.files["/short.bin"] = self.v2[: len(self.v2) // 2]
        t = self.target(["--factory", self.path("v1.bin")])
        c = t.conn()
        rc, out, err = smpdfu(None, "image", "info", self.srv.url("/corrupt.bin"))
        self.assertEqual(rc, 1, err)
        self.assertIn("hash does not match", out + err)
        cases = [
            (["dfu", self.srv.url("/short.bin")], "nothing was sent): the image file is shorter"),
            (["image", "upload", self.srv.url("/short.bin")], "nothing was sent): the image file is shorter"),
            (["dfu", self.path("v2.bin"), "--image1", self.srv.url("/short.bin")], "nothing was sent"),
            (["dfu", self.srv.url("/missing.bin")], "HTTP status 404"),
        ]
        for args, want in cases:
            rc, out, err = smpdfu(c, *args)
            self.assertEqual(rc, 1, (args, err))
            self.assertIn(want, err, args)
        reqs = self.requests_to(t)
        self.assertTrue(reqs)
        # only the marker echo (or a retransmission of it) reached the device
        self.assertEqual([l for l in reqs if " os echo " not in l], [])
        self.assert_slot0(image_list(c), self.v1_hash, True)

    def test_size_cap(self):
        for path in ("/big-declared", "/big-stream"):
            rc, out, err = smpdfu(None, "image", "info", self.srv.url(path))
            self.assertEqual(rc, 1, err)
            self.assertIn("larger than the 16777216-byte limit", err)

    def test_dead_port_and_timeout(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nobody listens: refused
        rc, out, err = smpdfu(None, "image", "info", "http://127.0.0.1:%d/app.bin" % port)
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"cannot download http://127\.0\.0\.1:%d/app\.bin: .*" % port)
        self.assertNotRegex(err, r"timed out|Timeout")  # refused at once, not waited out
        # A server that accepts and never answers: the overall timeout ends it.
        os.environ["SMPDFU_HTTP_TIMEOUT"] = "1"
        try:
            t0 = time.monotonic()
            rc, out, err = smpdfu(None, "image", "info", self.srv.url("/hang"))
            took = time.monotonic() - t0
        finally:
            del os.environ["SMPDFU_HTTP_TIMEOUT"]
        self.assertEqual(rc, 1)
        self.assertTrue(re.search(r"timed out|Timeout", err), err)
        # Never early (a lower bound a slow machine cannot break); how late it
        # gave up is not asserted.
        self.assertGreaterEqual(took, 0.9)

    def test_no_url_scheme_confusion(self):
        # ftp:// is a (missing) file name, not a download.
        rc, out, err = smpdfu(None, "image", "info", "ftp://127.0.0.1/app.bin")
        self.assertEqual(rc, 1)
        self.assertIn("cannot read ftp://127.0.0.1/app.bin", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
