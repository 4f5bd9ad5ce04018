/*
 * harness.h -- what every runtime test shares: a loop on a fake clock that
 * jumps to the next deadline when idle (so time-based tests are exact and
 * instant), an allocator that counts its calls and can be told to fail the
 * Nth one, and a log of lines the tasks write, compared as one text.
 *
 * Criterion runs each test in its own process, so the state lives in one
 * global, `rt`, that rt_reset() (every suite's init) clears.
 */
#ifndef RT_HARNESS_H
#define RT_HARNESS_H

#include <corio/sched.h>

#include <criterion/criterion.h>

#include <stddef.h>
#include <stdint.h>

#define MS (INT64_C(1000000)) /* one millisecond in the loop's ns */

typedef struct rt_state {
    int64_t clock;      /* the fake clock's least value, in ns            */
    co_loop *loop;      /* the loop whose jumps the fake clock follows    */
    size_t clock_reads; /* calls of the clock hook                        */
    size_t allocs;      /* successful allocations                         */
    size_t frees;       /* frees of non-NULL blocks                        */
    size_t alloc_calls; /* every call of the alloc hook, failed ones too   */
    size_t fail_at;     /* the alloc call (1-based) that fails; 0: none    */
    size_t live_bytes;  /* allocated and not yet freed                     */
    char log[8192];     /* lines written by rt_log, each ending in '\n'    */
    size_t log_len;
} rt_state;

extern rt_state rt;

/* Clears `rt`: every suite runs it as its init. */
void rt_reset(void);

/* The hooks and options a test loop uses (autojump, fake clock, counting
 * allocator); backend NULL, so $CORIO_BACKEND chooses. */
co_loop_options rt_options(void);

/* A loop with rt_options(); fails the test if it cannot be made. */
co_loop *rt_loop(void);

/* Appends one formatted line to rt.log. */
void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Starts `frame` (from CO_NEW) and fails the test unless co_spawn accepts it. */
void rt_spawn(co_gen *frame);

/* Frees the loop and fails the test unless every allocation was freed. */
void rt_free_loop(co_loop *loop);

/* The loop's time in ms since the fake clock's zero. */
int64_t rt_ms(const co_loop *loop);

#endif /* RT_HARNESS_H */
