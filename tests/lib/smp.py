# SPDX-License-Identifier: Apache-2.0
"""Independent SMP client for conformance tests (protocol.md §1, §5).

Written from the spec, not from smpdfu's C code: header packing, cbor2
payloads, console framing (binascii.crc_hqx + base64), UDP and pty transports,
and connect() to reach a harness.Target with them. Processes, paths and
images are harness.py's.
"""
import base64
import binascii
import hashlib
import os
import select
import socket
import struct
import sys
import termios
import time
import tty

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PATIENCE  # noqa: E402

OP_READ, OP_READ_RSP, OP_WRITE, OP_WRITE_RSP = 0, 1, 2, 3
GROUP_OS, GROUP_IMAGE = 0, 1
GROUP_STAT, GROUP_SETTINGS, GROUP_FS, GROUP_SHELL, GROUP_ENUM = 2, 3, 8, 9, 10
GROUP_ZEPHYR_BASIC = 63


# ------------------------------------------------------------------ header

def pack_hdr(op, group, cmd, seq, length, version=1, flags=0):
    return struct.pack(">BBHHBB", ((version & 3) << 3) | (op & 7), flags, length, group, seq, cmd)


def unpack_hdr(b):
    b0, flags, length, group, seq, cmd = struct.unpack(">BBHHBB", b[:8])
    return {"op": b0 & 7, "version": (b0 >> 3) & 3, "res": b0 >> 5, "flags": flags,
            "len": length, "group": group, "seq": seq, "id": cmd}


def packet(op, group, cmd, body, seq=0, version=1):
    """body: dict (CBOR-encoded) or raw bytes."""
    payload = body if isinstance(body, (bytes, bytearray)) else cbor2.dumps(body)
    return pack_hdr(op, group, cmd, seq, len(payload), version) + bytes(payload)


# ------------------------------------------------------------ console framing

def serial_encode(pkt, line_max=127):
    """SMP over console: len_be16 + packet + crc16-xmodem_be16, base64, lines."""
    crc = binascii.crc_hqx(pkt, 0)
    frame = struct.pack(">H", len(pkt) + 2) + pkt + struct.pack(">H", crc)
    text = base64.b64encode(frame)
    per = (line_max - 3) // 4 * 4
    out = b""
    for i in range(0, len(text), per):
        out += (b"\x06\x09" if i == 0 else b"\x04\x14") + text[i:i + per] + b"\n"
    return out


class SerialDecoder:
    """Collects console lines; yields SMP packets whose CRC checks."""

    def __init__(self):
        self.buf = b""
        self.frame = None
        self.bad = 0

    def feed(self, data):
        self.buf += data
        pkts = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.startswith(b"\x06\x09"):
                self.frame = b""
            elif not line.startswith(b"\x04\x14") or self.frame is None:
                continue
            try:
                self.frame += base64.b64decode(line[2:], validate=True)
            except binascii.Error:
                self.frame, self.bad = None, self.bad + 1
                continue
            if len(self.frame) >= 2:
                need = struct.unpack(">H", self.frame[:2])[0]
                if len(self.frame) - 2 >= need:
                    body = self.frame[2:2 + need]
                    self.frame = None
                    if binascii.crc_hqx(body, 0) == 0:
                        pkts.append(body[:-2])
                    else:
                        self.bad += 1
        return pkts


# ----------------------------------------------------------------- transports

