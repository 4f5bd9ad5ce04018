/*
 * readiness.c -- waiting for fds: readable and writable on pipes and socket
 * pairs, level-triggered wake-ups, one waiter per direction, bad and closed
 * fds (fd numbers reused after a close, cancellation and end of stream are
 * in readiness_reuse.c).
 *
 * Every run is guarded (rx_run): a wake-up that never comes shows as
 * CO_ETIMEOUT at once, on the frozen clock, instead of a hung test.
 */
#include "readiness_tasks.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void rx_init(void) { rt_reset(); }

TestSuite(reactor_fd, .init = rx_init);

/* ----------------------------------------------------------- backend */

Test(reactor_fd, loop_uses_the_backend_the_suite_runs_for)
{
    const char *want = getenv("CORIO_BACKEND");
    co_loop *loop = rt_loop();
    cr_assert_not_null(co_loop_backend(loop));
    if (want && *want)
        cr_assert_str_eq(co_loop_backend(loop), want);
    rt_free_loop(loop);
}

/* ---------------------------------------------------- level-triggered */

/* The reader takes one byte a wake-up: five bytes, five wake-ups, with no
 * new write in between. */
static void check_level_triggered_read(int fds[2])
{
    co_loop *loop = rt_loop();
    reader *r;
    put(fds[1], "abcde");
    r = spawn_reader(loop, fds[0], 5);
    cr_assert_eq(rx_run(loop, &r->gen), 0);
    cr_assert_eq(r->got, 5);
    cr_assert_eq(r->wakes, 5);
    cr_assert_eq(memcmp(r->buf, "abcde", 5), 0);
    co_fd_close(loop, fds[0]);
    co_fd_close(loop, fds[1]);
    rt_free_loop(loop);
}

Test(reactor_fd, pipe_reader_is_woken_again_while_data_remains)
{
    int p[2];
    rx_pipe(p);
    check_level_triggered_read(p);
}

Test(reactor_fd, socket_reader_is_woken_again_while_data_remains)
{
    int s[2];
    rx_socketpair(s);
    check_level_triggered_read(s);
}

/* The data arrives while the reader already waits. */
typedef struct late_ctx {
    int wr;
    reader *r;
} late_ctx;

static int late_write_step(script *self, int n)
{
    late_ctx *c = self->ctx;
    switch (n) {
    case 0:
        return 5; /* the reader waits on an empty pipe meanwhile */
    case 1:
        cr_assert_eq(c->r->wakes, 0, "woken before any data");
        put(c->wr, "xyz");
        return 1;
    case 2:
        cr_assert(co_done(&c->r->gen), "the reader still waits");
        return -1;
    default:
        return -1;
    }
}

Test(reactor_fd, reader_waiting_on_empty_pipe_wakes_when_data_arrives)
{
    co_loop *loop = rt_loop();
    late_ctx c;
    int p[2];
    rx_pipe(p);
    c.wr = p[1];
    c.r = spawn_reader(loop, p[0], 3);
    cr_assert_eq(run_script(loop, late_write_step, &c), 0);
    cr_assert_eq(co_task_result(&c.r->gen), 0);
    cr_assert_eq(c.r->got, 3);
    cr_assert_eq(memcmp(c.r->buf, "xyz", 3), 0);
    cr_assert_eq(c.r->wakes, 3);
    co_fd_close(loop, p[0]);
    co_fd_close(loop, p[1]);
    rt_free_loop(loop);
}

Test(reactor_fd, writer_is_woken_again_while_the_fd_stays_writable)
{
    co_loop *loop = rt_loop();
    waiter *w;
    int s[2];
    rx_socketpair(s);
    w = spawn_waiter(loop, s[0], CO_WRITABLE, 3);
    cr_assert_eq(rx_run(loop, &w->gen), 0);
    cr_assert_eq(w->wakes, 3);
    co_fd_close(loop, s[0]);
    co_fd_close(loop, s[1]);
    rt_free_loop(loop);
}

/* A writer on a full socket wakes once the other end has drained it. */
typedef struct drain_ctx {
    int full, other;
    waiter *w;
    size_t filled;
} drain_ctx;

