/*
 * tasks.c -- a task's life: awaited for its value or its error, cancelled at
 * its await point (and catching it, cleaning up, finishing anyway), the
 * cancelling() count, cancellation before the first step, and the errors of
 * awaits that cannot be: on itself, outside a task, a bare yield.
 */
#include "testloop.h"

#include <errno.h>

TestSuite(tasks, .init = rt_reset);

/* A worker: sleeps `ms`, then returns `value` or raises `error`; its
 * cleanup records what it saw and when. */
typedef struct {
    co_gen gen;
    int ms, value, error;
    int ret;
    int seen;
    int64_t cleaned_at;
    bool cleaned, started;
} worker;

static int worker_fn(co_gen *g)
{
    worker *self = (worker *)g;
    CO_BEGIN(self);
    self->started = true;
    CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE(self, self->error);
    self->ret = self->value;
    CO_FINALLY(self)
    {
        self->cleaned = true;
        self->seen = CO_THROWN(self);
        self->cleaned_at = rt_ms(co_running_loop());
    }
    CO_END(self);
}

static worker *new_worker(co_loop *loop, int ms, int value, int error)
{
    worker *w = CO_NEW(loop, worker, worker_fn);
    cr_assert_not_null(w);
    w->ms = ms;
    w->value = value;
    w->error = error;
    return w;
}

/* The main task of a test; each test's body uses the fields it needs to
 * note what it saw, and the test checks them after co_run. */
typedef struct {
    co_gen gen;
    worker *w[2];
    void *other; /* a task of another frame type */
    int caught, rc, after, final;
    int64_t t;
    bool reached;
} tmain;

/* ------------------------------------------------ awaiting */

static int await_value_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 7, 0);
    rt_spawn(&self->w[0]->gen);
    CO_AWAIT_TASK(self, &self->w[0]->gen);
    self->after = self->w[0]->ret;
    self->t = rt_ms(co_running_loop());
    CO_END(self);
}

Test(tasks, await_gives_the_tasks_return_value_through_its_frame)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, await_value_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->after, 7);
    cr_expect_eq(m->t, 10);
    cr_expect_eq(co_task_result(&m->w[0]->gen), 0);
    rt_free_loop(loop);
}

static int await_error_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 0, -EIO);
    rt_spawn(&self->w[0]->gen);
    CO_AWAIT_TASK(self, &self->w[0]->gen);
    self->reached = true;
    CO_FINALLY(self)
    {
        self->caught = CO_THROWN(self);
        /* the task's own cleanup ran before its error reached us */
        self->after = self->w[0]->cleaned;
    }
    CO_END(self);
}

Test(tasks, await_raises_the_tasks_error_in_the_awaiter)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, await_error_fn);
    cr_expect_eq(co_run(loop, &m->gen), -EIO);
    cr_expect_not(m->reached);
    cr_expect_eq(m->caught, -EIO);
    cr_expect(m->after);
    cr_expect_eq(co_task_result(&m->w[0]->gen), -EIO);
    rt_free_loop(loop);
}

static int await_catch_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 0, -EIO);
    rt_spawn(&self->w[0]->gen);
    CO_AWAIT_TASK_CATCH(self, &self->w[0]->gen);
    self->caught = CO_THROWN(self);
    CO_AWAIT_TASK_CATCH(self, &self->w[0]->gen); /* a done task: at once, same error */
    self->rc = CO_THROWN(self);
    self->reached = true;
    CO_END(self);
}

Test(tasks, await_catch_catches_the_tasks_error)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, await_catch_fn);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect(m->reached);
    cr_expect_eq(m->caught, -EIO);
    cr_expect_eq(m->rc, -EIO);
    rt_free_loop(loop);
}

/* Several tasks await one: woken in the order they started waiting. */
typedef struct {
    co_gen gen;
    co_gen *target;
    int id;
} awaiter;

static int awaiter_fn(co_gen *g)
{
    awaiter *self = (awaiter *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK(self, self->target);
    rt_log("awaiter %d", self->id);
    CO_END(self);
}

static int many_awaiters_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 0, 0);
    rt_spawn(&self->w[0]->gen);
    for (int i = 0; i < 3; i++) {
        awaiter *a = CO_NEW(co_running_loop(), awaiter, awaiter_fn);
        cr_assert_not_null(a);
        a->target = &self->w[0]->gen;
        a->id = i;
        rt_spawn(&a->gen);
    }
    CO_SLEEP(self, 20);
    CO_END(self);
}

