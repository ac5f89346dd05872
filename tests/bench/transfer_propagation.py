#!/usr/bin/env python3
"""Change -> answer through real secondaries: discodns follows the registry emulator as a hidden
primary, NSD, Knot and BIND (Debian's packages) are its secondaries on loopback ports, and each
of CHANGES registry changes (a register, then a cancel, alternating) is timed from the
registry's HTTP answer until each secondary answers the new RRset (each polled on a thread of
its own every 2 ms), and until discodns itself does, for comparison. Median, p90, p99 and max
per server. Target (issue 15): p99 under 200 ms for Knot and NSD.

    python3 tests/bench/transfer_propagation.py [--changes 100] [--binary build/release/src/discodns]

The servers are the e2e test's (tests/e2e/transfer_test.py), started the same way."""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "emulator"))
import transfer_test as xfr  # noqa: E402
from client import Client, start_emulator, stop_emulator  # noqa: E402

APP = "goim.comet"
NAME = "goim.comet.dev.gd.china.example.com"


def wait_for(port, want, timeout=10.0):
    """Seconds until the server at `port` answers NAME A with exactly `want`, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if xfr.addresses(port, NAME)[1] == want:
            return time.monotonic() - t0
        time.sleep(0.002)
    return None


def one_change(registry, servers, step, base):
    """Registers or cancels instance `step`; returns {server: seconds} from the HTTP answer."""
    host = f"bench-{step // 2}"
    addr = f"10.1.{(step // 2) // 250}.{(step // 2) % 250 + 1}"
    if step % 2 == 0:
        want = sorted(base + [addr])
        code = registry.register(APP, host, [f"grpc://{addr}:3109"])["code"]
    else:
        want = sorted(base)
        code = registry.cancel(APP, host)["code"]
    assert code == 0, code
    took = {}
    threads = [threading.Thread(target=lambda k=kind, p=port: took.__setitem__(k, wait_for(p, want)))
               for kind, port in servers.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return took


def summary(values):
    values = sorted(v * 1000 for v in values)
    pick = lambda q: values[min(len(values) - 1, int(len(values) * q))]  # noqa: E731
    return (f"median {statistics.median(values):6.1f}  p90 {pick(0.9):6.1f}  "
            f"p99 {pick(0.99):6.1f}  max {values[-1]:6.1f} ms")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--changes", type=int, default=100)
    p.add_argument("--binary", default=os.path.join(SOURCE, "build/release/src/discodns"))
    args = p.parse_args()
    xfr.BINARY = os.path.abspath(args.binary)
    xfr.SOURCE = SOURCE
    workdir = tempfile.mkdtemp(prefix="discodns-xfr-bench-")
    stops = []
    try:
        proc, port = start_emulator(zone="gd", env="dev", time_factor=1)
        stops.append(lambda: stop_emulator(proc))
        registry = Client(port)
        registry.register(APP, "comet-1", ["grpc://10.0.0.11:3109"])
        admin = xfr.free_port()
        dns = xfr.Discodns(workdir, f'source = "discovery"\nnodes = ["127.0.0.1:{port}"]')
        dns.admin = admin
        secondaries = [kind(workdir, dns.port) for kind in (xfr.Nsd, xfr.Knot, xfr.Bind)]
        dns.notify = [s.port for s in secondaries]
        dns.start()
        stops.append(dns.stop)
        for s in secondaries:
            s.start()
            stops.append(s.stop)
        servers = {"discodns": dns.port, **{s.kind: s.port for s in secondaries}}
        for kind, port in servers.items():
            assert wait_for(port, ["10.0.0.11"], timeout=30) is not None, kind
        results = {kind: [] for kind in servers}
        missed = {kind: 0 for kind in servers}
        sequence = []
        for step in range(args.changes):
            # The instance every answer keeps renews as a real one does (the registry would
            # evict it after 90 s without).
            if step % 20 == 0:
                registry.renew(APP, "comet-1")
            took_now = one_change(registry, servers, step, ["10.0.0.11"])
            sequence.append(took_now)
            for kind, took in took_now.items():
                if took is None:
                    missed[kind] += 1
                    print(f"  change {step}: {kind} did not follow within 10 s", file=sys.stderr)
                else:
                    results[kind].append(took)
            time.sleep(float(os.environ.get("DISCODNS_BENCH_GAP", "0.05")))  # between changes
        if os.environ.get("DISCODNS_BENCH_VERBOSE"):
            for step, took in enumerate(sequence):
                print(step, {k: round(v * 1000, 1) if v is not None else None
                             for k, v in took.items()}, file=sys.stderr)
        if os.environ.get("DISCODNS_BENCH_VERBOSE"):
            import urllib.request
            text = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics").read().decode()
            print("\n".join(l for l in text.splitlines() if l.startswith(("discodns_notify", "discodns_tcp", "discodns_queries", "discodns_transfers_total")) and not l.endswith(" 0")),
                  file=sys.stderr)
        print(f"change -> answer over {args.changes} changes (register/cancel, emulator), "
              f"on {os.uname().nodename}:")
        for kind, values in results.items():
            extra = f"  ({missed[kind]} not within 10 s)" if missed[kind] else ""
            print(f"  {kind:9} {summary(values) if values else 'no answers'}{extra}")
    finally:
        for stop in reversed(stops):
            try:
                stop()
            except Exception as e:  # noqa: BLE001 - best effort cleanup
                print(f"cleanup: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
