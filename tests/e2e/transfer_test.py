#!/usr/bin/env python3
"""discodns as a hidden primary for real secondaries from Debian packages (NSD, Knot, BIND),
each on its own 127.0.0.1 port:

  InitialTransfer     the first transfer: service RRsets, [transfer] ttl, discodns's serial
  NotifyChanges       file source: an added and a removed instance reach every secondary
  LiveRegistry        registry emulator: a register and a cancel reach every secondary
  Restart             emulator + state_file: stop, change, start; the serial only goes up
  RestartFileSource   the same for a file source with [zone] serial_file
  Refused             transfer.allow, transfers off by default, TSIG required (NOTAUTH with
                      BADSIG/BADKEY on the wire and in kdig), signed answers to signed queries
  TsigKnot/Nsd/Bind   a secondary holding the key follows a change (signed NOTIFY + transfer)
  BigZone             100,000 instances: kdig AXFR, and Knot loading the zone
  SecondariesAlone    no discodns: a Knot primary with a static zone checks the secondaries'
                      configs alone, so a failure there is about this machine's servers

Every server runs in the foreground with its state in a temporary directory (kept when
DISCODNS_KEEP_TMP is set) and is stopped when its test ends, even on failure. Waits poll with
a bound; the per-secondary latencies of each change are printed.

usage: transfer_test.py DISCODNS_BINARY SOURCE_DIR
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import discodns_process  # noqa: E402
from client import Client, start_emulator, stop_emulator  # noqa: E402
from dns_wire import RCODES, TYPE_A, dns_query, encode_name, read_name  # noqa: E402

BINARY = None
SOURCE = None

TYPE_SOA, TYPE_AXFR = 6, 252
SUFFIX = "dev.gd.china.example.com"
COMET = f"goim.comet.{SUFFIX}"
JOB = f"goim.job.{SUFFIX}"
KEY_NAME = "xfr-key."


def new_secret():
    return base64.b64encode(os.urandom(32)).decode()


def free_port():
    """A port on 127.0.0.1 free for both TCP and UDP a moment ago (DNS listens on both)."""
    for _ in range(50):
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def serial_newer(a, b):
    """a is newer than b in serial number arithmetic (RFC 1982)."""
    return a != b and (a - b) % (1 << 32) < (1 << 31)


def soa_serial(port):
    """The example.com SOA serial a server answers over UDP, or None."""
    status, records = dns_query(port, "example.com", TYPE_SOA, tries=1, timeout=0.5)
    soa = [r[2] for r in records if r[0] == TYPE_SOA]
    if status != "NOERROR" or not soa:
        return None
    # The names before SERIAL may be compressed; the five counters end the RDATA.
    return int.from_bytes(soa[0][-20:-16], "big")


def addresses(port, name):
    """(rcode, sorted A addresses) for `name`, over UDP."""
    status, records = dns_query(port, name, TYPE_A, tries=1, timeout=0.5)
    return status, sorted(r[2] for r in records if r[0] == TYPE_A)


def answers_at_all(port):
    """Any answer to an SOA question, even SERVFAIL before a zone is loaded: the port is up."""
    return dns_query(port, "example.com", TYPE_SOA, tries=1, timeout=0.3)[0] != "TIMEOUT"


RCODE_NAMES = {**RCODES, 9: "NOTAUTH"}
TYPE_TSIG, TSIG_ERRORS = 250, {0: "NOERROR", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME"}


def tsig_rr(key_name, qid, mac, algorithm="hmac-sha256"):
    """A TSIG RR (RFC 8945 §4.2) carrying `mac` as is: a random one makes a wrongly signed
    request, enough to see the error a server answers."""
    now = int(time.time())
    rdata = encode_name(algorithm) + struct.pack(">HIH", now >> 32, now & 0xFFFFFFFF, 300) + \
        struct.pack(">H", len(mac)) + mac + struct.pack(">HHH", qid, 0, 0)
    return encode_name(key_name) + struct.pack(">HHIH", TYPE_TSIG, 255, 0, len(rdata)) + rdata


def tcp_axfr(port, name="example.com", tsig=None, timeout=10):
    """A hand-built AXFR over TCP: (rcode of the first message, [RR types of the answers in
    order], the TSIG error of the first message or None). tsig: (key name, mac bytes)."""
    qid = int.from_bytes(os.urandom(2), "big")
    query = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1 if tsig else 0) + encode_name(name) + \
        struct.pack(">HH", TYPE_AXFR, 1)
    if tsig:
        query += tsig_rr(tsig[0], qid, tsig[1])
    types, rcode, tsig_error = [], None, None
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(struct.pack(">H", len(query)) + query)
        stream = s.makefile("rb")
        while True:
            head = stream.read(2)
            if len(head) < 2:
                break  # closed
            msg = stream.read(struct.unpack(">H", head)[0])
            _, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
            off = 12
            for _ in range(qd):
                off = read_name(msg, off)[1] + 4
            for i in range(an + ns + ar):
                off = read_name(msg, off)[1]
                rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
                off += 10
                if i < an:
                    types.append(rtype)
                elif rtype == TYPE_TSIG and rcode is None:
                    at = read_name(msg, off)[1] + 8  # algorithm, time signed, fudge
                    at += 2 + struct.unpack(">H", msg[at:at + 2])[0] + 2  # MAC, original id
                    error = struct.unpack(">H", msg[at:at + 2])[0]
                    tsig_error = TSIG_ERRORS.get(error, str(error))
                off += rdlen
            if rcode is None:
                rcode = RCODE_NAMES.get(flags & 0xF, str(flags & 0xF))
            if flags & 0xF or types.count(TYPE_SOA) >= 2:
                break
    return rcode or "CLOSED", types, tsig_error


def kdig_axfr(port, key=None, timeout=120):
    """kdig's AXFR over TCP: (exit code, output, records received or None)."""
    cmd = ["kdig", "@127.0.0.1", "-p", str(port), "+tcp", "+timeout=10", "+retry=0",
           "AXFR", "example.com"]
    if key:
        cmd[1:1] = ["-y", key]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    text = out.stdout + out.stderr
    # ";; Received 9823 B (3 messages, 42 records)"
    m = re.search(r";; Received \d+ B \(\d+ messages?, (\d+) records?\)", text)
    return out.returncode, text, int(m.group(1)) if m else None


