/*
 * wait.c -- asyncio.wait (CO_WAIT) and as_completed (CO_NEXT_COMPLETED):
 * the three return_when modes with and without a timeout, the done/pending
 * partition, completion order with equal deadlines (arming order), the
 * cancellation of one waiter among two on the same tasks (the other and
 * the tasks intact), a waiter cancelled in the turn it was woken, and the
 * storage: frame slots (no allocation) or the allocator (CO_ENOMEM).  The
 * expected sets and orders are CPython 3.11's (twins in the comments).
 */
#include "testloop.h"

#include <corio/wait.h>

#include <errno.h>

TestSuite(wait, .init = rt_reset);

CO_ASYNC(job, int ms; int error;)
    CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE(self, self->error);
CO_ASYNC_END

/* Makes n jobs of the given durations (error, if any, for the index `bad`). */
static void make_jobs(co_loop *loop, co_gen **out, const int *ms, size_t n, size_t bad, int err)
{
    for (size_t i = 0; i < n; i++) {
        job *j = CO_TASK(loop, job, .ms = ms[i], .error = i == bad ? err : 0);
        cr_assert_not_null(j);
        out[i] = &j->gen;
    }
}

static int job_ms(co_gen *g) { return ((job *)(void *)g)->ms; }

/* done, pending = await wait(tasks, timeout, return_when) */
CO_ASYNC(waiter, co_wait w; co_wait_slot slots[4]; co_gen *tasks[4]; size_t n; int when;
         int64_t ms; bool own_slots, fail; int64_t at; int err; size_t allocs;
         bool last_untouched;)
    if (self->own_slots)
        co_wait_init(&self->w, self->slots, 4);
    rt.failing = self->fail;
    self->allocs = rt.alloc_calls;
    CO_WAIT_CATCH(self, &self->w, self->tasks, self->n, self->when, self->ms);
    rt.failing = false;
    self->allocs = rt.alloc_calls - self->allocs;
    self->err = CO_THROWN(self);
    self->at = rt_ms(co_running_loop());
    /* the last one is still running, never cancelled */
    self->last_untouched = !co_done(self->tasks[self->n - 1]) &&
                           co_cancelling(self->tasks[self->n - 1]) == 0;
CO_ASYNC_END

static waiter *run_wait(co_loop *loop, const int *ms, size_t n, int when, int64_t limit)
{
    waiter *w = CO_TASK(loop, waiter, .n = n, .when = when, .ms = limit, .own_slots = true);
    cr_assert_not_null(w);
    make_jobs(loop, w->tasks, ms, n, n, 0);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    return w;
}

/* ts = [job(30), job(10), job(50)]; await wait(ts, timeout=0.02)
 * -> done {10}, 2 pending, at 20 ms */
Test(wait, a_timeout_returns_the_done_and_the_pending)
{
    co_loop *loop = rt_loop();
    waiter *w = run_wait(loop, (const int[]){30, 10, 50}, 3, CO_ALL_COMPLETED, 20);
    cr_expect_eq(w->err, 0, "a timeout is no error for wait");
    cr_expect_eq(w->at, 20);
    cr_expect_eq(w->w.ndone, 1);
    cr_expect_eq(job_ms(w->tasks[0]), 10);
    cr_expect_eq(job_ms(w->tasks[1]), 30, "pending ones keep their order");
    cr_expect_eq(job_ms(w->tasks[2]), 50);
    cr_expect(w->last_untouched, "wait cancels nothing");
    rt_free_loop(loop);
}

Test(wait, first_completed_returns_at_the_first)
{
    co_loop *loop = rt_loop();
    waiter *w = run_wait(loop, (const int[]){30, 10, 10, 50}, 4, CO_FIRST_COMPLETED, CO_NO_TIMEOUT);
    cr_expect_eq(w->at, 10);
    cr_expect_eq(w->w.ndone, 2, "both that finished in that turn are done");
    rt_free_loop(loop);
}

Test(wait, all_completed_waits_for_every_task)
{
    co_loop *loop = rt_loop();
    waiter *w = run_wait(loop, (const int[]){30, 10, 50}, 3, CO_ALL_COMPLETED, CO_NO_TIMEOUT);
    cr_expect_eq(w->at, 50);
    cr_expect_eq(w->w.ndone, 3);
    cr_expect_eq(job_ms(w->tasks[0]), 30, "all done: the order is the caller's");
    rt_free_loop(loop);
}

