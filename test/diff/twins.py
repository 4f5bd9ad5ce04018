#!/usr/bin/env python3
"""The Python halves of the differential test of corio's generator core.

Usage: twins.py SHAPE SEEDS COUNT

For each seed in 0..SEEDS-1 this draws a random walk of COUNT operations
(new p / next / send v / throw KIND / close) over one generator shape, runs it
on the Python generator and prints a header line, then one language-neutral
trace line per operation:

    # shape SHAPE seed N
    <i> <op> [arg] => <outcome> | <state> | <log entries, or ->

The operation sequence is drawn here, once: the C test (diff_test.c) replays
the operation part of each line on the shape's C twin (twins.c) and must print
the very same line.  Every name that appears in a trace -- outcomes, states,
error kinds, log entries -- is spelt identically on both sides.
"""

import inspect
import os
import random
import sys


class E1(Exception):
    """A user error; the C twins throw it as -101."""


class E2(Exception):
    """A user error; -102 in C."""


class E3(Exception):
    """A user error; -103 in C."""


# Errors a generator raises or has thrown into it, by their neutral names.
RAISED = {E1: 'E1', E2: 'E2', E3: 'E3', GeneratorExit: 'EXIT'}
THROWABLE = {name: cls for cls, name in RAISED.items()}
THROWABLE['STOP'] = StopIteration  # thrown in by the PEP 479 shape only


def kind(exc):
    """The neutral name of a Python exception, or None for an unexpected one.

    Protocol errors are recognised by type and message, so that an unrelated
    TypeError, say, is never mistaken for "send to a just-started generator".
    """
    if type(exc) in RAISED:
        return RAISED[type(exc)]
    if type(exc) is StopIteration:  # seen unwinding, before PEP 479 converts it
        return 'exhausted'
    text = str(exc)
    if type(exc) is RuntimeError and 'generator raised StopIteration' in text:
        return 'stop-iteration'
    if type(exc) is TypeError and 'just-started' in text:
        return 'not-started'
    if type(exc) is RuntimeError and 'ignored GeneratorExit' in text:
        return 'ignored-close'
    if type(exc) is ValueError and 'already executing' in text:
        return 'running'
    return None


def attempt(gen, call, closing=False):
    """Runs one operation on gen and names its outcome as the C side does.

    Python raises StopIteration both when a generator finishes and on every
    later resume; only the first carries the return value, so the state
    before the call tells "return v" from "exhausted" (C: CO_EEXHAUSTED).
    """
    before = inspect.getgeneratorstate(gen)
    try:
        value = call()
    except StopIteration as stop:
        if before == inspect.GEN_CLOSED:
            return 'exhausted'
        return f'return {stop.value}'
    except BaseException as exc:  # GeneratorExit is not an Exception
        name = kind(exc)
        if name is None:
            raise
        return f'raise {name}' if type(exc) in RAISED else name
    return 'closed' if closing else f'yield {value}'


def unwinding():
    """What a finally clause is unwinding: an error kind, or '-' if none."""
    exc = sys.exc_info()[1]
    if exc is None:
        return '-'
    return kind(exc) or repr(exc)


def state(gen):
    return inspect.getgeneratorstate(gen)[len('GEN_'):]


class Context:
    """What one generator instance shares with the driver: its log of
    events, itself (for re-entry), and the child generators it created."""

    def __init__(self):
        self.log = []
        self.top = None
        self.kids = {}


# ------------------------------------------------------------------ shapes
# Each is mirrored line for line by a C twin in twins.c.

def counter(ctx, n):
    for i in range(n):
        yield i
    return n


def accumulator(ctx, limit):
    total = 0
    while True:
        x = yield total
        if x is None:
            continue
        if x == 0:
            return total
        total += x
        if total > limit:
            ctx.log.append(f'over:{total}')
            raise E3()


def child(ctx, n):
    total = 0
    for i in range(n):
        x = yield i
        if x is not None:
            total += x
    return total