def wait_until(what, predicate, timeout, interval=0.05, detail=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s{detail()}")
        time.sleep(interval)


def log_tail(path, lines=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


# ---- secondaries: one class per server kind -----------------------------------------------

class Secondary:
    """A real secondary for example.com. on its own 127.0.0.1 port, taking the zone from the
    primary at 127.0.0.1:primary_port and accepting NOTIFY from 127.0.0.1; with `key`
    (name, algorithm, secret) transfers and NOTIFYs are signed with it. Its port is known
    before it starts, so the primary's notify list can name it."""
    kind = "?"

    def __init__(self, workdir, primary_port, key=None):
        self.dir = os.path.join(workdir, self.kind)
        os.makedirs(self.dir)
        self.port = free_port()
        self.primary_port = primary_port
        self.key = key
        self.proc = None
        self.log_path = os.path.join(self.dir, "log")

    def config(self):
        raise NotImplementedError

    def command(self):
        raise NotImplementedError

    def start(self, ready_timeout=20):
        self.write_config()
        with open(self.log_path, "a") as log:
            # A session of its own: NSD forks workers; stop() can reach them by the group id.
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir,
                                         start_new_session=True)
        self.wait_ready(ready_timeout)
        return self

    def write_config(self):
        path, text = self.config()
        with open(path, "w") as f:
            f.write(text)

    def wait_ready(self, timeout):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} exited with {self.proc.returncode}:\n"
                                     + log_tail(self.log_path))
            return answers_at_all(self.port)
        wait_until(f"{self.kind} listening on {self.port}", up, timeout, detail=self.detail)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # a group this class started; leftovers
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def serial(self):
        return soa_serial(self.port)

    def addresses(self, name):
        return addresses(self.port, name)

    def detail(self):
        return f"\n--- {self.kind} log ({self.log_path}):\n{log_tail(self.log_path)}"


class Nsd(Secondary):
    kind = "nsd"

    def command(self):
        return ["nsd", "-d", "-c", os.path.join(self.dir, "nsd.conf")]

    def config(self):
        d = self.dir
        key_name = self.key[0] if self.key else "NOKEY"
        key = (f'key:\n    name: "{self.key[0]}"\n    algorithm: {self.key[1]}\n'
               f'    secret: "{self.key[2]}"\n') if self.key else ""
        return os.path.join(d, "nsd.conf"), f'''server:
    ip-address: 127.0.0.1@{self.port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{d}"
    pidfile: "{d}/nsd.pid"
    database: ""
    zonelistfile: "{d}/zone.list"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    server-count: 1
    # NSD holds a new zone back up to this long after the last reload (default 1 s): what a
    # hidden primary's secondaries want is every change at once (README "Hidden primary").
    xfrd-reload-timeout: 0
    verbosity: 2
remote-control:
    control-enable: no
{key}zone:
    name: example.com
    zonefile: "{d}/example.com.zone"
    request-xfr: 127.0.0.1@{self.primary_port} {key_name}
    allow-notify: 127.0.0.1 {key_name}
'''


