/*
 * drained.c -- the drained bit (src/reactor/reactor.h): a read that got
 * less than it asked for makes the next read on that fd wait for
 * readiness instead of trying first.  This file defines recv and read,
 * which the dynamic linker then prefers to libc's for libcorio's calls
 * too, and counts their calls per fd: a keep-alive exchange costs one
 * recv a request (two before the bit: the read after each reply failed
 * with EAGAIN), over CO_RECV and over streams.  Then the edges: a read
 * that fills its buffer tries again at once, bytes that arrive between a
 * short read and the next are still read, end of stream and a reset after
 * a short read, a closed fd whose number comes back, pipes and a regular
 * file (which no backend can watch).  Each test runs on every backend.
 */
#include "st.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

TestSuite(drained, .init = net_reset, .timeout = 30);

/* ------------------------------------------------------ counted calls */

#define COUNTED_FDS 1024
static atomic_ulong calls[COUNTED_FDS];

static void count(int fd)
{
    if (fd >= 0 && fd < COUNTED_FDS)
        atomic_fetch_add_explicit(&calls[fd], 1, memory_order_relaxed);
}

static unsigned long calls_on(int fd) { return atomic_load(&calls[fd]); }

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    count(fd);
    return syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
}

ssize_t read(int fd, void *buf, size_t n)
{
    count(fd);
    return syscall(SYS_read, fd, buf, n);
}

/* ----------------------------------------------------------- the kit */

#define REQUEST "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#define REPLY "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
#define ROUNDS 50

/* A keep-alive client: ROUNDS requests, each sent once the last reply
 * is in whole; then the end of its writing side. */
typedef struct client {
    co_gen gen;
    int fd, i;
    co_io io;
    char reply[sizeof REPLY - 1];
} client;

static int client_fn(co_gen *g)
{
    client *self = (client *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < ROUNDS; self->i++) {
        CO_SEND_ALL(self, &self->io, self->fd, REQUEST, sizeof REQUEST - 1);
        CO_CHECK(self, (int)self->io.result);
        CO_RECV_EXACTLY(self, &self->io, self->fd, self->reply, sizeof self->reply);
        CO_CHECK(self, (int)self->io.result);
        cr_assert(memcmp(self->reply, REPLY, sizeof self->reply) == 0);
    }
    CO_CHECK(self, co_shutdown_write(self->fd));
    CO_END(self);
}

static client *start_client(co_loop *loop, int fd)
{
    client *c = CO_NEW(loop, client, client_fn);
    c->fd = fd;
    rt_spawn(&c->gen);
    co_release(&c->gen);
    return c;
}

/* A hello server on CO_RECV: a read, a reply, until end of stream. */
typedef struct io_server {
    co_gen gen;
    int fd, served;
    co_io io;
    char buf[512];
} io_server;

static int io_server_fn(co_gen *g)
{
    io_server *self = (io_server *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
        if (self->io.result <= 0)
            break;
        cr_assert_eq(self->io.result, (ssize_t)sizeof REQUEST - 1);
        CO_SEND_ALL(self, &self->io, self->fd, REPLY, sizeof REPLY - 1);
        CO_CHECK(self, (int)self->io.result);
        self->served++;
    }
    CO_CHECK(self, (int)self->io.result);
    CO_END(self);
}

/* The same on a stream: readuntil the blank line, write, drain. */
typedef struct stream_server {
    co_gen gen;
    co_stream *s;
    int served;
} stream_server;