/* [job(30), job(10, OSError), job(50)], FIRST_EXCEPTION -> 1 done, 2 pending */
Test(wait, first_exception_returns_at_the_first_failure_and_reads_nothing)
{
    co_loop *loop = rt_loop();
    waiter *w = CO_TASK(loop, waiter, .n = 3, .when = CO_FIRST_EXCEPTION, .ms = CO_NO_TIMEOUT);
    cr_assert_not_null(w);
    make_jobs(loop, w->tasks, (const int[]){30, 10, 50}, 3, 1, -EIO);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->at, 10);
    cr_expect_eq(w->w.ndone, 1);
    cr_expect_eq(co_task_result(w->tasks[0]), -EIO, "its error stays in the task");
    rt_free_loop(loop);
}

/* A cancelled task is no exception: FIRST_EXCEPTION goes on to the end. */
CO_ASYNC(cancel_one, co_gen *victim;)
    CO_SLEEP(self, 5);
    co_cancel(self->victim);
CO_ASYNC_END

Test(wait, first_exception_does_not_count_a_cancellation)
{
    co_loop *loop = rt_loop();
    waiter *w = CO_TASK(loop, waiter, .n = 2, .when = CO_FIRST_EXCEPTION, .ms = CO_NO_TIMEOUT);
    cancel_one *c;
    cr_assert_not_null(w);
    make_jobs(loop, w->tasks, (const int[]){30, 10}, 2, 2, 0);
    c = CO_TASK(loop, cancel_one, .victim = w->tasks[0]);
    cr_assert_not_null(c);
    rt_spawn(&c->gen);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->at, 10);
    cr_expect_eq(w->w.ndone, 2);
    rt_free_loop(loop);
}

Test(wait, tasks_already_done_return_at_the_next_turn)
{
    co_loop *loop = rt_loop();
    waiter *w = run_wait(loop, (const int[]){0, 0}, 2, CO_ALL_COMPLETED, CO_NO_TIMEOUT);
    cr_expect_eq(w->at, 0);
    cr_expect_eq(w->w.ndone, 2);
    rt_free_loop(loop);
}

/* Two waiters on the same tasks; the first is cancelled at 5 ms: the
 * second still gets its sets, and the tasks are not touched. */
Test(wait, cancelling_one_waiter_leaves_the_other_and_the_tasks_intact)
{
    co_loop *loop = rt_loop();
    waiter *a = CO_TASK(loop, waiter, .n = 2, .when = CO_ALL_COMPLETED, .ms = CO_NO_TIMEOUT);
    waiter *b = CO_TASK(loop, waiter, .n = 2, .when = CO_FIRST_COMPLETED, .ms = CO_NO_TIMEOUT);
    cancel_one *c;
    cr_assert(a && b);
    make_jobs(loop, a->tasks, (const int[]){20, 10}, 2, 2, 0);
    b->tasks[0] = a->tasks[0];
    b->tasks[1] = a->tasks[1];
    a->own_slots = true; /* frame slots for one, the allocator's for the other */
    c = CO_TASK(loop, cancel_one, .victim = &a->gen);
    cr_assert_not_null(c);
    rt_spawn(&a->gen);
    rt_spawn(&c->gen);
    cr_expect_eq(co_run(loop, &b->gen), 0);
    cr_expect_eq(a->err, CO_ECANCELLED);
    cr_expect_eq(a->at, 5);
    cr_expect_eq(b->at, 10);
    cr_expect_eq(b->w.ndone, 1);
    cr_expect_eq(job_ms(b->tasks[0]), 10);
    cr_expect(b->last_untouched, "neither waiter cancelled the tasks");
    rt_free_loop(loop);
}

/* The task ends at 10 and wakes the waiter; a canceller armed later fires
 * in the same turn, before the waiter runs: the waiter ends cancelled
 * (asyncio: CancelledError, its callbacks removed). */
CO_ASYNC(cancel_at, co_gen *victim; int ms;)
    CO_SLEEP(self, self->ms);
    co_cancel(self->victim);
CO_ASYNC_END

