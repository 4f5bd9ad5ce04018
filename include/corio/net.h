/*
 * corio/net.h -- non-blocking stream sockets for tasks: asyncio's
 * loop.sock_* calls (and StreamReader.readexactly) over TCP on IPv4 and
 * IPv6, and over Unix stream sockets.
 *
 *     typedef struct { co_gen gen; int fd; co_io io; char buf[4096]; } echo;
 *
 *     static int echo_fn(co_gen *g)                // one connection
 *     {
 *         echo *self = (echo *)g;
 *         CO_BEGIN(self);
 *         for (;;) {
 *             CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
 *             if (self->io.result <= 0)        // 0: end of stream, <0: -errno
 *                 break;
 *             CO_SEND_ALL(self, &self->io, self->fd, self->buf, (size_t)self->io.result);
 *             if (self->io.result < 0)
 *                 break;
 *         }
 *         CO_FINALLY(self) { co_fd_close(co_running_loop(), self->fd); }
 *         CO_END(self);
 *     }
 *
 * Each await macro keeps its state in a co_io in the task's frame: no
 * allocation per operation.  The outcome lands in that co_io's `result` --
 * a byte count, a new fd, or a negative code (-errno, CO_EOF, CO_ETIMEOUT)
 * -- and is never raised: I/O failures are results to look at.  Only
 * cancellation (CO_ECANCELLED) and misuse are raised: an await outside a
 * task (CO_ENOTASK), or a second task waiting for the same direction of the
 * same fd (CO_EBUSY).
 *
 * An operation that can finish at once does so without suspending, like
 * Python's: a task echoing a fast peer keeps the loop until it has to wait.
 *
 * Every fd these calls make is non-blocking and close-on-exec.  Close them
 * with co_fd_close(co_running_loop(), fd): the reactor must forget an fd
 * before its number can be reused (corio.h).  Writes never raise SIGPIPE: a
 * closed peer is reported as -EPIPE or -ECONNRESET.
 *
 * Host names are never looked up here: getaddrinfo() blocks, and a loop must
 * not.  co_addr_ip takes numeric addresses and "localhost"; for other names
 * see dns.h (CO_GETADDRINFO, CO_OPEN_CONNECTION), which look them up on the
 * worker pool.
 */
#ifndef CORIO_NET_H
#define CORIO_NET_H

#include <corio/sched.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ addresses */

/* A socket address of any family these calls handle. */
typedef struct co_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
    } u;
    socklen_t len;
} co_addr;

/*
 * (host, port) for TCP.  host is a numeric IPv4 or IPv6 address ("::1",
 * "fe80::1%eth0"), "localhost" (127.0.0.1), or NULL / "" for every IPv4
 * interface (0.0.0.0).  0, or -EINVAL for a name that would need a lookup
 * or a port outside 0..65535.
 * Python: socket.getaddrinfo(host, port, flags=AI_NUMERICHOST)[0][4]
 */
CO_API int co_addr_ip(co_addr *addr, const char *host, int port);

/* A Unix socket path.  0, -ENAMETOOLONG, or -EINVAL for "".
 * Python: the path itself. */
CO_API int co_addr_unix(co_addr *addr, const char *path);

/* The address fd is bound to (port 0 becomes the port picked).  0 or -errno.
 * Python: sock.getsockname() */
CO_API int co_sockname(int fd, co_addr *addr);

/* The port of an IPv4 or IPv6 address, or -EAFNOSUPPORT. */
CO_API int co_addr_port(const co_addr *addr);

/* ----------------------------------------------------- plain calls */

/* co_listen flags */
#define CO_LISTEN_REUSEPORT 0x1u /* SO_REUSEPORT: one listener per loop per thread,
                                    all on the same port; -ENOPROTOOPT if absent */

/*
 * A listening socket on addr, non-blocking and close-on-exec: SO_REUSEADDR
 * for TCP, IPV6_V6ONLY for IPv6; a socket file already at a Unix path (left
 * by a server that died) is removed first, as asyncio does.  backlog < 0
 * means SOMAXCONN.
 * Returns the fd, or -errno.
 * Python: socket.create_server(addr, backlog=backlog, reuse_port=...)
 *         (socket.socket(AF_UNIX) + bind + listen for a Unix path)
 */
CO_API int co_listen(const co_addr *addr, int backlog, unsigned flags);

/* No more writes; the peer reads end of stream.  0 or -errno.
 * Python: sock.shutdown(socket.SHUT_WR), writer.write_eof() */
CO_API int co_shutdown_write(int fd);

/* ------------------------------------------------------------ awaits */

/* One operation's state, in the frame of the task that awaits it (88
 * bytes on 64-bit).  Read `result`, `done` and `fd`; the rest is private.
 * The co_io, the buffer and the peer address are used after the task
 * suspends: C locals there are refused with CO_ESTACKARG (a connect's
 * address is read before it waits, so a C local is fine). */
