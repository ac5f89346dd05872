#!/usr/bin/env python3
"""The registry mirror end to end (issue 12): the real discodns binary against the registry
emulator, which behaves like a real discovery node (tests/emulator), queried over UDP.

  replicas        three discodns, each in its own PID namespace (every one is pid 1, as in
                  containers), see every change within the bound of one
  restart empty   the registry restarts empty and its clients refill it over one renew
                  interval: no served name ever answers NXDOMAIN meanwhile
  warm start      warm data and an empty registry: served until the absence is confirmed
  renews          instances renewing every renew_interval, reconcile at half that: never
                  left out as late
  serial          the SOA serial never goes backwards across a restart, even after a burst
  on-miss         an app registered after the last reconcile answers on its first miss
  waiting         an instance /set to WAITING keeps its own name

Time is scaled with the emulator's --time-factor so that a 30 s renew interval takes seconds.
usage: mirror_test.py DISCODNS_BINARY SOURCE_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import discodns_process  # noqa: E402
from client import Client, RenewingFleet, start_emulator, stop_emulator  # noqa: E402
from dns_wire import TYPE_A, dns_query  # noqa: E402

BINARY = None
SOURCE = None
SUFFIX = "dev.gd.china.example.com"
TYPE_SOA = 6


def name_of(appid):
    return f"{appid}.{SUFFIX}"


def pid_namespaces_work():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "true"], timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Discodns:
    def __init__(self, workdir, tag, ports, registry_extra="", ttl="", launcher=()):
        self.admin_port = discodns_process.free_port()
        self.config = os.path.join(workdir, f"discodns-{tag}.toml")
        self.state = os.path.join(workdir, f"state-{tag}.json")
        discodns_process.write_discovery_config(
            self.config, f"{SOURCE}/zones/example.com.zone", [f"127.0.0.1:{p}" for p in ports],
            self.admin_port, level="debug",
            registry_extra=f'state_file = "{self.state}"\n{registry_extra}',
            extra=f"[ttl]\n{ttl}\n")
        self.log_path = os.path.join(workdir, f"discodns-{tag}.log")
        self.launcher = launcher
        self.start()

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc, self.port = discodns_process.start(BINARY, self.config, stderr=self.log,
                                                      launcher=self.launcher)

    def stop(self):
        if self.launcher and self.proc.poll() is None:
            # unshare does not pass SIGTERM on: the server (its child) gets it directly.
            pid = self.proc.pid
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                os.kill(int(f.read().split()[0]), signal.SIGTERM)
            code = self.proc.wait(timeout=15)
        else:
            code = discodns_process.stop(self.proc)
        self.proc.stdout.close()
        self.log.close()
        return code

    def addresses(self, name):
        status, records = dns_query(self.port, name, TYPE_A)
        return status, sorted(r[2] for r in records if r[0] == TYPE_A)

    def serial(self):
        status, records = dns_query(self.port, "example.com", TYPE_SOA)
        rdata = records[0][2]
        # MNAME and RNAME are uncompressed only if first in the message; find SERIAL from the end.
        return int.from_bytes(rdata[-20:-16], "big")

    def metric(self, name):
        url = f"http://127.0.0.1:{self.admin_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + "{") or line.startswith(name + " "):
                    return float(line.rsplit(" ", 1)[1])
        return None

    def wait_for(self, name, predicate, timeout, what=""):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.addresses(name)
            if predicate(last):
                return time.monotonic()
            time.sleep(0.01)
        raise AssertionError(f"{what or name}: not met in {timeout}s; last answer {last}; "
                             f"log {self.log_path}")


class Mirror(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="discodns-mirror-")
        self.emulators, self.servers, self.fleets = [], [], []

    def tearDown(self):
        for f in self.fleets:
            f.stop(cancel=False)
        for s in self.servers:
            if s.proc.poll() is None:
                self.assertEqual(s.stop(), 0)
        for proc in self.emulators:
            stop_emulator(proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    def emulator(self, time_factor=1.0):
        proc, port = start_emulator(zone="gd", env="dev", time_factor=time_factor)
        self.emulators.append(proc)
        return Client(port), port

    def discodns(self, tag, port, **kw):
        s = Discodns(self.dir, tag, [port], **kw)
        self.servers.append(s)
        return s

    def wait_parked(self, c, pollers, timeout=5):
        """A /set reaches only polls parked when it lands (protocol §10.2): wait for them."""
        deadline = time.monotonic() + timeout
        while c.state()["active_polls"] < pollers:
            if time.monotonic() > deadline:
                raise AssertionError(f"{pollers} polls not parked in {timeout}s: {c.state()}")
            time.sleep(0.01)

    def fleet(self, port, instances, time_factor):
        f = RenewingFleet(port, instances, time_factor=time_factor).start()
        self.fleets.append(f)
        return f

    def test_replicas_each_see_every_change(self):
        c, port = self.emulator()
        c.register("goim.comet", "comet-0", ["grpc://10.0.1.0:9000"])
        # pid 1 each, as in containers: only the poll identity's nonce tells them apart.
        launcher = ("unshare", "--pid", "--fork", "--kill-child") if pid_namespaces_work() else ()
        replicas = [self.discodns(f"r{i}", port, launcher=launcher) for i in range(3)]
        name = name_of("goim.comet")
        for r in replicas:
            r.wait_for(name, lambda a: a == ("NOERROR", ["10.0.1.0"]), 10)
        self.wait_parked(c, len(replicas))
        worst = 0.0
        for i in range(1, 6):
            sent = time.monotonic()
            c.register("goim.comet", f"comet-{i}", [f"grpc://10.0.1.{i}:9000"])
            for r in replicas:
                seen = r.wait_for(name, lambda a, i=i: f"10.0.1.{i}" in a[1], 5,
                                  what=f"change {i} on {r.config}")
                worst = max(worst, seen - sent)
        print(f"    worst propagation over 3 replicas x 5 changes: {worst * 1000:.0f} ms",
              file=sys.stderr)
        self.assertLess(worst, 1.0)  # a stolen wake-up costs a whole poll hold (30 s)

    def test_registry_restarted_empty_never_answers_nxdomain(self):
        tf = 10  # renew every 3 s
        c, port = self.emulator(tf)
        apps = [f"app{i}" for i in range(20)]
        self.fleet(port, [(a, "h1", [f"grpc://10.0.2.{i}:9000"]) for i, a in enumerate(apps)], tf)
        dns = self.discodns("a", port, registry_extra='reconcile_interval = "1s"',
                            ttl='renew_interval = "3s"\nlate_grace = "1s"')
        for a in apps:
            dns.wait_for(name_of(a), lambda r: r[0] == "NOERROR" and r[1], 10)
        answers, stop = [], threading.Event()

        def ask():
            while not stop.is_set():
                for a in apps:
                    answers.append((a, dns.addresses(name_of(a))))

        asker = threading.Thread(target=ask)
        asker.start()
        try:
            time.sleep(0.3)
            dropped = c.restart()["dropped_instances"]
            self.assertGreaterEqual(dropped, 20)
            pending = 0.0
            deadline = time.monotonic() + 6  # two renew intervals
            while time.monotonic() < deadline:
                pending = max(pending, dns.metric("discodns_mirror_pending_removals") or 0)
                time.sleep(0.1)
        finally:
            stop.set()
            asker.join()
        bad = [(a, r) for a, r in answers if r[0] != "NOERROR" or not r[1]]
        self.assertEqual(bad[:5], [], f"{len(bad)} of {len(answers)} answers lost the app")
        self.assertGreater(len(answers), 200)
        self.assertGreater(pending, 0, "the half-refilled registry was never seen")

    def test_warm_start_with_empty_registry_keeps_data_until_confirmed(self):
        tf = 10
        c, port = self.emulator(tf)
        apps = [f"app{i}" for i in range(20)]
        fleet = self.fleet(port, [(a, "h1", [f"grpc://10.0.3.{i}:9000"])
                                  for i, a in enumerate(apps)], tf)
        dns = self.discodns("a", port, registry_extra='reconcile_interval = "1s"\n'
                            'removal_delay = "3s"\nmass_removal_hold = "6s"')
        for a in apps:
            dns.wait_for(name_of(a), lambda r: r[0] == "NOERROR" and r[1], 10)
        self.assertEqual(dns.stop(), 0)
        fleet.stop(cancel=False)
        c.restart()  # empty, and nobody re-registers
        dns.start()
        started = time.monotonic()
        held = 0.0
        while time.monotonic() - started < 2.5:
            for a in apps[:5]:
                self.assertEqual(dns.addresses(name_of(a))[0], "NOERROR")
        while time.monotonic() - started < 5.5:
            held = max(held, dns.metric("discodns_mirror_held_removals") or 0)
            time.sleep(0.1)
        self.assertEqual(held, 20, "20 of 20 instances absent: held back by the share rule")
        dns.wait_for(name_of(apps[0]), lambda r: r[0] == "NXDOMAIN", 10,
                     what="removed after mass_removal_hold")

    def test_renews_with_slower_reconcile_never_drop_a_live_instance(self):
        tf = 7.5  # renew every 4 s
        c, port = self.emulator(tf)
        addrs = [f"10.0.4.{i}" for i in range(10)]
        self.fleet(port, [("goim.comet", f"c{i}", [f"grpc://{a}:9000"])
                          for i, a in enumerate(addrs)], tf)
        dns = self.discodns("a", port, registry_extra='reconcile_interval = "2s"',
                            ttl='renew_interval = "4s"\nlate_grace = "1s"')
        name = name_of("goim.comet")
        dns.wait_for(name, lambda r: r == ("NOERROR", addrs), 10)
        short, total = [], 0
        deadline = time.monotonic() + 16  # four renew rounds
        while time.monotonic() < deadline:
            got = dns.addresses(name)
            total += 1
            if got != ("NOERROR", addrs):
                short.append(got)
            time.sleep(0.02)
        self.assertEqual(short[:3], [], f"{len(short)} of {total} answers left instances out")

    def test_serial_never_goes_backwards_across_a_restart(self):
        c, port = self.emulator()
        dns = self.discodns("a", port, registry_extra='reconcile_interval = "1s"')
        name = name_of("burst")
        for i in range(40):  # more changes than seconds: the serial runs ahead of the clock
            c.register("burst", f"h{i}", [f"grpc://10.0.5.{i}:9000"])
            dns.wait_for(name, lambda r, i=i: f"10.0.5.{i}" in r[1], 5)
        before = dns.serial()
        self.assertEqual(dns.stop(), 0)
        dns.start()
        after = dns.serial()
        self.assertTrue(0 < (after - before) % (1 << 32) < (1 << 31),
                        f"serial {before} -> {after} after a restart")

    def test_unknown_app_answers_on_its_first_miss(self):
        c, port = self.emulator()
        c.register("old.app", "h1", ["grpc://10.0.6.1:9000"])
        dns = self.discodns("a", port, registry_extra='reconcile_interval = "60s"')
        dns.wait_for(name_of("old.app"), lambda r: r[0] == "NOERROR", 10)
        c.register("fresh.app", "h1", ["grpc://10.0.6.2:9000"])  # no poll is told
        status, _, authority = dns_query(dns.port, name_of("fresh.app"), TYPE_A, authority=True)
        self.assertEqual(status, "NXDOMAIN")
        self.assertLessEqual(max(ttl for _, ttl in authority), 5, "ttl.negative below a region")
        dns.wait_for(name_of("fresh.app"), lambda r: r == ("NOERROR", ["10.0.6.2"]), 2,
                     what="fetched on the miss")

    def test_waiting_instance_keeps_its_name(self):
        c, port = self.emulator()
        c.register("goim.comet", "comet-1", ["grpc://10.0.7.1:9000"])
        c.register("goim.comet", "comet-2", ["grpc://10.0.7.2:9000"])
        dns = self.discodns("a", port, registry_extra='reconcile_interval = "60s"')
        name = name_of("goim.comet")
        dns.wait_for(name, lambda r: r[1] == ["10.0.7.1", "10.0.7.2"], 10)
        self.wait_parked(c, 1)
        c.set("goim.comet", ["comet-2"], statuses=[2])
        dns.wait_for(name, lambda r: r[1] == ["10.0.7.1"], 2, what="WAITING leaves the service")
        for _ in range(10):
            time.sleep(0.05)
            self.assertEqual(dns.addresses("comet-2." + name), ("NOERROR", ["10.0.7.2"]))


if __name__ == "__main__":
    BINARY, SOURCE = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
