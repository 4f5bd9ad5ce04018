/*
 * io.c -- sockets for tasks: addresses, listening, and the state machines
 * behind CO_ACCEPT, CO_CONNECT, CO_RECV, CO_RECV_EXACTLY and CO_SEND_ALL.
 *
 * Every operation is a loop of "try the system call; if it would block,
 * wait for the fd on the reactor and try again".  Its state lives in the
 * caller's co_io, so an operation allocates nothing; only its outcome is
 * stored there, and only cancellation and misuse go back to be raised.
 */
#include "reactor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL /* where it is missing, SO_NOSIGPIPE does its work */
#define MSG_NOSIGNAL 0
#endif
/* A socket the program made itself (socket(), socketpair()) may be
 * blocking: every call says MSG_DONTWAIT, so such a socket waits in the
 * reactor like any other instead of stopping the whole loop in the kernel. */
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0
#endif

/* co_io.op */
enum { OP_ACCEPT = 1, OP_CONNECT, OP_RECV, OP_RECV_EXACTLY, OP_SEND };

/* co_io.state */
enum {
    ST_FRESH,   /* nothing tried yet                                  */
    ST_WAITING, /* waiting for the fd to be ready                     */
    ST_BACKOFF, /* accept ran out of fds: sleeping before it reports  */
    ST_DONE
};

/* co_io.flags */
enum { F_DEADLINE = 0x1 /* CO_CONNECT's deadline is armed */ };

/* ----------------------------------------------------------- addresses */

/* "%scope" of an IPv6 address: an interface number or name. */
static int parse_scope(const char *scope, uint32_t *id)
{
    char *end;
    unsigned long n = strtoul(scope, &end, 10);
    if (*scope != '\0' && *end == '\0' && n <= UINT32_MAX) {
        *id = (uint32_t)n;
        return 0;
    }
    *id = if_nametoindex(scope);
    return *id ? 0 : -EINVAL;
}

static int parse_ipv6(co_addr *addr, const char *host, int port)
{
    char text[INET6_ADDRSTRLEN]; /* the address without its scope */
    const char *pct = strchr(host, '%');
    size_t n = pct ? (size_t)(pct - host) : strlen(host);
    uint32_t scope = 0;
    if (n >= INET6_ADDRSTRLEN)
        return -EINVAL;
    memcpy(text, host, n);
    text[n] = '\0';
    if (inet_pton(AF_INET6, text, &addr->u.in6.sin6_addr) != 1)
        return -EINVAL;
    if (pct && parse_scope(pct + 1, &scope) < 0)
        return -EINVAL;
    addr->u.in6.sin6_family = AF_INET6;
    addr->u.in6.sin6_port = htons((uint16_t)port);
    addr->u.in6.sin6_scope_id = scope;
    addr->len = sizeof addr->u.in6;
    return 0;
}

int co_addr_ip(co_addr *addr, const char *host, int port)
{
    if (addr == NULL || port < 0 || port > 65535)
        return -EINVAL;
    memset(addr, 0, sizeof *addr);
    if (host == NULL || *host == '\0')
        host = "0.0.0.0";
    else if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr->u.in4.sin_addr) == 1) {
        addr->u.in4.sin_family = AF_INET;
        addr->u.in4.sin_port = htons((uint16_t)port);
        addr->len = sizeof addr->u.in4;
        return 0;
    }
    return parse_ipv6(addr, host, port);
}

