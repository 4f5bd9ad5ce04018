/*
 * faults.c -- fault injection under the streams: this file defines recv,
 * send, read and write, which the dynamic linker then prefers to libc's
 * for libcorio's calls too; for the fds a test marks they fail at random
 * with EINTR, EAGAIN (with nothing moved), and move short counts, or give
 * ECONNRESET after a set number of bytes.  Every byte that gets through is
 * checked.  Unmarked fds go straight to the system calls.
 */
#include "st.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

TestSuite(faults, .init = net_reset, .timeout = 60);

static struct {
    int fds[4];
    int nfds;
    uint32_t seed;
    long injected;
    long reset_after; /* bytes read on marked fds before ECONNRESET; <0: never */
    long bytes_read;
} fi = {.reset_after = -1};

static bool marked(int fd)
{
    for (int i = 0; i < fi.nfds; i++)
        if (fi.fds[i] == fd)
            return true;
    return false;
}

static uint32_t next_random(void)
{
    fi.seed = fi.seed * 1103515245u + 12345u;
    return fi.seed >> 8;
}

/* A fault for this call (an errno), or 0 and *n cut short. */
static int fault(size_t *n)
{
    uint32_t r = next_random() % 8;
    if (r == 0 || r == 1) {
        fi.injected++;
        return r == 0 ? EINTR : EAGAIN;
    }
    if (r <= 4 && *n > 1) {
        fi.injected++;
        *n = 1 + next_random() % (*n - 1);
    }
    return 0;
}

static ssize_t injected_read(int fd, void *buf, size_t n, int flags, bool sock)
{
    int err;
    ssize_t k;
    if (!marked(fd))
        return sock ? syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL)
                    : syscall(SYS_read, fd, buf, n);
    if (fi.reset_after >= 0 && fi.bytes_read >= fi.reset_after) {
        errno = ECONNRESET;
        return -1;
    }
    if ((err = fault(&n)) != 0) {
        errno = err;
        return -1;
    }
    if (fi.reset_after >= 0 && (long)n > fi.reset_after - fi.bytes_read)
        n = (size_t)(fi.reset_after - fi.bytes_read);
    k = sock ? syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL) : syscall(SYS_read, fd, buf, n);
    if (k > 0)
        fi.bytes_read += k;
    return k;
}

static ssize_t injected_write(int fd, const void *buf, size_t n, int flags, bool sock)
{
    int err;
    if (marked(fd) && (err = fault(&n)) != 0) {
        errno = err;
        return -1;
    }
    return sock ? syscall(SYS_sendto, fd, buf, n, flags, NULL, 0) : syscall(SYS_write, fd, buf, n);
}

ssize_t recv(int fd, void *buf, size_t n, int flags) { return injected_read(fd, buf, n, flags, true); }
ssize_t read(int fd, void *buf, size_t n) { return injected_read(fd, buf, n, 0, false); }
ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return injected_write(fd, buf, n, flags, true);
}
ssize_t write(int fd, const void *buf, size_t n) { return injected_write(fd, buf, n, 0, false); }

/* ------------------------------------------------------------ the tests */

#define TOTAL (1u << 20)
#define LINE 100 /* bytes a line, newline included */

typedef struct sender {
    co_gen gen;
    co_stream *s;
    unsigned char *data;
    size_t off;
} sender;

