# SPDX-License-Identifier: Apache-2.0
"""smpdfu-gw end to end: Debian's mosquitto on loopback with TLS (a test CA
from openssl) and password auth, a local HTTP server, emulated devices on
UDP, serial ptys and through smpdfu-linkemu, a stand-in for the AWS IoT
Jobs service. One gateway, one poll loop, every device updated: the final
statuses, the hashes in statusDetails and on the retained state topics."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gwlib import (Cloud, Gateway, GwCase, dead_udp, image_doc, linkemu_serial,  # noqa: E402
                   linkemu_udp, make_image, main)


class FleetTest(GwCase):
    tls = True

    def setUp(self):
        super().setUp()
        self.v1 = make_image(self.path("v1.bin"), "1.0.0", 20000, 1).hash
        self.v2 = make_image(self.path("v2.bin"), "2.0.0", 50000, 2).hash
        with open(self.path("v2.bin"), "rb") as f:
            self.url = self.http.add("/v2.bin", f.read())

    def tearDown(self):
        super().tearDown()
        if hasattr(self, "dead_sock"):
            self.dead_sock.close()

    def test_eight_devices_mixed_links(self):
        """8 devices: 3 UDP, 2 UDP through linkemu, 2 serial ptys, 1 serial
        through linkemu at 115200; plus an image list and a reset job; one
        configured device is dead and fails with a sentence."""
        devs = []
        for i in range(3):
            devs.append(("udp-%d" % i, self.device("udp-%d" % i).conn("udp")))
        for i in range(2):
            t = self.device("emu-%d" % i)
            p, conn = linkemu_udp(t.udp_port)
            self.procs.append(p)
            devs.append(("emu-%d" % i, conn))
        for i in range(2):
            devs.append(("pty-%d" % i, self.device("pty-%d" % i, serial=True).conn("serial")))
        t = self.device("slow-0", serial=True)
        p, conn = linkemu_serial(t.pty)
        self.procs.append(p)
        devs.append(("slow-0", conn))
        self.dead_sock, dead_conn = dead_udp()
        dead = ("dead-0", dead_conn)
        things = [n for n, _ in devs] + [dead[0]]
        self.cloud = Cloud(self.broker, things)
        gw = Gateway(self.d, "gw-a", self.broker, devs + [dead],
                     extra="allow_http = true\nconcurrency = 8\ntimeout = 2")
        self.gws.append(gw)
        gw.start()
        gw.wait_line(r"ready: 9 devices")
        doc = image_doc(self.url, self.path("v2.bin"))
        for n in things:
            self.cloud.add_job(n, "fw-2-0-0", doc)
        self.cloud.add_job("udp-0", "list-1", {"operation": "image-list"})
        self.cloud.add_job("udp-1", "reset-1", {"operation": "reset"})
        self.cloud.wait_final([(n, "fw-2-0-0") for n in things] + [("udp-0", "list-1"), ("udp-1", "reset-1")])
        for n, _ in devs:
            j = self.cloud.job(n, "fw-2-0-0")
            self.assertEqual(j["status"], "SUCCEEDED", (n, j.get("details")))
            self.assertIn(self.v2, j["details"]["image0_slot0"])
            self.assertIn("active confirmed", j["details"]["image0_slot0"])
            st = self.cloud.state[n]["images"]
            a = [e for e in st if e["image"] == 0 and e["slot"] == 0][0]
            self.assertEqual(a["hash"], self.v2)
            self.assertTrue(a["confirmed"])
        jd = self.cloud.job(dead[0], "fw-2-0-0")
        self.assertEqual(jd["status"], "FAILED")
        self.assertIn("does not answer", jd["details"]["reason"])
        self.assertEqual(self.cloud.job("udp-0", "list-1")["status"], "SUCCEEDED")
        self.assertIn(self.v2, self.cloud.job("udp-0", "list-1")["details"]["image0_slot0"])
        self.assertEqual(self.cloud.job("udp-1", "reset-1")["status"], "SUCCEEDED")
        # Downloaded once for all eight devices (cache by SHA-256).
        self.assertEqual(self.http.gets.get("/v2.bin"), 1)
        # Progress came with a percent and a rate.
        self.assertTrue(any(u[2] == "IN_PROGRESS" and "percent" in u[3] and "rate" in u[3]
                            for u in self.cloud.updates))
        # Each job's final status exactly once.
        for k, v in self.cloud.finals.items():
            self.assertEqual(len(v), 1, (k, v))
        # SIGTERM: a clean exit.
        self.assertEqual(gw.kill(15), 0)


if __name__ == "__main__":
    main()
