/*
 * writing.c -- the writing side: backpressure (a writer that drains waits
 * for a slow reader instead of buffering without bound), the background
 * flush after close and wait_closed, write_eof's half-close, pipes, and
 * the errors of a writing side that broke.  Every byte is checked.
 */
#include "st.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(writing, .init = net_reset, .timeout = 60);

/* Reads fd (raw, slowly if asked) to end of stream, checking the pattern. */
typedef struct checker {
    co_gen gen;
    int fd;
    int pause_ms; /* between reads: a slow reader */
    size_t got;
    co_io io;
    unsigned char buf[4096];
    bool bad;
} checker;

static int checker_fn(co_gen *g)
{
    checker *self = (checker *)g;
    CO_BEGIN(self);
    for (;;) {
        if (self->pause_ms)
            CO_SLEEP(self, self->pause_ms);
        CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
        if (self->io.result <= 0)
            break;
        for (ssize_t i = 0; i < self->io.result; i++)
            if (self->buf[i] != (unsigned char)((self->got + (size_t)i) % 251))
                self->bad = true;
        self->got += (size_t)self->io.result;
    }
    cr_assert_eq(self->io.result, 0, "checker: %s", co_strerror((int)self->io.result));
    CO_END(self);
}

static checker *start_checker(co_loop *loop, int fd, int pause_ms)
{
    checker *c = CO_NEW(loop, checker, checker_fn);
    c->fd = fd;
    c->pause_ms = pause_ms;
    rt_spawn(&c->gen);
    return c;
}

static void check_all(checker *c, size_t total)
{
    cr_assert(co_done(&c->gen));
    cr_assert_eq(c->got, total, "the reader got %zu of %zu bytes", c->got, total);
    cr_assert_not(c->bad, "a byte came back wrong");
}

/* ------------------------------------------------------ backpressure */

#define CHUNK (16u << 10)

typedef struct writer {
    co_gen gen;
    co_stream *s;
    unsigned char *data;
    size_t total, off, max_buffered;
    int drains_waited;
    bool drain, wait_closed;
    checker *peer;
} writer;

static int writer_fn(co_gen *g)
{
    writer *self = (writer *)g;
    CO_BEGIN(self);
    for (self->off = 0; self->off < self->total; self->off += CHUNK) {
        size_t n = self->total - self->off < CHUNK ? self->total - self->off : CHUNK;
        cr_assert_eq(co_stream_write(self->s, self->data + self->off, n), 0);
        if (co_stream_buffered(self->s) > self->max_buffered)
            self->max_buffered = co_stream_buffered(self->s);
        if (self->drain) {
            if (co_stream_buffered(self->s) > 64u << 10)
                self->drains_waited++;
            CO_DRAIN(self, s);
            cr_assert_eq(self->s->wresult, 0);
            cr_assert(co_stream_buffered(self->s) <= 64u << 10);
        }
    }
    if (self->wait_closed) {
        CO_WAIT_CLOSED(self, s);
        cr_assert_eq(self->s->wresult, 0, "%s", co_strerror(self->s->wresult));
        cr_assert_eq(co_stream_buffered(self->s), 0);
        cr_assert_eq(co_stream_fd(self->s), -1);
        cr_assert_not(co_done(&self->peer->gen) && self->peer->got < self->total);
    }
    co_stream_close(self->s);
    CO_AWAIT_TASK(self, &self->peer->gen);
    CO_END(self);
}

static void transfer(size_t total, bool drain, bool wait_closed, int pause_ms)
{
    int a, b;
    co_loop *loop = net_loop();
    writer *w = CO_NEW(loop, writer, writer_fn);
    tcp_pair(&a, &b);
    small_send_buffer(a);
    w->s = st_open(loop, a, NULL);
    w->data = malloc(total);
    fill_pattern(w->data, total, 0);
    w->total = total;
    w->drain = drain;
    w->wait_closed = wait_closed;
    w->peer = start_checker(loop, b, pause_ms);
    st_run(loop, &w->gen, 0);
    check_all(w->peer, total);
    if (drain) { /* never more than the high water mark and one write */
        cr_assert(w->max_buffered <= (64u << 10) + CHUNK, "%zu bytes buffered", w->max_buffered);
        cr_assert(w->drains_waited > 0, "drain never had to wait: the test proves nothing");
    } else {
        cr_assert(w->max_buffered > (1u << 20), "the writes did not pile up (%zu)",
                  w->max_buffered);
    }
    free(w->data);
    close(b);
    st_done(loop);
}

