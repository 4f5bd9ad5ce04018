# An async pipeline of three stages, each an async generator over the last:
# numbers (which sleeps before each) -> squares -> running totals.
import asyncio

async def numbers(n):
    for i in range(1, n + 1):
        await asyncio.sleep(0.01)
        yield i

async def squares(source):
    async for x in source:
        yield x * x

async def totals(source):
    total = 0
    async for x in source:
        total += x
        yield total

async def main():
    async for t in totals(squares(numbers(5))):
        print('running total', t)

asyncio.run(main())