def delegator(ctx, n):
    total = 0
    for k in range(2):
        sub = ctx.kids['child'] = child(ctx, n + k)
        r = yield from sub
        ctx.log.append(f'child-ret:{r}')
        total += r
        yield 100 + r
    return total


def cleanup(ctx, n):
    ctx.log.append('open')
    try:
        for i in range(n):
            x = yield i
            if x is not None:
                ctx.log.append(f'got:{x}')
        return n
    finally:
        ctx.log.append('cleanup:' + unwinding())


def catcher(ctx, n):
    i = 0
    caught = 0
    while i < n:
        try:
            yield i
        except E1:
            caught += 1
            ctx.log.append('caught:E1')
            yield -1
        except E2:
            caught += 1
            ctx.log.append('caught:E2')
        i += 1
    return caught


def stubborn(ctx, k):
    """Ignores the first k closes (yields again), then gives in."""
    i = 0
    ignored = 0
    while True:
        try:
            yield i
        except GeneratorExit:
            ctx.log.append('exit-caught')
            if ignored >= k:
                ctx.log.append('give-up')
                raise
            ignored += 1
        i += 1
        if i > 12:
            return i


def finyield(ctx, n):
    try:
        for i in range(n):
            yield i
    finally:
        ctx.log.append('finally:' + unwinding())
        yield 100
        ctx.log.append('finally-done')
    return n


def finsend(ctx, n):
    try:
        for i in range(n):
            yield i
    finally:
        ctx.log.append('finally:' + unwinding())
        x = yield 100
        ctx.log.append('finally-got:' + ('-' if x is None else str(x)))
    return n


def leaf(ctx, n):
    me = ctx.kids['leaf']
    mid_gen = ctx.kids['mid']
    ctx.log.append(f'leaf-start:{state(ctx.top)}/{state(mid_gen)}/{state(me)}')
    ctx.log.append('top-next:' + attempt(ctx.top, lambda: next(ctx.top)))
    ctx.log.append('mid-next:' + attempt(mid_gen, lambda: next(mid_gen)))
    total = 0
    try:
        for i in range(n):
            try:
                x = yield 10 + i
            except E2:
                ctx.log.append('leaf-caught:E2')
                continue
            if x is not None:
                total += x
        return total
    finally:
        ctx.log.append('leaf-finally:' + unwinding())


def mid(ctx, n):
    got = 0
    for k in range(2):
        sub = ctx.kids['leaf'] = leaf(ctx, n + k)
        try:
            r = yield from sub
        except E1:
            ctx.log.append('mid-caught:E1')
            got -= 1
            continue
        ctx.log.append(f'leaf-ret:{r}')
        got += r
    return got


def deep(ctx, n):
    try:
        sub = ctx.kids['mid'] = mid(ctx, n)
        r = yield from sub
        ctx.log.append(f'mid-ret:{r}')
        yield r
    finally:
        ctx.log.append('top-finally:' + unwinding())
    return r


def closefwd(ctx, k):
    try:
        sub = ctx.kids['child'] = stubborn(ctx, k)
        r = yield from sub
        ctx.log.append(f'child-ret:{r}')
        return r
    finally:
        ctx.log.append('outer-finally:' + unwinding())


def reenter(ctx, n):
    me = ctx.top
    for i in range(n):
        ctx.log.append('next:' + attempt(me, lambda: next(me)))
        ctx.log.append('send:' + attempt(me, lambda: me.send(1)))
        ctx.log.append('throw:' + attempt(me, lambda: me.throw(E1())))
        ctx.log.append('close:' + attempt(me, me.close, closing=True))
        ctx.log.append('state:' + state(me))
        yield i
    return n


# ---------------------------------------------- recursion, try, PEP 479

