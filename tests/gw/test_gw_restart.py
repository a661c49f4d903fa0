# SPDX-License-Identifier: Apache-2.0
"""smpdfu-gw survives restarts: kill -9 of the gateway mid-upload (the
SQLite journal resumes every unfinished job, the device continues the
upload by its sha, each final status is sent once), and a broker restart
mid-job (the gateway reconnects with backoff, re-subscribes and sends the
final statuses it could not send while the broker was down)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gwlib import (Cloud, Gateway, GwCase, image_doc, linkemu_udp,  # noqa: E402
                   make_image, main)

N = 4


class RestartTest(GwCase):
    tls = True

    def setUp(self):
        super().setUp()
        make_image(self.path("v1.bin"), "1.0.0", 20000, 1)
        self.v2 = make_image(self.path("v2.bin"), "2.0.0", 240000, 2).hash
        with open(self.path("v2.bin"), "rb") as f:
            self.url = self.http.add("/v2.bin", f.read())
        self.devs = []
        for i in range(N):
            t = self.device("d%d" % i)
            # 20 ms round trips: the upload takes long enough to be cut.
            p, conn = linkemu_udp(t.udp_port)
            self.procs.append(p)
            self.devs.append(("dev-%d" % i, conn))
        self.things = [n for n, _ in self.devs]
        self.cloud = Cloud(self.broker, self.things)

    def gateway(self):
        gw = Gateway(self.d, "gw-r", self.broker, self.devs, extra="allow_http = true\nconcurrency = %d\nprogress_interval = 0.05" % N)
        self.gws.append(gw)
        return gw

    def check_all_done(self):
        self.cloud.wait_final([(n, "fw-2") for n in self.things])
        for n in self.things:
            j = self.cloud.job(n, "fw-2")
            self.assertEqual(j["status"], "SUCCEEDED", (n, j.get("details")))
            self.assertIn(self.v2, j["details"]["image0_slot0"])
        self.cloud.wait(lambda: all(self.cloud.state.get(n, {}).get("images", [{}])[0].get("hash") == self.v2
                                    for n in self.things), "the retained states with the new image")
        for k, v in self.cloud.finals.items():
            self.assertEqual(len(v), 1, (k, v))

    def upload_at(self, lo, hi):
        """Wait until some device reports an upload between lo and hi percent."""
        self.cloud.wait_update(lambda u: u[2] == "IN_PROGRESS" and u[3].get("step") == "upload"
                               and lo <= int(u[3].get("percent", "-1")) <= hi, "an upload in progress")

    def test_kill9_mid_job_resumes_once(self):
        gw = self.gateway().start()
        gw.wait_line(r"ready: %d devices" % N)
        for n in self.things:
            self.cloud.add_job(n, "fw-2", image_doc(self.url, self.path("v2.bin")))
        self.upload_at(1, 90)
        gw.kill()  # SIGKILL
        unfinished = [n for n in self.things if self.cloud.job(n, "fw-2")["status"] not in ("SUCCEEDED", "FAILED")]
        self.assertTrue(unfinished)
        gw2 = self.gateway().start()
        gw2.wait_line(r"resuming \(was at step upload\)")
        self.check_all_done()
        gw2.wait_line(r"upload resumed at byte [1-9]")
        # The image came from the cache the first run filled.
        self.assertEqual(self.http.gets.get("/v2.bin"), 1)
        self.assertEqual(gw2.kill(15), 0)

    def test_broker_restart_mid_job(self):
        gw = self.gateway().start()
        gw.wait_line(r"ready: %d devices" % N)
        for n in self.things:
            self.cloud.add_job(n, "fw-2", image_doc(self.url, self.path("v2.bin")))
        self.upload_at(1, 90)
        self.broker.stop()
        gw.wait_line(r"lost the broker")
        # The devices finish while the broker is away: their final statuses wait in the journal.
        gw.wait_line(r"job fw-2: SUCCEEDED", N)
        self.broker.start()
        gw.wait_line(r"ready: %d devices" % N, 2)
        self.check_all_done()
        self.assertEqual(gw.kill(15), 0)


if __name__ == "__main__":
    main()
