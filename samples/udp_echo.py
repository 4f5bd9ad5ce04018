"""A UDP echo server and a client of it on one loop (the Python twin of udp_echo.c).

    python3 samples/udp_echo.py [--port N] [--count N] [--serve]
"""
import asyncio
import socket
import sys


async def server(sock):
    loop = asyncio.get_running_loop()
    while True:
        data, peer = await loop.sock_recvfrom(sock, 1500)
        await loop.sock_sendto(sock, data, peer)


async def client(port, count):
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo("localhost", port, family=socket.AF_INET,
                                   type=socket.SOCK_DGRAM)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for i in range(count):
            await loop.sock_sendto(sock, f"ping {i}".encode(), infos[0][4])
            data, _ = await loop.sock_recvfrom(sock, 1500)
            print("client got", data.decode())


async def main(port, count, serve):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(("127.0.0.1", port))
    print(f"serving on 127.0.0.1:{sock.getsockname()[1]}", file=sys.stderr)
    srv = asyncio.create_task(server(sock))
    try:
        if serve:
            await srv
        else:
            await client(sock.getsockname()[1], count)
    finally:
        srv.cancel()
        sock.close()


if __name__ == "__main__":
    args, port, count, serve = sys.argv[1:], 0, 3, False
    while args:
        arg = args.pop(0)
        if arg == "--port":
            port = int(args.pop(0))
        elif arg == "--count":
            count = int(args.pop(0))
        elif arg == "--serve":
            serve = True
        else:
            sys.exit("usage: udp_echo.py [--port N] [--count N] [--serve]")
    try:
        asyncio.run(main(port, count, serve))
    except KeyboardInterrupt:
        pass
