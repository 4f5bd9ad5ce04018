/*
 * cancel.c -- cancelling each kind of socket operation while it waits
 * (recv, accept, send_all, connect), and a timeout around a receive: the
 * task finishes cancelled (or timed out), its cleanup runs, and nothing is
 * left registered or open.
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(net_cancel, .init = net_reset, .timeout = 30);

/* ------------------------------------------------------- cancellation */

/* Cancels `victim` once it waits; then, if there is a successor doing the
 * same on the same fd, shows that the fd is free for it: the successor
 * waits in turn and completes once `unblock` gives it what it needs. */
typedef struct canceller {
    co_gen gen;
    blocked *victim, *successor;
    void (*unblock)(struct canceller *self);
    int peer; /* the fd unblock works on */
    const co_addr *addr;
    int extra; /* an fd unblock made */
    size_t drained;
    int rounds;
    int64_t cancelled_at;
} canceller;

static int canceller_fn(co_gen *g)
{
    canceller *self = (canceller *)g;
    CO_BEGIN(self);
    co_spawn(&self->victim->gen);
    CO_SLEEP(self, 5);
    co_cancel(&self->victim->gen);
    CO_AWAIT_TASK_CATCH(self, &self->victim->gen);
    self->cancelled_at = net_ms();
    if (self->successor) {
        co_spawn(&self->successor->gen);
        for (self->rounds = 0; self->rounds < 100 && !co_done(&self->successor->gen);
             self->rounds++) {
            CO_SLEEP(self, 1);
            self->unblock(self);
        }
    }
    CO_END(self);
}

/* Runs a canceller of victim (and successor, unblocked by `unblock` working
 * on `peer`) and checks what every cancellation must give. */