Test(tasks, awaiters_of_one_task_wake_in_the_order_they_waited)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, many_awaiters_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "awaiter 0\nawaiter 1\nawaiter 2\n");
    rt_free_loop(loop);
}

static int await_unspawned_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 3, 0);
    CO_AWAIT_TASK(self, &self->w[0]->gen); /* never spawned: awaiting starts it */
    self->after = self->w[0]->ret;
    CO_END(self);
}

Test(tasks, awaiting_a_task_not_yet_spawned_runs_it)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, await_unspawned_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->after, 3);
    rt_free_loop(loop);
}

static int await_self_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK(self, co_current_task());
    self->reached = true;
    CO_END(self);
}

Test(tasks, a_task_awaiting_itself_gets_eself)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, await_self_fn);
    cr_expect_eq(co_run(loop, &m->gen), CO_ESELF);
    cr_expect_not(m->reached);
    rt_free_loop(loop);
}

/* A plain generator using the await macros, driven by co_next. */
typedef struct {
    co_gen gen;
    int what;
    co_gen *task;
    co_event ev;
} outsider;

static int outsider_fn(co_gen *g)
{
    outsider *self = (outsider *)g;
    CO_BEGIN(self);
    if (self->what == 0)
        CO_SLEEP(self, 1);
    else if (self->what == 1)
        CO_AWAIT_TASK(self, self->task);
    else
        CO_EVENT_WAIT(self, &self->ev);
    CO_END(self);
}

Test(tasks, awaiting_outside_a_task_gets_enotask)
{
    co_loop *loop = rt_loop();
    worker *w = new_worker(loop, 1, 0, 0);
    for (int what = 0; what < 3; what++) {
        outsider o;
        CO_INIT(&o, outsider_fn);
        o.what = what;
        o.task = &w->gen;
        co_event_init(&o.ev);
        cr_expect_eq(co_next(&o.gen), CO_ENOTASK, "await kind %d", what);
        cr_expect_eq(co_state(&o.gen), CO_CLOSED);
    }
    rt_free_loop(loop);
}

/* ------------------------------------------------ cancellation */

static int cancel_sleeper_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10000, 1, 0);
    rt_spawn(&self->w[0]->gen);
    CO_SLEEP(self, 100);
    self->rc = co_cancel(&self->w[0]->gen);
    CO_AWAIT_TASK_CATCH(self, &self->w[0]->gen);
    self->caught = CO_THROWN(self);
    self->t = rt_ms(co_running_loop());
    CO_END(self);
}

Test(tasks, cancel_is_thrown_at_the_await_and_the_cleanup_runs)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, cancel_sleeper_fn);
    worker *w;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    w = m->w[0];
    cr_expect_eq(m->rc, 1);
    cr_expect_eq(m->caught, CO_ECANCELLED, "awaiting a cancelled task raises the cancellation");
    cr_expect(co_done(&w->gen));
    cr_expect_eq(co_task_result(&w->gen), CO_ECANCELLED);
    cr_expect_eq(w->seen, CO_ECANCELLED);
    cr_expect_eq(w->cleaned_at, 100, "cancelled at once, not at the end of its sleep");
    cr_expect_eq(w->ret, 0, "the code after the await never ran");
    cr_expect_eq(m->t, 100);
    cr_expect_eq(co_cancel(&w->gen), 0, "cancelling a finished task does nothing");
    cr_expect_eq(co_cancelling(&w->gen), 1);
    rt_free_loop(loop);
}

/* try: await child() except CancelledError: cleanup; await sleep(1); return 5 */
typedef struct {
    co_gen gen;
    worker child;
    int caught, ret, cancelling_seen;
    int64_t t;
    co_gen *again; /* a second await after catching */
} catcher;

static int catcher_fn(co_gen *g)
{
    catcher *self = (catcher *)g;
    CO_BEGIN(self);
    CO_INIT(&self->child, worker_fn);
    self->child.ms = 10000;
    CO_AWAIT_CATCH(self, child);
    self->caught = CO_THROWN(self);
    self->cancelling_seen = co_cancelling(co_current_task());
    rt_log("caught");
    CO_SLEEP(self, 1000); /* an await after catching: not cancelled again */
    self->t = rt_ms(co_running_loop());
    self->ret = 5;
    CO_END(self);
}

