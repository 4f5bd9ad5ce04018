#!/usr/bin/env python3
"""check.py -- the gdb test of scripts/corio-gdb.py: runs gdb in batch mode
on target (test/gdb/target.c), stops it in stop_here(), runs `corio-tasks`
(on the running loop and on a named one) and `print` of a co_task, and
checks every task's name, state and await chain, each frame at the line of
its "gdb: <body>" marker in target.c.  Exits 77 (meson's "skipped") with a
message only when there is no gdb.

Usage: check.py TARGET CORIO_GDB_PY TARGET_C"""
import os
import re
import shutil
import subprocess
import sys

target, script, source = sys.argv[1:4]
gdb = shutil.which("gdb")
if gdb is None:
    print("gdb-tasks: SKIPPED, no gdb on PATH (Debian: apt-get install gdb)")
    sys.exit(77)

lines = {}
with open(source) as f:
    for n, text in enumerate(f, 1):
        m = re.search(r"gdb: (\w+)", text)
        if m:
            lines[m.group(1)] = n

env = dict(os.environ)
# LeakSanitizer cannot run under ptrace: the traced target would fail at exit
env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
cmd = [gdb, "-batch", "-nx", "-ex", "set debuginfod enabled off", "-ex", "source " + script,
       "-ex", "break stop_here", "-ex", "run", "-ex", "corio-tasks", "-ex", "corio-tasks the_loop",
       "-ex", "print *the_loop->tasks[1]", "-ex", "continue", target]
out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                     universal_newlines=True, timeout=120).stdout
failures = []


def frame(body):
    return r'    File "[^"]*target\.c", line %d, in %s\n' % (lines[body], body)


sleep = r"wait_for=<sleep, \d+ ms left>"
fetch_chain = frame("fetch") + frame("read_body")
want = (r"corio-tasks: 4 tasks on loop 0x[0-9a-f]+\n"
        r"\* Task 'Task-1' running  \(co_task \*\) 0x[0-9a-f]+\n" + frame("main_task") +
        r"\* Task 'fetch-a' pending, " + sleep + r"  \(co_task \*\) 0x[0-9a-f]+\n" + fetch_chain +
        r"\* Task 'waiter' pending, wait_for=<Task 'fetch-a'>  \(co_task \*\) 0x[0-9a-f]+\n" +
        frame("waiter") + r"    awaiting Task 'fetch-a' pending, " + sleep + r":\n" + fetch_chain +
        r"\* Task 'Task-5' not scheduled  \(co_task \*\) 0x[0-9a-f]+\n"
        r'    File "[^"]*target\.c", line 0, in idle\n')
found = re.findall(want, out)
if len(found) != 2:
    failures.append("corio-tasks (default loop, then the_loop) did not list, twice:\n" + want)
if not re.search(r"= co_task Task 'fetch-a' pending, " + sleep, out):
    failures.append("the co_task pretty-printer did not show fetch-a")
if "target: done" not in out:
    failures.append("the target did not run on to its end after the breakpoint")
if failures:
    print("gdb said:\n" + out)
    print("\n".join("FAILED: " + f for f in failures))
    sys.exit(1)
print(out)
print("gdb-tasks: corio-tasks and the co_task printer show the real await chains")
