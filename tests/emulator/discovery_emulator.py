#!/usr/bin/env python3
"""Emulator of the bilibili/discovery registry HTTP API, for discodns tests and benchmarks.

Reference: /work/shared/discovery-protocol.md (section numbers in comments, "§").
Standard library only.  One class holds the registry state (Registry), one class answers HTTP
(Handler).  Test-only control endpoints live under /_emulator/ (never used by the real protocol).

    python3 discovery_emulator.py --listen 127.0.0.1:0 --zone gd --env dev --time-factor 60
prints "emulator ready 127.0.0.1:<port>" once listening.

Where each behaviour follows the real code (bilibili/discovery 1e12d5c, read-only reference;
no code copied):

* Poll answers are built, never cached (§4, §10 item 3, §12).  registry/registry.go
  Registry.Polls builds the immediate answer at request time, Registry.broadcast builds the
  wake-up answer inside the write that caused it; both go through Registry.Fetch ->
  model/instance.go Apps.InstanceInfo -> App.Instances + copyInstance, i.e. a copy of the
  stored instances *at that moment*.  So renew_timestamp in an immediate answer is the live one
  at request time, and in a wake-up it is the value at the change; renews (App.Renew) touch only
  the stored instance, never latest_timestamp, never broadcast.  A client that keeps polling
  therefore holds renew times from the last change; only /fetch(s) and /fetch/all (App.Instances
  at request time) show current ones.  Registry.fetch() and Registry.broadcast() below do the
  same: the answer dict is a copy built when the answer is built.
* Polls carry status 1 only (§2.4, §12): Registry.Polls and broadcast call Fetch with
  InstanceStatusUP, so after /set status=2 an instance simply disappears from poll answers;
  a zone whose instances are all WAITING is still listed, with [].
* One wake-up channel per (env, appid, poll hostname) (§4 item 7): registry.go conns/hosts/conn
  with count; a second poll with the same hostname reuses the first one's channel, arg (zone)
  and count (Conn, Registry.polls, del_conns, broadcast).
* /set wakes but does not bump the app version (model/instance.go App.Set updates only
  the App's latestTimestamp, not Apps'), cancel bumps by +1 (Apps.UpdateLatest(0)), a vanished
  app is never reported (broadcast skips a Fetch error): QUIRKS_DEFAULT.
* Restart (§12 "a restarted node is empty"): the registry lives in memory only
  (registry.NewRegistry); discovery/discovery.go New() starts protected if enableprotect,
  syncup.go regSelf registers infra.discovery, exitProtect leaves protect mode after 60 s.
  POST /_emulator/restart does the same to a running emulator (Emulator.restart).
* The SDK side (naming/client.go Discovery.Register: renew every _registerGap, re-register on
  -404, cancel on stop) is emulated by client.RenewingFleet.

Control endpoints (query-string parameters, answers in the standard envelope):
  GET  /_emulator/state                       counters, app versions, quirks, faults
  POST /_emulator/fault?kind=K[&path=P][&seconds=S]   K in stall|close|garbage|error500|slow|none
  POST /_emulator/quirk?name=N&on=0|1          toggle QUIRKS_DEFAULT entries
  POST /_emulator/bulk   (JSON list body)      register many instances, one wake-up per app
  POST /_emulator/clock?offset_ns=N            shift the registry clock
  POST /_emulator/evict                        run one eviction scan now
  POST /_emulator/renew_all                    renew every instance (no wake-up, as renew)
  POST /_emulator/restart[?protect=0|1][&down_ms=N]   kill + restart the node, empty (§12)
"""

import argparse
import ipaddress
import json
import os
import queue
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SELF_APPID = "infra.discovery"  # §6.2

# Timing constants of the real server in seconds (§5.1); divided by --time-factor.
SCAN_INTERVAL = 60.0
EVICT_THRESHOLD = 90.0
EVICT_CEILING = 3600.0
RENEW_INTERVAL = 30.0
RECOUNT_INTERVAL = 900.0
POLL_HOLD = 30.0
SERVER_TIMEOUT = 40.0
PROTECT_DURATION = 60.0
WAKE_DELIVERY_TIMEOUT = 0.5  # §5.1 "500 ms per parked request" (not scaled)
PERCENT_THRESHOLD = 0.85

# Kratos business codes (§1).
OK, NOT_MODIFIED, REQUEST_ERR, NOTHING_FOUND, CONFLICT, SERVER_ERR = 0, -304, -400, -404, -409, -500

INSTANCE_FIELDS = ("region", "zone", "env", "appid", "hostname", "addrs", "version", "metadata",
                   "status", "reg_timestamp", "up_timestamp", "renew_timestamp",
                   "dirty_timestamp", "latest_timestamp")

QUIRKS_DEFAULT = {
    "vanished_hang": True,   # §10.1: pollers of an app that disappears are never told
    "set_no_bump": True,     # §10.2: /set does not advance the app-level latest_timestamp
    "comma_addrs": False,    # §6.3/§10.5: addrs joined by "," as on a replica node
    "protect": False,        # §5.4: reads answer -500
}
FAULT_KINDS = ("stall", "close", "garbage", "error500", "slow")
# Put into the channels of parked polls by /_emulator/restart: the poll dies unanswered, as
# when the real process is killed (§12).
RESTARTED = object()


def go_json(obj):
    """JSON as Go's encoding/json writes it: compact, UTF-8, <>& escaped (§1)."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")).encode("utf-8")


def _reject_constant(name):
    raise ValueError(name)  # Go's json.Valid rejects NaN/Infinity


def parse_json(text):
    """Return (ok, value) with Go's notion of valid JSON."""
    try:
        return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


def metadata_values(obj):
    """json.Unmarshal into map[string]string: non-string values become "" (§3.1)."""
    return {str(k): (v if isinstance(v, str) else "") for k, v in obj.items()}


# ---------------------------------------------------------------------------------------------
# Parameter binding (kratos form binding + validator, §1)

_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_UINT_RE = re.compile(r"[0-9]+\Z")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}


class BindError(Exception):
    pass


def _go_quote(s):
    return json.dumps(s, ensure_ascii=False)


