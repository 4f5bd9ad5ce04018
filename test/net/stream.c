/*
 * stream.c -- data going through: echo round trips over IPv4, IPv6 and Unix
 * sockets, many clients at once, transfers of several MiB that must be cut
 * into partial writes, and the end of a stream seen by CO_RECV and
 * CO_RECV_EXACTLY.
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fini(void)
{
    if (net.dir[0]) { /* what the Unix tests left behind */
        unlink(unix_path("echo.sock"));
        rmdir(net.dir);
    }
}

TestSuite(stream, .init = net_reset, .fini = fini, .timeout = 30);

Test(stream, echo_ipv4)
{
    co_addr addr;
    int lfd = tcp_listener(16, &addr);
    run_echo(lfd, &addr, 1);
}

Test(stream, echo_ipv6)
{
    const char *why = NULL;
    co_addr addr;
    int fd;
    if (!ipv6_available(&why))
        cr_skip_test("::1 cannot be bound here: %s", why);
    cr_assert_eq(co_addr_ip(&addr, "::1", 0), 0);
    fd = co_listen(&addr, 16, 0);
    cr_assert(fd >= 0);
    cr_assert_eq(co_sockname(fd, &addr), 0);
    cr_assert_eq(addr.u.sa.sa_family, AF_INET6);
    run_echo(fd, &addr, 3);
}

Test(stream, echo_unix)
{
    co_addr addr;
    int fd;
    cr_assert_eq(co_addr_unix(&addr, unix_path("echo.sock")), 0);
    fd = co_listen(&addr, 16, 0);
    cr_assert(fd >= 0, "co_listen: %s", co_strerror(fd));
    run_echo(fd, &addr, 3);
}

Test(stream, two_hundred_clients_at_once)
{
    co_addr addr;
    int lfd = tcp_listener(512, &addr);
    run_echo(lfd, &addr, 200);
}

/* ------------------------------------------------------- big transfers */

#define BIG (6u << 20)  /* bytes sent */
#define CHUNK (64u << 10) /* bytes the receiver asks for at a time */

typedef struct sender {
    co_gen gen;
    int fd;
    unsigned char *data;
    co_io io;
} sender;

static int sender_fn(co_gen *g)
{
    sender *self = (sender *)g;
    CO_BEGIN(self);
    CO_SEND_ALL(self, &self->io, self->fd, self->data, BIG);
    co_shutdown_write(self->fd);
    CO_END(self);
}

typedef struct receiver {
    co_gen gen;
    int fd;
    const sender *peer;
    co_io io;
    unsigned char buf[CHUNK], want[CHUNK];
    size_t got;
    size_t sender_done_at_first; /* how far the sender was when data came */
    bool corrupt;
    ssize_t last;
} receiver;

static int receiver_fn(co_gen *g)
{
    receiver *self = (receiver *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_RECV_EXACTLY(self, &self->io, self->fd, self->buf, CHUNK);
        if (self->got == 0)
            self->sender_done_at_first = self->peer->io.done;
        fill_pattern(self->want, self->io.done, self->got);
        if (memcmp(self->buf, self->want, self->io.done) != 0)
            self->corrupt = true;
        self->got += self->io.done;
        if (self->io.result != (ssize_t)CHUNK)
            break;
    }
    self->last = self->io.result;
    CO_END(self);
}

typedef struct pair_main {
    co_gen gen;
    co_gen *tasks[2];
    co_gather gather;
} pair_main;

static int pair_main_fn(co_gen *g)
{
    pair_main *self = (pair_main *)g;
    CO_BEGIN(self);
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_ALL);
    CO_END(self);
}

/* Runs two tasks side by side until both are done. */
static void run_pair(co_loop *loop, co_gen *first, co_gen *second)
{
    pair_main *m = CO_NEW(loop, pair_main, pair_main_fn);
    int rc;
    cr_assert_not_null(m);
    m->tasks[0] = first;
    m->tasks[1] = second;
    rc = co_run(loop, &m->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
}

Test(stream, several_mib_in_partial_writes)
{
    co_loop *loop = net_loop();
    sender *s = CO_NEW(loop, sender, sender_fn);
    receiver *r = CO_NEW(loop, receiver, receiver_fn);
    int a, b;
    tcp_pair(&a, &b);
    small_send_buffer(a);
    s->fd = a;
    s->data = malloc(BIG);
    cr_assert_not_null(s->data);
    fill_pattern(s->data, BIG, 0);
    r->fd = b;
    r->peer = s;
    run_pair(loop, &s->gen, &r->gen);
    cr_assert_eq(s->io.result, (ssize_t)BIG, "send-all: %s", co_strerror((int)s->io.result));
    cr_assert_eq(s->io.done, BIG);
    /* the receiver ran while the sender was still in the middle of its
       send-all: the sender must have waited for room at least once */
    cr_assert_lt(r->sender_done_at_first, BIG);
    cr_assert_eq(r->got, BIG);
    cr_assert_not(r->corrupt, "the bytes arrived changed or out of order");
    cr_assert_eq(r->last, CO_EOF, "the last short read is the end of stream");
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
    free(s->data);
    rt_free_loop(loop);
}

static void make_blocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    cr_assert(fl >= 0);
    cr_assert_eq(fcntl(fd, F_SETFL, fl & ~O_NONBLOCK), 0);
}