static int stream_server_fn(co_gen *g)
{
    stream_server *self = (stream_server *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_READUNTIL(self, s, "\r\n\r\n", 4);
        if (self->s->result < 0)
            break;
        cr_assert_eq(self->s->result, (ssize_t)sizeof REQUEST - 1);
        CO_CHECK(self, co_stream_write(self->s, REPLY, sizeof REPLY - 1));
        CO_DRAIN(self, s);
        CO_CHECK(self, self->s->wresult);
        self->served++;
    }
    cr_assert_eq(self->s->result, CO_EOF);
    cr_assert(co_stream_at_eof(self->s));
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

/* ------------------------------------------------- one recv a request */

/* The server's first read finds nothing yet (one recv), each request is
 * one recv, and the end of stream one more. */
#define WANT_RECVS (ROUNDS + 2)

Test(drained, co_recv_reads_once_a_request)
{
    int a, b;
    co_loop *loop = net_loop();
    io_server *srv = CO_NEW(loop, io_server, io_server_fn);
    tcp_pair(&a, &b);
    srv->fd = b;
    start_client(loop, a);
    st_run(loop, &srv->gen, 0);
    cr_assert_eq(srv->served, ROUNDS);
    cr_assert_leq(calls_on(b), WANT_RECVS, "%lu recv calls for %d requests", calls_on(b),
                  ROUNDS);
    st_done(loop);
    close(a);
    close(b);
}

Test(drained, a_stream_reads_once_a_request)
{
    int a, b;
    co_loop *loop = net_loop();
    stream_server *srv = CO_NEW(loop, stream_server, stream_server_fn);
    tcp_pair(&a, &b);
    srv->s = st_open(loop, b, NULL);
    start_client(loop, a);
    st_run(loop, &srv->gen, 0);
    cr_assert_eq(srv->served, ROUNDS);
    cr_assert_leq(calls_on(b), WANT_RECVS, "%lu recv calls for %d requests", calls_on(b),
                  ROUNDS);
    st_done(loop);
    close(a);
}

/* ------------------------------------------------------------ the edges */

/* Set when it runs: spawned before a read, it tells whether the read
 * suspended (the marker ran) or finished at once (it did not yet). */
typedef struct marker {
    co_gen gen;
    bool ran;
    int shut_fd; /* shut this fd's writing side when run (-1: none) */
} marker;

static int marker_fn(co_gen *g)
{
    marker *self = (marker *)g;
    CO_BEGIN(self);
    self->ran = true;
    if (self->shut_fd >= 0)
        shutdown(self->shut_fd, SHUT_WR);
    CO_END(self);
}

static marker *spawn_marker(int shut_fd)
{
    marker *m = CO_NEW(co_running_loop(), marker, marker_fn);
    cr_assert_not_null(m);
    m->shut_fd = shut_fd;
    rt_spawn(&m->gen);
    return m;
}

/* 612 bytes wait: a read of 512 fills its buffer, so the next tries at
 * once and gets the other 100 without suspending; that short read makes
 * the third wait, without a recv, until the peer's end. */
typedef struct edge {
    co_gen gen;
    int fd, peer;
    co_io io;
    char buf[512];
    marker *m;
} edge;

static int full_read_fn(co_gen *g)
{
    edge *self = (edge *)g;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd); /* watched, as a live connection is */
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 512);
    self->m = spawn_marker(self->peer);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 100);
    cr_assert_not(self->m->ran, "a read after a full one suspended");
    cr_assert_eq(calls_on(self->fd), 2);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 0);
    cr_assert(self->m->ran);
    cr_assert_eq(calls_on(self->fd), 3, "%lu recv calls: the read after a short one tried first",
                 calls_on(self->fd));
    CO_FINALLY(self) {
        if (self->m)
            co_release(&self->m->gen);
    }
    CO_END(self);
}

static void run_edge(co_body body, int a, int b)
{
    co_loop *loop = net_loop();
    edge *e = CO_NEW(loop, edge, body);
    e->fd = b;
    e->peer = a;
    st_run(loop, &e->gen, 0);
    st_done(loop);
}

Test(drained, a_read_that_fills_its_buffer_tries_again_at_once)
{
    char out[612];
    int a, b;
    tcp_pair(&a, &b);
    memset(out, 'x', sizeof out);
    st_write_all(a, out, sizeof out);
    run_edge(full_read_fn, a, b);
    close(a);
    close(b);
}

/* A short read, then bytes arrive before the next read starts and before
 * the loop polls: the read that waits first still gets them. */
static int between_fn(co_gen *g)
{
    edge *self = (edge *)g;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd); /* watched, as a live connection is */
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 1);
    st_write_all(self->peer, "b", 1);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 1);
    cr_assert_eq(self->buf[0], 'b');
    cr_assert_eq(calls_on(self->fd), 2);
    CO_END(self);
}

Test(drained, bytes_that_arrive_between_two_reads_are_read)
{
    int a, b;
    tcp_pair(&a, &b);
    st_write_all(a, "a", 1);
    run_edge(between_fn, a, b);
    close(a);
    close(b);
}