def _parse_int(v):
    if not _INT_RE.match(v):
        raise BindError("strconv.ParseInt: parsing %s: invalid syntax" % _go_quote(v))
    n = int(v)
    if not -(1 << 63) <= n < (1 << 63):
        raise BindError("strconv.ParseInt: parsing %s: value out of range" % _go_quote(v))
    return n


def _parse_uint32(v):
    if not _UINT_RE.match(v):
        raise BindError("strconv.ParseUint: parsing %s: invalid syntax" % _go_quote(v))
    n = int(v)
    if n >= (1 << 32):
        raise BindError("strconv.ParseUint: parsing %s: value out of range" % _go_quote(v))
    return n


# Struct definitions of model/param.go: (field, form key, kind, rule).
# kinds: s string, i int64, u uint32, b bool, ls []string, li []int64
ARGS = {
    "ArgRegister": [("Region", "region", "s", None), ("Zone", "zone", "s", "required"),
                    ("Env", "env", "s", "required"), ("AppID", "appid", "s", "required"),
                    ("Hostname", "hostname", "s", "required"),
                    ("Status", "status", "u", "required"), ("Addrs", "addrs", "ls", "gt"),
                    ("Version", "version", "s", None), ("Metadata", "metadata", "s", None),
                    ("Replication", "replication", "b", None),
                    ("LatestTimestamp", "latest_timestamp", "i", None),
                    ("DirtyTimestamp", "dirty_timestamp", "i", None),
                    ("FromZone", "from_zone", "b", None)],
    "ArgRenew": [("Zone", "zone", "s", "required"), ("Env", "env", "s", "required"),
                 ("AppID", "appid", "s", "required"), ("Hostname", "hostname", "s", "required"),
                 ("Replication", "replication", "b", None),
                 ("DirtyTimestamp", "dirty_timestamp", "i", None),
                 ("FromZone", "from_zone", "b", None)],
    "ArgCancel": [("Zone", "zone", "s", "required"), ("Env", "env", "s", "required"),
                  ("AppID", "appid", "s", "required"), ("Hostname", "hostname", "s", "required"),
                  ("FromZone", "from_zone", "b", None), ("Replication", "replication", "b", None),
                  ("LatestTimestamp", "latest_timestamp", "i", None)],
    "ArgFetch": [("Zone", "zone", "s", None), ("Env", "env", "s", "required"),
                 ("AppID", "appid", "s", "required"), ("Status", "status", "u", "required")],
    "ArgFetchs": [("Zone", "zone", "s", None), ("Env", "env", "s", "required"),
                  ("AppID", "appid", "ls", "gt"), ("Status", "status", "u", "required")],
    "ArgPolls": [("Zone", "zone", "s", None), ("Env", "env", "s", "required"),
                 ("AppID", "appid", "ls", "gt"), ("Hostname", "hostname", "s", "required"),
                 ("LatestTimestamp", "latest_timestamp", "li", None)],
    "ArgSet": [("Region", "region", "s", None), ("Zone", "zone", "s", "required"),
               ("Env", "env", "s", "required"), ("AppID", "appid", "s", "required"),
               ("Hostname", "hostname", "ls", None), ("Status", "status", "li", None),
               ("Metadata", "metadata", "ls", None), ("Replication", "replication", "b", None),
               ("FromZone", "from_zone", "b", None),
               ("SetTimestamp", "set_timestamp", "i", None)],
}


def bind(form, struct):
    """Map the merged form onto the struct, then validate; raise BindError with kratos' text."""
    out, failures = {}, []
    for field, key, kind, rule in ARGS[struct]:
        values = form.get(key, [])
        first = values[0] if values else ""
        if kind == "s":
            v = first
        elif kind == "i":
            v = _parse_int(first) if first else 0
        elif kind == "u":
            v = _parse_uint32(first) if first else 0
        elif kind == "b":
            v = first in _TRUE  # unparsable -> false (§1)
        elif kind == "ls":
            v = [x for x in values if x != ""]  # empty list values dropped (§1)
        else:
            v = [_parse_int(x) for x in values if x != ""]
        out[key] = v
        if (rule == "required" and not v) or (rule == "gt" and len(v) == 0):
            failures.append("Key: '%s.%s' Error:Field validation for '%s' failed on the '%s' tag"
                            % (struct, field, field, rule))
    if failures:
        raise BindError("\n".join(failures))
    return out


# ---------------------------------------------------------------------------------------------
# Registry state (§2, §3, §4, §5)

class AppEntry:
    """One (appid, env): zones -> hostname -> instance dict, plus the app-level version (§2.3)."""

    def __init__(self):
        self.zones = {}
        self.zone_latest = {}
        self.latest = 0

    def bump(self, ts):
        """Strictly increasing app-level latest_timestamp (§2.3)."""
        self.latest = ts if ts > self.latest else self.latest + 1


class Conn:
    """A parked poll 'connection' per (env, appid, poll hostname) (§4 items 2, 7)."""

    def __init__(self, ch, latest, arg):
        self.ch, self.latest, self.arg, self.count = ch, latest, arg, 1


