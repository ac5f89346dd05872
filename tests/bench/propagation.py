#!/usr/bin/env python3
"""The registry side under load, against the registry emulator with APPS apps x INSTANCES:

1. Propagation latency: a register or a cancel in the registry until the DNS answer changes,
   over N changes; median, p90, p99 and max in ms. Target (issue 4): p99 under 50 ms.
2. Queries per second while the registry changes RATE times a second (register and cancel
   on random apps, each followed by discodns's long polls and a snapshot rebuild), against
   the same load with the registry idle: discodns pinned to core 0, tests/bench/loadgen on
   core 1 (closed loop, 1,000 in flight), the emulator and this driver at nice 5 on core 1,
   ROUNDS x (SECONDS idle, SECONDS churn). Target (issue 5): within 10 % of the idle figure.

    python3 tests/bench/propagation.py [--apps 1000] [--instances 10] [--changes 200]
        [--churn-rate 100] [--seconds 5] [--rounds 10] [--binary build/release/src/discodns]
"""
import argparse
import random
import socket
import statistics
import threading
import time

from benchlib import BINARY, HARNESS_NICE, WINDOW, Setup, a_count, churn, loadgen, thread_cpu


def propagation(setup, changes):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    rnd = random.Random(1)
    latencies = []
    qid = 2
    app = 0
    for k in range(changes):
        if k % 2 == 0:  # register a new instance; the next change cancels it
            app = rnd.randrange(setup.apps)
        name = f"svc{app}.bench.dev.gd.china.example.com"
        before = a_count(sock, setup.port, name, qid)
        qid = (qid + 1) & 0xFFFF
        start = time.perf_counter()
        if k % 2 == 0:
            setup.client.register(f"svc{app}.bench", f"extra{k}",
                                  [f"grpc://172.16.{k >> 8}.{k & 255}:9000"])
        else:
            setup.client.cancel(f"svc{app}.bench", f"extra{k - 1}")
        while True:
            n = a_count(sock, setup.port, name, qid)
            qid = (qid + 1) & 0xFFFF
            if n != before:
                break
            if time.perf_counter() - start > 10:
                raise SystemExit(f"change {k} never showed up")
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"propagation over {len(latencies)} changes (register or cancel -> DNS answer changed):")
    print(f"  median {pick(0.5):.1f} ms  p90 {pick(0.9):.1f} ms  p99 {pick(0.99):.1f} ms  "
          f"max {latencies[-1]:.1f} ms  (target p99 < 50 ms)")


def qps_under_churn(setup, rate, seconds, rounds):
    """Idle and churn runs interleaved (idle, churn, idle, churn, …) so that a machine whose
    speed drifts (a shared VM) weighs on both alike; the ratio is of the sums."""
    pid = setup.dns.pid
    idle, busy, ratios = [], [], []
    cpu_idle, cpu_busy, emu_busy = {}, {}, 0.0
    changes = rebuilt = 0

    def add(total, before, after):
        for name in after:
            total[name] = total.get(name, 0) + after[name] - before.get(name, 0)

    for _ in range(rounds):
        c0 = thread_cpu(pid)
        idle.append(loadgen(setup.port, setup.queries, seconds))
        add(cpu_idle, c0, thread_cpu(pid))
        stop = threading.Event()
        done = []
        before = setup.metric("discodns_snapshot_builds_total")
        worker = threading.Thread(
            target=lambda: done.append(churn(setup.client, setup.apps, rate, stop)))
        worker.start()
        time.sleep(1)  # let the churn reach its rate
        c2, e2 = thread_cpu(pid), sum(thread_cpu(setup.emu.pid).values())
        busy.append(loadgen(setup.port, setup.queries, seconds))
        add(cpu_busy, c2, thread_cpu(pid))
        emu_busy += sum(thread_cpu(setup.emu.pid).values()) - e2
        stop.set()
        worker.join()
        changes += done[0]
        rebuilt += setup.metric("discodns_snapshot_builds_total") - before
        ratios.append(busy[-1]["qps"] / idle[-1]["qps"])
    total = rounds * seconds
    idle_qps = sum(r["qps"] for r in idle) / rounds
    busy_qps = sum(r["qps"] for r in busy) / rounds
    print(f"qps while the registry changes ({rounds} rounds of idle then churn, {seconds:.0f} s "
          f"each, closed loop with {WINDOW} in flight, discodns on core 0, loadgen on core 1):")
    print(f"  idle {idle_qps:.0f} qps (lost {sum(r['lost'] for r in idle):.0f}); churn "
          f"{busy_qps:.0f} qps (lost {sum(r['lost'] for r in busy):.0f}, servfail "
          f"{sum(r['servfail'] for r in busy):.0f}); ratio {busy_qps / idle_qps:.2f} "
          f"(target >= 0.90); per round: median {statistics.median(ratios):.2f}, "
          f"{', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"  churn: {changes} changes in {rounds * (seconds + 1):.0f} s "
          f"({changes / (rounds * (seconds + 1)):.0f}/s), {rebuilt:.0f} snapshots built")
    pct = lambda cpu: ", ".join(f"{n} {100 * v / total:.0f}%"  # noqa: E731
                                for n, v in sorted(cpu.items()) if v > 0)
    print(f"  discodns CPU by thread (% of one core), idle: {pct(cpu_idle)}")
    print(f"  discodns CPU by thread (% of one core), churn: {pct(cpu_busy)}")
    print(f"  registry emulator CPU during churn (on core 1, with the load generator, nice "
          f"{HARNESS_NICE}): {100 * emu_busy / total:.0f}%")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apps", type=int, default=1000)
    p.add_argument("--instances", type=int, default=10)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--churn-rate", type=int, default=100)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--binary", default=BINARY)
    a = p.parse_args()
    setup = Setup(a.apps, a.instances, a.binary)
    try:
        propagation(setup, a.changes)
        qps_under_churn(setup, a.churn_rate, a.seconds, a.rounds)
    finally:
        setup.close()


if __name__ == "__main__":
    main()
