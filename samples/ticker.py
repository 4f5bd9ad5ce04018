# async for over an async generator that sleeps between its values; the
# loop closes the generator left suspended after the break (its finally).
import asyncio

async def ticks(ms):
    i = 0
    try:
        while True:
            await asyncio.sleep(ms / 1000)
            yield i
            i += 1
    finally:
        print('ticker stopped')

async def main():
    async for t in ticks(100):
        print('tick', t)
        if t == 4:
            break
    print('main done')

asyncio.run(main())
