/*
 * readiness.c -- waiting for fds: readable and writable on pipes and socket
 * pairs, level-triggered wake-ups, one waiter per direction, bad and closed
 * fds, cancellation, end of stream, and fd numbers reused after a close.
 *
 * Every run is guarded (rx_run): a wake-up that never comes shows as
 * CO_ETIMEOUT at once, on the frozen clock, instead of a hung test.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void rx_init(void) { rt_reset(); }

/* ------------------------------------------------------------ the tasks */

/* Reads `want` bytes one at a time, waiting before each: with level-
 * triggered readiness every wait returns while bytes remain. */
typedef struct reader {
    co_gen gen;
    int fd;
    size_t want, got;
    int wakes;
    bool eof;
    char buf[64];
} reader;

static int reader_fn(co_gen *g)
{
    reader *self = (reader *)g;
    CO_BEGIN(self);
    while (self->got < self->want && !self->eof) {
        CO_WAIT_READABLE(self, self->fd);
        self->wakes++;
        {
            ssize_t n = read(self->fd, self->buf + self->got, 1);
            if (n == 0)
                self->eof = true;
            else if (n == 1)
                self->got++;
            else if (errno != EAGAIN)
                CO_RAISE(self, -errno);
        }
    }
    CO_END(self);
}

static reader *spawn_reader(co_loop *loop, int fd, size_t want)
{
    reader *r = CO_NEW(loop, reader, reader_fn);
    cr_assert_not_null(r);
    cr_assert_lt(want, sizeof r->buf);
    r->fd = fd;
    r->want = want;
    cr_assert_eq(co_spawn(&r->gen), 0);
    return r;
}

/* Waits `times` times for one direction of fd, doing nothing in between. */
typedef struct waiter {
    co_gen gen;
    int fd;
    unsigned dir;
    int times, wakes;
} waiter;

static int waiter_fn(co_gen *g)
{
    waiter *self = (waiter *)g;
    CO_BEGIN(self);
    while (self->wakes < self->times) {
        if (self->dir == CO_READABLE)
            CO_WAIT_READABLE(self, self->fd);
        else
            CO_WAIT_WRITABLE(self, self->fd);
        self->wakes++;
    }
    CO_END(self);
}

static waiter *spawn_waiter(co_loop *loop, int fd, unsigned dir, int times)
{
    waiter *w = CO_NEW(loop, waiter, waiter_fn);
    cr_assert_not_null(w);
    w->fd = fd;
    w->dir = dir;
    w->times = times;
    cr_assert_eq(co_spawn(&w->gen), 0);
    return w;
}

/* A main task whose steps are a test's own function, called once per
 * resume with the step number; it returns how long to sleep (ms) before
 * the next step, or -1 when done. */
typedef struct script {
    co_gen gen;
    int (*step)(struct script *self, int n);
    int n, pause;
    void *ctx;
} script;

static int script_fn(co_gen *g)
{
    script *self = (script *)g;
    CO_BEGIN(self);
    for (self->n = 0; (self->pause = self->step(self, self->n)) >= 0; self->n++)
        CO_SLEEP(self, self->pause);
    CO_END(self);
}

static int run_script(co_loop *loop, int (*step)(script *, int), void *ctx)
{
    script *s = CO_NEW(loop, script, script_fn);
    cr_assert_not_null(s);
    s->step = step;
    s->ctx = ctx;
    return rx_run(loop, &s->gen);
}

static void put(int fd, const char *text)
{
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len, "write: %s", strerror(errno));
}

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

/* -------------------------------------------------------- fd reuse */

/* The old fd is closed with readiness pending in the backend; a new pipe
 * takes its number; the new fd's reader must see nothing until the new pipe
 * gets data, and then the new data. */
typedef struct reuse_ctx {
    int old_rd, old_wr, new_wr;
    waiter *old_waiter;
    reader *new_reader;
} reuse_ctx;

static int reuse_step(script *self, int n)
{
    reuse_ctx *c = self->ctx;
    co_loop *loop = co_running_loop();
    switch (n) {
    case 0: /* the backend watches the old fd */
        c->old_waiter = spawn_waiter(loop, c->old_rd, CO_READABLE, 1);
        return 0;
    case 1: { /* ready, then closed and replaced before the loop looks */
        int q[2];
        put(c->old_wr, "x");
        cr_assert_eq(co_fd_close(loop, c->old_rd), 0);
        rx_pipe(q);
        if (q[0] != c->old_rd) { /* the number is usually reused at once */
            cr_assert_eq(dup2(q[0], c->old_rd), c->old_rd);
            close(q[0]);
        }
        c->new_wr = q[1];
        c->new_reader = spawn_reader(loop, c->old_rd, 1);
        return 0;
    }
    case 2: case 3: case 4: /* turns of the loop, some polling the backend */
        cr_assert_eq(c->new_reader->wakes, 0, "a stale wake-up reached the new fd");
        return n == 4 ? 0 : 3;
    case 5:
        cr_assert_eq(c->new_reader->wakes, 0, "a stale wake-up reached the new fd");
        put(c->new_wr, "y");
        return 1;
    case 6:
        cr_assert(co_done(&c->new_reader->gen));
        cr_assert_eq(c->new_reader->buf[0], 'y');
        return -1;
    default:
        return -1;
    }
}

