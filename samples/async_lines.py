# async for line in reader: the lines of a pipe, which a task writes slowly.
import asyncio
import os

async def write_lines(fd):
    for word in ['alpha', 'beta', 'gamma', 'delta']:
        await asyncio.sleep(0.05)
        os.write(fd, f'{word}\n'.encode())
    os.close(fd)

async def lines(reader):
    while line := await reader.readline():
        yield line.decode().rstrip('\n')

async def main():
    rfd, wfd = os.pipe()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(rfd, 'rb'))
    writer = asyncio.create_task(write_lines(wfd))
    n = 0
    async for line in lines(reader):
        n += 1
        print(f'{n}: {line}')
    await writer
    transport.close()
    print(n, 'lines')

asyncio.run(main())
