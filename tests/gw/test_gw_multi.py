# SPDX-License-Identifier: Apache-2.0
"""Several gateways against one broker: three smpdfu-gw processes, each with
its own client id, journal and devices, one broker, one jobs-service
stand-in with a job for every device. Every job ends SUCCEEDED once, and
each gateway touched only its own things."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gwlib import Cloud, Gateway, GwCase, image_doc, make_image, main  # noqa: E402

GATEWAYS, PER = 3, 2


class MultiGatewayTest(GwCase):
    def test_three_gateways_one_broker(self):
        p = lambda n: os.path.join(self.d, n)  # noqa: E731
        make_image(p("v1.bin"), "1.0.0", 20000, 1)
        v2 = make_image(p("v2.bin"), "2.0.0", 40000, 2).hash
        with open(p("v2.bin"), "rb") as f:
            url = self.http.add("/v2.bin", f.read())
        fleet = {}
        for g in range(GATEWAYS):
            devs = []
            for i in range(PER):
                name = "site%d-dev%d" % (g, i)
                devs.append((name, self.device(name).conn()))
            fleet["gw-site%d" % g] = devs
        things = [n for devs in fleet.values() for n, _ in devs]
        self.cloud = Cloud(self.broker, things)
        for name, devs in fleet.items():
            gw = Gateway(self.d, name, self.broker, devs, extra="allow_http = true")
            self.gws.append(gw)
            gw.start()
        for gw in self.gws:
            gw.wait_line("ready: %d devices" % PER)
        for n in things:
            self.cloud.add_job(n, "fw-2", image_doc(url, p("v2.bin")))
        self.cloud.wait_final([(n, "fw-2") for n in things])
        for n in things:
            j = self.cloud.job(n, "fw-2")
            self.assertEqual(j["status"], "SUCCEEDED", (n, j.get("details")))
            self.assertIn(v2 + " active confirmed", j["details"]["image0_slot0"])
        for k, v in self.cloud.finals.items():
            self.assertEqual(len(v), 1, (k, v))
        for gw, (name, devs) in zip(self.gws, fleet.items()):
            mine = {n for n, _ in devs}
            touched = {l.split(":")[1].strip() for l in gw.log if ": job " in l}
            self.assertEqual(touched, mine, name)
        # Each gateway downloaded the image into its own cache once.
        self.assertEqual(self.http.gets.get("/v2.bin"), GATEWAYS)


if __name__ == "__main__":
    main()
