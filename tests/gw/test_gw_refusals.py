# SPDX-License-Identifier: Apache-2.0
"""smpdfu-gw refuses what it should, with a reason and nothing sent to the
device: a job document that is not one (REJECTED), an unknown operation
(REJECTED), a plain http:// URL when the configuration does not allow it
(REJECTED), an image whose SHA-256 is not the job's (FAILED), an image not
signed with the configured key (FAILED), an image larger than the device's
slot (FAILED, only the slot info was asked). A message that is not JSON at
all is ignored and the gateway goes on."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gwlib import (MKIMAGE, Cloud, Gateway, GwCase, image_doc, make_image,  # noqa: E402
                   main)


class RefusalTest(GwCase):  # plain mqtt: the TLS path is in test_gw_fleet
    def key(self, name):
        subprocess.run([sys.executable, MKIMAGE, "genkey", "--type", "ecdsa-p256", self.path(name + ".pem"),
                        "--public", self.path(name + ".pub.pem")], check=True, capture_output=True)
        return self.path(name + ".pem")

    def signed(self, name, version, size, seed, key):
        out = subprocess.run([sys.executable, MKIMAGE, "sign", "--version", version, "--payload-size", str(size),
                              "--seed", str(seed), "--key", key, "--json", self.path(name)],
                             check=True, capture_output=True, text=True).stdout
        info = json.loads(out)
        with open(self.path(name), "rb") as f:
            url = self.http.add("/" + name, f.read())
        return url, info.get("image_hash") or info.get("hash")

    def uploads(self, t):
        return [l for l in t.lines() if "img upload" in l]

    def final(self, thing, job, status, words):
        self.cloud.wait_final([(thing, job)])
        j = self.cloud.job(thing, job)
        self.assertEqual(j["status"], status, j.get("details"))
        self.assertIn(words, j["details"]["reason"])

    def test_refusals(self):
        make_image(self.path("v1.bin"), "1.0.0", 20000, 1)
        good_key, other_key = self.key("good"), self.key("other")
        url_ok, hash_ok = self.signed("ok.bin", "2.0.0", 40000, 2, good_key)
        url_other, _ = self.signed("other.bin", "2.0.1", 40000, 3, other_key)
        url_big, _ = self.signed("big.bin", "2.1.0", 100000, 4, good_key)
        a = self.device("a")
        small = self.device("small", ["--slot-size", "65536"])
        strict = self.device("strict")
        self.cloud = Cloud(self.broker, ["a", "small", "strict"])
        gw = Gateway(self.d, "gw-ref", self.broker, [("a", a.conn()), ("small", small.conn())],
                     extra="allow_http = true\nsign_key = %s" % self.path("good.pub.pem"))
        gw2 = Gateway(self.d, "gw-strict", self.broker, [("strict", strict.conn())])
        self.gws += [gw, gw2]
        gw.start()
        gw2.start()
        gw.wait_line("ready: 2 devices")
        gw2.wait_line("ready: 1 devices")

        # Not JSON at all: no job id to answer; logged and ignored.
        self.cloud.c.publish("$aws/things/a/jobs/notify-next", b"{\"execution\": {\"jobId\": ", 1)
        gw.wait_line("ignored a job message: the job message is not JSON")

        self.cloud.add_job("a", "bad-doc", "not an object")
        self.final("a", "bad-doc", "REJECTED", "no jobDocument object")
        self.cloud.add_job("a", "no-op", {"url": url_ok})
        self.final("a", "no-op", "REJECTED", "no \"operation\"")
        self.cloud.add_job("a", "unknown-op", {"operation": "format-flash"})
        self.final("a", "unknown-op", "REJECTED", "unknown operation \"format-flash\"")
        self.cloud.add_job("a", "bad-sha", {"operation": "dfu", "url": url_ok, "sha256": "00" * 32})
        self.final("a", "bad-sha", "FAILED", "the job says " + "00" * 32)
        self.cloud.add_job("a", "short-sha", {"operation": "dfu", "url": url_ok, "sha256": "abc"})
        self.final("a", "short-sha", "REJECTED", "64 hex digits")
        self.cloud.add_job("a", "ftp", {"operation": "dfu", "url": "ftp://x/y.bin", "sha256": "00" * 32})
        self.final("a", "ftp", "REJECTED", "must be https://")
        self.cloud.add_job("a", "bad-mode", image_doc(url_ok, self.path("ok.bin"), mode="yolo"))
        self.final("a", "bad-mode", "REJECTED", "dfu mode must be")
        self.cloud.add_job("a", "other-key", image_doc(url_other, self.path("other.bin")))
        self.final("a", "other-key", "FAILED", "not signed with the configured key")
        self.cloud.add_job("small", "too-big", image_doc(url_big, self.path("big.bin")))
        self.final("small", "too-big", "FAILED", "too large for the device")
        self.cloud.add_job("strict", "plain-http", image_doc(url_ok, self.path("ok.bin")))
        self.final("strict", "plain-http", "REJECTED", "not https://")
        # Nothing reached the devices' image slots.
        self.assertEqual(self.uploads(a), [])
        self.assertEqual(self.uploads(small), [])
        self.assertEqual(self.uploads(strict), [])
        self.assertEqual(self.cloud.state, {})

        # The gateway is still fine: the good image, signed with the right key, goes through.
        self.cloud.add_job("a", "good", image_doc(url_ok, self.path("ok.bin")))
        self.cloud.wait_final([("a", "good")])
        j = self.cloud.job("a", "good")
        self.assertEqual(j["status"], "SUCCEEDED", j.get("details"))
        self.assertIn(hash_ok + " active confirmed", j["details"]["image0_slot0"])
        self.assertTrue(self.uploads(a))
        for k, v in self.cloud.finals.items():
            self.assertEqual(len(v), 1, (k, v))


if __name__ == "__main__":
    main()
