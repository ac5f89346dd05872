"""Tiny client for the discovery emulator (and the real discovery API), for tests.

    proc, port = start_emulator(zone="gd", env="dev", time_factor=60)
    c = Client(port)
    c.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
    status, headers, body = c.polls(["goim.comet"], [0], hostname="t1", timeout_ms=500)
    stop_emulator(proc)
"""

import http.client
import json
import os
import subprocess
import sys
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "discovery_emulator.py")


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
