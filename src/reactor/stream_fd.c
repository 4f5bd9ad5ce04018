/*
 * stream_fd.c -- what a stream stands on: moving bytes through its fd (or
 * the TLS transport over it) and letting the fd and the stream go.  Both
 * sides of a stream (stream.c reads, stream_write.c writes) use these, and
 * reach TLS only through the transport tls.c installs, so the three files
 * depend on this one and never on each other in a circle.
 */
#include "stream_impl.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL /* where it is missing, SO_NOSIGPIPE does its work */
#define MSG_NOSIGNAL 0
#endif

void co__stream_close_fd(stream *s)
{
    if (s->tr) { /* close_notify first, as far as the fd takes it now */
        s->tr->shutdown(s);
        s->tr->free(s);
    }
    if (s->fd >= 0)
        co_fd_close(s->loop, s->fd);
    s->fd = -1;
    /* Our own close ends the reading side too: what is buffered is still
     * read, then end of stream (asyncio's connection_lost feeds EOF), not
     * -EBADF.  An error the reading side already met stays its outcome. */
    if (!s->rerr)
        s->eof = true;
}

void co__stream_free(stream *s)
{
    co_loop *loop = s->loop;
    if (s->tr)
        s->tr->free(s);
    co__free(loop, s->rbuf, s->rcap);
    co__free(loop, s->wbuf, s->wcap);
    co__free(loop, s, sizeof *s);
}

ssize_t co__stream_rd(stream *s, void *buf, size_t n, unsigned *want)
{
    if (s->tr)
        return s->tr->rd(s, buf, n, want);
    for (;;) {
        ssize_t k = s->sock ? recv(s->fd, buf, n, 0) : read(s->fd, buf, n);
        if (k >= 0)
            return k;
        if (errno == EINTR)
            continue;
        *want = CO_READABLE;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

ssize_t co__stream_wr(stream *s, const void *buf, size_t n, unsigned *want)
{
    if (s->tr)
        return s->tr->wr(s, buf, n, want);
    for (;;) {
        ssize_t k = s->sock ? send(s->fd, buf, n, MSG_NOSIGNAL) : write(s->fd, buf, n);
        if (k >= 0)
            return k;
        if (errno == EINTR)
            continue;
        *want = CO_WRITABLE;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}
