#!/usr/bin/env bash
# The systemd units verify, and the service's exposure (systemd-analyze security) is <= 2.0.
#   check_systemd.sh SOURCE_DIR DISCODNS_BINARY
set -euo pipefail
src=$1; bin=$2
if ! command -v systemd-analyze >/dev/null; then echo "SKIP: no systemd-analyze"; exit 0; fi
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
# The units name /usr/local/bin/discodns; point them at the binary just built.
sed "s|/usr/local/bin/discodns|$bin|g" "$src/systemd/discodns.service" > "$dir/discodns.service"
cp "$src/systemd/discodns.socket" "$dir/discodns.socket"
out=$(systemd-analyze verify "$dir/discodns.service" "$dir/discodns.socket" 2>&1 || true)
# Messages about the host's own units are not ours; any line naming our units is.
if echo "$out" | grep -E "discodns\.(service|socket)"; then exit 1; fi
systemd-analyze security --offline=true --threshold=20 "$dir/discodns.service" | tail -1
