/*
 * net.c -- the socket tests' shared pieces (see net.h): their loop, socket
 * pairs made without a loop, and the echo server and client tasks.
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

net_state net;

void net_reset(void)
{
    memset(&net, 0, sizeof net);
    rt_reset();
}

co_loop *net_loop(void)
{
    net.loop = rt_loop();
    return net.loop;
}

int64_t net_ms(void) { return rt_ms(net.loop); }

/* ------------------------------------------------------------ sockets */

static void make_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    cr_assert(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

int tcp_listener(int backlog, co_addr *addr)
{
    int fd, rc;
    cr_assert_eq(co_addr_ip(addr, "127.0.0.1", 0), 0);
    fd = co_listen(addr, backlog, 0);
    cr_assert(fd >= 0, "co_listen: %s", co_strerror(fd));
    rc = co_sockname(fd, addr);
    cr_assert_eq(rc, 0, "co_sockname: %s", co_strerror(rc));
    return fd;
}

void tcp_pair(int *a, int *b)
{
    co_addr addr;
    int lfd = tcp_listener(1, &addr);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(c >= 0);
    cr_assert_eq(connect(c, &addr.u.sa, addr.len), 0, "connect: %s", strerror(errno));
    /* the listener is non-blocking, but the handshake is done: it is queued */
    *b = accept(lfd, NULL, NULL);
    cr_assert(*b >= 0, "accept: %s", strerror(errno));
    close(lfd);
    *a = c;
    make_nonblocking(*a);
    make_nonblocking(*b);
}

const char *unix_path(const char *name)
{
    static char path[128];
    if (net.dir[0] == '\0') {
        snprintf(net.dir, sizeof net.dir, "/tmp/corio-net-XXXXXX");
        cr_assert_not_null(mkdtemp(net.dir), "mkdtemp: %s", strerror(errno));
    }
    snprintf(path, sizeof path, "%s/%s", net.dir, name);
    return path;
}

bool ipv6_available(const char **why)
{
    co_addr addr;
    int fd;
    co_addr_ip(&addr, "::1", 0);
    fd = co_listen(&addr, 1, 0);
    if (fd < 0) {
        *why = co_strerror(fd);
        return false;
    }
    close(fd);
    return true;
}

bool fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0 || errno != EBADF; }

void fill_pattern(unsigned char *buf, size_t n, size_t off)
{
    for (size_t i = 0; i < n; i++) /* period 251: no power of two lines it up */
        buf[i] = (unsigned char)((off + i) % 251);
}

void small_send_buffer(int fd)
{
    int size = 256 << 10;
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
}

void reset_close(int fd)
{
    struct linger lg = {1, 0};
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(fd);
}

/* ------------------------------------------------------------ echo kit */

int echo_handler_fn(co_gen *g)
{
    echo_handler *self = (echo_handler *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
        if (self->io.result <= 0)
            break;
        CO_SEND_ALL(self, &self->io, self->fd, self->buf, (size_t)self->io.result);
        if (self->io.result < 0)
            break;
    }
    CO_FINALLY(self) { co_fd_close(co_running_loop(), self->fd); }
    CO_END(self);
}

int echo_acceptor_fn(co_gen *g)
{
    echo_acceptor *self = (echo_acceptor *)g;
    CO_BEGIN(self);
    while (self->accepted < self->count) {
        CO_ACCEPT(self, &self->io, self->lfd, NULL);
        if (self->io.result < 0) {
            self->err = (int)self->io.result;
            break;
        }
        self->accepted++;
        {
            echo_handler *h = CO_NEW(co_running_loop(), echo_handler, echo_handler_fn);
            int rc;
            if (h == NULL) {
                co_fd_close(co_running_loop(), (int)self->io.result);
                self->err = CO_ENOMEM;
                break;
            }
            h->fd = (int)self->io.result;
            rc = co_spawn(&h->gen);
            if (rc < 0) {
                self->err = rc;
                break;
            }
            co_release(&h->gen);
        }
    }
    CO_FINALLY(self) { co_fd_close(co_running_loop(), self->lfd); }
    CO_END(self);
}