static canceller *run_cancel(blocked *victim, blocked *successor,
                             void (*unblock)(canceller *), int peer)
{
    canceller *c = CO_NEW(net.loop, canceller, canceller_fn);
    int rc;
    c->victim = victim;
    c->successor = successor;
    c->unblock = unblock;
    c->peer = peer;
    c->extra = -1;
    rc = co_run(net.loop, &c->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
    cr_assert_eq(co_task_result(&victim->gen), CO_ECANCELLED);
    cr_assert(victim->cleaned, "the cancelled task's cleanup did not run");
    cr_assert_eq(c->cancelled_at, 5, "the cancellation took effect at once");
    if (successor) {
        int res = co_task_result(&successor->gen);
        cr_assert_eq(res, 0, "the successor: %s", co_strerror(res));
    }
    return c;
}

static void write_go(canceller *self)
{
    if (self->drained == 0 && write(self->peer, "go", 2) == 2)
        self->drained = 2;
}

Test(net_cancel, cancel_recv)
{
    int a, b;
    blocked *next;
    tcp_pair(&a, &b);
    net_loop();
    next = new_blocked(OP_RECV, a);
    run_cancel(new_blocked(OP_RECV, a), next, write_go, b);
    cr_assert_eq(next->io.result, 2, "%s", co_strerror((int)next->io.result));
    cr_assert_arr_eq(next->buf, "go", 2);
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
    rt_free_loop(net.loop);
}

static void dial(canceller *self)
{
    co_addr addr;
    if (self->extra >= 0 || co_sockname(self->peer, &addr) < 0)
        return;
    self->extra = socket(AF_INET, SOCK_STREAM, 0);
    /* to loopback, the handshake is done before connect returns */
    if (self->extra >= 0)
        connect(self->extra, &addr.u.sa, addr.len);
}

Test(net_cancel, cancel_accept)
{
    co_addr addr;
    int lfd = tcp_listener(4, &addr);
    blocked *next;
    canceller *c;
    net_loop();
    next = new_blocked(OP_ACCEPT, lfd);
    c = run_cancel(new_blocked(OP_ACCEPT, lfd), next, dial, lfd);
    cr_assert_geq(next->io.result, 0, "%s", co_strerror((int)next->io.result));
    co_fd_close(net.loop, (int)next->io.result);
    close(c->extra);
    close(lfd);
    rt_free_loop(net.loop);
}

static void drain(canceller *self)
{
    char buf[65536];
    ssize_t n;
    while ((n = recv(self->peer, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        self->drained += (size_t)n;
}

Test(net_cancel, cancel_send_all)
{
    enum { LEN = 16 << 20 }; /* more than both socket buffers hold */
    int a, b;
    blocked *victim, *next;
    unsigned char *data = calloc(1, LEN);
    cr_assert_not_null(data);
    tcp_pair(&a, &b);
    small_send_buffer(a);
    net_loop();
    victim = new_blocked(OP_SEND, a);
    victim->data = data;
    victim->len = LEN;
    next = new_blocked(OP_SEND, a);
    next->data = (const unsigned char *)"go";
    next->len = 2;
    run_cancel(victim, next, drain, b);
    cr_assert_gt(victim->io.done, 0, "some of it went out before the cancel");
    cr_assert_lt(victim->io.done, LEN);
    cr_assert_eq(next->io.result, 2, "%s", co_strerror((int)next->io.result));
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
    free(data);
    rt_free_loop(net.loop);
}

Test(net_cancel, cancel_connect_closes_its_socket)
{
    co_addr addr;
    int lfd = tcp_listener(0, &addr), filler = socket(AF_INET, SOCK_STREAM, 0);
    blocked *victim;
    /* a backlog-0 listener that never accepts: full after this one */
    cr_assert_eq(connect(filler, &addr.u.sa, addr.len), 0);
    net_loop();
    victim = new_blocked(OP_CONNECT, -1);
    victim->addr = &addr;
    run_cancel(victim, NULL, NULL, -1);
    cr_assert_geq(victim->io.fd, 0, "the connect had made its socket");
    cr_assert_not(fd_open(victim->io.fd), "the cancelled connect left its socket open");
    close(filler);
    close(lfd);
    rt_free_loop(net.loop);
}

/* ---------------------------------------------- a timeout around a recv */

typedef struct timed_recv {
    co_gen gen;
    int fd;
    co_deadline deadline;
    recv_child child;
    int64_t at_ms;
} timed_recv;

/* await asyncio.wait_for(loop.sock_recv(sock, 8), 0.05) */
static int timed_recv_fn(co_gen *g)
{
    timed_recv *self = (timed_recv *)g;
    CO_BEGIN(self);
    CO_INIT(&self->child, recv_child_fn);
    self->child.fd = self->fd;
    CO_WAIT_FOR(self, &self->deadline, child, 50);
    CO_FINALLY(self) { self->at_ms = net_ms(); }
    CO_END(self);
}

typedef struct timeout_main {
    co_gen gen;
    timed_recv *timed;
    blocked *after;
    int peer;
} timeout_main;

static int timeout_main_fn(co_gen *g)
{
    timeout_main *self = (timeout_main *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK_CATCH(self, &self->timed->gen);
    /* the timed-out receive let go of the fd: a new one can wait on it */
    co_spawn(&self->after->gen);
    CO_SLEEP(self, 5);
    if (write(self->peer, "late", 4) != 4)
        CO_RAISE(self, -errno);
    CO_AWAIT_TASK(self, &self->after->gen);
    CO_END(self);
}

Test(net_cancel, recv_under_wait_for_times_out)
{
    int a, b, rc;
    timeout_main *m;
    tcp_pair(&a, &b);
    m = CO_NEW(net_loop(), timeout_main, timeout_main_fn);
    m->timed = CO_NEW(net.loop, timed_recv, timed_recv_fn);
    m->timed->fd = a;
    m->after = new_blocked(OP_RECV, a);
    m->peer = b;
    rc = co_run(net.loop, &m->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
    cr_assert_eq(co_task_result(&m->timed->gen), CO_ETIMEOUT);
    cr_assert_eq(m->timed->at_ms, 50);
    cr_assert_eq(m->after->io.result, 4);
    cr_assert_arr_eq(m->after->buf, "late", 4);
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
    rt_free_loop(net.loop);
}
