#!/usr/bin/env python3
"""Running discodns as a service: sd_notify (READY/RELOADING/STOPPING), SIGHUP reload (a good
zone change applied, a bad config refused with the old one still serving), and the admin
HTTP endpoints (/metrics parsed by the Prometheus client library's parser, /healthz,
/readyz, /debug/registry), names left out per region, socket activation, RRL, and the
identity answers (NSID, CH TXT id.server). Stopping and faults: resilience_test.py.

usage: operations_test.py DISCODNS_BINARY SOURCE_DIR
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discodns_process  # noqa: E402

BINARY = None
SOURCE = None


def registry(now_ns):
    return discodns_process.fetch_all_document([
        discodns_process.instance("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"], now_ns)])


class Base(unittest.TestCase):
    EXTRA = ""
    SERVER_EXTRA = ""  # more [server] keys
    LAUNCHER = ()
    ENV = {}  # more environment variables for discodns

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="discodns-ops-")
        with open(os.path.join(self.dir, "registry.json"), "w") as f:
            json.dump(self.registry_document(time.time_ns()), f)
        shutil.copy(os.path.join(SOURCE, "zones", "example.com.zone"), self.dir)
        self.admin_port = discodns_process.free_port()
        self.config = os.path.join(self.dir, "discodns.toml")
        self.write_config(self.EXTRA)
        self.notify_path = os.path.join(self.dir, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path, **self.ENV)
        self.proc, port = discodns_process.start(BINARY, self.config, env=env,
                                                 launcher=self.LAUNCHER)
        self.port = str(port)

    def registry_document(self, now_ns):
        return registry(now_ns)

    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write(f'''[server]
listen = ["127.0.0.1:0"]
workers = 1
{self.SERVER_EXTRA}
[zone]
domain = "example.com"
file = "example.com.zone"
[[registry]]
region = "china"
source = "file"
file = "registry.json"
[admin]
listen = "127.0.0.1:{self.admin_port}"
{extra}''')

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def notifications(self, until, timeout=10):
        seen = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                seen.append(self.notify.recv(4096).decode())
            except socket.timeout:
                break
            if any(until in s for s in seen):
                return seen
        self.fail(f"no {until!r} notification; got {seen}")

    def dig(self, *args):
        return subprocess.run(["dig", "@127.0.0.1", "-p", self.port, "+tries=1", "+time=2", *args],
                              capture_output=True, text=True, timeout=10).stdout

    def metric(self, pattern):
        """The value of the first /metrics line matching `pattern` (a regex before the value)."""
        _, text = self.get("/metrics")
        m = re.search("^" + pattern + r" (\S+)$", text, re.M)
        self.assertIsNotNone(m, f"no {pattern} in /metrics")
        return float(m.group(1))

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


class Operations(Base):
    def test_notify_reload_and_stop(self):
        self.notifications("READY=1")
        # A good change: a new static name in the zone file appears after SIGHUP.
        with open(os.path.join(self.dir, "example.com.zone"), "a") as f:
            f.write("added IN A 192.0.2.99\n")
        self.proc.send_signal(signal.SIGHUP)
        seen = self.notifications("READY=1")
        self.assertTrue(any("RELOADING=1" in s for s in seen), seen)
        deadline = time.time() + 5
        while "192.0.2.99" not in self.dig("+short", "A", "added.example.com"):
            self.assertLess(time.time(), deadline, "the reloaded zone was not applied")
            time.sleep(0.1)
        # A bad config is refused; the old one keeps serving.
        self.write_config(extra="bogus_key = 1\n")
        self.proc.send_signal(signal.SIGHUP)
        self.notifications("READY=1")
        time.sleep(0.2)
        self.assertIn("10.0.0.11", self.dig("+short", "A", "goim.comet.dev.gd.china.example.com"))
        self.assertIn("192.0.2.99", self.dig("+short", "A", "added.example.com"))
        _, metrics = self.get("/metrics")
        self.assertRegex(metrics, r'discodns_reloads_total\{outcome="applied"\} 1\b')
        self.assertRegex(metrics, r'discodns_reloads_total\{outcome="refused"\} 1\b')
        self.proc.send_signal(signal.SIGTERM)
        self.notifications("STOPPING=1")
        self.assertEqual(self.proc.wait(timeout=10), 0)
        self.assertIn("reload refused", self.proc.stderr.read())

    def test_reload_says_what_needs_a_restart(self):
        # file_check_interval, reconcile_interval, state_file…: registry sources are set up
        # at start; a reload used to ignore such changes without a word.
        self.notifications("READY=1")
        with open(self.config) as f:
            text = f.read()
        with open(self.config, "w") as f:
            f.write(text.replace('file = "registry.json"',
                                 'file = "registry.json"\nfile_check_interval = "500ms"')
                    + '\n[transfer]\nallow = ["127.0.0.1"]\n')
        self.proc.send_signal(signal.SIGHUP)
        self.notifications("READY=1")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)
        self.assertRegex(self.proc.stderr.read(),
                         r"reload: \[\[registry\]\], \[transfer\] changed, which needs a "
                         r"restart")

    def test_admin_endpoints(self):
        self.notifications("READY=1")
        for _ in range(5):
            self.dig("A", "goim.comet.dev.gd.china.example.com")
        self.dig("+tcp", "A", "nosuch.example.com")
        status, text = self.get("/metrics")
        self.assertEqual(status, 200)
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            self.skipTest("python3-prometheus-client is not installed")
        families = {f.name: f for f in text_string_to_metric_families(text)}
        rcodes = {s.labels["rcode"]: s.value for s in families["discodns_answers_by_rcode"].samples
                  if s.name.endswith("_total")}
        self.assertGreaterEqual(rcodes["NOERROR"], 5)
        self.assertGreaterEqual(rcodes["NXDOMAIN"], 1)
        latency = families["discodns_answer_duration_seconds"]
        count = [s.value for s in latency.samples if s.name.endswith("_count")][0]
        self.assertGreaterEqual(count, 6)
        queries = {s.labels["transport"]: s.value for s in families["discodns_queries"].samples
                   if s.name == "discodns_queries_total"}
        self.assertGreaterEqual(queries["udp"], 5)
        self.assertGreaterEqual(queries["tcp"], 1)
        self.assertEqual(families["discodns_instances"].samples[0].value, 1)
        per_worker = {s.labels["worker"]: s.value
                      for s in families["discodns_worker_queries"].samples
                      if s.name == "discodns_worker_queries_total"}
        self.assertEqual(list(per_worker), ["0"])  # workers = 1
        self.assertGreaterEqual(per_worker["0"], 6)
        published = families["discodns_registry_change_publish_seconds"]
        count = [s.value for s in published.samples if s.name.endswith("_count")][0]
        self.assertGreaterEqual(count, 1)  # the registry file's data, published at start
        age = families["discodns_snapshot_age_seconds"].samples[0].value
        self.assertTrue(0 <= age < 60, age)
        self.assertEqual(self.get("/healthz")[0], 200)
        status, body = self.get("/readyz")
        self.assertEqual(status, 200, body)
        status, body = self.get("/debug/registry")
        self.assertEqual(status, 200)
        view = json.loads(body)
        self.assertIn("goim.comet.dev.gd.china.example.com.", view["services"])
        self.assertEqual(self.get("/nope")[0], 404)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)


class LeftOutNames(Base):
    """What the registry lists but the zone cannot serve as is, per region in /metrics."""

    def registry_document(self, now_ns):
        inst = discodns_process.instance
        doc = discodns_process.fetch_all_document([
            inst("Goim.Comet", "comet_1", ["grpc://10.0.0.11:3109"], now_ns),
            inst("Goim.Comet", "comet.1", ["grpc://10.0.0.12:3109"], now_ns),  # same label
            # The same service name: the first appid in order (upper case first) has it.
            inst("goim.comet", "comet-9", ["grpc://10.0.0.13:3109"], now_ns),
            inst("bad..id", "h1", ["grpc://10.0.0.14:3109"], now_ns)])  # not a label
        doc["data"]["Goim.Comet"].append(42)  # not an instance at all
        return doc

    def test_skipped_shadowed_and_collided_names_per_region(self):
        self.notifications("READY=1")
        from prometheus_client.parser import text_string_to_metric_families
        families = {f.name: f for f in text_string_to_metric_families(self.get("/metrics")[1])}

        def values(family):
            return {tuple(sorted(s.labels.items())): s.value for s in families[family].samples}
        china = (("region", "china"),)
        self.assertEqual(values("discodns_registry_instances_skipped"), {
            (("reason", "undecodable"), *china): 1, (("reason", "invalid_name"), *china): 1})
        self.assertEqual(values("discodns_names_shadowed"), {china: 1})
        self.assertEqual(values("discodns_hostname_collisions"), {china: 2})
        self.assertEqual(families["discodns_instances"].samples[0].value, 2)


class SocketActivation(Base):
    """Sockets passed the systemd way replace [server] listen (here 127.0.0.1:0)."""
    LAUNCHER = (sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "listen_fds.py"), "127.0.0.1")
    EXTRA = "[log]\nquery_sample = 3\n"

    def test_serves_inherited_sockets_and_samples_queries(self):
        self.notifications("READY=1")
        for _ in range(4):
            self.assertIn("10.0.0.11", self.dig("+short", "A", "goim.comet.dev.gd.china.example.com"))
            self.assertIn("10.0.0.11", self.dig("+short", "+tcp", "A",
                                                "goim.comet.dev.gd.china.example.com"))
        # The launcher's sockets: one UDP and one TCP on the port the ready line names.
        fds = os.listdir(f"/proc/{self.proc.pid}/fd")
        self.assertIn("3", fds)
        self.assertIn("4", fds)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)
        log = self.proc.stderr.read()
        self.assertIn("socket activation: 1 UDP and 1 TCP sockets from systemd", log)
        # query_sample = 3 on the one worker: queries 3 (UDP) and 6 (TCP) of the 8.
        lines = re.findall(r"query (udp|tcp) 127\.0\.0\.1 goim\.comet\.dev\.gd\.china\."
                           r"example\.com\. A NOERROR \d+B", log)
        self.assertEqual(len(lines), 2, log)
        self.assertEqual(sorted(set(lines)), ["tcp", "udp"])


class RateLimit(Base):
    EXTRA = "[rrl]\nresponses_per_second = 5\nslip = 2\n"

    def query(self, name, qid):
        q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
        for label in name.split("."):
            q += bytes([len(label)]) + label.encode()
        return q + b"\0" + struct.pack(">HH", 1, 1)

    def burst(self, name, count):
        """Sends `count` identical queries at once; returns (full answers, TC answers)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        for i in range(count):
            s.sendto(self.query(name, i), ("127.0.0.1", int(self.port)))
        full = tc = 0
        try:
            while True:
                data = s.recv(4096)
                ancount = struct.unpack(">H", data[6:8])[0]
                if data[2] & 0x02:
                    tc += 1
                    self.assertEqual(ancount, 0)
                elif ancount > 0:
                    full += 1
        except socket.timeout:
            pass
        s.close()
        return full, tc

    def test_identical_answers_are_limited_with_slip(self):
        self.notifications("READY=1")
        full, tc = self.burst("goim.comet.dev.gd.china.example.com", 60)
        self.assertLessEqual(full, 7)        # the 5-per-second budget (plus refill)
        self.assertGreaterEqual(full, 5)
        self.assertGreaterEqual(tc, 20)      # every 2nd limited answer slips as TC=1
        self.assertLessEqual(full + tc, 40)  # the rest are dropped: no amplification
        # TCP, the fallback slipped clients use, is never limited.
        out = subprocess.run(["dig", "@127.0.0.1", "-p", self.port, "+tcp", "+short", "A",
                              "goim.comet.dev.gd.china.example.com"], capture_output=True,
                             text=True, timeout=10).stdout
        self.assertIn("10.0.0.11", out)
        _, metrics = self.get("/metrics")
        self.assertRegex(metrics, r'discodns_rrl_total\{action="slipped"\} [1-9]')
        self.assertRegex(metrics, r'discodns_rrl_total\{action="dropped"\} [1-9]')
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)


