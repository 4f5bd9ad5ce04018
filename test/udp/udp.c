/*
 * udp.c -- datagrams: echo over UDP on IPv4 and IPv6 and over Unix
 * datagram sockets, truncation, the ICMP refusal on a connected socket, a
 * batch of datagrams taken in one await, fairness under a flood, and the
 * errors of co_dgram_open and of the awaits.
 */
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void fini(void)
{
    if (net.dir[0]) {
        unlink(unix_path("server.sock"));
        unlink(unix_path("client.sock"));
        rmdir(net.dir);
    }
}

TestSuite(udp, .init = net_reset, .fini = fini, .timeout = 30);

static int open_or_fail(int family, const co_addr *local, const co_addr *remote)
{
    int fd = co_dgram_open(family, local, remote);
    cr_assert(fd >= 0, "co_dgram_open: %s", co_strerror(fd));
    return fd;
}

/* ------------------------------------------------------------- echo */

typedef struct echo_srv {
    co_gen gen;
    int fd, count;
    co_dgram d;
    co_addr peer;
    char buf[256];
} echo_srv;

static int echo_srv_fn(co_gen *g)
{
    echo_srv *self = (echo_srv *)g;
    CO_BEGIN(self);
    while (self->count-- > 0) {
        CO_RECVFROM(self, d, self->fd, self->buf, sizeof self->buf, &self->peer);
        cr_assert_geq(self->d.result, 0, "%s", co_strerror((int)self->d.result));
        CO_SENDTO(self, d, self->fd, self->buf, (size_t)self->d.result, &self->peer);
        cr_assert_eq(self->d.result, (ssize_t)strlen(self->buf) + 1);
    }
    CO_END(self);
}

typedef struct echo_cli {
    co_gen gen;
    int fd;
    co_addr to, from, me;
    co_dgram d;
    int i;
    char buf[256], out[32];
} echo_cli;

static int echo_cli_fn(co_gen *g)
{
    echo_cli *self = (echo_cli *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < 3; self->i++) {
        snprintf(self->out, sizeof self->out, "ping %d", self->i);
        CO_SENDTO(self, d, self->fd, self->out, strlen(self->out) + 1, &self->to);
        cr_assert_eq(self->d.result, (ssize_t)strlen(self->out) + 1);
        CO_RECVFROM(self, d, self->fd, self->buf, sizeof self->buf, &self->from);
        cr_assert_eq(self->d.result, (ssize_t)strlen(self->out) + 1);
        cr_assert_not(self->d.truncated);
        cr_assert_str_eq(self->buf, self->out);
        cr_assert_eq(self->from.len, self->to.len, "the reply comes from the server");
        cr_assert_eq(memcmp(&self->from.u, &self->to.u, self->to.len), 0);
    }
    CO_END(self);
}

static void run_dgram_echo(const co_addr *server, const co_addr *client_local)
{
    co_loop *loop = net_loop();
    echo_srv *s = CO_NEW(loop, echo_srv, echo_srv_fn);
    echo_cli *c = CO_NEW(loop, echo_cli, echo_cli_fn);
    cr_assert(s && c);
    s->fd = open_or_fail(0, server, NULL);
    s->count = 3;
    cr_assert_eq(co_sockname(s->fd, &c->to), 0);
    c->fd = open_or_fail(server->u.sa.sa_family, client_local, NULL);
    rt_spawn(&s->gen);
    cr_assert_eq(co_run(loop, &c->gen), 0);
    cr_assert(co_done(&s->gen));
    co_fd_close(loop, s->fd);
    co_fd_close(loop, c->fd);
    rt_free_loop(loop);
}

Test(udp, echo_ipv4)
{
    co_addr a;
    co_addr_ip(&a, "127.0.0.1", 0);
    run_dgram_echo(&a, NULL);
}