class Knot(Secondary):
    kind = "knot"

    def command(self):
        return ["knotd", "-c", os.path.join(self.dir, "knot.conf")]

    def config(self):
        d = self.dir
        key = (f"key:\n  - id: {self.key[0]}\n    algorithm: {self.key[1]}\n"
               f"    secret: {self.key[2]}\n") if self.key else ""
        use_key = f"    key: {self.key[0]}\n" if self.key else ""
        # Knot 3.2 (Debian 12) syntax. The zone lives in memory only: no zone file, no journal.
        return os.path.join(d, "knot.conf"), f'''server:
    listen: 127.0.0.1@{self.port}
    rundir: {d}
log:
  - target: stderr
    any: info
database:
    storage: {d}
{key}remote:
  - id: primary
    address: 127.0.0.1@{self.primary_port}
{use_key}acl:
  - id: notify-from-primary
    address: 127.0.0.1
    action: notify
{use_key}zone:
  - domain: example.com.
    storage: {d}
    master: primary
    acl: notify-from-primary
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
'''


class Bind(Secondary):
    kind = "bind"

    def command(self):
        # -g: foreground, logs on stderr; -4: IPv4 only; -n 1: one worker (two shared cores).
        return ["named", "-g", "-4", "-n", "1", "-c", os.path.join(self.dir, "named.conf")]

    def config(self):
        d = self.dir
        key = (f'key "{self.key[0]}" {{ algorithm {self.key[1]}; secret "{self.key[2]}"; }};\n'
               if self.key else "")
        use_key = f' key "{self.key[0]}"' if self.key else ""
        notify_from = f'key "{self.key[0]}";' if self.key else "127.0.0.1;"
        return os.path.join(d, "named.conf"), f'''options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    notify no;
    dnssec-validation no;
}};
controls {{ }};
{key}zone "example.com" {{
    type secondary;
    primaries port {self.primary_port} {{ 127.0.0.1{use_key}; }};
    file "{d}/example.com.db";
    allow-notify {{ {notify_from} }};
}};
'''


ALL_KINDS = (Knot, Nsd, Bind)


# ---- primaries ------------------------------------------------------------------------------

def instances_document(apps):
    """A fetch/all document: apps is {appid: [address, ...]}, one instance per address."""
    now = time.time_ns()
    return discodns_process.fetch_all_document([
        discodns_process.instance(appid, f"{appid.replace('.', '-')}-{i}", [f"grpc://{a}:9000"],
                                  now)
        for appid, addrs in apps.items() for i, a in enumerate(addrs)])


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Discodns:
    """The primary under test: discodns on a port chosen up front (the secondaries' configs name
    it, and it stays the same over a restart), NOTIFYing the `notify` ports. registry: the
    [[registry]] table's lines; transfer: the other [transfer] lines (default: allow
    127.0.0.1); zone: more [zone] lines; admin: an [admin] listen port (/metrics), or None.
    The config is written at each start()."""

    def __init__(self, workdir, registry, notify=(), transfer=None, zone=""):
        self.dir = workdir
        self.port = free_port()
        self.registry = registry
        self.notify = list(notify)
        self.transfer = 'allow = ["127.0.0.1"]' if transfer is None else transfer
        self.zone = zone
        self.admin = None
        self.config = os.path.join(workdir, "discodns.toml")
        self.log_path = os.path.join(workdir, "discodns.log")
        shutil.copy(os.path.join(SOURCE, "zones", "example.com.zone"), workdir)
        self.proc = None

    def write_config(self):
        notify = ", ".join(f'"127.0.0.1:{p}"' for p in self.notify)
        admin = f'[admin]\nlisten = "127.0.0.1:{self.admin}"\n' if self.admin else ""
        with open(self.config, "w") as f:
            f.write(f'''[server]
listen = ["127.0.0.1:{self.port}"]
workers = 1
[zone]
domain = "example.com"
file = "example.com.zone"
{self.zone}
[[registry]]
region = "china"
{self.registry}
[transfer]
notify = [{notify}]
{self.transfer}
[log]
level = "debug"
{admin}''')

    def start(self):
        self.write_config()
        with open(self.log_path, "a") as log:
            try:
                self.proc, port = discodns_process.start(BINARY, self.config, stderr=log)
            except RuntimeError as e:
                raise AssertionError(f"{e}\n--- discodns log:\n{log_tail(self.log_path)}") \
                    from None
        assert port == self.port, (port, self.port)
        return self

    def stop(self):
        if self.proc is None:
            return None
        code = discodns_process.stop(self.proc, timeout=15)
        self.proc.stdout.close()
        self.proc = None
        return code

    def serial(self):
        return soa_serial(self.port)

    def detail(self):
        return f"\n--- discodns log ({self.log_path}):\n{log_tail(self.log_path, 40)}"