def tree(seed):
    """A binary tree of random shape, (left, value, right) or None, drawn by
    an LCG that twins_grown.c runs step for step."""
    s = seed * 7919 + 1

    def rnd():
        nonlocal s
        s = (s * 1103515245 + 12345) & 0x7fffffff
        return s >> 16

    def build(d):
        if d == 6 or (d > 0 and rnd() % 3 == 0):
            return None
        left = build(d + 1)
        value = rnd() % 100
        right = build(d + 1)
        return (left, value, right)
    return build(0)


def inorder(ctx, t):
    """PEP 380's in-order walk, recursive, with handlers at every level."""
    if t is None:
        return 0
    left, value, right = t
    try:
        n = yield from inorder(ctx, left)
        x = yield value
        if x is not None:
            ctx.log.append(f'got:{x}@{value}')
            if x == 9:
                raise E3()
        try:
            m = yield from inorder(ctx, right)
        except E2:
            ctx.log.append(f'caught:E2@{value}')
            m = -1
        return n + m + 1
    finally:
        ctx.log.append(f'leave:{value}:{unwinding()}')


def trynest(ctx, p):
    """Three try statements nested around a loop of yields: p picks what the
    middle one catches and what the outer one does; a sent value picks what
    the innermost body does (raise E1/E2/E3, return, break)."""
    total = 0
    try:
        for i in range(4):
            stop = False
            try:
                try:
                    x = yield i
                    if x is not None:
                        ctx.log.append(f'op:{x}')
                        if x == 1:
                            raise E1()
                        if x == 2:
                            raise E2()
                        if x == 3:
                            raise E3()
                        if x == 4:
                            return total
                        stop = x == 5
                        total += x
                except E1:
                    ctx.log.append('C-caught:E1')
                    x = yield 10 + i
                    ctx.log.append('C-got:' + ('-' if x is None else str(x)))
                    if x == 2:
                        raise E2()
                else:
                    ctx.log.append('C-else')
                finally:
                    ctx.log.append('C-finally:' + unwinding())
                if stop:
                    break
            except E2:
                ctx.log.append('B-caught:E2')
            except (E3 if p % 2 else E2):
                ctx.log.append('B-caught:E3')
                yield 20 + i
            finally:
                ctx.log.append('B-finally:' + unwinding())
        ctx.log.append(f'loop-done:{total}')
        return total
    except Exception as e:
        ctx.log.append('A-caught:' + kind(e))
        if p & 2:
            raise E1()
        return -1
    finally:
        ctx.log.append('A-finally:' + unwinding())
        if p & 4:
            yield 99


def stopper(ctx, n):
    for i in range(n):
        x = yield i
        if x == 6:
            raise StopIteration()
    return n


def pep479(ctx, p):
    """StopIteration escaping a body, by next() of an exhausted generator, a
    raise, a throw, or from a delegated child: RuntimeError (PEP 479)."""
    inner = ctx.kids['inner'] = counter(ctx, p % 3)
    total = 0
    try:
        sub = ctx.kids['child'] = stopper(ctx, 2 + p % 2)
        r = yield from sub
        ctx.log.append(f'child-ret:{r}')
        while True:
            x = yield total
            if x is not None and x >= 7:
                try:
                    raise StopIteration()
                except StopIteration:
                    ctx.log.append('stop-caught')
                continue
            if x == 5:
                raise StopIteration()
            total += next(inner)
    finally:
        ctx.log.append('finally:' + unwinding())


class Shape:
    """A shape's row: its generator function, how the drawn p becomes its
    parameter, the children whose states the trace shows, how many values
    `new` draws p from, what walks throw in, and whether the trace shows the
    yield-from depth even without children (twins.h's struct twin)."""

    THROWS = ('E1', 'E1', 'E2', 'E2', 'E3', 'EXIT')

    def __init__(self, fn, param=lambda p: p, kids=(), news=6, throws=THROWS, chain=False):
        self.fn, self.param, self.kids = fn, param, kids
        self.news, self.throws, self.chain = news, throws, chain


