/*
 * fair.c -- one busy stream does not take the loop: a reader that always
 * finds its next line waiting still lets another task run every
 * CO_STREAM_FAIR_READS reads, and a 100 MB transfer between two streams
 * of one loop leaves a 1 ms ticker on the real clock ticking.
 */
#include "st.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

TestSuite(fair, .init = net_reset, .timeout = 60);

#define LINES 20000

typedef struct ticker {
    co_gen gen;
    bool *stop;
    long ticks;
} ticker;

/* Counts how often it gets to run, yielding in between. */
static int spinner_fn(co_gen *g)
{
    ticker *self = (ticker *)g;
    CO_BEGIN(self);
    while (!*self->stop) {
        self->ticks++;
        CO_SLEEP(self, 0);
    }
    CO_END(self);
}

typedef struct line_reader {
    co_gen gen;
    co_stream *s;
    ticker *other;
    long lines, ticks_seen;
    bool done;
} line_reader;

static int line_reader_fn(co_gen *g)
{
    line_reader *self = (line_reader *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_READLINE(self, s);
        if (self->s->result <= 0)
            break;
        cr_assert_eq(self->s->len, 8);
        self->lines++;
    }
    self->ticks_seen = self->other->ticks;
    self->done = true;
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

Test(fair, a_reader_that_never_waits_still_lets_others_run)
{
    int a, b;
    co_loop *loop = net_loop();
    line_reader *r = CO_NEW(loop, line_reader, line_reader_fn);
    ticker *t = CO_NEW(loop, ticker, spinner_fn);
    char *all = malloc(LINES * 8);
    tcp_pair(&a, &b);
    for (int i = 0; i < LINES; i++)
        memcpy(all + i * 8, "0123456\n", 8);
    /* every line is there before the loop runs: no read ever has to wait */
    st_write_all(a, all, LINES * 8);
    close(a);
    free(all);
    r->s = st_open(loop, b, NULL);
    r->other = t;
    t->stop = &r->done;
    rt_spawn(&t->gen);
    st_run(loop, &r->gen, 0);
    cr_assert_eq(r->lines, LINES);
    /* one turn for the other task at least every CO_STREAM_FAIR_READS lines */
    cr_assert_geq(r->ticks_seen, LINES / CO_STREAM_FAIR_READS,
                  "the other task ran %ld times while %d lines were read", r->ticks_seen, LINES);
    st_done(loop);
}

/* ------------------------------------------------- 100 MB, real clock */

#define BIG (100u << 20)

typedef struct big_writer {
    co_gen gen;
    co_stream *s;
    unsigned char chunk[64 << 10];
    size_t off;
} big_writer;

static int big_writer_fn(co_gen *g)
{
    big_writer *self = (big_writer *)g;
    CO_BEGIN(self);
    for (self->off = 0; self->off < BIG; self->off += sizeof self->chunk) {
        fill_pattern(self->chunk, sizeof self->chunk, self->off);
        cr_assert_eq(co_stream_write(self->s, self->chunk, sizeof self->chunk), 0);
        CO_DRAIN(self, s);
    }
    CO_WAIT_CLOSED(self, s);
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

typedef struct big_reader {
    co_gen gen;
    co_stream *s;
    size_t got;
    bool bad, *done;
    unsigned char want[64 << 10];
} big_reader;

static int big_reader_fn(co_gen *g)
{
    big_reader *self = (big_reader *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_READ(self, s, sizeof self->want);
        if (self->s->result <= 0)
            break;
        fill_pattern(self->want, self->s->len, self->got);
        if (memcmp(self->want, self->s->data, self->s->len) != 0)
            self->bad = true;
        self->got += self->s->len;
    }
    *self->done = true;
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

typedef struct real_ticker {
    co_gen gen;
    bool *stop;
    long ticks;
    int64_t start, last, max_gap;
} real_ticker;

static int real_ticker_fn(co_gen *g)
{
    real_ticker *self = (real_ticker *)g;
    CO_BEGIN(self);
    self->start = self->last = co_now(co_running_loop());
    while (!*self->stop) {
        CO_SLEEP(self, 1);
        self->ticks++;
        {
            int64_t now = co_now(co_running_loop());
            if (now - self->last > self->max_gap)
                self->max_gap = now - self->last;
            self->last = now;
        }
    }
    CO_END(self);
}

typedef struct big_main {
    co_gen gen;
    co_gen *tasks[4];
    co_gather gather;
} big_main;

static int big_main_fn(co_gen *g)
{
    big_main *self = (big_main *)g;
    CO_BEGIN(self);
    CO_GATHER(self, &self->gather, self->tasks, 4, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

Test(fair, a_1ms_ticker_keeps_ticking_through_a_100mb_transfer)
{
    int a, b;
    bool done = false;
    co_loop_options opt = rt_options();
    co_loop *loop;
    big_main *m;
    big_writer *w;
    big_reader *r;
    real_ticker *t;
    ticker *spin;
    opt.hooks.clock = NULL; /* the real clock: the ticker's gaps are real time */
    opt.autojump = false;
    loop = rt_loop_with(&opt);
    m = CO_NEW(loop, big_main, big_main_fn);
    w = CO_NEW(loop, big_writer, big_writer_fn);
    r = CO_NEW(loop, big_reader, big_reader_fn);
    t = CO_NEW(loop, real_ticker, real_ticker_fn);
    spin = CO_NEW(loop, ticker, spinner_fn);
    tcp_pair(&a, &b);
    w->s = st_open(loop, a, NULL);
    r->s = st_open(loop, b, NULL);
    r->done = &done;
    t->stop = &done;
    spin->stop = &done;
    m->tasks[3] = &spin->gen;
    m->tasks[0] = &w->gen;
    m->tasks[1] = &r->gen;
    m->tasks[2] = &t->gen;
    st_run(loop, &m->gen, 0);
    cr_assert_eq(r->got, BIG);
    cr_assert_not(r->bad, "a byte came through wrong");
    /* Whatever the machine's load: the other tasks got a turn at least
     * once per two CO_STREAM_FAIR_BYTES moved (a read yields after that
     * many, and a round also runs the writer), and the loop never stalled for
     * as long as a second.  The 1 ms ticker's figures are logged. */
    fprintf(stderr, "100 MB: %ld ticks of 1 ms in %lld ms, longest gap %lld us; %ld turns of a "
                "yielding task\n", t->ticks, (long long)((t->last - t->start) / MS),
                (long long)(t->max_gap / 1000), spin->ticks);
    cr_assert_geq(spin->ticks, (long)(BIG / CO_STREAM_FAIR_BYTES / 2), "%ld turns", spin->ticks);
    cr_assert_lt(t->max_gap, 1000 * MS, "the loop stalled for %lld ms",
                 (long long)(t->max_gap / MS));
    st_done(loop);
}
