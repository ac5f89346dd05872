"""Checks of the discovery emulator against discovery-protocol.md §13 (one test per point).

Run: python3 -m unittest discover -s /work/main/tests/emulator -v
TestRestart covers §12 (restart empty, refill by client.RenewingFleet); the TestPolls tests
whose docstrings name registry.go / model/instance.go functions pin the poll-answer contents
(renew times, WAITING, per-hostname channels) to the real code.
"""

import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import Client, RenewingFleet, start_emulator, stop_emulator  # noqa: E402


class Poller(threading.Thread):
    """Runs one long poll in the background; result in .status/.body/.elapsed."""

    def __init__(self, port, appids, latest, hostname, timeout_ms, zone=None, path=None):
        super().__init__(daemon=True)
        self.c = Client(port)
        self.args = (appids, latest, hostname, zone, timeout_ms, path or "/discovery/polls")
        self.body = None

    def run(self):
        appids, latest, hostname, zone, timeout_ms, path = self.args
        t0 = time.monotonic()
        _, _, raw = self.c.polls(appids, latest, hostname=hostname, zone=zone,
                                 timeout_ms=timeout_ms, path=path)
        self.elapsed = time.monotonic() - t0
        self.body = json.loads(raw)
        self.c.close()


def raw_request(port, path, headers=()):
    """Send one GET on a fresh socket and return it without reading the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, "".join(
        "%s: %s\r\n" % h for h in headers))
    s.sendall(head.encode())
    return s


def read_answer(s):
    """Read one HTTP answer (Content-Length framed); b"" when the peer closed without one."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        n = int([ln.split(b":", 1)[1] for ln in head.split(b"\r\n")
                 if ln.lower().startswith(b"content-length:")][0])
        while len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except ConnectionResetError:
        return data


