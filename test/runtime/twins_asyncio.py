#!/usr/bin/env python3
"""The CPython twins of the runtime suite's ordering cases (callback.c,
future.c, asyncio3.c, cond.c, barrier.c, queue_more.c, hops.c), on a virtual clock.

Each scenario prints "== name" and then the lines its C twin logs; the
test `twins` (twins.c) runs this script and compares every scenario with
the trace the C tests assert (twins.h), so the two cannot drift apart.
The loop's clock is virtual: when nothing is ready it jumps to the next
live timer, as corio's autojump does, so times print as exact ms.
"""
import asyncio
import sys

LOG = []


def log(line):
    LOG.append(line)


class VirtualLoop(asyncio.SelectorEventLoop):
    """Time moves only when the loop would wait: straight to the next timer."""

    def __init__(self):
        super().__init__()
        self._vt = 0.0

    def time(self):
        return self._vt

    def _run_once(self):
        if not self._ready:
            live = [h.when() for h in self._scheduled if not h.cancelled()]
            if live:
                self._vt = max(self._vt, min(live))
        super()._run_once()


def ms():
    return round(asyncio.get_running_loop().time() * 1000)


def log_cb(name):
    log(f"{name} at {ms()}")


def run(main):
    loop = VirtualLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


# ------------------------------------------------------------ callback.c

async def stepper(name, steps):
    for i in range(steps):
        log(f"{name} step {i}")
        await asyncio.sleep(0)


async def call_soon_fifo():
    loop = asyncio.get_running_loop()

    def cb2():
        log(f"cb2 at {ms()}")
        loop.call_soon(log_cb, "cb3")

    loop.call_soon(log_cb, "cb1")
    a = asyncio.create_task(stepper("a", 2))
    loop.call_soon(cb2)
    log("main waits")
    await asyncio.sleep(0)
    log("main back")
    await a
    loop.call_soon(log_cb, "re-armed")
    await asyncio.sleep(0)


async def call_later_handles():
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.002)
    loop.call_later(0.010, log_cb, "later 10")
    loop.call_at(loop.time() + 0.005, log_cb, "at +5")
    early = loop.call_later(0.003, log_cb, "cancelled early")
    handles = {}

    def canceller():
        log(f"canceller at {ms()}")
        handles["due"].cancel()

    loop.call_later(0.007, canceller)
    handles["due"] = loop.call_later(0.007, log_cb, "cancelled when due")
    loop.call_later(-0.005, log_cb, "negative delay")
    early.cancel()
    await asyncio.sleep(0.020)
    log(f"main done at {ms()}")


async def soon_cancelled_in_round():
    loop = asyncio.get_running_loop()
    handles = {}

    def canceller():
        log(f"canceller at {ms()}")
        handles["h"].cancel()

    loop.call_soon(canceller)
    handles["h"] = loop.call_soon(log_cb, "cancelled in its round")
    loop.call_soon(log_cb, "kept")
    log("main yields")
    await asyncio.sleep(0)
    log("main back")


async def timer_callbacks_and_sleepers():
    loop = asyncio.get_running_loop()

    async def sleeper():
        await asyncio.sleep(0.010)
        log(f"sleeper wakes at {ms()}")

    async def spinner():
        await asyncio.sleep(0.010)
        for i in range(2):
            log(f"spin {i} at {ms()}")
            await asyncio.sleep(0)

    def cb():
        log(f"cb at {ms()}")
        loop.call_soon(log_cb, "soon from cb")

    s = asyncio.create_task(sleeper())
    await asyncio.sleep(0)  # the sleeper's timer is armed first
    loop.call_later(0.010, cb)
    p = asyncio.create_task(spinner())
    await asyncio.sleep(0)  # and the spinner's last
    await s
    await p


# ------------------------------------------------------------- future.c

async def fut_waiter(f, i):
    try:
        got = await f
        log(f"w{i} got {got} at {ms()}")
    except asyncio.CancelledError:
        log(f"w{i}: task cancelled")
        raise
    except EOFError:
        log(f"w{i}: end of stream before the data expected")
        raise


def fut_scenario(action):
    async def main():
        f = asyncio.get_running_loop().create_future()
        w = [asyncio.create_task(fut_waiter(f, i)) for i in range(3)]
        await asyncio.sleep(0.005)
        if action == "result":
            f.set_result(42)
        elif action == "exception":
            f.set_exception(EOFError())
        elif action == "cancel future":
            f.cancel()
        elif action == "cancel waiter":
            w[1].cancel()
        elif action == "result then cancel":
            f.set_result(42)
            w[1].cancel()
        log("main acted")
        await asyncio.gather(*w, return_exceptions=True)
    return main


async def fut_done_callbacks():
    loop = asyncio.get_running_loop()
    f = loop.create_future()

    def cb(name):
        def fn(fut):
            task = asyncio.current_task()
            log(f"cb {name}, current task {'set' if task else 'none'}")
        return fn

    f.add_done_callback(cb("1"))
    asyncio.create_task(fut_waiter(f, 9))
    await asyncio.sleep(0)
    f.add_done_callback(cb("2"))
    f.add_done_callback(cb("3"))
    gone = cb("gone")
    f.add_done_callback(gone)
    f.add_done_callback(gone)
    assert f.remove_done_callback(gone) == 2
    f.set_result(5)
    log("set")
    await asyncio.sleep(0)
    f.add_done_callback(cb("late"))
    log("added late")
    await asyncio.sleep(0)


