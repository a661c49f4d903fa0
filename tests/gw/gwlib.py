# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the fleet gateway tests: a test CA (openssl), Debian's
mosquitto broker on loopback with TLS and password auth, a local HTTP
server, a stand-in for the AWS IoT Jobs service (paho-mqtt) and the
smpdfu-gw process. Every wait is for a message, a line or an exit."""
import hashlib
import http.server
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import BUILD, LINKEMU, MKIMAGE, SMPDFU, TARGET, Case, Proc, Target, main, make_image, tool  # noqa: E402,F401

GW = tool("smpdfu-gw")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
WAIT = float(os.environ.get("SMPDFU_GW_WAIT", "300"))  # fail-safe per wait, never a pass condition

try:
    import paho.mqtt.client as mqtt
except ImportError:  # pragma: no cover
    mqtt = None


def missing():
    """Why the gateway tests cannot run here, or None."""
    if not os.path.exists(GW):
        return "smpdfu-gw not built (libmosquitto-dev, libsqlite3-dev)"
    if not os.path.exists(MOSQUITTO):
        return "no mosquitto broker (Debian: mosquitto)"
    if mqtt is None:
        return "no python3-paho-mqtt"
    if not shutil.which("openssl"):
        return "no openssl"
    return None


def file_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_ca(d):
    """A test CA and a server certificate for 127.0.0.1; returns paths."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = os.path.join(d, "srv.key"), os.path.join(d, "srv.csr"), os.path.join(d, "srv.pem")
    ext = os.path.join(d, "srv.ext")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=smpdfu test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
        "-days", "2", "-extfile", ext)
    return {"ca": ca, "cert": crt, "key": key}


def free_port():
    """A TCP port free now (for mosquitto, which cannot take port 0)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def dead_udp():
    """A UDP port that never answers: a socket the test holds and never reads
    (a port merely free now could be taken by another process that answers)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, "udp:127.0.0.1:%d" % s.getsockname()[1]


def linkemu_udp(target_port, latency=10):
    """smpdfu-linkemu udp on a port it picks itself, to a device; (Proc, conn)."""
    p = Proc([LINKEMU, "udp", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:%d" % target_port,
              "--latency", str(latency)]).wait_ready()
    return p, "udp:127.0.0.1:%d" % int(p.info["listen"].rsplit(":", 1)[1])


def linkemu_serial(pty, baud=115200):
    """smpdfu-linkemu serial in front of a device's pty; (Proc, conn)."""
    p = Proc([LINKEMU, "serial", "--target-pty", pty, "--baud", str(baud)]).wait_ready()
    return p, "serial:%s,baud=%d" % (p.info["client"], baud)


class Broker:
    """mosquitto on 127.0.0.1: TLS (test CA) and password auth, or plain."""

    def __init__(self, d, tls=None, user="gw", password="s3cret", port=None):
        self.d, self.tls, self.user, self.password = d, tls, user, password
        self.port = port or free_port()
        self.proc = None
        self.pwfile = os.path.join(d, "passwd")
        with open(self.pwfile, "w") as f:
            f.write("")
        for u in (user, "cloud"):
            subprocess.run(["mosquitto_passwd", "-b", self.pwfile, u, password], check=True, capture_output=True)
        os.chmod(self.pwfile, 0o600)
        self.conf = os.path.join(d, "mosquitto.conf")
        self._write_conf()

    def _write_conf(self):
        d, tls = self.d, self.tls
        with open(self.conf, "w") as f:
            # As root mosquitto would drop to its own user, who cannot read the test's files.
            f.write("user %s\n" % pwd.getpwuid(os.getuid()).pw_name)
            f.write("per_listener_settings false\nallow_anonymous false\npassword_file %s\n" % self.pwfile)
            # Persistence: the cloud's session (subscriptions, queued messages) survives a broker restart.
            f.write("persistence true\npersistence_location %s/\n" % d)
            f.write("log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n")
            f.write("listener %d 127.0.0.1\n" % self.port)
            if tls:
                f.write("cafile %s\ncertfile %s\nkeyfile %s\n" % (tls["ca"], tls["cert"], tls["key"]))

    def start(self):
        """Start and wait for its listen line. The port came from free_port()
        (mosquitto takes no port 0): when another process took it meanwhile,
        the bind fails and the start is tried again on a new port."""
        for attempt in range(5):
            self.proc = Proc([MOSQUITTO, "-c", self.conf], "mosquitto", patience=WAIT)
            listening = "Opening ipv4 listen socket on port %d" % self.port
            if self.proc.wait_index(lambda l: listening in l, "err") is None:
                self.proc.wait_exit(30)
                if any("Address already in use" in x for x in self.proc.err) and attempt < 4:
                    self.port = free_port()
                    self._write_conf()
                    continue
                raise RuntimeError("mosquitto did not start: %s" % "\n".join(self.proc.err))
            return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc:
            self.proc.stop(sig, timeout=30)

    def url(self):
        return ("mqtts://127.0.0.1:%d" if self.tls else "mqtt://127.0.0.1:%d") % self.port


