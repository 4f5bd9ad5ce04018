/*
 * deadline.c -- asyncio.wait_for / asyncio.timeout: CO_WAIT_FOR around a
 * coroutine awaited inline and CO_WAIT_FOR_TASK around a spawned task.  On
 * expiry the work is cancelled and its cleanup has run before CO_ETIMEOUT
 * reaches the waiter; in time, its value comes back and the deadline is
 * gone; a cancellation from outside stays a cancellation.
 */
#include "testloop.h"

#include <errno.h>

TestSuite(deadline, .init = rt_reset);

/* The work under a deadline: sleeps `ms`, returns `value` or raises `error`;
 * a cancelled one may await in its cleanup (`cleanup_ms`). */
typedef struct {
    co_gen gen;
    int ms, value, error, cleanup_ms;
    int ret, seen;
} job;

static int job_fn(co_gen *g)
{
    job *self = (job *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE(self, self->error);
    self->ret = self->value;
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->seen == CO_ECANCELLED && self->cleanup_ms)
            CO_SLEEP(self, self->cleanup_ms);
        if (self->seen)
            rt_log("job cleaned up at %lld", (long long)rt_ms(co_running_loop()));
    }
    CO_END(self);
}

/* await wait_for(job(), limit); then sleeps `after` ms (a deadline left
 * armed would cancel that sleep). */
typedef struct {
    co_gen gen;
    co_deadline deadline;
    job work;
    int limit, after;
    int got;
} waiter;

static int waiter_fn(co_gen *g)
{
    waiter *self = (waiter *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR(self, &self->deadline, work, self->limit);
    self->got = self->work.ret;
    if (self->after)
        CO_SLEEP(self, self->after);
    CO_FINALLY(self)
    {
        rt_log("waiter ends with %s at %lld", co_strerror(CO_THROWN(self)),
               (long long)rt_ms(co_running_loop()));
    }
    CO_END(self);
}

static waiter *new_waiter(co_loop *loop, int limit, int ms, int cleanup_ms)
{
    waiter *w = CO_NEW(loop, waiter, waiter_fn);
    cr_assert_not_null(w);
    w->limit = limit;
    CO_INIT(&w->work, job_fn);
    w->work.ms = ms;
    w->work.value = 9;
    w->work.cleanup_ms = cleanup_ms;
    return w;
}

Test(deadline, expiry_cancels_the_child_and_its_cleanup_runs_before_the_timeout)
{
    co_loop *loop = rt_loop();
    waiter *w = new_waiter(loop, 50, 1000, 5);
    cr_expect_eq(co_run(loop, &w->gen), CO_ETIMEOUT);
    cr_expect_eq(w->work.seen, CO_ECANCELLED);
    cr_expect_str_eq(rt.log, "job cleaned up at 55\nwaiter ends with timed out at 55\n");
    cr_expect_eq(w->got, 0);
    rt_free_loop(loop);
}

Test(deadline, finishing_in_time_returns_the_childs_value_and_disarms)
{
    co_loop *loop = rt_loop();
    waiter *w = new_waiter(loop, 50, 10, 0);
    w->after = 100;
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->got, 9);
    cr_expect_eq(w->work.seen, 0);
    cr_expect_str_eq(rt.log, "waiter ends with success at 110\n",
                     "the deadline at 50 must not cancel the later sleep");
    rt_free_loop(loop);
}

Test(deadline, the_childs_own_error_passes_through)
{
    co_loop *loop = rt_loop();
    waiter *w = new_waiter(loop, 50, 10, 0);
    w->work.error = -EIO;
    cr_expect_eq(co_run(loop, &w->gen), -EIO);
    rt_free_loop(loop);
}

Test(deadline, a_zero_limit_expires_at_the_next_turn)
{
    co_loop *loop = rt_loop();
    waiter *w = new_waiter(loop, 0, 10, 0);
    cr_expect_eq(co_run(loop, &w->gen), CO_ETIMEOUT);
    cr_expect_eq(co_now(loop), 0);
    rt_free_loop(loop);
}

