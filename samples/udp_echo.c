/*
 * udp_echo.c -- a UDP echo server and a client of it on one loop: the
 * server sends every datagram back to where it came from; the client looks
 * "localhost" up, sends a few pings and prints what comes back.
 *
 * The Python it mirrors (udp_echo.py, asyncio's sock_recvfrom / sock_sendto):
 *
 *     async def server(sock):
 *         while True:
 *             data, peer = await loop.sock_recvfrom(sock, 1500)
 *             await loop.sock_sendto(sock, data, peer)
 *
 *     async def client(port, count):
 *         infos = await loop.getaddrinfo("localhost", port, family=AF_INET)
 *         sock = socket.socket(AF_INET, SOCK_DGRAM); sock.setblocking(False)
 *         for i in range(count):
 *             await loop.sock_sendto(sock, f"ping {i}".encode(), infos[0][4])
 *             data, _ = await loop.sock_recvfrom(sock, 1500)
 *             print("client got", data.decode())
 *
 * Run: udp_echo [--port N] [--count N] [--serve].  --serve runs only the
 * server (try it with `nc -u 127.0.0.1 N`), until Ctrl-C.
 */
#define _POSIX_C_SOURCE 200809L

#include <corio/corio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CO_ASYNC(server, int fd; co_dgram d; co_addr peer; char buf[1500];)
    for (;;) {
        CO_RECVFROM(self, d, self->fd, self->buf, sizeof self->buf, &self->peer);
        if (self->d.result < 0) {
            fprintf(stderr, "server: %s\n", co_strerror((int)self->d.result));
            break;
        }
        CO_SENDTO(self, d, self->fd, self->buf, (size_t)self->d.result, &self->peer);
    }
CO_ASYNC_END

CO_ASYNC(client, int port, count, i, fd; server *srv; co_lookup lk; co_addr to; co_dgram d;
         char out[64], in[1500];)
    self->fd = -1;
    CO_GETADDRINFO(self, lk, "localhost", self->port, AF_INET, &self->to, 1);
    if (self->lk.result < 0) {
        fprintf(stderr, "localhost: %s\n", co_strerror(self->lk.result));
        CO_RETURN_VOID(self);
    }
    self->fd = co_dgram_open(AF_INET, NULL, NULL);
    if (self->fd < 0) {
        fprintf(stderr, "socket: %s\n", co_strerror(self->fd));
        CO_RETURN_VOID(self);
    }
    for (self->i = 0; self->i < self->count; self->i++) {
        snprintf(self->out, sizeof self->out, "ping %d", self->i);
        CO_SENDTO(self, d, self->fd, self->out, strlen(self->out), &self->to);
        if (self->d.result < 0)
            break;
        CO_RECVFROM(self, d, self->fd, self->in, sizeof self->in - 1, NULL);
        if (self->d.result < 0)
            break;
        self->in[self->d.result] = '\0';
        printf("client got %s\n", self->in);
    }
    if (self->d.result < 0)
        fprintf(stderr, "client: %s\n", co_strerror((int)self->d.result));
    CO_FINALLY(self)
    {
        if (self->fd >= 0)
            co_fd_close(co_running_loop(), self->fd);
        co_cancel(&self->srv->gen); /* the demo is over */
    }
CO_ASYNC_END

int main(int argc, char **argv)
{
    int port = 0, count = 3, rc;
    bool serve = false;
    co_loop *loop;
    co_addr addr;
    server *srv;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (strcmp(argv[i], "--serve") == 0)
            serve = true;
        else {
            fprintf(stderr, "usage: udp_echo [--port N] [--count N] [--serve]\n");
            return 2;
        }
    }
    if ((rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "loop: %s\n", co_strerror(rc));
        return 1;
    }
    co_addr_ip(&addr, "127.0.0.1", port);
    srv = CO_TASK(loop, server, );
    if (srv == NULL || (srv->fd = co_dgram_open(0, &addr, NULL)) < 0) {
        fprintf(stderr, "server: %s\n", co_strerror(srv ? srv->fd : CO_ENOMEM));
        co_loop_free(loop);
        return 1;
    }
    co_sockname(srv->fd, &addr);
    fprintf(stderr, "serving on 127.0.0.1:%d\n", co_addr_port(&addr));
    if (serve)
        rc = co_run(loop, &srv->gen);
    else {
        client *c = CO_TASK(loop, client, );
        if (c == NULL) {
            co_loop_free(loop);
            return 1;
        }
        c->port = co_addr_port(&addr);
        c->count = count;
        c->srv = srv;
        co_spawn(&srv->gen);
        rc = co_run(loop, &c->gen);
    }
    co_fd_close(loop, srv->fd);
    co_loop_free(loop);
    return rc == 0 || rc == CO_EINTERRUPTED ? 0 : 1;
}