Test(wait, a_waiter_cancelled_in_the_turn_it_was_woken_ends_cancelled)
{
    co_loop *loop = rt_loop();
    waiter *w = CO_TASK(loop, waiter, .n = 2, .when = CO_FIRST_COMPLETED, .ms = CO_NO_TIMEOUT);
    cancel_at *c;
    cr_assert_not_null(w);
    make_jobs(loop, w->tasks, (const int[]){10, 30}, 2, 2, 0);
    rt_spawn(w->tasks[0]);
    c = CO_TASK(loop, cancel_at, .victim = &w->gen, .ms = 10);
    cr_assert_not_null(c);
    rt_spawn(&c->gen);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->err, CO_ECANCELLED);
    cr_expect_eq(w->at, 10);
    rt_free_loop(loop);
}

/* Every allocation fails while the wait starts: frame slots need none. */
static void run_failing(bool own_slots, int err)
{
    co_loop *loop = rt_loop();
    waiter *w = CO_TASK(loop, waiter, .n = 2, .when = CO_ALL_COMPLETED, .ms = CO_NO_TIMEOUT,
                        .own_slots = own_slots, .fail = true);
    cr_assert_not_null(w);
    make_jobs(loop, w->tasks, (const int[]){10, 20}, 2, 2, 0);
    rt_spawn(w->tasks[0]); /* asleep before the wait: they allocate nothing more */
    rt_spawn(w->tasks[1]);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->err, err);
    cr_expect_eq(w->w.ndone, err ? 0 : 2);
    if (own_slots)
        cr_expect_eq(w->allocs, 0, "frame slots: no allocation");
    rt_free_loop(loop);
}

Test(wait, the_allocator_provides_slots_and_its_failure_is_enomem)
{
    run_failing(false, CO_ENOMEM);
}

Test(wait, frame_slots_allocate_nothing)
{
    run_failing(true, 0);
}

/* Misuse: no tasks (Python's ValueError), a bad mode, more tasks than
 * slots, the waiter among its tasks. */
CO_ASYNC(misuse, co_wait w; co_wait_slot slots[1]; co_gen *tasks[2]; int errs[4];)
    CO_WAIT_CATCH(self, &self->w, self->tasks, 0, CO_ALL_COMPLETED, CO_NO_TIMEOUT);
    self->errs[0] = CO_THROWN(self);
    CO_WAIT_CATCH(self, &self->w, self->tasks, 1, 7, CO_NO_TIMEOUT);
    self->errs[1] = CO_THROWN(self);
    co_wait_init(&self->w, self->slots, 1);
    CO_WAIT_CATCH(self, &self->w, self->tasks, 2, CO_ALL_COMPLETED, CO_NO_TIMEOUT);
    self->errs[2] = CO_THROWN(self);
    self->tasks[0] = &self->gen;
    CO_WAIT_CATCH(self, &self->w, self->tasks, 1, CO_ALL_COMPLETED, CO_NO_TIMEOUT);
    self->errs[3] = CO_THROWN(self);
CO_ASYNC_END

Test(wait, misuse_is_refused)
{
    co_loop *loop = rt_loop();
    misuse *m = CO_TASK(loop, misuse, );
    cr_assert_not_null(m);
    make_jobs(loop, m->tasks, (const int[]){1, 1}, 2, 2, 0);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->errs[0], CO_EBADARG);
    cr_expect_eq(m->errs[1], CO_EBADARG);
    cr_expect_eq(m->errs[2], CO_EBADARG);
    cr_expect_eq(m->errs[3], CO_ESELF);
    rt_free_loop(loop);
}

/* ------------------------------------------------------- as_completed */

/* for f in as_completed(tasks, timeout): log(await f) */
CO_ASYNC(consumer, co_wait w; co_wait_slot slots[4]; co_gen *tasks[4]; size_t n; int64_t ms;
         co_gen *next; size_t i; int last;)
    co_wait_init(&self->w, self->slots, 4);
    CO_CHECK(self, co_as_completed(&self->w, self->tasks, self->n, self->ms));
    for (self->i = 0; self->i <= self->n; self->i++) {
        CO_NEXT_COMPLETED_CATCH(self, &self->w, &self->next);
        self->last = CO_THROWN(self);
        if (self->last == CO_ETIMEOUT || self->last == CO_EINVALSTATE ||
            self->last == CO_ECANCELLED) {
            rt_log("%s at %lld", co_strerror(self->last), (long long)rt_ms(co_running_loop()));
            continue;
        }
        rt_log("%d (%s) at %lld", job_ms(self->next),
               self->last == -EIO ? "EIO" : co_strerror(self->last),
               (long long)rt_ms(co_running_loop()));
    }
CO_ASYNC_END

