/*
 * udp.c -- datagram sockets: co_dgram_open and the state machines behind
 * CO_RECVFROM, CO_SENDTO and CO_RECV_BATCH.
 *
 * The same shape as io.c: try the call; if it would block, wait for the fd
 * and try again.  Two things are datagram-specific: a truncated datagram is
 * reported (recvmsg's MSG_TRUNC), and a run of awaits that never had to
 * wait yields once every CO_DGRAM_FAIR of them, so that one flooded socket
 * cannot keep the loop to itself.
 */
#include "reactor.h"

#include <corio/udp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif
#ifndef MSG_DONTWAIT /* a blocking socket of the program's waits in the reactor (io.c) */
#define MSG_DONTWAIT 0
#endif

/* Linux returns a truncated datagram's real length when asked. */
#ifdef __linux__
#define TRUNC_FLAG MSG_TRUNC
#else
#define TRUNC_FLAG 0
#endif

enum { OP_RECVFROM = 1, OP_SENDTO, OP_BATCH };
enum { ST_FRESH, ST_WAITING, ST_YIELDING, ST_DONE };

/* ------------------------------------------------------------- sockets */

static int dgram_socket(int family)
{
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
#else
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -errno;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
#endif
}

static int setup(int fd, int family, const co_addr *local, const co_addr *remote)
{
    int one = 1;
    struct stat st;
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        return -errno;
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (local) {
        /* a socket file left by a process that died would make bind fail */
        if (family == AF_UNIX && local->u.un.sun_path[0] != '\0' &&
            lstat(local->u.un.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(local->u.un.sun_path);
        if (bind(fd, &local->u.sa, local->len) < 0)
            return -errno;
    }
    if (remote && connect(fd, &remote->u.sa, remote->len) < 0)
        return -errno;
    return 0;
}

int co_dgram_open(int family, const co_addr *local, const co_addr *remote)
{
    int fd, rc;
    if ((local && local->len == 0) || (remote && remote->len == 0))
        return -EINVAL;
    if (family == 0)
        family = local ? local->u.sa.sa_family : remote ? remote->u.sa.sa_family : 0;
    if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
        return family == 0 ? -EINVAL : -EAFNOSUPPORT;
    if ((local && local->u.sa.sa_family != family) ||
        (remote && remote->u.sa.sa_family != family))
        return -EINVAL;
    if ((fd = dgram_socket(family)) < 0)
        return fd;
    if ((rc = setup(fd, family, local, remote)) < 0) {
        close(fd); /* never watched: a plain close is enough */
        return rc;
    }
    return fd;
}

/* ---------------------------------------------------------- operations */

static int start(co_dgram *d, uint8_t op, int fd, void *buf, size_t len)
{
    co_loop *loop = co__loop();
    d->result = 0;
    d->size = 0;
    d->truncated = false;
    d->op = op;
    d->state = ST_FRESH;
    d->fd = fd;
    d->buf = buf;
    d->len = len;
    d->peer = NULL;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, buf))
        return CO_ESTACKARG; /* filled or sent after the task suspends */
    if (len > (size_t)SSIZE_MAX) {
        d->result = -EINVAL;
        d->state = ST_DONE;
    }
    return 0;
}

int co__recvfrom_start(co_dgram *d, int fd, void *buf, size_t n, co_addr *peer)
{
    int rc = start(d, OP_RECVFROM, fd, buf, n);
    d->peer = peer;
    if (rc == 0 && co__on_stack(co__loop(), peer))
        return CO_ESTACKARG; /* filled after the task suspends */
    return rc;
}

int co__sendto_start(co_dgram *d, int fd, const void *buf, size_t n, const co_addr *to)
{
    int rc = start(d, OP_SENDTO, fd, (void *)(uintptr_t)buf, n);
    memset(&d->to, 0, sizeof d->to);
    if (to)
        d->to = *to; /* copied: the caller's address need not outlive the call */
    return rc;
}

int co__recv_batch_start(co_dgram *d, int fd, co_dgram_msg *msgs, size_t n)
{
    int rc = start(d, OP_BATCH, fd, msgs, n);
    if (rc == 0 && (msgs == NULL || n == 0 || n > CO_DGRAM_BATCH_MAX)) {
        d->result = -EINVAL;
        d->state = ST_DONE;
    }
    return rc;
}

