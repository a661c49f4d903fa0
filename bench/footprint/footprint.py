#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Flash and RAM of smpdfu on Cortex-M, by module, from the linker maps.

Builds with arm-none-eabi-gcc at -Os (-ffunction-sections -fdata-sections,
--gc-sections) for Cortex-M0+, M4 and M33:

  central-min  bench/footprint/fw/central_min.c: the DFU orchestrator, the client
               and the core it links, no sentences, no printf
               (SMPDFU_CONFIG=fw/footprint_config.h), plus the least port (polled
               UART, SysTick, vectors) and the port's software SHA-256;
               linked with a generic linker script (fw/generic.ld)
  central      firmware/apps/central.c (every CLI mode, the gateway, reports)
  target       firmware/apps/target.c (SMP server, boot emulation)

central and target are the QEMU firmware (docs/firmware.md) with default
switches, built with CMake (board mps2-an505 for the M33, mps2-an385's
memory map for the others: only the link matters, nothing runs here).

Prints one table per program: flash (.text + .rodata + .data's load image)
and RAM (.data + .bss) of each module (object file; libc and libgcc
together), then the totals per library. Never fails on size; the goal for
central-min (issue 8: <= 12 KiB flash and <= 2 KiB RAM beyond the packet
buffers) is printed with the figures.

  bench/footprint/footprint.py [--out build/footprint] [--cpu cortex-m4 ...]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(SRC, "bench", "footprint", "fw")
CPUS = ["cortex-m0plus", "cortex-m4", "cortex-m33"]
SHORT = {"cortex-m0plus": "M0+", "cortex-m4": "M4", "cortex-m33": "M33"}
CFLAGS = ["-mthumb", "-mfloat-abi=soft", "-Os", "-ffunction-sections", "-fdata-sections",
          "--specs=nano.specs", "-std=c99", "-Wall", "-Wextra", "-Werror"]
# Buffers of central-min that the goal does not count (the app's .bss).
PACKET_BUFFERS = {"req_mem", "rx_buf", "tx_buf"}
GOAL_FLASH = 12 * 1024
GOAL_RAM = 2 * 1024


def run(cmd, cwd=None):
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stdout.write(r.stdout)
        raise SystemExit("footprint: failed: " + " ".join(cmd))
    return r.stdout


def build_min(cpu, out):
    """central_min.c against the portable libraries, compiled here."""
    d = os.path.join(out, "min-" + cpu)
    os.makedirs(d, exist_ok=True)
    flags = ["arm-none-eabi-gcc", "-mcpu=" + cpu] + CFLAGS + [
        "-I", os.path.join(SRC, "include"), "-I", HERE, "-DSMPDFU_CONFIG=footprint_config.h"]
    libs = []
    for lib, srcdir, only in (("core", "src/core", None), ("client", "src/client", None),
                              ("cortex_m", "src/port/cortex-m", {"sha256.c"})):
        objs = []
        for f in sorted(os.listdir(os.path.join(SRC, srcdir))):
            if not f.endswith(".c") or (only and f not in only):
                continue
            o = os.path.join(d, lib + "-" + f[:-2] + ".o")
            run(flags + ["-I", os.path.join(SRC, srcdir), "-c", os.path.join(SRC, srcdir, f), "-o", o])
            objs.append(o)
        a = os.path.join(d, "libsmpdfu_%s.a" % lib)
        if os.path.exists(a):
            os.remove(a)
        run(["arm-none-eabi-ar", "rcs", a] + objs)
        libs.append(a)
    elf = os.path.join(d, "central-min.elf")
    mp = os.path.join(d, "central-min.map")
    run(flags + ["-nostartfiles", "--specs=nosys.specs", "-T", os.path.join(HERE, "generic.ld"),
                 "-Wl,--gc-sections", "-Wl,-Map=" + mp, os.path.join(HERE, "central_min.c"),
                 "-o", elf, "-Wl,--start-group"] + libs + ["-Wl,--end-group"])
    return elf, mp


def build_min_lto(cpu, out):
    """The same program with -flto (one compile): whole-program flash, which
    the map cannot split by module any more."""
    d = os.path.join(out, "min-" + cpu)
    elf = os.path.join(d, "central-min-lto.elf")
    srcs = [os.path.join(SRC, "src/port/cortex-m/sha256.c"), os.path.join(HERE, "central_min.c")]
    for srcdir in ("src/core", "src/client"):
        srcs += [os.path.join(SRC, srcdir, f) for f in sorted(os.listdir(os.path.join(SRC, srcdir)))
                 if f.endswith(".c")]
    # Without -Werror: LTO's cross-file inlining raises a maybe-uninitialized
    # false positive (image.c: has_enc_tlv reads t only after tlv_next filled it).
    flags = [f for f in CFLAGS if f != "-Werror"]
    run(["arm-none-eabi-gcc", "-mcpu=" + cpu] + flags + ["-flto", "-Wno-maybe-uninitialized", "-I", os.path.join(SRC, "include"),
         "-I", os.path.join(SRC, "src/core"), "-I", HERE, "-DSMPDFU_CONFIG=footprint_config.h",
         "-nostartfiles", "--specs=nosys.specs", "-T", os.path.join(HERE, "generic.ld"),
         "-Wl,--gc-sections", "-o", elf] + srcs)
    return elf


def build_fw(cpu, out):
    """The QEMU firmware (central.elf, target.elf) with CMake."""
    d = os.path.join(out, "fw-" + cpu)
    board = "mps2-an505" if cpu == "cortex-m33" else "mps2-an385"
    run(["cmake", "-S", SRC, "-B", d, "-DCMAKE_TOOLCHAIN_FILE=" + os.path.join(SRC, "cmake/arm-none-eabi.cmake"),
         "-DSMPDFU_FIRMWARE=ON", "-DSMPDFU_BOARD=" + board, "-DSMPDFU_CPU=" + cpu])
    run(["cmake", "--build", d, "-j", os.environ.get("JOBS", "2"), "--target", "central", "target"])
    return {app: (os.path.join(d, app + ".elf"), os.path.join(d, app + ".map")) for app in ("central", "target")}


def module_of(path, section):
    """(library, module) for an input file of the map."""
    m = re.search(r"lib(smpdfu_\w+)\.a\(([^)]+)\)", path)
    if m:
        lib = m.group(1)[len("smpdfu_"):]
        obj = re.sub(r"\.(c\.obj|o|obj)$", "", m.group(2))
        obj = re.sub(r"^(core|client|server|cortex_m)-", "", obj)
        lib = {"cortex_m": "port"}.get(lib, lib)
        return lib, lib + "/" + obj
    if re.search(r"lib(c|c_nano|g|g_nano|gcc|nosys|m)\.a\(", path) or "libgcc" in path:
        return "libc", "libc+libgcc"
    base = os.path.basename(path)
    base = re.sub(r"\.(c\.obj|S\.obj|o|obj)$", "", base)
    base = re.sub(r"^ccc?[A-Za-z0-9]+$", "central_min", base)  # gcc's temporary object
    base = re.sub(r"\.c$", "", base)
    if base == "central_image":
        return "images", "(linked images)"
    if base in ("crti", "crtn", "crtbegin", "crtend", "crt0"):
        return "libc", "libc+libgcc"
    return "app", "app/" + base


def parse_map(path):
    """{module: [flash, ram]}, {library: [flash, ram]}, packet-buffer RAM."""
    mods, libs = {}, {}
    buffers = 0
    out_sec = None
    pending = None
    started = False

    cover = {}

    def add(name, addr, size, fname):
        """Count the bytes of [addr, addr+size) not counted yet: merged
        string sections are listed once per object at the same address."""
        nonlocal buffers
        if out_sec is None or size == 0:
            return
        top = cover.get(out_sec, 0)
        size = max(0, addr + size - max(addr, top))
        cover[out_sec] = max(top, addr + size)
        if size == 0:
            return
        flash = out_sec in (".text", ".ARM.exidx", ".rodata", ".data")
        ram = out_sec in (".data", ".bss")
        if not flash and not ram:
            return
        if fname is None:
            lib, mod = "fill", "(alignment)"
        else:
            lib, mod = module_of(fname, name)
        if lib == "app" and out_sec == ".bss" and name.split(".")[-1] in PACKET_BUFFERS:
            buffers += size
            lib, mod = "buffers", "(packet buffers)"
        for key, table in ((mod, mods), (lib, libs)):
            e = table.setdefault(key, [0, 0])
            e[0] += size if flash else 0
            e[1] += size if ram else 0

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not started:
                started = line.startswith("Linker script and memory map")
                continue
            m = re.match(r"^(\.[\w.]+)(?:\s+0x[0-9a-f]+\s+0x[0-9a-f]+.*)?$", line)
            if m:
                out_sec = m.group(1)
                pending = None
                continue
            if not line.startswith(" "):
                continue
            m = re.match(r"^ \*fill\*\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)", line)
            if m:
                add("fill", int(m.group(1), 16), int(m.group(2), 16), None)
                continue
            m = re.match(r"^ ([.\w]\S*|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            if m:
                add(m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4))
                pending = None
                continue
            m = re.match(r"^ ([.\w]\S*|COMMON)$", line)
            if m:
                pending = m.group(1)
                continue
            m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            if m and pending:
                add(pending, int(m.group(1), 16), int(m.group(2), 16), m.group(3))
                pending = None
    return mods, libs, buffers


def size_of(elf):
    """(flash, ram) as arm-none-eabi-size counts them (cross-check)."""
    o = run(["arm-none-eabi-size", "-B", elf]).splitlines()[1].split()
    text, data, bss = int(o[0]), int(o[1]), int(o[2])
    return text + data, data + bss


def table(title, results, by):
    """results: {cpu: (mods, libs, buffers, size)}; by: 'mods' or 'libs'."""
    cpus = [c for c in CPUS if c in results]
    keys = set()
    for c in cpus:
        keys |= set(results[c][0 if by == "mods" else 1])
    first = cpus[-1]
    idx = 0 if by == "mods" else 1

    def weight(k):
        return -(results[first][idx].get(k, [0, 0])[0] + results[first][idx].get(k, [0, 0])[1])
    keys = sorted(keys, key=lambda k: (weight(k), k))
    head = "%-24s" % title + "".join("  %9s %7s" % (SHORT[c] + " flash", "RAM") for c in cpus)
    print(head)
    print("-" * len(head))
    for k in keys:
        print("%-24s" % k + "".join("  %9d %7d" % tuple(results[c][idx].get(k, [0, 0])) for c in cpus))
    tot = ["  %9d %7d" % tuple(results[c][3]) for c in cpus]
    print("%-24s" % "total" + "".join(tot))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(SRC, "build", "footprint"))
    ap.add_argument("--cpu", action="append", choices=CPUS)
    ap.add_argument("--no-firmware", action="store_true", help="only central-min")
    a = ap.parse_args()
    if not shutil.which("arm-none-eabi-gcc"):
        print("footprint: skipped: arm-none-eabi-gcc not found (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi)")
        return 0
    cpus = a.cpu or CPUS
    os.makedirs(a.out, exist_ok=True)
    progs = {"central-min": {}, "central": {}, "target": {}}
    lto = {}
    for cpu in cpus:
        elf, mp = build_min(cpu, a.out)
        progs["central-min"][cpu] = (elf, mp)
        lto[cpu] = size_of(build_min_lto(cpu, a.out))
        if not a.no_firmware:
            for app, em in build_fw(cpu, a.out).items():
                progs[app][cpu] = em
    for name, per_cpu in progs.items():
        if not per_cpu:
            continue
        results = {}
        for cpu, (elf, mp) in per_cpu.items():
            mods, libs, buffers = parse_map(mp)
            flash, ram = size_of(elf)
            mflash = sum(v[0] for v in mods.values())
            mram = sum(v[1] for v in mods.values())
            # ld lists merged string sections with their sizes before merging:
            # a byte or two may be counted twice; more means the parser is off.
            if abs(mflash - flash) > 8 or mram != ram:
                print("footprint: %s %s: the map adds up to %d/%d, size says %d/%d"
                      % (name, cpu, mflash, mram, flash, ram))
            results[cpu] = (mods, libs, buffers, (flash, ram))
        print("== %s: bytes by module (-Os, gc-sections)" % name)
        table(name, results, "mods")
        table(name + " by library", results, "libs")
        if name == "central-min":
            for cpu in cpus:
                mods, libs, buffers, (flash, ram) = results[cpu]
                smp = sum(libs.get(k, [0, 0])[0] for k in ("core", "client"))
                smp_ram = sum(libs.get(k, [0, 0])[1] for k in ("core", "client"))
                print("goal %-4s smpdfu (client + core): flash %5d (%.1f KiB, goal <= 12 KiB: %s), "
                      "RAM %4d; program RAM beyond the packet buffers (%d): %d (goal <= 2 KiB: %s)"
                      % (SHORT[cpu], smp, smp / 1024, "met" if smp <= GOAL_FLASH else "NOT met",
                         smp_ram, buffers, ram - buffers, "met" if ram - buffers <= GOAL_RAM else "NOT met"))
                print("     %-4s whole program %d bytes flash; with -flto %d (%+d)"
                      % (SHORT[cpu], flash, lto[cpu][0], lto[cpu][0] - flash))
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
