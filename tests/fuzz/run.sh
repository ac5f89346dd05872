#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build/fuzz) and runs each for SECONDS (default 30)
# from the seed corpus; any crash, leak or timeout fails. Longer runs: SECONDS=3600.
#   bash tests/fuzz/run.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-${SECONDS_PER_TARGET:-30}}
build="$root/build/fuzz"
# Quiet unless it fails: then the compiler's own words (ninja prints them on stdout).
log="$build.log"
if ! { CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
         -DDISCODNS_FUZZ=ON -DDISCODNS_TESTS=OFF &&
       cmake --build "$build" --target fuzz_query fuzz_zone fuzz_registry fuzz_config; } >"$log" 2>&1; then
  echo "fuzz build failed:" >&2
  grep -E "error|Error" "$log" | head -20 >&2
  exit 1
fi
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp"
# Undefined behaviour is a failure too (halt), except the known one in RapidJSON 1.1.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/tests/fuzz/ubsan.supp"
for target in query zone registry config; do
  corpus=$(mktemp -d)
  cp "$root/tests/fuzz/corpus/$target/"* "$corpus/"
  echo "fuzz_$target: ${seconds}s"
  (cd "$corpus" && "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)" || true)
  if ls "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* >/dev/null 2>&1; then
    echo "fuzz_$target found a failure:"; ls "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* 2>/dev/null
    exit 1
  fi
  rm -rf "$corpus"
done
echo "fuzzing: no crash, leak or timeout"