int co_addr_unix(co_addr *addr, const char *path)
{
    size_t n;
    if (addr == NULL || path == NULL || *path == '\0')
        return -EINVAL;
    n = strlen(path);
    memset(addr, 0, sizeof *addr);
    if (n >= sizeof addr->u.un.sun_path)
        return -ENAMETOOLONG;
    addr->u.un.sun_family = AF_UNIX;
    memcpy(addr->u.un.sun_path, path, n + 1);
    addr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

int co_sockname(int fd, co_addr *addr)
{
    if (addr == NULL)
        return -EINVAL;
    memset(addr, 0, sizeof *addr);
    addr->len = sizeof addr->u;
    return getsockname(fd, &addr->u.sa, &addr->len) == 0 ? 0 : -errno;
}

int co_addr_port(const co_addr *addr)
{
    if (addr->u.sa.sa_family == AF_INET)
        return ntohs(addr->u.in4.sin_port);
    if (addr->u.sa.sa_family == AF_INET6)
        return ntohs(addr->u.in6.sin6_port);
    return -EAFNOSUPPORT;
}

/* ------------------------------------------------------------- sockets */

static bool is_ip(int family) { return family == AF_INET || family == AF_INET6; }

/* What every socket we hand out gets: no SIGPIPE where MSG_NOSIGNAL is
 * missing, and no Nagle delay on TCP (asyncio's streams do the same). */
static void tune(int fd, int family)
{
    int one = 1;
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (is_ip(family))
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
static int new_socket(int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

static int accept_socket(int lfd, struct sockaddr *sa, socklen_t *len)
{
    return accept4(lfd, sa, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#else
/* Without the flags, two more calls; an exec in another thread in between
 * could inherit the fd. */
static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

static int new_socket(int family)
{
    int fd = socket(family, SOCK_STREAM, 0), rc;
    if (fd < 0)
        return -errno;
    if ((rc = set_flags(fd)) < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

static int accept_socket(int lfd, struct sockaddr *sa, socklen_t *len)
{
    int fd = accept(lfd, sa, len);
    if (fd >= 0 && set_flags(fd) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
#endif

static int set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : -errno;
}

static int listen_options(int fd, const co_addr *addr, unsigned flags)
{
    int family = addr->u.sa.sa_family, rc = 0;
    if (is_ip(family))
        rc = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (rc == 0 && family == AF_INET6)
        rc = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (rc == 0 && (flags & CO_LISTEN_REUSEPORT)) {
#ifdef SO_REUSEPORT
        rc = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
        rc = -ENOPROTOOPT;
#endif
    }
    return rc;
}

/* A socket file left by a server that died would make bind fail. */
static void remove_stale_socket(const co_addr *addr)
{
    struct stat st;
    if (addr->u.sa.sa_family == AF_UNIX && addr->u.un.sun_path[0] != '\0' &&
        lstat(addr->u.un.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(addr->u.un.sun_path);
}

int co_listen(const co_addr *addr, int backlog, unsigned flags)
{
    int fd, rc;
    if (addr == NULL || addr->len == 0 || (flags & ~CO_LISTEN_REUSEPORT))
        return -EINVAL;
    if ((fd = new_socket(addr->u.sa.sa_family)) < 0)
        return fd;
    rc = listen_options(fd, addr, flags);
    if (rc == 0) {
        remove_stale_socket(addr);
        if (bind(fd, &addr->u.sa, addr->len) < 0 ||
            listen(fd, backlog < 0 ? SOMAXCONN : backlog) < 0)
            rc = -errno;
    }
    if (rc < 0) { /* never waited on: a plain close is enough */
        close(fd);
        return rc;
    }
    return fd;
}

int co_shutdown_write(int fd) { return shutdown(fd, SHUT_WR) == 0 ? 0 : -errno; }

/* ----------------------------------------------------- the operations */

/* Sets io up for op and puts it on the task's scope until it finishes, so
 * the steps after a resume need no argument; CO_ENOTASK outside a task.
 * io and mem (the buffer or peer address) are used after the task suspends:
 * pointers into the C stack are refused. */
static int start(co_io *io, uint8_t op, int fd, size_t len, const void *mem)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, io) || co__on_stack(loop, mem))
        return CO_ESTACKARG;
    co__scope_push(loop->current, io, &io->outer);
    io->result = 0;
    io->done = 0;
    io->fd = fd;
    io->op = op;
    io->state = ST_FRESH;
    io->flags = 0;
    io->len = len;
    if (len > (size_t)SSIZE_MAX) { /* the result could not hold the count */
        io->result = -EINVAL;
        io->state = ST_DONE;
    }
    return 0;
}

/* Ends the operation with result `res`.  A failed connect closes its socket. */
static int finish(co_io *io, ssize_t res)
{
    if (io->flags & F_DEADLINE) {
        io->flags &= (uint8_t)~F_DEADLINE;
        co__deadline_end(&io->deadline, 0);
    }
    if (io->op == OP_CONNECT && res < 0 && io->fd >= 0)
        co_fd_close(co__loop(), io->fd);
    io->result = res;
    io->state = ST_DONE;
    return 1;
}

int co__accept_start(co_io *io, int listen_fd, co_addr *peer)
{
    int rc = start(io, OP_ACCEPT, listen_fd, 0, peer);
    io->buf.peer = peer;
    return rc;
}

int co__connect_start(co_io *io, const co_addr *addr, int64_t timeout_ms)
{
    int rc = start(io, OP_CONNECT, -1, 0, NULL); /* addr is read before any wait */
    io->buf.to = addr;
    if (rc < 0 || timeout_ms < 0)
        return rc;
    /* armed now, so that it covers the whole connect */
    rc = co__deadline_arm(&io->deadline, NULL, co__ms_to_ns(timeout_ms));
    if (rc < 0)
        finish(io, rc);
    else
        io->flags |= F_DEADLINE;
    return 0;
}

int co__recv_start(co_io *io, int fd, void *buf, size_t n, int exactly)
{
    int rc = start(io, exactly ? OP_RECV_EXACTLY : OP_RECV, fd, n, buf);
    io->buf.in = buf;
    return rc;
}

int co__send_start(co_io *io, int fd, const void *buf, size_t n)
{
    int rc = start(io, OP_SEND, fd, n, buf);
    io->buf.out = buf;
    return rc;
}

static int back_off(co_io *io, int err);

/* The current task waits until io's fd is ready for dir.  Misuse is
 * raised; a failure to watch the fd (out of memory...) is the outcome --
 * for an accept after a back-off, as when accept(2) itself is out of
 * memory, so that a server accepting again neither stops nor spins. */
static int wait_for(co_io *io, unsigned dir)
{
    int rc = co__fd_wait(co__loop(), io->fd, dir);
    if (rc == CO_ENOMEM && io->op == OP_ACCEPT)
        return back_off(io, rc);
    if (rc == 0) {
        io->state = ST_WAITING;
        return 0;
    }
    if (rc == CO_ENOTASK || rc == CO_EBUSY) {
        finish(io, rc); /* a connect still closes its socket */
        return rc;
    }
    return finish(io, rc);
}

/* Out of fds or memory: sleep before reporting it, so that a server that
 * simply accepts again cannot spin on a listener that stays readable. */
static int back_off(co_io *io, int err)
{
    int rc = co__sleep((int64_t)CO_ACCEPT_BACKOFF_MS * 1000000);
    if (rc < 0)
        return finish(io, err);
    io->result = err;
    io->state = ST_BACKOFF;
    return 0;
}

static int accept_step(co_io *io)
{
    struct sockaddr_storage ss;
    for (;;) {
        socklen_t len = sizeof ss;
        int fd = accept_socket(io->fd, (struct sockaddr *)&ss, &len);
        if (fd >= 0) {
            tune(fd, ss.ss_family);
            if (io->buf.peer) {
                co_addr *peer = io->buf.peer;
                memset(peer, 0, sizeof *peer);
                memcpy(&peer->u, &ss, len < sizeof peer->u ? len : sizeof peer->u);
                peer->len = len;
            }
            return finish(io, fd);
        }
        switch (errno) {
        case EINTR:
        case ECONNABORTED: /* that client gave up while queued: take the next */
        case EPROTO:
            continue;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            return wait_for(io, CO_READABLE);
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
            return back_off(io, -errno);
        default:
            return finish(io, -errno);
        }
    }
}

/* Is the socket connected now?  (Woken as writable, or never waited.) */
static int connect_check(co_io *io)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    return finish(io, err ? -err : io->fd);
}

static int connect_step(co_io *io)
{
    const co_addr *to = io->buf.to;
    int fd;
    if (io->state == ST_WAITING)
        return connect_check(io);
    if (to == NULL || to->len == 0)
        return finish(io, -EINVAL);
    if ((fd = new_socket(to->u.sa.sa_family)) < 0)
        return finish(io, fd);
    io->fd = fd;
    tune(fd, to->u.sa.sa_family);
    if (connect(fd, &to->u.sa, to->len) == 0)
        return finish(io, fd);
    /* interrupted, a connect goes on in the background like EINPROGRESS */
    if (errno != EINPROGRESS && errno != EINTR)
        return finish(io, -errno);
    return wait_for(io, CO_WRITABLE);
}

/* A read that got less than it asked for left the fd drained: the next
 * one waits for readiness first (reactor.h), saving a recv that fails. */
static int recv_step(co_io *io)
{
    char *buf = io->buf.in;
    co_reactor *r = co__loop()->reactor;
    for (;;) {
        ssize_t n;
        size_t want = io->len - io->done;
        if (io->done == io->len && (io->op == OP_RECV_EXACTLY || io->len == 0))
            return finish(io, (ssize_t)io->done);
        if (co__fd_drained(r, io->fd))
            return wait_for(io, CO_READABLE);
        n = recv(io->fd, buf + io->done, want, MSG_DONTWAIT);
        if (n > 0) {
            io->done += (size_t)n;
            if ((size_t)n < want)
                co__fd_set_drained(r, io->fd);
            if (io->op == OP_RECV)
                return finish(io, n);
            continue;
        }
        if (n == 0) /* end of stream */
            return finish(io, io->op == OP_RECV_EXACTLY ? CO_EOF : 0);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return wait_for(io, CO_READABLE);
        return finish(io, -errno);
    }
}

static int send_step(co_io *io)
{
    const char *buf = io->buf.out;
    while (io->done < io->len) {
        ssize_t n = send(io->fd, buf + io->done, io->len - io->done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            io->done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return wait_for(io, CO_WRITABLE);
        return finish(io, -errno);
    }
    return finish(io, (ssize_t)io->done);
}

static int io_step(co_io *io)
{
    switch (io->state) {
    case ST_DONE:
        return 1;
    case ST_BACKOFF:
        return finish(io, io->result);
    default:
        break;
    }
    switch (io->op) {
    case OP_ACCEPT: return accept_step(io);
    case OP_CONNECT: return connect_step(io);
    case OP_RECV:
    case OP_RECV_EXACTLY: return recv_step(io);
    case OP_SEND: return send_step(io);
    default: return CO_EBADARG;
    }
}

static int io_resumed(co_io *io, int thrown)
{
    if (thrown < 0) { /* cancelled: a connect's timeout, or a real cancellation */
        int err = thrown;
        if (io->flags & F_DEADLINE) {
            io->flags &= (uint8_t)~F_DEADLINE;
            err = co__deadline_end(&io->deadline, thrown);
        }
        finish(io, err);
        return err == CO_ETIMEOUT ? 1 : err;
    }
    if (io->state == ST_WAITING && co__wait_fd_end() == -EBADF) {
        if (io->op == OP_CONNECT) /* closed already, and its number may be reused */
            io->fd = -1;
        return finish(io, -EBADF);
    }
    return 0;
}

/* The operation on top of the current task's scope; it leaves the scope
 * once the step or resume says it is over (anything but 0). */
static co_io *current_io(void)
{
    co_loop *loop = co__loop();
    return loop && loop->current ? loop->current->scope.top : NULL;
}

static int leave_if_over(co_io *io, int rc)
{
    if (rc != 0)
        co__loop()->current->scope.top = io->outer;
    return rc;
}

int co__io_step(void)
{
    co_io *io = current_io();
    return io ? leave_if_over(io, io_step(io)) : CO_ENOTASK;
}

int co__io_resumed(int thrown)
{
    co_io *io = current_io();
    return io ? leave_if_over(io, io_resumed(io, thrown)) : CO_ENOTASK;
}
