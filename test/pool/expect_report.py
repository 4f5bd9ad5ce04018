#!/usr/bin/env python3
"""Runs a command and passes only if it fails with `needle` on stderr: a
memory tool (ASan, valgrind) reporting the bug the program commits.
Usage: expect_report.py NEEDLE COMMAND..."""
import subprocess
import sys

needle, cmd = sys.argv[1], sys.argv[2:]
run = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
if run.returncode != 0 and needle in run.stderr:
    print(f"reported as expected: {needle!r} (exit {run.returncode})")
    sys.exit(0)
sys.stderr.write(run.stdout + run.stderr)
sys.stderr.write(f"\nexpected a failure reporting {needle!r}, got exit {run.returncode}\n")
sys.exit(1)
