/*
 * interrupted.c -- a wait that a signal cuts short (EINTR) finds nothing,
 * but that does not mean nothing is ready: on a fake clock with autojump
 * the loop must poll again rather than jump to its next deadline.
 *
 * The test makes the backend's next wait fail with EINTR exactly once:
 * this executable defines poll(2) and epoll_wait(2) itself, so the
 * library's calls land here (an executable's symbols come first in the
 * dynamic lookup), and they forward to the C library's through
 * dlsym(RTLD_NEXT) -- except for the one call a test asks to interrupt.
 * That is the only deterministic way to meet an EINTR on a poll that does
 * not block.
 */
#define _GNU_SOURCE
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

/* Waits of this thread still to interrupt (thread-local: Criterion's own
 * threads, if any, are left alone). */
static _Thread_local int interrupt_next;
static _Thread_local int interrupted;

static bool take_interrupt(void)
{
    if (interrupt_next <= 0)
        return false;
    interrupt_next--;
    interrupted++;
    errno = EINTR;
    return true;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    static int (*real)(struct pollfd *, nfds_t, int);
    if (take_interrupt())
        return -1;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "poll");
    return real(fds, n, timeout);
}

#ifdef __linux__
int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    static int (*real)(int, struct epoll_event *, int, int);
    if (take_interrupt())
        return -1;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "epoll_wait");
    return real(epfd, ev, max, timeout);
}
#endif

static void init(void)
{
    rt_reset();
    interrupt_next = interrupted = 0;
}

TestSuite(reactor_interrupted, .init = init, .timeout = 20);

typedef struct reader {
    co_gen gen;
    int fd;
    char byte;
    ssize_t got;
    int64_t at_ms;
} reader;

static int reader_fn(co_gen *g)
{
    reader *self = (reader *)g;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd);
    self->got = read(self->fd, &self->byte, 1);
    self->at_ms = rt_ms(co_running_loop());
    CO_END(self);
}

Test(reactor_interrupted, one_eintr_on_an_autojump_loop_does_not_skip_a_ready_byte)
{
    co_loop *loop = rt_loop();
    reader *m = CO_NEW(loop, reader, reader_fn);
    int p[2];
    rx_pipe(p);
    cr_assert_eq(write(p[1], "x", 1), 1);
    m->fd = p[0];
    interrupt_next = 1;
    cr_assert_eq(rx_run(loop, &m->gen), 0, "the guard's %d ms deadline fired instead", RX_GUARD_MS);
    cr_expect_eq(interrupted, 1, "the wait was not interrupted: the test proves nothing");
    cr_expect_eq(m->got, 1);
    cr_expect_eq(m->byte, 'x');
    cr_expect_eq(m->at_ms, 0, "the clock jumped to %lld ms", (long long)m->at_ms);
    co_fd_close(loop, p[0]);
    close(p[1]);
    rt_free_loop(loop);
}

/* A burst of interruptions: each one is only a reason to poll again. */
Test(reactor_interrupted, many_eintrs_in_a_row_still_find_the_byte)
{
    co_loop *loop = rt_loop();
    reader *m = CO_NEW(loop, reader, reader_fn);
    int p[2];
    rx_pipe(p);
    cr_assert_eq(write(p[1], "y", 1), 1);
    m->fd = p[0];
    interrupt_next = 5;
    cr_assert_eq(rx_run(loop, &m->gen), 0);
    cr_expect_eq(interrupted, 5);
    cr_expect_eq(m->byte, 'y');
    cr_expect_eq(m->at_ms, 0);
    co_fd_close(loop, p[0]);
    close(p[1]);
    rt_free_loop(loop);
}
