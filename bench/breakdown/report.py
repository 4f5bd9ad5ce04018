#!/usr/bin/python3
"""report.py -- bench/breakdown.sh's tables, from callgrind's phase dumps.

    report.py N_IR CORIO_IR EV_IR N_CACHE CORIO_CACHE EV_CACHE

Each *_IR / *_CACHE argument is the --callgrind-out-file prefix of one run
of corio_phases or ev_phases (the dumps are PREFIX.1, PREFIX.2, ...: one
per phase, named after it); N_* is the number of tasks of those runs.  The
_CACHE runs are the ones made with --cache-sim=yes (cachegrind's simulator);
"-" for them prints instructions only.

Every instruction is charged to a stage by the phase it ran in and by the
source function its line belongs to (an inlined function keeps its own
lines in the debug information, so run_task inlined into run_round still
counts as run_task).  It prints Markdown: the stages side by side with
libev's, then each stage by function.
"""
import collections
import glob
import os
import re
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ------------------------------------------------------------ callgrind files


def parse_dumps(prefix):
    """{phase: {(object, symbol, file, line): [costs...]}}, and the event names.

    Exclusive costs only: the cost line after a calls= line is the callee's
    inclusive cost, which the callee's own lines already hold."""
    names = {"fl": {}, "fn": {}, "ob": {}}
    kind_of = {"fl": "fl", "fi": "fl", "fe": "fl", "cfl": "fl", "cfi": "fl",
               "fn": "fn", "cfn": "fn", "ob": "ob", "cob": "ob"}
    phases, events = {}, []
    files = sorted(glob.glob(prefix + ".*"), key=lambda f: int(f.rsplit(".", 1)[1])
                   if f.rsplit(".", 1)[1].isdigit() else -1)
    for path in files:
        if not path.rsplit(".", 1)[1].isdigit():
            continue
        phase, costs = None, collections.defaultdict(lambda: [0] * 16)
        ob = fl = fi = fn = None
        last_line, skip_next = 0, False
        with open(path) as f:
            for raw in f:
                line = raw.rstrip("\n")
                if not line:
                    continue
                c = line[0]
                if c.isdigit() or c in "+-*":
                    parts = line.split()
                    pos = parts[0]
                    if pos == "*":
                        n = last_line
                    elif pos[0] in "+-":
                        n = last_line + int(pos)
                    else:
                        n = int(pos)
                    last_line = n
                    if skip_next:
                        skip_next = False
                        continue
                    acc = costs[(ob, fn, fi, n)]
                    for i, v in enumerate(parts[1:]):
                        acc[i] += int(v)
                    continue
                m = re.match(r"^(\w+)=(.*)$", line)
                if m is None:
                    if line.startswith("desc: Trigger: Client Request: "):
                        phase = line[len("desc: Trigger: Client Request: "):].strip()
                    elif line.startswith("events:"):
                        events = line.split()[1:]
                    continue
                key, val = m.groups()
                if key == "calls":
                    skip_next = True
                    continue
                if key not in kind_of:
                    if key == "events":
                        events = val.split()
                    continue
                nm = re.match(r"^\((\d+)\)(?: (.*))?$", val)
                table = names[kind_of[key]]
                if nm:
                    ident, name = nm.groups()
                    if name is not None:
                        table[ident] = name
                    val = table.get(ident, "?")
                if key == "ob":
                    ob = val
                elif key == "fl":
                    fl = fi = val
                elif key in ("fi", "fe"):
                    fi = val
                elif key == "fn":
                    fn, fi = val, fl
        if phase is not None:
            phases[phase] = costs
    return phases, events


# --------------------------------------------------------- source functions

_spans = {}


def source_function(path, line):
    """The C function whose body holds path:line, for the project's files."""
    real = os.path.normpath(path)
    if not real.startswith(SRC + os.sep) or not os.path.exists(real):
        return None
    if real not in _spans:
        spans, start, name = [], None, None
        with open(real) as f:
            text = f.read().split("\n")
        head = re.compile(r"^[A-Za-z_][\w \t\*]*?\b(\w+)\s*\(")
        for i, ln in enumerate(text, 1):
            if start is None:
                m = head.match(ln)
                if m and not ln.rstrip().endswith(";") and not ln.startswith(("typedef", "#")):
                    if ln.rstrip().endswith("}") and "{" in ln:  # a one-line function
                        spans.append((i, i, m.group(1)))
                    else:
                        start, name = i, m.group(1)
            elif ln.startswith("}"):
                spans.append((start, i, name))
                start = None
            elif ln and not ln[0].isspace() and not ln.startswith("{") and ";" in ln:
                start = None  # a declaration spread over lines, not a definition
        _spans[real] = spans
    for a, b, name in _spans[real]:
        if a <= line <= b:
            return name
    return None


