/*
 * util.c -- the frozen clock, the counting allocator, the guarded run and the
 * fd helpers of the reactor tests (see util.h).
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

rx_state rx;

void rx_reset(void)
{
    rx_state zero = {0};
    rx = zero;
}

/* The clock reads the loop's own time back: only autojump moves it, and
   never backwards. */
static int64_t frozen_clock(void *ctx)
{
    rx_state *s = ctx;
    return s->loop ? co_now(s->loop) : 0;
}

static void *counting_alloc(void *ctx, size_t size)
{
    rx_state *s = ctx;
    void *p;
    if (++s->alloc_calls == s->fail_at)
        return NULL;
    p = malloc(size);
    if (p) {
        s->live_bytes += size;
        memset(p, 0xA5, size); /* garbage, so a missed initialisation shows */
    }
    return p;
}

static void counting_free(void *ctx, void *p, size_t size)
{
    rx_state *s = ctx;
    if (p == NULL)
        return;
    s->live_bytes -= size;
    free(p);
}

co_loop_options rx_options(void)
{
    co_loop_options opt;
    memset(&opt, 0, sizeof opt);
    opt.hooks.clock = frozen_clock;
    opt.hooks.alloc = counting_alloc;
    opt.hooks.free = counting_free;
    opt.hooks.ctx = &rx;
    opt.autojump = true;
    return opt;
}

co_loop *rx_loop(void)
{
    co_loop_options opt = rx_options();
    co_loop *loop = NULL;
    int rc = co_loop_new(&loop, &opt);
    cr_assert_eq(rc, 0, "co_loop_new: %s", co_strerror(rc));
    cr_assert_not_null(loop);
    rx.loop = loop;
    return loop;
}

void rx_free(co_loop *loop)
{
    co_loop_free(loop);
    if (rx.loop == loop) /* the clock must not read a freed loop */
        rx.loop = NULL;
    cr_assert_eq(rx.live_bytes, 0, "%zu bytes leaked", rx.live_bytes);
}

typedef struct guard {
    co_gen gen;
    co_gen *main;
    co_deadline dl;
} guard;

static int guard_fn(co_gen *g)
{
    guard *self = (guard *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR_TASK(self, &self->dl, self->main, RX_GUARD_MS);
    CO_END(self);
}

int rx_run(co_loop *loop, co_gen *main)
{
    guard *gd = CO_NEW(loop, guard, guard_fn);
    int rc;
    cr_assert_not_null(gd);
    gd->main = main;
    rc = co_run(loop, &gd->gen);
    co_release(&gd->gen);
    return rc;
}

static void make_nonblocking(int fd)
{
    cr_assert_neq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), -1);
    cr_assert_neq(fcntl(fd, F_SETFD, FD_CLOEXEC), -1);
}

void rx_pipe(int fds[2])
{
    cr_assert_eq(pipe(fds), 0, "pipe: %s", strerror(errno));
    make_nonblocking(fds[0]);
    make_nonblocking(fds[1]);
}

void rx_socketpair(int fds[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0, "socketpair: %s", strerror(errno));
    make_nonblocking(fds[0]);
    make_nonblocking(fds[1]);
}

size_t rx_fill(int fd)
{
    static const char block[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = write(fd, block, sizeof block);
        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        /* an AF_UNIX socket may refuse a big block yet take a small one */
        if (n < 0 && errno == EAGAIN && write(fd, block, 1) == 1) {
            total++;
            continue;
        }
        cr_assert(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "fill: %s", strerror(errno));
        return total;
    }
}

size_t rx_drain(int fd)
{
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)n;
    return total;
}

int rx_next_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    cr_assert_geq(fd, 0);
    close(fd);
    return fd;
}