Test(writing, drain_holds_a_writer_to_a_slow_reader)
{
    transfer(4u << 20, true, false, 1);
}

Test(writing, close_flushes_in_the_background_and_frees)
{
    transfer(4u << 20, false, false, 0);
}

Test(writing, wait_closed_flushes_then_closes)
{
    transfer(4u << 20, false, true, 0);
}

/* ------------------------------------------------------- half-close */

typedef struct pinger {
    co_gen gen;
    co_stream *s;
} pinger;

static int pinger_fn(co_gen *g)
{
    pinger *self = (pinger *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_stream_write(self->s, "ping\n", 5), 0);
    cr_assert_eq(co_stream_write_eof(self->s), 0);
    cr_assert_eq(co_stream_write_eof(self->s), 0); /* twice: no harm */
    cr_assert_eq(co_stream_write(self->s, "x", 1), CO_ESTREAMCLOSED);
    CO_READLINE(self, s); /* the other direction still works */
    rt_log("pinger: %zd [%.*s]", self->s->result, (int)self->s->len, self->s->data);
    CO_READLINE(self, s);
    rt_log("pinger: %zd", self->s->result);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

typedef struct ponger {
    co_gen gen;
    co_stream *s;
    pinger *peer;
} ponger;

static int ponger_fn(co_gen *g)
{
    ponger *self = (ponger *)g;
    CO_BEGIN(self);
    CO_READLINE(self, s);
    rt_log("ponger: %zd [%.*s]", self->s->result, (int)self->s->len, self->s->data);
    CO_READLINE(self, s);
    rt_log("ponger: %zd eof %d", self->s->result, co_stream_at_eof(self->s));
    cr_assert_eq(co_stream_write(self->s, "pong\n", 5), 0);
    CO_WAIT_CLOSED(self, s);
    CO_AWAIT_TASK(self, &self->peer->gen);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

static void half_close(int a, int b)
{
    co_loop *loop = net_loop();
    ponger *p = CO_NEW(loop, ponger, ponger_fn);
    p->peer = CO_NEW(loop, pinger, pinger_fn);
    p->peer->s = st_open(loop, a, NULL);
    p->s = st_open(loop, b, NULL);
    rt_spawn(&p->peer->gen);
    st_run(loop, &p->gen, 0);
    cr_assert_str_eq(rt.log, "ponger: 5 [ping\n]\nponger: 0 eof 1\npinger: 5 [pong\n]\n"
                             "pinger: 0\n");
    st_done(loop);
}

Test(writing, write_eof_half_closes_over_tcp)
{
    int a, b;
    tcp_pair(&a, &b);
    half_close(a, b);
}

Test(writing, write_eof_half_closes_over_a_unix_socketpair)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    half_close(sv[0], sv[1]);
}

/* ------------------------------------------------------------ pipes */

typedef struct pipe_reader {
    co_gen gen;
    co_stream *s;
    size_t total;
    unsigned char *want;
} pipe_reader;

static int pipe_reader_fn(co_gen *g)
{
    pipe_reader *self = (pipe_reader *)g;
    CO_BEGIN(self);
    CO_READEXACTLY(self, s, self->total);
    cr_assert_eq(self->s->result, (ssize_t)self->total, "%s",
                 co_strerror((int)self->s->result));
    cr_assert_arr_eq(self->s->data, self->want, self->total);
    CO_READ(self, s, 10);
    cr_assert_eq(self->s->result, 0, "no end of stream after write_eof closed the pipe");
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

typedef struct pipe_writer {
    co_gen gen;
    co_stream *s;
    pipe_reader *peer;
} pipe_writer;

static int pipe_writer_fn(co_gen *g)
{
    pipe_writer *self = (pipe_writer *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_stream_write(self->s, self->peer->want, self->peer->total), 0);
    cr_assert_eq(co_stream_write_eof(self->s), 0); /* closes the pipe once flushed */
    CO_DRAIN(self, s);
    CO_AWAIT_TASK(self, &self->peer->gen);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

Test(writing, a_megabyte_through_a_pipe)
{
    int p[2];
    co_loop *loop = net_loop();
    pipe_writer *w = CO_NEW(loop, pipe_writer, pipe_writer_fn);
    size_t total = 1u << 20;
    cr_assert_eq(pipe(p), 0);
    w->peer = CO_NEW(loop, pipe_reader, pipe_reader_fn);
    w->peer->total = total;
    w->peer->want = malloc(total);
    fill_pattern(w->peer->want, total, 0);
    w->s = st_open(loop, p[1], NULL);
    w->peer->s = st_open(loop, p[0], NULL);
    rt_spawn(&w->peer->gen);
    st_run(loop, &w->gen, 0);
    free(w->peer->want);
    st_done(loop);
}

/* ------------------------------------------------ a broken writing side */

typedef struct doomed {
    co_gen gen;
    co_stream *s;
    int fd;
    unsigned char chunk[CHUNK];
    int i, first_error;
} doomed;

static int doomed_fn(co_gen *g)
{
    doomed *self = (doomed *)g;
    CO_BEGIN(self);
    reset_close(self->fd); /* the peer is gone, with a reset */
    CO_SLEEP(self, 1);
    for (self->i = 0; self->i < 64 && self->first_error == 0; self->i++) {
        self->first_error = co_stream_write(self->s, self->chunk, sizeof self->chunk);
        if (self->first_error == 0) {
            CO_DRAIN(self, s);
            self->first_error = self->s->wresult;
        }
    }
    rt_log("%s", self->first_error == -EPIPE || self->first_error == -ECONNRESET ? "broken" : "?");
    /* sticky: every later write says so */
    cr_assert_eq(co_stream_write(self->s, "x", 1), self->first_error);
    CO_DRAIN(self, s);
    cr_assert_eq(self->s->wresult, self->first_error);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

Test(writing, writes_to_a_reset_peer_fail_and_stay_failed)
{
    int a, b;
    co_loop *loop = net_loop();
    doomed *d = CO_NEW(loop, doomed, doomed_fn);
    tcp_pair(&a, &b);
    d->s = st_open(loop, a, NULL);
    d->fd = b;
    st_run(loop, &d->gen, 0);
    cr_assert_str_eq(rt.log, "broken\n");
    st_done(loop);
}

/* ------------------------------------------------------ out of memory */

typedef struct oom_main {
    co_gen gen;
    co_stream *w, *r;
    unsigned char *data;
    int rc;
} oom_main;

static int oom_main_fn(co_gen *g)
{
    oom_main *self = (oom_main *)g;
    CO_BEGIN(self);
    self->rc = co_stream_write(self->w, self->data, 1u << 20);
    if (self->rc == 0) {
        self->rc = co_stream_write_eof(self->w);
        CO_READEXACTLY(self, r, 1u << 20);
        if (self->r->result >= 0)
            cr_assert_arr_eq(self->r->data, self->data, 1u << 20);
        else
            self->rc = (int)self->r->result;
    }
    CO_FINALLY(self)
    {
        co_stream_close(self->w);
        co_stream_close(self->r);
    }
    CO_END(self);
}

Test(writing, every_allocation_failing_in_turn)
{
    size_t total = 1u << 20;
    unsigned char *data = malloc(total);
    int failures = 0;
    fill_pattern(data, total, 0);
    for (size_t at = 1;; at++) {
        int a, b, rc;
        co_loop *loop;
        oom_main *m;
        co_stream *w = NULL, *r = NULL;
        rt_reset();
        loop = rt_loop();
        rt.fail_at = at;
        m = CO_NEW(loop, oom_main, oom_main_fn);
        tcp_pair(&a, &b);
        if (m == NULL || co_stream_open(loop, a, NULL, &w) < 0 ||
            co_stream_open(loop, b, NULL, &r) < 0) {
            if (w)
                co_stream_close(w);
            if (m)
                co_release(&m->gen);
            rt_free_loop(loop);
            close(a);
            close(b);
            failures++;
            continue;
        }
        m->w = w;
        m->r = r;
        m->data = data;
        rc = co_run(loop, &m->gen);
        cr_assert(rc == 0 || rc == CO_ENOMEM, "fail_at %zu: %s", at, co_strerror(rc));
        cr_assert(m->rc == 0 || m->rc == CO_ENOMEM, "fail_at %zu: %s", at, co_strerror(m->rc));
        rt_free_loop(loop);
        if (rt.alloc_calls < at) /* nothing failed: every site was tried */
            break;
        failures++;
    }
    cr_assert(failures > 5, "only %d allocation sites", failures);
    free(data);
}

/* ------------------------------------------- reading after our close */

typedef struct closer {
    co_gen gen;
    co_stream *s;
} closer;

/* asyncio: after writer.close() the reader reads what it had, then end of
 * stream (connection_lost feeds it EOF), never an error. */
static int closer_fn(co_gen *g)
{
    closer *self = (closer *)g;
    CO_BEGIN(self);
    CO_READLINE(self, s);
    rt_log("line %zd", self->s->result);
    CO_WAIT_CLOSED(self, s);
    CO_READLINE(self, s);
    rt_log("after close %zd [%.*s]", self->s->result, (int)self->s->len, self->s->data);
    CO_READLINE(self, s);
    rt_log("then %zd", self->s->result);
    CO_READEXACTLY(self, s, 1);
    rt_log("exactly %zd eof %d", self->s->result, co_stream_at_eof(self->s));
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

Test(writing, a_stream_reads_end_of_stream_after_its_own_close)
{
    int a, b;
    co_loop *loop = net_loop();
    closer *c = CO_NEW(loop, closer, closer_fn);
    tcp_pair(&a, &b);
    st_write_all(a, "one\ntw", 6);
    c->s = st_open(loop, b, NULL);
    st_run(loop, &c->gen, 0);
    close(a);
    cr_assert_str_eq(rt.log, "line 4\nafter close 2 [tw]\nthen 0\nexactly -1115 eof 1\n");
    st_done(loop);
}

typedef struct blocked_reader {
    co_gen gen;
    co_stream *s;
} blocked_reader;

static int blocked_reader_fn(co_gen *g)
{
    blocked_reader *self = (blocked_reader *)g;
    CO_BEGIN(self);
    CO_READLINE(self, s);
    rt_log("reader %zd", self->s->result);
    CO_END(self);
}

typedef struct closing_writer {
    co_gen gen;
    co_stream *s;
    blocked_reader *r;
} closing_writer;

static int closing_writer_fn(co_gen *g)
{
    closing_writer *self = (closing_writer *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 10); /* the reader waits on the fd by now */
    CO_WAIT_CLOSED(self, s);
    CO_AWAIT_TASK(self, &self->r->gen);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

Test(writing, a_reader_waiting_when_the_stream_closes_reads_end_of_stream)
{
    int a, b;
    co_loop *loop = net_loop();
    closing_writer *w = CO_NEW(loop, closing_writer, closing_writer_fn);
    w->r = CO_NEW(loop, blocked_reader, blocked_reader_fn);
    tcp_pair(&a, &b);
    w->s = w->r->s = st_open(loop, b, NULL);
    rt_spawn(&w->r->gen);
    st_run(loop, &w->gen, 0);
    close(a);
    cr_assert_str_eq(rt.log, "reader 0\n");
    st_done(loop);
}
