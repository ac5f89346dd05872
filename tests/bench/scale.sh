#!/usr/bin/env bash
# Memory and build time of the real binary at 1k, 10k and 100k instances (apps x 10): start
# discodns on a generated registry file, put it under 3 s of query load (tests/bench/loadgen),
# then read its RSS (/proc/PID/status) and the last snapshot build time (/metrics). The RSS
# growth per instance is the slope between sizes, so the fixed cost (code, buffers) cancels.
#
#   bash tests/bench/scale.sh            (needs a release build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DISCODNS:-$root/build/release/src/discodns}
loadgen=${LOADGEN:-$root/build/release/tests/loadgen}
for b in "$bin" "$loadgen"; do [ -x "$b" ] || { echo "build first: $b missing" >&2; exit 1; }; done
work=$(mktemp -d /tmp/discodns-scale.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

printf "%10s %10s %12s %12s %14s\n" instances "rss MiB" "build ms" "load qps" "bytes/instance"
prev_rss=; prev_n=
for apps in 100 1000 10000; do
  n=$((apps * 10))
  python3 "$root/tests/bench/gen_registry.py" "$apps" 10 "$work/registry.json" "$work/queries.txt"
  cat > "$work/discodns.toml" <<EOT
[server]
listen = ["127.0.0.1:0"]
workers = 1
[zone]
domain = "example.com"
file = "$root/zones/example.com.zone"
[[registry]]
region = "china"
source = "file"
file = "$work/registry.json"
[admin]
listen = "127.0.0.1:19153"
[log]
level = "warn"
EOT
  "$bin" --config "$work/discodns.toml" > "$work/ready" 2>"$work/log" &
  pid=$!
  for _ in $(seq 300); do grep -q ready "$work/ready" && break; sleep 0.1; done
  port=$(sed -n 's/.*udp=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/ready")
  qps=$("$loadgen" --server 127.0.0.1:"$port" --queries "$work/queries.txt" --seconds 3 | tr ' ' '\n' | sed -n 's/^qps=//p')
  rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  build=$(curl -s http://127.0.0.1:19153/metrics | awk '/^discodns_snapshot_build_seconds / {printf "%.1f", $2 * 1000}')
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  per=-
  [ -n "$prev_rss" ] && per=$(( (rss_kib - prev_rss) * 1024 / (n - prev_n) ))
  printf "%10s %10.1f %12s %12s %14s\n" "$n" "$(echo "$rss_kib / 1024" | bc -l)" "$build" "$qps" "$per"
  prev_rss=$rss_kib; prev_n=$n
done
echo "bytes/instance: RSS growth from the previous row divided by the instances added (target < 1024)"