class Registry:
    def __init__(self, time_factor=1.0):
        self.tf = float(time_factor)
        self.lock = threading.RLock()
        self.apps = {}          # (appid, env) -> AppEntry
        self.tombstones = {}    # (appid, env) -> last latest_timestamp (only for vanished_hang off)
        self.conns_lock = threading.Lock()
        self.conns = {}         # (env, appid) -> {poll hostname: Conn}
        self.parked = 0
        self.clock_offset = 0
        self.quirks = dict(QUIRKS_DEFAULT)
        # self-preservation guard (§5.2)
        self.exp_per_min = 0
        self.exp_threshold = 0
        self.fac_in_min = 0
        self.fac_last_min = 0
        self.evicted_total = 0

    def now(self):
        return time.time_ns() + self.clock_offset

    def scaled(self, seconds):
        return seconds / self.tf

    # -- guard (§5.2)
    def _set_exp(self, per_min):
        self.exp_per_min = max(per_min, 0)
        self.exp_threshold = int(self.exp_per_min * PERCENT_THRESHOLD)

    def protected_by_guard(self):
        return self.fac_last_min < self.exp_threshold

    # -- output helpers
    def _out(self, ins, copy=True):
        """Instance JSON; copy=True mimics Go copyInstance (metadata null -> {}) (§2.2)."""
        d = dict(ins)
        addrs = d["addrs"]
        if copy and addrs is None:
            addrs = []
        if addrs and len(addrs) > 1 and self.quirks["comma_addrs"]:
            addrs = [",".join(addrs)]  # §6.3
        d["addrs"] = list(addrs) if addrs is not None else None
        md = d["metadata"]
        if md is None:
            d["metadata"] = {} if copy else None
        else:
            d["metadata"] = {k: md[k] for k in sorted(md)}
        return d

    # -- writes
    def register(self, ins, latest_arg=0, wake=True):
        """§3.1. ins is a complete instance dict. Returns nothing (always code 0)."""
        key = (ins["appid"], ins["env"])
        with self.lock:
            entry = self.apps.get(key)
            if entry is None:
                entry = self.apps[key] = AppEntry()
                tomb = self.tombstones.pop(key, 0)
                if not self.quirks["vanished_hang"]:
                    entry.latest = tomb
            zone = entry.zones.setdefault(ins["zone"], {})
            entry.bump(ins["latest_timestamp"])
            old = zone.get(ins["hostname"])
            if old is not None:
                ins["up_timestamp"] = old["up_timestamp"]  # kept across re-registers
                if ins["dirty_timestamp"] < old["dirty_timestamp"]:
                    ins = old
            else:
                self._set_exp(self.exp_per_min + 2)
            zone[ins["hostname"]] = ins
            zl = entry.zone_latest.get(ins["zone"], 0)
            entry.zone_latest[ins["zone"]] = latest_arg if latest_arg > zl else zl + 1
        if wake:
            self.broadcast(ins["env"], ins["appid"])

    def renew(self, zone, env, appid, hostname):
        """§3.2: returns the stored instance (copy) or None. Only renew_timestamp changes.

        model/instance.go App.Renew stamps the stored instance and returns a copy; registry.go
        Registry.Renew only counts it for the guard: no latest_timestamp change, no broadcast,
        so parked polls are never woken and answers already built keep their old value."""
        with self.lock:
            entry = self.apps.get((appid, env))
            ins = entry.zones.get(zone, {}).get(hostname) if entry else None
            if ins is None:
                return None
            ins["renew_timestamp"] = self.now()
            self.fac_in_min += 1
            return self._out(ins)

    def renew_all(self):
        """/_emulator/renew_all: what every instance's own renew does (renew above), at once,
        for benchmarks of a reconcile in which only renew times moved. Returns the count."""
        with self.lock:
            now = self.now()
            n = 0
            for entry in self.apps.values():
                for insts in entry.zones.values():
                    for ins in insts.values():
                        ins["renew_timestamp"] = now
                        n += 1
            self.fac_in_min += n
            return n

    def cancel(self, zone, env, appid, hostname, latest=0, evicted=False):
        """§3.3 / §5.3. Returns True when the instance existed."""
        key = (appid, env)
        with self.lock:
            entry = self.apps.get(key)
            insts = entry.zones.get(zone) if entry else None
            if insts is None or hostname not in insts:
                return False
            del insts[hostname]
            zl = entry.zone_latest.get(zone, 0)
            entry.zone_latest[zone] = latest if latest > zl else zl + 1
            entry.bump(latest)  # client cancel sends 0 -> +1 (§2.3)
            if not insts:
                del entry.zones[zone]
                entry.zone_latest.pop(zone, None)
            if not entry.zones:
                del self.apps[key]
                self.tombstones[key] = entry.latest
            if not evicted and self.exp_per_min > 0:  # eviction does not decrement (§5.2)
                self._set_exp(self.exp_per_min - 2)
        self.broadcast(env, appid)
        return True

    def set(self, arg):
        """§3.4. Returns True on success; earlier hosts stay modified on failure."""
        hosts, statuses, metas = arg["hostname"], arg["status"], arg["metadata"]
        set_ts = arg["set_timestamp"]
        with self.lock:
            entry = self.apps.get((arg["appid"], arg["env"]))
            insts = entry.zones.get(arg["zone"]) if entry else None
            if insts is None or not hosts:
                return False
            for i, h in enumerate(hosts):
                dst = insts.get(h)
                if dst is None:
                    return False
                if statuses:
                    if statuses[i] not in (1, 2):
                        return False
                    dst["status"] = statuses[i]
                    if statuses[i] == 1:
                        dst["up_timestamp"] = set_ts
                if metas:
                    ok, obj = parse_json(metas[i])
                    if not ok:
                        return False
                    if isinstance(obj, dict):
                        merged = dict(dst["metadata"] or {})
                        merged.update(metadata_values(obj))  # merged, never removed
                        dst["metadata"] = merged
                        if any(not isinstance(v, str) for v in obj.values()):
                            return False  # Go's Unmarshal reports the type error
                    elif obj is not None:
                        return False
                dst["latest_timestamp"] = set_ts
                dst["dirty_timestamp"] = set_ts
            zl = entry.zone_latest.get(arg["zone"], 0)
            entry.zone_latest[arg["zone"]] = set_ts if set_ts > zl else zl + 1
            if not self.quirks["set_no_bump"]:
                entry.bump(set_ts)
        self.broadcast(arg["env"], arg["appid"])
        return True

    def bulk(self, items):
        """/_emulator/bulk: register many instances, wake pollers once per app."""
        touched = set()
        for it in items:
            ins = self.make_instance(it)
            self.register(ins, wake=False)
            touched.add((ins["env"], ins["appid"]))
        for env, appid in touched:
            self.broadcast(env, appid)
        return len(items)

    def make_instance(self, it):
        now = self.now()
        md = it.get("metadata")
        if isinstance(md, str):
            ok, md = parse_json(md) if md else (True, None)
        md = metadata_values(md) if isinstance(md, dict) else None
        return {"region": str(it.get("region", "")), "zone": str(it["zone"]),
                "env": str(it["env"]), "appid": str(it["appid"]),
                "hostname": str(it["hostname"]), "addrs": [str(a) for a in it.get("addrs", [])],
                "version": str(it.get("version", "")), "metadata": md,
                "status": int(it.get("status", 1)), "reg_timestamp": now, "up_timestamp": now,
                "renew_timestamp": now, "dirty_timestamp": now, "latest_timestamp": now}

    # -- reads
    def fetch(self, zone, env, appid, latest, status):
        """Apps.InstanceInfo (§3.5, §4): returns (info or None, code).

        /fetch and /fetchs pass latest=-1 (never "not modified"); polls pass >= 0.
        Like Apps.InstanceInfo + copyInstance: a fresh copy of the stored instances, built now,
        so renew_timestamp is the live value at this call (for every caller: fetch, immediate
        poll answers, wake-ups); nothing is cached between calls (§10 item 3)."""
        with self.lock:
            entry = self.apps.get((appid, env))
            if entry is None:
                tomb = self.tombstones.get((appid, env))
                if tomb is None or self.quirks["vanished_hang"] or status != 1 or latest < 0:
                    return None, NOTHING_FOUND
                # quirk off (poll paths only): a vanished app reads as zero instances
                if latest >= tomb:
                    return None, NOT_MODIFIED
                return {"instances": {}, "latest_timestamp": tomb}, OK
            if latest >= entry.latest:
                return None, NOT_MODIFIED
            instances, found = {}, False
            for z in sorted(entry.zones):
                if zone == "" or z == zone:
                    found = True
                    lst = [self._out(i) for i in entry.zones[z].values() if i["status"] & status]
                    random.shuffle(lst)  # Go map order (§1)
                    instances[z] = lst
            info = {"instances": instances, "latest_timestamp": entry.latest}
        return info, (OK if found else NOTHING_FOUND)

    def fetch_all(self):
        """§3.7: appid -> all instances of every env/zone/status (Go shallow copies)."""
        out = {}
        with self.lock:
            for (appid, _env), entry in self.apps.items():
                for insts in entry.zones.values():
                    out.setdefault(appid, []).extend(self._out(i, copy=False)
                                                     for i in insts.values())
        for lst in out.values():
            random.shuffle(lst)
        return {k: out[k] for k in sorted(out)}

    # -- long polls (§4)
    def polls(self, arg):
        """Registry.Polls: returns (channel, new, miss, immediate data).

        The immediate answer is built here, at request time (UP only, §2.4); otherwise one
        Conn per (env, appid, hostname) is parked or, for a hostname already parked, reused
        with count+1 and its channel shared (§4 item 7)."""
        appids, lts = arg["appid"], arg["latest_timestamp"]
        if len(appids) != len(lts):
            lts = arg["latest_timestamp"] = [0] * len(appids)
        ins, miss = {}, []
        for a, ts in zip(appids, lts):
            info, code = self.fetch(arg["zone"], arg["env"], a, ts, 1)
            if code == NOTHING_FOUND:
                miss.append(a)
            elif code == OK:
                ins[a] = info
        if ins:
            return None, True, miss, ins
        ch = None
        with self.conns_lock:
            for a, ts in zip(appids, lts):
                hosts = self.conns.setdefault((arg["env"], a), {})
                c = hosts.get(arg["hostname"])
                if c is None:
                    if ch is None:
                        ch = queue.Queue(maxsize=5)
                    c = Conn(ch, ts, arg)
                else:
                    c.count += 1  # shared channel per hostname (§4 item 7)
                    if ch is None:
                        ch = c.ch
                hosts[arg["hostname"]] = c
        return ch, False, miss, None

    def del_conns(self, arg):
        with self.conns_lock:
            for a in arg["appid"]:
                hosts = self.conns.get((arg["env"], a))
                c = hosts.get(arg["hostname"]) if hosts else None
                if c is None:
                    continue
                if c.count > 1:
                    c.count -= 1
                else:
                    del hosts[arg["hostname"]]

    def broadcast(self, env, appid):
        """Wake parked polls of (env, appid) with exactly that appid (§4 item 3).

        registry.go Registry.broadcast: one Fetch(conn.arg.Zone, ..., 0, InstanceStatusUP) per
        hostname conn, i.e. UP only, the zone of the first poll of that hostname, built at the
        moment of the change (the copy then waits in the channel; later renews do not touch
        it), sent conn.count times with a 500 ms limit each."""
        with self.conns_lock:
            hosts = self.conns.pop((env, appid), None)
        if not hosts:
            return
        for c in list(hosts.values()):
            info, code = self.fetch(c.arg["zone"], env, appid, 0, 1)
            if code != OK:
                continue  # vanished app: nobody is told (§10.1)
            for _ in range(c.count):
                try:
                    c.ch.put({appid: info}, timeout=WAKE_DELIVERY_TIMEOUT)
                except queue.Full:
                    pass

    # -- eviction (§5.1-5.3)
    def evict(self):
        now = self.now()
        with self.lock:
            self.fac_last_min, self.fac_in_min = self.fac_in_min, 0
            protect = self.protected_by_guard()
            threshold = int(EVICT_THRESHOLD / self.tf * 1e9)
            ceiling = int(EVICT_CEILING / self.tf * 1e9)
            size, expired = 0, []
            for entry in self.apps.values():
                for insts in entry.zones.values():
                    size += len(insts)
                    for i in insts.values():
                        delta = now - i["renew_timestamp"]
                        if (not protect and delta > threshold) or delta > ceiling:
                            expired.append((i["zone"], i["env"], i["appid"], i["hostname"]))
        limit = size - int(size * PERCENT_THRESHOLD)
        random.shuffle(expired)
        done = 0
        for z, e, a, h in expired[:limit]:
            if self.cancel(z, e, a, h, latest=self.now(), evicted=True):
                done += 1
        self.evicted_total += done
        return done

    def recount(self):
        with self.lock:
            self._set_exp(2 * sum(len(z) for e in self.apps.values() for z in e.zones.values()))

    def counts(self):
        with self.lock:
            n_inst = sum(len(z) for e in self.apps.values() for z in e.zones.values())
            latest = {"%s|%s" % k: e.latest for k, e in sorted(self.apps.items())}
            n_apps = len(self.apps)
        with self.conns_lock:
            parked = sum(c.count for h in self.conns.values() for c in h.values())
        return {"apps": n_apps, "instances": n_inst, "parked_conns": parked,
                "active_polls": self.parked, "latest": latest,
                "expected_renews": self.exp_per_min, "renews_last_scan": self.fac_last_min,
                "guard_protected": self.protected_by_guard(), "evicted": self.evicted_total,
                "clock_offset_ns": self.clock_offset, "quirks": dict(self.quirks)}


