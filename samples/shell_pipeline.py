"""`first | second` as a shell runs it (the Python twin of shell_pipeline.c).

    python3 samples/shell_pipeline.py [CMD1 ARGS... '|' CMD2 ARGS...]
"""
import asyncio
import os
import sys


async def pipeline(cmd1, cmd2, done):
    r, w = os.pipe()
    try:
        first = await asyncio.create_subprocess_exec(*cmd1, stdout=w)
        second = await asyncio.create_subprocess_exec(*cmd2, stdin=r,
                                                      stdout=asyncio.subprocess.PIPE)
    finally:
        os.close(r)  # the children hold the pipe now
        os.close(w)
    out, _ = await second.communicate()
    await first.wait()
    sys.stdout.write(out.decode())
    print("exit statuses:", first.returncode, second.returncode)
    done.set()


async def ticker(done):
    ticks = 0
    while not done.is_set():
        await asyncio.sleep(0.001)
        ticks += 1
    return ticks


async def main(cmd1, cmd2):
    done = asyncio.Event()
    ticks = asyncio.create_task(ticker(done))
    await pipeline(cmd1, cmd2, done)
    print(f"(the loop ticked {await ticks} times meanwhile)", file=sys.stderr)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args:
        if "|" not in args or args.index("|") in (0, len(args) - 1):
            sys.exit("usage: shell_pipeline.py [CMD1 ARGS... '|' CMD2 ARGS...]")
        bar = args.index("|")
        cmd1, cmd2 = args[:bar], args[bar + 1:]
    else:
        cmd1, cmd2 = ["printf", "pear\\napple\\nfig\\n"], ["sort"]
    asyncio.run(main(cmd1, cmd2))
