"""A generator's states, step by step (the Python twin of states.c).

inspect.getgeneratorstate() tells where a generator is in its life: GEN_CREATED before it first
runs, GEN_RUNNING while its code runs (seen from inside), GEN_SUSPENDED at a yield, GEN_CLOSED
once finished. gi_yieldfrom is the generator it is delegating to with `yield from`, or None.
"""
import inspect


def child():
    print("  child: starts")
    yield 10
    print("  child: walker is", inspect.getgeneratorstate(walker))
    yield 20
    return 30


def walker_body():
    try:
        print("  walker: I am", inspect.getgeneratorstate(walker))
        yield 1
        result = yield from child()
        print("  walker: child returned", result)
        try:
            yield 2
        except ValueError:
            print("  walker: caught ValueError")
        yield 3
    finally:
        print("  walker: finally block")


def report(step, value):
    """One line: what the step returned, the walker's state, whom it delegates to."""
    sub = walker.gi_yieldfrom
    if sub is None:
        delegate = "None"
    else:
        delegate = f"{sub.__name__} ({inspect.getgeneratorstate(sub)})"
    print(f"{step:<18}{value!s:<7}{inspect.getgeneratorstate(walker):<15}{delegate}")


print(f"{'step':<18}{'value':<7}{'walker':<15}gi_yieldfrom")
walker = walker_body()
report("created", "-")
report("next", next(walker))
report("next", next(walker))
report("next", next(walker))
report("next", next(walker))
report("throw ValueError", walker.throw(ValueError))
walker.close()
report("close", "-")
try:
    next(walker)
except StopIteration:
    print("next after close: StopIteration")
