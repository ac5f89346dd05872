#!/usr/bin/env python3
"""Fails when a file's include closure crosses the dependency rule of design.md §7.

The rule is the table in src/dependencies.txt (CMake links the libraries from it too). For each
file under src/ this follows its `#include "x/y.hpp"` lines recursively and fails on any header
outside the folders the file's folder may use, printing the include chain that reaches it.
Known violations are listed in the table as exceptions; one that no longer occurs fails too.

  check_includes.py SRC                      check every file
  check_includes.py SRC --closure FILE ...   print FILE's project headers (like g++ -M)
"""
import argparse
import collections
import pathlib
import re
import sys

INCLUDE = re.compile(r'\s*#\s*include\s+"([^"]+)"')


class Table:
    """src/dependencies.txt: folder rules, parts (files forming a folder of their own), exceptions."""

    def __init__(self, path: pathlib.Path):
        self.allowed: dict[str, set[str]] = {}
        self.part_of: dict[str, str] = {}  # file -> part name
        self.exceptions: dict[tuple[str, str], int] = {}  # (from, to) -> line number
        self.errors: list[str] = []
        for n, raw in enumerate(path.read_text().splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if "->" in line:
                edge = [s.strip() for s in line.split("->")]
                if len(edge) != 2 or not all(edge):
                    self.errors.append(f"{path.name}:{n}: exception must be 'from_file -> to_file'")
                    continue
                self.exceptions[(edge[0], edge[1])] = n
            elif "=" in line:
                name, files = (s.strip() for s in line.split("=", 1))
                for f in files.split():
                    self.part_of[f] = name
            elif ":" in line:
                name, deps = (s.strip() for s in line.split(":", 1))
                self.allowed[name] = set(deps.split())
            else:
                self.errors.append(f"{path.name}:{n}: cannot read {raw!r}")
        for name, deps in self.allowed.items():
            for d in sorted(deps - self.allowed.keys()):
                self.errors.append(f"{path.name}: {name} names unknown folder '{d}'")
        for f, name in self.part_of.items():
            if name not in self.allowed:
                self.errors.append(f"{path.name}: part '{name}' ({f}) has no rule line")

    def folder(self, rel: str) -> str | None:
        """The folder a file under src/ belongs to; None for top-level files (main.cpp)."""
        if rel in self.part_of:
            return self.part_of[rel]
        return rel.split("/", 1)[0] if "/" in rel else None

    def may_use(self, folder: str, rel: str) -> bool:
        used = self.folder(rel)
        return used == folder or used in self.allowed.get(folder, set())


def read_includes(src: pathlib.Path) -> dict[str, list[tuple[int, str]]]:
    """file (relative to src/) -> [(line, included project file)], project files only."""
    graph = {}
    for path in sorted(src.rglob("*.[ch]pp")):
        rel = path.relative_to(src).as_posix()
        edges = []
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if m and (src / m.group(1)).is_file():
                edges.append((n, m.group(1)))
        graph[rel] = edges
    return graph


def closure(graph, start: str) -> dict[str, str | None]:
    """Every project header `start` reaches -> the file that first includes it (for chains)."""
    parent = {start: None}
    queue = collections.deque([start])
    while queue:
        f = queue.popleft()
        for _, inc in graph.get(f, []):
            if inc not in parent:
                parent[inc] = f
                queue.append(inc)
    return parent


def chain(parent, f: str) -> list[str]:
    out = []
    while f is not None:
        out.append(f)
        f = parent[f]
    return out[::-1]


def check(src: pathlib.Path, table: Table, graph) -> list[str]:
    bad = list(table.errors)
    used_exceptions = set()
    # (folder, boundary edge from -> to, its line) -> chains of the files that reach it
    crossings = collections.defaultdict(list)
    for rel in graph:
        folder = table.folder(rel)
        if folder is None:
            continue  # main.cpp sees everything
        if folder not in table.allowed:
            bad.append(f"{rel}: folder '{folder}' has no rule in dependencies.txt")
            continue
        # Breadth-first over the headers this folder may use; a forbidden header is reported
        # at each edge that enters it and not walked further: what lies beyond is reached only
        # through such an edge (another way in would be an edge of its own).
        parent = {rel: None}
        queue = collections.deque([rel])
        while queue:
            f = queue.popleft()
            for n, inc in graph[f]:
                if not table.may_use(folder, inc):
                    # Every edge into a forbidden header counts, however it was reached first.
                    if (f, inc) in table.exceptions:
                        used_exceptions.add((f, inc))
                    else:
                        crossings[(folder, f, inc, n)].append(chain(parent, f) + [inc])
                elif inc not in parent:
                    parent[inc] = f
                    queue.append(inc)
    for (folder, f, inc, n), chains in sorted(crossings.items()):
        used = table.folder(inc)
        bad.append(f"{folder}/ may not use {used} ({inc}), included at {f}:{n}; reached by")
        bad.extend("  " + " -> ".join(c) for c in chains[:6])
        if len(chains) > 6:
            bad.append(f"  ... and {len(chains) - 6} more files")
    for (f, inc), n in sorted(table.exceptions.items(), key=lambda e: e[1]):
        if (f, inc) in used_exceptions:
            continue
        if not any(target == inc for _, target in graph.get(f, [])):
            why = f"{f} does not include {inc}"
        else:
            why = "the include no longer crosses the rule"
        bad.append(f"dependencies.txt:{n}: stale exception {f} -> {inc} ({why}): delete it")
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=pathlib.Path)
    parser.add_argument("--closure", nargs="+", metavar="FILE", help="path relative to src/")
    args = parser.parse_args()
    table = Table(args.src / "dependencies.txt")
    graph = read_includes(args.src)
    if args.closure:
        for start in args.closure:
            if start not in graph:
                print(f"{start}: not a file under {args.src}")
                return 2
            folder = table.folder(start)
            for f in sorted(closure(graph, start)):
                if f == start:
                    continue
                note = ""
                if folder is not None and not table.may_use(folder, f):
                    note = f"    (outside {folder}/'s rule)"
                print(f"{f}{note}")
        return 0
    bad = check(args.src, table, graph)
    for b in bad:
        print(b)
    if not bad:
        print(f"ok: {len(graph)} files, {len(table.exceptions)} listed exceptions")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
