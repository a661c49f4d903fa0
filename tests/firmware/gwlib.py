# SPDX-License-Identifier: Apache-2.0
"""The gateway set-up shared by test_fw_gateway*.py: smpdfu-target behind
the central firmware's UART0, smpdfu-linkemu serial as the uplink line on
UART1, `smpdfu serve-image` at its other end."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fwlib import LINKEMU, SMPDFU, FwCase, HostTarget, Proc, make_image, run_qemu  # noqa: E402


class GatewayBase(FwCase):
    uplink_line = ["--baud", "0"]

    def setUp(self):
        super().setUp()
        self.board = self.boards[0]
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1).hash
        self.t = self.track(HostTarget(self.tmp, ["--factory", self.path("v1.bin"), "--slot-size",
                                                  "384K", "--buf-size", "2048"]))
        le = self.track(Proc([LINKEMU, "serial"] + self.uplink_line, "smpdfu-linkemu (uplink)"))
        le.wait_line(lambda l: l == "ready", timeout=30)
        self.up_host = next(l[8:] for l in le.log() if l.startswith("client: "))
        self.up_mcu = next(l[8:] for l in le.log() if l.startswith("target: "))

    def serve(self, image):
        s = self.track(Proc([SMPDFU, "--conn", "serial:" + self.up_host, "serve-image", image],
                            "serve-image"))
        s.wait_line(lambda l: l == "ready", timeout=30)
        return s

    def central(self, args=()):
        return self.track(run_qemu(self.board, "central",
                                   ["source=uplink"] + list(args),
                                   ["-serial", self.t.pty, "-serial", self.up_mcu],
                                   name="central firmware (gateway)"))