Test(udp, echo_ipv6)
{
    const char *why = NULL;
    co_addr a;
    if (!ipv6_available(&why))
        cr_skip_test("::1 cannot be bound here: %s", why);
    co_addr_ip(&a, "::1", 0);
    run_dgram_echo(&a, NULL);
}

Test(udp, echo_unix_datagrams)
{
    co_addr srv, cli;
    cr_assert_eq(co_addr_unix(&srv, unix_path("server.sock")), 0);
    cr_assert_eq(co_addr_unix(&cli, unix_path("client.sock")), 0);
    run_dgram_echo(&srv, &cli);
}

/* ------------------------------------------------ truncation, ICMP */

typedef struct one_recv {
    co_gen gen;
    int fd;
    size_t cap;
    co_dgram d;
    co_addr peer;
    char buf[64];
} one_recv;

static int one_recv_fn(co_gen *g)
{
    one_recv *self = (one_recv *)g;
    CO_BEGIN(self);
    CO_RECVFROM(self, d, self->fd, self->buf, self->cap, &self->peer);
    CO_END(self);
}

/* A socket pair over loopback UDP: b is bound, a connected to it. */
static void udp_pair(int *a, int *b)
{
    co_addr addr;
    co_addr_ip(&addr, "127.0.0.1", 0);
    *b = open_or_fail(0, &addr, NULL);
    cr_assert_eq(co_sockname(*b, &addr), 0);
    *a = open_or_fail(0, NULL, &addr);
}

Test(udp, a_truncated_datagram_is_reported)
{
    co_loop *loop = net_loop();
    one_recv *r = CO_NEW(loop, one_recv, one_recv_fn);
    char big[100];
    int a, b;
    udp_pair(&a, &b);
    memset(big, 'x', sizeof big);
    cr_assert_eq(send(a, big, sizeof big, 0), (ssize_t)sizeof big);
    r->fd = b;
    r->cap = 10;
    cr_assert_eq(co_run(loop, &r->gen), 0);
    cr_assert_eq(r->d.result, 10);
    cr_assert(r->d.truncated);
    cr_assert_eq(r->d.size, sizeof big, "the datagram's real length");
    co_fd_close(loop, a);
    co_fd_close(loop, b);
    rt_free_loop(loop);
}

typedef struct refused {
    co_gen gen;
    int fd;
    co_dgram d;
    ssize_t sent;
    char buf[16];
} refused;

static int refused_fn(co_gen *g)
{
    refused *self = (refused *)g;
    CO_BEGIN(self);
    CO_SENDTO(self, d, self->fd, "hello", 5, NULL);
    self->sent = self->d.result;
    CO_RECVFROM(self, d, self->fd, self->buf, sizeof self->buf, NULL);
    CO_END(self);
}

static void connected_refusal(const char *ip)
{
    co_loop *loop = net_loop();
    refused *r = CO_NEW(loop, refused, refused_fn);
    co_addr addr;
    int gone;
    co_addr_ip(&addr, ip, 0);
    gone = open_or_fail(0, &addr, NULL); /* a port that was in use a moment ago */
    cr_assert_eq(co_sockname(gone, &addr), 0);
    close(gone);
    r->fd = open_or_fail(0, NULL, &addr);
    cr_assert_eq(co_run(loop, &r->gen), 0);
    cr_assert_eq(r->sent, 5);
    cr_assert_eq(r->d.result, -ECONNREFUSED, "%s", co_strerror((int)r->d.result));
    co_fd_close(loop, r->fd);
    rt_free_loop(loop);
}

Test(udp, icmp_refusal_on_a_connected_socket) { connected_refusal("127.0.0.1"); }

Test(udp, icmp_refusal_on_a_connected_socket_ipv6)
{
    const char *why = NULL;
    if (!ipv6_available(&why))
        cr_skip_test("::1 cannot be bound here: %s", why);
    connected_refusal("::1");
}

/* ------------------------------------------------- batches, fairness */

#define FLOOD 100

typedef struct batcher {
    co_gen gen;
    int fd, got, calls;
    co_dgram d;
    co_dgram_msg m[16];
    char bufs[16][8];
} batcher;