static int finish(co_dgram *d, ssize_t res)
{
    d->result = res;
    d->state = ST_DONE;
    return 1;
}

/* One datagram into buf: its length (real, if truncated) or -errno. */
static ssize_t recv_one(int fd, void *buf, size_t cap, co_addr *peer, bool *truncated)
{
    struct iovec iov = {buf, cap};
    struct msghdr m;
    co_addr scratch;
    ssize_t n;
    memset(&m, 0, sizeof m);
    if (peer == NULL)
        peer = &scratch;
    memset(peer, 0, sizeof *peer);
    m.msg_name = &peer->u;
    m.msg_namelen = sizeof peer->u;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    do
        n = recvmsg(fd, &m, TRUNC_FLAG | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    peer->len = m.msg_namelen;
    *truncated = (m.msg_flags & MSG_TRUNC) != 0;
    return n;
}

static bool would_block(ssize_t err) { return err == -EAGAIN || err == -EWOULDBLOCK; }

static int wait_for(co_dgram *d, unsigned dir)
{
    int rc = co__fd_wait(co__loop(), d->fd, dir);
    if (rc == 0) {
        d->state = ST_WAITING;
        d->streak = 0;
        return 0;
    }
    finish(d, rc);
    return rc == CO_ENOTASK || rc == CO_EBUSY ? rc : 1;
}

static int recvfrom_step(co_dgram *d)
{
    bool trunc = false;
    ssize_t n = recv_one(d->fd, d->buf, d->len, d->peer, &trunc);
    if (would_block(n))
        return wait_for(d, CO_READABLE);
    if (n < 0)
        return finish(d, n);
    d->truncated = trunc;
    d->size = (size_t)n;
    return finish(d, trunc && (size_t)n > d->len ? (ssize_t)d->len : n);
}

static int sendto_step(co_dgram *d)
{
    const co_addr *to = d->to.len ? &d->to : NULL;
    ssize_t n;
    do
        n = sendto(d->fd, d->buf, d->len, MSG_NOSIGNAL | MSG_DONTWAIT, to ? &to->u.sa : NULL,
                   to ? to->len : 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        return wait_for(d, CO_WRITABLE);
    return finish(d, n < 0 ? -errno : n);
}

/* The datagrams already waiting, up to the batch's size. */
static int batch_step(co_dgram *d)
{
    co_dgram_msg *msgs = d->buf;
    size_t got = 0;
    while (got < d->len) {
        co_dgram_msg *m = &msgs[got];
        bool trunc = false;
        ssize_t n = recv_one(d->fd, m->buf, m->cap, &m->peer, &trunc);
        if (n < 0) {
            if (got > 0)
                break; /* what failed is reported by the next call */
            return would_block(n) ? wait_for(d, CO_READABLE) : finish(d, n);
        }
        m->truncated = trunc;
        m->len = trunc && (size_t)n > m->cap ? m->cap : (size_t)n;
        got++;
    }
    return finish(d, (ssize_t)got);
}

int co__dgram_step(co_dgram *d)
{
    if (d->state == ST_DONE)
        return 1;
    if (d->state == ST_FRESH && ++d->streak > CO_DGRAM_FAIR) {
        int rc = co__sleep(0); /* let the others run once */
        d->streak = 0;
        if (rc < 0)
            return finish(d, rc);
        d->state = ST_YIELDING;
        return 0;
    }
    switch (d->op) {
    case OP_RECVFROM: return recvfrom_step(d);
    case OP_SENDTO: return sendto_step(d);
    case OP_BATCH: return batch_step(d);
    default: return CO_EBADARG;
    }
}

int co__dgram_resumed(co_dgram *d, int thrown)
{
    bool on_fd = d->state == ST_WAITING;
    if (thrown < 0) {
        finish(d, thrown);
        return thrown;
    }
    if (on_fd && co__wait_fd_end() == -EBADF)
        return finish(d, -EBADF);
    return 0;
}
