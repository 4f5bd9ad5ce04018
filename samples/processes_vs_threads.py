"""The lecture's "threads or asyncio?" with child processes (the twin of processes_vs_threads.c).

N children that each sleep, waited for by one thread each, then by one asyncio task each.

    python3 samples/processes_vs_threads.py [--children N] [--seconds S]
"""
import asyncio
import subprocess
import sys
import threading
import time


def with_threads(cmd, n):
    ts = [threading.Thread(target=subprocess.run, args=(cmd,)) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


async def with_tasks(cmd, n):
    async def one():
        proc = await asyncio.create_subprocess_exec(*cmd)
        return await proc.wait()

    await asyncio.gather(*(one() for _ in range(n)))


def main(n, seconds):
    cmd = ["sleep", seconds]
    print(f"{n} children, each running: sleep {seconds}")
    t0 = time.monotonic()
    with_threads(cmd, n)
    print(f"threads: {time.monotonic() - t0:.2f} s, {n} threads")
    t0 = time.monotonic()
    asyncio.run(with_tasks(cmd, n))
    print(f"tasks:   {time.monotonic() - t0:.2f} s, 1 thread")


if __name__ == "__main__":
    args, n, seconds = sys.argv[1:], 100, "0.2"
    while args:
        arg = args.pop(0)
        if arg == "--children":
            n = int(args.pop(0))
        elif arg == "--seconds":
            seconds = args.pop(0)
        else:
            sys.exit("usage: processes_vs_threads.py [--children N] [--seconds S]")
    main(n, seconds)