static int batcher_fn(co_gen *g)
{
    batcher *self = (batcher *)g;
    CO_BEGIN(self);
    for (int i = 0; i < 16; i++) {
        self->m[i].buf = self->bufs[i];
        self->m[i].cap = sizeof self->bufs[i];
    }
    while (self->got < FLOOD) {
        CO_RECV_BATCH(self, d, self->fd, self->m, 16);
        cr_assert_gt(self->d.result, 0, "%s", co_strerror((int)self->d.result));
        self->calls++;
        for (ssize_t i = 0; i < self->d.result; i++) {
            char want[8];
            snprintf(want, sizeof want, "%d", self->got++);
            cr_assert_str_eq(self->bufs[i], want, "in order, none lost");
            cr_assert_eq(self->m[i].len, strlen(want) + 1);
        }
    }
    CO_END(self);
}

static void flood(int a, int n)
{
    for (int i = 0; i < n; i++) {
        char msg[8];
        int len = snprintf(msg, sizeof msg, "%d", i) + 1;
        cr_assert_eq(send(a, msg, (size_t)len, 0), len);
    }
}

Test(udp, many_datagrams_in_bounded_batches)
{
    co_loop *loop = net_loop();
    batcher *b = CO_NEW(loop, batcher, batcher_fn);
    int a, fd;
    udp_pair(&a, &fd);
    flood(a, FLOOD);
    b->fd = fd;
    cr_assert_eq(co_run(loop, &b->gen), 0);
    cr_assert_eq(b->got, FLOOD);
    cr_assert_eq(b->calls, (FLOOD + 15) / 16, "each batch as full as its bound");
    co_fd_close(loop, a);
    co_fd_close(loop, fd);
    rt_free_loop(loop);
}

typedef struct flooded {
    co_gen gen;
    int fd, got;
    co_dgram d;
    char buf[8];
} flooded;

static int flooded_fn(co_gen *g)
{
    flooded *self = (flooded *)g;
    CO_BEGIN(self);
    while (self->got < FLOOD) {
        CO_RECVFROM(self, d, self->fd, self->buf, sizeof self->buf, NULL);
        cr_assert_gt(self->d.result, 0);
        self->got++;
    }
    CO_END(self);
}

typedef struct bystander {
    co_gen gen;
    flooded *f;
    int turns;
} bystander;

static int bystander_fn(co_gen *g)
{
    bystander *self = (bystander *)g;
    CO_BEGIN(self);
    while (self->f->got < FLOOD) {
        self->turns++;
        CO_SLEEP(self, 0);
    }
    CO_END(self);
}

Test(udp, a_flooded_socket_lets_others_run)
{
    co_loop *loop = net_loop();
    flooded *f = CO_NEW(loop, flooded, flooded_fn);
    bystander *b = CO_NEW(loop, bystander, bystander_fn);
    int a, fd;
    udp_pair(&a, &fd);
    flood(a, FLOOD);
    f->fd = fd;
    b->f = f;
    rt_spawn(&b->gen);
    cr_assert_eq(co_run(loop, &f->gen), 0);
    cr_assert_eq(f->got, FLOOD);
    /* every CO_DGRAM_FAIR-th await yields once: the bystander runs each time */
    cr_assert_geq(b->turns, FLOOD / (CO_DGRAM_FAIR + 1), "the bystander ran %d times", b->turns);
    co_fd_close(loop, a);
    co_fd_close(loop, fd);
    rt_free_loop(loop);
}

/* ------------------------------------------------------------ errors */

Test(udp, open_rejects_bad_arguments)
{
    co_addr v4, v6, empty;
    memset(&empty, 0, sizeof empty);
    co_addr_ip(&v4, "127.0.0.1", 0);
    co_addr_ip(&v6, "::1", 0);
    cr_assert_eq(co_dgram_open(0, NULL, NULL), -EINVAL, "no family to take");
    cr_assert_eq(co_dgram_open(0, &v4, &v6), -EINVAL, "families disagree");
    cr_assert_eq(co_dgram_open(AF_INET, &empty, NULL), -EINVAL);
    cr_assert_eq(co_dgram_open(12345, NULL, NULL), -EAFNOSUPPORT);
}

