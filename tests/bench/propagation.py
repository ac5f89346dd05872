#!/usr/bin/env python3
"""The registry side under load, against the registry emulator with APPS apps x INSTANCES:

1. Propagation latency: a register or a cancel in the registry until the DNS answer changes,
   over N changes; median, p90, p99 and max in ms. Target (issue 4): p99 under 50 ms.
2. Queries per second while the registry changes RATE times a second (register and cancel
   on random apps, each followed by discodns's long polls and a snapshot rebuild), against
   the same load with the registry idle: discodns pinned to core 0, tests/bench/loadgen on
   core 1 (closed loop), SECONDS each. Target (issue 5): within 10 % of the idle figure.

    python3 tests/bench/propagation.py [--apps 1000] [--instances 10] [--changes 200]
        [--churn-rate 100] [--seconds 10] [--binary build/release/src/discodns]
        [--loadgen build/release/tests/loadgen]
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
import threading
import time
import urllib.request

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


def loadgen(binary, port, queries, seconds):
    """qps from one closed-loop loadgen run on core 1."""
    out = subprocess.run(["taskset", "-c", "1", binary, "--server", f"127.0.0.1:{port}",
                          "--queries", queries, "--seconds", str(seconds), "--window", "100"],
                         capture_output=True, text=True).stdout
    fields = dict(kv.split("=") for kv in out.split())
    return float(fields["qps"]), int(fields["lost"]), int(fields["servfail"])


def builds(admin_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as r:
        m = re.search(r"^discodns_snapshot_builds_total (\d+)", r.read().decode(), re.M)
    return int(m.group(1))


def thread_cpu(pid):
    """CPU seconds used so far by each thread of pid, summed by name (dd-query-N -> dd-query)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        name = re.sub(r"-\d+$", "", name)
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_since(before, after, seconds):
    return ", ".join(f"{name} {100 * (after[name] - before.get(name, 0)) / seconds:.0f}%"
                     for name in sorted(after) if after[name] - before.get(name, 0) > 0)


def churn(client, apps, rate, stop):
    """`rate` changes per second until stop is set: each tick registers a new instance on a
    random app and cancels the one registered a second earlier, so every change is real
    (nothing cancels out before discodns sees it) and the registry keeps its size."""
    rnd = random.Random(2)
    live = []
    k = 0
    start = time.perf_counter()
    while not stop.is_set():
        if len(live) >= rate // 2:
            app, host = live.pop(0)
            client.cancel(f"svc{app}.bench", host)
        else:
            app, host = rnd.randrange(apps), f"churn{k}"
            client.register(f"svc{app}.bench", host, [f"grpc://172.17.{k >> 8 & 255}.{k & 255}:9000"])
            live.append((app, host))
        k += 1
        ahead = start + k / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    return k


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apps", type=int, default=1000)
    p.add_argument("--instances", type=int, default=10)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--churn-rate", type=int, default=100)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--binary", default=os.path.join(ROOT, "build/release/src/discodns"))
    p.add_argument("--loadgen", default=os.path.join(ROOT, "build/release/tests/loadgen"))
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
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            admin_port = s.getsockname()[1]
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
[admin]
listen = "127.0.0.1:{admin_port}"
[log]
level = "warn"
''')
        dns, dport = discodns_process.start(a.binary, config, launcher=("taskset", "-c", "0"))
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

        queries = os.path.join(work, "queries.txt")
        with open(queries, "w") as f:
            for app in range(a.apps):
                f.write(f"svc{app}.bench.dev.gd.china.example.com A\n")
                f.write(f"_grpc._tcp.svc{app}.bench.dev.gd.china.example.com SRV\n")
                f.write(f"nosuch{app}.bench.dev.gd.china.example.com A\n")
        cpu0 = thread_cpu(dns.pid)
        idle, idle_lost, _ = loadgen(a.loadgen, dport, queries, a.seconds)
        cpu1 = thread_cpu(dns.pid)
        stop = threading.Event()
        done = []
        before = builds(admin_port)
        worker = threading.Thread(target=lambda: done.append(churn(c, a.apps, a.churn_rate, stop)))
        worker.start()
        time.sleep(1)  # let the churn reach its rate
        cpu2 = thread_cpu(dns.pid)
        emu2 = thread_cpu(emu.pid)
        busy, busy_lost, servfail = loadgen(a.loadgen, dport, queries, a.seconds)
        cpu3 = thread_cpu(dns.pid)
        emu3 = thread_cpu(emu.pid)
        stop.set()
        worker.join()
        rebuilt = builds(admin_port) - before
        print(f"qps while the registry changes ({a.seconds:.0f} s each, closed loop, discodns on "
              f"core 0, loadgen on core 1):")
        print(f"  idle {idle:.0f} qps (lost {idle_lost}); churn {busy:.0f} qps (lost {busy_lost}, "
              f"servfail {servfail}); ratio {busy / idle:.2f} (target >= 0.90)")
        print(f"  churn: {done[0]} changes in {a.seconds + 1:.0f} s "
              f"({done[0] / (a.seconds + 1):.0f}/s), {rebuilt} snapshots built")
        print(f"  discodns CPU by thread (% of one core), idle: {cpu_since(cpu0, cpu1, a.seconds)}")
        print(f"  discodns CPU by thread (% of one core), churn: {cpu_since(cpu2, cpu3, a.seconds)}")
        print(f"  registry emulator CPU during churn (shares the 2 cores, unpinned): "
              f"{100 * (sum(emu3.values()) - sum(emu2.values())) / a.seconds:.0f}%")
    finally:
        if dns:
            discodns_process.stop(dns)
        stop_emulator(emu)


if __name__ == "__main__":
    main()
