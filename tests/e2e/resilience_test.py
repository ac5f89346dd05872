#!/usr/bin/env python3
"""A process that stops cleanly and never half-dies, against the real binary: SIGTERM with a
grace period (lame duck), injected faults in the admin and registry threads that leave DNS
answering, accept back-off when descriptors run out, and the systemd watchdog's pings.
The servers come from operations_test.Base (file registry, admin HTTP, sd_notify socket).

usage: resilience_test.py DISCODNS_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discodns_process  # noqa: E402
import operations_test  # noqa: E402
from operations_test import Base  # noqa: E402


class LameDuck(Base):
    """server.shutdown_grace: on SIGTERM /readyz turns 503 at once, answers go on for the
    grace period, then the process stops (load balancers and anycast see us leave first)."""
    SERVER_EXTRA = 'shutdown_grace = "1500ms"'

    def test_sigterm_drains_for_the_grace_period(self):
        self.notifications("READY=1")
        self.assertEqual(self.get("/readyz")[0], 200)
        name = "goim.comet.dev.gd.china.example.com"
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        status, body = self.get("/readyz")
        while status == 200 and time.monotonic() - sent < 1:
            time.sleep(0.02)
            status, body = self.get("/readyz")
        self.assertEqual((status, body), (503, "not ready: shutting down\n"))
        answered = 0
        while time.monotonic() - sent < 1.2:
            self.assertIsNone(self.proc.poll(), "stopped before the grace period ended")
            self.assertIn("10.0.0.11", self.dig("+short", "A", name))
            self.assertIn("10.0.0.11", self.dig("+short", "+tcp", "A", name))
            answered += 1
        self.assertGreater(answered, 0)
        self.assertEqual(self.proc.wait(timeout=10), 0)
        took = time.monotonic() - sent
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 5)

    def test_a_second_signal_cuts_the_grace_short(self):
        self.notifications("READY=1")
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        while self.get("/readyz")[0] == 200:
            self.assertLess(time.monotonic() - sent, 1)
            time.sleep(0.02)
        self.proc.send_signal(signal.SIGINT)
        self.assertEqual(self.proc.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - sent, 1.4)


class AdminFault(Base):
    """Issue 13: an admin handler that throws answers 500 (logged, counted); the admin server,
    /healthz and DNS go on. DISCODNS_TEST_FAULT=admin makes /debug/registry throw."""
    ENV = {"DISCODNS_TEST_FAULT": "admin"}

    def test_a_throwing_handler_answers_500_and_nothing_else_stops(self):
        self.notifications("READY=1")
        for _ in range(2):
            status, body = self.get("/debug/registry")
            self.assertEqual((status, body), (500, "internal error (logged)\n"))
        self.assertEqual(self.get("/healthz"), (200, "ok\n"))
        self.assertIn("10.0.0.11", self.dig("+short", "A", "goim.comet.dev.gd.china.example.com"))
        self.assertEqual(self.metric(r'discodns_background_errors_total\{thread="admin"\}'), 2)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)
        self.assertIn("admin thread: uncaught exception", self.proc.stderr.read())


class RegistryFault(Base):
    """Issue 13: an exception on a registry source's thread (DISCODNS_TEST_FAULT=registry: its
    first delivery after start throws) is logged and counted; DNS keeps answering, and the
    data that delivery carried still arrives."""
    ENV = {"DISCODNS_TEST_FAULT": "registry"}

    def test_the_thread_survives_and_the_change_is_delivered_again(self):
        self.notifications("READY=1")
        name = "goim.comet.dev.gd.china.example.com"
        now = time.time_ns()
        doc = discodns_process.fetch_all_document([
            discodns_process.instance("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"], now),
            discodns_process.instance("goim.comet", "comet-2", ["grpc://10.0.0.12:3109"], now)])
        tmp = os.path.join(self.dir, "registry.json.tmp")
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, os.path.join(self.dir, "registry.json"))
        deadline = time.time() + 15
        while "10.0.0.12" not in self.dig("+short", "A", name):
            self.assertIsNone(self.proc.poll(), "discodns died")
            self.assertLess(time.time(), deadline, "the change never arrived")
            self.assertIn("10.0.0.11", self.dig("+short", "A", name))
            time.sleep(0.2)
        self.assertEqual(self.get("/healthz"), (200, "ok\n"))
        self.assertEqual(self.metric(r'discodns_background_errors_total\{thread="file"\}'), 1)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)
        self.assertIn("file thread: uncaught exception", self.proc.stderr.read())


class AcceptBackoff(Base):
    """Issue 13: out of descriptors (prlimit 64), the admin and DNS TCP accept loops pause
    instead of spinning a core on EMFILE, and serve again once connections close."""
    LAUNCHER = ("prlimit", "--nofile=64:64")

    @staticmethod
    def cpu_seconds(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def test_emfile_pauses_accepts_and_recovers(self):
        if shutil.which("prlimit") is None:
            self.skipTest("prlimit (util-linux) is not installed")
        self.notifications("READY=1")
        held = []
        for port in (self.admin_port, int(self.port)):
            for _ in range(100):
                held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.5)  # descriptors run out; every later accept fails with EMFILE
        before = self.cpu_seconds(self.proc.pid)
        time.sleep(2)
        used = self.cpu_seconds(self.proc.pid) - before
        self.assertLess(used, 0.5, "an accept loop spins on EMFILE")
        for s in held:
            s.close()
        name = "goim.comet.dev.gd.china.example.com"
        deadline = time.time() + 10
        while "10.0.0.11" not in self.dig("+short", "+tcp", "A", name):
            self.assertLess(time.time(), deadline, "DNS over TCP did not recover")
            time.sleep(0.2)
        self.assertEqual(self.get("/healthz"), (200, "ok\n"))
        self.assertGreater(self.metric(r'discodns_accept_backoffs_total\{listener="admin"\}'), 0)
        self.assertGreater(self.metric(r'discodns_accept_backoffs_total\{listener="dns"\}'), 0)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)


class Watchdog(Base):
    """With WatchdogSec (WATCHDOG_USEC), WATCHDOG=1 keeps coming while every loop (update, the
    query worker, the file source) progresses."""
    ENV = {"WATCHDOG_USEC": "1000000"}

    def test_pings_while_every_loop_progresses(self):
        self.notifications("READY=1")
        # Longer than every allowance but the registry's, so a loop whose heartbeat is not
        # wired (a worker: 5 s) would show.
        deadline = time.time() + 6.5
        pings = 0
        while time.time() < deadline:
            try:
                if "WATCHDOG=1" in self.notify.recv(4096).decode():
                    pings += 1
            except socket.timeout:
                break
        self.assertGreaterEqual(pings, 10)  # every 0.5 s
        self.assertEqual(self.metric("discodns_watchdog_withheld_total"), 0)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)

if __name__ == "__main__":
    operations_test.BINARY = os.path.abspath(sys.argv.pop(1))
    operations_test.SOURCE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
