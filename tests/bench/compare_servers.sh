#!/usr/bin/env bash
# discodns vs NSD vs Knot on the same zone, each pinned to core 0 with the client on core 1.
# UDP: tests/bench/loadgen (built with the release preset; sendmmsg/recvmmsg, so one client
# core outruns one server core, which dnsperf does not), closed loop with 100 queries in
# flight: qps, p99 latency, lost queries per round (A B C A B C …). Then each server at the same
# open-loop rate, 50 % of discodns's peak: p99 latency there. TCP: dnsperf -m tcp.
# Prints the ratios discodns/NSD and discodns/Knot. With DISCODNS_BASELINE=/path/to/older/discodns
# that binary runs in the same rounds too ("baseline"), for before/after figures of a change.
#
#   bash tests/bench/compare_servers.sh [APPS=300] [INSTANCES=10] [SECONDS=10] [ROUNDS=3]
#
# Needs a release build (cmake --preset release && cmake --build --preset release); installs
# nsd, knot and dnsperf from Debian if missing. Everything listens on 127.0.0.1 only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
apps=${1:-300}; per_app=${2:-10}; seconds=${3:-10}; rounds=${4:-3}
bin=${DISCODNS:-$root/build/release/src/discodns}
baseline=${DISCODNS_BASELINE:-}
servers="discodns nsd knot${baseline:+ baseline}"
loadgen=${LOADGEN:-$root/build/release/tests/loadgen}
for b in "$bin" "$loadgen"; do [ -x "$b" ] || { echo "build first: $b missing" >&2; exit 1; }; done
for p in nsd knot dnsperf; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
cores=$(nproc)
server_cpu=0; client_cpu=$((cores > 1 ? 1 : 0))
work=$(mktemp -d /tmp/discodns-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

python3 "$root/tests/bench/gen_registry.py" "$apps" "$per_app" "$work/registry.json" "$work/queries.txt"
cat > "$work/discodns.toml" <<EOT
[server]
listen = ["127.0.0.1:15353"]
workers = 1
[zone]
domain = "example.com"
file = "$root/zones/example.com.zone"
[[registry]]
region = "china"
source = "file"
file = "$work/registry.json"
[log]
level = "warn"
EOT
sed 's/127.0.0.1:15353/127.0.0.1:15356/' "$work/discodns.toml" > "$work/baseline.toml"
"$bin" --config "$work/discodns.toml" --dump-zone > "$work/example.com.zone"
records=$(grep -vc '^;' "$work/example.com.zone")
echo "zone: $records records ($apps apps x $per_app instances); queries: A 50% SRV 30% NXDOMAIN 20%"

mkdir -p "$work/nsd" "$work/knot"
cat > "$work/nsd.conf" <<EOT
server:
  ip-address: 127.0.0.1@15354
  server-count: 1
  username: ""
  zonesdir: "$work"
  database: ""
  zonelistfile: "$work/nsd/zone.list"
  xfrdfile: "$work/nsd/xfrd.state"
  pidfile: "$work/nsd/nsd.pid"
  logfile: "$work/nsd/nsd.log"
  hide-version: yes
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.com
  zonefile: example.com.zone
EOT
cat > "$work/knot.conf" <<EOT
server:
  listen: 127.0.0.1@15355
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
  rundir: "$work/knot"
  pidfile: "$work/knot/knot.pid"
database:
  storage: "$work/knot"
log:
  - target: stderr
    any: warning
zone:
  - domain: example.com
    file: "$work/example.com.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
EOT

start() {  # name -> starts the server pinned to the server core, waits until it answers
  case $1 in
    discodns) taskset -c $server_cpu "$bin" --config "$work/discodns.toml" >/dev/null 2>"$work/discodns.log" & port=15353 ;;
    nsd) taskset -c $server_cpu nsd -d -c "$work/nsd.conf" 2>"$work/nsd/stderr.log" & port=15354 ;;
    knot) taskset -c $server_cpu knotd -c "$work/knot.conf" 2>"$work/knot/stderr.log" & port=15355 ;;
    baseline) taskset -c $server_cpu "$baseline" --config "$work/baseline.toml" >/dev/null 2>"$work/baseline.log" & port=15356 ;;
  esac
  pid=$!; pids+=("$pid")
  for _ in $(seq 100); do
    dig +short +time=1 +tries=1 @127.0.0.1 -p $port SOA example.com 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  echo "$1 did not start" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