def file_registry(path, interval="100ms"):
    return f'source = "file"\nfile = "{path}"\nfile_check_interval = "{interval}"'


class StandIn:
    """Not discodns: a Knot primary serving a static example.com zone file, to check the
    secondaries' configs on their own. set() writes the zone and reloads it (Knot NOTIFYs)."""

    def __init__(self, workdir, notify=(), key=None):
        self.dir = os.path.join(workdir, "standin")
        os.makedirs(self.dir)
        self.port = free_port()
        self.notify = notify
        self.key = key
        self.proc = None
        self.log_path = os.path.join(self.dir, "log")

    def set(self, serial, addrs):
        zone = [f"@ IN SOA ns1 hostmaster {serial} 3600 600 604800 30", "@ IN NS ns1",
                "ns1 IN A 127.0.0.1"] + [f"goim.comet.{SUFFIX}. IN A {a}" for a in addrs]
        write_atomically(os.path.join(self.dir, "example.com.zone"),
                         "$ORIGIN example.com.\n$TTL 30\n" + "\n".join(zone) + "\n")
        if self.proc is not None:
            subprocess.run(["knotc", "-s", os.path.join(self.dir, "knot.sock"), "zone-reload",
                            "example.com."], check=True, capture_output=True, timeout=10)

    def start(self, serial, addrs):
        d = self.dir
        key = (f"key:\n  - id: {self.key[0]}\n    algorithm: {self.key[1]}\n"
               f"    secret: {self.key[2]}\n") if self.key else ""
        use_key = f"    key: {self.key[0]}\n" if self.key else ""
        remotes = "".join(f"  - id: s{p}\n    address: 127.0.0.1@{p}\n{use_key}"
                          for p in self.notify)
        notify = f"    notify: [{', '.join(f's{p}' for p in self.notify)}]\n" if remotes else ""
        with open(os.path.join(d, "knot.conf"), "w") as f:
            f.write(f'''server:
    listen: 127.0.0.1@{self.port}
    rundir: {d}
log:
  - target: stderr
    any: info
database:
    storage: {d}
{key}{"remote:" if remotes else ""}
{remotes}acl:
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
{use_key}zone:
  - domain: example.com.
    storage: {d}
    file: example.com.zone
    acl: transfer
{notify}    zonefile-sync: -1
    zonefile-load: difference
    journal-content: changes
''')
        self.set(serial, addrs)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(["knotd", "-c", os.path.join(d, "knot.conf")],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        wait_until("stand-in primary serving", lambda: soa_serial(self.port) == serial, 15,
                   detail=lambda: "\n" + log_tail(self.log_path))
        return self

    def detail(self):
        return f"\n--- stand-in primary log ({self.log_path}):\n{log_tail(self.log_path)}"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- test cases -----------------------------------------------------------------------------

class Case(unittest.TestCase):
    """A temporary directory; every server started through here is stopped at the end."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="discodns-xfr-")
        if not os.environ.get("DISCODNS_KEEP_TMP"):  # set it to read the servers' logs after
            self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.secondaries = []
        self.primary = None

    def make_secondaries(self, primary_port, kinds=ALL_KINDS, key=None):
        """The secondaries' objects, ports chosen, not started yet."""
        made = [kind(self.dir, primary_port, key) for kind in kinds]
        for s in made:
            self.secondaries.append(s)
            self.addCleanup(s.stop)
        return made

    def start_secondaries(self):
        for s in self.secondaries:
            s.start()

    def discodns(self, registry, transfer=None, kinds=ALL_KINDS, key=None, zone=""):
        """discodns as the primary, NOTIFYing secondaries of `kinds`, which are started too and
        ready to query. The ports are chosen first: discodns's notify list names the
        secondaries', their configs name discodns's."""
        dns = Discodns(self.dir, registry, transfer=transfer, zone=zone)
        self.primary = dns
        self.addCleanup(dns.stop)
        dns.notify = [s.port for s in self.make_secondaries(dns.port, kinds, key)]
        dns.start()
        self.start_secondaries()
        return dns

    def detail(self):
        parts = [s.detail() for s in self.secondaries]
        if self.primary is not None:
            parts.append(self.primary.detail())
        return "".join(parts)

    def wait_all(self, what, predicate, timeout=10.0, interval=0.02, since=None):
        """Polls every secondary until predicate(secondary) holds for each; returns the
        seconds each took from `since` (default: now)."""
        self.assertTrue(self.secondaries, "no secondary to wait for")
        start = since if since is not None else time.monotonic()
        done = {}
        while True:
            for s in self.secondaries:
                if s.kind not in done and predicate(s):
                    done[s.kind] = time.monotonic() - start
            if len(done) == len(self.secondaries):
                return done
            if time.monotonic() - start > timeout:
                late = [s.kind for s in self.secondaries if s.kind not in done]
                raise AssertionError(f"{what}: {', '.join(late)} not within {timeout} s "
                                     f"(the others: {done}){self.detail()}")
            time.sleep(interval)

    def wait_in_sync(self, timeout=15.0):
        """Every secondary serves discodns's current serial (read again at each poll: it may
        move meanwhile); returns that serial."""
        def same(s):
            serial = self.primary.serial()
            return serial is not None and s.serial() == serial
        self.wait_all("discodns's serial", same, timeout)
        serial = self.primary.serial()
        self.assertIsNotNone(serial, "discodns answers no SOA")
        return serial


def report(what, latencies):
    print(f"\n  {what}: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in
                                      sorted(latencies.items())), file=sys.stderr, flush=True)


