# A chat server: every line a client sends goes to every other client.
# A client that drops (even with a reset) leaves the others undisturbed;
# SIGTERM or SIGINT closes it cleanly.  --port 0 picks a free port.
import asyncio, signal, sys

clients = set()

async def handle(reader, writer):
    clients.add(writer)
    print(len(clients), "connected", flush=True)
    try:
        while line := await reader.readline():
            for other in clients:
                if other is not writer:
                    other.write(line)
    except (ConnectionError, ValueError):  # a reset, or a line over the limit
        pass
    finally:
        clients.discard(writer)
        print(len(clients), "connected", flush=True)
        writer.close()

async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("chat on 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    for signo in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signo, stop.set)
    async with server:
        await stop.wait()
        for writer in list(clients):  # server.close_clients() in 3.13
            writer.close()
    print("stopped", flush=True)

if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[2]) if sys.argv[1:2] == ["--port"] else 8888))
