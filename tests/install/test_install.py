# SPDX-License-Identifier: Apache-2.0
"""The library as other projects get it: `cmake --install` into a temporary
prefix, then three consumer builds that must compile, link and run:
find_package(smpdfu) against the prefix, add_subdirectory() of the source
tree, and a plain cc line with pkg-config's flags. Also: the installed tree
holds what docs/install.md promises, and the installed tools run."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import BUILD, SOURCE  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), p.returncode, p.stdout[-3000:],
                                                         p.stderr[-3000:]))
    return p.stdout


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A sanitizer build's libraries need the sanitizer runtime in every
        # consumer: what users install is the plain build (tested there).
        cache = open(os.path.join(BUILD, "CMakeCache.txt")).read()
        if "SMPDFU_SANITIZE:BOOL=ON" in cache or "SMPDFU_FUZZ:BOOL=ON" in cache:
            raise unittest.SkipTest("sanitizer build: the install is tested in the plain build")
        cls.tmp = tempfile.mkdtemp(prefix="smpdfu-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        run(["cmake", "--install", BUILD, "--prefix", cls.prefix])
        libdirs = [d for d in ("lib", "lib64") if os.path.isdir(os.path.join(cls.prefix, d))]
        cls.libdir = os.path.join(cls.prefix, libdirs[0])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_layout(self):
        for rel in ("include/smpdfu/client.h", "include/smpdfu/version.h", "bin/smpdfu", "bin/smpdfu-target",
                    "bin/smpdfu-linkemu"):
            self.assertTrue(os.path.exists(os.path.join(self.prefix, rel)), rel)
        for rel in ("libsmpdfu_core.a", "libsmpdfu_client.a", "libsmpdfu_server.a", "libsmpdfu_posix.a",
                    "cmake/smpdfu/smpdfuConfig.cmake", "cmake/smpdfu/smpdfuConfigVersion.cmake",
                    "pkgconfig/smpdfu.pc", "pkgconfig/smpdfu-core.pc"):
            self.assertTrue(os.path.exists(os.path.join(self.libdir, rel)), rel)

    def test_gateway_and_unit(self):
        """smpdfu-gw, when built, comes with its systemd unit in systemd's place."""
        if not os.path.exists(os.path.join(BUILD, "smpdfu-gw")):
            self.skipTest("smpdfu-gw not built")
        for rel in ("bin/smpdfu-gw", "lib/systemd/system/smpdfu-gw.service", "share/doc/smpdfu/gw.conf.example"):
            self.assertTrue(os.path.exists(os.path.join(self.prefix, rel)), rel)
        with open(os.path.join(self.prefix, "lib/systemd/system/smpdfu-gw.service")) as f:
            self.assertIn("ExecStart=/usr/bin/smpdfu-gw --config", f.read())

    def test_installed_tool_runs(self):
        out = run([os.path.join(self.prefix, "bin", "smpdfu"), "--version"])
        version = run(["sed", "-n", 's/^#define SMPDFU_VERSION_STRING "\\(.*\\)"/\\1/p',
                       os.path.join(SOURCE, "include", "smpdfu", "version.h")]).strip()
        self.assertIn(version, out)

    def build_consumer(self, src, *defs):
        b = tempfile.mkdtemp(dir=self.tmp)
        run(["cmake", "-S", src, "-B", b, "-DCMAKE_BUILD_TYPE=Release"] + list(defs))
        run(["cmake", "--build", b, "-j2"])
        return b

    def test_find_package(self):
        b = self.build_consumer(os.path.join(HERE, "consumer-package"), "-DCMAKE_PREFIX_PATH=" + self.prefix)
        self.assertIn("consumer ok", run([os.path.join(b, "consumer")]))
        self.assertIn("consumer ok", run([os.path.join(b, "consumer_core")]))

    def test_add_subdirectory(self):
        b = self.build_consumer(os.path.join(HERE, "consumer-subdir"), "-DSMPDFU_SRC=" + os.path.abspath(SOURCE))
        self.assertIn("consumer ok", run([os.path.join(b, "consumer")]))
        # As a subproject only the libraries are built: no tools, no tests.
        self.assertFalse(os.path.exists(os.path.join(b, "smpdfu", "smpdfu")))
        self.assertFalse(os.path.exists(os.path.join(b, "smpdfu", "CTestTestfile.cmake")))

    def test_pkg_config(self):
        if shutil.which("pkg-config") is None:
            self.skipTest("pkg-config not installed")
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(self.libdir, "pkgconfig"))
        for pc, extra in (("smpdfu", ["-DCONSUMER_POSIX"]), ("smpdfu-core", [])):
            flags = run(["pkg-config", "--cflags", "--libs", pc], env=env).split()
            exe = os.path.join(self.tmp, "consumer-" + pc)
            run(["cc", "-std=c99"] + extra + [os.path.join(HERE, "consumer.c"), "-o", exe] + flags)
            self.assertIn("consumer ok", run([exe]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