def died_unanswered(s, limit=2.0):
    """True when the server closed/reset the connection without sending anything."""
    s.settimeout(limit)
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def wait_parked(c, n, limit=3.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if c.state()["active_polls"] >= n:
            return
        time.sleep(0.02)
    raise AssertionError("pollers did not park")


class Base(unittest.TestCase):
    extra = ()
    opts = {}

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_emulator(zone="gd", env="dev", extra=cls.extra, **cls.opts)
        cls.c = Client(cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        stop_emulator(cls.proc)

    def latest(self, appid, env="dev"):
        return self.c.state()["latest"].get("%s|%s" % (appid, env))


class TestEnvelopeAndBinding(Base):
    """§13.1, §13.2, §13.4 — envelope, routing, form binding, validation."""

    def test_envelope_and_header(self):
        status, hdrs, raw = self.c.request("POST", "/discovery/register", body=[
            ("zone", "gd"), ("env", "dev"), ("appid", "env.a"), ("hostname", "h1"),
            ("status", 1), ("addrs", "grpc://10.0.0.1:1")])
        self.assertEqual((status, raw), (200, b'{"code":0,"message":"0","ttl":1}'))
        self.assertEqual(hdrs["Kratos-Status-Code"], "0")
        status, hdrs, raw = self.c.request("GET", "/discovery/fetch",
                                           [("appid", "nope"), ("env", "dev"), ("status", 1)])
        self.assertEqual((status, hdrs["Kratos-Status-Code"]), (200, "-404"))
        self.assertEqual(raw, b'{"code":-404,"message":"-404","ttl":1,"data":null}')

    def test_404_405(self):
        self.assertEqual(self.c.request("GET", "/discovery/nope")[::2],
                         (404, b"404 page not found"))
        self.assertEqual(self.c.request("GET", "/discovery/register")[::2],
                         (405, b"Method Not Allowed"))
        self.assertEqual(self.c.request("POST", "/discovery/fetch")[::2],
                         (405, b"Method Not Allowed"))

    def test_validation_texts(self):
        r = self.c.call("POST", "/discovery/register", body=[
            ("zone", "gd"), ("env", "dev"), ("appid", "v.a"), ("hostname", "h"), ("status", 1)])
        self.assertEqual(r["code"], -400)
        self.assertEqual(r["message"], "Key: 'ArgRegister.Addrs' Error:Field validation for "
                                       "'Addrs' failed on the 'gt' tag")
        r = self.c.call("GET", "/discovery/fetch", [("appid", "v.a"), ("env", "dev")])
        self.assertEqual(r, {"code": -400, "ttl": 1, "message": "Key: 'ArgFetch.Status' "
                             "Error:Field validation for 'Status' failed on the 'required' tag"})
        r = self.c.call("GET", "/discovery/polls", [("appid", "x"), ("latest_timestamp",
                                                                     "99999999999999999999")])
        self.assertEqual(r["message"],
                         'strconv.ParseInt: parsing "99999999999999999999": value out of range')

    def test_register_status_rules(self):
        r = self.c.register("st.a", "h", ["grpc://1.1.1.1:1"], status=0)
        self.assertEqual(r["code"], -400)
        status, _, raw = self.c.request("POST", "/discovery/register", body=[
            ("zone", "gd"), ("env", "dev"), ("appid", "st.a"), ("hostname", "h"),
            ("status", 3), ("addrs", "grpc://1.1.1.1:1")])
        self.assertEqual((status, raw), (200, b""))
        self.assertEqual(self.c.fetch("st.a", status=3)["code"], -404)

    def test_metadata_rules(self):
        r = self.c.register("md.a", "h", ["grpc://1.1.1.1:1"], metadata="{bad")
        self.assertEqual(r, {"code": -400, "message": "-400", "ttl": 1})
        self.c.register("md.a", "h", ["grpc://1.1.1.1:1"], metadata={"weight": 10, "z": "1",
                                                                      "color": "red"})
        _, _, raw = self.c.request("GET", "/discovery/fetch",
                                   [("appid", "md.a"), ("env", "dev"), ("status", 1)])
        self.assertIn(b'"metadata":{"color":"red","weight":"","z":"1"}', raw)  # sorted keys

    def test_repeated_keys_no_comma_split_and_merged_form(self):
        self.c.register("rk.a", "h", ["grpc://1.1.1.1:1", "http://1.1.1.1:2"])
        self.c.register("rk.b", "h", ["grpc://1.1.1.2:1"])
        ins = self.c.fetch("rk.a")["data"]["instances"]["gd"][0]
        self.assertEqual(ins["addrs"], ["grpc://1.1.1.1:1", "http://1.1.1.1:2"])
        self.assertEqual(self.c.fetchs(["rk.a,rk.b"]), {"code": 0, "message": "0", "ttl": 1,
                                                         "data": {}})
        self.assertEqual(sorted(self.c.fetchs(["rk.a", "rk.b", "", "nope"])["data"]),
                         ["rk.a", "rk.b"])
        # query string only, empty body
        r = self.c.call("POST", "/discovery/renew", [("zone", "gd"), ("env", "dev"),
                                                     ("appid", "rk.a"), ("hostname", "h")])
        self.assertEqual(r["code"], 0)


class TestRegistry(Base):
    """§13.3-§13.7 — keys, timestamps, renew, latest_timestamp, read shapes."""

    def test_reregister_timestamps(self):
        self.c.register("ts.a", "h", ["grpc://1.1.1.1:1"])
        a = self.c.fetch("ts.a")["data"]["instances"]["gd"][0]
        self.assertGreater(a["reg_timestamp"], 1_500_000_000 * 10**9)
        time.sleep(0.01)
        self.c.register("ts.a", "h", ["grpc://1.1.1.1:2"], version="v2")
        b = self.c.fetch("ts.a")["data"]["instances"]["gd"][0]
        self.assertEqual(b["up_timestamp"], a["up_timestamp"])
        self.assertGreater(b["reg_timestamp"], a["reg_timestamp"])
        self.assertEqual((b["addrs"], b["version"]), (["grpc://1.1.1.1:2"], "v2"))

    def test_renew(self):
        self.c.register("rn.a", "h", ["grpc://1.1.1.1:1"], region="china")
        before, lts = self.c.fetch("rn.a")["data"]["instances"]["gd"][0], self.latest("rn.a")
        r = self.c.renew("rn.a", "h")
        self.assertEqual(r["code"], 0)
        self.assertGreater(r["data"]["renew_timestamp"], before["renew_timestamp"])
        self.assertEqual({k: v for k, v in r["data"].items() if k != "renew_timestamp"},
                         {k: v for k, v in before.items() if k != "renew_timestamp"})
        self.assertEqual(self.latest("rn.a"), lts)
        r = self.c.renew("rn.a", "other")
        self.assertEqual(r["code"], -404)
        self.assertEqual((r["data"]["addrs"], r["data"]["metadata"], r["data"]["status"],
                          r["data"]["hostname"]), (None, None, 0, ""))
        self.assertEqual(self.c.renew("rn.a", "h", zone="gd9")["code"], -404)

    def test_renew_all_is_every_renew_at_once(self):
        self.c.register("ra.a", "h", ["grpc://1.1.1.1:1"])
        before, lts = self.c.fetch("ra.a")["data"]["instances"]["gd"][0], self.latest("ra.a")
        time.sleep(0.01)
        self.assertGreaterEqual(self.c.renew_all(), 1)
        after = self.c.fetch("ra.a")["data"]["instances"]["gd"][0]
        self.assertGreater(after["renew_timestamp"], before["renew_timestamp"])
        self.assertEqual({k: v for k, v in after.items() if k != "renew_timestamp"},
                         {k: v for k, v in before.items() if k != "renew_timestamp"})
        self.assertEqual(self.latest("ra.a"), lts)

    def test_latest_timestamp_rules(self):
        self.c.register("lt.a", "h1", ["grpc://1.1.1.1:1"])
        l1 = self.latest("lt.a")
        self.c.register("lt.a", "h2", ["grpc://1.1.1.1:2"])
        l2 = self.latest("lt.a")
        self.assertGreater(l2, l1)
        self.assertEqual(self.c.cancel("lt.a", "h2")["code"], 0)
        self.assertEqual(self.latest("lt.a"), l2 + 1)  # client cancel: +1
        self.assertEqual(self.c.cancel("lt.a", "h2")["code"], -404)
        self.assertEqual(self.c.set("lt.a", ["h1"], [2])["code"], 0)
        self.assertEqual(self.latest("lt.a"), l2 + 1)  # /set does not bump (§10.2)
        self.assertEqual(self.c.fetch("lt.a", status=2)["data"]["latest_timestamp"], l2 + 1)
        self.c.quirk("set_no_bump", False)
        try:
            self.c.set("lt.a", ["h1"], [1])
            self.assertGreater(self.latest("lt.a"), l2 + 1)
        finally:
            self.c.quirk("set_no_bump", True)

    def test_set_rules(self):
        self.c.register("set.a", "h1", ["grpc://1.1.1.1:1"], metadata={"a": "1"})
        self.c.register("set.a", "h2", ["grpc://1.1.1.1:2"])
        self.assertEqual(self.c.set("set.a", ["h1"], metadatas=[{"b": "2"}])["code"], 0)
        md = self.c.fetch("set.a")["data"]["instances"]["gd"]
        self.assertEqual({i["hostname"]: i["metadata"] for i in md},
                         {"h1": {"a": "1", "b": "2"}, "h2": {}})
        for bad in (self.c.set("set.a", ["h1", "nope"], [1, 1]), self.c.set("set.a", ["h1"], [3]),
                    self.c.set("set.a", ["h1", "h2"], [1]), self.c.set("set.a", []),
                    self.c.set("set.a", ["h1"], metadatas=["{x"])):
            self.assertEqual(bad, {"code": -400, "message": "-400", "ttl": 1})

    def test_fetch_shapes(self):
        self.c.register("fs.a", "h1", ["grpc://1.1.1.1:1"], zone="gd")
        self.c.register("fs.a", "h2", ["grpc://1.1.1.1:2"], zone="gd2", status=2)
        d = self.c.fetch("fs.a")["data"]
        self.assertEqual([i["hostname"] for i in d["instances"]["gd"]], ["h1"])
        self.assertEqual(d["instances"]["gd2"], [])  # zone present with []
        self.assertEqual(len(self.c.fetch("fs.a", status=3)["data"]["instances"]["gd2"]), 1)
        self.assertEqual(self.c.fetch("fs.a", status=4)["data"]["instances"],
                         {"gd": [], "gd2": []})
        r = self.c.fetch("fs.a", zone="nozone")
        self.assertEqual(r["code"], -404)
        self.assertEqual(r["data"], {"instances": {}, "latest_timestamp": d["latest_timestamp"]})
        self.assertEqual(list(self.c.fetch("fs.a", zone="gd2", status=3)["data"]["instances"]),
                         ["gd2"])
        self.assertEqual(self.c.fetchs(["fs.a"], zone="nozone")["data"], {})
        allr = self.c.fetch_all()["data"]
        self.assertEqual(sorted(i["hostname"] for i in allr["fs.a"]), ["h1", "h2"])
        self.assertIsNone(allr["fs.a"][0]["metadata"])  # null in fetch/all

    def test_shuffle_and_sorted_zones(self):
        for n in range(12):
            self.c.register("sh.a", "h%02d" % n, ["grpc://1.1.1.1:%d" % n], zone="z%d" % (n % 3))
        orders = set()
        for _ in range(6):
            _, _, raw = self.c.request("GET", "/discovery/fetch",
                                       [("appid", "sh.a"), ("env", "dev"), ("status", 1)])
            d = json.loads(raw)["data"]["instances"]
            self.assertEqual(list(d), ["z0", "z1", "z2"])
            orders.add(tuple(i["hostname"] for i in d["z0"]))
        self.assertGreater(len(orders), 1)

    def test_self_instance_and_nodes(self):
        d = self.c.fetch("infra.discovery")["data"]["instances"]["gd"]
        self.assertEqual(d[0]["addrs"], ["http://127.0.0.1:%d" % self.port])
        nodes = self.c.nodes()["data"]
        self.assertEqual(nodes, [{"addr": "127.0.0.1:%d" % self.port, "status": 0, "zone": "gd"}])

    def test_bulk(self):
        t0 = time.monotonic()
        items = [{"zone": "gd", "env": "dev", "appid": "bulk.%d" % (n % 50),
                  "hostname": "h%d" % n, "addrs": ["grpc://10.1.%d.%d:9000" % (n // 250, n % 250)],
                  "metadata": {"weight": "5"}, "status": 1} for n in range(2000)]
        p = Poller(self.port, ["bulk.0"], [0], "bulk-poll", 3000)
        p.start()
        wait_parked(self.c, 1)
        self.assertEqual(self.c.bulk(items)["data"], {"registered": 2000})
        self.assertLess(time.monotonic() - t0, 10)
        p.join(5)
        self.assertEqual(len(p.body["data"]["bulk.0"]["instances"]["gd"]), 40)
        self.assertEqual(self.latest("bulk.1"), self.c.fetch("bulk.1")["data"]["latest_timestamp"])


class TestPolls(Base):
    """§13.8 and §13.9 — long polls and their quirks."""

    def test_polls_immediate_subset_and_envelope(self):
        self.c.register("pi.a", "h", ["grpc://1.1.1.1:1"])
        self.c.register("pi.b", "h", ["grpc://1.1.1.1:2"])
        self.c.register("pi.b", "w", ["grpc://1.1.1.1:3"], status=2)
        lb = self.latest("pi.b")
        _, hdrs, raw = self.c.polls(["pi.a", "pi.b", "pi.none"], [0, lb, 0], hostname="pi")
        self.assertTrue(raw.startswith(b'{"code":0,"data":{"pi.a":'))
        body = json.loads(raw)
        self.assertEqual(set(body), {"code", "message", "data", "error"})  # no ttl
        self.assertEqual(list(body["data"]), ["pi.a"])
        self.assertEqual(body["error"], {"-404": ["pi.none"]})
        _, _, raw = self.c.polls(["pi.b"], [0], hostname="pi")
        body = json.loads(raw)
        self.assertIsNone(body["error"]["-404"])
        self.assertEqual([i["hostname"] for i in body["data"]["pi.b"]["instances"]["gd"]],
                         ["h"])  # UP only

    def test_polls_params(self):
        r = self.c.call("GET", "/discovery/polls", [("appid", "a"), ("appid", "b"), ("env", "dev"),
                                                    ("hostname", "x"), ("latest_timestamp", 0)])
        self.assertEqual(r, {"code": -400, "message": "-400", "ttl": 1})
        r = self.c.call("GET", "/discovery/polls", [("appid", "a"), ("env", "dev"),
                                                    ("latest_timestamp", 0)])
        self.assertEqual(r["code"], -400)
        self.assertIn("'ArgPolls.Hostname'", r["message"])

    def test_hold_timeout_with_header(self):
        self.c.register("ph.a", "h", ["grpc://1.1.1.1:1"])
        t0 = time.monotonic()
        _, _, raw = self.c.polls(["ph.a"], [self.latest("ph.a")], hostname="ph", timeout_ms=400)
        el = time.monotonic() - t0
        self.assertEqual(raw, b'{"code":-304,"message":"-304","ttl":1}')
        self.assertTrue(0.33 < el < 1.0, el)

    def test_wakeup_single_appid_and_zone(self):
        for app in ("pw.a", "pw.b"):
            self.c.register(app, "h", ["grpc://1.1.1.1:1"], zone="gd")
            self.c.register(app, "h", ["grpc://1.1.1.1:1"], zone="gd2")
        la, lb = self.latest("pw.a"), self.latest("pw.b")
        p = Poller(self.port, ["pw.a", "pw.b", "pw.none"], [la, lb, 0], "pw1", 3000)
        pz = Poller(self.port, ["pw.b"], [lb], "pw2", 3000, zone="gd2")
        p.start(), pz.start()
        wait_parked(self.c, 2)
        self.c.register("pw.a", "h2", ["grpc://1.1.1.1:2"], zone="gd")
        self.c.register("pw.b", "h2", ["grpc://1.1.1.1:2"], zone="gd")
        p.join(4), pz.join(4)
        self.assertLess(p.elapsed, 2)
        self.assertEqual(list(p.body["data"]), ["pw.a"])
        self.assertEqual(p.body["error"], {"-404": ["pw.none"]})
        self.assertEqual(sorted(i["hostname"] for i in
                                p.body["data"]["pw.a"]["instances"]["gd"]), ["h", "h2"])
        self.assertEqual(list(pz.body["data"]["pw.b"]["instances"]), ["gd2"])
        # renew never wakes
        p = Poller(self.port, ["pw.a"], [self.latest("pw.a")], "pw3", 500)
        p.start()
        wait_parked(self.c, 1)
        self.c.renew("pw.a", "h")
        p.join(3)
        self.assertEqual(p.body["code"], -304)

    def test_set_wakes_with_old_timestamp(self):
        self.c.register("ps.a", "h", ["grpc://1.1.1.1:1"])
        la = self.latest("ps.a")
        p = Poller(self.port, ["ps.a"], [la], "ps", 3000)
        p.start()
        wait_parked(self.c, 1)
        self.c.set("ps.a", ["h"], metadatas=[{"color": "blue"}])
        p.join(4)
        info = p.body["data"]["ps.a"]
        self.assertEqual(info["latest_timestamp"], la)
        self.assertEqual(info["instances"]["gd"][0]["metadata"], {"color": "blue"})

    def test_shared_hostname_crosstalk(self):
        self.c.register("px.a", "h", ["grpc://1.1.1.1:1"])
        self.c.register("px.b", "h", ["grpc://1.1.1.1:1"])
        la, lb = self.latest("px.a"), self.latest("px.b")
        p1 = Poller(self.port, ["px.a"], [la], "same", 1500)
        p1.start()
        wait_parked(self.c, 1)
        p2 = Poller(self.port, ["px.a", "px.b"], [la, lb], "same", 1500)
        p2.start()
        wait_parked(self.c, 2)
        self.c.register("px.b", "h2", ["grpc://1.1.1.1:2"])
        p1.join(3), p2.join(3)
        self.assertEqual(list(p1.body["data"]), ["px.b"])  # asked only for px.a
        self.assertEqual(p2.body["code"], -304)

    def test_poll_renew_timestamp_is_value_when_answer_built(self):
        """§10 item 3, §12: renews are invisible to polls.  The real server keeps no copy of
        poll answers: registry.go Registry.Polls (immediate answer, at request time) and
        Registry.broadcast (wake-up, inside the write that changed the app) both build the
        answer via Registry.Fetch -> model/instance.go Apps.InstanceInfo -> copyInstance.  So
        an immediate answer carries the renew time current at the request, a wake-up the one
        current at the change, and a client that keeps polling never sees later renews."""
        self.c.register("rt.a", "h1", ["grpc://1.1.1.1:1"])
        la = self.latest("rt.a")
        r1 = self.c.renew("rt.a", "h1")["data"]["renew_timestamp"]
        for path in ("/discovery/polls", "/discovery/poll"):
            _, _, raw = self.c.polls(["rt.a"], [0], hostname="rt", path=path)
            body = json.loads(raw)["data"]
            info = body["rt.a"] if path.endswith("polls") else body
            self.assertEqual(info["instances"]["gd"][0]["renew_timestamp"], r1)
        p = Poller(self.port, ["rt.a"], [la], "rt1", 3000)
        p.start()
        wait_parked(self.c, 1)
        r2 = self.c.renew("rt.a", "h1")["data"]["renew_timestamp"]
        self.assertGreater(r2, r1)
        time.sleep(0.15)
        self.assertTrue(p.is_alive())  # the renew did not wake it
        self.c.register("rt.a", "h2", ["grpc://1.1.1.1:2"])
        p.join(4)
        info = p.body["data"]["rt.a"]
        got = {i["hostname"]: i["renew_timestamp"] for i in info["instances"]["gd"]}
        self.assertEqual(got["h1"], r2)  # the value at the change
        r3 = self.c.renew("rt.a", "h1")["data"]["renew_timestamp"]
        self.assertGreater(r3, r2)
        _, _, raw = self.c.polls(["rt.a"], [info["latest_timestamp"]], hostname="rt",
                                 timeout_ms=300)
        self.assertEqual(json.loads(raw)["code"], -304)  # poll data stays at r2
        # reads are live: /fetch, /fetchs and /fetch/all show r3
        f = self.c.fetch("rt.a")["data"]["instances"]["gd"]
        self.assertEqual({i["hostname"]: i["renew_timestamp"] for i in f}["h1"], r3)
        f = self.c.fetchs(["rt.a"])["data"]["rt.a"]["instances"]["gd"]
        self.assertEqual({i["hostname"]: i["renew_timestamp"] for i in f}["h1"], r3)
        f = self.c.fetch_all()["data"]["rt.a"]
        self.assertEqual({i["hostname"]: i["renew_timestamp"] for i in f}["h1"], r3)
        # an immediate answer (e.g. after a node switch, from 0) is built now: r3
        _, _, raw = self.c.polls(["rt.a"], [0], hostname="rt")
        f = json.loads(raw)["data"]["rt.a"]["instances"]["gd"]
        self.assertEqual({i["hostname"]: i["renew_timestamp"] for i in f}["h1"], r3)

    def test_renew_never_wakes_parked_polls(self):
        """§3.2, §4 item 3: App.Renew only stamps the stored instance; Registry.Renew never
        calls broadcast, whatever the poll path or hostname sharing."""
        self.c.register("rw.a", "h", ["grpc://1.1.1.1:1"])
        la = self.latest("rw.a")
        ps = [Poller(self.port, ["rw.a"], [la], "rw1", 700),
              Poller(self.port, ["rw.a"], [la], "rw1", 700),  # shared hostname
              Poller(self.port, ["rw.a"], [la], "rw3", 700, path="/discovery/poll")]
        for p in ps:
            p.start()
        wait_parked(self.c, 3)
        for _ in range(5):
            self.assertEqual(self.c.renew("rw.a", "h")["code"], 0)
        self.assertEqual(self.c.renew("rw.a", "nope")["code"], -404)
        for p in ps:
            p.join(3)
            self.assertEqual(p.body["code"], -304)
            self.assertGreater(p.elapsed, 0.6)
        self.assertEqual(self.latest("rw.a"), la)

    def test_waiting_omitted_from_polls(self):
        """§2.4, §12: polls carry status 1 only (Registry.Polls / broadcast fetch with
        InstanceStatusUP): after /set status=2 the instance is simply absent, in wake-ups and in
        immediate answers; a zone whose instances are all WAITING is listed with []."""
        self.c.register("wt.a", "h1", ["grpc://1.1.1.1:1"])
        self.c.register("wt.a", "h2", ["grpc://1.1.1.1:2"])
        self.c.register("wt.a", "h3", ["grpc://1.1.1.1:3"], zone="gd2")
        la = self.latest("wt.a")
        hosts = lambda info: {z: sorted(i["hostname"] for i in lst)
                              for z, lst in info["instances"].items()}
        p = Poller(self.port, ["wt.a"], [la], "wt1", 3000)
        pp = Poller(self.port, ["wt.a"], [la], "wt2", 3000, path="/discovery/poll")
        p.start(), pp.start()
        wait_parked(self.c, 2)
        self.assertEqual(self.c.set("wt.a", ["h2"], statuses=[2])["code"], 0)
        p.join(4), pp.join(4)
        self.assertEqual(hosts(p.body["data"]["wt.a"]), {"gd": ["h1"], "gd2": ["h3"]})
        self.assertEqual(p.body["data"]["wt.a"]["latest_timestamp"], la)  # /set: no bump
        self.assertEqual(hosts(pp.body["data"]), {"gd": ["h1"], "gd2": ["h3"]})
        _, _, raw = self.c.polls(["wt.a"], [0], hostname="wt")
        self.assertEqual(hosts(json.loads(raw)["data"]["wt.a"]), {"gd": ["h1"], "gd2": ["h3"]})
        _, _, raw = self.c.polls(["wt.a"], [0], hostname="wt", path="/discovery/poll")
        self.assertEqual(hosts(json.loads(raw)["data"]), {"gd": ["h1"], "gd2": ["h3"]})
        self.assertEqual(hosts(self.c.fetch("wt.a", status=3)["data"]),
                         {"gd": ["h1", "h2"], "gd2": ["h3"]})
        self.assertEqual(hosts(self.c.fetch("wt.a", status=2)["data"]), {"gd": ["h2"], "gd2": []})
        # the last UP instance of a zone goes WAITING: the zone stays, empty
        p = Poller(self.port, ["wt.a"], [la], "wt1", 3000)
        p.start()
        wait_parked(self.c, 1)
        self.c.set("wt.a", ["h3"], statuses=[2], zone="gd2")
        p.join(4)
        self.assertEqual(hosts(p.body["data"]["wt.a"]), {"gd": ["h1"], "gd2": []})
        # back to UP: present again in the next wake-up
        p = Poller(self.port, ["wt.a"], [la], "wt1", 3000)
        p.start()
        wait_parked(self.c, 1)
        self.c.set("wt.a", ["h2"], statuses=[1])
        p.join(4)
        self.assertEqual(hosts(p.body["data"]["wt.a"]), {"gd": ["h1", "h2"], "gd2": []})

    def test_wakeup_channel_per_hostname_uses_first_zone(self):
        """§4 items 3 and 7: registry.go keeps one conn per (env.appid, hostname); a second
        poll with the same hostname only increments count and shares the first one's channel
        and arg, so both get the wake-up filtered by the FIRST poll's zone.  A poll with its own
        hostname has its own conn and its own zone filter."""
        self.c.register("hz.a", "h", ["grpc://1.1.1.1:1"], zone="gd")
        self.c.register("hz.a", "h", ["grpc://1.1.1.1:1"], zone="gd2")
        la = self.latest("hz.a")
        base = self.c.state()["parked_conns"]  # /poll of an unknown app leaks one (real too)
        p1 = Poller(self.port, ["hz.a"], [la], "hz-shared", 3000, zone="gd2")
        p1.start()
        wait_parked(self.c, 1)
        p2 = Poller(self.port, ["hz.a"], [la], "hz-shared", 3000)  # no zone, same hostname
        p3 = Poller(self.port, ["hz.a"], [la], "hz-own", 3000)
        p2.start(), p3.start()
        wait_parked(self.c, 3)
        self.assertEqual(self.c.state()["parked_conns"] - base, 3)  # count 2 + 1
        self.c.register("hz.a", "h2", ["grpc://1.1.1.1:2"], zone="gd")
        for p in (p1, p2, p3):
            p.join(4)
            self.assertLess(p.elapsed, 2)
        self.assertEqual(list(p1.body["data"]["hz.a"]["instances"]), ["gd2"])
        self.assertEqual(list(p2.body["data"]["hz.a"]["instances"]), ["gd2"])
        self.assertEqual(list(p3.body["data"]["hz.a"]["instances"]), ["gd", "gd2"])

    def test_single_poll(self):
        r = self.c.call("GET", "/discovery/poll", [("appid", "po.none"), ("env", "dev"),
                                                   ("hostname", "x")])
        self.assertEqual(r, {"code": -404, "message": "po.none not found"})
        self.c.register("po.a", "h", ["grpc://1.1.1.1:1"])
        _, _, raw = self.c.polls(["po.a"], [0], hostname="po", path="/discovery/poll")
        body = json.loads(raw)
        self.assertEqual((body["code"], body["ttl"]), (0, 1))
        self.assertIn("gd", body["data"]["instances"])
        _, _, raw = self.c.polls(["po.a"], [self.latest("po.a")], hostname="po", timeout_ms=200,
                                 path="/discovery/poll")
        self.assertEqual(json.loads(raw)["code"], -304)

    def test_vanished_app_hang(self):
        self.c.register("pv.a", "h", ["grpc://1.1.1.1:1"])
        la = self.latest("pv.a")
        p = Poller(self.port, ["pv.a"], [la], "pv", 800)
        p.start()
        wait_parked(self.c, 1)
        self.c.cancel("pv.a", "h")
        p.join(3)
        self.assertEqual(p.body["code"], -304)  # never told
        self.assertGreater(p.elapsed, 0.7)
        _, _, raw = self.c.polls(["pv.a"], [0], hostname="pv", timeout_ms=300)
        self.assertEqual(json.loads(raw)["code"], -304)  # even from 0
        self.assertEqual(self.c.fetch("pv.a")["code"], -404)
        # quirk off: the vanished app reads as zero instances in polls
        self.c.register("pv.b", "h", ["grpc://1.1.1.1:1"])
        self.c.quirk("vanished_hang", False)
        try:
            lb = self.latest("pv.b")
            p = Poller(self.port, ["pv.b"], [lb], "pv2", 2000)
            p.start()
            wait_parked(self.c, 1)
            self.c.cancel("pv.b", "h")
            p.join(3)
            self.assertEqual(p.body["data"]["pv.b"], {"instances": {}, "latest_timestamp": lb + 1})
            _, _, raw = self.c.polls(["pv.b"], [0], hostname="pv", timeout_ms=300)
            self.assertEqual(json.loads(raw)["data"]["pv.b"]["instances"], {})
        finally:
            self.c.quirk("vanished_hang", True)


class TestQuirksAndFaults(Base):
    """§13.9 comma addrs, protect mode, fault injection."""

    def test_comma_addrs(self):
        self.c.register("ca.a", "h", ["grpc://1.1.1.1:1", "http://1.1.1.1:2"])
        self.c.quirk("comma_addrs", True)
        try:
            ins = self.c.fetch("ca.a")["data"]["instances"]["gd"][0]
            self.assertEqual(ins["addrs"], ["grpc://1.1.1.1:1,http://1.1.1.1:2"])
        finally:
            self.c.quirk("comma_addrs", False)
        self.assertEqual(len(self.c.fetch("ca.a")["data"]["instances"]["gd"][0]["addrs"]), 2)

    def test_protect_quirk(self):
        self.c.quirk("protect", True)
        try:
            self.assertEqual(self.c.fetch("infra.discovery"),
                             {"code": -500, "message": "-500", "ttl": 1})
            self.assertEqual(self.c.nodes()["code"], -500)
            self.assertEqual(self.c.register("pr.a", "h", ["grpc://1.1.1.1:1"])["code"], 0)
        finally:
            self.c.quirk("protect", False)
        self.assertEqual(self.c.fetch("pr.a")["code"], 0)

    def test_fault_garbage_error500(self):
        self.c.fault("garbage", path="/discovery/fetch")
        try:
            status, _, raw = self.c.request("GET", "/discovery/fetch", [("appid", "x")])
            self.assertEqual(status, 200)
            self.assertRaises(ValueError, json.loads, raw)
            self.assertEqual(self.c.nodes()["code"], 0)  # other path unaffected
        finally:
            self.c.fault("none")
        self.c.fault("error500")
        try:
            self.assertEqual(self.c.request("GET", "/discovery/nodes")[0], 500)
            self.assertEqual(self.c.register("f.a", "h", ["grpc://1.1.1.1:1"])["code"], 0)
        finally:
            self.c.fault("none")
        self.assertEqual(self.c.fetch("f.a")["code"], 0)

    def test_fault_close_and_slow(self):
        self.c.fault("close", path="/discovery/nodes")
        try:
            c = Client(self.port)
            with self.assertRaises(http.client.IncompleteRead):
                c.request("GET", "/discovery/nodes")
            c.close()
        finally:
            self.c.fault("none")
        self.c.fault("slow")
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(b"GET /discovery/nodes HTTP/1.1\r\nHost: x\r\n\r\n")
            t0, data = time.monotonic(), b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            while len(data.split(b"\r\n\r\n", 1)[1]) < 4:
                data += s.recv(4096)
            self.assertGreater(time.monotonic() - t0, 0.25)
            s.close()
        finally:
            self.c.fault("none")

    def test_fault_stall(self):
        self.c.fault("stall", seconds=0.5)
        t0 = time.monotonic()
        self.assertEqual(self.c.nodes()["code"], 0)
        self.assertGreater(time.monotonic() - t0, 0.45)
        self.c.fault("stall", path="/discovery/fetch")
        def clear():
            c = Client(self.port)
            c.fault("none")
            c.close()
        threading.Timer(0.4, clear).start()
        t0 = time.monotonic()
        self.assertEqual(self.c.fetch("infra.discovery")["code"], 0)
        self.assertGreater(time.monotonic() - t0, 0.35)


class TestStartupProtect(Base):
    """§5.4 protect mode for 60 s / time factor at start."""
    opts = {"protect": True, "time_factor": 60, "nodes": ["127.0.0.1:1", "127.0.0.9:2"]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.started = time.monotonic()

    def test_protect_then_normal(self):
        self.assertEqual(self.c.fetch("infra.discovery")["code"], -500)
        self.assertEqual(self.c.register("sp.a", "h", ["grpc://1.1.1.1:1"])["code"], 0)
        time.sleep(1.1)
        self.assertEqual(self.c.fetch("sp.a")["code"], 0)
        nodes = self.c.nodes()["data"]
        self.assertEqual([n["addr"] for n in nodes],
                         ["127.0.0.1:1", "127.0.0.9:2", "127.0.0.1:%d" % self.port])
        self.assertTrue(all(n["status"] == 0 and n["zone"] == "gd" for n in nodes))

    def test_restart_reenters_configured_protect(self):
        """discovery.New(): protected = enableprotect on every start; exitProtect ends it
        60 s (here 1 s) later.  protect=0 overrides."""
        time.sleep(max(0.0, 1.1 - (time.monotonic() - self.started)))
        self.assertEqual(self.c.fetch("infra.discovery")["code"], 0)
        self.assertTrue(self.c.restart()["protect"])
        self.assertEqual(self.c.fetch("infra.discovery")["code"], -500)
        self.assertEqual(self.c.nodes()["code"], -500)
        time.sleep(1.1)
        self.assertEqual(self.c.fetch("infra.discovery")["code"], 0)
        self.assertFalse(self.c.restart(protect=False)["protect"])
        self.assertEqual(self.c.fetch("infra.discovery")["code"], 0)


class TestRestart(Base):
    """§12 "a restarted node is empty": POST /_emulator/restart, and client.RenewingFleet
    (naming/client.go Register: renew every 30 s, re-register on -404) refilling it."""
    opts = {"time_factor": 60}  # renew interval 0.5 s, protect 1 s

    def self_instance(self):
        return self.c.fetch("infra.discovery")["data"]["instances"]["gd"][0]

    def test_restart_empty_and_self_registered(self):
        self.c.register("rs.a", "h", ["grpc://1.1.1.1:1"])
        self.c.register("rs.b", "h", ["grpc://1.1.1.1:1"], status=2)
        before = self.self_instance()
        time.sleep(0.01)
        info = self.c.restart()
        self.assertGreaterEqual(info["dropped_apps"], 3)
        self.assertGreaterEqual(info["dropped_instances"], 3)
        self.assertEqual((info["protect"], info["down_ms"]), (False, 0))
        self.assertEqual(self.c.fetch("rs.a")["code"], -404)
        self.assertEqual(self.c.fetch("rs.b", status=3)["code"], -404)
        self.assertEqual(list(self.c.fetch_all()["data"]), ["infra.discovery"])
        st = self.c.state()
        self.assertEqual(list(st["latest"]), ["infra.discovery|dev"])  # app versions gone
        self.assertEqual((st["instances"], st["parked_conns"], st["active_polls"]), (1, 0, 0))
        self.assertGreaterEqual(st["restarts"], 1)
        after = self.self_instance()  # regSelf again, with new timestamps
        self.assertEqual(after["addrs"], ["http://127.0.0.1:%d" % self.port])
        self.assertGreater(after["reg_timestamp"], before["reg_timestamp"])
        self.assertGreater(after["up_timestamp"], before["up_timestamp"])
        self.assertEqual(self.c.renew("rs.a", "h")["code"], -404)  # what makes clients refill
        # an unknown app hangs in polls (§10 item 1) until registered again
        _, _, raw = self.c.polls(["rs.a"], [0], hostname="rs", timeout_ms=300)
        self.assertEqual(json.loads(raw)["code"], -304)
        self.c.register("rs.a", "h", ["grpc://1.1.1.1:1"])
        _, _, raw = self.c.polls(["rs.a"], [0], hostname="rs")
        body = json.loads(raw)
        self.assertEqual(body["data"]["rs.a"]["latest_timestamp"], self.latest("rs.a"))

    def test_restart_closes_parked_polls_and_idle_connections(self):
        self.c.register("rc.a", "h", ["grpc://1.1.1.1:1"])
        la = self.latest("rc.a")
        parked = raw_request(self.port, "/discovery/polls?appid=rc.a&latest_timestamp=%d"
                             "&env=dev&hostname=rc" % la, [("x1-bmspy-timeout", "20000")])
        idle = raw_request(self.port, "/discovery/nodes")
        self.assertIn(b'"code":0', read_answer(idle))  # keep-alive connection, now idle
        wait_parked(self.c, 1)
        status, hdrs, raw = self.c.request("POST", "/_emulator/restart")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["Connection"], "close")
        self.assertEqual(json.loads(raw)["data"]["closed_polls"], 1)
        t0 = time.monotonic()
        self.assertTrue(died_unanswered(parked))  # empty reply, as from a killed process
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertTrue(died_unanswered(idle))
        parked.close(), idle.close()
        st = self.c.state()
        self.assertEqual((st["active_polls"], st["parked_conns"]), (0, 0))
        # an http.client poll sees the same: no status line at all
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        self.c.register("rc.a", "h", ["grpc://1.1.1.1:1"])
        conn.request("GET", "/discovery/polls?appid=rc.a&latest_timestamp=%d&env=dev"
                     "&hostname=rc2" % self.latest("rc.a"))
        wait_parked(self.c, 1)
        Client(self.port).restart()
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            conn.getresponse()
        conn.close()

    def test_restart_down_window(self):
        t_before = time.time_ns()
        self.assertEqual(self.c.restart(down_ms=400)["down_ms"], 400)
        try:
            s = raw_request(self.port, "/discovery/nodes")
        except ConnectionResetError:
            pass  # reset during connect: the "process" is not up yet
        else:
            self.assertTrue(died_unanswered(s))  # or reset right after it
            s.close()
        time.sleep(max(0.0, 0.5 - (time.time_ns() - t_before) / 1e9))
        ins = self.self_instance()  # registered when the window ended
        self.assertGreaterEqual(ins["reg_timestamp"], t_before + 350 * 10**6)
        self.assertEqual(self.c.state()["instances"], 1)

    def test_restart_protect_param(self):
        self.assertFalse(self.c.restart()["protect"])  # not started with --protect
        self.assertEqual(self.c.fetch("infra.discovery")["code"], 0)
        self.assertTrue(self.c.restart(protect=True)["protect"])
        self.assertEqual(self.c.fetch("infra.discovery"),
                         {"code": -500, "message": "-500", "ttl": 1})
        self.assertEqual(self.c.register("rp.a", "h", ["grpc://1.1.1.1:1"])["code"], 0)
        time.sleep(1.1)  # 60 s / 60
        self.assertEqual(self.c.fetch("rp.a")["code"], 0)

    def test_fleet_refills_after_restart(self):
        apps = ["rf.%d" % n for n in range(4)]
        inst = [(apps[n % 4], "h%02d" % n, ["grpc://10.0.0.%d:9000" % n]) for n in range(40)]
        fleet = RenewingFleet(self.port, inst, time_factor=60, threads=2).start()
        try:
            count = lambda: sum(len(i["instances"]["gd"])
                                for i in self.c.fetchs(apps)["data"].values())
            self.assertEqual(count(), 40)
            time.sleep(0.6)
            st = fleet.stats()
            self.assertEqual((st["registers"], st["renew_404"]), (40, 0))
            self.assertGreaterEqual(st["renew_ok"], 40)
            self.c.restart()
            t0 = time.monotonic()
            allr = self.c.fetch_all()
            self.assertEqual(allr["code"], 0)  # a valid answer, most apps missing (§12)
            self.assertLess(sum(len(v) for k, v in allr["data"].items() if k in apps), 40)
            while count() < 40 and time.monotonic() - t0 < 3:
                time.sleep(0.02)
            took = time.monotonic() - t0
            self.assertEqual(count(), 40)
            self.assertLess(took, fleet.interval + 0.5)  # within one renew interval
            self.assertGreater(took, fleet.interval * 0.5)  # first renews are spread
            st = fleet.stats()
            self.assertEqual((st["renew_404"], st["reregisters"], st["registers"]), (40, 40, 80))
            self.assertEqual(st["errors"], 0)
            # re-registered instances are live for pollers too
            _, _, raw = self.c.polls(apps, [0] * 4, hostname="rf")
            self.assertEqual(sorted(json.loads(raw)["data"]), apps)
        finally:
            self.assertEqual(fleet.stop(), 40)  # POST cancel each
        self.assertEqual(self.c.fetchs(apps)["data"], {})
        self.assertEqual(fleet.stats()["cancels"], 40)

    def test_fleet_spread_and_stop_without_cancel(self):
        inst = [{"appid": "rn.a", "hostname": "h%d" % n, "addrs": ["grpc://10.0.1.%d:1" % n],
                 "metadata": {"weight": "7"}} for n in range(4)]
        fleet = RenewingFleet(self.port, inst, time_factor=60).start()
        time.sleep(0.3)  # first renews due at 0.125, 0.25, 0.375, 0.5 s
        self.assertIn(fleet.stats()["renews"], (1, 2, 3))
        time.sleep(0.5)
        self.assertGreaterEqual(fleet.stats()["renew_ok"], 4)
        self.assertEqual(fleet.stop(cancel=False), 0)  # like kill -9: nothing cancelled
        renews = {i["hostname"]: i["renew_timestamp"]
                  for i in self.c.fetch("rn.a")["data"]["instances"]["gd"]}
        self.assertEqual(len(renews), 4)
        self.assertEqual(self.c.fetch("rn.a")["data"]["instances"]["gd"][0]["metadata"],
                         {"weight": "7"})
        time.sleep(0.6)
        again = {i["hostname"]: i["renew_timestamp"]
                 for i in self.c.fetch("rn.a")["data"]["instances"]["gd"]}
        self.assertEqual(again, renews)  # no more renews
        for n in range(4):
            self.c.cancel("rn.a", "h%d" % n)


class TestEvictionManual(Base):
    """§5.1-5.3 eviction rules, scans triggered by /_emulator/evict, clock shifted."""

    def test_guard_threshold_cap_ceiling(self):
        for n in range(20):
            self.c.register("ev.a", "h%d" % n, ["grpc://1.1.1.1:%d" % n])
        self.c.evict()  # reset the renew window
        size = 21
        cap = size - int(size * 0.85)
        self.c.clock(100 * 10**9)  # +100 s: beyond 90 s, below 3600 s
        self.assertEqual(self.c.evict(), 0)  # no renews -> self-preservation
        for _ in range(40):
            self.c.renew("ev.a", "h0")  # 40 >= int(0.85 * 42)
        l0 = self.latest("ev.a")
        self.assertEqual(self.c.evict(), cap)
        self.assertGreater(self.latest("ev.a"), l0)
        self.assertEqual(self.c.state()["instances"], size - cap)
        self.c.clock(2 * 3600 * 10**9)  # beyond the ceiling: evicted even when protected
        left = size - cap
        self.assertEqual(self.c.evict(), left - int(left * 0.85))
        self.c.clock(0)


class TestEvictionScaled(Base):
    """Background scan with a large time factor: ceiling 3600 s / 3600 = 1 s."""
    opts = {"time_factor": 3600}

    def test_background_eviction(self):
        self.c.register("es.a", "h", ["grpc://1.1.1.1:1"])
        p = Poller(self.port, ["es.a"], [0], "es", 500)
        p.start(), p.join(2)
        end = time.monotonic() + 4
        while time.monotonic() < end and self.c.fetch("es.a")["code"] == 0:
            time.sleep(0.1)
        self.assertEqual(self.c.fetch("es.a")["code"], -404)
        self.assertEqual(self.c.fetch("infra.discovery")["code"], 0)  # self keeps renewing


class TestStateFile(unittest.TestCase):
    def test_save_and_load(self):
        path = os.path.join(tempfile.mkdtemp(), "state.json")
        proc, port = start_emulator(state_file=path)
        c = Client(port)
        c.register("sf.a", "h", ["grpc://1.1.1.1:1"], metadata={"k": "v"})
        c.close()
        stop_emulator(proc)
        with open(path) as f:
            self.assertIn("sf.a", json.load(f))
        proc, port = start_emulator(state_file=path)
        try:
            c = Client(port)
            ins = c.fetch("sf.a")["data"]["instances"]["gd"][0]
            self.assertEqual((ins["hostname"], ins["metadata"]), ("h", {"k": "v"}))
            c.close()
        finally:
            stop_emulator(proc)


if __name__ == "__main__":
    unittest.main()
