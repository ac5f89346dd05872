"""Starting the real discodns binary for end-to-end tests and benchmarks: `--check-config`
first, then `--config`, then wait (bounded) for the readiness line on stdout,
`discodns ready udp=127.0.0.1:PORT[,...] tcp=...`. Also the registry snapshot documents the
tests serve (discovery's /discovery/fetch/all shape)."""
import re
import signal
import socket
import subprocess

# The first UDP endpoint's port: "127.0.0.1:PORT", "0.0.0.0:PORT" or "[::]:PORT".
READY = re.compile(r"ready udp=(?:\[[0-9a-f:.]*\]|[0-9.]+):(\d+)")


def start(binary, config, stderr=subprocess.PIPE, env=None, check=True, launcher=()):
    """Returns (process, first UDP endpoint's port); the process's `ready_line` attribute
    holds the whole line. Raises RuntimeError with the reason on failure.
    `launcher`: a command prefix the binary runs under (e.g. the socket-activation shim)."""
    if check:
        checked = subprocess.run([binary, "--check-config", config], capture_output=True,
                                 text=True, timeout=30)
        if checked.returncode != 0:
            raise RuntimeError("--check-config failed: " + checked.stdout + checked.stderr)
    proc = subprocess.Popen([*launcher, binary, "--config", config], stdout=subprocess.PIPE,
                            stderr=stderr, text=True, env=env)
    # The ready line is the first line on stdout; a dead process ends the read at once.
    line = proc.stdout.readline()
    m = READY.search(line)
    if m is None:
        stop(proc)
        why = proc.stderr.read() if stderr is subprocess.PIPE else "see its log"
        raise RuntimeError(f"discodns did not become ready ({line.strip()!r}): {why}")
    proc.ready_line = line.strip()
    return proc, int(m.group(1))


def stop(proc, timeout=10):
    """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(timeout=timeout)


def instance(appid, host, addrs, renew_ns, weight="10", status=1, zone="gd", env="dev"):
    """One instance as discovery's fetch/all lists it, region china, all timestamps renew_ns."""
    return {"region": "china", "zone": zone, "env": env, "appid": appid, "hostname": host,
            "addrs": addrs, "version": "v1", "metadata": {"weight": weight},
            "status": status, "reg_timestamp": renew_ns, "up_timestamp": renew_ns,
            "renew_timestamp": renew_ns, "dirty_timestamp": renew_ns, "latest_timestamp": renew_ns}


def fetch_all_document(instances):
    """The /discovery/fetch/all answer listing `instances`, grouped by appid."""
    data = {}
    for inst in instances:
        data.setdefault(inst["appid"], []).append(inst)
    return {"code": 0, "message": "0", "ttl": 1, "data": data}


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (for [admin] listen)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_discovery_config(path, zone_file, nodes, admin_port, registry_extra="", extra="",
                           level="info"):
    """A config for one worker on 127.0.0.1:0 serving example.com, following the discovery
    nodes ("host:port") as region "china", with the admin HTTP on admin_port. registry_extra:
    more lines of the [[registry]] table; extra: more tables."""
    with open(path, "w") as f:
        f.write(f'''[server]
listen = ["127.0.0.1:0"]
workers = 1
[zone]
domain = "example.com"
file = "{zone_file}"
[[registry]]
region = "china"
source = "discovery"
nodes = [{", ".join(f'"{n}"' for n in nodes)}]
{registry_extra}
[admin]
listen = "127.0.0.1:{admin_port}"
[log]
level = "{level}"
{extra}''')
