/*
 * corio/udp.h -- datagrams for tasks: asyncio's loop.sock_recvfrom /
 * sock_sendto and create_datagram_endpoint, over UDP on IPv4 and IPv6 and
 * over Unix datagram sockets.
 *
 *     typedef struct { co_gen gen; int fd; co_dgram d; co_addr peer; char buf[1500]; } echo;
 *
 *     static int echo_fn(co_gen *g)                     // a UDP echo server
 *     {
 *         echo *self = (echo *)g;
 *         CO_BEGIN(self);
 *         for (;;) {
 *             CO_RECVFROM(self, d, self->fd, self->buf, sizeof self->buf, &self->peer);
 *             if (self->d.result < 0)
 *                 break;
 *             CO_SENDTO(self, d, self->fd, self->buf, (size_t)self->d.result, &self->peer);
 *         }
 *         CO_END(self);
 *     }
 *
 * As in net.h, the outcome of each await lands in its state's `result` (a
 * byte count or a -errno) and only cancellation and misuse are raised.  The
 * state argument (`d` above) names a member of the frame, where the await
 * finds it after a resume; every other argument is read once, at the start
 * (CO_SENDTO copies the address).  Buffers must stay valid until the await
 * returns.
 *
 * A datagram larger than the buffer is cut: `result` is what was stored,
 * `truncated` is set, and `size` gives the datagram's real length (on Linux;
 * elsewhere it equals result).  A connected socket reports the ICMP errors
 * of the peer's host at its next call: -ECONNREFUSED when nothing listens on
 * the port.
 *
 * Fairness: an await that finds a datagram waiting finishes without
 * suspending, like Python's.  So that a flooded socket cannot keep its task
 * running forever, every CO_DGRAM_FAIR-th await in a row that did not have
 * to wait first lets every other ready task run once (asyncio.sleep(0)).
 * CO_RECV_BATCH takes up to n datagrams already waiting in one await.
 */
#ifndef CORIO_UDP_H
#define CORIO_UDP_H

#include <corio/dns.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CO_DGRAM_FAIR 16

/*
 * transport, protocol = await loop.create_datagram_endpoint(
 *     ..., local_addr=local, remote_addr=remote, family=family)
 *
 * A datagram socket (non-blocking, close-on-exec): bound to local if not
 * NULL (a stale Unix socket file is removed first), connected to remote if
 * not NULL (connected mode: only that peer's datagrams arrive, and its ICMP
 * errors are reported).  family 0 takes local's or remote's.  IPv6 sockets
 * are IPv6-only.  A Unix datagram socket that wants replies must be bound
 * to a path of its own.  Returns the fd, or -errno.  Close it with
 * co_fd_close.
 */
CO_API int co_dgram_open(int family, const co_addr *local, const co_addr *remote);

/* One datagram operation's state, in the frame.  Read the first three. */
typedef struct co_dgram {
    ssize_t result; /* bytes received or sent, datagrams for a batch, or -errno */
    size_t size;    /* received: the datagram's real length            */
    bool truncated; /* received: it did not fit in the buffer           */
    /* private */
    uint8_t op, state, streak;
    int fd;
    void *buf;
    size_t len;
    co_addr *peer;
    co_addr to;
} co_dgram;

/* One datagram of a batch: fill buf and cap; read len, truncated, peer. */
typedef struct co_dgram_msg {
    void *buf;
    size_t cap;
    size_t len;
    bool truncated;
    co_addr peer;
} co_dgram_msg;

/*
 * data, addr = await loop.sock_recvfrom(sock, n)
 * result: the bytes of one datagram stored in buf (0 for an empty one), or
 * -errno.  peer (NULL: not wanted) receives the sender's address.
 */
#define CO_RECVFROM(self, d, fd, buf, n, peer)                                             \
    CO__IO_LOOP(self, co__recvfrom_start(&(self)->d, (fd), (buf), (n), (peer)),            \
                co__dgram_step(&(self)->d), co__dgram_resumed(&(self)->d, CO_THROWN(self)))

/*
 * await loop.sock_sendto(sock, data, addr)   (addr NULL: sock.send on a
 * connected socket)
 * result: n, or -errno (-EMSGSIZE for a datagram too large, -ECONNREFUSED
 * after an ICMP error on a connected socket).
 */
#define CO_SENDTO(self, d, fd, buf, n, to)                                                 \
    CO__IO_LOOP(self, co__sendto_start(&(self)->d, (fd), (buf), (n), (to)),                \
                co__dgram_step(&(self)->d), co__dgram_resumed(&(self)->d, CO_THROWN(self)))

/*
 * Up to n datagrams (n <= CO_DGRAM_BATCH_MAX) in one await: it waits for
 * the first, then takes those already waiting without waiting again.
 * result: how many arrived (msgs[0..result-1]), or -errno if the first
 * failed (an error after the first ends the batch early; the next call
 * reports it).
 */
#define CO_DGRAM_BATCH_MAX 64
#define CO_RECV_BATCH(self, d, fd, msgs, n)                                                \
    CO__IO_LOOP(self, co__recv_batch_start(&(self)->d, (fd), (msgs), (n)),                 \
                co__dgram_step(&(self)->d), co__dgram_resumed(&(self)->d, CO_THROWN(self)))

/* ----------------------------------------------------------- internals */

CO_API int co__recvfrom_start(co_dgram *d, int fd, void *buf, size_t n, co_addr *peer);
CO_API int co__sendto_start(co_dgram *d, int fd, const void *buf, size_t n, const co_addr *to);
CO_API int co__recv_batch_start(co_dgram *d, int fd, co_dgram_msg *msgs, size_t n);
CO_API int co__dgram_step(co_dgram *d);
CO_API int co__dgram_resumed(co_dgram *d, int thrown);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_UDP_H */
