# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the client end-to-end tests: the base case (a temporary
folder, targets stopped at the end, images v1 and v2); processes, images
and the CLI are harness.py's (re-exported here for the tests)."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import (BUILD, MKIMAGE, PATIENCE, SMPDFU, SOURCE, TARGET, Case, Target, image_list,  # noqa: E402,F401
                     is_reboot, make_image, reset, slot, smpdfu)


class E2ECase(Case):
    def setUp(self):
        if not os.path.exists(TARGET) or not os.path.exists(SMPDFU):
            self.skipTest("smpdfu-target or smpdfu not built")
        self.tmp = tempfile.TemporaryDirectory(prefix="smpdfu-e2e-")
        self.dir = self.tmp.name
        self.targets = []

    def tearDown(self):
        for t in self.targets:
            t.stop()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def target(self, args=(), **kw):
        t = Target(self.dir, args)
        self.targets.append(self.track(t))
        return t.start(**kw)

    def assert_slot0(self, images, hash_, confirmed):
        """Image 0 slot 0 holds hash_ and is (or is not) confirmed."""
        a = slot(images, 0, 0)
        self.assertEqual(a["hash"], hash_)
        if confirmed:
            self.assertTrue(a["confirmed"])
        else:
            self.assertFalse(a["confirmed"])

    def images(self, v2_size=60000):
        self.v1_hash = make_image(self.path("v1.bin"), "1.0.0", 20000, 1).hash
        self.v2_hash = make_image(self.path("v2.bin"), "2.0.0", v2_size, 2).hash
