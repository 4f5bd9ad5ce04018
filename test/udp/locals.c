/*
 * locals.c -- C locals passed to the datagram awaits: every argument is
 * evaluated once, a datagram sent from a buffer in the frame arrives whole
 * after the task waited, the destination address may be a C local (it is
 * copied when the send starts), and a buffer or peer address on the C stack,
 * which the await would fill after the task suspends, is refused with
 * CO_ESTACKARG before anything is read or sent.
 */
#include "net.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(udp_locals, .init = net_reset, .timeout = 30);

static int open_or_fail(const co_addr *local, const co_addr *remote)
{
    int fd = co_dgram_open(AF_INET, local, remote);
    cr_assert(fd >= 0, "co_dgram_open: %s", co_strerror(fd));
    return fd;
}

/* b bound to loopback, its address in *addr; a unconnected. */
static void two_sockets(int *a, int *b, co_addr *addr)
{
    co_addr_ip(addr, "127.0.0.1", 0);
    *b = open_or_fail(addr, NULL);
    cr_assert_eq(co_sockname(*b, addr), 0);
    *a = open_or_fail(NULL, NULL);
}

/* Receives one datagram (waiting first: nothing was sent yet), then sends
 * it back to the sender through a C-local copy of its address. */
typedef struct {
    co_gen gen;
    int fd, evals, how; /* how: 0 frame storage, 1 local buf, 2 local peer */
    co_dgram d;
    co_addr peer;
    char buf[32];
} receiver;

static int receiver_fn(co_gen *g)
{
    receiver *self = (receiver *)g;
    CO_BEGIN(self);
    if (self->how == 1) {
        char buf[32];
        CO_RECVFROM(self, d, self->fd, buf, sizeof buf, &self->peer);
    } else if (self->how == 2) {
        co_addr peer;
        CO_RECVFROM(self, d, self->fd, self->buf, sizeof self->buf, &peer);
    } else {
        int fd = self->fd;
        char *buf = self->buf;
        size_t n = sizeof self->buf;
        co_addr *peer = &self->peer;
        CO_RECVFROM(self, d, RT_ARG(self, fd), RT_ARG(self, buf), RT_ARG(self, n), RT_ARG(self, peer));
    }
    cr_assert_eq(self->d.result, 6, "%s", co_strerror((int)self->d.result));
    {
        co_addr to = self->peer; /* copied when the send starts */
        int fd = self->fd;
        char *buf = self->buf;
        size_t n = (size_t)self->d.result;
        CO_SENDTO(self, d, RT_ARG(self, fd), RT_ARG(self, buf), RT_ARG(self, n), RT_ARG(self, &to));
    }
    cr_assert_eq(self->d.result, 6);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int fd;
    co_addr to;
    co_dgram d;
    char back[32];
} sender;

static int sender_fn(co_gen *g)
{
    sender *self = (sender *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 2); /* the receiver waits first */
    CO_SENDTO(self, d, self->fd, "hello", 6, &self->to);
    CO_RECVFROM(self, d, self->fd, self->back, sizeof self->back, NULL);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    receiver *r;
    sender *s;
    co_gen *ts[2];
    co_gather g;
} both;

static int both_fn(co_gen *g)
{
    both *self = (both *)g;
    CO_BEGIN(self);
    self->ts[0] = &self->r->gen;
    self->ts[1] = &self->s->gen;
    CO_GATHER(self, &self->g, self->ts, 2, CO_GATHER_ALL);
    CO_END(self);
}

static void run_pair(int how, receiver **out, sender **sout, int *a, int *b)
{
    co_loop *loop = net_loop();
    both *m = CO_NEW(loop, both, both_fn);
    co_addr addr;
    two_sockets(a, b, &addr);
    m->r = CO_NEW(loop, receiver, receiver_fn);
    m->s = CO_NEW(loop, sender, sender_fn);
    m->r->fd = *b;
    m->r->how = how;
    m->s->fd = *a;
    m->s->to = addr;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    *out = m->r;
    *sout = m->s;
}

Test(udp_locals, each_argument_once_and_frame_storage_across_the_wait)
{
    receiver *r;
    sender *s;
    int a, b;
    run_pair(0, &r, &s, &a, &b);
    cr_expect_eq(r->evals, 8, "4 arguments of the receive, 4 of the send");
    cr_expect_eq(s->d.result, 6);
    cr_expect_str_eq(s->back, "hello", "the datagram came back whole");
    close(a);
    close(b);
}

static void refused(int how)
{
    receiver *r;
    int a, b;
    co_loop *loop = net_loop();
    co_addr addr;
    two_sockets(&a, &b, &addr);
    r = CO_NEW(loop, receiver, receiver_fn);
    r->fd = b;
    r->how = how;
    cr_expect_eq(co_run(loop, &r->gen), CO_ESTACKARG, "a C-stack %s is refused",
                 how == 1 ? "buffer" : "peer address");
    cr_expect_eq(co_task_result(&r->gen), CO_ESTACKARG);
    close(a);
    close(b);
}

Test(udp_locals, a_c_stack_buffer_is_refused) { refused(1); }
Test(udp_locals, a_c_stack_peer_address_is_refused) { refused(2); }

/* A send from a C-stack buffer could go out after the task suspended. */
typedef struct {
    co_gen gen;
    int fd;
    co_addr to;
    co_dgram d;
} local_sender;

static int local_sender_fn(co_gen *g)
{
    local_sender *self = (local_sender *)g;
    CO_BEGIN(self);
    {
        char buf[8] = "hello";
        CO_SENDTO(self, d, self->fd, buf, 6, &self->to);
    }
    CO_END(self);
}

Test(udp_locals, a_send_from_a_c_stack_buffer_is_refused_and_nothing_is_sent)
{
    co_loop *loop = net_loop();
    local_sender *ls = CO_NEW(loop, local_sender, local_sender_fn);
    co_addr addr;
    char got[8];
    int a, b;
    two_sockets(&a, &b, &addr);
    ls->fd = a;
    ls->to = addr;
    cr_expect_eq(co_run(loop, &ls->gen), CO_ESTACKARG);
    cr_expect_eq(recv(b, got, sizeof got, MSG_DONTWAIT), -1, "nothing was sent");
    close(a);
    close(b);
}
