/*
 * util.c -- the guarded run and the fd helpers of the reactor tests (see
 * util.h).
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
