#!/usr/bin/env python3
"""End-to-end protocol behaviour as real clients see it: Debian's dig (BIND), kdig (Knot) and
drill (ldns) against the real discodns binary on a loopback port, over UDP and TCP.

usage: dns_clients_test.py DISCODNS_BINARY SOURCE_DIR
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discodns_process  # noqa: E402

BINARY = None
SOURCE = None
DOMAIN = "example.com"
SERVICE = "goim.comet.dev.gd.china.example.com"
BIG = "big.app.dev.gd.china.example.com"


def registry_document(now_ns):
    def inst(appid, host, addrs, weight="10"):
        return discodns_process.instance(appid, host, addrs, now_ns, weight)

    return discodns_process.fetch_all_document([
        inst("goim.comet", "comet-1", ["grpc://10.0.0.11:3109", "http://10.0.0.11:3111"], "10"),
        inst("goim.comet", "comet-2", ["grpc://10.0.0.12:3109,http://10.0.0.12:3111"], "20"),
        inst("goim.comet", "comet-3", ["grpc://[fd00::13]:3109"], "30"),
        *(inst("big.app", f"big-{i}", [f"grpc://10.9.{i // 250}.{i % 250 + 1}:{9000 + i}"])
          for i in range(80)),
    ])


class Server:
    """The real binary with a generated config, on a free loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="discodns-e2e-")
        with open(os.path.join(self.dir, "registry.json"), "w") as f:
            json.dump(registry_document(time.time_ns()), f)
        self.config = os.path.join(self.dir, "discodns.toml")
        with open(self.config, "w") as f:
            f.write(f'''[server]
listen = ["127.0.0.1:0"]
workers = 2
tcp_idle_timeout = "2s"
tcp_max_connections = 8

[zone]
domain = "{DOMAIN}"
file = "{SOURCE}/zones/example.com.zone"

[[registry]]
region = "china"
source = "file"
file = "registry.json"
''')
        self.proc, self.port = discodns_process.start(BINARY, self.config)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return code


def run(args, timeout=20):
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return out.stdout + out.stderr


class DnsClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.port = str(cls.server.port)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"discodns exited with {code}"

    def dig(self, *args):
        return run(["dig", "@127.0.0.1", "-p", self.port, "+tries=1", "+time=3", *args])

    def kdig(self, *args):
        return run(["kdig", "@127.0.0.1", "-p", self.port, "+retry=0", "+time=3", *args])

    def drill(self, *args):
        return run(["drill", "-p", self.port, *args, "@127.0.0.1"])

    def test_dig_srv_with_weights_ports_and_glue(self):
        out = self.dig("SRV", "_grpc._tcp." + SERVICE)
        self.assertIn("status: NOERROR", out)
        self.assertRegex(out, r"flags: qr aa rd;")  # AA, RD copied, no RA
        self.assertIn("0 10 3109 comet-1." + SERVICE + ".", out)
        self.assertIn("0 20 3109 comet-2." + SERVICE + ".", out)  # comma-joined addrs split
        self.assertIn("0 30 3109 comet-3." + SERVICE + ".", out)
        self.assertRegex(out, r"comet-1\." + re.escape(SERVICE) + r"\.\s+\d+\s+IN\s+A\s+10\.0\.0\.11")
        self.assertRegex(out, r"comet-3\." + re.escape(SERVICE) + r"\.\s+\d+\s+IN\s+AAAA\s+fd00::13")

    def test_dig_a_aaaa_txt_with_ttls_in_range(self):
        out = self.dig("A", SERVICE)
        ttls = [int(t) for t in re.findall(re.escape(SERVICE) + r"\.\s+(\d+)\s+IN\s+A\s", out)]
        self.assertEqual(len(ttls), 2, out)
        for t in ttls:
            self.assertTrue(1 <= t <= 30, out)
        self.assertIn("fd00::13", self.dig("+short", "AAAA", SERVICE))
        self.assertIn('"weight=20"', self.dig("+short", "TXT", "comet-2." + SERVICE))

    def test_kdig_tcp_and_dig_keepalive(self):
        out = self.kdig("+tcp", "A", SERVICE)
        self.assertIn("status: NOERROR", out)
        self.assertIn("10.0.0.11", out)
        out = self.dig("+tcp", "+keepalive", "A", SERVICE)  # RFC 7828: 2 s idle timeout
        self.assertRegex(out, r"TCP.KEEPALIVE: 2\.0 secs", out)

    def test_kdig_cookie_gets_server_cookie(self):
        out = self.kdig("+cookie", "A", SERVICE)
        self.assertIn("status: NOERROR", out)
        self.assertRegex(out, r"(?i)COOKIE: [0-9a-f]{16}[0-9a-f]{32}", out)

    def test_drill_nxdomain_nodata_soa(self):
        # Below a registry region the negative TTL is at most ttl.negative (5 s); elsewhere
        # min(SOA TTL, SOA minimum) = 30 s.
        out = self.drill("nosuch.dev.gd.china." + DOMAIN, "A")
        self.assertIn("rcode: NXDOMAIN", out)
        self.assertRegex(out, r"example\.com\.\s+5\s+IN\s+SOA")
        out = self.drill(SERVICE, "MX")
        self.assertIn("rcode: NOERROR", out)
        self.assertIn("ANSWER: 0", out)
        self.assertRegex(out, r"example\.com\.\s+5\s+IN\s+SOA")
        out = self.drill("nosuch." + DOMAIN, "A")
        self.assertIn("rcode: NXDOMAIN", out)
        self.assertRegex(out, r"example\.com\.\s+30\s+IN\s+SOA")
        out = self.drill("dev.gd.china." + DOMAIN, "A")  # empty non-terminal
        self.assertIn("rcode: NOERROR", out)

    def test_refused_outside_zone_and_chaos(self):
        self.assertIn("status: REFUSED", self.dig("A", "example.org"))
        self.assertIn("status: REFUSED", self.dig("CH", "TXT", "version.bind"))

    def test_edns_echo_and_badvers(self):
        out = self.dig("+bufsize=4096", "A", SERVICE)
        self.assertRegex(out, r"EDNS: version: 0, flags:; udp: 1232")
        out = self.dig("+edns=1", "+noednsneg", "A", SERVICE)
        self.assertIn("status: BADVERS", out)
        out = self.dig("+dnssec", "A", SERVICE)
        self.assertRegex(out, r"EDNS: version: 0, flags: do;")

    def test_no_edns_stays_under_512_and_sets_tc(self):
        out = self.dig("+noedns", "+ignore", "SRV", "_grpc._tcp." + BIG)
        self.assertIn("flags: qr aa tc rd;", out)
        self.assertIn("ANSWER: 0", out)
        m = re.search(r"MSG SIZE\s+rcvd: (\d+)", out)
        self.assertTrue(m and int(m.group(1)) <= 512, out)

    def test_large_srv_truncates_over_udp_and_is_whole_over_tcp(self):
        out = self.dig("+ignore", "+bufsize=1232", "SRV", "_grpc._tcp." + BIG)
        self.assertIn(" tc ", out)
        out = self.dig("SRV", "_grpc._tcp." + BIG)  # dig retries over TCP by itself
        self.assertIn("ANSWER: 80", out)
        out = self.kdig("+tcp", "SRV", "_grpc._tcp." + BIG)
        self.assertIn("ANSWER: 80", out)

    def test_mixed_case_kept(self):
        out = self.dig("A", "GoIm.CoMeT.dev.GD.china.EXAMPLE.com")
        self.assertIn("GoIm.CoMeT.dev.GD.china.EXAMPLE.com.", out.split("ANSWER SECTION:")[1])

    def test_notimp_for_other_opcodes(self):
        out = self.dig("+opcode=status", "A", SERVICE)  # dig's name for opcode 2
        self.assertIn("status: NOTIMP", out)

    def test_pipelined_tcp_queries_all_answered(self):
        names = [SERVICE, "comet-1." + SERVICE, "nosuch." + SERVICE, "_grpc._tcp." + SERVICE]
        with socket.create_connection(("127.0.0.1", int(self.port)), timeout=5) as s:
            blob = b""
            for i, name in enumerate(names):
                q = struct.pack(">HHHHHH", 100 + i, 0x0100, 1, 0, 0, 0)
                for label in name.split("."):
                    q += bytes([len(label)]) + label.encode()
                q += b"\x00" + struct.pack(">HH", 1, 1)
                blob += struct.pack(">H", len(q)) + q
            s.sendall(blob)  # all at once: pipelined
            ids = set()
            buf = b""
            while len(ids) < len(names):
                chunk = s.recv(65535)
                self.assertTrue(chunk, "connection closed early")
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                    n = struct.unpack(">H", buf[:2])[0]
                    ids.add(struct.unpack(">H", buf[2:4])[0])
                    buf = buf[2 + n:]
            self.assertEqual(ids, {100, 101, 102, 103})

    def test_tcp_idle_connections_are_closed(self):
        with socket.create_connection(("127.0.0.1", int(self.port)), timeout=10) as s:
            start = time.time()
            self.assertEqual(s.recv(10), b"")  # server closes after tcp_idle_timeout (2 s)
            self.assertLess(time.time() - start, 8)

    def test_tcp_connection_cap_refuses_cleanly(self):
        conns = []
        try:
            for _ in range(20):
                conns.append(socket.create_connection(("127.0.0.1", int(self.port)), timeout=5))
            time.sleep(0.3)
            closed = 0
            for c in conns:
                c.settimeout(0.5)
                try:
                    if c.recv(1) == b"":
                        closed += 1
                except (socket.timeout, ConnectionResetError):
                    closed += 0 if isinstance(sys.exc_info()[1], socket.timeout) else 1
            self.assertGreaterEqual(closed, 20 - 8)
        finally:
            for c in conns:
                c.close()
        # The server still answers.
        self.assertIn("status: NOERROR", self.dig("+tcp", "A", SERVICE))


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    SOURCE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