SHAPES = {
    'counter': Shape(counter),
    'accumulator': Shape(accumulator, lambda p: 10 + 5 * p),
    'delegator': Shape(delegator, kids=('child',)),
    'cleanup': Shape(cleanup),
    'catcher': Shape(catcher),
    'stubborn': Shape(stubborn, lambda p: p % 3),
    'finyield': Shape(finyield),
    'finsend': Shape(finsend),
    'deep': Shape(deep, kids=('mid', 'leaf')),
    'closefwd': Shape(closefwd, lambda p: p % 3, kids=('child',)),
    'reenter': Shape(reenter),
    # recursion, try statements and PEP 479 (twins_grown.c)
    'treewalk': Shape(inorder, tree, news=1000, chain=True),
    'trynest': Shape(trynest, news=8),
    'pep479': Shape(pep479, kids=('inner', 'child'),
                    throws=('E1', 'E2', 'STOP', 'STOP', 'EXIT')),
}


# ------------------------------------------------------------------ driver

def draw_op(rng, gen, shape):
    """The next operation of the walk; a finished generator is often
    replaced, so that the walk keeps exercising live ones."""
    if gen is None:
        return 'new', rng.randrange(shape.news)
    if inspect.getgeneratorstate(gen) == inspect.GEN_CLOSED and rng.random() < 0.4:
        return 'new', rng.randrange(shape.news)
    r = rng.random()
    if r < 0.40:
        return 'next', None
    if r < 0.65:
        return 'send', rng.randrange(10)
    if r < 0.82:
        return 'throw', rng.choice(shape.throws)
    if r < 0.95:
        return 'close', None
    return 'new', rng.randrange(shape.news)


def describe(ctx, gen, shape):
    """State after an operation: the generator's, its children's, and the
    depth of its gi_yieldfrom chain."""
    parts = [state(gen)]
    for name in shape.kids:
        sub = ctx.kids.get(name)
        parts.append(f'{name}={state(sub) if sub is not None else "-"}')
    if shape.kids or shape.chain:
        depth = 0
        g = gen.gi_yieldfrom
        while g is not None:
            depth += 1
            g = g.gi_yieldfrom
        parts.append(f'yf={depth}')
    return ' '.join(parts)


def walk(name, seed, count, graveyard, out):
    shape = SHAPES[name]
    rng = random.Random(f'{name}/{seed}')
    gen = ctx = None
    out.append(f'# shape {name} seed {seed}')
    for i in range(count):
        op, arg = draw_op(rng, gen, shape)
        if op == 'new':
            ctx = Context()
            graveyard.append(ctx)  # keeps every generator alive: see main()
            gen = ctx.top = shape.fn(ctx, shape.param(arg))
            outcome = 'created'
        elif op == 'next':
            outcome = attempt(gen, lambda: next(gen))
        elif op == 'send':
            outcome = attempt(gen, lambda: gen.send(arg))
        elif op == 'throw':
            outcome = attempt(gen, lambda: gen.throw(THROWABLE[arg]()))
        else:
            outcome = attempt(gen, gen.close, closing=True)
        text = op if arg is None else f'{op} {arg}'
        log = ' '.join(ctx.log) or '-'
        ctx.log.clear()
        out.append(f'{i} {text} => {outcome} | {describe(ctx, gen, shape)} | {log}')


def main(argv):
    if len(argv) != 4 or argv[1] not in SHAPES:
        sys.stderr.write(f'usage: {argv[0]} {{{",".join(SHAPES)}}} SEEDS COUNT\n')
        return 2
    graveyard = []
    out = []
    for seed in range(int(argv[2])):
        walk(argv[1], seed, int(argv[3]), graveyard, out)
    sys.stdout.write('\n'.join(out) + '\n')
    sys.stdout.flush()
    # The graveyard kept every abandoned generator from being finalised
    # (closed) mid-walk, which would log into a trace; at exit the stubborn
    # ones would complain on stderr: leave without finalising.
    os._exit(0)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
