/*
 * future.c -- asyncio.Future: the states and what each call returns in
 * them, awaiters woken first come first served with the result or the
 * error, cancellation both ways (the future cancelled under its awaiters; an
 * awaiter cancelled, which cancels the future as Task.cancel() does, unless
 * the future was done already), done callbacks in registration order among
 * the awaiters, and a future resolved from another thread.
 */
#include "testloop.h"
#include "twins.h" /* the traces CPython prints */

#ifndef RT_BARE
#include <corio/corio.h> /* co_call_soon_threadsafe */

#include <pthread.h>
#endif

TestSuite(future, .init = rt_reset);

/* ------------------------------------------------ states */

Test(future, result_and_state_calls_as_asyncio)
{
    co_loop *loop = rt_loop();
    co_future f;
    int v = 7;
    void *out = NULL;
    co_future_init(&f, loop);
    cr_expect_not(co_future_done(&f));
    cr_expect_eq(co_future_result(&f, &out), CO_ENOTDONE, "InvalidStateError before done");
    cr_expect_eq(co_future_set_exception(&f, 0), CO_EBADARG, "an exception is an error code");
    cr_assert_eq(co_future_set_result(&f, &v), 0);
    cr_expect(co_future_done(&f));
    cr_expect_not(co_future_cancelled(&f));
    cr_expect_eq(co_future_result(&f, &out), 0);
    cr_expect_eq(out, &v);
    cr_expect_eq(co_future_set_result(&f, NULL), CO_EINVALSTATE);
    cr_expect_eq(co_future_set_exception(&f, CO_EOF), CO_EINVALSTATE);
    cr_expect_not(co_future_cancel(&f), "cancel() of a done future is False");
    cr_expect_eq(co_future_result(&f, &out), 0, "and leaves its result");

    co_future_init(&f, loop);
    cr_assert_eq(co_future_set_exception(&f, CO_EOF), 0);
    cr_expect_eq(co_future_result(&f, NULL), CO_EOF);

    co_future_init(&f, loop);
    cr_expect(co_future_cancel(&f));
    cr_expect(co_future_cancelled(&f));
    cr_expect(co_future_done(&f));
    cr_expect_eq(co_future_result(&f, NULL), CO_ECANCELLED);
    cr_expect_not(co_future_cancel(&f));
    cr_expect_eq(co_future_set_result(&f, NULL), CO_EINVALSTATE);
    cr_expect_str_eq(co_strerror(CO_EINVALSTATE), "invalid state: the future is already done");
    rt_free_loop(loop);
}

/* ------------------------------------------------ awaiters */

typedef struct {
    co_gen gen;
    co_future *f;
    int id;
    void *got;
    int err;
} fut_waiter;

static int fut_waiter_fn(co_gen *g)
{
    fut_waiter *self = (fut_waiter *)g;
    CO_BEGIN(self);
    CO_AWAIT_FUTURE(self, self->f, &self->got);
    rt_log("w%d got %d at %lld", self->id, *(int *)self->got,
           (long long)rt_ms(co_running_loop()));
    CO_FINALLY(self)
    {
        self->err = CO_THROWN(self);
        if (self->err)
            rt_log("w%d: %s", self->id, co_strerror(self->err));
    }
    CO_END(self);
}

enum { NW = 3 };

/* Main: starts NW awaiters, lets them wait, then does `action` at 5 ms. */
enum { ACT_RESULT, ACT_EXCEPTION, ACT_CANCEL_FUTURE, ACT_CANCEL_WAITER, ACT_RESULT_THEN_CANCEL };

typedef struct {
    co_gen gen;
    co_future f;
    fut_waiter *w[NW];
    int action, value, i;
} fut_main;

static int fut_main_fn(co_gen *g)
{
    fut_main *self = (fut_main *)g;
    CO_BEGIN(self);
    co_future_init(&self->f, co_running_loop());
    for (self->i = 0; self->i < NW; self->i++) {
        self->w[self->i]->f = &self->f;
        self->w[self->i]->id = self->i;
        rt_spawn(&self->w[self->i]->gen);
    }
    CO_SLEEP(self, 5);
    self->value = 42;
    switch (self->action) {
    case ACT_RESULT: cr_assert_eq(co_future_set_result(&self->f, &self->value), 0); break;
    case ACT_EXCEPTION: cr_assert_eq(co_future_set_exception(&self->f, CO_EOF), 0); break;
    case ACT_CANCEL_FUTURE: cr_assert(co_future_cancel(&self->f)); break;
    case ACT_CANCEL_WAITER: cr_assert_eq(co_cancel(&self->w[1]->gen), 1); break;
    case ACT_RESULT_THEN_CANCEL:
        cr_assert_eq(co_future_set_result(&self->f, &self->value), 0);
        cr_assert_eq(co_cancel(&self->w[1]->gen), 1); /* woken, not run yet */
        break;
    }
    rt_log("main acted");
    for (self->i = 0; self->i < NW; self->i++)
        CO_AWAIT_TASK_CATCH(self, &self->w[self->i]->gen);
    CO_END(self);
}

