#!/usr/bin/env python3
"""Compile-fail checks of the generator core: each file in wont_compile/ must
be refused by the compiler with the message its header comment names.

A file's comment says, one per line:
  expect: TEXT       the compiler's output must contain TEXT
  expect-name: NAME  ... and NAME (the identifier the header puts there)
  flags: FLAGS       extra flags; a file with -DCO_USE_SWITCH is checked in
                     the switch form only, and must then compile cleanly in
                     the labels form; files without run in both forms
  needs: __int128    only compilers that have the type (others are told)

Usage: compile_fail.py INCLUDE_DIR DIR CC [CC...]; each CC is a command line
(one argument).  gcc and clang are both tried when found, and
arm-none-eabi-gcc as a target without __int128.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

WARN = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]


def directives(path):
    found = {"expect": [], "flags": [], "needs": []}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*(?:/\*|\*)\s*(expect|expect-name|flags|needs):\s*(.*?)\s*(?:\*/)?\s*$", line)
            if m:
                key = "expect" if m.group(1).startswith("expect") else m.group(1)
                found[key] += [m.group(2)] if key == "expect" else m.group(2).split()
    return found


def has_int128(cc):
    out = subprocess.run(cc + ["-dM", "-E", "-x", "c", "/dev/null"], capture_output=True, text=True)
    return "__SIZEOF_INT128__" in out.stdout


def compile_(cc, inc, path, flags):
    cmd = cc + WARN + ["-I", inc] + flags + ["-fsyntax-only", path]
    res = subprocess.run(cmd, capture_output=True, text=True)
    return res.returncode, res.stdout + res.stderr


def main():
    inc, folder = sys.argv[1], sys.argv[2]
    compilers = [shlex.split(c) for c in sys.argv[3:]]
    for extra in ("gcc", "clang"):
        if shutil.which(extra) and not any(os.path.basename(c[-1]) == extra for c in compilers):
            compilers.append([extra])
    if shutil.which("arm-none-eabi-gcc"):
        compilers.append(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-ffreestanding"])
    failures = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".c"):
            continue
        path = os.path.join(folder, name)
        d = directives(path)
        switch_only = "-DCO_USE_SWITCH" in d["flags"]
        forms = [[]] if switch_only else [["-DCO_USE_SWITCH"], ["-DCO_USE_LABELS"]]
        for cc in compilers:
            label = " ".join(cc)
            if "__int128" in d["needs"] and not has_int128(cc):
                print(f"n/a   {name} with {label}: no __int128, so not caught (documented)")
                continue
            for form in forms:
                rc, out = compile_(cc, inc, path, d["flags"] + form)
                missing = [e for e in d["expect"] if e not in out]
                what = f"{name} with {label} {' '.join(d['flags'] + form)}"
                if rc == 0 or missing:
                    failures += 1
                    print(f"FAIL  {what}: " + ("compiled" if rc == 0 else f"message lacks {missing}"))
                    print(out)
                else:
                    print(f"ok    {what}: refused, naming {d['expect']}")
            if switch_only:
                flags = [f for f in d["flags"] if f != "-DCO_USE_SWITCH"] + ["-DCO_USE_LABELS"]
                rc, out = compile_(cc, inc, path, flags)
                if rc != 0:
                    failures += 1
                    print(f"FAIL  {name} with {label} in the labels form: does not compile\n{out}")
                else:
                    print(f"ok    {name} with {label} in the labels form: compiles")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