int echo_client_fn(co_gen *g)
{
    echo_client *self = (echo_client *)g;
    CO_BEGIN(self);
    self->fd = -1;
    CO_CONNECT(self, &self->io, self->addr, 5000);
    if (self->io.result < 0) {
        self->err = (int)self->io.result;
        CO_RETURN_VOID(self);
    }
    self->fd = (int)self->io.result;
    CO_SEND_ALL(self, &self->io, self->fd, self->out, self->out_len);
    if (self->io.result < 0) {
        self->err = (int)self->io.result;
        CO_RETURN_VOID(self);
    }
    co_shutdown_write(self->fd);
    for (;;) {
        CO_RECV(self, &self->io, self->fd, self->in + self->in_len,
                sizeof self->in - self->in_len);
        if (self->io.result <= 0)
            break;
        self->in_len += (size_t)self->io.result;
    }
    if (self->io.result < 0)
        self->err = (int)self->io.result;
    CO_FINALLY(self)
    {
        if (self->fd >= 0)
            co_fd_close(co_running_loop(), self->fd);
    }
    CO_END(self);
}

#define MAX_CLIENTS 256

typedef struct echo_main {
    co_gen gen;
    echo_acceptor *acc;
    echo_client *clients[MAX_CLIENTS];
    co_gen *tasks[MAX_CLIENTS + 1];
    int n;
    co_gather gather;
} echo_main;

static int echo_main_fn(co_gen *g)
{
    echo_main *self = (echo_main *)g;
    CO_BEGIN(self);
    CO_GATHER(self, &self->gather, self->tasks, (size_t)self->n + 1, CO_GATHER_ALL);
    CO_END(self);
}

void run_echo(int lfd, const co_addr *addr, int n)
{
    co_loop *loop = net_loop();
    echo_main *m = CO_NEW(loop, echo_main, echo_main_fn);
    int rc;
    cr_assert(n <= MAX_CLIENTS);
    m->n = n;
    m->acc = CO_NEW(loop, echo_acceptor, echo_acceptor_fn);
    m->acc->lfd = lfd;
    m->acc->count = n;
    m->tasks[0] = &m->acc->gen;
    for (int i = 0; i < n; i++) {
        echo_client *c = CO_NEW(loop, echo_client, echo_client_fn);
        cr_assert_not_null(c);
        c->addr = addr;
        c->out_len = (size_t)snprintf(c->out, sizeof c->out, "hello from client %d", i);
        m->clients[i] = c;
        m->tasks[i + 1] = &c->gen;
    }
    rc = co_run(loop, &m->gen);
    cr_assert_eq(rc, 0, "main: %s", co_strerror(rc));
    cr_assert_eq(m->acc->err, 0, "acceptor: %s", co_strerror(m->acc->err));
    cr_assert_eq(m->acc->accepted, n);
    for (int i = 0; i < n; i++) {
        echo_client *c = m->clients[i];
        cr_assert_eq(co_task_result(&c->gen), 0);
        cr_assert_eq(c->err, 0, "client %d: %s", i, co_strerror(c->err));
        cr_assert_eq(c->in_len, c->out_len, "client %d got %zu bytes", i, c->in_len);
        cr_assert_arr_eq(c->in, c->out, c->out_len, "client %d got another echo", i);
    }
    rt_free_loop(loop);
    net.loop = NULL;
}

int recv_child_fn(co_gen *g)
{
    recv_child *self = (recv_child *)g;
    CO_BEGIN(self);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    CO_END(self);
}

static int blocked_fn(co_gen *g)
{
    blocked *self = (blocked *)g;
    CO_BEGIN(self);
    if (self->kind == OP_RECV)
        CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    else if (self->kind == OP_ACCEPT)
        CO_ACCEPT(self, &self->io, self->fd, NULL);
    else if (self->kind == OP_CONNECT)
        CO_CONNECT(self, &self->io, self->addr, -1);
    else
        CO_SEND_ALL(self, &self->io, self->fd, self->data, self->len);
    CO_FINALLY(self) { self->cleaned = true; }
    CO_END(self);
}

blocked *new_blocked(int kind, int fd)
{
    blocked *b = CO_NEW(net.loop, blocked, blocked_fn);
    cr_assert_not_null(b);
    b->kind = kind;
    b->fd = fd;
    return b;
}
