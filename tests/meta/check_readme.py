#!/usr/bin/env python3
"""The README's Quick start has exactly two commands, and .ci/run runs the second verbatim."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
readme = (root / "README.md").read_text()
quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
commands = re.findall(r"```sh\n(.*?)\n```", quick, re.S)
if len(commands) != 2 or any("\n" in c for c in commands):
    print(f"Quick start must have exactly two one-line sh blocks, found {commands!r}")
    sys.exit(1)
ci = (root / ".ci" / "run").read_text().splitlines()
if commands[1] not in ci:
    print(f".ci/run does not run the README's test command verbatim: {commands[1]!r}")
    sys.exit(1)
print("ok:", commands[1])