static int cancel_twice_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    catcher *c = self->other;
    CO_BEGIN(self);
    c = self->other = CO_NEW(co_running_loop(), catcher, catcher_fn);
    cr_assert_not_null(c);
    rt_spawn(&c->gen);
    CO_SLEEP(self, 10);
    cr_expect_eq(co_cancel(&c->gen), 1);
    cr_expect_eq(co_cancel(&c->gen), 1);
    cr_expect_eq(co_cancelling(&c->gen), 2);
    CO_AWAIT_TASK(self, &c->gen);
    self->after = c->ret;
    CO_END(self);
}

Test(tasks, a_task_may_catch_its_cancellation_clean_up_and_finish_normally)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, cancel_twice_fn);
    catcher *c;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    c = m->other;
    cr_expect_eq(c->caught, CO_ECANCELLED);
    cr_expect(c->child.cleaned, "the child's cleanup ran before the catch");
    cr_expect_eq(c->child.seen, CO_ECANCELLED);
    cr_expect_eq(c->cancelling_seen, 2, "two requests, one CancelledError");
    cr_expect_str_eq(rt.log, "caught\n", "the second request is not thrown again");
    cr_expect_eq(c->t, 1010);
    cr_expect_eq(m->after, 5);
    cr_expect_eq(co_task_result(&c->gen), 0, "it returned: not cancelled");
    cr_expect_eq(co_cancelling(&c->gen), 2, "still counted until uncancel");
    cr_expect_eq(co_uncancel(&c->gen), 1);
    cr_expect_eq(co_uncancel(&c->gen), 0);
    cr_expect_eq(co_uncancel(&c->gen), 0, "never below zero");
    rt_free_loop(loop);
}

static int cancel_before_start_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 1, 0);
    self->w[1] = new_worker(co_running_loop(), 10, 1, 0);
    rt_spawn(&self->w[0]->gen);
    self->rc = co_cancel(&self->w[0]->gen);
    self->after = co_cancel(&self->w[1]->gen); /* never spawned */
    CO_AWAIT_TASK_CATCH(self, &self->w[0]->gen);
    self->caught = CO_THROWN(self);
    CO_AWAIT_TASK_CATCH(self, &self->w[1]->gen);
    cr_expect_eq(CO_THROWN(self), CO_ECANCELLED);
    CO_END(self);
}

Test(tasks, a_task_cancelled_before_it_starts_never_runs_its_body)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, cancel_before_start_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc, 1);
    cr_expect_eq(m->after, 1);
    cr_expect_eq(m->caught, CO_ECANCELLED);
    for (int i = 0; i < 2; i++) {
        worker *w = m->w[i];
        cr_expect_not(w->started, "task %d ran its body", i);
        cr_expect_not(w->cleaned, "task %d ran its cleanup: Python never enters the try", i);
        cr_expect_eq(co_task_result(&w->gen), CO_ECANCELLED);
    }
    rt_free_loop(loop);
}

static int self_cancel_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->rc = co_cancel(co_current_task());
    self->reached = true; /* the request waits for the next await */
    CO_SLEEP(self, 1000);
    self->after = 1;
    CO_FINALLY(self)
    {
        self->caught = CO_THROWN(self);
        self->t = rt_ms(co_running_loop());
    }
    CO_END(self);
}

Test(tasks, a_task_cancelling_itself_is_cancelled_at_its_next_await)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, self_cancel_fn);
    cr_expect_eq(co_run(loop, &m->gen), CO_ECANCELLED);
    cr_expect_eq(m->rc, 1);
    cr_expect(m->reached);
    cr_expect_eq(m->after, 0);
    cr_expect_eq(m->caught, CO_ECANCELLED);
    cr_expect_eq(m->t, 0, "the sleep did not run");
    rt_free_loop(loop);
}