class HttpServer:
    """Serves self.files over plain HTTP on loopback; counts GETs per path."""

    def __init__(self):
        self.files = {}
        self.gets = {}
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.gets[self.path] = srv.gets.get(self.path, 0) + 1
                body = srv.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, path, data):
        self.files[path] = data
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


TERMINAL = ("SUCCEEDED", "FAILED", "REJECTED", "CANCELED", "TIMED_OUT", "REMOVED")


class Cloud:
    """Plays AWS IoT Jobs for a set of things: answers $next/get, takes
    updates, publishes notify-next when a job ends. Records every update and
    the retained state topics; waits are on those records."""

    def __init__(self, broker, things, prefix="smpdfu/things"):
        self.broker = broker
        self.jobs = {t: [] for t in things}   # thing -> [{"jobId", "doc", "status", "version"}]
        self.updates = []                      # (thing, jobId, status, details)
        self.finals = {}                       # (thing, jobId) -> [status, ...]
        self.state = {}                        # thing -> state document
        self.cv = threading.Condition()
        # A persistent session: what the gateway publishes while the cloud
        # reconnects after a broker restart waits for it in the broker.
        self.c = mqtt.Client(client_id="cloud-%d" % os.getpid(), clean_session=False, protocol=mqtt.MQTTv311)
        self.c.reconnect_delay_set(0.1, 1)
        self.c.username_pw_set("cloud", broker.password)
        if broker.tls:
            self.c.tls_set(ca_certs=broker.tls["ca"])
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.connected = threading.Event()
        self.c.connect("127.0.0.1", broker.port)
        self.c.loop_start()
        if not self.connected.wait(WAIT):
            raise RuntimeError("cloud client did not connect")

    def _on_connect(self, c, u, f, rc):
        # One SUBSCRIBE for all three: connected is set on its SUBACK, so
        # nothing the gateway publishes afterwards can pass unseen.
        _, self.sub_mid = c.subscribe([("$aws/things/+/jobs/$next/get", 1), ("$aws/things/+/jobs/+/update", 1),
                                       ("smpdfu/things/+/state", 1)])

    def _on_subscribe(self, c, u, mid, granted):
        if mid == getattr(self, "sub_mid", None):
            self.connected.set()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()

    def _next(self, thing):
        for j in self.jobs.get(thing, []):
            if j["status"] not in TERMINAL:
                return j
        return None

    def _execution(self, thing, j):
        return {"jobId": j["jobId"], "thingName": thing, "status": j["status"], "versionNumber": j["version"],
                "executionNumber": 1, "queuedAt": 1, "lastUpdatedAt": 1, "jobDocument": j["doc"]}

    def _notify(self, thing):
        j = self._next(thing)
        msg = {"timestamp": int(time.time())}
        if j:
            msg["execution"] = self._execution(thing, j)
        self.c.publish("$aws/things/%s/jobs/notify-next" % thing, json.dumps(msg), 1)

    def _on_message(self, c, u, m):
        t = m.topic.split("/")
        if t[0] == "smpdfu":
            with self.cv:
                self.state[t[2]] = json.loads(m.payload)
                self.cv.notify_all()
            return
        thing = t[2]
        if t[4:] == ["$next", "get"]:
            j = self._next(thing)
            msg = {"timestamp": int(time.time())}
            if j:
                msg["execution"] = self._execution(thing, j)
            c.publish("$aws/things/%s/jobs/$next/get/accepted" % thing, json.dumps(msg), 1)
            return
        job_id = t[4]
        body = json.loads(m.payload)
        st = body.get("status")
        with self.cv:
            self.updates.append((thing, job_id, st, body.get("statusDetails", {})))
            j = next((x for x in self.jobs.get(thing, []) if x["jobId"] == job_id), None)
            notify = False
            if j is not None:
                if st in TERMINAL:
                    self.finals.setdefault((thing, job_id), []).append(st)
                if j["status"] in TERMINAL:
                    c.publish("$aws/things/%s/jobs/%s/update/rejected" % (thing, job_id),
                              json.dumps({"code": "InvalidStateTransition", "message": "job is terminal"}), 1)
                else:
                    j["status"] = st
                    j["version"] += 1
                    j["details"] = body.get("statusDetails", {})
                    notify = st in TERMINAL
            self.cv.notify_all()
        if notify:
            self._notify(thing)

    def add_job(self, thing, job_id, doc, notify=True):
        with self.cv:
            self.jobs[thing].append({"jobId": job_id, "doc": doc, "status": "QUEUED", "version": 1})
            first = self._next(thing)["jobId"] == job_id
        if notify and first:
            self._notify(thing)

    def wait(self, pred, what, timeout=WAIT):
        with self.cv:
            if not self.cv.wait_for(pred, timeout):
                raise AssertionError("timed out waiting for %s; updates: %r" % (what, self.updates[-20:]))

    def job(self, thing, job_id):
        return next(x for x in self.jobs[thing] if x["jobId"] == job_id)

    def wait_final(self, pairs):
        self.wait(lambda: all(self.job(t, j)["status"] in TERMINAL for t, j in pairs), "final statuses")

    def wait_update(self, pred, what):
        self.wait(lambda: any(pred(u) for u in self.updates), what)