static int sender_fn(co_gen *g)
{
    sender *self = (sender *)g;
    CO_BEGIN(self);
    for (self->off = 0; self->off < TOTAL; self->off += 4096) {
        cr_assert_eq(co_stream_write(self->s, self->data + self->off, 4096), 0);
        CO_DRAIN(self, s);
        cr_assert_eq(self->s->wresult, 0);
    }
    cr_assert_eq(co_stream_write_eof(self->s), 0);
    CO_WAIT_CLOSED(self, s);
    cr_assert_eq(self->s->wresult, 0);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

/* Reads lines, then exact blocks, then the rest, checking every byte. */
typedef struct receiver {
    co_gen gen;
    co_stream *s;
    const unsigned char *want;
    size_t got;
    ssize_t last;
} receiver;

static int receiver_fn(co_gen *g)
{
    receiver *self = (receiver *)g;
    CO_BEGIN(self);
    while (self->got < TOTAL / 2) {
        CO_READLINE(self, s);
        if (self->s->result <= 0)
            break;
        cr_assert_eq(self->s->len, LINE);
        cr_assert_arr_eq(self->s->data, self->want + self->got, LINE);
        self->got += LINE;
    }
    for (;;) {
        CO_READEXACTLY(self, s, 777);
        if (self->s->result < 0)
            break;
        cr_assert_arr_eq(self->s->data, self->want + self->got, 777);
        self->got += 777;
    }
    cr_assert_arr_eq(self->s->data, self->want + self->got, self->s->len);
    self->got += self->s->len;
    self->last = self->s->result;
    CO_FINALLY(self) { co_stream_close(self->s); }
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
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

static unsigned char *lines(void)
{
    unsigned char *d = malloc(TOTAL);
    fill_pattern(d, TOTAL, 0);
    for (size_t i = LINE - 1; i < TOTAL / 2 + LINE; i += LINE)
        d[i] = '\n'; /* the first half is lines of LINE bytes */
    for (size_t i = TOTAL / 2 + LINE; i < TOTAL; i++)
        if (d[i] == '\n')
            d[i] = 'n';
    for (size_t i = 0; i < TOTAL / 2 + LINE; i++)
        if (d[i] == '\n' && i % LINE != LINE - 1)
            d[i] = 'n';
    return d;
}

static receiver *run_pair(int a, int b, unsigned char *data)
{
    co_loop *loop = net_loop();
    pair_main *m = CO_NEW(loop, pair_main, pair_main_fn);
    sender *s = CO_NEW(loop, sender, sender_fn);
    receiver *r = CO_NEW(loop, receiver, receiver_fn);
    s->s = st_open(loop, a, NULL);
    s->data = data;
    r->s = st_open(loop, b, NULL);
    r->want = data;
    m->tasks[0] = &s->gen;
    m->tasks[1] = &r->gen;
    st_run(loop, &m->gen, 0);
    return r;
}

Test(faults, eintr_eagain_and_short_counts_lose_nothing_over_tcp)
{
    int a, b;
    unsigned char *data = lines();
    receiver *r;
    tcp_pair(&a, &b);
    fi.fds[0] = a;
    fi.fds[1] = b;
    fi.nfds = 2;
    fi.seed = 1;
    r = run_pair(a, b, data);
    cr_assert_eq(r->got, TOTAL);
    cr_assert_eq(r->last, CO_EOF);
    cr_assert_gt(fi.injected, 100, "only %ld faults injected", fi.injected);
    st_done(net.loop);
    free(data);
}

Test(faults, eintr_eagain_and_short_counts_lose_nothing_over_a_pipe)
{
    int p[2];
    unsigned char *data = lines();
    receiver *r;
    cr_assert_eq(pipe(p), 0);
    fi.fds[0] = p[0];
    fi.fds[1] = p[1];
    fi.nfds = 2;
    fi.seed = 7;
    r = run_pair(p[1], p[0], data);
    cr_assert_eq(r->got, TOTAL);
    cr_assert_gt(fi.injected, 100, "only %ld faults injected", fi.injected);
    st_done(net.loop);
    free(data);
}

Test(faults, a_reset_midway_comes_after_every_byte_before_it)
{
    int a, b;
    unsigned char *data = lines();
    receiver *r;
    co_loop *loop;
    tcp_pair(&a, &b);
    fi.fds[0] = b;
    fi.nfds = 1;
    fi.seed = 3;
    fi.reset_after = 700000;
    loop = net_loop();
    {
        pair_main *m = CO_NEW(loop, pair_main, pair_main_fn);
        sender *s = CO_NEW(loop, sender, sender_fn);
        r = CO_NEW(loop, receiver, receiver_fn);
        s->s = st_open(loop, a, NULL);
        s->data = data;
        r->s = st_open(loop, b, NULL);
        r->want = data;
        m->tasks[0] = &s->gen;
        m->tasks[1] = &r->gen;
        /* the sender may end either way; the receiver must see every byte */
        co_run(loop, &m->gen);
    }
    cr_assert_eq(r->got, 700000, "%zu bytes before the reset", r->got);
    cr_assert_eq(r->last, -ECONNRESET, "%s", co_strerror((int)r->last));
    st_done(loop);
    free(data);
}
