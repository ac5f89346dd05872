#!/usr/bin/env python3
"""Fails when an #include crosses the dependency rule of design.md §7 (one-way folders)."""
import pathlib
import re
import sys

# folder -> folders it may include (besides itself). registry/model.hpp is the one registry
# header catalog may read: the data shape, never HTTP.
ALLOWED = {
    "common": set(),
    "wire": {"common"},
    "config": {"common"},
    "registry": {"common", "config"},
    "catalog": {"common", "wire", "config", "registry/model.hpp"},
    "query": {"common", "wire", "config", "catalog"},
    "asio": set(),
    "server": {"common", "wire", "config", "catalog", "query"},
    "admin": {"common", "config", "catalog", "registry", "server"},
    "daemon": {"common", "wire", "config", "registry", "catalog", "query", "server", "admin"},
}

def main(src: pathlib.Path) -> int:
    bad = []
    for path in sorted(src.rglob("*.[ch]pp")):
        rel = path.relative_to(src)
        if len(rel.parts) == 1:
            continue  # main.cpp sees everything
        folder = rel.parts[0]
        allowed = ALLOWED.get(folder)
        if allowed is None:
            bad.append(f"{rel}: folder '{folder}' has no dependency rule")
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            target = m.group(1)
            dep = target.split("/")[0]
            if dep == folder or dep in allowed or target in allowed:
                continue
            bad.append(f"{rel}:{n}: {folder}/ may not include {target}")
    for b in bad:
        print(b)
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