/* wait_for nested in wait_for, the shorter limit inside or outside. */
typedef struct {
    co_gen gen;
    co_deadline deadline;
    waiter mid; /* a waiter awaited inline: its own CO_WAIT_FOR inside */
    int limit;
} nested;

static int nested_fn(co_gen *g)
{
    nested *self = (nested *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR(self, &self->deadline, mid, self->limit);
    CO_END(self);
}

static void check_nested(int outer, int inner)
{
    co_loop *loop = rt_loop();
    nested *n = CO_NEW(loop, nested, nested_fn);
    n->limit = outer;
    CO_INIT(&n->mid, waiter_fn);
    n->mid.limit = inner;
    CO_INIT(&n->mid.work, job_fn);
    n->mid.work.ms = 1000;
    cr_expect_eq(co_run(loop, &n->gen), CO_ETIMEOUT, "outer %d, inner %d", outer, inner);
    cr_expect_eq(co_now(loop), (outer < inner ? outer : inner) * MS);
    cr_expect_eq(n->mid.work.seen, CO_ECANCELLED);
    rt_free_loop(loop);
}

Test(deadline, nested_deadlines_the_inner_one_first)
{
    check_nested(100, 50);
}

Test(deadline, nested_deadlines_the_outer_one_first)
{
    check_nested(50, 100);
}

/* ------------------------------------------------ around a task */

typedef struct {
    co_gen gen;
    co_deadline deadline;
    job *task;
    int limit, got;
    int64_t t;
} task_waiter;

static int task_waiter_fn(co_gen *g)
{
    task_waiter *self = (task_waiter *)g;
    CO_BEGIN(self);
    rt_spawn(&self->task->gen);
    CO_WAIT_FOR_TASK(self, &self->deadline, &self->task->gen, self->limit);
    self->got = self->task->ret;
    CO_SLEEP(self, 100); /* a stray deadline would cancel this */
    CO_FINALLY(self)
    {
        self->t = rt_ms(co_running_loop());
    }
    CO_END(self);
}

static task_waiter *new_task_waiter(co_loop *loop, int limit, int ms)
{
    task_waiter *w = CO_NEW(loop, task_waiter, task_waiter_fn);
    cr_assert_not_null(w);
    w->limit = limit;
    w->task = CO_NEW(loop, job, job_fn);
    cr_assert_not_null(w->task);
    w->task->ms = ms;
    w->task->value = 4;
    w->task->cleanup_ms = 5;
    return w;
}

Test(deadline, wait_for_task_expiry_cancels_the_task_then_times_out)
{
    co_loop *loop = rt_loop();
    task_waiter *w = new_task_waiter(loop, 50, 1000);
    cr_expect_eq(co_run(loop, &w->gen), CO_ETIMEOUT);
    cr_expect_eq(co_task_result(&w->task->gen), CO_ECANCELLED);
    cr_expect_str_eq(rt.log, "job cleaned up at 55\n");
    cr_expect_eq(w->t, 55, "the timeout came after the task's cleanup");
    rt_free_loop(loop);
}

Test(deadline, wait_for_task_in_time_returns_its_value)
{
    co_loop *loop = rt_loop();
    task_waiter *w = new_task_waiter(loop, 50, 10);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->got, 4);
    cr_expect_eq(w->t, 110);
    rt_free_loop(loop);
}

Test(deadline, wait_for_task_passes_the_tasks_error_through)
{
    co_loop *loop = rt_loop();
    task_waiter *w = new_task_waiter(loop, 50, 10);
    w->task->error = -EPIPE;
    cr_expect_eq(co_run(loop, &w->gen), -EPIPE);
    cr_expect_eq(w->t, 10);
    rt_free_loop(loop);
}

/* ------------------------------------------------ outer cancellation */

typedef struct {
    co_gen gen;
    co_gen *victim;
    int at, result;
} outer_canceller;

