/*
 * lifecycle.c -- sockets and the tasks around them: what accept and connect
 * hand out, closing an fd under a waiting task, misuse, and allocation
 * (cancelling each kind of operation, and timeouts, are in cancel.c).
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(lifecycle, .init = net_reset, .timeout = 30);

/* ------------------------------------------- what accept and connect give */

typedef struct meet {
    co_gen gen;
    int lfd;
    const co_addr *addr;
    co_io in, out;
    co_addr peer;
} meet;

static int meet_fn(co_gen *g)
{
    meet *self = (meet *)g;
    CO_BEGIN(self);
    CO_CONNECT(self, &self->out, self->addr, -1);
    CO_ACCEPT(self, &self->in, self->lfd, &self->peer);
    CO_END(self);
}

static void assert_fd_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), nodelay = 0;
    socklen_t len = sizeof nodelay;
    cr_assert(fl >= 0 && (fl & O_NONBLOCK), "fd %d is blocking", fd);
    cr_assert(fdfl >= 0 && (fdfl & FD_CLOEXEC), "fd %d is not close-on-exec", fd);
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    cr_assert(nodelay, "fd %d waits for Nagle", fd);
}

Test(lifecycle, accept_and_connect_give_nonblocking_cloexec_sockets)
{
    co_addr addr, local;
    meet *m = CO_NEW(net_loop(), meet, meet_fn);
    int rc;
    m->lfd = tcp_listener(4, &addr);
    m->addr = &addr;
    rc = co_run(net.loop, &m->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
    cr_assert_geq(m->out.result, 0, "connect: %s", co_strerror((int)m->out.result));
    cr_assert_geq(m->in.result, 0, "accept: %s", co_strerror((int)m->in.result));
    cr_assert_eq(m->out.fd, (int)m->out.result, "io.fd is the connected socket");
    assert_fd_flags((int)m->out.result);
    assert_fd_flags((int)m->in.result);
    /* the peer address accept reports is the connecting socket's own */
    cr_assert_eq(co_sockname((int)m->out.result, &local), 0);
    cr_assert_eq(m->peer.u.sa.sa_family, AF_INET);
    cr_assert_eq(m->peer.len, sizeof(struct sockaddr_in));
    cr_assert_eq(co_addr_port(&m->peer), co_addr_port(&local));
    co_fd_close(net.loop, (int)m->out.result);
    co_fd_close(net.loop, (int)m->in.result);
    close(m->lfd);
    rt_free_loop(net.loop);
}

/* ------------------------------------------------- closing under a wait */

typedef struct peeker {
    co_gen gen;
    int fd;
    bool woke, spurious;
    char got[8];
} peeker;

/* Waits for fd with the plain readiness await, then checks that data is
 * really there: a wake-up meant for an older fd of that number is not. */
static int peeker_fn(co_gen *g)
{
    peeker *self = (peeker *)g;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd);
    self->woke = true;
    self->spurious = recv(self->fd, self->got, sizeof self->got, MSG_DONTWAIT) < 0;
    CO_END(self);
}

typedef struct receiver {
    co_gen gen;
    int fd;
    co_io io;
    char buf[8];
    bool cleaned;
} receiver;

static int receiver_fn(co_gen *g)
{
    receiver *self = (receiver *)g;
    CO_BEGIN(self);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    CO_FINALLY(self) { self->cleaned = true; }
    CO_END(self);
}

typedef struct reuse {
    co_gen gen;
    int a[2], b[2], old;
    receiver *first;
    peeker *second;
    bool second_done_early;
} reuse;

static int reuse_fn(co_gen *g)
{
    reuse *self = (reuse *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    self->first = CO_NEW(loop, receiver, receiver_fn);
    self->first->fd = self->a[0];
    co_spawn(&self->first->gen);
    CO_SLEEP(self, 1); /* the receiver now waits on a[0] */
    /* a duplicate keeps a[0]'s socket alive after the close: events for it
       could still come out of a backend that was not told */
    self->old = dup(self->a[0]);
    co_fd_close(loop, self->a[0]);
    /* the same number, now another socket */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, self->b) < 0)
        CO_RAISE(self, -errno);
    self->second = CO_NEW(loop, peeker, peeker_fn);
    self->second->fd = self->b[0];
    co_spawn(&self->second->gen);
    CO_SLEEP(self, 1);
    /* the old socket becomes readable; the new one must not hear of it */
    if (write(self->a[1], "stale", 5) != 5)
        CO_RAISE(self, -errno);
    CO_SLEEP(self, 5);
    self->second_done_early = co_done(&self->second->gen);
    if (write(self->b[1], "fresh", 5) != 5)
        CO_RAISE(self, -errno);
    CO_AWAIT_TASK(self, &self->second->gen);
    CO_END(self);
}