/* After a short read: the end of stream, or a reset, is the next read's. */
static int end_fn(co_gen *g)
{
    edge *self = (edge *)g;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 3);
    if (self->peer >= 0)
        shutdown(self->peer, SHUT_WR);
    else
        reset_close(-self->peer - 1);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    if (self->peer >= 0)
        cr_assert_eq(self->io.result, 0, "%s", co_strerror((int)self->io.result));
    else
        cr_assert_eq(self->io.result, -ECONNRESET, "%s", co_strerror((int)self->io.result));
    CO_END(self);
}

Test(drained, the_end_of_stream_after_a_short_read)
{
    int a, b;
    tcp_pair(&a, &b);
    st_write_all(a, "abc", 3);
    run_edge(end_fn, a, b);
    close(a);
    close(b);
}

Test(drained, a_reset_after_a_short_read)
{
    int a, b;
    tcp_pair(&a, &b);
    st_write_all(a, "abc", 3);
    run_edge(end_fn, -a - 1, b); /* reset_close closes a */
    close(b);
}

/* A short read drains fd; the fd is closed and its number comes back as
 * another socket with bytes waiting: the first read takes them at once. */
static int reused_fn(co_gen *g)
{
    edge *self = (edge *)g;
    int c, d;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 3);
    co_fd_close(co_running_loop(), self->fd);
    tcp_pair(&c, &d);
    st_write_all(c, "new", 3);
    cr_assert_eq(dup2(d, self->fd), self->fd);
    close(d);
    close(c);
    self->m = spawn_marker(-1);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    cr_assert_eq(self->io.result, 3);
    cr_assert(memcmp(self->buf, "new", 3) == 0);
    cr_assert_not(self->m->ran, "a stale drained bit made the new fd's read wait");
    CO_FINALLY(self) {
        if (self->m)
            co_release(&self->m->gen);
        co_fd_close(co_running_loop(), self->fd);
    }
    CO_END(self);
}

Test(drained, a_closed_fd_number_that_comes_back_starts_fresh)
{
    int a, b;
    tcp_pair(&a, &b);
    st_write_all(a, "abc", 3);
    run_edge(reused_fn, a, b);
    close(a);
}

/* ---------------------------------------------------- pipes and files */

/* Reads the stream in pieces of 1000 to its end: the total. */
typedef struct piece_reader {
    co_gen gen;
    co_stream *s;
    size_t total;
} piece_reader;

static int piece_reader_fn(co_gen *g)
{
    piece_reader *self = (piece_reader *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_READ(self, s, 1000);
        CO_CHECK(self, (int)self->s->result);
        if (self->s->result == 0)
            break;
        self->total += (size_t)self->s->result;
    }
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

/* Writes 10 bytes to a pipe every ms, five times, then closes it. */
typedef struct feeder {
    co_gen gen;
    int fd, i;
} feeder;

static int feeder_fn(co_gen *g)
{
    feeder *self = (feeder *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < 5; self->i++) {
        CO_SLEEP(self, 1);
        st_write_all(self->fd, "0123456789", 10);
    }
    close(self->fd);
    CO_END(self);
}

static size_t read_in_pieces(int fd, int feed_fd)
{
    co_loop *loop = net_loop();
    piece_reader *r = CO_NEW(loop, piece_reader, piece_reader_fn);
    size_t total;
    r->s = st_open(loop, fd, NULL);
    if (feed_fd >= 0) {
        feeder *f = CO_NEW(loop, feeder, feeder_fn);
        f->fd = feed_fd;
        rt_spawn(&f->gen);
        co_release(&f->gen);
    }
    st_run(loop, &r->gen, 0);
    total = r->total;
    st_done(loop);
    return total;
}

Test(drained, a_pipe_fed_a_little_at_a_time)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
    cr_assert_eq(read_in_pieces(p[0], p[1]), 50);
    /* the first read finds nothing, then each piece is one read, and the
       end one more: no read() between that fails with EAGAIN */
    cr_assert_leq(calls_on(p[0]), 7, "%lu reads for 5 pieces", calls_on(p[0]));
}

Test(drained, a_regular_file_read_to_its_end)
{
    char path[] = "/tmp/corio-drained-XXXXXX";
    static char data[40000];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    memset(data, 'f', sizeof data);
    st_write_all(fd, data, sizeof data);
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    cr_assert_eq(read_in_pieces(fd, -1), sizeof data);
}
