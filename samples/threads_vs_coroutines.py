"""Lecture 3's "threads or asyncio?", measured (the Python twin of threads_vs_coroutines.c).

N jobs each wait 10 ms, then square 1000 numbers: one threading.Thread per job, or one
asyncio task per job.  Each run happens in a child process of its own, so that its peak
memory (ru_maxrss) is its own.  The checksum is the C sample's, to the bit.

    python3 samples/threads_vs_coroutines.py [--jobs N[,N...]] [--threads-max N]
"""
import asyncio, os, resource, struct, sys, threading, time

WAIT = 0.010
SQUARES = 1000
MASK = (1 << 64) - 1


def square_numbers(job):
    """The squares of the job's own 1000 numbers, folded into a 64-bit checksum."""
    total = 0
    for i in range(SQUARES):
        x = job * SQUARES + i
        total = ((total ^ (x * x & MASK)) * 0x100000001B3) & MASK
    return total


def run_threads(n):
    results = [0] * n

    def job(j):
        time.sleep(WAIT)
        results[j] = square_numbers(j)

    threads = []
    try:
        for j in range(n):
            t = threading.Thread(target=job, args=(j,))
            t.start()
            threads.append(t)
    finally:
        for t in threads:
            t.join()
    return sum(results) & MASK


def run_tasks(n):
    async def job(j):
        await asyncio.sleep(WAIT)
        return square_numbers(j)

    async def main():
        return await asyncio.gather(*(job(j) for j in range(n)))

    return sum(asyncio.run(main())) & MASK


def run_nothing(n):
    return 0


REPORT = struct.Struct("=?qQQ")  # ok, wall ns, checksum, peak bytes


def measure(run, n):
    """Runs run(n) in a child process: (ok, wall ns, checksum, peak bytes, error text)."""
    r, w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        ok, checksum, error = True, 0, b""
        start = time.monotonic_ns()
        try:
            checksum = run(n)
        except Exception as e:  # a thread the system refuses: RuntimeError
            ok, error = False, str(e).encode()[:200]
        wall = time.monotonic_ns() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak *= 1 if sys.platform == "darwin" else 1024
        os.write(w, REPORT.pack(ok, wall, checksum, peak) + error)
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if len(data) < REPORT.size:
        return False, 0, 0, 0, f"the run ended without a report (status {status})"
    ok, wall, checksum, peak = REPORT.unpack(data[:REPORT.size])
    return ok, wall, checksum, peak, data[REPORT.size:].decode()


def duration(ns):
    return f"{ns / 1e9:.2f} s" if ns >= 1e9 else f"{ns / 1e6:.1f} ms"


def size(b):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            return f"{b / scale:.1f} {unit}"
    return f"{b:.0f} B"


ROW = "{:>10}   {:<12}"


def row(name, run, n, baseline):
    print(ROW.format(f"{n:,}", name), end="", flush=True)
    ok, wall, checksum, peak, error = measure(run, n)
    if not ok:
        print(f"failed: {error}")
        return None
    per_job = max(peak - baseline, 0) / n
    print(f"{duration(wall):>10}   {size(peak):>11}   {size(per_job):>14}   {checksum:016x}")
    return wall, per_job, checksum


def main(argv):
    ns, threads_max = [1000, 10000], 10000
    args = iter(argv)
    try:
        for arg in args:
            value = next(args, "")
            if arg == "--jobs":
                ns = [int(v) for v in value.split(",")]
            elif arg == "--threads-max":
                threads_max = int(value)
            else:
                raise ValueError(arg)
        if min(ns) < 1:
            raise ValueError(value)
    except ValueError:
        print(f"usage: {sys.argv[0]} [--jobs N[,N...]] [--threads-max N]", file=sys.stderr)
        sys.exit(2)
    baseline = measure(run_nothing, 0)[3]

    print(f"N jobs each wait {WAIT * 1000:.0f} ms, then square {SQUARES} numbers: one thread per "
          "job, or\none asyncio task per job (all on one thread).\n")
    print(ROW.format("jobs", "run as") + f"{'wall time':>10}   {'peak memory':>11}   "
          f"{'memory per job':>14}   checksum")
    both = None
    for n in ns:
        t = row("threads", run_threads, n, baseline) if n <= threads_max else None
        if n > threads_max:
            print(ROW.format(f"{n:,}", "threads") + f"not run: more than --threads-max {threads_max:,}")
        a = row("asyncio", run_tasks, n, baseline)
        if t and a:
            both = n, t, a
    print(f"""
memory per job  the run's peak less an idle process's ({size(baseline)}), divided by the jobs

Why: every Thread is an operating-system thread, with a stack of its own, and starting one
is a system call; an asyncio task is a Python object holding a coroutine.  Both ways, the
waits overlap; the squares run one at a time in either, since Python's threads take turns
holding the interpreter.""")
    if both:
        n, t, a = both
        print(f"\nAt {n:,} jobs, the asyncio tasks were done {t[0] / a[0]:.1f} times sooner than the "
              "threads", end="")
        if a[1] > 0 and t[1] > 0:
            print(f",\nwith {t[1] / a[1]:.1f} times less memory per job", end="")
        print(".")


if __name__ == "__main__":
    main(sys.argv[1:])