class SecondariesAlone(Case):
    """The harness itself, against a Knot primary with a static zone (no discodns): each
    secondary's config transfers the zone and follows a NOTIFY, with and without TSIG."""

    def run_standin(self, key=None):
        primary = self.primary = StandIn(self.dir, key=key)
        self.addCleanup(primary.stop)
        self.make_secondaries(primary.port, key=key)
        primary.notify = [s.port for s in self.secondaries]
        primary.start(100, ["10.0.0.1"])
        self.start_secondaries()
        self.wait_all("first transfer", lambda s: s.serial() == 100, timeout=15)
        self.wait_all("first RRset", lambda s: s.addresses(COMET) == ("NOERROR", ["10.0.0.1"]),
                      timeout=5)
        t0 = time.monotonic()
        primary.set(101, ["10.0.0.1", "10.0.0.2"])
        took = self.wait_all("NOTIFY", lambda s: s.addresses(COMET)[1] == ["10.0.0.1",
                                                                           "10.0.0.2"], since=t0)
        report("stand-in change" + (" (TSIG)" if key else ""), took)

    def test_transfer_and_notify(self):
        self.run_standin()

    def test_transfer_and_notify_with_tsig(self):
        self.run_standin(key=(KEY_NAME, "hmac-sha256", new_secret()))


REGISTRY_FILE = "registry.json"
FIRST = {"goim.comet": ["10.0.0.1", "10.0.0.2", "10.0.0.3"], "goim.job": ["10.0.1.1"]}


class FileSourceCase(Case):
    TRANSFER = None  # [transfer] lines; None: allow 127.0.0.1
    KINDS = ALL_KINDS
    KEY = None
    ZONE = ""  # more [zone] lines

    def setUp(self):
        super().setUp()
        self.registry = os.path.join(self.dir, REGISTRY_FILE)
        self.write_registry(FIRST)
        self.dns = self.discodns(file_registry(self.registry), self.TRANSFER, self.KINDS,
                                 self.KEY, self.ZONE)

    def write_registry(self, apps):
        write_atomically(self.registry, json.dumps(instances_document(apps)))


class InitialTransfer(FileSourceCase):
    TRANSFER = 'allow = ["127.0.0.1", "::1"]\nttl = "30s"'

    def test_every_secondary_serves_the_services_at_discodns_serial(self):
        serial = self.wait_in_sync()
        for s in self.secondaries:
            for name, addrs in ((COMET, FIRST["goim.comet"]), (JOB, FIRST["goim.job"])):
                self.assertEqual(s.addresses(name), ("NOERROR", sorted(addrs)), s.kind)
            # [transfer] ttl: what the secondaries got.
            _, records = dns_query(s.port, COMET, TYPE_A, tries=2)
            self.assertEqual({r[1] for r in records}, {30}, s.kind)
            self.assertEqual(s.serial(), serial, s.kind)
        self.assertEqual(self.dns.serial(), serial)


