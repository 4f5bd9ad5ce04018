#!/usr/bin/python3
"""asyncio_bench.py -- the runtime benchmarks in Python, asyncio or uvloop.

    spawn N [--uvloop]    asyncio.gather of N coroutines that each sleep
                          0.01 s and return their number: wall and CPU time,
                          peak RSS growth (the result line of measure.h).
    sleep0 N [--uvloop]   one task awaiting asyncio.sleep(0) N times.

Run it with Debian's /usr/bin/python3, which has python3-uvloop.
"""
import asyncio
import resource
import sys
import time

USAGE = "asyncio_bench.py spawn N [--uvloop] | sleep0 N [--uvloop]"


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def job(i):
    await asyncio.sleep(0.01)
    return i


async def spawn(n, lib):
    rss0 = peak_rss_kb()
    t0, c0 = time.perf_counter_ns(), time.process_time_ns()
    results = await asyncio.gather(*[job(i) for i in range(n)])
    t1, c1 = time.perf_counter_ns(), time.process_time_ns()
    rss1 = peak_rss_kb()
    if sum(results) != n * (n - 1) // 2:
        sys.exit("spawn: wrong checksum")
    print(f"result bench=spawn lib={lib} n={n} wall_ns={t1 - t0} cpu_ns={c1 - c0} "
          f"rss_kb={rss1 - rss0}")


async def sleep0(n, lib):
    t0, c0 = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(n):
        await asyncio.sleep(0)
    t1, c1 = time.perf_counter_ns(), time.process_time_ns()
    print(f"result bench=sleep0 lib={lib} n={n} wall_ns={t1 - t0} cpu_ns={c1 - c0}")


def main(argv):
    benches = {"spawn": spawn, "sleep0": sleep0}
    if len(argv) not in (3, 4) or argv[1] not in benches or not argv[2].isdigit() \
            or (len(argv) == 4 and argv[3] != "--uvloop"):
        sys.exit("usage: " + USAGE)
    lib = "asyncio"
    if len(argv) == 4:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        lib = "uvloop"
    asyncio.run(benches[argv[1]](int(argv[2]), lib))


if __name__ == "__main__":
    main(sys.argv)