# ----------------------------------------------------------- asyncio3.c

async def locker(lock, name):
    async with lock:
        log(f"{name} has it, locked {int(lock.locked())}")
        await asyncio.sleep(0)
    log(f"{name} released, locked {int(lock.locked())}")


def lock_scenario(cancel_a):
    async def main():
        lock = asyncio.Lock()
        await lock.acquire()
        a = asyncio.create_task(locker(lock, "a"))
        await asyncio.sleep(0)
        lock.release()
        log(f"main released, locked {int(lock.locked())}")
        if cancel_a:
            a.cancel()
        late = asyncio.create_task(locker(lock, "late"))
        try:
            await a
        except asyncio.CancelledError:
            pass
        await late
    return main


async def probe(caller):
    same = asyncio.current_task() is caller
    log(f"probe runs in the {'caller' + chr(39) + 's' if same else 'new'} task")
    await asyncio.sleep(0.001)


async def wait_for_forms():
    async def other():
        log("other task steps")

    asyncio.create_task(other())
    me = asyncio.current_task()
    log("3.12 form")
    # what 3.12's wait_for does with a positive timeout
    async with asyncio.timeout(0.1):
        await probe(me)
    log("3.11 form")
    # 3.11's wait_for wraps the coroutine in a task
    await asyncio.wait_for(asyncio.ensure_future(probe(me)), 0.1)


# ------------------------------------------- cond.c, barrier.c, queue_*.c

async def cond_waiter(cond, name):
    async with cond:
        log(f"{name} waits")
        await cond.wait()
        log(f"{name} woke at {ms()}, locked {int(cond.locked())}")


async def cond_notify_fifo():
    cond = asyncio.Condition()
    ws = [asyncio.create_task(cond_waiter(cond, f"w{i}")) for i in range(3)]
    await asyncio.sleep(0.005)
    async with cond:
        cond.notify(1)
        log("notify 1")
    await asyncio.sleep(0.005)
    async with cond:
        cond.notify(2)
        log("notify 2")
    await asyncio.gather(*ws)


async def cond_cancel_relocks():
    cond = asyncio.Condition()

    async def a():
        async with cond:
            try:
                await cond.wait()
            except asyncio.CancelledError:
                log(f"a cancelled at {ms()}, locked {int(cond.locked())}")
                raise

    t = asyncio.create_task(a())
    await asyncio.sleep(0)
    async with cond:
        t.cancel()
        await asyncio.sleep(0.005)
        log(f"main releases at {ms()}")
    try:
        await t
    except asyncio.CancelledError:
        log(f"a ended cancelled, locked {int(cond.locked())}")


async def cond_wait_for():
    cond = asyncio.Condition()
    state = {"n": 0, "checks": 0}

    def enough():
        state["checks"] += 1
        return state["n"] >= 3

    async def waiter():
        async with cond:
            await cond.wait_for(enough)
            log(f"sees {state['n']} at {ms()} after {state['checks']} checks")

    t = asyncio.create_task(waiter())
    for _ in range(5):
        await asyncio.sleep(0.001)
        async with cond:
            state["n"] += 1
            cond.notify_all()
    await t


async def cond_timeouts_equal():
    cond = asyncio.Condition()

    async def timed(name, ms_):
        async with cond:
            try:
                async with asyncio.timeout(ms_ / 1000):
                    await cond.wait()
                log(f"{name} woke at {ms()}")
            except TimeoutError:
                log(f"{name} timed out at {ms()}, locked {int(cond.locked())}")

    a = asyncio.create_task(timed("a", 10))
    b = asyncio.create_task(timed("b", 30))
    await asyncio.sleep(0)
    await asyncio.sleep(0.010)
    async with cond:
        cond.notify(1)
        log(f"notified at {ms()}")
    await asyncio.gather(a, b)


async def barrier_rounds():
    b = asyncio.Barrier(3)

    async def party(name, delay):
        await asyncio.sleep(delay / 1000)
        log(f"{name} arrives at {ms()}, waiting {b.n_waiting}")
        try:
            i = await b.wait()
            log(f"{name} index {i} at {ms()}")
        except asyncio.BrokenBarrierError:
            log(f"{name} broken at {ms()}")
        except asyncio.CancelledError:
            log(f"{name} cancelled at {ms()}, waiting {b.n_waiting}")

    ts = [asyncio.create_task(party(n, d)) for n, d in
          (("a", 0), ("b", 1), ("c", 2), ("d", 2), ("e", 5), ("f", 7), ("g", 9), ("h", 10))]
    await asyncio.sleep(0.006)
    await b.abort()
    log(f"aborted at {ms()}, broken {int(b.broken)}")
    await asyncio.sleep(0.002)
    await b.reset()
    log(f"reset at {ms()}, broken {int(b.broken)}")
    await asyncio.sleep(0.003)
    ts[7].cancel()
    await asyncio.sleep(0.001)
    log(f"at {ms()} waiting {b.n_waiting}")
    await b.reset()
    await asyncio.gather(*ts)