# ---------------------------------------------------------------------------------------------
# HTTP layer (§1, §3)

ROUTES = {
    "/discovery/register": "POST", "/discovery/renew": "POST", "/discovery/cancel": "POST",
    "/discovery/set": "POST", "/discovery/fetch": "GET", "/discovery/fetchs": "GET",
    "/discovery/fetch/all": "GET", "/discovery/poll": "GET", "/discovery/polls": "GET",
    "/discovery/nodes": "GET",
}
READS = {p for p, m in ROUTES.items() if m == "GET"}


class Emulator:
    """Process-wide state shared by handlers: registry, node info, protect mode, faults."""

    def __init__(self, args):
        self.registry = Registry(args.time_factor)
        self.registry.quirks["comma_addrs"] = args.comma_addrs
        self.registry.quirks["vanished_hang"] = not args.no_vanished_hang
        self.registry.quirks["set_no_bump"] = not args.set_bumps
        self.zone, self.env, self.region = args.zone, args.env, args.region
        self.host = args.host or socket.gethostname()
        self.addr = None
        self.nodes = [n for n in (args.nodes or "").split(",") if n]
        self.peers_up = False
        self.protect_configured = bool(args.protect)  # enableprotect (§5.4, §9)
        self.protect_until = (time.monotonic() + PROTECT_DURATION / args.time_factor
                              if args.protect else 0.0)
        self.faults = {}        # path ("" = every read) -> dict(kind, until, event)
        self.faults_lock = threading.Lock()
        self.stop = threading.Event()
        self.kick = threading.Event()  # wakes background() early (restart, stop)
        # "process" life cycle, for /_emulator/restart
        self.restart_lock = threading.Lock()
        self.generation = 0           # +1 per restart; background() restarts its tickers
        self.started_at = time.monotonic()  # when the current "process" came up
        self.self_pending = False     # self-instance still to register (after a down window)
        self.restarts = 0
        self.socks = set()            # every open client connection (Handler.setup/finish)
        self.socks_lock = threading.Lock()

    def track(self, sock, add):
        with self.socks_lock:
            if add:
                self.socks.add(sock)
            else:
                self.socks.discard(sock)

    def down(self):
        """True while a restarted "process" is not listening yet (down_ms of /restart)."""
        return time.monotonic() < self.started_at

    def restart(self, protect=None, down=0.0, keep=None):
        """Kill and restart the node with nothing kept (§12 "a restarted node is empty").

        The real server keeps its registry in memory only (registry.NewRegistry): a new process
        has no instances, no app-level latest_timestamps, no parked polls, a fresh
        self-preservation guard and fresh tickers (registry.proc, syncup.go regSelf).  The dying
        process closes every TCP connection without an answer, so parked polls and idle
        keep-alive connections see an empty reply / reset; only `keep` (the connection that asked
        for the restart) is answered.  discovery.New(): protected = enableprotect, syncUp (no
        peers here), regSelf registers infra.discovery, exitProtect ends protect mode 60 s later.
        protect=None re-enters protect mode iff the emulator was started with --protect.
        down > 0: for that many seconds new connections are reset (the process is not up yet),
        the self-instance is registered when the window ends.  Quirks, faults and the clock
        offset are emulator settings, not node state: they are kept.  --state-file is not
        reloaded (the real server has nothing on disk).
        Returns a dict describing what was dropped."""
        with self.restart_lock:
            old = self.registry
            new = Registry(old.tf)
            new.quirks = old.quirks          # shared dict: /quirk keeps working
            new.clock_offset = old.clock_offset
            with old.lock:
                dropped = old.counts()
                self.registry = new          # in-flight requests on `old` are lost with it
            with old.conns_lock:
                conns, old.conns = old.conns, {}
            for hosts in conns.values():
                for c in hosts.values():
                    for _ in range(c.count):
                        try:
                            c.ch.put_nowait(RESTARTED)
                        except queue.Full:
                            pass  # the poll also notices its socket going away
            closed = 0
            with self.socks_lock:
                socks = [s for s in self.socks if s is not keep]
            for s in socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)  # FIN now; the handler thread closes it
                    closed += 1
                except OSError:
                    pass
            if protect is None:
                protect = self.protect_configured
            self.started_at = time.monotonic() + max(0.0, down)
            self.protect_until = (self.started_at + PROTECT_DURATION / old.tf) if protect else 0.0
            self.peers_up = False            # peers start Lost again (§6.5)
            self.restarts += 1
            self.generation += 1
            if down > 0:
                self.self_pending = True     # background() registers it at started_at
            else:
                self.self_pending = False
                new.register(self.self_instance())  # §6.2 step 2 (regSelf)
            self.kick.set()
        return {"dropped_apps": dropped["apps"], "dropped_instances": dropped["instances"],
                "closed_polls": dropped["active_polls"], "closed_connections": closed,
                "protect": bool(protect), "down_ms": int(max(0.0, down) * 1000),
                "restarts": self.restarts}

    def protected(self):
        """§5.4 protect mode: start-up window or runtime quirk."""
        return self.registry.quirks["protect"] or time.monotonic() < self.protect_until

    def fault_for(self, path):
        with self.faults_lock:
            f = self.faults.get(path) or self.faults.get("")
            if f and f["until"] and time.monotonic() > f["until"]:
                return None
            return f

    def set_fault(self, kind, path, seconds):
        with self.faults_lock:
            if kind == "none":
                targets = [path] if path else list(self.faults)
                for p in targets:
                    f = self.faults.pop(p, None)
                    if f:
                        f["event"].set()
                return
            old = self.faults.get(path)
            if old:
                old["event"].set()
            self.faults[path] = {"kind": kind, "event": threading.Event(),
                                 "until": time.monotonic() + seconds if seconds else 0.0,
                                 "seconds": seconds}

    def self_instance(self):
        now = self.registry.now()
        return {"region": self.region, "zone": self.zone, "env": self.env,
                "appid": SELF_APPID, "hostname": self.host,
                "addrs": ["http://%s" % self.addr], "version": "", "metadata": None,
                "status": 1, "reg_timestamp": now, "up_timestamp": now, "renew_timestamp": now,
                "dirty_timestamp": now, "latest_timestamp": now}

    def node_list(self):
        """§3.10: own zone nodes, self status 0, peers 1 until the first renew tick (§6.5)."""
        nodes = list(self.nodes)
        if self.addr not in nodes:
            nodes.append(self.addr)
        return [{"addr": n, "status": 0 if (n == self.addr or self.peers_up) else 1,
                 "zone": self.zone} for n in nodes]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "discovery-emulator"
    sys_version = ""
    emu = None  # set by main()

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.emu.track(self.connection, True)  # so /_emulator/restart can drop it

    def finish(self):
        try:
            super().finish()
        finally:
            self.emu.track(self.connection, False)

    # -- plumbing
    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _form(self, query, body):
        """Merged form: body values first, then query values (Go ParseForm, §1)."""
        form = {}
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype == "application/json" and body:
            ok, obj = parse_json(body.decode("utf-8", "replace"))
            if ok and isinstance(obj, dict):
                for k, v in obj.items():
                    vals = v if isinstance(v, list) else [v]
                    form.setdefault(k.lower(), []).extend(
                        x if isinstance(x, str) else json.dumps(x) for x in vals)
        elif body:
            for k, v in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                form.setdefault(k, []).append(v)
        for k, v in parse_qsl(query, keep_blank_values=True):
            form.setdefault(k, []).append(v)
        return form

    def _send(self, status, body, ctype="application/json; charset=utf-8", code=None,
              reason=None):
        head = ["HTTP/1.1 %d %s" % (status, reason or self.responses.get(status, ("",))[0]),
                "Date: %s" % self.date_time_string(), "Content-Length: %d" % len(body)]
        if ctype:
            head.insert(1, "Content-Type: %s" % ctype)
        if code is not None:
            head.append("Kratos-Status-Code: %d" % code)
        if self.close_connection:
            head.append("Connection: close")
        raw_head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        fault = self._fault["kind"] if self._fault else None
        if fault == "close":  # headers and half the body, then drop the connection
            self.wfile.write(raw_head + body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault != "slow":
            self.wfile.write(raw_head + body)  # one write: no Nagle/delayed-ACK stall
            self.wfile.flush()
            return
        self.wfile.write(raw_head)  # slow fault: one body byte per 100 ms
        for i in range(len(body)):
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            time.sleep(0.1)

    def envelope(self, code, data=None, has_data=False, message=None):
        """Standard envelope {"code","message","ttl":1,"data"?} with HTTP 200 (§1)."""
        obj = {"code": code, "message": message if message is not None else str(code), "ttl": 1}
        if has_data or data is not None:
            obj["data"] = data
        self._send(200, go_json(obj), code=code)

    def text(self, status, body):
        self._send(status, body.encode(), ctype="text/plain; charset=utf-8")

    # -- dispatch
    def _dispatch(self):
        self._fault = None
        url = urlsplit(self.path)
        path = url.path
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path.startswith("/_emulator/"):
            return self._control(path, self._form(url.query, b""), body)
        method = ROUTES.get(path)
        if method is None:
            return self.text(404, "404 page not found")
        if self.command != method:
            return self.text(405, "Method Not Allowed")
        if path in READS and not self._apply_fault(path):
            return
        form = self._form(url.query, body)
        if path in READS and self.emu.protected():
            return self.envelope(SERVER_ERR)  # §5.4: HTTP 200, code -500
        handler = getattr(self, "h_" + path[len("/discovery/"):].replace("/", "_"))
        try:
            handler(form)
        except BindError as e:
            self.envelope(REQUEST_ERR, message=str(e))

    def _apply_fault(self, path):
        """Fault injection for reads; returns False when the request has been answered."""
        f = self.emu.fault_for(path)
        if not f:
            return True
        kind = f["kind"]
        if kind == "stall":
            left = (f["until"] - time.monotonic()) if f["until"] else None
            f["event"].wait(left if left is None or left > 0 else 0)
            return True
        if kind == "garbage":
            self._send(200, b'{"code":0,"message":"0","data":{"x":[tru')
            return False
        if kind == "error500":
            self._send(500, b"Internal Server Error", ctype="text/plain; charset=utf-8")
            return False
        self._fault = f  # close / slow act when the answer is written
        return True

    def _dispatch_safe(self):
        try:
            self._dispatch()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True  # client went away mid-answer

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch_safe

    def do_HEAD(self):
        self.close_connection = True
        self._dispatch_safe()

    # -- /discovery/* handlers (§3)
    def h_register(self, form):
        arg = bind(form, "ArgRegister")
        if arg["status"] > 2:
            return self._send(200, b"", ctype=None)  # §3.1: empty body, nothing stored
        reg = self.emu.registry
        md = None
        if arg["metadata"] != "":
            ok, obj = parse_json(arg["metadata"])
            if not ok:
                return self.envelope(REQUEST_ERR)
            md = metadata_values(obj) if isinstance(obj, dict) else None
        ins = reg.make_instance({"region": arg["region"], "zone": arg["zone"],
                                 "env": arg["env"], "appid": arg["appid"],
                                 "hostname": arg["hostname"], "addrs": arg["addrs"],
                                 "version": arg["version"], "status": arg["status"]})
        ins["metadata"] = md
        if arg["dirty_timestamp"] > 0:
            ins["dirty_timestamp"] = arg["dirty_timestamp"]
        reg.register(ins, arg["latest_timestamp"])
        self.envelope(OK)

    def h_renew(self, form):
        arg = bind(form, "ArgRenew")
        reg = self.emu.registry
        ins = reg.renew(arg["zone"], arg["env"], arg["appid"], arg["hostname"])
        if ins is None:  # §3.2: -404 with an all-empty instance
            zero = {f: "" for f in INSTANCE_FIELDS}
            zero.update(addrs=None, metadata=None, status=0, reg_timestamp=0, up_timestamp=0,
                        renew_timestamp=0, dirty_timestamp=0, latest_timestamp=0)
            return self.envelope(NOTHING_FOUND, zero)
        code = OK
        if arg["replication"]:  # node-to-node only (§6.3)
            if arg["dirty_timestamp"] > ins["dirty_timestamp"]:
                code = NOTHING_FOUND
            elif arg["dirty_timestamp"] < ins["dirty_timestamp"]:
                code = CONFLICT
        self.envelope(code, ins)

    def h_cancel(self, form):
        arg = bind(form, "ArgCancel")
        ok = self.emu.registry.cancel(arg["zone"], arg["env"], arg["appid"], arg["hostname"],
                                      arg["latest_timestamp"])
        self.envelope(OK if ok else NOTHING_FOUND)

    def h_set(self, form):
        arg = bind(form, "ArgSet")
        n = len(arg["hostname"])
        if (arg["status"] and len(arg["status"]) != n) or \
                (arg["metadata"] and len(arg["metadata"]) != n):
            return self.envelope(REQUEST_ERR)
        if arg["set_timestamp"] == 0:
            arg["set_timestamp"] = self.emu.registry.now()
        self.envelope(OK if self.emu.registry.set(arg) else REQUEST_ERR)

    def h_fetch(self, form):
        arg = bind(form, "ArgFetch")
        info, code = self.emu.registry.fetch(arg["zone"], arg["env"], arg["appid"], -1,
                                             arg["status"])
        self.envelope(code, info, has_data=True)  # unknown app: "data":null (§3.5)

    def h_fetchs(self, form):
        arg = bind(form, "ArgFetchs")
        out = {}
        for a in arg["appid"]:
            info, code = self.emu.registry.fetch(arg["zone"], arg["env"], a, -1, arg["status"])
            if code == OK:
                out[a] = info  # unknown apps silently omitted (§3.6)
        self.envelope(OK, {k: out[k] for k in sorted(out)}, has_data=True)

    def h_fetch_all(self, form):
        self.envelope(OK, self.emu.registry.fetch_all(), has_data=True)

    def h_nodes(self, form):
        self.envelope(OK, self.emu.node_list(), has_data=True)

    def h_polls(self, form):
        arg = bind(form, "ArgPolls")
        if len(arg["appid"]) != len(arg["latest_timestamp"]):
            return self.envelope(REQUEST_ERR)  # §3.9 count mismatch
        got = self._long_poll(arg)
        if got is None:
            return
        data, miss = got
        if data is None:
            return self.envelope(NOT_MODIFIED)
        obj = {"code": 0, "data": {k: data[k] for k in sorted(data)},
               "error": {"-404": miss or None}, "message": "0"}  # Go map: sorted keys
        self._send(200, go_json(obj), code=OK)

    def h_poll(self, form):
        arg = bind(form, "ArgPolls")  # /poll binds ArgPolls too; appid[0] is answered (§3.8)
        got = self._long_poll(arg, single=True)
        if got is None:
            return
        data, miss = got
        if data is None:
            return self.envelope(NOT_MODIFIED)
        self.envelope(OK, data.get(arg["appid"][0]), has_data=True)

    def _hold_seconds(self):
        """min(30 s, server timeout, x1-bmspy-timeout - 20 ms), scaled (§4 item 4)."""
        reg = self.emu.registry
        hold = min(reg.scaled(POLL_HOLD), reg.scaled(SERVER_TIMEOUT))
        raw = self.headers.get("x1-bmspy-timeout", "")
        if _INT_RE.match(raw.strip()):
            ms = int(raw)
            if ms > 20:
                ms -= 20
            if ms > 0:
                hold = min(hold, ms / 1000.0)
        return hold

    def _client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            return bool(r) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _long_poll(self, arg, single=False):
        """Returns (data or None for -304, miss), or None when already answered/closed."""
        reg = self.emu.registry
        ch, new, miss, data = reg.polls(arg)
        if single and arg["appid"][0] in miss:  # §3.8 unknown app: special envelope
            # Like http/discovery.go poll(): Registry.Polls has already parked conns for the
            # appids and the -404 return skips DelConns, so they stay (a later poll with the
            # same hostname reuses them, count included).
            body = go_json({"code": NOTHING_FOUND, "message": "%s not found" % arg["appid"][0]})
            self._send(200, body, code=NOTHING_FOUND)
            return None
        if new:
            return data, miss
        deadline = time.monotonic() + self._hold_seconds()
        reg.parked += 1
        try:
            while True:
                if reg is not self.emu.registry:  # node restarted: die unanswered (§12)
                    self.close_connection = True
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    msg = ch.get(timeout=min(left, 0.2))
                except queue.Empty:
                    if self._client_gone():
                        reg.del_conns(arg)
                        self.close_connection = True
                        return None
                    continue
                if msg is RESTARTED:
                    self.close_connection = True
                    return None
                reg.del_conns(arg)
                return msg, miss
        finally:
            reg.parked -= 1
        reg.del_conns(arg)
        return None, miss

    # -- /_emulator/* control endpoints
    def _control(self, path, form, body):
        emu, reg = self.emu, self.emu.registry
        get = lambda k, d="": (form.get(k) or [d])[0]
        name = path[len("/_emulator/"):]
        if name == "state" and self.command == "GET":
            st = reg.counts()
            st["protect"] = emu.protected()
            st["restarts"] = emu.restarts
            with emu.faults_lock:
                st["faults"] = {p: {"kind": f["kind"], "seconds": f["seconds"]}
                                for p, f in emu.faults.items()}
            return self.envelope(OK, st)
        if self.command != "POST":
            return self.text(405, "Method Not Allowed")
        if name == "fault":
            kind = get("kind")
            if kind not in FAULT_KINDS + ("none",):
                return self.envelope(REQUEST_ERR, message="unknown fault kind")
            emu.set_fault(kind, get("path"), float(get("seconds", "0") or 0))
            return self.envelope(OK)
        if name == "quirk":
            q = get("name")
            if q not in reg.quirks:
                return self.envelope(REQUEST_ERR, message="unknown quirk")
            reg.quirks[q] = get("on", "1") in _TRUE
            if q == "protect" and not reg.quirks[q]:
                emu.protect_until = 0.0
            return self.envelope(OK, dict(reg.quirks))
        if name == "bulk":
            ok, items = parse_json(body.decode("utf-8", "replace"))
            if not ok or not isinstance(items, list):
                return self.envelope(REQUEST_ERR, message="body must be a JSON list")
            try:
                n = reg.bulk(items)
            except (KeyError, TypeError, ValueError) as e:
                return self.envelope(REQUEST_ERR, message="bad instance: %r" % (e,))
            return self.envelope(OK, {"registered": n})
        if name == "clock":
            try:
                reg.clock_offset = int(get("offset_ns", "0") or 0)
            except ValueError:
                return self.envelope(REQUEST_ERR, message="offset_ns must be an integer")
            return self.envelope(OK, {"offset_ns": reg.clock_offset})
        if name == "evict":
            return self.envelope(OK, {"evicted": reg.evict()})
        if name == "renew_all":
            return self.envelope(OK, {"renewed": reg.renew_all()})
        if name == "restart":
            p = get("protect")
            protect = None if p == "" else p in _TRUE
            try:
                down = float(get("down_ms", "0") or 0) / 1000.0
            except ValueError:
                return self.envelope(REQUEST_ERR, message="down_ms must be a number")
            info = emu.restart(protect=protect, down=down, keep=self.connection)
            self.close_connection = True  # answered with "Connection: close", then closed
            return self.envelope(OK, info)
        return self.text(404, "404 page not found")


# ---------------------------------------------------------------------------------------------
# Background work (§5, §6.2) and start-up

def background(emu):
    """Self renew every 30 s, eviction scan every 60 s, expected-renew recount every 15 min.

    The tickers run from process start (registry.proc, syncup.go regSelf); after
    /_emulator/restart they start again from the new start time."""
    gen = None
    while not emu.stop.is_set():
        with emu.restart_lock:
            reg = emu.registry
            if gen != emu.generation:
                gen, t0 = emu.generation, emu.started_at
                nxt = {"renew": t0 + reg.scaled(RENEW_INTERVAL),
                       "scan": t0 + reg.scaled(SCAN_INTERVAL),
                       "recount": t0 + reg.scaled(RECOUNT_INTERVAL)}
            now = time.monotonic()
            if emu.self_pending and now >= emu.started_at:
                emu.self_pending = False
                reg.register(emu.self_instance())  # restarted "process" is up (regSelf)
        if now < emu.started_at:
            emu.kick.wait(emu.started_at - now)
            emu.kick.clear()
            continue
        if now >= nxt["renew"]:
            nxt["renew"] += reg.scaled(RENEW_INTERVAL)
            if reg.renew(emu.zone, emu.env, SELF_APPID, emu.host) is None:
                reg.register(emu.self_instance())  # as the SDK does on -404
            emu.peers_up = True
        if now >= nxt["scan"]:
            nxt["scan"] += reg.scaled(SCAN_INTERVAL)
            reg.evict()
        if now >= nxt["recount"]:
            nxt["recount"] += reg.scaled(RECOUNT_INTERVAL)
            reg.recount()
        emu.kick.wait(max(0.0, min(nxt.values()) - time.monotonic()))
        emu.kick.clear()


def load_state(emu, path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    items = [i for lst in data.values() for i in lst] if isinstance(data, dict) else data
    emu.registry.bulk(items)


def save_state(emu, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(go_json(emu.registry.fetch_all()))
    os.replace(tmp, path)


def parse_listen(value):
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        sys.exit("refusing to bind %r: only loopback addresses are allowed" % host)
    return host, int(port)


def main(argv=None):
    p = argparse.ArgumentParser(description="bilibili/discovery registry emulator")
    p.add_argument("--listen", default="127.0.0.1:7171")
    p.add_argument("--zone", default="zone01")
    p.add_argument("--env", default="dev")
    p.add_argument("--region", default="region01")
    p.add_argument("--host", default="", help="hostname of the infra.discovery self-instance")
    p.add_argument("--time-factor", type=float, default=1.0,
                   help="divide every server timing constant by this factor")
    p.add_argument("--nodes", default="", help="own-zone nodes host:port,... for /nodes")
    p.add_argument("--protect", action="store_true", help="start in protect mode (§5.4)")
    p.add_argument("--comma-addrs", action="store_true", help="emit addrs comma-joined (§6.3)")
    p.add_argument("--no-vanished-hang", action="store_true",
                   help="tell pollers when an app vanishes (not the real behaviour)")
    p.add_argument("--set-bumps", action="store_true",
                   help="/set advances latest_timestamp (not the real behaviour)")
    p.add_argument("--state-file", default="", help="load at start, save on SIGTERM/SIGINT")
    args = p.parse_args(argv)
    if args.time_factor <= 0:
        p.error("--time-factor must be > 0")

    host, port = parse_listen(args.listen)
    emu = Emulator(args)
    Handler.emu = emu

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        def verify_request(self, request, client_address):
            """While a restarted node is "down" (restart down_ms), reset every new connection:
            the nearest a listening emulator gets to the refused connect of a dead process."""
            if not emu.down():
                return True
            try:
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                request.close()  # RST
            except OSError:
                pass
            return False

    httpd = Server((host, port), Handler)
    bound = httpd.server_address
    emu.addr = ("[%s]:%d" if ":" in bound[0] else "%s:%d") % (bound[0], bound[1])
    if args.state_file and os.path.exists(args.state_file):
        load_state(emu, args.state_file)
    emu.registry.register(emu.self_instance())  # §6.2 step 2

    def shutdown(signum, frame):
        emu.stop.set()
        emu.kick.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    threading.Thread(target=background, args=(emu,), daemon=True).start()
    print("emulator ready %s" % emu.addr, flush=True)
    httpd.serve_forever(poll_interval=0.2)
    emu.registry.cancel(emu.zone, emu.env, SELF_APPID, emu.host)
    if args.state_file:
        save_state(emu, args.state_file)
    httpd.server_close()


if __name__ == "__main__":
    main()