/* A socket the program made itself (socketpair(), socket()) is blocking.
 * A recv or send that blocked would stop the whole loop: the peer task
 * never runs and both wait for ever.  Each call says MSG_DONTWAIT. */
Test(stream, blocking_sockets_never_block_the_loop)
{
    co_loop *loop = net_loop();
    sender *s = CO_NEW(loop, sender, sender_fn);
    receiver *r = CO_NEW(loop, receiver, receiver_fn);
    int a, b;
    tcp_pair(&a, &b);
    small_send_buffer(a);
    make_blocking(a);
    make_blocking(b);
    s->fd = a;
    s->data = malloc(BIG);
    cr_assert_not_null(s->data);
    fill_pattern(s->data, BIG, 0);
    r->fd = b;
    r->peer = s;
    run_pair(loop, &r->gen, &s->gen); /* the receiver first: it finds nothing */
    cr_assert_eq(s->io.result, (ssize_t)BIG, "send-all: %s", co_strerror((int)s->io.result));
    cr_assert_eq(r->got, BIG);
    cr_assert_not(r->corrupt);
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
    free(s->data);
    rt_free_loop(loop);
}

/* ------------------------------------------------------- end of stream */

typedef struct eof_reader {
    co_gen gen;
    int fd;
    co_io io;
    char buf[16];
    ssize_t first, exact, after;
    size_t exact_done;
} eof_reader;

static int eof_reader_fn(co_gen *g)
{
    eof_reader *self = (eof_reader *)g;
    CO_BEGIN(self);
    CO_RECV(self, &self->io, self->fd, self->buf, 2);
    self->first = self->io.result;
    /* 3 bytes are left before the end: asking for 10 is an incomplete read */
    CO_RECV_EXACTLY(self, &self->io, self->fd, self->buf, 10);
    self->exact = self->io.result;
    self->exact_done = self->io.done;
    CO_RECV(self, &self->io, self->fd, self->buf + 8, 8);
    self->after = self->io.result;
    CO_END(self);
}

typedef struct slow_writer {
    co_gen gen;
    int fd;
    co_io io;
} slow_writer;

/* Writes in two pieces with a pause, then ends the stream: the reader
 * must wait inside CO_RECV_EXACTLY for the second piece. */
static int slow_writer_fn(co_gen *g)
{
    slow_writer *self = (slow_writer *)g;
    CO_BEGIN(self);
    CO_SEND_ALL(self, &self->io, self->fd, "ab", 2);
    CO_SLEEP(self, 10);
    CO_SEND_ALL(self, &self->io, self->fd, "cde", 3);
    CO_SLEEP(self, 10);
    co_shutdown_write(self->fd);
    CO_END(self);
}

/* Runs `reader` on one end of a TCP pair (its fd stored in *fd) against
 * slow_writer on the other. */
static void against_slow_writer(co_loop *loop, co_gen *reader, int *fd)
{
    slow_writer *w = CO_NEW(loop, slow_writer, slow_writer_fn);
    int a, b;
    cr_assert_not_null(w);
    tcp_pair(&a, &b);
    *fd = a;
    w->fd = b;
    run_pair(loop, reader, &w->gen);
    co_fd_close(net.loop, a);
    co_fd_close(net.loop, b);
}

Test(stream, end_of_stream)
{
    co_loop *loop = net_loop();
    eof_reader *r = CO_NEW(loop, eof_reader, eof_reader_fn);
    against_slow_writer(loop, &r->gen, &r->fd);
    cr_assert_eq(r->first, 2);
    cr_assert_eq(r->exact, CO_EOF, "%s", co_strerror((int)r->exact));
    cr_assert_eq(r->exact_done, 3, "the partial read is kept");
    cr_assert_arr_eq(r->buf, "cde", 3);
    cr_assert_eq(r->after, 0, "after the end, a read returns 0 again");
    rt_free_loop(loop);
}

typedef struct exact_reader {
    co_gen gen;
    int fd;
    co_io io;
    char buf[8];
    ssize_t res;
    int64_t at_ms;
} exact_reader;

static int exact_reader_fn(co_gen *g)
{
    exact_reader *self = (exact_reader *)g;
    CO_BEGIN(self);
    CO_RECV_EXACTLY(self, &self->io, self->fd, self->buf, 5);
    self->res = self->io.result;
    self->at_ms = net_ms();
    CO_END(self);
}

Test(stream, recv_exactly_waits_for_every_byte)
{
    co_loop *loop = net_loop();
    exact_reader *r = CO_NEW(loop, exact_reader, exact_reader_fn);
    against_slow_writer(loop, &r->gen, &r->fd);
    cr_assert_eq(r->res, 5);
    cr_assert_arr_eq(r->buf, "abcde", 5);
    cr_assert_eq(r->at_ms, 10, "it had to wait for the second piece");
    rt_free_loop(loop);
}
