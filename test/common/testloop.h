/*
 * testloop.h -- what the runtime's suites (runtime, reactor, net, fs) share:
 * a loop on a fake clock that only the test moves, with autojump, so that
 * when the loop idles it jumps straight to its next deadline (time-based
 * tests are exact and instant, and a task that would hang meets its guard
 * deadline at once); an allocator that counts calls and bytes, can fail the
 * Nth call or every call, and lets a test check that every byte came back;
 * and a log of lines the tasks write, compared as one text.
 *
 * Names start with rt_ ("runtime test"); each suite keeps its own helpers
 * under its own prefix (rx_, net_, ft_).  Criterion runs each test in a
 * process of its own, so the state is one global, `rt`, that rt_reset()
 * clears.  Only the scheduler's API (sched.h) is used here, so the bare
 * scheduler build links this too.
 */
#ifndef TESTLOOP_H
#define TESTLOOP_H

#include <corio/future.h>
#include <corio/sched.h>
#include <corio/sync.h>

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS (INT64_C(1000000)) /* one millisecond in the loop's ns */

typedef struct rt_state {
    int64_t clock;      /* the fake clock in ns: only the test moves it     */
    size_t clock_reads; /* calls of the clock hook                           */
    size_t alloc_calls; /* every call of the alloc hook, failed ones too     */
    size_t fail_at;     /* the alloc call (1-based) that fails; 0: none      */
    bool failing;       /* every alloc call fails while this is set          */
    size_t allocs;      /* successful allocations                            */
    size_t frees;       /* frees of non-NULL blocks                          */
    size_t live_bytes;  /* allocated and not yet freed                       */
    char log[8192];     /* lines written by rt_log, each ending in '\n'      */
    size_t log_len;
} rt_state;

extern rt_state rt;

/* Clears `rt`: suites run it as (part of) their init. */
void rt_reset(void);

/* Fake clock, autojump, counting allocator; backend NULL, so that
 * $CORIO_BACKEND chooses.  Tests change what they need before co_loop_new. */
co_loop_options rt_options(void);

/* A loop with rt_options(); fails the test if it cannot be made. */
co_loop *rt_loop(void);
/* A loop with `opt`; fails the test if it cannot be made. */
co_loop *rt_loop_with(const co_loop_options *opt);

/* Frees the loop and fails the test unless every allocation was freed,
 * each with the size it was made with. */
void rt_free_loop(co_loop *loop);

/* Starts `frame` (from CO_NEW) and fails the test unless co_spawn accepts it. */
void rt_spawn(co_gen *frame);

/* The loop's time in ms since the fake clock's zero. */
int64_t rt_ms(const co_loop *loop);

/* Appends one formatted line to rt.log. */
void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An await's argument x that counts its evaluations in self->evals: the
 * locals tests check that each argument is evaluated once. */
static inline void rt__count(int *evals) { (*evals)++; }
#define RT_ARG(self, x) (rt__count(&(self)->evals), (x))

/* Spawns (and releases) a task that overwrites some 2 KiB of the C stack
 * every millisecond, so a C local an await wrongly kept reads as garbage. */
void rt_spawn_scribbler(co_loop *loop);

#endif /* TESTLOOP_H */
