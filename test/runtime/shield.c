/*
 * shield.c -- asyncio.shield (CO_SHIELD): the awaiter's cancellation is
 * raised at once while the task runs on to its end; in time the task's value
 * and error come through; a task whose shield was cancelled and whose error
 * nobody reads is reported to the exception handler when it is freed (read,
 * it is not); a shielding awaiter cancelled in the turn it was woken.
 */
#include "testloop.h"

#include <corio/wait.h>

#include <errno.h>

TestSuite(shield, .init = rt_reset);

CO_ASYNC(inner, int ms; int error; int done_at;)
    CO_SLEEP(self, self->ms);
    self->done_at = (int)rt_ms(co_running_loop());
    if (self->error)
        CO_RAISE(self, self->error);
CO_ASYNC_END

/* await shield(task); reads its result if `read` */
CO_ASYNC(outer, inner *task; int err; int at;)
    CO_SHIELD_CATCH(self, &self->task->gen);
    self->err = CO_THROWN(self);
    self->at = (int)rt_ms(co_running_loop());
CO_ASYNC_END

CO_ASYNC(cancel_at, co_gen *victim; int ms;)
    CO_SLEEP(self, self->ms);
    co_cancel(self->victim);
CO_ASYNC_END

/* Keeps the loop going until the inner task is done. */
CO_ASYNC(main_until, co_gen *outer; inner *task; int ms;)
    rt_spawn(self->outer);
    CO_SLEEP(self, self->ms);
CO_ASYNC_END

typedef struct {
    int calls, code;
} seen;

static void handler(co_loop *loop, const co_exception *e, void *arg)
{
    seen *s = arg;
    (void)loop;
    s->calls++;
    s->code = e->code;
}

static void run_cancelled_shield(bool read, int error)
{
    co_loop *loop = rt_loop();
    seen s = {0};
    inner *t = CO_TASK(loop, inner, .ms = 50, .error = error);
    outer *o = CO_TASK(loop, outer, .task = t);
    cancel_at *c = CO_TASK(loop, cancel_at, .victim = &o->gen, .ms = 10);
    main_until *m = CO_TASK(loop, main_until, .outer = &o->gen, .task = t, .ms = 100);
    cr_assert(t && o && c && m);
    co_loop_set_exception_handler(loop, handler, &s);
    rt_spawn(&c->gen);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(o->err, CO_ECANCELLED);
    cr_expect_eq(o->at, 10, "the awaiter does not wait for the task");
    cr_expect_eq(t->done_at, 50, "the task ran to its end");
    cr_expect_eq(co_cancelling(&t->gen), 0, "and was never cancelled");
    if (read)
        cr_expect_eq(co_task_result(&t->gen), error);
    co_release(&t->gen);
    cr_expect_eq(s.calls, error && !read ? 1 : 0);
    if (s.calls)
        cr_expect_eq(s.code, error);
    rt_free_loop(loop);
}

Test(shield, the_task_survives_the_awaiters_cancellation)
{
    run_cancelled_shield(true, 0);
}

Test(shield, an_unread_error_of_a_shielded_task_is_reported)
{
    run_cancelled_shield(false, -EIO);
}

Test(shield, a_read_error_is_not_reported)
{
    run_cancelled_shield(true, -EIO);
}

Test(shield, in_time_the_tasks_outcome_comes_through)
{
    co_loop *loop = rt_loop();
    seen s = {0};
    inner *t = CO_TASK(loop, inner, .ms = 20, .error = -EIO);
    outer *o = CO_TASK(loop, outer, .task = t);
    cr_assert(t && o);
    co_loop_set_exception_handler(loop, handler, &s);
    cr_expect_eq(co_run(loop, &o->gen), 0);
    cr_expect_eq(o->err, -EIO);
    cr_expect_eq(o->at, 20);
    co_release(&t->gen);
    cr_expect_eq(s.calls, 0, "the shield read it");
    rt_free_loop(loop);
}

/* The task ends at 10 and wakes the awaiter; a canceller armed after it
 * fires in the same turn: the awaiter ends cancelled, and the error it
 * never took is reported (asyncio: the outer future's unretrieved error). */
Test(shield, cancelled_in_the_turn_it_was_woken)
{
    co_loop *loop = rt_loop();
    seen s = {0};
    inner *t = CO_TASK(loop, inner, .ms = 10, .error = -EIO);
    outer *o = CO_TASK(loop, outer, .task = t);
    cancel_at *c;
    cr_assert(t && o);
    rt_spawn(&t->gen);
    c = CO_TASK(loop, cancel_at, .victim = &o->gen, .ms = 10);
    cr_assert_not_null(c);
    rt_spawn(&c->gen);
    co_loop_set_exception_handler(loop, handler, &s);
    cr_expect_eq(co_run(loop, &o->gen), 0);
    cr_expect_eq(o->err, CO_ECANCELLED);
    cr_expect_eq(o->at, 10);
    co_release(&t->gen);
    cr_expect_eq(s.calls, 1);
    rt_free_loop(loop);
}

/* Misuse: a task shielding itself, and a task already done. */
CO_ASYNC(self_shield, inner *done; int errs[2];)
    CO_SHIELD_CATCH(self, &self->gen);
    self->errs[0] = CO_THROWN(self);
    CO_SHIELD_CATCH(self, &self->done->gen);
    self->errs[1] = CO_THROWN(self);
CO_ASYNC_END

Test(shield, itself_is_refused_and_a_done_task_gives_its_outcome)
{
    co_loop *loop = rt_loop();
    inner *t = CO_TASK(loop, inner, .ms = 0, .error = -EPIPE);
    self_shield *s = CO_TASK(loop, self_shield, .done = t);
    cr_assert(t && s);
    rt_spawn(&t->gen);
    cr_expect_eq(co_run(loop, &s->gen), 0);
    cr_expect_eq(s->errs[0], CO_ESELF);
    cr_expect_eq(s->errs[1], -EPIPE);
    rt_free_loop(loop);
}
