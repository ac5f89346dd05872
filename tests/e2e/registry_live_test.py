#!/usr/bin/env python3
"""The real discodns binary following registry emulator nodes (tests/emulator), queried with
dig over UDP: propagation, reconcile, fail-over, stale mode, warm start and injected faults.

usage: registry_live_test.py DISCODNS_BINARY SOURCE_DIR
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

BINARY = None
SOURCE = None
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulator"))
from client import Client, start_emulator, stop_emulator  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discodns_process  # noqa: E402

NAME = "goim.comet.dev.gd.china.example.com"


class Discodns:
    def __init__(self, nodes, workdir, max_stale="1h", reconcile="1s", removal_delay="1s"):
        self.admin_port = discodns_process.free_port()
        self.config = os.path.join(workdir, "discodns.toml")
        discodns_process.write_discovery_config(
            self.config, f"{SOURCE}/zones/example.com.zone", [f"127.0.0.1:{n}" for n in nodes],
            self.admin_port, level="debug",
            registry_extra=f'reconcile_interval = "{reconcile}"\nstate_file = "{workdir}/state.json"\n'
                           f'removal_delay = "{removal_delay}"',
            extra=f'[ttl]\nmax_stale = "{max_stale}"\n')
        self.log = open(os.path.join(workdir, "discodns.log"), "w")
        try:
            # A proxy in the environment that would lose every request: discodns must talk to
            # the nodes directly (its poll requests are in origin form).
            dead = f"http://127.0.0.1:{discodns_process.free_port()}"
            env = dict(os.environ, http_proxy=dead, HTTP_PROXY=dead, all_proxy=dead)
            self.proc, port = discodns_process.start(BINARY, self.config, stderr=self.log,
                                                     env=env)
        except RuntimeError as e:
            raise RuntimeError(f"{e}; see {self.log.name}") from None
        self.port = str(port)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=15)
        self.proc.stdout.close()
        self.log.close()
        return code

    def dig(self, qtype, name=NAME):
        out = subprocess.run(["dig", "@127.0.0.1", "-p", self.port, "+tries=1", "+time=2",
                              "+norec", qtype, name], capture_output=True, text=True,
                             timeout=10).stdout
        status = re.search(r"status: (\w+)", out)
        records = re.findall(r"^\S+\s+(\d+)\s+IN\s+" + qtype + r"\s+(.+)$", out, re.M)
        return (status.group(1) if status else "TIMEOUT"), records

    def metrics(self):
        """{(name, frozenset(labels)): value} from /metrics, parsed by prometheus_client."""
        from prometheus_client.parser import text_string_to_metric_families
        url = f"http://127.0.0.1:{self.admin_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
        return {(s.name, frozenset(s.labels.items())): s.value
                for f in text_string_to_metric_families(text) for s in f.samples}

    def addresses(self):
        status, records = self.dig("A")
        return status, sorted(r[1] for r in records)

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.addresses()
            if predicate(last):
                return last
            time.sleep(0.05)
        raise AssertionError(f"condition not met in {timeout}s; last answer {last}")


REGION = frozenset({("region", "china")})


def requests(metrics, port, **want):
    """Completed registry requests to node 127.0.0.1:port with the given labels."""
    return sum(v for (name, labels), v in metrics.items()
               if name == "discodns_registry_requests_total"
               and ("node", f"127.0.0.1:{port}") in labels
               and all((k, w) in labels for k, w in want.items()))


class LiveRegistry(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="discodns-live-")
        self.emulators = []
        self.servers = []
        self.clients = []

    def tearDown(self):
        for s in self.servers:
            if s.proc.poll() is None:
                self.assertEqual(s.stop(), 0)
        for c in self.clients:
            c.close()
        for proc, _ in self.emulators:
            stop_emulator(proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    def emulator(self):
        proc, port = start_emulator(zone="gd", env="dev", time_factor=1)
        self.emulators.append((proc, port))
        self.clients.append(Client(port))
        return self.clients[-1]

    def discodns(self, ports, **kw):
        s = Discodns(ports, self.dir, **kw)
        self.servers.append(s)
        return s

    def test_register_cancel_set_and_vanish(self):
        c = self.emulator()
        c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
        dns = self.discodns([c.port])
        dns.wait_for(lambda r: r == ("NOERROR", ["10.0.0.11"]))
        # A register is reported by the long poll at once.
        c.register("goim.comet", "comet-2", ["grpc://10.0.0.12:3109"], metadata={"weight": "5"})
        dns.wait_for(lambda r: r == ("NOERROR", ["10.0.0.11", "10.0.0.12"]), timeout=2)
        status, srv = dns.dig("SRV", "_grpc._tcp." + NAME)
        self.assertIn(("0 5 3109 comet-2." + NAME + "."), [s[1] for s in srv])
        # A cancel too.
        c.cancel("goim.comet", "comet-1")
        dns.wait_for(lambda r: r == ("NOERROR", ["10.0.0.12"]), timeout=2)
        # /set does not advance latest_timestamp: seen at the next reconcile (1 s here).
        c.set("goim.comet", ["comet-2"], statuses=[2])
        dns.wait_for(lambda r: r == ("NOERROR", []), timeout=5)
        c.set("goim.comet", ["comet-2"], statuses=[1])
        dns.wait_for(lambda r: r == ("NOERROR", ["10.0.0.12"]), timeout=5)
        # The last instance leaves: polls never say so; a reconcile sees it gone, and the one
        # after removal_delay (1 s here) drops the app.
        c.cancel("goim.comet", "comet-2")
        dns.wait_for(lambda r: r[0] == "NXDOMAIN", timeout=5)

    def test_ttls_follow_renew_timestamps(self):
        c = self.emulator()
        c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
        dns = self.discodns([c.port])
        dns.wait_for(lambda r: r[1] == ["10.0.0.11"])
        # good_until = max(observed + 1 s reconcile, renew + 30 s + 5 s grace): TTL 30 until
        # 5 s after the renew, then down by a second a second (README "TTLs").
        time.sleep(8)
        _, records = dns.dig("A")
        ttl_before = int(records[0][0])
        self.assertLessEqual(ttl_before, 27)
        c.renew("goim.comet", "comet-1")
        deadline = time.time() + 5
        while time.time() < deadline:
            _, records = dns.dig("A")
            if int(records[0][0]) >= 29:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(int(records[0][0]), 29)

    def test_failover_between_nodes(self):
        a, b = self.emulator(), self.emulator()
        for c in (a, b):  # what replication would do
            c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
        dns = self.discodns([a.port, b.port])
        dns.wait_for(lambda r: r[1] == ["10.0.0.11"])
        stop_emulator(self.emulators[0][0])
        b.register("goim.comet", "comet-2", ["grpc://10.0.0.12:3109"])
        dns.wait_for(lambda r: r == ("NOERROR", ["10.0.0.11", "10.0.0.12"]), timeout=10)
        # Answers kept flowing all along (asserted by wait_for never seeing a failure below).
        self.assertEqual(dns.addresses()[0], "NOERROR")
        # /metrics: requests per node and outcome. The first node is picked at random, so the
        # dead one shows a transport error only if it was in use when it died.
        metrics = self.metrics_or_skip(dns)
        self.assertGreaterEqual(requests(metrics, b.port, endpoint="fetch_all", outcome="ok"), 1)
        if requests(metrics, a.port) > 0:
            self.assertGreaterEqual(requests(metrics, a.port, outcome="transport_error"), 1)
            self.assertGreaterEqual(metrics[("discodns_registry_node_switches_total", REGION)], 1)

    def metrics_or_skip(self, dns):
        try:
            return dns.metrics()
        except ImportError:
            self.skipTest("python3-prometheus-client is not installed")

    def test_all_nodes_down_then_stale_then_servfail(self):
        c = self.emulator()
        c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
        dns = self.discodns([c.port], max_stale="6s")
        dns.wait_for(lambda r: r[1] == ["10.0.0.11"])
        stop_emulator(self.emulators[0][0])
        # Stale: still answered, TTL capped at stale_ttl (5 s).
        deadline = time.time() + 8
        while time.time() < deadline:
            status, records = dns.dig("A")
            if records and int(records[0][0]) <= 5:
                break
            time.sleep(0.2)
        self.assertEqual(status, "NOERROR")
        self.assertLessEqual(int(records[0][0]), 5)
        dns.wait_for(lambda r: r[0] == "SERVFAIL", timeout=10)
        status, _ = dns.dig("SOA", "example.com")  # the static zone still answers
        self.assertEqual(status, "NOERROR")
        metrics = self.metrics_or_skip(dns)
        self.assertGreaterEqual(requests(metrics, c.port, endpoint="fetch_all", outcome="ok"), 1)
        self.assertGreaterEqual(requests(metrics, c.port, endpoint="polls", outcome="ok"), 1)
        self.assertGreaterEqual(requests(metrics, c.port, outcome="transport_error"), 1)
        self.assertEqual(metrics[("discodns_registry_stale", REGION)], 1)
        self.assertGreaterEqual(
            metrics[("discodns_registry_reconcile_duration_seconds_count", REGION)], 1)
        self.assertGreaterEqual(
            metrics[("discodns_registry_poll_duration_seconds_count", REGION)], 1)

    def test_warm_start_with_registry_down(self):
        c = self.emulator()
        c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
        dns = self.discodns([c.port])
        dns.wait_for(lambda r: r[1] == ["10.0.0.11"])
        time.sleep(6)  # the state file is written at most every few seconds
        self.assertEqual(dns.stop(), 0)
        self.servers.clear()
        port = c.port
        stop_emulator(self.emulators[0][0])
        self.emulators.clear()
        dns = self.discodns([port])
        status, records = dns.dig("A")
        self.assertEqual((status, [r[1] for r in records]), ("NOERROR", ["10.0.0.11"]))
        self.assertLessEqual(int(records[0][0]), 5)  # from disk: stale TTLs

    def test_faults_keep_last_good_data(self):
        c = self.emulator()
        c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
        dns = self.discodns([c.port])
        dns.wait_for(lambda r: r[1] == ["10.0.0.11"])
        for kind in ("garbage", "close", "error500", "stall", "slow"):
            c.fault(kind, path="/discovery/fetch/all")
            c.fault(kind, path="/discovery/polls")
            end = time.time() + 3
            while time.time() < end:
                self.assertEqual(dns.addresses(), ("NOERROR", ["10.0.0.11"]), kind)
                time.sleep(0.1)
            c.fault("none")
        # And it recovers: a change is seen again.
        c.register("goim.comet", "comet-2", ["grpc://10.0.0.12:3109"])
        # Within the longest node backoff (10 s) plus a reconcile.
        dns.wait_for(lambda r: r[1] == ["10.0.0.11", "10.0.0.12"], timeout=25)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    SOURCE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