Test(reactor_fd, a_reused_fd_number_gets_no_stale_wakeup)
{
    co_loop *loop = rt_loop();
    reuse_ctx c = {0};
    int p[2];
    rx_pipe(p);
    c.old_rd = p[0];
    c.old_wr = p[1];
    cr_assert_eq(run_script(loop, reuse_step, &c), 0);
    cr_assert_eq(co_task_result(&c.old_waiter->gen), -EBADF);
    cr_assert_eq(c.new_reader->wakes, 1);
    co_fd_close(loop, c.old_rd);
    co_fd_close(loop, c.old_wr);
    co_fd_close(loop, c.new_wr);
    rt_free_loop(loop);
}

/* The same number, the same open file: forgotten and waited on again. */
typedef struct forget_ctx {
    int rd, wr;
    waiter *before;
    reader *after;
} forget_ctx;

static int forget_step(script *self, int n)
{
    forget_ctx *c = self->ctx;
    co_loop *loop = co_running_loop();
    switch (n) {
    case 0:
        c->before = spawn_waiter(loop, c->rd, CO_READABLE, 1);
        return 0;
    case 1:
        co_fd_forget(loop, c->rd);
        cr_assert_neq(fcntl(c->rd, F_GETFD), -1, "forget closed the fd");
        c->after = spawn_reader(loop, c->rd, 1);
        return 2;
    case 2:
        cr_assert_eq(c->after->wakes, 0);
        put(c->wr, "z");
        return 1;
    default:
        return -1;
    }
}

Test(reactor_fd, a_forgotten_fd_can_be_waited_on_again)
{
    co_loop *loop = rt_loop();
    forget_ctx c = {0};
    int p[2];
    rx_pipe(p);
    c.rd = p[0];
    c.wr = p[1];
    cr_assert_eq(run_script(loop, forget_step, &c), 0);
    cr_assert_eq(co_task_result(&c.before->gen), -EBADF);
    cr_assert(co_done(&c.after->gen));
    cr_assert_eq(c.after->buf[0], 'z');
    co_fd_close(loop, p[0]);
    co_fd_close(loop, p[1]);
    rt_free_loop(loop);
}

/* ------------------------------------------- cancellation, end of stream */

typedef struct cancel_ctx {
    int rd, wr;
    waiter *cancelled;
    reader *next;
} cancel_ctx;

static int cancel_step(script *self, int n)
{
    cancel_ctx *c = self->ctx;
    co_loop *loop = co_running_loop();
    switch (n) {
    case 0:
        c->cancelled = spawn_waiter(loop, c->rd, CO_READABLE, 1);
        return 0;
    case 1:
        cr_assert_eq(co_cancel(&c->cancelled->gen), 1);
        return 0;
    case 2: /* the slot is free again, and the data goes to the new reader */
        cr_assert(co_done(&c->cancelled->gen));
        c->next = spawn_reader(loop, c->rd, 1);
        put(c->wr, "n");
        return 1;
    case 3:
        cr_assert(co_done(&c->next->gen));
        return -1;
    default:
        return -1;
    }
}

Test(reactor_fd, a_cancelled_waiter_frees_its_slot)
{
    co_loop *loop = rt_loop();
    cancel_ctx c = {0};
    int p[2];
    rx_pipe(p);
    c.rd = p[0];
    c.wr = p[1];
    cr_assert_eq(run_script(loop, cancel_step, &c), 0);
    cr_assert_eq(co_task_result(&c.cancelled->gen), CO_ECANCELLED);
    cr_assert_eq(c.cancelled->wakes, 0);
    cr_assert_eq(co_task_result(&c.next->gen), 0);
    cr_assert_eq(c.next->buf[0], 'n');
    co_fd_close(loop, p[0]);
    co_fd_close(loop, p[1]);
    rt_free_loop(loop);
}

Test(reactor_fd, closing_the_write_end_wakes_the_reader_at_eof)
{
    co_loop *loop = rt_loop();
    reader *r;
    int p[2];
    rx_pipe(p);
    put(p[1], "ab");
    close(p[1]);
    r = spawn_reader(loop, p[0], 10);
    cr_assert_eq(rx_run(loop, &r->gen), 0);
    cr_assert_eq(r->got, 2);
    cr_assert(r->eof);
    co_fd_close(loop, p[0]);
    rt_free_loop(loop);
}

Test(reactor_fd, closing_the_peer_wakes_a_writer_on_a_full_socket)
{
    co_loop *loop = rt_loop();
    waiter *w;
    int s[2];
    rx_socketpair(s);
    rx_fill(s[0]);
    close(s[1]);
    w = spawn_waiter(loop, s[0], CO_WRITABLE, 1);
    cr_assert_eq(rx_run(loop, &w->gen), 0);
    cr_assert_eq(w->wakes, 1);
    cr_assert_eq(write(s[0], "x", 1), -1);
    cr_assert_eq(errno, EPIPE);
    co_fd_close(loop, s[0]);
    rt_free_loop(loop);
}

/* ------------------------------------------------------ outside a task */

Test(reactor_fd, waiting_outside_a_task_is_enotask)
{
    cr_assert_eq(co__wait_fd(0, CO_READABLE), CO_ENOTASK);
}
