#!/usr/bin/env python3
"""Wildcard listeners on a host with many addresses: discodns listening on 0.0.0.0 / [::]
answers over UDP and TCP at every local address, and each UDP reply leaves from the address
the query was sent to (checked on an unconnected socket's recvfrom, which takes a reply from
anywhere; dig would only time out). IPv4 runs on 127.0.0.0/8; IPv6 (and IPv4 beyond
127/8) in a network namespace of the test's own (`unshare -n`), skipped with the reason where
the host cannot make one. Also systemd's dual-stack socket (BindIPv6Only=both): IPv4 queries
arrive as v4-mapped addresses and must still be answered from the address asked.

usage: multihomed_test.py DISCODNS_BINARY SOURCE_DIR
       multihomed_test.py --in-namespace DISCODNS_BINARY SOURCE_DIR   (the namespace half)
"""
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discodns_process  # noqa: E402
from dns_wire import encode_name, read_name  # noqa: E402

BINARY = None
SOURCE = None
NAME = "goim.comet.dev.gd.china.example.com"
ADDRESS = "10.0.0.11"
# Inside the namespace: addresses on its lo, as a second NIC or an anycast address would be.
NAMESPACE_V6 = ["::1", "fd00::5", "fd00:1::2"]
NAMESPACE_V4 = ["127.0.0.1", "192.0.2.7"]
NAMESPACE_PORT = 5353


def query(qid):
    return struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + encode_name(NAME) + \
        struct.pack(">HH", 1, 1)


def a_records(msg, qid):
    """The A records of a reply to query(qid); fails on a wrong id or rcode."""
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    assert rid == qid and flags & 0x8000 and flags & 0xF == 0, (rid, qid, hex(flags))
    off = 12
    for _ in range(qd):
        off = read_name(msg, off)[1] + 4
    found = []
    for _ in range(an):
        off = read_name(msg, off)[1]
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        if rtype == 1:
            found.append(socket.inet_ntoa(msg[off + 10:off + 10 + rdlen]))
        off += 10 + rdlen
    return found


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def ask_udp(address, port, client):
    """(source address of the reply, its A records), asking from `client`, another local
    address: a server that lets routing pick the source answers from `client` (the best
    source towards it). The socket is not connected, so such a reply is received too."""
    qid = random.randrange(1 << 16)
    with socket.socket(family_of(address), socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.bind((client, 0))
        s.sendto(query(qid), (address, port))
        msg, source = s.recvfrom(4096)
    return source[0], a_records(msg, qid)


def ask_tcp(address, port):
    qid = random.randrange(1 << 16)
    with socket.create_connection((address, port), timeout=3) as s:
        q = query(qid)
        s.sendall(struct.pack(">H", len(q)) + q)
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
            chunk = s.recv(65535)
            if not chunk:
                raise AssertionError("TCP connection closed before the answer")
            data += chunk
    return a_records(data[2:], qid)


class Served(unittest.TestCase):
    """One discodns per test on the file registry, listening where LISTEN says."""
    LISTEN = '"0.0.0.0:0"'
    LAUNCHER = ()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="discodns-multihomed-")
        with open(os.path.join(self.dir, "registry.json"), "w") as f:
            json.dump(discodns_process.fetch_all_document([discodns_process.instance(
                "goim.comet", "comet-1", [f"grpc://{ADDRESS}:3109"], time.time_ns())]), f)
        shutil.copy(os.path.join(SOURCE, "zones", "example.com.zone"), self.dir)
        config = os.path.join(self.dir, "discodns.toml")
        with open(config, "w") as f:
            # Two workers: each has its own socket of the SO_REUSEPORT group.
            f.write(f'''[server]
listen = [{self.LISTEN}]
workers = 2
[zone]
domain = "example.com"
file = "example.com.zone"
[[registry]]
region = "china"
source = "file"
file = "registry.json"
''')
        self.proc, self.port = discodns_process.start(BINARY, config, launcher=self.LAUNCHER)

    def tearDown(self):
        discodns_process.stop(self.proc)
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def check_answers_from(self, addresses, port=None):
        port = port or self.port
        for address in addresses:
            client = next(a for a in addresses if family_of(a) == family_of(address) and
                          (a != address or a == addresses[-1]))
            for _ in range(6):  # several queries: the kernel spreads them over both workers
                source, found = ask_udp(address, port, client)
                self.assertEqual(source, address, f"UDP reply to {address} came from {source}")
                self.assertEqual(found, [ADDRESS])
            self.assertEqual(ask_tcp(address, port), [ADDRESS], address)


class WildcardIPv4(Served):
    def test_replies_leave_from_the_address_asked(self):
        self.check_answers_from(["127.0.0.1", "127.0.0.5", "127.3.4.5"])


class DualStackSocketActivation(Served):
    """systemd's socket for [::]:53 with BindIPv6Only=both, as systemd/discodns.socket has."""
    LAUNCHER = (sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "listen_fds.py"), "::")

    def test_v4_mapped_queries_are_answered_from_the_address_asked(self):
        addresses = ["127.0.0.1", "127.0.0.5", "127.3.4.5"]
        if socket.has_ipv6 and os.path.exists("/proc/net/if_inet6"):
            addresses.append("::1")
        self.check_answers_from(addresses)


class InNamespace(Served):
    """Runs inside the namespace (--in-namespace): lo carries several addresses of each family."""
    LISTEN = f'"0.0.0.0:{NAMESPACE_PORT}", "[::]:{NAMESPACE_PORT}"'

    def test_both_families_reply_from_the_address_asked(self):
        self.check_answers_from(NAMESPACE_V6 + NAMESPACE_V4, port=NAMESPACE_PORT)


class Namespace(unittest.TestCase):
    def test_ipv6_and_ipv4_on_a_multi_homed_host(self):
        unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
        probe = subprocess.run([*unshare, "true"], capture_output=True, text=True)
        if probe.returncode != 0 or shutil.which("ip") is None:
            self.skipTest("cannot make a network namespace here (unshare -n: "
                          f"{probe.stderr.strip() or 'no ip command'}); IPv6 half not run")
        setup = ["ip link set lo up"] + \
            [f"ip addr add {a}/128 dev lo nodad" for a in NAMESPACE_V6 if a != "::1"] + \
            [f"ip addr add {a}/32 dev lo" for a in NAMESPACE_V4 if a != "127.0.0.1"]
        inner = " && ".join(setup) + " && exec \"$@\""
        run = subprocess.run([*unshare, "sh", "-c", inner, "sh", sys.executable,
                              os.path.abspath(__file__), "--in-namespace", BINARY, SOURCE],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("OK", run.stderr)


if __name__ == "__main__":
    inside = sys.argv[1] == "--in-namespace"
    if inside:
        sys.argv.pop(1)
    BINARY, SOURCE = sys.argv[1], sys.argv[2]
    names = ["InNamespace"] if inside else ["WildcardIPv4", "DualStackSocketActivation",
                                            "Namespace"]
    names = sys.argv[3:] or names
    suite = unittest.defaultTestLoader.loadTestsFromNames(names, sys.modules[__name__])
    sys.exit(0 if unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful() else 1)