def where(key):
    """(object's short name, the function the cost is charged to)."""
    ob, fn, fi, line = key
    obj = os.path.basename(ob or "?")
    sf = source_function(fi or "", line) if fi else None
    sym = (fn or "?").split("'")[0]
    sym = re.sub(r"\.(constprop|isra|part|cold)\.\d+.*$", "", sym)
    return obj, sf or sym


# -------------------------------------------------------------- the stages

# the timers' own functions (src/sched/heap.c: the heap, its lane, their
# growth through co__realloc) and what a sleep adds around them
ARM = {"co__sleep", "co__ms_to_ns", "co__heap_push", "heap_push", "sift_up", "place", "before",
       "fires_before", "grow", "regrow", "lane_at", "lane_takes", "lane_room", "lane_grow",
       "lane_compact", "lane_append", "co__realloc", "realloc", "__libc_realloc", "_int_realloc",
       "mremap_chunk", "co__wait_for", "__tls_get_addr", "update_get_addr", "__tls_get_addr_slow"}
FINISH = {"finish_task", "co__heap_remove", "co__heap_disarm", "let_go", "free_task"}
GATHER = {"gather_member_done", "notify_member_done", "gather_ready", "co_result"}


def corio_stage(phase, fn):
    if phase == "spawn":
        return "spawn"
    if phase in ("gather-start", "gather-end"):
        return "gather bookkeeping"
    if phase == "first-steps":
        return "timer arm" if fn in ARM else "first step"
    if phase == "fire":
        return "fire"
    if phase == "resumes":
        if fn in FINISH:
            return "finish"
        if fn in GATHER:
            return "gather bookkeeping"
        return "resume"
    if phase == "release":
        return "release"
    return None


CORIO_STAGES = ["spawn", "first step", "timer arm", "fire", "resume", "finish",
                "gather bookkeeping", "release"]

# What libev does in place of each of corio's stages (ev_phases' phases).
EV_OF = {
    "spawn": "malloc",
    "timer arm": "ev_timer_start",
    "fire": "fire",
    "resume": "callback",
    "release": "free",
}


def ev_stage(phase, obj, fn):
    if phase == "spawn":
        # the heap array's growth (realloc, its copy) is ev_timer_start's, as
        # grow() is corio's timer arm; the spawning loop's lines go with malloc
        if obj.startswith("libev") or "realloc" in fn or "memcpy" in fn or "mremap" in fn:
            return "ev_timer_start"
        return "malloc"
    if phase == "fire":
        return "fire"
    if phase == "callbacks":
        return "free" if obj.startswith("libc") else "callback"
    return None


EV_STAGES = ["malloc", "ev_timer_start", "fire", "callback", "free"]


def tally(phases, events, stage_of):
    """{stage: {fn: costs}} with costs {event: total}."""
    out = collections.defaultdict(lambda: collections.defaultdict(lambda: collections.Counter()))
    for phase, costs in phases.items():
        for key, vals in costs.items():
            obj, fn = where(key)
            st = stage_of(phase, obj, fn)
            if st is None:
                continue
            c = out[st][fn]
            for i, e in enumerate(events):
                c[e] += vals[i]
    return out


def metric(counter, what):
    if what == "Ir":
        return counter["Ir"]
    if what == "D1":
        return counter["D1mr"] + counter["D1mw"]
    if what == "LL":
        return counter["DLmr"] + counter["DLmw"]
    raise ValueError(what)


def stage_total(t, stage, what):
    return sum(metric(c, what) for c in t.get(stage, {}).values())


def count(n):
    """10k, 100k, 1M: N as the tables name it."""
    if n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def fmt(v, n, dec=0):
    return "%.*f" % (dec, v / n)


# ------------------------------------------------------------------- main


