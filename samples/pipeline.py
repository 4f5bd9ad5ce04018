"""A pipeline of generators: producer -> filter -> consumer (the Python twin of pipeline.c).

The producer is pulled with a for loop; every number it yields is pushed on with send() to a
filter, which passes the square of each odd number on to a consumer that keeps a running total.
None marks the end of the stream: the consumer then returns its total, and the filter hands
that result back to whoever sent the None (a generator's return value travels in StopIteration).
"""


def numbers(limit):
    """Producer: 1, 2, ..., limit."""
    for n in range(1, limit + 1):
        print(f"producer: {n}")
        yield n


def odd_squares(target):
    """Filter: sends target the square of each odd number; None ends it with target's result."""
    while True:
        n = yield
        if n is None:
            try:
                target.send(None)
            except StopIteration as done:
                return done.value
        elif n % 2:
            print(f"  filter: {n} -> {n * n}")
            target.send(n * n)
        else:
            print(f"  filter: {n} dropped")


def summer():
    """Consumer: adds up what it is sent; None ends it and returns the total."""
    total = 0
    while True:
        n = yield
        if n is None:
            return total
        total += n
        print(f"    consumer: +{n} = {total}")


consumer = summer()
next(consumer)                  # run it to its first yield, ready for a send
pipe = odd_squares(consumer)
next(pipe)
for n in numbers(6):
    pipe.send(n)
try:
    pipe.send(None)
except StopIteration as done:
    print(f"total: {done.value}")