Test(lifecycle, closing_under_a_waiter_wakes_it_and_leaves_no_stale_events)
{
    reuse *m = CO_NEW(net_loop(), reuse, reuse_fn);
    int rc;
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, m->a), 0);
    rc = co_run(net.loop, &m->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
    cr_assert_eq(m->first->io.result, -EBADF, "the waiter got %s",
                 co_strerror((int)m->first->io.result));
    cr_assert_eq(co_task_result(&m->first->gen), 0, "-EBADF is a result, not raised");
    cr_assert_eq(m->b[0], m->a[0], "the test needs the number reused");
    cr_assert_not(m->second_done_early, "an event of the closed fd reached its successor");
    cr_assert(m->second->woke);
    cr_assert_not(m->second->spurious);
    cr_assert_arr_eq(m->second->got, "fresh", 5);
    close(m->old);
    close(m->a[1]);
    close(m->b[0]);
    close(m->b[1]);
    rt_free_loop(net.loop);
}

/* -------------------------------------------------------------- misuse */

Test(lifecycle, an_await_outside_a_task_raises_enotask)
{
    int sv[2];
    recv_child g;
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    CO_INIT(&g, recv_child_fn);
    g.fd = sv[0];
    /* even with data ready: an await belongs in a task */
    cr_assert_eq(co_next(&g.gen), CO_ENOTASK);
    cr_assert_eq(co_state(&g.gen), CO_CLOSED);
    close(sv[0]);
    close(sv[1]);
}

typedef struct two_readers {
    co_gen gen;
    blocked *first, *second;
    int peer;
} two_readers;

static int two_readers_fn(co_gen *g)
{
    two_readers *self = (two_readers *)g;
    CO_BEGIN(self);
    co_spawn(&self->first->gen);
    co_spawn(&self->second->gen);
    CO_SLEEP(self, 1);
    if (write(self->peer, "go", 2) != 2)
        CO_RAISE(self, -errno);
    CO_AWAIT_TASK(self, &self->first->gen);
    CO_END(self);
}