class NotifyChanges(FileSourceCase):
    def test_added_and_removed_instances_reach_every_secondary(self):
        before = self.wait_in_sync()
        # Add an instance.
        added = dict(FIRST, **{"goim.comet": FIRST["goim.comet"] + ["10.0.0.4"]})
        t0 = time.monotonic()
        self.write_registry(added)
        want = sorted(added["goim.comet"])
        took = self.wait_all("the added instance", lambda s: s.addresses(COMET)[1] == want,
                             since=t0)
        report("add one instance", took)
        # Remove one (and an app altogether).
        removed = {"goim.comet": ["10.0.0.1", "10.0.0.4"]}
        t0 = time.monotonic()
        self.write_registry(removed)
        took = self.wait_all("the removal", lambda s: s.addresses(COMET)[1] == ["10.0.0.1",
                                                                             "10.0.0.4"]
                             and s.addresses(JOB)[0] == "NXDOMAIN", since=t0)
        report("remove instances", took)
        after = self.wait_in_sync()
        self.assertTrue(serial_newer(after, before), (after, before))


class EmulatorCase(Case):
    """discodns following the registry emulator (a live discovery node)."""

    def setUp(self):
        super().setUp()
        proc, port = start_emulator(zone="gd", env="dev", time_factor=1)
        self.addCleanup(stop_emulator, proc)
        self.registry = Client(port)
        self.addCleanup(self.registry.close)
        self.registry.register("goim.comet", "comet-1", ["grpc://10.0.0.11:3109"])
        self.state = os.path.join(self.dir, "state.json")
        self.dns = self.discodns(
            f'source = "discovery"\nnodes = ["127.0.0.1:{port}"]\nstate_file = "{self.state}"')

    def register_and_wait(self, host, addr, want):
        t0 = time.monotonic()
        self.assertEqual(self.registry.register("goim.comet", host, [f"grpc://{addr}:3109"])
                         ["code"], 0)
        return self.wait_all(f"{host} registered", lambda s: s.addresses(COMET)[1] == want,
                             since=t0)


class LiveRegistry(EmulatorCase):
    def test_a_registered_instance_reaches_every_secondary(self):
        self.wait_all("the first instance",
                      lambda s: s.addresses(COMET) == ("NOERROR", ["10.0.0.11"]), timeout=15)
        report("register (emulator)",
               self.register_and_wait("comet-2", "10.0.0.12", ["10.0.0.11", "10.0.0.12"]))
        t0 = time.monotonic()
        self.registry.cancel("goim.comet", "comet-1")
        report("cancel (emulator)", self.wait_all(
            "comet-1 cancelled", lambda s: s.addresses(COMET)[1] == ["10.0.0.12"], since=t0))
        self.wait_in_sync()


class Restart(EmulatorCase):
    def test_secondaries_follow_a_restarted_primary(self):
        self.wait_all("the first instance",
                      lambda s: s.addresses(COMET) == ("NOERROR", ["10.0.0.11"]), timeout=15)
        before = self.wait_in_sync()
        self.assertEqual(self.dns.stop(), 0)
        # A change while discodns is down: it finds it at start (the state file has the old
        # data) and NOTIFYs a newer serial.
        self.registry.register("goim.comet", "comet-2", ["grpc://10.0.0.12:3109"])
        self.dns.start()
        took = self.wait_all("the change made while discodns was down",
                             lambda s: s.addresses(COMET)[1] == ["10.0.0.11", "10.0.0.12"],
                             timeout=15)
        report("restart with new data", took)
        middle = self.wait_in_sync()
        self.assertTrue(serial_newer(middle, before), (middle, before))
        # And a change after the restart.
        report("register after restart", self.register_and_wait(
            "comet-3", "10.0.0.13", ["10.0.0.11", "10.0.0.12", "10.0.0.13"]))
        after = self.wait_in_sync()
        self.assertTrue(serial_newer(after, middle), (after, middle))
        # A restart with no change at all: the serial does not go back, and nobody is stuck.
        self.assertEqual(self.dns.stop(), 0)
        self.dns.start()
        again = self.dns.serial()
        self.assertTrue(again == after or serial_newer(again, after), (again, after))
        report("register after a restart without change", self.register_and_wait(
            "comet-4", "10.0.0.14", ["10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14"]))
        self.wait_in_sync()


