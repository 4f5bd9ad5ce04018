/*
 * st.c -- the stream suite's shared pieces (see st.h).
 */
#include "st.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

void st_run(co_loop *loop, co_gen *main, int want)
{
    int rc = co_run(loop, main);
    cr_assert_eq(rc, want, "main: %s (wanted %s)", co_strerror(rc), co_strerror(want));
}

void st_done(co_loop *loop)
{
    rt_free_loop(loop);
    net.loop = NULL;
}

static void wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    cr_assert_eq(poll(&p, 1, 10000), 1, "the peer fd stayed blocked for 10 s");
}

void st_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EAGAIN) {
            wait_fd(fd, POLLOUT);
            continue;
        }
        cr_assert(k > 0, "write: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

size_t st_read_all(int fd, void *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        ssize_t k = read(fd, (char *)buf + got, cap - got);
        if (k < 0 && errno == EAGAIN) {
            wait_fd(fd, POLLIN);
            continue;
        }
        cr_assert(k >= 0, "read: %s", strerror(errno));
        if (k == 0 || got + (size_t)k == cap)
            return got + (size_t)k;
        got += (size_t)k;
    }
}

co_stream *st_open(co_loop *loop, int fd, const co_stream_options *opt)
{
    co_stream *s = NULL;
    int rc = co_stream_open(loop, fd, opt, &s);
    cr_assert_eq(rc, 0, "co_stream_open: %s", co_strerror(rc));
    cr_assert_not_null(s);
    return s;
}
