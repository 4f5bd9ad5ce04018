"""asyncio_http.py -- the benchmark's HTTP hello server on Python's asyncio
streams (or on uvloop with --uvloop): the same replies as hello.h's, one
request at a time per connection, keep-alive.

    asyncio_http.py PORT [--uvloop]

Prints "listening on PORT" once it accepts, then serves until killed.
"""
import asyncio
import sys

REPLY = (b"HTTP/1.1 200 OK\r\n"
         b"Content-Type: text/plain\r\n"
         b"Content-Length: 13\r\n"
         b"\r\n"
         b"Hello, world!")


async def handle(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port):
    # the C servers' backlog: 10,000 connections arrive at once in the memory test
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    print("listening on", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["--uvloop"]):
        sys.exit("usage: asyncio_http.py PORT [--uvloop]")
    if sys.argv[2:] == ["--uvloop"]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(sys.argv[1])))