Test(lifecycle, a_second_reader_of_one_fd_raises_ebusy)
{
    int a, b, rc;
    two_readers *m;
    tcp_pair(&a, &b);
    m = CO_NEW(net_loop(), two_readers, two_readers_fn);
    m->first = new_blocked(OP_RECV, a);
    m->second = new_blocked(OP_RECV, a);
    m->peer = b;
    rc = co_run(net.loop, &m->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
    cr_assert_eq(co_task_result(&m->second->gen), CO_EBUSY);
    cr_assert_eq(m->first->io.result, 2, "the first reader is not disturbed");
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
    rt_free_loop(net.loop);
}

/* ---------------------------------------------------------- allocation */

#define ROUNDS 1000

typedef struct ping {
    co_gen gen;
    int fd;
    bool serve; /* answers instead of asking */
    co_io io;
    char buf[4];
    int i;
    size_t allocs_after_warmup;
    int bad;
} ping;

static int ping_fn(co_gen *g)
{
    ping *self = (ping *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < ROUNDS; self->i++) {
        if (self->i == 10)
            self->allocs_after_warmup = rt.allocs;
        if (!self->serve) {
            CO_SEND_ALL(self, &self->io, self->fd, "ping", 4);
            if (self->io.result != 4)
                self->bad++;
        }
        CO_RECV_EXACTLY(self, &self->io, self->fd, self->buf, 4);
        if (self->io.result != 4)
            self->bad++;
        if (self->serve) {
            CO_SEND_ALL(self, &self->io, self->fd, "pong", 4);
            if (self->io.result != 4)
                self->bad++;
        }
    }
    CO_END(self);
}

Test(lifecycle, operations_allocate_nothing)
{
    int a, b, rc;
    ping *asker, *server;
    co_loop *loop;
    tcp_pair(&a, &b);
    loop = net_loop();
    asker = CO_NEW(loop, ping, ping_fn);
    server = CO_NEW(loop, ping, ping_fn);
    asker->fd = a;
    server->fd = b;
    server->serve = true;
    rc = co_spawn(&server->gen);
    cr_assert_eq(rc, 0);
    rc = co_run(loop, &asker->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
    cr_assert_eq(asker->bad, 0);
    cr_assert_eq(server->bad, 0);
    cr_assert_eq(rt.allocs, asker->allocs_after_warmup,
                 "%zu allocations in %d round trips", rt.allocs - asker->allocs_after_warmup,
                 ROUNDS - 10);
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
    rt_free_loop(loop);
}

/* ------------------------------------------------------- out of memory */

typedef struct late_writer {
    co_gen gen;
    int fd;
    co_io io;
} late_writer;

/* Writes after a pause; whatever fails, it closes its end, so that the
 * reader sees the stream end rather than waiting forever. */
static int late_writer_fn(co_gen *g)
{
    late_writer *self = (late_writer *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1);
    CO_SEND_ALL(self, &self->io, self->fd, "ping", 4);
    CO_FINALLY(self) { co_fd_close(co_running_loop(), self->fd); }
    CO_END(self);
}

typedef struct oom_main {
    co_gen gen;
    const co_addr *addr;
    int lfd, server;
    late_writer *writer;
    co_io io;
    char buf[4];
    ssize_t connected, accepted, sent, got;
} oom_main;

/* Connects (under a timeout), accepts, and reads what a writer task sends
 * after a pause: every allocation the reactor makes for these waits. */
static int oom_main_fn(co_gen *g)
{
    oom_main *self = (oom_main *)g;
    CO_BEGIN(self);
    self->server = -1;
    self->connected = self->accepted = self->got = self->sent = CO_ENOTDONE;
    CO_CONNECT(self, &self->io, self->addr, 1000);
    self->connected = self->io.result;
    if (self->io.result < 0)
        CO_RETURN_VOID(self);
    CO_ACCEPT(self, &self->io, self->lfd, NULL);
    self->accepted = self->io.result;
    if (self->io.result < 0) {
        co_fd_close(co_running_loop(), (int)self->connected);
        CO_RETURN_VOID(self);
    }
    self->server = (int)self->io.result;
    self->writer->fd = (int)self->connected;
    co_spawn(&self->writer->gen);
    CO_RECV_EXACTLY(self, &self->io, self->server, self->buf, 4);
    self->got = self->io.result;
    CO_AWAIT_TASK_CATCH(self, &self->writer->gen);
    self->sent = self->writer->io.result;
    CO_FINALLY(self)
    {
        if (self->server >= 0)
            co_fd_close(co_running_loop(), self->server);
    }
    CO_END(self);
}

/* An outcome is fine if it is the success wanted or the allocator's NULL. */
#define OK_OR_ENOMEM(res, good, what, n)                                                   \
    cr_assert((good) || (res) == CO_ENOMEM, "%s with allocation %zu failing: %s", (what),  \
              (size_t)(n), co_strerror((int)(res)))

Test(lifecycle, out_of_memory_at_every_allocation_site)
{
    co_addr addr;
    size_t n;
    bool failed_once = false;
    for (n = 1; n < 200; n++) {
        /* a listener of its own: a connection an earlier run failed to
           accept must not be taken for this run's */
        int lfd = tcp_listener(8, &addr);
        oom_main *m;
        int rc;
        net_loop();
        m = CO_NEW(net.loop, oom_main, oom_main_fn);
        m->writer = CO_NEW(net.loop, late_writer, late_writer_fn);
        m->addr = &addr;
        m->lfd = lfd;
        rt.alloc_calls = 0;
        rt.fail_at = n;
        rc = co_run(net.loop, &m->gen);
        rt.fail_at = 0;
        OK_OR_ENOMEM(rc, rc == 0, "main", n);
        OK_OR_ENOMEM(m->connected, m->connected >= 0, "connect", n);
        if (m->connected >= 0)
            OK_OR_ENOMEM(m->accepted, m->accepted >= 0, "accept", n);
        if (m->accepted >= 0) {
            /* a writer that failed closed its end: the read ends early */
            cr_assert(m->got == 4 || m->got == CO_EOF, "recv: %s", co_strerror((int)m->got));
            cr_assert(m->got == 4 || co_task_result(&m->writer->gen) == CO_ENOMEM,
                      "n %zu: writer %s, its send %s, main %s", n,
                      co_strerror(co_task_result(&m->writer->gen)),
                      co_strerror((int)m->writer->io.result), co_strerror(rc));
        }
        if (rt.alloc_calls < n) { /* nothing failed: everything must have worked */
            cr_assert_eq(rc, 0);
            cr_assert_eq(m->got, 4);
            rt_free_loop(net.loop);
            close(lfd);
            break;
        }
        failed_once = failed_once || rc != 0 || m->got != 4;
        rt_free_loop(net.loop);
        close(lfd);
    }
    cr_assert_lt(n, 200, "some run must get through without a failure");
    cr_assert(failed_once, "no failure was ever seen: the test tests nothing");
}
