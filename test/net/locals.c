/*
 * locals.c -- C locals passed to the socket and readiness awaits (accept,
 * connect, recv, send, fd waits): each is evaluated once, a pointer local to
 * frame storage works across the wait, a connect's address may be a C local
 * (it is read before the connect waits), and a co_io, buffer or peer address
 * on the C stack is refused with CO_ESTACKARG.  A scribbler overwrites the
 * stack while the awaits are suspended.
 */
#include "net.h"

#include <string.h>
#include <unistd.h>

TestSuite(net_locals, .init = net_reset);

/* Connects late (from an address in a C local), then sends "hello" late. */
typedef struct {
    co_gen gen;
    const co_addr *addr;
    co_io io;
    int fd, evals;
    char out[8];
} client;

static int client_fn(co_gen *g)
{
    client *self = (client *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 3);
    {
        co_addr addr = *self->addr;
        co_io *io = &self->io;
        int ms = 1000;
        CO_CONNECT(self, RT_ARG(self, io), RT_ARG(self, &addr), RT_ARG(self, ms));
    }
    self->fd = (int)self->io.result;
    cr_assert_geq(self->fd, 0, "%s", co_strerror(self->fd));
    CO_SLEEP(self, 3);
    memcpy(self->out, "hello", 5);
    {
        co_io *io = &self->io;
        int fd = self->fd;
        char *buf = self->out;
        size_t n = 5;
        CO_SEND_ALL(self, RT_ARG(self, io), RT_ARG(self, fd), RT_ARG(self, buf), RT_ARG(self, n));
    }
    cr_assert_eq(self->io.result, 5);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int lfd, fd, evals;
    co_io io;
    co_addr peer;
    char in[8];
    int64_t readable_at;
    int refused[4];
    co_try tries[1];
} server;

static int server_fn(co_gen *g)
{
    server *self = (server *)g;
    CO_BEGIN(self);
    {
        co_io *io = &self->io;
        int lfd = self->lfd;
        co_addr *peer = &self->peer;
        CO_ACCEPT(self, RT_ARG(self, io), RT_ARG(self, lfd), RT_ARG(self, peer));
    }
    self->fd = (int)self->io.result;
    cr_assert_geq(self->fd, 0, "%s", co_strerror(self->fd));
    {
        int fd = self->fd;
        CO_WAIT_READABLE(self, RT_ARG(self, fd));
    }
    self->readable_at = net_ms();
    {
        co_io *io = &self->io;
        int fd = self->fd;
        char *buf = self->in;
        size_t n = 5;
        CO_RECV_EXACTLY(self, RT_ARG(self, io), RT_ARG(self, fd), RT_ARG(self, buf), RT_ARG(self, n));
    }
    cr_assert_eq(self->io.result, 5);
    {
        int fd = self->fd;
        CO_WAIT_WRITABLE(self, RT_ARG(self, fd));
    }
    CO_TRY(self)
    {
        char local[8];
        CO_RECV(self, &self->io, self->fd, local, sizeof local);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[0] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_TRY(self)
    {
        char local[8] = "bye";
        CO_SEND_ALL(self, &self->io, self->fd, local, 3);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[1] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_TRY(self)
    {
        co_io io;
        CO_RECV(self, &io, self->fd, self->in, sizeof self->in);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[2] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_TRY(self)
    {
        co_addr peer;
        CO_ACCEPT(self, &self->io, self->lfd, &peer);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[3] = CO_ESTACKARG; }
    CO_TRY_END(self);
    co_fd_close(co_running_loop(), self->fd);
    CO_END(self);
}

Test(net_locals, socket_awaits)
{
    co_loop *loop = net_loop();
    co_addr addr;
    server *s = CO_NEW(loop, server, server_fn);
    client *c = CO_NEW(loop, client, client_fn);
    cr_assert(s && c);
    s->lfd = tcp_listener(4, &addr);
    c->addr = &addr;
    rt_spawn(&c->gen);
    rt_spawn_scribbler(loop);
    cr_expect_eq(co_run(loop, &s->gen), 0, "%s", co_strerror(co_task_result(&s->gen)));
    cr_expect_eq(memcmp(s->in, "hello", 5), 0);
    cr_expect_eq(s->readable_at, 6);
    cr_expect_eq(s->evals, 3 + 1 + 4 + 1);
    cr_expect_eq(c->evals, 3 + 4);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(s->refused[i], CO_ESTACKARG, "await %d", i);
    cr_expect_eq(co_addr_port(&s->peer) > 0, true, "the peer address was written");
    co_fd_close(loop, c->fd);
    close(s->lfd);
    co_release(&s->gen);
    co_release(&c->gen);
    rt_free_loop(loop);
}
