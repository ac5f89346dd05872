#!/usr/bin/env python3
"""Writes a registry snapshot (the /discovery/fetch/all shape) of APPS apps x INSTANCES each,
and a dnsperf query file with a mix of A, SRV and NXDOMAIN queries against it.

usage: gen_registry.py APPS INSTANCES OUT.json [QUERIES.txt] [--domain example.com --region china]
"""
import argparse
import json
import random
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("apps", type=int)
    p.add_argument("instances", type=int)
    p.add_argument("out")
    p.add_argument("queries", nargs="?")
    p.add_argument("--domain", default="example.com")
    p.add_argument("--region", default="china")
    p.add_argument("--env", default="prod")
    p.add_argument("--zone", default="gd")
    a = p.parse_args()
    now = time.time_ns()
    data = {}
    names = []
    for app in range(a.apps):
        appid = f"svc{app}.team{app % 37}"
        items = []
        for i in range(a.instances):
            n = app * a.instances + i
            ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
            items.append({
                "region": a.region, "zone": a.zone, "env": a.env, "appid": appid,
                "hostname": f"{appid.replace('.', '-')}-{i}",
                "addrs": [f"grpc://{ip}:9000", f"http://{ip}:8000"],
                "version": "v1", "metadata": {"weight": str(10 + i % 5)}, "status": 1,
                "reg_timestamp": now, "up_timestamp": now, "renew_timestamp": now - i * 1_000_000,
                "dirty_timestamp": now, "latest_timestamp": now,
            })
        data[appid] = items
        names.append(f"{appid}.{a.env}.{a.zone}.{a.region}.{a.domain}")
    with open(a.out, "w") as f:
        json.dump({"code": 0, "message": "0", "ttl": 1, "data": data}, f)
    if a.queries:
        rnd = random.Random(1)
        with open(a.queries, "w") as f:
            for _ in range(100_000):
                r = rnd.random()
                name = rnd.choice(names)
                if r < 0.5:
                    f.write(f"{name} A\n")
                elif r < 0.8:
                    f.write(f"_grpc._tcp.{name} SRV\n")
                else:
                    f.write(f"nosuch{rnd.randrange(10**6)}.{a.env}.{a.zone}.{a.region}.{a.domain} A\n")


if __name__ == "__main__":
    main()