class Identity(Base):
    """server.identity / nsid / version (off by default): `dig +nsid` and `dig CH TXT
    id.server` tell an operator which replica answered."""
    SERVER_EXTRA = 'identity = "dns-3.fra"\nnsid = "fra-3"\nversion = "discodns test"'

    def test_nsid_and_chaos_identity(self):
        self.notifications("READY=1")
        name = "goim.comet.dev.gd.china.example.com"
        out = self.dig("+nsid", "A", name)
        self.assertIn("10.0.0.11", out)
        self.assertRegex(out, r'NSID: 66 72 61 2d 33 \(("fra-3"|f r a - 3)\)')
        self.assertNotIn("NSID", self.dig("A", name))  # not asked, not sent
        for transport in ("+notcp", "+tcp"):
            for qname in ("id.server", "hostname.bind"):
                out = self.dig(transport, "CH", "TXT", qname)
                self.assertIn("status: NOERROR", out)
                self.assertRegex(out, r"flags: qr aa")
                self.assertRegex(out, qname + r'\.\s+0\s+CH\s+TXT\s+"dns-3.fra"')
        self.assertEqual(self.dig("+short", "CH", "TXT", "version.bind").strip(),
                         '"discodns test"')
        self.assertIn("status: REFUSED", self.dig("CH", "TXT", "authors.bind"))


class NoIdentity(Base):
    """Without the keys: no NSID, CHAOS questions REFUSED (as before)."""

    def test_identity_is_off_by_default(self):
        self.notifications("READY=1")
        out = self.dig("+nsid", "A", "goim.comet.dev.gd.china.example.com")
        self.assertIn("10.0.0.11", out)
        self.assertIn("OPT PSEUDOSECTION", out)
        self.assertNotIn("NSID", out)
        for qname in ("id.server", "hostname.bind", "version.bind"):
            out = self.dig("CH", "TXT", qname)
            self.assertIn("status: REFUSED", out)
            self.assertNotIn("ANSWER SECTION", out)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    SOURCE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