static fut_main *run_fut(co_loop *loop, int action)
{
    fut_main *m = CO_NEW(loop, fut_main, fut_main_fn);
    m->action = action;
    for (int i = 0; i < NW; i++)
        m->w[i] = CO_NEW(loop, fut_waiter, fut_waiter_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    return m;
}

Test(future, every_awaiter_gets_the_result_first_come_first_served)
{
    co_loop *loop = rt_loop();
    fut_main *m = run_fut(loop, ACT_RESULT);
    cr_expect_str_eq(rt.log, TWIN_FUTURE_RESULT);
    for (int i = 0; i < NW; i++)
        cr_expect_eq(co_task_result(&m->w[i]->gen), 0);
    rt_free_loop(loop);
}

Test(future, an_exception_is_raised_in_every_awaiter)
{
    co_loop *loop = rt_loop();
    fut_main *m = run_fut(loop, ACT_EXCEPTION);
    cr_expect_str_eq(rt.log, TWIN_FUTURE_EXCEPTION);
    for (int i = 0; i < NW; i++)
        cr_expect_eq(co_task_result(&m->w[i]->gen), CO_EOF);
    rt_free_loop(loop);
}

Test(future, cancelling_the_future_cancels_its_awaiters_awaits)
{
    co_loop *loop = rt_loop();
    fut_main *m = run_fut(loop, ACT_CANCEL_FUTURE);
    cr_expect_str_eq(rt.log, TWIN_FUTURE_CANCEL_FUTURE);
    for (int i = 0; i < NW; i++) {
        cr_expect_eq(co_task_result(&m->w[i]->gen), CO_ECANCELLED);
        cr_expect_eq(co_cancelling(&m->w[i]->gen), 0, "nobody called task.cancel()");
    }
    rt_free_loop(loop);
}

/* asyncio: task.cancel() of a task awaiting a future cancels the future, so
 * every other awaiter gets CancelledError too. */
Test(future, cancelling_an_awaiter_cancels_the_future_as_asyncio_does)
{
    co_loop *loop = rt_loop();
    fut_main *m = run_fut(loop, ACT_CANCEL_WAITER);
    cr_expect(co_future_cancelled(&m->f));
    cr_expect_str_eq(rt.log, TWIN_FUTURE_CANCEL_WAITER);
    cr_expect_eq(co_cancelling(&m->w[1]->gen), 1);
    cr_expect_eq(co_cancelling(&m->w[0]->gen), 0);
    rt_free_loop(loop);
}

/* Once the future is done, cancelling a woken awaiter cancels only it. */
Test(future, an_awaiter_cancelled_after_the_result_leaves_the_future_alone)
{
    co_loop *loop = rt_loop();
    fut_main *m = run_fut(loop, ACT_RESULT_THEN_CANCEL);
    void *out = NULL;
    cr_expect_not(co_future_cancelled(&m->f));
    cr_expect_eq(co_future_result(&m->f, &out), 0);
    cr_expect_eq(out, &m->value);
    cr_expect_str_eq(rt.log, TWIN_FUTURE_RESULT_THEN_CANCEL);
    cr_expect_eq(co_task_result(&m->w[1]->gen), CO_ECANCELLED);
    rt_free_loop(loop);
}

/* The _CATCH form catches the future's error; a future done already is
 * not waited for. */
typedef struct {
    co_gen gen;
    co_future f;
    void *got;
    int caught;
} catch_main;

static int catch_main_fn(co_gen *g)
{
    catch_main *self = (catch_main *)g;
    CO_BEGIN(self);
    co_future_init(&self->f, co_running_loop());
    co_future_set_exception(&self->f, CO_ETIMEOUT);
    CO_AWAIT_FUTURE_CATCH(self, &self->f, &self->got);
    self->caught = CO_THROWN(self);
    co_future_init(&self->f, co_running_loop());
    co_future_set_result(&self->f, self);
    CO_AWAIT_FUTURE(self, &self->f, &self->got);
    CO_END(self);
}

Test(future, the_catch_form_and_a_future_already_done)
{
    co_loop *loop = rt_loop();
    catch_main *m = CO_NEW(loop, catch_main, catch_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->caught, CO_ETIMEOUT);
    cr_expect_eq(m->got, m);
    cr_expect_eq(rt_ms(loop), 0, "nothing waited");
    rt_free_loop(loop);
}

Test(future, awaiting_outside_a_task_is_an_error)
{
    co_loop *loop = rt_loop();
    co_future f;
    co_future_init(&f, loop);
    cr_expect_eq(co__future_wait(&f, NULL), CO_ENOTASK);
    cr_expect_eq(co__future_wait(NULL, NULL), CO_EBADARG);
    co_future_init(&f, NULL);
    cr_expect_eq(co_future_set_result(&f, NULL), CO_EBADARG, "a future needs its loop");
    cr_expect_eq(co_future_result(NULL, NULL), CO_EBADARG);
    rt_free_loop(loop);
}

/* ------------------------------------------------ done callbacks */

typedef struct {
    co_gen gen;
    co_future f;
    co_handle h[3];
    fut_waiter *w;
    int v;
    size_t removed;
} cb_main;

static void log_cb(void *arg)
{
    rt_log("cb %s, current task %s", (const char *)arg, co_current_task() ? "set" : "none");
}

static int cb_main_fn(co_gen *g)
{
    cb_main *self = (cb_main *)g;
    CO_BEGIN(self);
    co_future_init(&self->f, co_running_loop());
    cr_assert_eq(co_future_add_done_callback(&self->f, &self->h[0], log_cb, "1"), 0);
    self->w->f = &self->f;
    rt_spawn(&self->w->gen);
    CO_SLEEP(self, 0); /* the awaiter now waits, after cb 1 */
    cr_assert_eq(co_future_add_done_callback(&self->f, &self->h[1], log_cb, "2"), 0);
    cr_assert_eq(co_future_add_done_callback(&self->f, NULL, log_cb, "3"), 0);
    cr_assert_eq(co_future_add_done_callback(&self->f, NULL, log_cb, "gone"), 0);
    cr_assert_eq(co_future_add_done_callback(&self->f, &self->h[2], log_cb, "gone"), 0);
    self->removed = co_future_remove_done_callback(&self->f, log_cb, "gone");
    self->v = 5;
    co_future_set_result(&self->f, &self->v);
    rt_log("set");
    CO_SLEEP(self, 0);
    /* done already: the callback still goes through the loop */
    cr_assert_eq(co_future_add_done_callback(&self->f, NULL, log_cb, "late"), 0);
    rt_log("added late");
    CO_SLEEP(self, 0);
    CO_END(self);
}

Test(future, done_callbacks_run_through_the_loop_in_order_with_the_awaiters)
{
    co_loop *loop = rt_loop();
    cb_main *m = CO_NEW(loop, cb_main, cb_main_fn);
    m->w = CO_NEW(loop, fut_waiter, fut_waiter_fn);
    m->w->id = 9;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->removed, 2, "remove_done_callback counts every match");
    cr_expect(co_handle_cancelled(&m->h[2]) == false, "removed, not cancelled");
    cr_expect_str_eq(rt.log, TWIN_FUTURE_DONE_CALLBACKS);
    rt_free_loop(loop);
}

