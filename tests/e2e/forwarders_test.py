#!/usr/bin/env python3
"""End-to-end: programs that only know resolv.conf find discodns names through real forwarding
resolvers. discodns runs on a free loopback port; a real dnsmasq and a real unbound each listen
on their own loopback address on port 53 (glibc only talks to port 53) and forward only
example.com to it. Then dig asks the forwarders, and glibc's getaddrinfo (`getent ahosts`) asks
them through a private resolv.conf bind-mounted in a private mount namespace (`unshare -m`):
the host's /etc/resolv.conf is never touched.

The forwarder configurations are the recipes of tests/e2e/FORWARDING.md, plus a sandbox that
answers NXDOMAIN for every name outside example.com, so that no query ever leaves 127.0.0.0/8.

Needs root (port 53, mount namespaces); dnsmasq (Debian package dnsmasq-base) and unbound.
A missing forwarder, or no way to bind port 53, skips that forwarder's cases with a message;
no mount namespace skips only the getaddrinfo cases.

usage: forwarders_test.py DISCODNS_BINARY SOURCE_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discodns_process  # noqa: E402

BINARY = None
SOURCE = None
DOMAIN = "example.com"
SERVICE = "goim.comet.dev.gd.china.example.com"
SEARCH = "dev.gd.china.example.com"
MISSING = "nosuch.dev.gd.china.example.com"


def registry_document(now_ns):
    def inst(host, addrs, weight):
        return discodns_process.instance("goim.comet", host, addrs, now_ns, weight)

    return discodns_process.fetch_all_document([
        inst("comet-1", ["grpc://10.0.0.11:3109", "http://10.0.0.11:3111"], "10"),
        inst("comet-2", ["grpc://10.0.0.12:3109", "http://10.0.0.12:3111"], "20"),
        inst("comet-3", ["grpc://[fd00::13]:3109"], "30"),
    ])


def run(args, timeout=20):
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return f"TIMEOUT after {timeout}s: {args}\n{e.stdout or ''}{e.stderr or ''}"
    return out.stdout + out.stderr


def tail(path, n=4000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return ""


class Discodns:
    """The real binary with a generated config and registry file, on a free loopback port."""

    def __init__(self, workdir):
        self.dir = workdir
        with open(os.path.join(self.dir, "registry.json"), "w") as f:
            json.dump(registry_document(time.time_ns()), f)
        self.config = os.path.join(self.dir, "discodns.toml")
        with open(self.config, "w") as f:
            f.write(f'''[server]
listen = ["127.0.0.1:0"]
workers = 2

[zone]
domain = "{DOMAIN}"
file = "{SOURCE}/zones/example.com.zone"

[[registry]]
region = "china"
source = "file"
file = "registry.json"
''')
        self.log = os.path.join(self.dir, "discodns.log")
        with open(self.log, "w") as err:
            try:
                self.proc, self.port = discodns_process.start(BINARY, self.config, stderr=err)
            except RuntimeError as e:
                raise RuntimeError(f"{e}\n{tail(self.log)}") from None

    def stop(self):
        code = discodns_process.stop(self.proc)
        self.proc.stdout.close()
        return code


def port53_allowed():
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
            return int(f.read()) <= 53
    except (OSError, ValueError):
        return False


_unshare_ok = None


def mount_namespace_problem():
    """None if `unshare -m` + bind-mounting over /etc/resolv.conf works here, else why not."""
    global _unshare_ok
    if _unshare_ok is None:
        if not shutil.which("unshare") or not shutil.which("getent"):
            _unshare_ok = "unshare or getent not installed"
        else:
            with tempfile.NamedTemporaryFile("w", prefix="resolv-probe-", delete=False) as f:
                f.write("# discodns forwarders_test probe\n")
            try:
                out = subprocess.run(
                    ["unshare", "-m", "sh", "-c",
                     f"mount --bind {f.name} /etc/resolv.conf && cat /etc/resolv.conf"],
                    capture_output=True, text=True, timeout=10)
                ok = out.returncode == 0 and "forwarders_test probe" in out.stdout
                _unshare_ok = "" if ok else ("`unshare -m` + `mount --bind` over "
                                             "/etc/resolv.conf failed (no permission or no mount "
                                             "namespaces): " + out.stderr.strip())
            except subprocess.TimeoutExpired:
                _unshare_ok = "`unshare -m` timed out"
            finally:
                os.unlink(f.name)
    return _unshare_ok or None


class ForwarderCase:
    """The cases every forwarder must pass. Subclasses start one forwarder on self.ADDRESS:53."""

    NAME = None          # human name, for messages
    EXECUTABLE = None    # binary that must exist
    ADDRESS = None       # loopback address it listens on, port 53

    @classmethod
    def setUpClass(cls):
        exe = shutil.which(cls.EXECUTABLE) or shutil.which(cls.EXECUTABLE, path="/usr/sbin:/sbin")
        if not exe:
            raise unittest.SkipTest(f"{cls.NAME}: `{cls.EXECUTABLE}` is not installed "
                                    f"(Debian package: {cls.PACKAGE}); forwarding through "
                                    f"{cls.NAME} not tested")
        if not port53_allowed():
            raise unittest.SkipTest(f"{cls.NAME}: cannot bind port 53 (not root); "
                                    "forwarding not tested")
        cls.dir = tempfile.mkdtemp(prefix=f"discodns-fwd-{cls.EXECUTABLE}-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.discodns = Discodns(cls.dir)
        cls.addClassCleanup(cls._stop_discodns)
        cls.port = cls.discodns.port
        cls.log = os.path.join(cls.dir, cls.EXECUTABLE + ".log")
        args = cls.forwarder_command(exe)
        with open(cls.log, "w") as log:
            cls.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)
        cls.addClassCleanup(discodns_process.stop, cls.proc)
        # Ready when it answers (anything) on ADDRESS:53.
        deadline = time.time() + 15
        while True:
            if cls.proc.poll() is not None:
                raise RuntimeError(f"{cls.NAME} exited with {cls.proc.returncode}: "
                                   + tail(cls.log))
            out = run(["dig", "@" + cls.ADDRESS, "+tries=1", "+time=1", "SOA", DOMAIN],
                      timeout=5)
            if "status: NOERROR" in out:
                break
            if time.time() > deadline:
                raise RuntimeError(f"{cls.NAME} on {cls.ADDRESS}:53 not answering: {out}\n"
                                   + tail(cls.log))
            time.sleep(0.2)

    @classmethod
    def _stop_discodns(cls):
        code = cls.discodns.stop()
        if code != 0:
            raise AssertionError(f"discodns exited with {code}: " + tail(cls.discodns.log))

    # ----- helpers

    def dig(self, *args):
        return run(["dig", "@" + self.ADDRESS, "+tries=1", "+time=3", *args])

    def getent(self, resolv_conf, *args):
        """`getent ARGS` as glibc sees it with RESOLV_CONF as /etc/resolv.conf, in a private
        mount namespace."""
        problem = mount_namespace_problem()
        if problem:
            self.skipTest("getaddrinfo cases skipped: " + problem)
        path = os.path.join(self.dir, "resolv.conf")
        with open(path, "w") as f:
            f.write(resolv_conf)
        script = 'mount --bind "$1" /etc/resolv.conf && shift && exec getent "$@"'
        return run(["unshare", "-m", "sh", "-c", script, "sh", path, *args], timeout=30)

    # ----- dig through the forwarder

    def test_srv_through_forwarder(self):
        out = self.dig("SRV", "_grpc._tcp." + SERVICE)
        self.assertIn("status: NOERROR", out)
        self.assertRegex(out, r"flags: qr (aa )?rd ra;", out)  # RA: it came through the forwarder
        self.assertIn("0 10 3109 comet-1." + SERVICE + ".", out)
        self.assertIn("0 20 3109 comet-2." + SERVICE + ".", out)
        self.assertIn("0 30 3109 comet-3." + SERVICE + ".", out)
        self.assertIn("ANSWER: 3,", out)
        out = self.dig("+short", "SRV", "_http._tcp." + SERVICE)
        self.assertEqual(sorted(out.split("\n")),
                         ["", "0 10 3111 comet-1." + SERVICE + ".",
                          "0 20 3111 comet-2." + SERVICE + "."], out)

    def test_a_aaaa_txt_through_forwarder(self):
        out = self.dig("+short", "A", SERVICE)
        self.assertEqual(sorted(out.split()), ["10.0.0.11", "10.0.0.12"], out)
        self.assertEqual(self.dig("+short", "AAAA", SERVICE).split(), ["fd00::13"])
        self.assertIn('"weight=20"', self.dig("+short", "TXT", "comet-2." + SERVICE))

    def test_nxdomain_with_soa_and_negative_caching(self):
        name = f"nosuch-{self.EXECUTABLE}.{SEARCH}"
        out = self.dig("A", name)
        self.assertIn("status: NXDOMAIN", out)
        self.assertRegex(out, r"AUTHORITY SECTION:\n" + re.escape(DOMAIN) + r"\.\s+\d+\s+IN\s+SOA\s",
                         out)
        # Negative caching: with discodns frozen, the forwarder still answers NXDOMAIN, from its
        # cache (the SOA minimum, 30 s, is the negative TTL).
        os.kill(self.discodns.proc.pid, signal.SIGSTOP)
        try:
            cached = self.dig("A", name)
            # A name it has not seen gets no NXDOMAIN meanwhile (a timeout or SERVFAIL): the
            # answer above really came from the cache.
            uncached = run(["dig", "@" + self.ADDRESS, "+tries=1", "+time=2", "A",
                            "other-" + name])
        finally:
            os.kill(self.discodns.proc.pid, signal.SIGCONT)
        self.assertIn("status: NXDOMAIN", cached)
        self.assertRegex(cached, r"IN\s+SOA\s", cached)
        self.assertNotIn("status: NXDOMAIN", uncached)

    def test_empty_non_terminal_through_forwarder(self):
        out = self.dig("A", SEARCH)
        self.assertIn("status: NOERROR", out)
        self.assertIn("ANSWER: 0,", out)

    def test_names_outside_the_zone_stay_local(self):
        # The sandbox part of the test configuration: nothing leaves 127.0.0.0/8.
        self.assertIn("status: NXDOMAIN", self.dig("A", "comet."))

    # ----- glibc getaddrinfo through the forwarder, via resolv.conf

    def resolv(self, extra=""):
        return f"nameserver {self.ADDRESS}\n{extra}options timeout:2 attempts:1\n"

    def test_getaddrinfo_fqdn(self):
        out = self.getent(self.resolv(), "ahosts", SERVICE)
        self.assertIn("10.0.0.11", out)
        self.assertIn("10.0.0.12", out)
        out = self.getent(self.resolv(), "ahostsv4", "comet-1." + SERVICE)
        self.assertEqual(set(re.findall(r"^(\S+)\s", out, re.M)), {"10.0.0.11"}, out)

    def test_getaddrinfo_search_domain_ndots_2(self):
        # ndots:2 > the one dot in "goim.comet": the search domain is tried first.
        out = self.getent(self.resolv(f"search {SEARCH}\noptions ndots:2\n"), "ahosts", "goim.comet")
        self.assertIn("10.0.0.11", out)
        self.assertIn("10.0.0.12", out)
        self.assertIn(SERVICE, out)  # the canonical name getaddrinfo reports

    def test_getaddrinfo_search_domain_ndots_1(self):
        # ndots:1 <= one dot: "goim.comet." is tried first (NXDOMAIN), then the search domain.
        out = self.getent(self.resolv(f"search {SEARCH}\noptions ndots:1\n"), "ahosts", "goim.comet")
        self.assertIn("10.0.0.11", out)
        self.assertIn("10.0.0.12", out)

    def test_getaddrinfo_missing_name_fails(self):
        out = self.getent(self.resolv(f"search {SEARCH}\noptions ndots:2\n"), "ahosts", "nosuch.app")
        self.assertNotRegex(out, r"\d+\.\d+\.\d+\.\d+", out)


class Dnsmasq(ForwarderCase, unittest.TestCase):
    NAME = "dnsmasq"
    EXECUTABLE = "dnsmasq"
    PACKAGE = "dnsmasq-base"
    ADDRESS = "127.0.0.77"

    @classmethod
    def forwarder_command(cls, exe):
        return [exe, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                f"--pid-file={cls.dir}/dnsmasq.pid", "--log-facility=-",
                f"--listen-address={cls.ADDRESS}", "--bind-interfaces", "--port=53",
                # the recipe:
                f"--server=/{DOMAIN}/127.0.0.1#{cls.port}",
                # sandbox: every other name is NXDOMAIN, never forwarded
                "--address=/#/"]


class UnboundBase(ForwarderCase):
    EXECUTABLE = "unbound"
    PACKAGE = "unbound"
    ZONE = None  # "stub" or "forward"

    @classmethod
    def forwarder_command(cls, exe):
        conf = os.path.join(cls.dir, "unbound.conf")
        if cls.ZONE == "stub":
            zone = f'stub-zone:\n    name: "{DOMAIN}"\n    stub-addr: 127.0.0.1@{cls.port}\n'
        else:
            zone = (f'forward-zone:\n    name: "{DOMAIN}"\n'
                    f'    forward-addr: 127.0.0.1@{cls.port}\n')
        with open(conf, "w") as f:
            f.write(f'''server:
    interface: {cls.ADDRESS}
    port: 53
    do-ip6: no
    num-threads: 1
    so-reuseport: no
    chroot: ""
    username: ""
    directory: "{cls.dir}"
    pidfile: "{cls.dir}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    # no DNSSEC validation, so no trust anchor (and no network to fetch one)
    module-config: "iterator"
    # the recipe:
    do-not-query-localhost: no
    domain-insecure: "{DOMAIN}"
    # sandbox: every name outside {DOMAIN} is NXDOMAIN, the root servers are never asked
    local-zone: "." static
    local-zone: "{DOMAIN}." transparent

remote-control:
    control-enable: no

{zone}''')
        check = subprocess.run(["unbound-checkconf", conf], capture_output=True, text=True,
                               timeout=30) if shutil.which("unbound-checkconf") else None
        if check is not None and check.returncode != 0:
            raise RuntimeError("unbound-checkconf: " + check.stdout + check.stderr)
        return [exe, "-d", "-c", conf]


class UnboundStubZone(UnboundBase, unittest.TestCase):
    NAME = "unbound (stub-zone)"
    ADDRESS = "127.0.0.78"
    ZONE = "stub"


class UnboundForwardZone(UnboundBase, unittest.TestCase):
    NAME = "unbound (forward-zone)"
    ADDRESS = "127.0.0.79"
    ZONE = "forward"


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    SOURCE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
