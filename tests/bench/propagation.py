#!/usr/bin/env python3
"""Registry-to-DNS propagation latency: a register or a cancel in the registry emulator until
the DNS answer changes, over N changes, with APPS apps x INSTANCES loaded.

    python3 tests/bench/propagation.py [--apps 1000] [--instances 10] [--changes 200]
        [--binary build/release/src/discodns]

Prints median, p90, p99 and max in milliseconds. Target (issue 4): p99 under 50 ms.
"""
import argparse
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
from client import Client, start_emulator, stop_emulator  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import discodns_process  # noqa: E402


def a_count(sock, port, name, qid):
    """Number of A records for name (one UDP query, raw wire)."""
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    sock.sendto(q, ("127.0.0.1", port))
    while True:
        data = sock.recv(65535)
        if struct.unpack(">H", data[:2])[0] == qid:
            return struct.unpack(">H", data[6:8])[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apps", type=int, default=1000)
    p.add_argument("--instances", type=int, default=10)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--binary", default=os.path.join(ROOT, "build/release/src/discodns"))
    a = p.parse_args()

    emu, port = start_emulator(zone="gd", env="dev", time_factor=1)
    work = tempfile.mkdtemp(prefix="discodns-prop-")
    dns = None
    try:
        c = Client(port)
        bulk = []
        for app in range(a.apps):
            for i in range(a.instances):
                n = app * a.instances + i
                bulk.append({"appid": f"svc{app}.bench", "env": "dev", "zone": "gd",
                             "hostname": f"h{i}", "status": 1,
                             "addrs": [f"grpc://10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}:9000"],
                             "metadata": {"weight": "10"}})
        t = time.time()
        c.bulk(bulk)
        print(f"registry: {a.apps} apps x {a.instances} instances loaded in {time.time() - t:.1f} s")
        config = os.path.join(work, "discodns.toml")
        with open(config, "w") as f:
            f.write(f'''[server]
listen = ["127.0.0.1:0"]
workers = 1
[zone]
domain = "example.com"
file = "{ROOT}/zones/example.com.zone"
[[registry]]
region = "china"
source = "discovery"
nodes = ["127.0.0.1:{port}"]
envs = ["dev"]
reconcile_interval = "15s"
[log]
level = "warn"
''')
        dns, dport = discodns_process.start(a.binary, config)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(2)
        probe = "svc0.bench.dev.gd.china.example.com"
        deadline = time.time() + 60
        while a_count(sock, dport, probe, 1) != a.instances:
            if time.time() > deadline:
                raise SystemExit("discodns never synced")
            time.sleep(0.1)
        time.sleep(1)  # let every poll get parked
        rnd = random.Random(1)
        latencies = []
        qid = 2
        app = 0
        for k in range(a.changes):
            if k % 2 == 0:  # register a new instance; the next change cancels it
                app = rnd.randrange(a.apps)
            name = f"svc{app}.bench.dev.gd.china.example.com"
            before = a_count(sock, dport, name, qid)
            qid = (qid + 1) & 0xFFFF
            start = time.perf_counter()
            if k % 2 == 0:
                c.register(f"svc{app}.bench", f"extra{k}", [f"grpc://172.16.{k >> 8}.{k & 255}:9000"])
            else:
                c.cancel(f"svc{app}.bench", f"extra{k - 1}")
            while True:
                n = a_count(sock, dport, name, qid)
                qid = (qid + 1) & 0xFFFF
                if n != before:
                    break
                if time.perf_counter() - start > 10:
                    raise SystemExit(f"change {k} never showed up")
            latencies.append((time.perf_counter() - start) * 1000)
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        print(f"propagation over {len(latencies)} changes (register or cancel -> DNS answer changed):")
        print(f"  median {pick(0.5):.1f} ms  p90 {pick(0.9):.1f} ms  p99 {pick(0.99):.1f} ms  "
              f"max {latencies[-1]:.1f} ms  (target p99 < 50 ms)")
    finally:
        if dns:
            discodns_process.stop(dns)
        stop_emulator(emu)


if __name__ == "__main__":
    main()
