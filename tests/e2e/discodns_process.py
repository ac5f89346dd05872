"""Starting the real discodns binary for end-to-end tests and benchmarks: `--check-config`
first, then `--config`, then wait (bounded) for the readiness line on stdout,
`discodns ready udp=127.0.0.1:PORT[,...] tcp=...`."""
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