class RestartFileSource(FileSourceCase):
    """A file source has no state_file: [zone] serial_file keeps the serial over a restart.
    (Without it the serial restarts from max(zone file floor, clock), behind what the
    secondaries hold after a few changes: they would ignore the restarted primary.)"""
    ZONE = 'serial_file = "discodns.serial"'

    def change(self, apps, what):
        t0 = time.monotonic()
        self.write_registry(apps)
        want = sorted(apps["goim.comet"])
        report(what, self.wait_all(what, lambda s: s.addresses(COMET)[1] == want, since=t0))

    def test_secondaries_follow_a_restarted_primary(self):
        self.wait_in_sync()
        # A few changes: the serial moves past the zone file's floor and the clock's second.
        for n in (4, 5):
            self.change({"goim.comet": [f"10.0.0.{i}" for i in range(1, n + 1)]},
                        f"{n} instances")
        before = self.wait_in_sync()
        self.assertEqual(self.dns.stop(), 0)
        # The data changes while discodns is down: it serves them at start, at a newer serial.
        self.write_registry({"goim.comet": ["10.0.0.9"]})
        self.dns.start()
        self.assertTrue(serial_newer(self.dns.serial(), before), (self.dns.serial(), before))
        t0 = time.monotonic()
        report("restart with new data", self.wait_all(
            "the data changed while discodns was down",
            lambda s: s.addresses(COMET)[1] == ["10.0.0.9"], timeout=15, since=t0))
        middle = self.wait_in_sync()
        self.change({"goim.comet": ["10.0.0.9", "10.0.0.10"]}, "a change after the restart")
        self.assertTrue(serial_newer(self.wait_in_sync(), middle))


def tsig_transfer(secret):
    """[transfer] allowing 127.0.0.1 with the key KEY_NAME."""
    return f'''allow = ["127.0.0.1"]
[transfer.tsig]
name = "{KEY_NAME}"
algorithm = "hmac-sha256"
secret = "{secret}"'''


class Refused(Case):
    """Who may not transfer the zone: a source outside [transfer] allow, anyone when allow is
    empty, and a request without the [transfer.tsig] key; and TSIG on plain queries."""

    def setUp(self):
        super().setUp()
        self.registry = os.path.join(self.dir, REGISTRY_FILE)
        write_atomically(self.registry, json.dumps(instances_document(FIRST)))

    def test_a_source_outside_allow_is_refused(self):
        dns = self.discodns(file_registry(self.registry), 'allow = ["127.0.0.2"]', kinds=())
        self.assertEqual(tcp_axfr(dns.port), ("REFUSED", [], None))
        code, out, _ = kdig_axfr(dns.port)
        self.assertNotEqual(code, 0, out)
        self.assertIn("REFUSED", out)
        # Queries still answer.
        self.assertEqual(addresses(dns.port, COMET)[1], sorted(FIRST["goim.comet"]))

    def test_transfers_are_off_by_default(self):
        dns = self.discodns(file_registry(self.registry), "", kinds=())
        self.assertEqual(tcp_axfr(dns.port), ("REFUSED", [], None))

    def test_tsig_key_required(self):
        secret = new_secret()
        dns = self.discodns(file_registry(self.registry), kinds=(), transfer=tsig_transfer(
            secret))
        # Unsigned: no records (REFUSED or NOTAUTH: RFC 8945 leaves it to the server).
        rcode, types, _ = tcp_axfr(dns.port)
        self.assertIn(rcode, ("REFUSED", "NOTAUTH"))
        self.assertEqual(types, [])
        # On the wire: a MAC that does not verify is NOTAUTH with TSIG error BADSIG; a key
        # name discodns does not have, NOTAUTH with BADKEY (RFC 8945 §5.2).
        self.assertEqual(tcp_axfr(dns.port, tsig=(KEY_NAME, os.urandom(32))),
                         ("NOTAUTH", [], "BADSIG"))
        self.assertEqual(tcp_axfr(dns.port, tsig=("other-key.", os.urandom(32))),
                         ("NOTAUTH", [], "BADKEY"))
        # kdig with a wrong secret, and with an unknown key name: it prints the TSIG error.
        code, out, _ = kdig_axfr(dns.port, key=f"hmac-sha256:{KEY_NAME}:{new_secret()}")
        self.assertNotEqual(code, 0, out)
        self.assertIn("BADSIG", out)
        code, out, _ = kdig_axfr(dns.port, key=f"hmac-sha256:other-key.:{secret}")
        self.assertNotEqual(code, 0, out)
        self.assertIn("BADKEY", out)
        # The right key: the whole zone, every message signed (kdig verifies each).
        code, out, count = kdig_axfr(dns.port, key=f"hmac-sha256:{KEY_NAME}:{secret}")
        self.assertEqual(code, 0, out)
        self.assertNotIn("WARNING", out)
        self.assertIsNotNone(count, out)
        self.assertGreaterEqual(count, 2 + sum(len(a) for a in FIRST.values()), out)
        for addr in FIRST["goim.comet"]:
            self.assertRegex(out, re.escape(COMET) + r"\.\s+\d+\s+IN\s+A\s+" + re.escape(addr))


    def test_a_signed_soa_query_gets_a_signed_answer(self):
        # RFC 8945 §5.3: a signed request gets a signed answer. Secondaries with a key sign
        # their refresh SOA query; BIND drops an unsigned answer ("expected a TSIG or SIG(0)").
        secret = new_secret()
        dns = self.discodns(file_registry(self.registry), kinds=(), transfer=tsig_transfer(
            secret))
        for transport in ("+notcp", "+tcp"):
            out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(dns.port), transport, "-y",
                                  f"hmac-sha256:{KEY_NAME}:{secret}", "SOA", "example.com"],
                                 capture_output=True, text=True, timeout=10)
            text = out.stdout + out.stderr
            self.assertIn("status: NOERROR", text)
            self.assertNotIn("WARNING", text, transport)
            self.assertRegex(text, re.escape(KEY_NAME) + r"\s+0\s+ANY\s+TSIG\s", transport)


