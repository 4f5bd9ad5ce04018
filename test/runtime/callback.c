/*
 * callback.c -- callbacks on the loop: call_soon in the same FIFO as task
 * steps, call_later / call_at on the loop's clock with their handles (when,
 * cancel, even in the turn they were due), handles re-armed once run and
 * refused while pending, loop-allocated callbacks failing cleanly when the
 * allocator does, and the done callbacks of tasks in registration order
 * with the tasks awaiting them.
 */
#include "testloop.h"
#include "twins.h" /* the traces CPython prints */

TestSuite(callback, .init = rt_reset);

static void log_cb(void *arg)
{
    rt_log("%s at %lld", (const char *)arg, (long long)rt_ms(co_running_loop()));
}

/* ------------------------------------------------ call_soon */

typedef struct {
    co_gen gen;
    const char *name;
    int steps, i;
} stepper;

static int stepper_fn(co_gen *g)
{
    stepper *self = (stepper *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->steps; self->i++) {
        rt_log("%s step %d", self->name, self->i);
        CO_SLEEP(self, 0);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    stepper *a;
    co_handle h[3];
} soon_main;

static void soon_from_callback(void *arg)
{
    soon_main *m = arg;
    rt_log("cb2 at %lld", (long long)rt_ms(co_running_loop()));
    cr_assert_eq(co_call_soon(co_running_loop(), &m->h[2], log_cb, "cb3"), 0);
}

/* asyncio: call_soon(cb1); create_task(a); call_soon(cb2) runs cb1, a's
 * first step, cb2; what a callback schedules runs a round later. */
static int soon_main_fn(co_gen *g)
{
    soon_main *self = (soon_main *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    cr_assert_eq(co_call_soon(loop, &self->h[0], log_cb, "cb1"), 0);
    rt_spawn(&self->a->gen);
    cr_assert_eq(co_call_soon(loop, &self->h[1], soon_from_callback, self), 0);
    cr_assert_eq(co_call_soon(loop, &self->h[1], log_cb, "again"), CO_EBUSY, "pending");
    rt_log("main waits");
    CO_SLEEP(self, 0);
    rt_log("main back");
    CO_AWAIT_TASK(self, &self->a->gen);
    cr_assert_eq(co_call_soon(loop, &self->h[1], log_cb, "re-armed"), 0, "ran: free again");
    CO_SLEEP(self, 0);
    CO_END(self);
}

Test(callback, call_soon_runs_in_the_same_fifo_as_task_steps)
{
    co_loop *loop = rt_loop();
    soon_main *m = CO_NEW(loop, soon_main, soon_main_fn);
    m->a = CO_NEW(loop, stepper, stepper_fn);
    m->a->name = "a";
    m->a->steps = 2;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, TWIN_CALL_SOON_FIFO);
    rt_free_loop(loop);
}

/* A callback with no handle comes from the loop's allocator: a failure is
 * CO_ENOMEM at the call, and nothing is queued. */
typedef struct {
    co_gen gen;
    int rc_fail, rc_ok;
} alloc_main;

static int alloc_main_fn(co_gen *g)
{
    alloc_main *self = (alloc_main *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    rt.failing = true;
    self->rc_fail = co_call_soon(loop, NULL, log_cb, "never");
    rt.failing = false;
    self->rc_ok = co_call_soon(loop, NULL, log_cb, "allocated");
    CO_SLEEP(self, 0);
    CO_END(self);
}

Test(callback, a_callback_without_a_handle_is_allocated_and_freed)
{
    co_loop *loop = rt_loop();
    alloc_main *m = CO_NEW(loop, alloc_main, alloc_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc_fail, CO_ENOMEM);
    cr_expect_eq(m->rc_ok, 0);
    cr_expect_str_eq(rt.log, "allocated at 0\n");
    rt_free_loop(loop); /* every byte back */
}

Test(callback, bad_arguments)
{
    co_loop *loop = rt_loop();
    co_handle h = {0};
    cr_expect_eq(co_call_soon(NULL, &h, log_cb, NULL), CO_EBADARG);
    cr_expect_eq(co_call_soon(loop, &h, NULL, NULL), CO_EBADARG);
    cr_expect_eq(co_call_later(NULL, &h, 1, log_cb, NULL), CO_EBADARG);
    cr_expect_eq(co_task_add_done_callback(NULL, &h, log_cb, NULL), CO_EBADARG);
    cr_expect_eq(co_future_add_done_callback(NULL, &h, log_cb, NULL), CO_EBADARG);
    co_handle_cancel(NULL);
    co_handle_cancel(&h); /* never armed: nothing to do */
    cr_expect_not(co_handle_cancelled(&h));
    rt_free_loop(loop);
}

/* ------------------------------------------------ call_later, call_at */

typedef struct {
    co_gen gen;
    co_handle h[5];
    int64_t when_later, when_at;
} later_main;

static void cancel_other(void *arg)
{
    co_handle *other = arg;
    rt_log("canceller at %lld", (long long)rt_ms(co_running_loop()));
    co_handle_cancel(other);
}

static int later_main_fn(co_gen *g)
{
    later_main *self = (later_main *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    CO_SLEEP(self, 2); /* now 2 ms */
    cr_assert_eq(co_call_later(loop, &self->h[0], 10, log_cb, "later 10"), 0);
    cr_assert_eq(co_call_at(loop, &self->h[1], co_now(loop) + 5 * MS, log_cb, "at +5"), 0);
    cr_assert_eq(co_call_later(loop, &self->h[2], 3, log_cb, "cancelled early"), 0);
    /* due at the same time, in arming order: the first cancels the second
       although the second is due in the very same turn */
    cr_assert_eq(co_call_later(loop, &self->h[3], 7, cancel_other, &self->h[4]), 0);
    cr_assert_eq(co_call_later(loop, &self->h[4], 7, log_cb, "cancelled when due"), 0);
    cr_assert_eq(co_call_later(loop, NULL, -5, log_cb, "negative delay"), 0);
    self->when_later = co_handle_when(&self->h[0]);
    self->when_at = co_handle_when(&self->h[1]);
    co_handle_cancel(&self->h[2]);
    CO_SLEEP(self, 20);
    rt_log("main done at %lld", (long long)rt_ms(loop));
    CO_END(self);
}

Test(callback, call_later_and_call_at_with_cancellable_handles)
{
    co_loop *loop = rt_loop();
    later_main *m = CO_NEW(loop, later_main, later_main_fn);
    int64_t t0 = co_now(loop);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, TWIN_CALL_LATER_HANDLES);
    cr_expect_eq(m->when_later - t0, 12 * MS);
    cr_expect_eq(m->when_at - t0, 7 * MS);
    cr_expect(co_handle_cancelled(&m->h[2]));
    cr_expect(co_handle_cancelled(&m->h[4]));
    cr_expect_not(co_handle_cancelled(&m->h[0]));
    rt_free_loop(loop);
}

/* A callback due in the same turn as another already in the ready queue,
 * cancelled by it: the round it was counted in still ends in its place. */
typedef struct {
    co_gen gen;
    co_handle h[3];
} soon_cancel_main;

static int soon_cancel_fn(co_gen *g)
{
    soon_cancel_main *self = (soon_cancel_main *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    cr_assert_eq(co_call_soon(loop, &self->h[0], cancel_other, &self->h[1]), 0);
    cr_assert_eq(co_call_soon(loop, &self->h[1], log_cb, "cancelled in its round"), 0);
    cr_assert_eq(co_call_soon(loop, &self->h[2], log_cb, "kept"), 0);
    rt_log("main yields");
    CO_SLEEP(self, 0);
    rt_log("main back");
    CO_END(self);
}

Test(callback, a_call_soon_cancelled_in_the_round_it_was_due)
{
    co_loop *loop = rt_loop();
    soon_cancel_main *m = CO_NEW(loop, soon_cancel_main, soon_cancel_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, TWIN_SOON_CANCELLED_IN_ROUND);
    rt_free_loop(loop);
}

/* Due at the same time as two sleepers, one armed before it and one after:
 * asyncio runs a due timer callback in the iteration it is due, and the
 * sleepers a round later (their futures wake them), so the callback comes
 * first and what it schedules lands between the sleepers, in arming order. */
typedef struct {
    co_gen gen;
    int after, spins, i;
} timed;

static int timed_fn(co_gen *g)
{
    timed *self = (timed *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->after);
    if (self->spins == 0)
        rt_log("sleeper wakes at %lld", (long long)rt_ms(co_running_loop()));
    for (self->i = 0; self->i < self->spins; self->i++) {
        rt_log("spin %d at %lld", self->i, (long long)rt_ms(co_running_loop()));
        CO_SLEEP(self, 0);
    }
    CO_END(self);
}

static void cb_then_soon(void *arg)
{
    (void)arg;
    rt_log("cb at %lld", (long long)rt_ms(co_running_loop()));
    cr_assert_eq(co_call_soon(co_running_loop(), NULL, log_cb, "soon from cb"), 0);
}

typedef struct {
    co_gen gen;
    timed *s, *p;
    co_handle h;
} timed_main;

static int timed_main_fn(co_gen *g)
{
    timed_main *self = (timed_main *)g;
    CO_BEGIN(self);
    rt_spawn(&self->s->gen);
    CO_SLEEP(self, 0); /* the sleeper's timer is armed first */
    cr_assert_eq(co_call_later(co_running_loop(), &self->h, 10, cb_then_soon, NULL), 0);
    rt_spawn(&self->p->gen);
    CO_SLEEP(self, 0); /* and the spinner's last */
    CO_AWAIT_TASK(self, &self->s->gen);
    CO_AWAIT_TASK(self, &self->p->gen);
    CO_END(self);
}

Test(callback, a_due_timer_callback_runs_before_the_sleepers_due_with_it)
{
    co_loop *loop = rt_loop();
    timed_main *m = CO_NEW(loop, timed_main, timed_main_fn);
    m->s = CO_NEW(loop, timed, timed_fn);
    m->p = CO_NEW(loop, timed, timed_fn);
    m->s->after = m->p->after = 10;
    m->p->spins = 2;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, TWIN_TIMER_CALLBACKS_AND_SLEEPERS);
    rt_free_loop(loop);
}

/* ------------------------------------------------ task done callbacks */

typedef struct {
    co_gen gen;
    stepper *child;
    co_handle h[3];
    size_t removed;
} task_cb_main;

typedef struct {
    co_gen gen;
    co_gen *task;
    const char *name;
} joiner;

static int joiner_fn(co_gen *g)
{
    joiner *self = (joiner *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK(self, self->task);
    rt_log("%s joined", self->name);
    CO_END(self);
}

static int task_cb_fn(co_gen *g)
{
    task_cb_main *self = (task_cb_main *)g;
    CO_BEGIN(self);
    /* the child is not spawned yet: adding a callback schedules it */
    cr_assert_eq(co_task_add_done_callback(&self->child->gen, &self->h[0], log_cb, "cb1"), 0);
    rt_log("added cb1");
    CO_SLEEP(self, 0);
    cr_assert_eq(co_task_add_done_callback(&self->child->gen, NULL, log_cb, "removed"), 0);
    cr_assert_eq(co_task_add_done_callback(&self->child->gen, &self->h[1], log_cb, "cb2"), 0);
    self->removed = co_task_remove_done_callback(&self->child->gen, log_cb, "removed");
    CO_AWAIT_TASK(self, &self->child->gen);
    rt_log("main joined");
    /* done already: through the loop, at the next round */
    cr_assert_eq(co_task_add_done_callback(&self->child->gen, &self->h[2], log_cb, "late"), 0);
    rt_log("added late");
    CO_SLEEP(self, 0);
    CO_END(self);
}

Test(callback, task_done_callbacks_in_registration_order_with_its_awaiters)
{
    co_loop *loop = rt_loop();
    task_cb_main *m = CO_NEW(loop, task_cb_main, task_cb_fn);
    joiner *j = CO_NEW(loop, joiner, joiner_fn);
    m->child = CO_NEW(loop, stepper, stepper_fn);
    m->child->name = "child";
    m->child->steps = 2;
    j->task = &m->child->gen;
    j->name = "j";
    rt_spawn(&j->gen); /* awaits the child before cb1 is added */
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->removed, 1);
    cr_expect_str_eq(rt.log, "added cb1\nchild step 0\nchild step 1\nj joined\ncb1 at 0\ncb2 at 0\n"
                             "main joined\nadded late\nlate at 0\n");
    rt_free_loop(loop);
}