class UdpTransport:
    def __init__(self, addr):
        host, port = addr
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.addr = (host, port)

    def send(self, pkt):
        self.sock.sendto(pkt, self.addr)

    def recv(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return []
        data, _ = self.sock.recvfrom(65536)
        return [data]

    def close(self):
        self.sock.close()


class PtyTransport:
    """The device's pty; raw=True for the raw UART variant (bare packets)."""

    def __init__(self, path, raw=False):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.raw = raw
        self.dec = SerialDecoder()
        self.rbuf = b""

    def send(self, pkt):
        self.write_bytes(pkt if self.raw else serial_encode(pkt))

    def write_bytes(self, data):
        os.write(self.fd, data)

    def recv(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return []
        data = os.read(self.fd, 65536)
        if not self.raw:
            return self.dec.feed(data)
        self.rbuf += data
        out = []
        while len(self.rbuf) >= 8:
            n = 8 + struct.unpack(">H", self.rbuf[2:4])[0]
            if len(self.rbuf) < n:
                break
            out.append(self.rbuf[:n])
            self.rbuf = self.rbuf[n:]
        return out

    def close(self):
        os.close(self.fd)


class Timeout(Exception):
    pass


class Client:
    def __init__(self, transport, timeout=PATIENCE):
        self.t = transport
        self.seq = 0
        self.timeout = timeout
        self.barriers = 0

    def send_raw(self, pkt):
        self.t.send(pkt)

    def recv_packets(self, timeout=None, count=1):
        """Collect `count` response packets (or fewer on timeout)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        out = []
        while len(out) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            out += self.t.recv(left)
        return out

    def transact_raw(self, pkt, timeout=None):
        """Send a packet, return (hdr, body_bytes) of the first response."""
        self.t.send(pkt)
        pkts = self.recv_packets(timeout)
        if not pkts:
            raise Timeout("no response")
        return unpack_hdr(pkts[0]), pkts[0][8:]

    def request(self, op, group, cmd, body=None, version=1, timeout=None):
        """Returns (hdr, decoded map)."""
        self.seq = (self.seq + 1) & 0xFF
        pkt = packet(op, group, cmd, {} if body is None else body, self.seq, version)
        self.t.send(pkt)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no response to group %d cmd %d" % (group, cmd))
            for p in self.t.recv(left):
                h = unpack_hdr(p)
                if h["seq"] == self.seq and h["group"] == group and h["id"] == cmd:
                    return h, cbor2.loads(p[8:8 + h["len"]])

    def barrier(self):
        """Send an echo with a text of its own; return every packet that came
        before its answer. The device answers in order, so an answer to
        anything sent earlier is among them: `barrier() == []` proves that
        nothing was answered, without waiting for a time."""
        self.barriers += 1
        text = "barrier %d" % self.barriers
        self.seq = (self.seq + 1) & 0xFF
        self.t.send(packet(OP_WRITE, GROUP_OS, 0, {"d": text}, self.seq))
        before = []
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no answer to the barrier echo")
            for p in self.t.recv(left):
                h = unpack_hdr(p)
                if (h["group"], h["id"], h["seq"]) == (GROUP_OS, 0, self.seq):
                    try:
                        if cbor2.loads(p[8:8 + h["len"]]) == {"r": text}:
                            return before
                    except Exception:
                        pass
                before.append(p)

    # convenience
    def read(self, group, cmd, body=None, **kw):
        return self.request(OP_READ, group, cmd, body, **kw)[1]

    def write(self, group, cmd, body=None, **kw):
        return self.request(OP_WRITE, group, cmd, body, **kw)[1]

    def echo(self, text):
        return self.write(GROUP_OS, 0, {"d": text})

    def state(self):
        return self.read(GROUP_IMAGE, 0)

    def upload(self, data, image=None, chunk=256, sha=True, start=0, stop=None, upgrade=None):
        """Upload following the server's `off`. Returns the last response."""
        off = start
        full_sha = hashlib.sha256(data).digest()
        rsp = None
        while off < len(data):
            body = {"off": off, "data": data[off:off + chunk]}
            if off == 0:
                body["len"] = len(data)
                if sha:
                    body["sha"] = full_sha if sha is True else sha
                if image is not None:
                    body["image"] = image
                if upgrade is not None:
                    body["upgrade"] = upgrade
            rsp = self.write(GROUP_IMAGE, 1, body)
            if "off" not in rsp:
                return rsp
            if rsp["off"] <= off and off != 0:
                raise AssertionError("server did not advance: %r" % rsp)
            off = rsp["off"]
            if stop is not None and off >= stop:
                break
        return rsp

    # ---- other groups (Zephyr's field names, protocol.md §13-§19)

    def reset(self, **body):
        """os reset with optional force / boot_mode."""
        return self.write(GROUP_OS, 5, body)

    def shell(self, *argv):
        return self.write(GROUP_SHELL, 0, {"argv": list(argv)})

    def stat(self, name):
        return self.read(GROUP_STAT, 0, {"name": name})

    def settings_read(self, name, max_size=None, **kw):
        body = {"name": name}
        if max_size is not None:
            body["max_size"] = max_size
        return self.read(GROUP_SETTINGS, 0, body, **kw)

    def settings_write(self, name, val):
        return self.write(GROUP_SETTINGS, 0, {"name": name, "val": val})

    def fs_upload(self, name, data, chunk=256, start=0, stop=None, send_len=True):
        """Upload following the device's "off"; returns the last response."""
        off = start
        rsp = None
        while True:
            body = {"name": name, "off": off, "data": data[off:off + chunk]}
            if off == 0 and send_len:
                body["len"] = len(data)
            rsp = self.write(GROUP_FS, 0, body)
            if "off" not in rsp:
                return rsp
            off = rsp["off"]
            if off >= len(data) or (stop is not None and off >= stop):
                return rsp

    def fs_download(self, name, start=0):
        """Download a whole file; returns (data, first response)."""
        off, data, first, total = start, bytearray(), None, None
        while True:
            rsp = self.read(GROUP_FS, 0, {"name": name, "off": off})
            if "data" not in rsp:
                return None, rsp
            if first is None:
                first = rsp
                total = rsp.get("len")
            data += rsp["data"]
            off += len(rsp["data"])
            if total is not None and off >= total or not rsp["data"]:
                return bytes(data), first

    def close(self):
        self.t.close()


# ------------------------------------------------------------- the device

def connect(target, kind="udp", timeout=PATIENCE):
    """A Client for a harness.Target: over its UDP port, or its pty ("serial";
    bare packets when the target runs --raw-uart)."""
    if kind == "udp":
        return Client(UdpTransport(target.udp_addr), timeout)
    return Client(PtyTransport(target.pty, raw=target.raw), timeout)


def flash_read(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
