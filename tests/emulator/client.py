"""Tiny client for the discovery emulator (and the real discovery API), for tests.

    proc, port = start_emulator(zone="gd", env="dev", time_factor=60)
    c = Client(port)
    c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
    status, headers, body = c.polls(["goim.comet"], [0], hostname="t1", timeout_ms=500)
    fleet = RenewingFleet(port, [("goim.job", "job-%d" % n, ["grpc://10.0.1.%d:3109" % n])
                                 for n in range(20)], time_factor=60).start()
    c.restart()            # node comes back empty; the fleet refills it within 30 s / 60
    fleet.stop()           # cancels every instance (cancel=False: just stop renewing)
    stop_emulator(proc)
"""

import heapq
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "discovery_emulator.py")

# Go SDK renew period: naming/client.go _registerGap (§5.1, §7.6).
RENEW_INTERVAL = 30.0


def start_emulator(zone="gd", env="dev", time_factor=1.0, listen="127.0.0.1:0", nodes=None,
                   protect=False, comma_addrs=False, state_file=None, extra=()):
    """Spawn the emulator; returns (process, port) once it printed its ready line."""
    cmd = [sys.executable, EMULATOR, "--listen", listen, "--zone", zone, "--env", env,
           "--time-factor", str(time_factor)]
    if nodes:
        cmd += ["--nodes", ",".join(nodes)]
    if protect:
        cmd.append("--protect")
    if comma_addrs:
        cmd.append("--comma-addrs")
    if state_file:
        cmd += ["--state-file", state_file]
    cmd += list(extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("emulator ready "):
        proc.kill()
        raise RuntimeError("emulator did not start: %r" % line)
    return proc, int(line.rsplit(":", 1)[1])


def stop_emulator(proc, timeout=5):
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


class Client:
    """One keep-alive HTTP connection; every call returns (http status, headers, body)."""

    def __init__(self, port, host="127.0.0.1", zone="gd", env="dev", timeout=10):
        self.host, self.port, self.zone, self.env, self.timeout = host, port, zone, env, timeout
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, params=None, body=None, headers=None, timeout=None):
        """params: dict or list of pairs (repeat keys with a list of pairs or list values)."""
        query = urlencode(params or [], doseq=True)
        url = path + ("?" + query if query else "")
        hdrs = dict(headers or {})
        if isinstance(body, (list, tuple, dict)) and method == "POST" and \
                hdrs.get("Content-Type") != "application/json":
            body = urlencode(body, doseq=True)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if isinstance(body, str):
            body = body.encode()
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=timeout or self.timeout)
            else:
                self.conn.timeout = timeout or self.timeout
                if self.conn.sock:
                    self.conn.sock.settimeout(self.conn.timeout)
            try:
                self.conn.request(method, url, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, resp.headers, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise

    def call(self, method, path, params=None, body=None, headers=None, timeout=None):
        """Like request() but returns the decoded JSON body (or None when empty)."""
        _, _, data = self.request(method, path, params, body, headers, timeout)
        return json.loads(data) if data else None

    # -- protocol helpers (write parameters go in the urlencoded body)
    def register(self, appid, hostname, addrs, status=1, zone=None, env=None, region="",
                 version="", metadata=None, **extra):
        form = [("region", region), ("zone", zone or self.zone), ("env", env or self.env),
                ("appid", appid), ("hostname", hostname), ("status", status),
                ("version", version)] + [("addrs", a) for a in addrs]
        if metadata is not None:
            form.append(("metadata", metadata if isinstance(metadata, str)
                         else json.dumps(metadata)))
        form += list(extra.items())
        return self.call("POST", "/discovery/register", body=form)

    def renew(self, appid, hostname, zone=None, env=None):
        return self.call("POST", "/discovery/renew", body=[
            ("zone", zone or self.zone), ("env", env or self.env), ("appid", appid),
            ("hostname", hostname)])

    def cancel(self, appid, hostname, zone=None, env=None):
        return self.call("POST", "/discovery/cancel", body=[
            ("zone", zone or self.zone), ("env", env or self.env), ("appid", appid),
            ("hostname", hostname)])

    def set(self, appid, hostnames, statuses=(), metadatas=(), zone=None, env=None):
        form = [("zone", zone or self.zone), ("env", env or self.env), ("appid", appid)]
        form += [("hostname", h) for h in hostnames] + [("status", s) for s in statuses]
        form += [("metadata", m if isinstance(m, str) else json.dumps(m)) for m in metadatas]
        return self.call("POST", "/discovery/set", body=form)

    def fetch(self, appid, status=1, zone=None, env=None):
        params = [("appid", appid), ("env", env or self.env), ("status", status)]
        if zone:
            params.append(("zone", zone))
        return self.call("GET", "/discovery/fetch", params)

    def fetchs(self, appids, status=1, zone=None, env=None):
        params = [("appid", a) for a in appids] + [("env", env or self.env), ("status", status)]
        if zone:
            params.append(("zone", zone))
        return self.call("GET", "/discovery/fetchs", params)

    def fetch_all(self):
        return self.call("GET", "/discovery/fetch/all")

    def polls(self, appids, latest, hostname="test-poller", zone=None, env=None,
              timeout_ms=None, path="/discovery/polls"):
        """Long poll; timeout_ms sets x1-bmspy-timeout. Returns (status, headers, body)."""
        params = [("appid", a) for a in appids] + [("latest_timestamp", t) for t in latest]
        params += [("env", env or self.env), ("hostname", hostname)]
        if zone:
            params.append(("zone", zone))
        hdrs = {"x1-bmspy-timeout": str(timeout_ms)} if timeout_ms else {}
        wait = (timeout_ms / 1000.0 + 5) if timeout_ms else 45
        return self.request("GET", path, params, headers=hdrs, timeout=wait)

    def nodes(self):
        return self.call("GET", "/discovery/nodes")

    # -- emulator control (/_emulator/)
    def fault(self, kind, path=None, seconds=None):
        params = [("kind", kind)] + ([("path", path)] if path else [])
        if seconds:
            params.append(("seconds", seconds))
        return self.call("POST", "/_emulator/fault", params)

    def quirk(self, name, on):
        return self.call("POST", "/_emulator/quirk", [("name", name), ("on", int(bool(on)))])

    def bulk(self, instances):
        return self.call("POST", "/_emulator/bulk", body=json.dumps(instances),
                         headers={"Content-Type": "application/json"}, timeout=120)

    def state(self):
        return self.call("GET", "/_emulator/state")["data"]

    def clock(self, offset_ns):
        return self.call("POST", "/_emulator/clock", [("offset_ns", int(offset_ns))])

    def evict(self):
        return self.call("POST", "/_emulator/evict")["data"]["evicted"]

    def renew_all(self):
        return self.call("POST", "/_emulator/renew_all")["data"]["renewed"]

    def restart(self, protect=None, down_ms=0):
        """POST /_emulator/restart: the node restarts empty (§12).  protect=None: protect mode
        again iff started with --protect; True/False force it.  down_ms: new connections are
        reset for that long.  Returns the answer's data dict."""
        params = []
        if protect is not None:
            params.append(("protect", int(bool(protect))))
        if down_ms:
            params.append(("down_ms", int(down_ms)))
        return self.call("POST", "/_emulator/restart", params)["data"]


class RenewingFleet:
    """Many SDK-like registrations that keep themselves alive, for refill tests.

    Follows naming/client.go Discovery.Register (§7.6): one POST register per instance, then a
    ticker every RENEW_INTERVAL (30 s, here divided by time_factor) sends POST renew; a renew
    answered -404 sends POST register again (this is how a restarted, empty node refills, §12);
    a transport error or another code is only counted (the SDK switches node and waits for the
    next tick).  Stopping is the SDK's cancel function: stop renewing, then POST cancel.

    instances: list of dicts {"appid", "hostname", "addrs", optional "zone", "env", "region",
    "version", "metadata"} or tuples (appid, hostname, addrs).  Each instance stands for one SDK
    process.  spread=True staggers the first renews evenly over one interval (instance i of n
    renews first at start + interval*(i+1)/n), as independent processes would; spread=False
    renews each one interval after its own register, as one SDK ticker does.  The instances are
    sharded over `threads` worker threads, each with its own keep-alive connection.

        fleet = RenewingFleet(port, instances, time_factor=60).start()   # returns self
        fleet.stats()        # dict of counters (see _COUNTERS), "max_lag_s", "instances"
        fleet.stop()         # stop renewing, POST cancel each; returns the number cancelled
        fleet.stop(cancel=False)  # stop renewing only (like kill -9): eviction removes them
    Nothing is printed.  Also a context manager (stop() on exit).
    """

    _COUNTERS = ("registers", "register_errors", "renews", "renew_ok", "renew_404",
                 "reregisters", "errors", "late", "cancels")

    def __init__(self, port, instances, time_factor=1.0, host="127.0.0.1", zone="gd",
                 env="dev", region="", threads=1, spread=True, interval=None, timeout=5):
        self.port, self.host, self.timeout = port, host, timeout
        self.interval = float(interval) if interval else RENEW_INTERVAL / float(time_factor)
        self.spread = spread
        self.instances = []
        for it in instances:
            if not isinstance(it, dict):
                appid, hostname, addrs = it
                it = {"appid": appid, "hostname": hostname, "addrs": addrs}
            d = {"zone": zone, "env": env, "region": region, "version": "", "metadata": None}
            d.update(it)
            d["addrs"] = list(d["addrs"])
            self.instances.append(d)
        self.nthreads = max(1, min(int(threads), len(self.instances) or 1))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self._COUNTERS, 0)
        self._max_lag = 0.0
        self._workers = []
        self._started = False

    # -- public API
    def start(self):
        """Register every instance (raises RuntimeError if any register is not code 0), then
        start renewing in the background.  Returns self."""
        if self._started:
            return self
        self._started = True
        self._stop.clear()
        shards = [list(range(i, len(self.instances), self.nthreads))
                  for i in range(self.nthreads)]
        ready = []
        for shard in shards:
            ev = threading.Event()
            t = threading.Thread(target=self._run, args=(shard, ev), daemon=True)
            self._workers.append(t)
            ready.append(ev)
            t.start()
        for ev in ready:
            ev.wait()
        if self._counts["register_errors"]:
            n = self._counts["register_errors"]
            self.stop(cancel=True)
            raise RuntimeError("RenewingFleet: %d initial registers failed" % n)
        return self

    def stop(self, cancel=True):
        """Stop renewing; with cancel=True also POST cancel each instance (the SDK's cancel
        function).  Returns the number of cancels answered code 0."""
        self._stop.set()
        for t in self._workers:
            t.join()
        self._workers = []
        self._started = False
        done = 0
        if cancel:
            c = self._client()
            for ins in self.instances:
                try:
                    r = c.cancel(ins["appid"], ins["hostname"], zone=ins["zone"], env=ins["env"])
                except (OSError, http.client.HTTPException, ValueError):
                    c.close()
                    continue
                if r and r.get("code") == 0:
                    done += 1
            c.close()
            self._add("cancels", done)
        return done

    def stats(self):
        with self._lock:
            st = dict(self._counts)
            st["max_lag_s"] = self._max_lag
        st["instances"] = len(self.instances)
        st["interval_s"] = self.interval
        return st

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- internals
    def _client(self):
        return Client(self.port, host=self.host, timeout=self.timeout)

    def _add(self, key, n=1):
        with self._lock:
            self._counts[key] += n

    def _register(self, c, ins):
        """POST register as naming/client.go register() sends it (status=1 always)."""
        try:
            r = c.register(ins["appid"], ins["hostname"], ins["addrs"], status=1,
                           zone=ins["zone"], env=ins["env"], region=ins["region"],
                           version=ins["version"], metadata=ins["metadata"])
        except (OSError, http.client.HTTPException, ValueError):
            c.close()
            r = None
        ok = bool(r) and r.get("code") == 0
        self._add("registers" if ok else "register_errors")
        return ok

    def _renew(self, c, ins):
        self._add("renews")
        try:
            r = c.renew(ins["appid"], ins["hostname"], zone=ins["zone"], env=ins["env"])
        except (OSError, http.client.HTTPException, ValueError):
            c.close()  # the SDK switches node; the next tick retries
            self._add("errors")
            return
        code = r.get("code") if isinstance(r, dict) else None
        if code == 0:
            self._add("renew_ok")
        elif code == -404:  # "a renew answered -404 triggers a new register" (§7.6)
            self._add("renew_404")
            if self._register(c, ins):
                self._add("reregisters")
        else:
            self._add("errors")

    def _run(self, shard, ready):
        c = self._client()
        n = len(self.instances)
        heap = []
        try:
            for idx in shard:
                if self._stop.is_set():
                    break
                self._register(c, self.instances[idx])
                if not self.spread:
                    heap.append((time.monotonic() + self.interval, idx))
        finally:
            ready.set()
        if self.spread:
            t0 = time.monotonic()
            heap = [(t0 + self.interval * (idx + 1) / n, idx) for idx in shard]
        heapq.heapify(heap)
        try:
            while heap and not self._stop.is_set():
                due, idx = heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._stop.wait(wait)
                    continue
                heapq.heappop(heap)
                lag = -wait
                with self._lock:
                    if lag > self._max_lag:
                        self._max_lag = lag
                self._renew(c, self.instances[idx])
                nxt = due + self.interval
                now = time.monotonic()
                if nxt <= now:  # fell behind: fire at once (Go's ticker keeps one tick)
                    self._add("late")
                    nxt = now
                heapq.heappush(heap, (nxt, idx))
        finally:
            c.close()
