/*
 * sync_tests.h -- what the suites of Condition, Barrier and the queues
 * (cond.c, barrier.c, queue_more.c) share: the loop's time in ms, and a
 * run of a CO_ASYNC coroutine as the loop's main task.
 */
#ifndef SYNC_TESTS_H
#define SYNC_TESTS_H

#include "testloop.h"
#include "twins.h"

/* The running loop's time in ms, for the traces. */
static inline long long st_now(void) { return (long long)rt_ms(co_running_loop()); }

/* Runs a new task of the coroutine `name` (no fields) as main on loop;
 * its result must be `want`. */
#define ST_RUN(loop, name, want)                                                           \
    do {                                                                                   \
        name *st_m = CO_TASK(loop, name, );                                                \
        cr_assert_not_null(st_m);                                                          \
        cr_assert_eq(co_run(loop, &st_m->gen), want);                                      \
        co_release(&st_m->gen);                                                            \
    } while (0)

#endif /* SYNC_TESTS_H */
