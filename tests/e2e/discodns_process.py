"""Starting the real discodns binary for end-to-end tests and benchmarks: `--check-config`
first, then `--config`, then wait (bounded) for the readiness line on stdout,
`discodns ready udp=127.0.0.1:PORT[,...] tcp=...`. Also the registry snapshot documents the
tests serve (discovery's /discovery/fetch/all shape)."""
import re
import signal
import subprocess

READY = re.compile(r"ready udp=127\.0\.0\.1:(\d+)")


def start(binary, config, stderr=subprocess.PIPE, env=None, check=True, launcher=()):
    """Returns (process, udp port). Raises RuntimeError with the reason on failure.
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