class TsigFollow:
    """A secondary holding the key (transfers and NOTIFYs signed) follows a change. One
    secondary per test: each kind checks its replies to its own signed queries differently."""
    SECRET = new_secret()
    KEY = (KEY_NAME, "hmac-sha256", SECRET)
    TRANSFER = tsig_transfer(SECRET)

    def test_signed_transfers_follow_a_change(self):
        before = self.wait_in_sync()
        added = dict(FIRST, **{"goim.comet": FIRST["goim.comet"] + ["10.0.0.4"]})
        t0 = time.monotonic()
        self.write_registry(added)
        want = sorted(added["goim.comet"])
        report("signed NOTIFY + transfer", self.wait_all(
            "the added instance", lambda s: s.addresses(COMET)[1] == want, since=t0))
        self.assertTrue(serial_newer(self.wait_in_sync(), before))


class TsigKnot(TsigFollow, FileSourceCase):
    KINDS = (Knot,)


class TsigNsd(TsigFollow, FileSourceCase):
    KINDS = (Nsd,)


class TsigBind(TsigFollow, FileSourceCase):
    KINDS = (Bind,)


class BigZone(Case):
    """100,000 instances (10,000 apps x 10): a full AXFR with kdig, then Knot loading it."""
    APPS, PER_APP = 10_000, 10

    def test_axfr_and_a_knot_secondary(self):
        t0 = time.monotonic()
        registry = os.path.join(self.dir, REGISTRY_FILE)
        now = time.time_ns()
        data = {}
        for app in range(self.APPS):
            appid = f"svc{app}.team{app % 37}"
            data[appid] = [discodns_process.instance(
                appid, f"h{i}", [f"grpc://10.{app >> 8 & 255}.{app & 255}.{i + 1}:9000"], now)
                for i in range(self.PER_APP)]
        write_atomically(registry, json.dumps({"code": 0, "message": "0", "ttl": 1,
                                               "data": data}))
        dns = Discodns(self.dir, file_registry(registry, "1s"))
        self.primary = dns
        self.addCleanup(dns.stop)
        knot, = self.make_secondaries(dns.port, kinds=(Knot,))  # started after the AXFR
        dns.notify = [knot.port]
        dns.start()
        print(f"\n  {self.APPS * self.PER_APP} instances written, discodns ready in "
              f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
        serial = dns.serial()
        t0 = time.monotonic()
        code, out, count = kdig_axfr(dns.port)
        took = time.monotonic() - t0
        self.assertEqual(code, 0, out[-2000:])
        self.assertIsNotNone(count, out[-2000:])
        self.assertGreaterEqual(count, self.APPS * self.PER_APP + 2)
        print(f"  kdig AXFR: {count} records in {took:.2f} s", file=sys.stderr)
        t0 = time.monotonic()
        knot.start()
        self.wait_all(f"Knot at serial {serial}", lambda s: s.serial() == serial, timeout=60,
                      interval=0.2, since=t0)
        print(f"  Knot transferred and loaded it in {time.monotonic() - t0:.2f} s",
              file=sys.stderr)
        self.assertEqual(knot.addresses(f"svc9999.team9.{SUFFIX}")[1],
                         sorted(f"10.39.15.{i + 1}" for i in range(self.PER_APP)))


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    SOURCE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