/* A callback cancelled through its handle before the future is done. */
static int cancel_cb_fn(co_gen *g)
{
    cb_main *self = (cb_main *)g;
    CO_BEGIN(self);
    co_future_init(&self->f, co_running_loop());
    cr_assert_eq(co_future_add_done_callback(&self->f, &self->h[0], log_cb, "a"), 0);
    cr_assert_eq(co_future_add_done_callback(&self->f, &self->h[1], log_cb, "b"), 0);
    cr_assert_eq(co_future_add_done_callback(&self->f, &self->h[1], log_cb, "b"), CO_EBUSY);
    co_handle_cancel(&self->h[0]);
    co_future_cancel(&self->f);
    CO_SLEEP(self, 0);
    CO_END(self);
}

Test(future, a_cancelled_done_callback_never_runs)
{
    co_loop *loop = rt_loop();
    cb_main *m = CO_NEW(loop, cb_main, cancel_cb_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect(co_handle_cancelled(&m->h[0]));
    cr_expect_str_eq(rt.log, "cb b, current task none\n");
    rt_free_loop(loop);
}

#ifndef RT_BARE
/* ------------------------------------------------ another thread */

typedef struct {
    co_gen gen;
    co_future f;
    co_call call;
    pthread_t thread;
    co_loop *loop;
    int value;
    void *got;
} thread_main;

static void set_from_loop(void *arg)
{
    thread_main *m = arg;
    m->value = 99;
    cr_assert_eq(co_future_set_result(&m->f, &m->value), 0);
}

static void *resolver(void *arg)
{
    thread_main *m = arg;
    cr_assert_eq(co_call_soon_threadsafe(m->loop, &m->call, set_from_loop, m), 0);
    return NULL;
}

static int thread_main_fn(co_gen *g)
{
    thread_main *self = (thread_main *)g;
    CO_BEGIN(self);
    self->loop = co_running_loop();
    co_future_init(&self->f, self->loop);
    cr_assert_eq(pthread_create(&self->thread, NULL, resolver, self), 0);
    CO_AWAIT_FUTURE(self, &self->f, &self->got);
    pthread_join(self->thread, NULL);
    CO_END(self);
}

Test(future, resolved_from_another_thread_through_the_threadsafe_call)
{
    co_loop *loop = rt_loop();
    thread_main *m = CO_NEW(loop, thread_main, thread_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->got, &m->value);
    cr_expect_eq(m->value, 99);
    rt_free_loop(loop);
}
#endif