typedef struct sender {
    co_gen gen;
    int fd;
    co_dgram d;
    ssize_t big, batch;
    co_dgram_msg m[1];
    char *buf;
} sender;

static int sender_fn(co_gen *g)
{
    sender *self = (sender *)g;
    CO_BEGIN(self);
    CO_SENDTO(self, d, self->fd, self->buf, 70000, NULL); /* over UDP's 65507 */
    self->big = self->d.result;
    CO_RECV_BATCH(self, d, self->fd, self->m, CO_DGRAM_BATCH_MAX + 1);
    self->batch = self->d.result;
    CO_END(self);
}

Test(udp, too_large_and_bad_batches)
{
    co_loop *loop = net_loop();
    sender *s = CO_NEW(loop, sender, sender_fn);
    static char buf[70000];
    int a, b;
    udp_pair(&a, &b);
    s->fd = a;
    s->buf = buf;
    cr_assert_eq(co_run(loop, &s->gen), 0);
    cr_assert_eq(s->big, -EMSGSIZE);
    cr_assert_eq(s->batch, -EINVAL);
    co_fd_close(loop, a);
    co_fd_close(loop, b);
    rt_free_loop(loop);
}

typedef struct closer {
    co_gen gen;
    one_recv *r;
} closer;

static int closer_fn(co_gen *g)
{
    closer *self = (closer *)g;
    CO_BEGIN(self);
    rt_spawn(&self->r->gen);
    CO_SLEEP(self, 5);
    co_fd_close(co_running_loop(), self->r->fd);
    CO_AWAIT_TASK(self, &self->r->gen);
    CO_END(self);
}

Test(udp, closed_under_a_waiting_recvfrom)
{
    co_loop *loop = net_loop();
    closer *c = CO_NEW(loop, closer, closer_fn);
    one_recv *r = CO_NEW(loop, one_recv, one_recv_fn);
    co_addr addr;
    co_addr_ip(&addr, "127.0.0.1", 0);
    r->fd = open_or_fail(0, &addr, NULL);
    r->cap = sizeof r->buf;
    c->r = r;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    cr_assert_eq(r->d.result, -EBADF);
    rt_free_loop(loop);
}

typedef struct cancel_recv {
    co_gen gen;
    one_recv *r;
    int fd;
    co_dgram d;
    char buf[8];
} cancel_recv;

static int cancel_recv_fn(co_gen *g)
{
    cancel_recv *self = (cancel_recv *)g;
    CO_BEGIN(self);
    rt_spawn(&self->r->gen);
    CO_SLEEP(self, 5);
    co_cancel(&self->r->gen);
    CO_AWAIT_TASK_CATCH(self, &self->r->gen);
    cr_assert_eq(CO_THROWN(self), CO_ECANCELLED);
    /* the socket is still fine for the next reader */
    cr_assert_eq(send(self->fd, "hi", 3, 0), 3);
    CO_RECVFROM(self, d, self->r->fd, self->buf, sizeof self->buf, NULL);
    cr_assert_eq(self->d.result, 3);
    CO_END(self);
}

Test(udp, cancelling_a_recvfrom)
{
    co_loop *loop = net_loop();
    cancel_recv *c = CO_NEW(loop, cancel_recv, cancel_recv_fn);
    one_recv *r = CO_NEW(loop, one_recv, one_recv_fn);
    int a, b;
    udp_pair(&a, &b);
    r->fd = b;
    r->cap = sizeof r->buf;
    c->r = r;
    c->fd = a;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    co_fd_close(loop, a);
    co_fd_close(loop, b);
    rt_free_loop(loop);
}