static int drain_step(script *self, int n)
{
    drain_ctx *c = self->ctx;
    switch (n) {
    case 0:
        return 5;
    case 1:
        cr_assert_eq(c->w->wakes, 0, "woken while the socket was full");
        cr_assert_eq(rx_drain(c->other), c->filled);
        return 1;
    case 2:
        cr_assert(co_done(&c->w->gen), "the writer still waits");
        return -1;
    default:
        return -1;
    }
}

static void check_writer_wakes_after_drain(int fds[2])
{
    co_loop *loop = rt_loop();
    drain_ctx c;
    c.full = fds[0];
    c.other = fds[1];
    c.filled = rx_fill(c.full);
    cr_assert_gt(c.filled, 0);
    c.w = spawn_waiter(loop, c.full, CO_WRITABLE, 1);
    cr_assert_eq(run_script(loop, drain_step, &c), 0);
    cr_assert_eq(co_task_result(&c.w->gen), 0);
    cr_assert_eq(c.w->wakes, 1);
    co_fd_close(loop, fds[0]);
    co_fd_close(loop, fds[1]);
    rt_free_loop(loop);
}

Test(reactor_fd, socket_writer_wakes_when_the_peer_drains)
{
    int s[2];
    rx_socketpair(s);
    check_writer_wakes_after_drain(s);
}

Test(reactor_fd, pipe_writer_wakes_when_the_reader_drains)
{
    int p[2], swapped[2];
    rx_pipe(p);
    swapped[0] = p[1]; /* the full end is the pipe's write end */
    swapped[1] = p[0];
    check_writer_wakes_after_drain(swapped);
}

/* A reader and a writer wait on the same socket at once; each is woken by
 * its own direction only. */
typedef struct both_ctx {
    int fd, peer;
    reader *r;
    waiter *w;
} both_ctx;

static int both_step(script *self, int n)
{
    both_ctx *c = self->ctx;
    switch (n) {
    case 0:
        return 5;
    case 1:
        cr_assert_eq(c->r->wakes + c->w->wakes, 0);
        put(c->peer, "r");
        return 5;
    case 2:
        cr_assert_eq(c->r->got, 1, "the reader got no byte");
        cr_assert_eq(c->w->wakes, 0, "the writer woke with the socket still full");
        rx_drain(c->peer);
        return 5;
    case 3:
        cr_assert_eq(c->w->wakes, 1, "the writer was not woken by the drain");
        return -1;
    default:
        return -1;
    }
}

Test(reactor_fd, reader_and_writer_wait_on_one_socket_together)
{
    co_loop *loop = rt_loop();
    both_ctx c;
    int s[2];
    rx_socketpair(s);
    c.fd = s[0];
    c.peer = s[1];
    rx_fill(c.fd);
    c.r = spawn_reader(loop, c.fd, 1);
    c.w = spawn_waiter(loop, c.fd, CO_WRITABLE, 1);
    cr_assert_eq(run_script(loop, both_step, &c), 0);
    cr_assert(co_done(&c.r->gen) && co_done(&c.w->gen));
    cr_assert_eq(co_task_result(&c.r->gen), 0);
    cr_assert_eq(co_task_result(&c.w->gen), 0);
    cr_assert_eq(c.r->buf[0], 'r');
    co_fd_close(loop, s[0]);
    co_fd_close(loop, s[1]);
    rt_free_loop(loop);
}

/* --------------------------------------------------------- one waiter */

typedef struct busy_ctx {
    int fd, peer;
    unsigned dir;
    waiter *first, *second;
} busy_ctx;

static int busy_step(script *self, int n)
{
    busy_ctx *c = self->ctx;
    co_loop *loop = co_running_loop();
    switch (n) {
    case 0: /* the first one waits, then the second one tries */
        c->first = spawn_waiter(loop, c->fd, c->dir, 1);
        return 0;
    case 1:
        c->second = spawn_waiter(loop, c->fd, c->dir, 1);
        return 1;
    case 2:
        cr_assert(co_done(&c->second->gen));
        cr_assert_eq(co_task_result(&c->second->gen), CO_EBUSY);
        cr_assert_not(co_done(&c->first->gen), "the first waiter was disturbed");
        /* readiness now: the first one is still registered and wakes */
        if (c->dir == CO_READABLE)
            put(c->peer, "!");
        else
            rx_drain(c->peer);
        return 1;
    case 3:
        cr_assert(co_done(&c->first->gen));
        cr_assert_eq(co_task_result(&c->first->gen), 0);
        cr_assert_eq(c->first->wakes, 1);
        return -1;
    default:
        return -1;
    }
}

