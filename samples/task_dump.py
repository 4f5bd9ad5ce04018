"""task_dump.py -- the Python twin of task_dump.c: `kill -USR1 <pid>` prints
where every task of the loop is waiting (asyncio.all_tasks, Task.print_stack).

Python's print_stack shows a suspended task's outermost coroutine frame only;
task_dump.c shows the whole await chain, as Python 3.14's
asyncio.print_call_graph does.  Run: python3 task_dump.py [--once]."""
import asyncio
import os
import signal
import sys


async def read_body(url):
    await asyncio.sleep(3600)  # dump: read_body


async def fetch(url):
    await read_body(url)  # dump: fetch


async def waiter(task):
    await task  # dump: waiter


async def ticker():
    ticks = 0
    while True:
        await asyncio.sleep(0.1)  # dump: ticker
        ticks += 1


async def dump_on_signal(once):
    loop = asyncio.get_running_loop()
    ev = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, ev.set)  # runs on the loop, not in the handler
    while True:
        await ev.wait()  # dump: dumper
        ev.clear()
        tasks = asyncio.all_tasks()
        print(f"--- {len(tasks)} tasks")
        for t in tasks:
            t.print_stack(file=sys.stdout)
        print("---", flush=True)
        if once:
            break
    loop.remove_signal_handler(signal.SIGUSR1)


async def main(once):
    asyncio.current_task().set_name("main")
    a = asyncio.create_task(fetch("https://example.com/a"), name="fetch-a")
    asyncio.create_task(fetch("https://example.com/b"), name="fetch-b")
    asyncio.create_task(waiter(a), name="waiter")
    asyncio.create_task(ticker(), name="ticker")
    dump = asyncio.create_task(dump_on_signal(once), name="dumper")
    await asyncio.sleep(0)  # every task has taken its first step
    print(f"task_dump: pid {os.getpid()} -- kill -USR1 {os.getpid()} prints its tasks", flush=True)
    await dump  # dump: main


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:] == ["--once"]))
    except KeyboardInterrupt:
        pass
