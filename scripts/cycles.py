#!/usr/bin/env python3
"""Lists call cycles between the source files of src/: which file calls a
function another defines.  Exits 1 when the graph has a cycle.

Usage: scripts/cycles.py [src]   (a crude but honest scan: comments and
strings are stripped, a call is an identifier followed by '(')."""
import os, re, sys

root = sys.argv[1] if len(sys.argv) > 1 else "src"
files = {}
for d, _, names in os.walk(root):
    for n in names:
        if n.endswith(".c"):
            p = os.path.join(d, n)
            s = open(p).read()
            s = re.sub(r"/\*.*?\*/", "", s, flags=re.S)
            s = re.sub(r"//[^\n]*", "", s)
            s = re.sub(r'"(\\.|[^"\\])*"', '""', s)
            files[os.path.relpath(p, root)] = s

defs, own = {}, {f: set() for f in files}
for f, s in files.items():
    for m in re.finditer(r"^(?!static)[A-Za-z_][\w \*]*?\b(co_\w+)\s*\([^;{]*\)\s*\{", s, re.M):
        defs[m.group(1)] = f
        own[f].add(m.group(1))  # bare.c and create.c both define co_loop_new
# const tables of a backend are reached by name too
for f, s in files.items():
    for m in re.finditer(r"^const\s+co_backend\s+(co__\w+)", s, re.M):
        defs[m.group(1)] = f

edges = {f: set() for f in files}
for f, s in files.items():
    for m in re.finditer(r"\b(co_\w+)\b", s):
        g = defs.get(m.group(1))
        if g and g != f and m.group(1) not in own[f]:
            edges[f].add(g)

# Tarjan's strongly connected components
index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(sorted(comp))
for v in sorted(files):
    if v not in index: visit(v)
for f in sorted(edges):
    print(f"{f} -> {', '.join(sorted(edges[f])) or '-'}")
if out:
    for c in out: print("cycle:", " <-> ".join(c))
    sys.exit(1)
print("no cycles between the files of", root)