typedef struct co_io {
    ssize_t result; /* the outcome: bytes, a new fd, or a negative code */
    size_t done;    /* bytes moved so far: what a failed read or write did */
    int fd;         /* the socket worked on; CO_CONNECT's new socket    */
    uint8_t op, state, flags;
    size_t len;
    union {
        void *in;
        const void *out;
        co_addr *peer;
        const co_addr *to;
    } buf;
    co_deadline deadline; /* CO_CONNECT's timeout */
    void *outer;          /* the scope it sits in while it runs */
} co_io;

/*
 * conn, address = await loop.sock_accept(sock)
 * result: the connected socket (non-blocking, close-on-exec, TCP_NODELAY
 * for TCP), or -errno.  peer (NULL: not wanted) receives the peer's address.
 * When the process or system is out of fds (EMFILE, ENFILE) or memory
 * (ENOBUFS, ENOMEM; CO_ENOMEM when the loop cannot allocate what watching
 * the listener takes), the task first sleeps CO_ACCEPT_BACKOFF_MS, then the
 * result is that code: a loop that just accepts again cannot spin, and the
 * pending connections wait in the backlog until fds are free.
 */
#define CO_ACCEPT(self, io, listen_fd, peer) \
    CO__IO(self, io, co__accept_start((io), (listen_fd), (peer)))
#define CO_ACCEPT_BACKOFF_MS 100

/*
 * sock = socket(family); await asyncio.wait_for(loop.sock_connect(sock, addr),
 *                                               timeout_ms / 1000)
 * result: a new connected socket (non-blocking, close-on-exec, TCP_NODELAY
 * for TCP), or -errno (-ECONNREFUSED...), or CO_ETIMEOUT after timeout_ms
 * (< 0: no limit).  On any failure, timeout or cancellation the socket is
 * closed.  A Unix listener whose backlog is full refuses at once with
 * -EAGAIN.  `addr` is read when the connect starts (a C local is fine).
 */
#define CO_CONNECT(self, io, addr, timeout_ms) \
    CO__IO(self, io, co__connect_start((io), (addr), (int64_t)(timeout_ms)))

/*
 * data = await loop.sock_recv(sock, n)
 * result: the bytes read (1..n; 0 at end of stream, or when n is 0), or
 * -errno (-ECONNRESET when the peer reset the connection).
 */
#define CO_RECV(self, io, fd, buf, n) CO__IO(self, io, co__recv_start((io), (fd), (buf), (n), 0))

/*
 * data = await reader.readexactly(n)
 * result: n, or CO_EOF if the stream ends first (IncompleteReadError;
 * `done` holds how many bytes did arrive, at the start of buf), or -errno.
 */
#define CO_RECV_EXACTLY(self, io, fd, buf, n) \
    CO__IO(self, io, co__recv_start((io), (fd), (buf), (n), 1))

/*
 * await loop.sock_sendall(sock, data)
 * result: n once every byte is written (partial writes and a full socket
 * buffer are waited out), or -errno: -EPIPE or -ECONNRESET when the peer is
 * gone.  `done` says how many bytes went out, also when cancelled.
 */
#define CO_SEND_ALL(self, io, fd, buf, n) CO__IO(self, io, co__send_start((io), (fd), (buf), (n)))

/* ------------------------------------------------------------ internals */

/* Record the operation: <0 an error to raise, else 0. */
CO_API int co__accept_start(co_io *io, int listen_fd, co_addr *peer);
CO_API int co__connect_start(co_io *io, const co_addr *addr, int64_t timeout_ms);
CO_API int co__recv_start(co_io *io, int fd, void *buf, size_t n, int exactly);
CO_API int co__send_start(co_io *io, int fd, const void *buf, size_t n);
/* Go on with it: 1 finished (result is set), 0 the task now waits
 * (suspend), <0 an error to raise. */
CO_API int co__io_step(void);
/* Back from the wait, with the error thrown there (0: none): 1 finished,
 * 0 step again, <0 raise it. */
CO_API int co__io_resumed(int thrown);

#define CO__IO(self, io, start)                                                            \
    do {                                                                                   \
        CO__CHECK(self, (start));                                                          \
        for (;;) {                                                                         \
            int co__s = co__io_step();                                                     \
            if (co__s < 0)                                                                 \
                CO_RAISE(self, co__s);                                                     \
            if (co__s > 0)                                                                 \
                break;                                                                     \
            CO__SUSPEND_TASK(self, true);                                                  \
            co__s = co__io_resumed(CO_THROWN(self));                                       \
            if (co__s < 0)                                                                 \
                CO_RAISE(self, co__s);                                                     \
            if (co__s > 0)                                                                 \
                break;                                                                     \
        }                                                                                  \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_NET_H */
