"""Shared by the registry-side benchmarks (propagation.py, soak.py): a registry emulator loaded
with APPS apps x INSTANCES, discodns following it pinned to core 0 with an admin port,
tests/bench/loadgen on core 1, registry churn, and per-thread CPU accounting."""
import os
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
from client import Client, start_emulator, stop_emulator  # noqa: E402,F401
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import discodns_process  # noqa: E402

BINARY = os.path.join(ROOT, "build/release/src/discodns")
LOADGEN = os.path.join(ROOT, "build/release/tests/loadgen")


class Replica:
    """One discodns process following the emulator: its process, DNS port and admin port."""

    def __init__(self, work, index, emu_port, binary, reconcile):
        self.admin_port = discodns_process.free_port()
        config = os.path.join(work, f"discodns-{index}.toml")
        discodns_process.write_discovery_config(
            config, f"{ROOT}/zones/example.com.zone", [f"127.0.0.1:{emu_port}"],
            self.admin_port, level="warn",
            registry_extra=f'envs = ["dev"]\nreconcile_interval = "{reconcile}"')
        self.dns, self.port = discodns_process.start(binary, config,
                                                     launcher=("taskset", "-c", "0"))

    def metric(self, name):
        """The value of an unlabelled metric, or the sum over the labels of a labelled one."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=5) as r:
            values = re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)", r.read().decode(), re.M)
        return sum(float(v) for v in values)

    def wait_synced(self, instances, timeout=60):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(2)
        deadline = time.time() + timeout
        while a_count(sock, self.port, "svc0.bench.dev.gd.china.example.com", 1) != instances:
            if time.time() > deadline:
                raise SystemExit("discodns never synced")
            time.sleep(0.1)
        sock.close()


class Setup:
    """Emulator with apps x instances (svcN.bench, env dev, zone gd), `replicas` discodns
    processes following it (the first is the one measured under load: self.dns, self.port)."""

    def __init__(self, apps, instances, binary=BINARY, replicas=1, reconcile="15s"):
        self.apps, self.instances = apps, instances
        # Core 0 is discodns's alone: this process (the churn driver) and the emulator it
        # spawns share core 1 with the load generator, so their slices never stall the query
        # worker (on a 2-core machine something has to share).
        if os.cpu_count() and os.cpu_count() > 1:
            os.sched_setaffinity(0, {1})
        self.emu, port = start_emulator(zone="gd", env="dev", time_factor=1)
        deprioritize(self.emu.pid)
        self.work = tempfile.mkdtemp(prefix="discodns-bench-")
        self.replicas = []
        try:
            self.client = Client(port)
            bulk = []
            for app in range(apps):
                for i in range(instances):
                    n = app * instances + i
                    bulk.append({"appid": f"svc{app}.bench", "env": "dev", "zone": "gd",
                                 "hostname": f"h{i}", "status": 1,
                                 "addrs": [f"grpc://10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}:9000"],
                                 "metadata": {"weight": "10"}})
            t = time.time()
            for first in range(0, len(bulk), 50_000):
                self.client.bulk(bulk[first:first + 50_000])
            print(f"registry: {apps} apps x {instances} instances loaded in {time.time() - t:.1f} s")
            for index in range(replicas):
                self.replicas.append(Replica(self.work, index, port, binary, reconcile))
            for r in self.replicas:
                r.wait_synced(instances)
            self.dns, self.port, self.admin_port = (self.replicas[0].dns, self.replicas[0].port,
                                                    self.replicas[0].admin_port)
            time.sleep(1)  # let every poll get parked
            self.queries = os.path.join(self.work, "queries.txt")
            with open(self.queries, "w") as f:
                for app in range(apps):
                    f.write(f"svc{app}.bench.dev.gd.china.example.com A\n")
                    f.write(f"_grpc._tcp.svc{app}.bench.dev.gd.china.example.com SRV\n")
                    f.write(f"nosuch{app}.bench.dev.gd.china.example.com A\n")
        except BaseException:
            self.close()
            raise

    def metric(self, name):
        return self.replicas[0].metric(name)

    def rss_mib(self):
        with open(f"/proc/{self.dns.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024

    def close(self):
        for r in self.replicas:
            discodns_process.stop(r.dns)
        stop_emulator(self.emu)


# Nice level of the harness's registry side (emulator, churn driver) on the client's core: the
# load generator wins the core whenever it has work, so the harness's registry traffic is not
# measured as lost server throughput; at 5 it still gets a quarter of the core when contended
# (the emulator needs ~6 % at 100 changes/s, and churn() reports the rate it reached).
HARNESS_NICE = 5


def deprioritize(pid):
    """Every thread of pid at HARNESS_NICE (threads it starts later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), HARNESS_NICE)
        except ProcessLookupError:
            pass


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


# Queries in flight in closed-loop runs: ~3 ms of work for the server, so that the load
# generator losing core 1 to the harness's registry side for a scheduler slice does not leave
# the server idle (with 100, ~0.3 ms, core 0 idled 9 % of the time under churn and the
# harness's stalls were measured as the server's loss: ratio 0.78-0.83 instead of 0.91-0.93).
WINDOW = 1000


def loadgen(port, queries, seconds, *options, binary=LOADGEN):
    """One loadgen run on core 1 (closed loop, WINDOW in flight, unless options say otherwise);
    its figures as a dict of floats: qps, lost, servfail, p99_us, …"""
    out = subprocess.run(["taskset", "-c", "1", binary, "--server", f"127.0.0.1:{port}",
                          "--queries", queries, "--seconds", str(seconds),
                          *(options or ("--window", str(WINDOW)))],
                         capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (kv.split("=") for kv in out.split())}


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


def thread_cpu_ns(pid, name):
    """CPU nanoseconds used so far by pid's threads called `name` (scheduler accounting,
    /proc/.../schedstat: exact, where stat's ticks are 10 ms)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            continue
    return total


def churn(client, apps, rate, stop):
    """`rate` changes per second until stop is set: each tick registers a new instance on a
    random app and cancels the one registered a second earlier, so every change is real
    (nothing cancels out before discodns sees it) and the registry keeps its size."""
    os.setpriority(os.PRIO_PROCESS, 0, HARNESS_NICE)  # Linux: 0 is this thread, not the process
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


