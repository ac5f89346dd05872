#!/usr/bin/env python3
"""Soak: a long mixed load on the real binary. discodns follows the registry emulator (APPS x
INSTANCES) pinned to core 0; tests/bench/loadgen on core 1 sends queries open-loop at 80 % of
the peak it first measures; meanwhile the registry changes RATE times a second. RSS is sampled
every 10 s. Reports RSS at start and end (growth; target < 5 %), lost queries, SERVFAILs,
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
        peak = loadgen(setup.port, setup.queries, 5)["qps"]
        rate = int(peak * 0.8)
        seconds = a.minutes * 60
        print(f"peak {peak:.0f} qps; soak: {rate} qps open loop for {seconds:.0f} s with "
              f"{a.churn_rate} registry changes/s")
        stop = threading.Event()
        changes = []
        worker = threading.Thread(
            target=lambda: changes.append(churn(setup.client, setup.apps, a.churn_rate, stop)))
        worker.start()
        time.sleep(2)
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
        growth = 100 * (rss[-1] - rss[0]) / rss[0]
        print(f"answered {r['answered']:.0f} of {r['sent']:.0f} ({r['qps']:.0f} qps); lost "
              f"{r['lost']:.0f}; SERVFAIL {r['servfail']:.0f}; other errors "
              f"{r['other_errors']:.0f}; p99 {r['p99_us']:.0f} us; p99.9 {r['p999_us']:.0f} us")
        print(f"registry changes: {changes[0]}; discodns errors_total +{errors:.0f}; "
              f"alive: {alive}")
        print(f"RSS: start {rss[0]:.1f} MiB, max {max(rss):.1f} MiB, end {rss[-1]:.1f} MiB "
              f"(growth {growth:+.1f} %, target < 5 %)")
        ok = alive and r["lost"] == 0 and r["servfail"] == 0 and r["other_errors"] == 0 and \
            errors == 0 and growth < 5
        print("soak:", "PASS" if ok else "FAIL")
    finally:
        setup.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