/* [await f for f in as_completed([job(20), job(10), job(20), job(10)])]
 * -> [10, 10, 20, 20]: equal deadlines keep the order they were armed in */
Test(wait, as_completed_yields_in_completion_order)
{
    co_loop *loop = rt_loop();
    consumer *c = CO_TASK(loop, consumer, .n = 4, .ms = CO_NO_TIMEOUT);
    cr_assert_not_null(c);
    make_jobs(loop, c->tasks, (const int[]){20, 10, 20, 10}, 4, 2, -EIO);
    cr_expect_eq(co_run(loop, &c->gen), 0);
    cr_expect_str_eq(rt.log, "10 (success) at 10\n10 (success) at 10\n"
                             "20 (success) at 20\n20 (EIO) at 20\n"
                             "invalid state: the future is already done at 20\n");
    cr_expect_eq(c->next, c->tasks[2], "the failed one, whose error was raised");
    rt_free_loop(loop);
}

/* as_completed([job(20), job(10), job(50)], timeout=0.03) -> 10, 20, TimeoutError */
Test(wait, as_completed_times_out_for_the_rest)
{
    co_loop *loop = rt_loop();
    consumer *c = CO_TASK(loop, consumer, .n = 3, .ms = 30);
    cr_assert_not_null(c);
    make_jobs(loop, c->tasks, (const int[]){20, 10, 50}, 3, 3, 0);
    cr_expect_eq(co_run(loop, &c->gen), 0);
    cr_expect_str_eq(rt.log, "10 (success) at 10\n20 (success) at 20\n"
                             "timed out at 30\ntimed out at 30\n");
    rt_free_loop(loop);
}

/* Cancelled while it waits for the next: the iteration ends, its slots go. */
Test(wait, a_cancelled_as_completed_lets_go)
{
    co_loop *loop = rt_loop();
    consumer *c = CO_TASK(loop, consumer, .n = 2, .ms = CO_NO_TIMEOUT);
    cancel_at *k;
    cr_assert_not_null(c);
    make_jobs(loop, c->tasks, (const int[]){10, 30}, 2, 2, 0);
    k = CO_TASK(loop, cancel_at, .victim = &c->gen, .ms = 20);
    cr_assert_not_null(k);
    rt_spawn(&k->gen);
    cr_expect_eq(co_run(loop, &c->gen), 0);
    cr_expect_str_eq(rt.log, "10 (success) at 10\ntask cancelled at 20\n"
                             "invalid state: the future is already done at 20\n");
    cr_expect_eq(c->last, CO_EINVALSTATE);
    rt_free_loop(loop);
}

/* Each argument is evaluated once, at the start (the scribbler overwrites
 * the C stack meanwhile); a C local that would be used after suspending is
 * refused. */
CO_ASYNC(once, int evals; co_wait w; co_timeout to; co_gen *tasks[1]; co_gen *next;
         int stack_err; co_try tries[1];)
    CO_WAIT(self, RT_ARG(self, &self->w), RT_ARG(self, self->tasks), RT_ARG(self, 1),
            RT_ARG(self, CO_ALL_COMPLETED), RT_ARG(self, 5));
    CO_SHIELD(self, RT_ARG(self, self->tasks[0]));
    CO_TIMEOUT(self, to, RT_ARG(self, 1000)) {
        CO_SLEEP(self, 1);
    } CO_TIMEOUT_END(self, to);
    CO_CHECK(self, co_as_completed(&self->w, self->tasks, 1, CO_NO_TIMEOUT));
    CO_NEXT_COMPLETED(self, RT_ARG(self, &self->w), RT_ARG(self, &self->next));
    {
        co_wait local = {0};
        CO_WAIT_CATCH(self, &local, self->tasks, 1, CO_ALL_COMPLETED, CO_NO_TIMEOUT);
        self->stack_err = CO_THROWN(self);
    }
CO_ASYNC_END

Test(wait, arguments_are_evaluated_once_and_c_locals_refused)
{
    co_loop *loop = rt_loop();
    once *o = CO_TASK(loop, once, );
    cr_assert_not_null(o);
    make_jobs(loop, o->tasks, (const int[]){10}, 1, 1, 0);
    rt_spawn_scribbler(loop);
    cr_expect_eq(co_run(loop, &o->gen), 0);
    cr_expect_eq(o->evals, 9);
    cr_expect_eq(o->next, o->tasks[0]);
    cr_expect_eq(o->stack_err, CO_ESTACKARG);
    rt_free_loop(loop);
}