class Gateway:
    """One smpdfu-gw process; stderr lines collected, waits on them."""

    def __init__(self, d, name, broker, devices, extra="", cache=None):
        self.d = d
        self.conf = os.path.join(d, name + ".conf")
        self.cache = cache or os.path.join(d, name + "-cache")
        lines = ["broker = %s" % broker.url(), "client_id = %s" % name, "username = %s" % broker.user,
                 "password = %s" % broker.password, "cache_dir = %s" % self.cache, "reconnect_max = 1",
                 "progress_interval = 0.2"]
        if broker.tls:
            lines.append("ca = %s" % broker.tls["ca"])
        lines.append(extra)
        for n, conn in devices:
            lines += ["[device %s]" % n, "conn = %s" % conn]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    @property
    def log(self):
        """This run's stderr lines (a restart starts a new list)."""
        return self.proc.err if self.proc else []

    def start(self):
        self.proc = Proc([GW, "--config", self.conf], "smpdfu-gw", patience=WAIT)
        return self

    def wait_line(self, pattern, count=1):
        rx = re.compile(pattern)
        if self.proc.wait_index(rx.search, "err", count=count) is None:
            raise AssertionError("no line %r in the gateway log:\n%s" % (pattern, "\n".join(self.log[-40:])))

    def kill(self, sig=signal.SIGKILL):
        """Send sig (SIGKILL unless given); its exit status."""
        return self.proc.stop(sig) if self.proc else None


def image_doc(url, path, mode="test-confirm", **kw):
    d = {"operation": "dfu", "url": url, "sha256": file_sha(path), "mode": mode}
    d.update(kw)
    return d


class GwCase(Case):
    """A broker (TLS with a test CA when tls, else plain), an HTTP server,
    devices (device()), gateways (self.gws) and the cloud, all stopped at
    the end; helper processes in self.procs are killed."""
    tls = False

    def setUp(self):
        why = missing()
        if why:
            self.skipTest(why)
        self.tmp = tempfile.TemporaryDirectory(prefix="smpdfu-gw-")
        self.d = self.tmp.name
        self.procs, self.targets, self.gws = [], [], []
        self.http = HttpServer()
        self.cloud = None
        self.broker = Broker(self.d, tls=make_ca(self.d) if self.tls else None).start()

    def tearDown(self):
        for g in self.gws:
            if g.proc:
                self.track(g.proc)  # its log is shown if the test failed
            g.kill()
        if self.cloud:
            self.cloud.close()
        for p in self.procs:
            p.kill()
        for t in self.targets:
            t.stop()
        self.broker.stop()
        self.http.stop()
        self.tmp.cleanup()

    def path(self, n):
        return os.path.join(self.d, n)

    def device(self, name, args=(), serial=False):
        """smpdfu-target NAME.flash holding v1.bin, started."""
        t = Target(self.d, ["--factory", self.path("v1.bin"), "--reset-delay-ms", "50"] + list(args),
                   flash=self.path(name + ".flash"))
        self.targets.append(self.track(t))
        return t.start(serial=serial)
