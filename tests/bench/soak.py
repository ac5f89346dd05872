#!/usr/bin/env python3
"""Soak: a long mixed load on the real binary. discodns follows the registry emulator (APPS x
INSTANCES) pinned to core 0, and the registry changes RATE times a second throughout;
tests/bench/loadgen on core 1 first measures the peak under that churn (closed loop, 5 s; the
idle peak is printed too), then sends queries open-loop at 80 % of it for MINUTES. RSS is
sampled every 10 s. Reports RSS at the start of the load, after a one-minute warm-up, and at
the end (growth from the warm-up point; target < 5 %: a leak grows steadily, while the first
minute only fills allocator arenas and snapshot double-buffering), lost queries, SERVFAILs,
other errors, discodns's own error counter, and whether it is still alive. Exit 1 on a miss.

    python3 tests/bench/soak.py [--minutes 10] [--apps 1000] [--instances 10] [--churn-rate 100]
"""
import argparse
import subprocess
import sys
import threading
import time

from benchlib import BINARY, LOADGEN, Setup, churn, loadgen


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--apps", type=int, default=1000)
    p.add_argument("--instances", type=int, default=10)
    p.add_argument("--churn-rate", type=int, default=100)
    p.add_argument("--binary", default=BINARY)
    a = p.parse_args()
    setup = Setup(a.apps, a.instances, a.binary)
    ok = True
    try:
        idle_peak = loadgen(setup.port, setup.queries, 5)["qps"]
        stop = threading.Event()
        changes = []
        worker = threading.Thread(
            target=lambda: changes.append(churn(setup.client, setup.apps, a.churn_rate, stop)))
        worker.start()
        time.sleep(2)
        peak = loadgen(setup.port, setup.queries, 5)["qps"]
        rate = int(peak * 0.8)
        seconds = a.minutes * 60
        print(f"peak {idle_peak:.0f} qps idle, {peak:.0f} qps under churn; soak: {rate} qps "
              f"open loop for {seconds:.0f} s with {a.churn_rate} registry changes/s")
        rss = [setup.rss_mib()]
        errors_before = setup.metric("discodns_errors_total")
        load = subprocess.Popen(["taskset", "-c", "1", LOADGEN, "--server",
                                 f"127.0.0.1:{setup.port}", "--queries", setup.queries,
                                 "--seconds", str(seconds), "--rate", str(rate)],
                                stdout=subprocess.PIPE, text=True)
        while load.poll() is None:
            time.sleep(10)
            if setup.dns.poll() is not None:
                break
            rss.append(setup.rss_mib())
        out = load.communicate()[0]
        stop.set()
        worker.join()
        alive = setup.dns.poll() is None
        r = {k: float(v) for k, v in (kv.split("=") for kv in out.split())}
        errors = setup.metric("discodns_errors_total") - errors_before if alive else -1
        warm = rss[min(6, len(rss) - 1)]  # the sample after one minute of load
        growth = 100 * (rss[-1] - warm) / warm
        print(f"answered {r['answered']:.0f} of {r['sent']:.0f} ({r['qps']:.0f} qps); lost "
              f"{r['lost']:.0f}; SERVFAIL {r['servfail']:.0f}; other errors "
              f"{r['other_errors']:.0f}; p99 {r['p99_us']:.0f} us; p99.9 {r['p999_us']:.0f} us")
        print(f"registry changes: {changes[0]}; discodns errors_total +{errors:.0f}; "
              f"alive: {alive}")
        print(f"RSS: start {rss[0]:.1f} MiB, after 1 min {warm:.1f} MiB, max {max(rss):.1f} MiB, "
              f"end {rss[-1]:.1f} MiB (growth since 1 min {growth:+.1f} %, target < 5 %)")
        ok = alive and r["lost"] == 0 and r["servfail"] == 0 and r["other_errors"] == 0 and \
            errors == 0 and growth < 5
        print("soak:", "PASS" if ok else "FAIL")
    finally:
        setup.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
