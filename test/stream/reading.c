/*
 * reading.c -- the reading side: readline, readuntil, readexactly, read(n)
 * and read-to-EOF over bytes that arrive in odd pieces, end of stream and
 * IncompleteReadError's partial bytes, the buffer limit (the data kept and
 * still readable), a reset peer, a cancelled read that loses nothing, two
 * readers at once, and arguments evaluated once.
 */
#include "st.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(reading, .init = net_reset, .timeout = 30);

/* ------------------------------------------------ a scripted reader */

typedef struct op {
    char kind; /* l: readline, u: readuntil, x: readexactly, r: read(n), a: read to EOF */
    size_t n;
    const char *sep;
} op;

/* Ops, spelled out in full (every field initialised). */
#define L {'l', 0, NULL}
#define U(sep) {'u', 0, sep}
#define X(n) {'x', n, NULL}
#define R(n) {'r', n, NULL}
#define A {'a', 0, NULL}
#define END {0, 0, NULL}

typedef struct reader {
    co_gen gen;
    co_stream *s;
    const op *ops;
    int i;
} reader;

/* Logs "kind result len [data]" for each op, then "eof 0|1". */
static int reader_fn(co_gen *g)
{
    reader *self = (reader *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->ops[self->i].kind; self->i++) {
        const op *o = &self->ops[self->i];
        if (o->kind == 'l')
            CO_READLINE(self, s);
        else if (o->kind == 'u')
            CO_READUNTIL(self, s, o->sep, strlen(o->sep));
        else if (o->kind == 'x')
            CO_READEXACTLY(self, s, o->n);
        else if (o->kind == 'r')
            CO_READ(self, s, o->n);
        else
            CO_READ_TO_EOF(self, s);
        rt_log("%c %zd %zu [%.*s]", self->ops[self->i].kind, self->s->result, self->s->len,
               (int)self->s->len, self->s->data ? self->s->data : "");
    }
    rt_log("eof %d", co_stream_at_eof(self->s));
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

/* Writes its pieces to fd 10 ms apart, then shuts the writing side. */
typedef struct feeder {
    co_gen gen;
    int fd;
    const char *const *pieces;
    int i;
} feeder;

static int feeder_fn(co_gen *g)
{
    feeder *self = (feeder *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->pieces[self->i]; self->i++) {
        CO_SLEEP(self, 10);
        st_write_all(self->fd, self->pieces[self->i], strlen(self->pieces[self->i]));
    }
    shutdown(self->fd, SHUT_WR);
    CO_END(self);
}

/* Runs the ops against the pieces, over a TCP pair, and checks the log. */
static void script(const char *const *pieces, const op *ops, const co_stream_options *opt,
                   const char *want)
{
    int a, b;
    co_loop *loop = net_loop();
    reader *r = CO_NEW(loop, reader, reader_fn);
    feeder *f = CO_NEW(loop, feeder, feeder_fn);
    tcp_pair(&a, &b);
    r->s = st_open(loop, b, opt);
    r->ops = ops;
    f->fd = a;
    f->pieces = pieces;
    rt_spawn(&f->gen);
    co_release(&f->gen);
    st_run(loop, &r->gen, 0);
    close(a);
    cr_assert_str_eq(rt.log, want);
    st_done(loop);
}

Test(reading, readline_over_pieces_and_the_last_line_without_newline)
{
    static const char *const pieces[] = {"he", "llo\nwor", "ld\n\nla", "st", NULL};
    static const op ops[] = {L, L, L, L, L, L, END};
    script(pieces, ops, NULL,
           "l 6 6 [hello\n]\nl 6 6 [world\n]\nl 1 1 [\n]\nl 4 4 [last]\nl 0 0 []\n"
           "l 0 0 []\neof 1\n");
}

Test(reading, readuntil_a_separator_split_across_pieces)
{
    static const char *const pieces[] = {"GET / HTTP/1.1\r\nHost: x\r", "\n\r", "\nbody", NULL};
    static const op ops[] = {U("\r\n\r\n"), U("\r\n\r\n"), U("!"), END};
    script(pieces, ops, NULL,
           "u 27 27 [GET / HTTP/1.1\r\nHost: x\r\n\r\n]\n"
           "u -1115 4 [body]\n" /* IncompleteReadError: the partial bytes */
           "u -1115 0 []\neof 1\n");
}

Test(reading, readexactly_and_its_partial_bytes_at_end_of_stream)
{
    static const char *const pieces[] = {"abc", "defg", "hij", NULL};
    static const op ops[] = {X(5), X(0), X(4), X(4), END};
    script(pieces, ops, NULL, "x 5 5 [abcde]\nx 0 0 []\nx 4 4 [fghi]\nx -1115 1 [j]\neof 1\n");
}

Test(reading, read_n_then_read_to_eof)
{
    static const char *const pieces[] = {"0123456789", "abc", "def", NULL};
    static const op ops[] = {R(4), R(100), A, A, R(5), END};
    script(pieces, ops, NULL,
           "r 4 4 [0123]\nr 6 6 [456789]\na 6 6 [abcdef]\na 0 0 []\nr 0 0 []\neof 1\n");
}

Test(reading, a_line_over_the_limit_is_kept_and_can_be_read)
{
    /* limit 8: the 13-byte line overruns (the buffer holds limit + 1
     * bytes then); the data stays, read(n) takes it */
    static const char *const pieces[] = {"short\nmuch too long\nok\n", NULL};
    static const op ops[] = {L, L, R(100), L, L, END};
    co_stream_options opt = {.limit = 8};
    script(pieces, ops, &opt,
           "l 6 6 [short\n]\nl -1140 9 [much too ]\nr 9 9 [much too ]\nl 5 5 [long\n]\n"
           "l 3 3 [ok\n]\neof 0\n");
}

Test(reading, the_limit_counts_the_bytes_before_the_separator)
{
    /* asyncio's rule: with limit=4, "abcd\n" (4 bytes, then the "\n") and
     * "wxyz\r\n" are taken; one byte more before the separator overruns */
    static const char *const pieces[] = {"abcd\nwxyz\r\nabcde\n", NULL};
    static const op ops[] = {L, U("\r\n"), L, END};
    co_stream_options opt = {.limit = 4};
    script(pieces, ops, &opt, "l 5 5 [abcd\n]\nu 6 6 [wxyz\r\n]\nl -1140 6 [abcde\n]\neof 0\n");
}

Test(reading, a_last_line_of_the_limit_without_newline_is_a_line)
{
    /* limit 4 and "abcd" then end of stream: asyncio's readline gives it */
    static const char *const pieces[] = {"abcd", NULL};
    static const op ops[] = {L, L, END};
    co_stream_options opt = {.limit = 4};
    script(pieces, ops, &opt, "l 4 4 [abcd]\nl 0 0 []\neof 1\n");
}

Test(reading, a_separator_found_past_the_limit_is_an_overrun)
{
    /* a line longer than the limit: CO_ELIMIT, nothing consumed; the
     * buffer holds the limit and one byte for the "\n" */
    static const char *const pieces[] = {"abcdefghijkl\n", NULL};
    static const op ops[] = {X(1), L, A, END};
    co_stream_options opt = {.limit = 4};
    script(pieces, ops, &opt, "x 1 1 [a]\nl -1140 5 [bcdef]\na -1140 5 [bcdef]\neof 0\n");
}

Test(reading, read_to_eof_past_the_limit_keeps_the_data)
{
    static const char *const pieces[] = {"0123456789", NULL};
    static const op ops[] = {A, X(10), A, END};
    co_stream_options opt = {.limit = 6};
    script(pieces, ops, &opt, "a -1140 6 [012345]\nx 10 10 [0123456789]\na 0 0 []\neof 1\n");
}

/* ------------------------------------------------------- a reset peer */

Test(reading, a_reset_comes_after_the_bytes_before_it)
{
    int a, b;
    co_loop *loop = net_loop();
    static const op ops[] = {L, L, L, END};
    reader *r = CO_NEW(loop, reader, reader_fn);
    tcp_pair(&a, &b);
    st_write_all(a, "one\ntw", 6);
    usleep(20000); /* let the bytes land before the reset */
    reset_close(a);
    r->s = st_open(loop, b, NULL);
    r->ops = ops;
    st_run(loop, &r->gen, 0);
    cr_assert_str_eq(rt.log, "l 4 4 [one\n]\nl -104 2 [tw]\nl -104 2 [tw]\neof 0\n");
    st_done(loop);
}

/* ------------------------------------------------------ over a pipe */

Test(reading, lines_over_a_pipe)
{
    int p[2];
    co_loop *loop = net_loop();
    static const op ops[] = {L, L, L, END};
    reader *r = CO_NEW(loop, reader, reader_fn);
    cr_assert_eq(pipe(p), 0);
    st_write_all(p[1], "a\nbb\n", 5);
    close(p[1]);
    r->s = st_open(loop, p[0], NULL);
    r->ops = ops;
    st_run(loop, &r->gen, 0);
    cr_assert_str_eq(rt.log, "l 2 2 [a\n]\nl 3 3 [bb\n]\nl 0 0 []\neof 1\n");
    st_done(loop);
}

/* ------------------------------------------- cancellation, misuse */

typedef struct canceller {
    co_gen gen;
    co_gen *victim;
    int fd;
} canceller;

/* Cancels the victim while it waits for the rest of a line, then sends it. */
static int canceller_fn(co_gen *g)
{
    canceller *self = (canceller *)g;
    CO_BEGIN(self);
    st_write_all(self->fd, "hal", 3);
    CO_SLEEP(self, 10);
    co_cancel(self->victim);
    CO_SLEEP(self, 10);
    st_write_all(self->fd, "f\n", 2);
    CO_END(self);
}

typedef struct retry_reader {
    co_gen gen;
    co_stream *s;
    int first;
} retry_reader;

static int victim_fn(co_gen *g)
{
    retry_reader *self = (retry_reader *)g;
    CO_BEGIN(self);
    CO_READLINE(self, s);
    CO_END(self);
}

typedef struct cancel_main {
    co_gen gen;
    co_stream *s;
    retry_reader *victim;
} cancel_main;

static int cancel_main_fn(co_gen *g)
{
    cancel_main *self = (cancel_main *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK_CATCH(self, &self->victim->gen);
    rt_log("victim: %s", co_strerror(CO_THROWN(self)));
    CO_READLINE(self, s); /* the bytes the cancelled read saw are still there */
    rt_log("%zd [%.*s]", self->s->result, (int)self->s->len, self->s->data);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

Test(reading, a_cancelled_read_loses_nothing)
{
    int a, b;
    co_loop *loop = net_loop();
    cancel_main *m = CO_NEW(loop, cancel_main, cancel_main_fn);
    canceller *c = CO_NEW(loop, canceller, canceller_fn);
    tcp_pair(&a, &b);
    m->s = st_open(loop, b, NULL);
    m->victim = CO_NEW(loop, retry_reader, victim_fn);
    m->victim->s = m->s;
    c->victim = &m->victim->gen;
    c->fd = a;
    rt_spawn(&m->victim->gen);
    rt_spawn(&c->gen);
    co_release(&c->gen);
    st_run(loop, &m->gen, 0);
    close(a);
    cr_assert_str_eq(rt.log, "victim: task cancelled\n5 [half\n]\n");
    st_done(loop);
}

typedef struct second_reader {
    co_gen gen;
    co_stream *s;
} second_reader;

static int second_fn(co_gen *g)
{
    second_reader *self = (second_reader *)g;
    CO_BEGIN(self);
    CO_READLINE(self, s);
    CO_END(self);
}

typedef struct busy_main {
    co_gen gen;
    co_stream *s;
    second_reader *other;
    int fd;
} busy_main;

static int busy_main_fn(co_gen *g)
{
    busy_main *self = (busy_main *)g;
    CO_BEGIN(self);
    rt_spawn(&self->other->gen);
    CO_SLEEP(self, 1); /* the other reader now waits for a line */
    CO_READLINE(self, s);
    CO_FINALLY(self)
    {
        rt_log("main: %s", co_strerror(CO_THROWN(self)));
        co_cancel(&self->other->gen);
    }
    CO_END(self);
}

Test(reading, a_second_reader_is_refused_with_ebusy)
{
    int a, b;
    co_loop *loop = net_loop();
    busy_main *m = CO_NEW(loop, busy_main, busy_main_fn);
    tcp_pair(&a, &b);
    m->s = st_open(loop, b, NULL);
    m->other = CO_NEW(loop, second_reader, second_fn);
    m->other->s = m->s;
    cr_assert_eq(co_run(loop, &m->gen), CO_EBUSY);
    cr_assert_str_eq(rt.log, "main: already in use (another waiter, gather or group)\n");
    co_stream_close(m->s);
    rt_free_loop(loop);
    close(a);
}

/* ---------------------------------------------- arguments, once */

typedef struct once_reader {
    co_gen gen;
    co_stream *s;
    int evals;
} once_reader;

static size_t count_n(once_reader *self, size_t n)
{
    self->evals++;
    return n;
}

static const char *count_sep(once_reader *self, char *buf)
{
    self->evals++;
    strcpy(buf, "--");
    return buf;
}

static int once_fn(co_gen *g)
{
    once_reader *self = (once_reader *)g;
    char sep[4]; /* a C local: dead after the first suspension */
    CO_BEGIN(self);
    CO_READEXACTLY(self, s, count_n(self, 6));
    rt_log("x %zd [%.*s] evals %d", self->s->result, (int)self->s->len, self->s->data,
           self->evals);
    CO_READUNTIL(self, s, count_sep(self, sep), 2);
    rt_log("u %zd [%.*s] evals %d", self->s->result, (int)self->s->len, self->s->data,
           self->evals);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

Test(reading, await_arguments_are_evaluated_once)
{
    static const char *const pieces[] = {"ab", "cd", "ef", "x-", "y", "-", "-z", NULL};
    int a, b;
    co_loop *loop = net_loop();
    once_reader *r = CO_NEW(loop, once_reader, once_fn);
    feeder *f = CO_NEW(loop, feeder, feeder_fn);
    tcp_pair(&a, &b);
    r->s = st_open(loop, b, NULL);
    f->fd = a;
    f->pieces = pieces;
    rt_spawn(&f->gen);
    co_release(&f->gen);
    st_run(loop, &r->gen, 0);
    close(a);
    cr_assert_str_eq(rt.log, "x 6 [abcdef] evals 1\nu 5 [x-y--] evals 2\n");
    st_done(loop);
}

Test(reading, bad_arguments)
{
    co_loop *loop = net_loop();
    co_stream *s = NULL;
    co_stream_options opt = {.high_water = 10, .low_water = 20};
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(co_stream_open(loop, p[0], &opt, &s), CO_EBADARG);
    cr_assert_eq(co_stream_open(loop, 1 << 20, NULL, &s), -EBADF);
    cr_assert_eq(co_stream_open(loop, p[0], NULL, NULL), CO_EBADARG);
    cr_assert_null(s);
    s = st_open(loop, p[0], NULL);
    cr_assert_eq(co__stream_readuntil(s, "x", 0, 0), CO_EBADARG);
    cr_assert_eq(co__stream_read(s, 1, 0), CO_ENOTASK);
    cr_assert_eq(co_stream_fd(s), p[0]);
    co_stream_close(s);
    close(p[1]);
    rt_free_loop(loop);
}