static void check_second_waiter_busy(unsigned dir)
{
    co_loop *loop = rt_loop();
    busy_ctx c = {0};
    int s[2];
    rx_socketpair(s);
    c.fd = s[0];
    c.peer = s[1];
    c.dir = dir;
    if (dir == CO_WRITABLE)
        rx_fill(c.fd);
    cr_assert_eq(run_script(loop, busy_step, &c), 0);
    co_fd_close(loop, s[0]);
    co_fd_close(loop, s[1]);
    rt_free_loop(loop);
}

Test(reactor_fd, second_reader_of_an_fd_gets_ebusy)
{
    check_second_waiter_busy(CO_READABLE);
}

Test(reactor_fd, second_writer_of_an_fd_gets_ebusy)
{
    check_second_waiter_busy(CO_WRITABLE);
}

/* ------------------------------------------------------------ bad fds */

/* closed: a number nothing has open, found once the loop has its own fds */
static void check_bad_fd(bool closed, unsigned dir)
{
    co_loop *loop = rt_loop();
    int fd = closed ? rx_next_fd() : -1;
    waiter *w = spawn_waiter(loop, fd, dir, 1);
    int rc = rx_run(loop, &w->gen);
    cr_assert_eq(rc, -EBADF, "fd %d dir %u: %s, %d wake-ups", fd, dir, co_strerror(rc), w->wakes);
    cr_assert_eq(w->wakes, 0);
    rt_free_loop(loop);
}

Test(reactor_fd, waiting_on_a_negative_fd_is_ebadf)
{
    check_bad_fd(false, CO_READABLE);
    check_bad_fd(false, CO_WRITABLE);
}

Test(reactor_fd, waiting_on_a_closed_fd_is_ebadf)
{
    check_bad_fd(true, CO_READABLE);
    check_bad_fd(true, CO_WRITABLE);
}

/* co_fd_close while tasks wait: they get -EBADF and the fd is closed. */
typedef struct close_ctx {
    int fd, peer;
    waiter *r, *w;
} close_ctx;

static int close_step(script *self, int n)
{
    close_ctx *c = self->ctx;
    co_loop *loop = co_running_loop();
    switch (n) {
    case 0:
        c->r = spawn_waiter(loop, c->fd, CO_READABLE, 1);
        c->w = spawn_waiter(loop, c->fd, CO_WRITABLE, 1);
        return 1;
    case 1:
        cr_assert_not(co_done(&c->r->gen) || co_done(&c->w->gen));
        cr_assert_eq(co_fd_close(loop, c->fd), 0);
        cr_assert_eq(fcntl(c->fd, F_GETFD), -1, "the fd is still open");
        return 0;
    case 2:
        cr_assert(co_done(&c->r->gen) && co_done(&c->w->gen));
        return -1;
    default:
        return -1;
    }
}

Test(reactor_fd, closing_an_fd_wakes_its_waiters_with_ebadf)
{
    co_loop *loop = rt_loop();
    close_ctx c = {0};
    int s[2];
    rx_socketpair(s);
    c.fd = s[0];
    c.peer = s[1];
    rx_fill(c.fd);
    cr_assert_eq(run_script(loop, close_step, &c), 0);
    cr_assert_eq(co_task_result(&c.r->gen), -EBADF);
    cr_assert_eq(co_task_result(&c.w->gen), -EBADF);
    cr_assert_eq(c.r->wakes + c.w->wakes, 0);
    cr_assert_eq(co_fd_close(loop, c.fd), -EBADF, "closed twice");
    co_fd_close(loop, s[1]);
    rt_free_loop(loop);
}
