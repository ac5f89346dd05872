#!/usr/bin/env bash
# Every C++ file follows the repo's .clang-format (clang-format 14, as on Debian 12).
set -euo pipefail
cd "$1"
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find src tests -name '*.[ch]pp')
clang-format --dry-run -Werror $files
echo "ok: $(echo "$files" | wc -w) files formatted"
