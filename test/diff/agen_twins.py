#!/usr/bin/env python3
"""The Python half of the differential test of corio's async generators.

Usage: agen_twins.py SHAPE SEEDS COUNT

For each seed in 0..SEEDS-1 this draws a random walk of COUNT operations
(new p / next / send v / throw KIND / close) over one async generator shape,
runs each from a task of asyncio, with a sleep between operations, and
prints one language-neutral line per operation:

    # shape SHAPE seed N
    <i> <op> [arg] => <outcome> | <done|live> | <log entries, or ->

agen_diff.c replays the operation of every line on the shape's C twin
(agen_twins.c) and must print the very same line.  The generators await
(asyncio.sleep(0)) between their yields and in their cleanup.
"""

import asyncio
import random
import sys


class E1(Exception):
    """Caught by the inner yield of `basic`; -7001 in C."""


class E2(Exception):
    """Caught around the loop of `basic`, which then ends; -7002 in C."""


class E3(Exception):
    """Caught by nothing; -7003 in C."""


THROWABLE = {'E1': E1, 'E2': E2, 'E3': E3}
LOG = []


def log(entry):
    LOG.append(entry)


def kind(exc):
    """The neutral name of what an operation raised."""
    for name, cls in THROWABLE.items():
        if type(exc) is cls:
            return name
    text = str(exc)
    if type(exc) is GeneratorExit:
        return 'EXIT'
    if type(exc) is TypeError and 'just-started' in text:
        return 'not-started'
    if type(exc) is RuntimeError and 'ignored GeneratorExit' in text:
        return 'ignored-close'
    if type(exc) is RuntimeError and 'raised StopAsyncIteration' in text:
        return 'stop-iteration'
    raise exc


async def basic(p):
    log('start')
    try:
        i = 0
        while i < p:
            await asyncio.sleep(0)
            try:
                x = yield i * 10
                log('sent None' if x is None else f'sent {x}')
            except E1:
                log('caught E1')
                await asyncio.sleep(0)
                yield -1
            i += 1
        log('end')
    except E2:
        log('caught E2')
    finally:
        log('finally')
        await asyncio.sleep(0)
        log('cleaned')


async def stubborn(p):
    try:
        while True:
            try:
                yield p
            except GeneratorExit:
                log('ignoring exit')
                await asyncio.sleep(0)
                yield p + 100
            p += 1
    finally:
        log('finally')


async def deleg(p):
    """basic(p) delegated to as gen.h's yield-from does, then one more value."""
    log('outer start')
    try:
        inner = basic(p)
        try:
            got = await inner.__anext__()
        except StopAsyncIteration:
            pass
        else:
            while True:
                try:
                    sent = yield got
                except GeneratorExit:
                    await inner.aclose()
                    raise
                except BaseException as exc:  # pylint: disable=broad-except
                    try:
                        got = await inner.athrow(exc)
                    except StopAsyncIteration:
                        break
                else:
                    try:
                        got = await (inner.__anext__() if sent is None else inner.asend(sent))
                    except StopAsyncIteration:
                        break
        log('outer after')
        yield 99
    finally:
        log('outer finally')


SHAPES = {'basic': basic, 'stubborn': stubborn, 'deleg': deleg}


def draw(rnd, ag):
    """One operation: a new generator first (often again once one is done),
    then mostly protocol calls."""
    r = rnd.random()
    if ag is None or r < 0.06 or (ag.ag_frame is None and r < 0.5):
        return ('new', rnd.randrange(0, 4))
    if r < 0.45:
        return ('next', None)
    if r < 0.62:
        return ('send', rnd.randrange(1, 10))
    if r < 0.85:
        return ('throw', rnd.choice(['E1', 'E2', 'E3']))
    return ('close', None)


async def walk(shape, seed, count, kept):
    rnd = random.Random(seed)
    ag = None
    print(f'# shape {shape} seed {seed}')
    for i in range(count):
        op, arg = draw(rnd, ag)
        LOG.clear()
        try:
            if op == 'new':
                ag = SHAPES[shape](arg)
                kept.append(ag)
                value = None
                outcome = 'ok'
            elif op == 'next':
                value = await ag.__anext__()
            elif op == 'send':
                value = await ag.asend(arg)
            elif op == 'throw':
                value = await ag.athrow(THROWABLE[arg])
            else:
                value = await ag.aclose()
            if op != 'new':
                outcome = 'none' if value is None else f'value {value}'
        except StopAsyncIteration:
            outcome = 'stop'
        except BaseException as exc:  # pylint: disable=broad-except
            outcome = 'raise ' + kind(exc)
        state = 'done' if ag.ag_frame is None else 'live'
        text = f'{i} {op}' + ('' if arg is None else f' {arg}')
        print(f'{text} => {outcome} | {state} | {",".join(LOG) or "-"}')
        await asyncio.sleep(0)


async def main(shape, seeds, count):
    kept = []
    for seed in range(seeds):
        await walk(shape, seed, count, kept)
    for ag in kept:  # not traced: what is left is closed quietly
        try:
            await ag.aclose()
        except BaseException:  # pylint: disable=broad-except
            pass
    sys.unraisablehook = lambda unraisable: None  # the stubborn ones, at exit


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
