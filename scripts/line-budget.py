#!/usr/bin/env python3
"""The tour's line budget: each sample's coroutine code is at most twice the
lines of its Python twin.  Exits 1 when a sample is over.

Counted, non-blank lines with comments and preprocessor lines left out:
  C       every coroutine of samples/NAME.c: a CO_ASYNC ... CO_ASYNC_END
          declaration whole, or a body function `static int f(co_gen *g)`
          with the typedef of the frame it casts to -- arguments, locals
          that live across awaits and body.  Not counted: plain C helpers
          (text decoding, progress bars), option parsing and main().
  Python  the whole of samples/NAME.py, imports and all.

Usage: scripts/line-budget.py [samples-dir]   (a crude but honest scan)."""
import os
import re
import sys

RATIO = 2.0


def strip_c(text):
    """Comments and preprocessor lines blanked, line numbers kept."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return [("" if l.lstrip().startswith("#") else l) for l in text.split("\n")]


def block_end(lines, i, end):
    """Index of the first line from i that matches `end`."""
    while i < len(lines) and not re.match(end, lines[i]):
        i += 1
    return min(i, len(lines) - 1)


def frame_span(lines, name):
    """The lines of `typedef struct ... } name;` or `struct name { ... };`."""
    for j, l in enumerate(lines):
        if re.match(r"\}\s*" + re.escape(name) + r"\s*;", l):
            k = j
            while k > 0 and not lines[k].startswith("typedef"):
                k -= 1
            return (k, j)
        if re.match(r"struct " + re.escape(name) + r"\s*\{", l):
            return (j, block_end(lines, j, r"\};"))
    return None


def coroutine_spans(lines):
    spans, i = [], 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"\s*CO_ASYNC\(", line):
            j = block_end(lines, i, r"\s*CO_ASYNC_END")
            spans.append((i, j))
            i = j + 1
            continue
        if re.match(r"static int \w+\(co_gen \*\w*\)\s*$", line):
            j = block_end(lines, i, r"\}")
            spans.append((i, j))
            cast = re.search(r"(\w+) \*self = \(\1 \*\)", "\n".join(lines[i:j]))
            frame = cast and frame_span(lines, cast.group(1))
            if frame and frame not in spans:
                spans.append(frame)
            i = j + 1
            continue
        i += 1
    return spans


def c_lines(path):
    lines = strip_c(open(path).read())
    spans = coroutine_spans(lines)
    return sum(1 for a, b in spans for l in lines[a : b + 1] if l.strip()), len(spans)


def py_lines(path):
    return sum(1 for l in open(path) if l.strip() and not l.strip().startswith("#"))


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "samples"
    over = 0
    for name in sorted(os.listdir(d)):
        c_path = os.path.join(d, name[:-3] + ".c")
        if not name.endswith(".py") or not os.path.exists(c_path):
            continue
        c, spans = c_lines(c_path)
        py = py_lines(os.path.join(d, name))
        if spans == 0:
            print(f"{name[:-3]}: no coroutine found in {c_path}")
            over += 1
            continue
        verdict = "ok" if c <= RATIO * py else "OVER"
        over += verdict != "ok"
        print(f"{name[:-3]:24s} C {c:4d}  Python {py:4d}  {c / py:4.2f}x  {verdict}")
    print(f"line budget (C coroutine code <= {RATIO:g}x the Python): "
          + ("every sample within it" if over == 0 else f"{over} over"))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