static int outer_canceller_fn(co_gen *g)
{
    outer_canceller *self = (outer_canceller *)g;
    CO_BEGIN(self);
    rt_spawn(self->victim);
    CO_SLEEP(self, self->at);
    co_cancel(self->victim);
    CO_AWAIT_TASK_CATCH(self, self->victim);
    self->result = CO_THROWN(self);
    CO_END(self);
}

Test(deadline, an_outer_cancellation_is_not_turned_into_a_timeout)
{
    co_loop *loop = rt_loop();
    waiter *w = new_waiter(loop, 100, 1000, 0);
    outer_canceller *c = CO_NEW(loop, outer_canceller, outer_canceller_fn);
    c->victim = &w->gen;
    c->at = 10;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    cr_expect_eq(c->result, CO_ECANCELLED);
    cr_expect_eq(w->work.seen, CO_ECANCELLED);
    cr_expect_str_eq(rt.log, "job cleaned up at 10\nwaiter ends with task cancelled at 10\n");
    rt_free_loop(loop);
}

/* The outer cancel and the expiry in the same turn: asyncio.timeout (3.12)
 * lets the outer CancelledError through, since the task's cancelling()
 * count stays above zero after the timeout's own uncancel. */
Test(deadline, an_outer_cancellation_at_the_deadline_is_still_a_cancellation)
{
    co_loop *loop = rt_loop();
    waiter *w = new_waiter(loop, 50, 1000, 0);
    outer_canceller *c = CO_NEW(loop, outer_canceller, outer_canceller_fn);
    c->victim = &w->gen;
    c->at = 50;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    cr_expect_eq(c->result, CO_ECANCELLED);
    rt_free_loop(loop);
}

Test(deadline, an_outer_cancellation_of_a_wait_for_task_is_not_a_timeout)
{
    co_loop *loop = rt_loop();
    task_waiter *w = new_task_waiter(loop, 100, 1000);
    outer_canceller *c = CO_NEW(loop, outer_canceller, outer_canceller_fn);
    c->victim = &w->gen;
    c->at = 10;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    cr_expect_eq(c->result, CO_ECANCELLED);
    rt_free_loop(loop);
}

/* try: await wait_for(job(), limit) except TimeoutError: -- caught where it
 * happens, and the task goes on. */
typedef struct {
    co_gen gen;
    co_deadline deadline;
    job work;
    int limit;
    int caught, after;
} catching_waiter;

static int catching_waiter_fn(co_gen *g)
{
    catching_waiter *self = (catching_waiter *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR_CATCH(self, &self->deadline, work, self->limit);
    self->caught = CO_THROWN(self);
    CO_SLEEP(self, 5); /* still a healthy task: its deadline is gone */
    self->after = 1;
    CO_END(self);
}

Test(deadline, wait_for_catch_catches_the_timeout_and_goes_on)
{
    co_loop *loop = rt_loop();
    catching_waiter *w = CO_NEW(loop, catching_waiter, catching_waiter_fn);
    CO_INIT(&w->work, job_fn);
    w->work.ms = 100;
    w->limit = 30;
    cr_assert_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->caught, CO_ETIMEOUT);
    cr_expect_eq(w->work.seen, CO_ECANCELLED, "the child was cancelled first");
    cr_expect_eq(w->after, 1);
    cr_expect_eq(co_cancelling(&w->gen), 0, "the deadline's cancellation was taken back");
    cr_expect_eq(rt_ms(loop), 35);
    rt_free_loop(loop);
}

Test(deadline, wait_for_catch_in_time_catches_nothing)
{
    co_loop *loop = rt_loop();
    catching_waiter *w = CO_NEW(loop, catching_waiter, catching_waiter_fn);
    CO_INIT(&w->work, job_fn);
    w->work.ms = 10;
    w->work.value = 7;
    w->limit = 30;
    cr_assert_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->caught, 0);
    cr_expect_eq(w->work.ret, 7);
    cr_expect_eq(rt_ms(loop), 15);
    rt_free_loop(loop);
}