async def queue_join():
    q = asyncio.Queue(4)

    async def worker(name, pause):
        while True:
            item = await q.get()
            await asyncio.sleep(pause / 1000)
            log(f"{name} done {item} at {ms()}")
            q.task_done()

    ws = [asyncio.create_task(worker("w1", 5)), asyncio.create_task(worker("w2", 7))]
    for i in range(5):
        await q.put(i)
    log(f"all put at {ms()}")
    await q.join()
    log(f"joined at {ms()}")
    try:
        q.task_done()
    except ValueError:
        log("task_done too many times")
    for w in ws:
        w.cancel()
    await asyncio.gather(*ws, return_exceptions=True)


class Prio:
    """Compares by priority only, as the C twin's cmp does."""

    def __init__(self, prio, ident):
        self.prio, self.ident = prio, ident

    def __lt__(self, other):
        return self.prio < other.prio


async def queue_priority_ties():
    q = asyncio.PriorityQueue()
    seed = 12345
    out = []
    for ident in range(200):
        seed = (seed * 1103515245 + 12345) % 2**31
        q.put_nowait(Prio(seed >> 16 & 3, ident))
        if seed >> 8 & 1:
            out.append(q.get_nowait().ident)
    while not q.empty():
        out.append(q.get_nowait().ident)
    for i in range(0, len(out), 20):
        log(" ".join(str(x) for x in out[i:i + 20]))


# ------------------------------------------------------------ hops.c

async def hop_child(name, delay, fail=False):
    await asyncio.sleep(delay)
    log(f"{name} ends at {ms()}")
    if fail:
        raise EOFError()


async def hop_spin(name, delay):
    await asyncio.sleep(delay)
    for i in range(4):
        log(f"{name} {i}")
        await asyncio.sleep(0)


async def gather_shield_hops():
    """gather and shield wake their awaiter through a callback of their own:
    two turns of the ready queue after the child ends, not one."""
    a = asyncio.create_task(hop_child("a", 0.003))
    asyncio.create_task(hop_spin("s", 0.003))
    await asyncio.gather(a)
    log(f"gather back at {ms()}")
    await asyncio.sleep(0.001)
    asyncio.create_task(hop_spin("t", 0))
    await asyncio.gather(a)
    log("gather of a done task back")
    await asyncio.sleep(0.001)
    b = asyncio.create_task(hop_child("b", 0.003, fail=True))
    c = asyncio.create_task(hop_child("c", 0.010))
    asyncio.create_task(hop_spin("u", 0.003))
    try:
        await asyncio.gather(b, c)
    except EOFError:
        log(f"gather raised at {ms()}")
    await asyncio.sleep(0.010)
    d = asyncio.create_task(hop_child("d", 0.003))
    asyncio.create_task(hop_spin("v", 0.003))
    await asyncio.shield(d)
    log(f"shield back at {ms()}")
    await asyncio.sleep(0.001)


async def group_hops():
    """A TaskGroup's owner wakes the same way: the member's done callback,
    then the owner."""
    asyncio.create_task(hop_spin("s", 0.003))
    async with asyncio.TaskGroup() as g:
        g.create_task(hop_child("a", 0.003))
        log("body ends")
    log(f"group back at {ms()}")
    await asyncio.sleep(0.001)


SCENARIOS = {
    "call_soon_fifo": call_soon_fifo,
    "call_later_handles": call_later_handles,
    "soon_cancelled_in_round": soon_cancelled_in_round,
    "timer_callbacks_and_sleepers": timer_callbacks_and_sleepers,
    "future_result": fut_scenario("result"),
    "future_exception": fut_scenario("exception"),
    "future_cancel_future": fut_scenario("cancel future"),
    "future_cancel_waiter": fut_scenario("cancel waiter"),
    "future_result_then_cancel": fut_scenario("result then cancel"),
    "future_done_callbacks": fut_done_callbacks,
    "lock_hand_off": lock_scenario(False),
    "lock_hand_off_cancelled": lock_scenario(True),
    "wait_for_forms": wait_for_forms,
    "cond_notify_fifo": cond_notify_fifo,
    "cond_cancel_relocks": cond_cancel_relocks,
    "cond_wait_for": cond_wait_for,
    "cond_timeouts_equal": cond_timeouts_equal,
    "barrier_rounds": barrier_rounds,
    "queue_join": queue_join,
    "queue_priority_ties": queue_priority_ties,
    "gather_shield_hops": gather_shield_hops,
    "group_hops": group_hops,
}


def main():
    names = sys.argv[1:] or list(SCENARIOS)
    for name in names:
        LOG.clear()
        run(SCENARIOS[name])
        print(f"== {name}")
        for line in LOG:
            print(line)


if __name__ == "__main__":
    main()
