/*
 * readiness_reuse.c -- waiting for fds, continued: fd numbers reused after
 * a close get no stale wake-up, a forgotten fd can be waited on again, a
 * cancelled waiter frees its slot, the end of a stream wakes its waiters,
 * and a wait outside a task is refused.
 */
#include "readiness_tasks.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void rx_reuse_init(void) { rt_reset(); }

TestSuite(reactor_fd_reuse, .init = rx_reuse_init);

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

Test(reactor_fd_reuse, a_reused_fd_number_gets_no_stale_wakeup)
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

Test(reactor_fd_reuse, a_forgotten_fd_can_be_waited_on_again)
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

Test(reactor_fd_reuse, a_cancelled_waiter_frees_its_slot)
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

Test(reactor_fd_reuse, closing_the_write_end_wakes_the_reader_at_eof)
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

Test(reactor_fd_reuse, closing_the_peer_wakes_a_writer_on_a_full_socket)
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

Test(reactor_fd_reuse, waiting_outside_a_task_is_enotask)
{
    cr_assert_eq(co__wait_fd(0, CO_READABLE), CO_ENOTASK);
}