declare -A qps_sum tcp_sum lost_sum
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
run_udp() {  # port [loadgen options] -> the loadgen line
  local port=$1; shift
  taskset -c $client_cpu "$loadgen" --server 127.0.0.1:"$port" --queries "$work/queries.txt" \
    --seconds "$seconds" "$@" || true
}
run_tcp() {
  taskset -c $client_cpu dnsperf -m tcp -s 127.0.0.1 -p "$2" -d "$work/queries.txt" -l "$seconds" -c 16 -q 500 2>&1 |
    awk '/Queries per second/ {qps=$4} END {printf "%.0f\n", qps}'
}
port_of() { case $1 in discodns) echo 15353 ;; nsd) echo 15354 ;; knot) echo 15355 ;; baseline) echo 15356 ;; esac; }
printf "%-6s %-9s %12s %12s %8s %12s\n" round server "udp qps" "p99 us" lost "tcp qps"
for round in $(seq "$rounds"); do
  for name in $servers; do
    port=$(port_of $name)
    start $name
    line=$(run_udp $port --window 100)
    qps=$(echo "$line" | field qps); p99=$(echo "$line" | field p99_us); lost=$(echo "$line" | field lost)
    tcp=$(run_tcp $name $port)
    stop
    printf "%-6s %-9s %12s %12s %8s %12s\n" "$round" "$name" "$qps" "$p99" "$lost" "$tcp"
    qps_sum[$name]=$(( ${qps_sum[$name]:-0} + qps ))
    tcp_sum[$name]=$(( ${tcp_sum[$name]:-0} + tcp ))
    lost_sum[$name]=$(( ${lost_sum[$name]:-0} + lost ))
  done
done
d=${qps_sum[discodns]}; n=${qps_sum[nsd]}; k=${qps_sum[knot]}
half=$((d / rounds / 2))
echo
echo "open loop at $half qps (50 % of discodns's peak), same rate for every server:"
for name in $servers; do
  start $name
  line=$(run_udp "$(port_of $name)" --rate "$half")
  stop
  echo "  $name: p50 $(echo "$line" | field p50_us) us  p99 $(echo "$line" | field p99_us) us  p99.9 $(echo "$line" | field p999_us) us  lost $(echo "$line" | field lost)"
done
echo
echo "mean udp qps: discodns $((d / rounds))  nsd $((n / rounds))  knot $((k / rounds))"
echo "lost (all rounds): discodns ${lost_sum[discodns]}  nsd ${lost_sum[nsd]}  knot ${lost_sum[knot]}"
echo "mean tcp qps: discodns $((tcp_sum[discodns] / rounds))  nsd $((tcp_sum[nsd] / rounds))  knot $((tcp_sum[knot] / rounds))"
awk -v d="$d" -v n="$n" -v k="$k" 'BEGIN {printf "ratios: discodns/nsd %.2f  discodns/knot %.2f\n", d/n, d/k}'
awk -v d="${tcp_sum[discodns]}" -v k="${tcp_sum[knot]}" 'BEGIN {printf "tcp ratio: discodns/knot %.2f\n", d/k}'
if [ -n "$baseline" ]; then
  b=${qps_sum[baseline]}
  echo "baseline: mean udp qps $((b / rounds)), tcp $((tcp_sum[baseline] / rounds)), lost ${lost_sum[baseline]}"
  awk -v d="$d" -v b="$b" -v t="${tcp_sum[discodns]}" -v u="${tcp_sum[baseline]}" \
    'BEGIN {printf "ratios: discodns/baseline udp %.3f  tcp %.3f\n", d/b, t/u}'
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