static int result_early_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 1, 0);
    self->rc = co_task_result(&self->w[0]->gen); /* not spawned */
    cr_expect_not(co_done(&self->w[0]->gen));
    rt_spawn(&self->w[0]->gen);
    CO_SLEEP(self, 0); /* it runs and sleeps */
    self->after = co_task_result(&self->w[0]->gen);
    self->caught = co_task_result(co_current_task()); /* running */
    CO_AWAIT_TASK(self, &self->w[0]->gen);
    cr_expect(co_done(&self->w[0]->gen));
    self->final = co_task_result(&self->w[0]->gen);
    CO_END(self);
}

Test(tasks, result_before_done_is_enotdone)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, result_early_fn);
    cr_expect_eq(co_task_result(&m->gen), CO_ENOTDONE);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc, CO_ENOTDONE);
    cr_expect_eq(m->after, CO_ENOTDONE);
    cr_expect_eq(m->caught, CO_ENOTDONE);
    cr_expect_eq(m->final, 0);
    cr_expect_eq(co_task_result(&m->gen), 0);
    rt_free_loop(loop);
}

/* A task suspending with a bare yield: it awaits nothing. */
typedef struct {
    co_gen gen;
    int caught;
    bool reached, go_on;
} bad_yielder;

static int bad_yield_fn(co_gen *g)
{
    bad_yielder *self = (bad_yielder *)g;
    CO_BEGIN(self);
    if (self->go_on) {
        CO_SUSPEND_CATCH(self);
        self->caught = CO_THROWN(self);
        CO_SLEEP(self, 5); /* and it can go on awaiting properly */
        self->reached = true;
    } else {
        CO_SUSPEND(self);
        self->reached = true;
    }
    CO_END(self);
}

Test(tasks, a_bare_suspend_gets_ebadyield)
{
    co_loop *loop = rt_loop();
    bad_yielder *b = CO_NEW(loop, bad_yielder, bad_yield_fn);
    cr_expect_eq(co_run(loop, &b->gen), CO_EBADYIELD);
    cr_expect_not(b->reached);
    b = CO_NEW(loop, bad_yielder, bad_yield_fn);
    b->go_on = true;
    cr_expect_eq(co_run(loop, &b->gen), 0);
    cr_expect_eq(b->caught, CO_EBADYIELD);
    cr_expect(b->reached);
    rt_free_loop(loop);
}

/* current_task() inside a coroutine awaited inline is still its task. */
typedef struct {
    co_gen gen;
    co_gen *seen;
} peeker;

static int peeker_fn(co_gen *g)
{
    peeker *self = (peeker *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1);
    self->seen = co_current_task();
    CO_END(self);
}

typedef struct {
    co_gen gen;
    peeker child;
} peek_main;

static int peek_main_fn(co_gen *g)
{
    peek_main *self = (peek_main *)g;
    CO_BEGIN(self);
    CO_INIT(&self->child, peeker_fn);
    CO_AWAIT(self, child);
    CO_END(self);
}

Test(tasks, current_task_in_an_inline_coroutine_is_the_task)
{
    co_loop *loop = rt_loop();
    peek_main *m = CO_NEW(loop, peek_main, peek_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->child.seen, &m->gen);
    rt_free_loop(loop);
}

/* A task that is woken (its sleep is over) but cancelled before it runs
 * gets the cancellation, not the wake-up. */
static int cancel_ready_fn(co_gen *g)
{
    tmain *self = (tmain *)g;
    CO_BEGIN(self);
    self->w[0] = new_worker(co_running_loop(), 10, 1, 0);
    rt_spawn(&self->w[0]->gen);
    CO_SLEEP(self, 10); /* armed before the worker's (it has not run yet) */
    self->rc = co_cancel(&self->w[0]->gen);
    CO_AWAIT_TASK_CATCH(self, &self->w[0]->gen);
    self->caught = CO_THROWN(self);
    CO_END(self);
}

Test(tasks, a_woken_task_cancelled_before_it_runs_is_cancelled)
{
    co_loop *loop = rt_loop();
    tmain *m = CO_NEW(loop, tmain, cancel_ready_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    /* both timers fired in one turn, main's first: the worker was ready */
    cr_expect_eq(m->rc, 1, "the worker was not done yet");
    cr_expect_eq(m->caught, CO_ECANCELLED);
    cr_expect_eq(m->w[0]->ret, 0, "the code after its sleep never ran");
    cr_expect_eq(m->w[0]->seen, CO_ECANCELLED);
    rt_free_loop(loop);
}
