# corio-gdb.py -- gdb's view of a corio loop: the `corio-tasks` command lists
# a loop's tasks with their names, states and await chains, and a
# pretty-printer shows a co_task as its name and state.
#
#     (gdb) source scripts/corio-gdb.py
#     (gdb) corio-tasks            # the loop running in this thread
#     (gdb) corio-tasks my_loop    # any expression that is a co_loop *
#     (gdb) print *task   # co_task Task 'fetch-a' pending, wait_for=<sleep, 980 ms left>
#
# It reads memory only (a core file will do): the loop's registry of tasks,
# each task's number (co_task.id) and its name in loop->names, the
# frames' delegation offsets (co_gen.sub) and recorded lines, and the body
# records CO_ASYNC and CO_BODY_NAME make (src/sched/inspect.c's `bodies`);
# a body without a record is named by gdb's own symbol for its function.
# Needs libcorio's debug information (the default debugoptimized build).
# The constants below follow src/sched/loop.h; docs/gdb.md has the how-to.

import gdb

T_SPAWNED, T_DONE = 0x04, 0x08  # co_task.flags
W_READY, W_TIMER, W_TASK = 1, 2, 3  # co_task.wait
WAITS = {4: "gather", 5: "task group", 6: "event", 7: "lock", 8: "semaphore",
         9: "queue get", 10: "queue put", 11: "fd", 12: "file job", 13: "future"}
CO_CLOSED, CO_CREATED = 3, 0  # enum co_state, in co_gen.flags' low bits
CO_ECANCELLED = -1101


def _ptr(v):
    return int(v.cast(gdb.lookup_type("uintptr_t")))


def _task_loop(t):
    """The loop of task t: its `loop` field on a 32-bit target; on 64-bit
    the loop numbered timer.co__owner in co__loops (src/sched/loop.h)."""
    if any(f.name == "loop" for f in t.dereference().type.strip_typedefs().fields()):
        return t["loop"]
    return gdb.parse_and_eval("co__loops")[int(t["timer"]["co__owner"])]


def _bodies():
    """fn address -> (name, file), from the records CO_ASYNC makes."""
    out = {}
    try:
        b = gdb.parse_and_eval("'inspect.c'::bodies")
    except gdb.error:
        return out
    while _ptr(b):
        out[_ptr(b["fn"])] = (b["name"].string(), b["file"].string())
        b = b["next"]
    return out


def _body(bodies, fn):
    at = _ptr(fn)
    if at in bodies:
        return bodies[at]
    block = gdb.block_for_pc(at)
    func = block.function if block else None
    if func is None:
        return ("<body 0x%x>" % at, "?")
    name = func.name[:-3] if func.name.endswith("_fn") else func.name
    return (name, func.symtab.filename if func.symtab else "?")


class Loop:
    def __init__(self, loop):
        self.loop = loop
        self.task_t = gdb.lookup_type("co_task")
        self.gen_p = gdb.lookup_type("co_gen").pointer()
        self.char_p = gdb.lookup_type("char").pointer()
        self.bodies = _bodies()

    def tasks(self):
        # a slot a task left is NULL until the registry closes up its gaps
        slots = (self.loop["tasks"][i] for i in range(int(self.loop["ntasks"])))
        return [t for t in slots if _ptr(t)]

    def name(self, t):
        reg = int(t["reg"])
        names = self.loop["names"]
        if _ptr(names) and reg < int(self.loop["cap_names"]) and _ptr(names[reg]):
            return names[reg].string()
        return "Task-%d" % int(t["id"])

    def root(self, t):
        return (t.cast(self.char_p) + self.task_t.sizeof).cast(self.gen_p)

    def frames(self, t):
        f = self.root(t)
        while True:
            yield f
            sub = int(f["sub"])
            if sub == 0:
                return
            f = (f.cast(self.char_p) + sub).cast(self.gen_p)

    def state(self, t):
        flags, root = int(t["flags"]), self.root(t)
        if flags & T_DONE:
            err = int(root["err"]) if int(root["flags"]) & 3 == CO_CLOSED else 0
            return "cancelled" if err == CO_ECANCELLED else "finished (%d)" % err
        if not flags & T_SPAWNED:
            return "not scheduled"
        if int(root["flags"]) & 3 == CO_CREATED:
            return "pending, not started"
        if _ptr(self.loop["current"]) == _ptr(t):
            return "running"
        return "pending" + self.wait_for(t)

    def wait_for(self, t):
        w = int(t["wait"])
        if w == W_READY:
            return ", ready"
        if w == W_TIMER:
            slot = int(t["timer"]["slot"])
            if slot == 0:
                return ", wait_for=<sleep>"
            timers = self.loop["timers"]
            if slot & 0x80000000:  # CO__LANE: a position in the lane's ring
                entry = timers["lane"][slot & (int(timers["lane_cap"]) - 1)]
            else:
                entry = timers["a"][slot - 1]
            left = int(entry["deadline"]) - int(self.loop["now"])
            return ", wait_for=<sleep, %d ms left>" % max(0, (left + 999999) // 1000000)
        if w == W_TASK:
            other = t["wait_on"].cast(self.task_t.pointer())
            return ", wait_for=<Task '%s'>" % self.name(other)
        return ", wait_for=<%s>" % WAITS.get(w, "wait kind %d" % w) if w else ""

    def awaited(self, t):
        if int(t["wait"]) == W_TASK and not int(t["flags"]) & T_DONE:
            return t["wait_on"].cast(self.task_t.pointer())
        return None

    def describe(self, t):
        return "Task '%s' %s" % (self.name(t), self.state(t))

    def chain(self, t):
        lines, hops = [], 0
        while t is not None and hops <= len(self.tasks()):
            for f in self.frames(t):
                name, file = _body(self.bodies, f["fn"])
                lines.append('    File "%s", line %d, in %s' % (file, int(f["line"]), name))
            t, hops = self.awaited(t), hops + 1
            if t is not None:
                lines.append("    awaiting %s:" % self.describe(t))
        return lines


def _the_loop(arg):
    if arg.strip():
        return gdb.parse_and_eval(arg)
    try:
        loop = gdb.parse_and_eval("co__running")
        if _ptr(loop):
            return loop
    except gdb.error:
        pass
    raise gdb.GdbError("corio-tasks: no loop runs in this thread; name one: corio-tasks LOOP")


class CorioTasks(gdb.Command):
    """corio-tasks [LOOP]: every live task of a corio loop (default: the one
running in this thread), with its name, its state and its await chain,
outermost frame first."""

    def __init__(self):
        super().__init__("corio-tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        view = Loop(_the_loop(arg))
        tasks = view.tasks()
        gdb.write("corio-tasks: %d tasks on loop 0x%x\n" % (len(tasks), _ptr(view.loop)))
        for t in tasks:
            gdb.write("* %s  (co_task *) 0x%x\n" % (view.describe(t), _ptr(t)))
            if not int(t["flags"]) & T_DONE:
                for line in view.chain(t):
                    gdb.write(line + "\n")


class TaskPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        t = self.val.address
        return "co_task " + Loop(_task_loop(t)).describe(t)


def _lookup(val):
    t = val.type.strip_typedefs()
    return TaskPrinter(val) if t.code == gdb.TYPE_CODE_STRUCT and t.tag == "co_task" else None


CorioTasks()
gdb.pretty_printers.append(_lookup)