def main(argv):
    if len(argv) != 7:
        sys.exit(__doc__)
    n_ir, c_ir, e_ir, n_ca, c_ca, e_ca = argv[1:]
    n_ir = int(n_ir)
    cp, cev = parse_dumps(c_ir)
    ep, eev = parse_dumps(e_ir)
    ct = tally(cp, cev, lambda ph, obj, fn: corio_stage(ph, fn))
    et = tally(ep, eev, ev_stage)
    cache = c_ca != "-"
    if cache:
        n_ca = int(n_ca)
        cpc, cevc = parse_dumps(c_ca)
        epc, eevc = parse_dumps(e_ca)
        ctc = tally(cpc, cevc, lambda ph, obj, fn: corio_stage(ph, fn))
        etc = tally(epc, eevc, ev_stage)

    hdr = "| stage | corio instr @%s |" % count(n_ir)
    sep = "|---|---|"
    if cache:
        hdr += " corio instr @%s | D1 misses | LL misses |" % count(n_ca)
        sep += "---|---|---|"
    hdr += " libev's counterpart | libev instr @%s |" % count(n_ir)
    sep += "---|---|"
    if cache:
        hdr += " libev instr @%s | D1 misses | LL misses |" % count(n_ca)
        sep += "---|---|---|"
    print(hdr)
    print(sep)
    tot = collections.Counter()
    for st in CORIO_STAGES:
        row = "| %s | %s |" % (st, fmt(stage_total(ct, st, "Ir"), n_ir))
        tot["c_ir"] += stage_total(ct, st, "Ir")
        if cache:
            row += " %s | %s | %s |" % tuple(fmt(stage_total(ctc, st, w), n_ca, d)
                                            for w, d in (("Ir", 0), ("D1", 2), ("LL", 2)))
            for w in ("Ir", "D1", "LL"):
                tot["cc_" + w] += stage_total(ctc, st, w)
        ev = EV_OF.get(st)
        if ev:
            row += " %s | %s |" % (ev, fmt(stage_total(et, ev, "Ir"), n_ir))
            tot["e_ir"] += stage_total(et, ev, "Ir")
            if cache:
                row += " %s | %s | %s |" % tuple(fmt(stage_total(etc, ev, w), n_ca, d)
                                                for w, d in (("Ir", 0), ("D1", 2), ("LL", 2)))
                for w in ("Ir", "D1", "LL"):
                    tot["ec_" + w] += stage_total(etc, ev, w)
        else:
            row += " — | — |" + (" — | — | — |" if cache else "")
        print(row)
    row = "| **a task, all stages** | **%s** |" % fmt(tot["c_ir"], n_ir)
    if cache:
        row += " **%s** | **%s** | **%s** |" % (fmt(tot["cc_Ir"], n_ca), fmt(tot["cc_D1"], n_ca, 2),
                                               fmt(tot["cc_LL"], n_ca, 2))
    row += " **a timer, all of it** | **%s** |" % fmt(tot["e_ir"], n_ir)
    if cache:
        row += " **%s** | **%s** | **%s** |" % (fmt(tot["ec_Ir"], n_ca), fmt(tot["ec_D1"], n_ca, 2),
                                               fmt(tot["ec_LL"], n_ca, 2))
    print(row)

    # each stage by function, both libraries
    for title, t, tc, stages in (("corio", ct, ctc if cache else None, CORIO_STAGES),
                                 ("libev", et, etc if cache else None, EV_STAGES)):
        print()
        print("%s, by function (exclusive; an inlined function keeps its own lines):" % title)
        print()
        print("| stage | function | instr @%s |" % count(n_ir)
              + (" instr @%s | D1 misses | LL misses |" % count(n_ca) if cache else ""))
        print("|---|---|---|" + ("---|---|---|" if cache else ""))
        for st in stages:
            fns = sorted(t.get(st, {}).items(), key=lambda kv: -metric(kv[1], "Ir"))
            shown, rest, rest_c = 0, collections.Counter(), collections.Counter()
            for fn, c in fns:
                cc = tc.get(st, {}).get(fn, collections.Counter()) if tc else None
                if metric(c, "Ir") / n_ir < 1.5 or shown >= int(os.environ.get("BREAKDOWN_ROWS", "8")):
                    rest.update(c)
                    if cc:
                        rest_c.update(cc)
                    continue
                shown += 1
                row = "| %s | `%s` | %s |" % (st, fn, fmt(metric(c, "Ir"), n_ir))
                if tc:
                    row += " %s | %s | %s |" % (fmt(metric(cc, "Ir"), n_ca), fmt(metric(cc, "D1"), n_ca, 2),
                                                fmt(metric(cc, "LL"), n_ca, 2))
                print(row)
            # the few-instruction rest of the stage, and what the run's
            # constant work leaves per task
            if rest:
                row = "| %s | (the rest) | %s |" % (st, fmt(metric(rest, "Ir"), n_ir))
                if tc:
                    row += " %s | %s | %s |" % (fmt(metric(rest_c, "Ir"), n_ca),
                                                fmt(metric(rest_c, "D1"), n_ca, 2),
                                                fmt(metric(rest_c, "LL"), n_ca, 2))
                print(row)


if __name__ == "__main__":
    main(sys.argv)
