/*
 * oneform.c -- coroutines in one declaration (CO_ASYNC), tasks made with
 * their arguments in one expression (CO_TASK, CO_CREATE_TASK) and gathers
 * over tasks made inline (CO_GATHER_OF): fields arrive as designated, the
 * results come back in argument order in both error modes, and running out
 * of memory is an error raised where the task is made, never a crash.
 */
#include "testloop.h"

#include <errno.h>
#include <string.h>

TestSuite(oneform, .init = rt_reset);

/* async def factorial(name, number): the lecture's gather example */
CO_ASYNC(factorial, const char *name; int number; int i; long result;)
    self->result = 1;
    for (self->i = 2; self->i <= self->number; self->i++) {
        rt_log("Task %s: Compute factorial(%d), currently i=%d...", self->name, self->number,
               self->i);
        CO_SLEEP(self, 1000);
        self->result *= self->i;
    }
    rt_log("Task %s: factorial(%d) = %ld", self->name, self->number, self->result);
CO_ASYNC_END

/* A coroutine with no fields, and one that fails after ms. */
CO_ASYNC(nothing, )
CO_ASYNC_END

CO_ASYNC(fail_after, int ms; int error;)
    CO_SLEEP(self, self->ms);
    CO_RAISE(self, self->error);
CO_ASYNC_END

Test(oneform, co_task_sets_the_fields_and_keeps_the_header)
{
    co_loop *loop = rt_loop();
    factorial *f = CO_TASK(loop, factorial, .name = "A", .number = 3);
    nothing *n = CO_TASK(loop, nothing, );
    cr_assert(f && n);
    cr_expect_str_eq(f->name, "A");
    cr_expect_eq(f->number, 3);
    cr_expect_eq(f->result, 0, "fields not named are zero");
    rt_spawn(&n->gen);
    cr_expect_eq(co_run(loop, &f->gen), 0);
    cr_expect_eq(f->result, 6);
    cr_expect_eq(rt_ms(loop), 2000);
    cr_expect(co_done(&n->gen));
    rt_free_loop(loop);
}

/* asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4)) */
CO_ASYNC(gather_main, co_gather g; long results[3];)
    CO_GATHER_OF(self, &self->g, CO_GATHER_FIRST_ERROR,
                 CO_CALL(factorial, .name = "A", .number = 2),
                 CO_CALL(factorial, .name = "B", .number = 3),
                 CO_CALL(factorial, .name = "C", .number = 4));
    for (int i = 0; i < 3; i++)
        self->results[i] = CO_GATHER_RESULT(&self->g, i, factorial)->result;
    cr_expect_eq(co_gather_release(&self->g), 0);
    cr_expect_null(co_gather_task(&self->g, 0), "released: the gather holds no task");
CO_ASYNC_END

Test(oneform, a_gather_of_inline_tasks_returns_their_results_in_order)
{
    co_loop *loop = rt_loop();
    gather_main *m = CO_TASK(loop, gather_main, );
    cr_assert_not_null(m);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->results[0], 2);
    cr_expect_eq(m->results[1], 6);
    cr_expect_eq(m->results[2], 24);
    cr_expect_eq(rt_ms(loop), 3000, "they ran at the same time");
    cr_expect_str_eq(rt.log, "Task A: Compute factorial(2), currently i=2...\n"
                             "Task B: Compute factorial(3), currently i=2...\n"
                             "Task C: Compute factorial(4), currently i=2...\n"
                             "Task A: factorial(2) = 2\n"
                             "Task B: Compute factorial(3), currently i=3...\n"
                             "Task C: Compute factorial(4), currently i=3...\n"
                             "Task B: factorial(3) = 6\n"
                             "Task C: Compute factorial(4), currently i=4...\n"
                             "Task C: factorial(4) = 24\n");
    rt_free_loop(loop);
}

/* Both error modes: the first error raised at once, or every outcome read. */
CO_ASYNC(modes_main, co_gather g; int mode; int caught; int64_t at; int errs[3];)
    CO_GATHER_OF_CATCH(self, &self->g, self->mode,
                       CO_CALL(fail_after, .ms = 30, .error = -5),
                       CO_CALL(fail_after, .ms = 10, .error = -7),
                       CO_CALL(nothing, ));
    self->caught = CO_THROWN(self);
    self->at = rt_ms(co_running_loop());
    CO_SLEEP(self, 100); /* the others finish (FIRST_ERROR leaves them running) */
    for (int i = 0; i < 3; i++)
        self->errs[i] = co_task_result(co_gather_task(&self->g, (size_t)i));
    cr_expect_eq(co_gather_release(&self->g), 0);
CO_ASYNC_END

Test(oneform, first_error_raises_the_earliest_failure_at_once)
{
    co_loop *loop = rt_loop();
    modes_main *m = CO_TASK(loop, modes_main, .mode = CO_GATHER_FIRST_ERROR);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->caught, -7, "the first in time, not in order");
    cr_expect_eq(m->at, 10);
    cr_expect_eq(m->errs[0], -5);
    cr_expect_eq(m->errs[1], -7);
    cr_expect_eq(m->errs[2], 0);
    rt_free_loop(loop);
}

Test(oneform, gather_all_waits_for_every_task_and_raises_nothing)
{
    co_loop *loop = rt_loop();
    modes_main *m = CO_TASK(loop, modes_main, .mode = CO_GATHER_ALL);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->caught, 0);
    cr_expect_eq(m->at, 30);
    cr_expect_eq(m->errs[0], -5);
    cr_expect_eq(m->errs[1], -7);
    rt_free_loop(loop);
}

/* A frame past the pool's largest block: each one is an allocation, so the
 * allocator's failures reach it (a pooled frame may come from a free block). */
CO_ASYNC(big, int n; char pad[4096];)
    CO_SLEEP(self, self->n);
    self->n *= 2;
CO_ASYNC_END

/* create_task with arguments: started at once, out of memory raised. */
CO_ASYNC(creator, big *t; int oom;)
    if (self->oom)
        rt.failing = true;
    CO_CREATE_TASK(self, self->t, big, .n = 2);
    CO_AWAIT_TASK(self, &self->t->gen);
CO_ASYNC_END

Test(oneform, create_task_starts_it_and_raises_out_of_memory)
{
    co_loop *loop = rt_loop();
    creator *c = CO_TASK(loop, creator, );
    cr_expect_eq(co_run(loop, &c->gen), 0);
    cr_assert_not_null(c->t);
    cr_expect_eq(c->t->n, 4);
    cr_expect_eq(rt_ms(loop), 2, "it ran");
    rt_free_loop(loop);

    rt_reset();
    loop = rt_loop();
    c = CO_TASK(loop, creator, .oom = 1);
    cr_assert_not_null(c);
    cr_expect_eq(co_run(loop, &c->gen), CO_ENOMEM);
    cr_expect_null(c->t, "nothing stored on failure");
    rt.failing = false;
    rt_free_loop(loop);
}

/* A gather whose second task found no memory: CO_ENOMEM, the first is let
 * go (every byte back when the loop is freed, checked by rt_free_loop). */
CO_ASYNC(oom_gather, co_gather g;)
    CO_GATHER_OF(self, &self->g, CO_GATHER_ALL, CO_CALL(big, .n = 1),
                 (rt.failing = true, CO_CALL(big, .n = 1)));
CO_ASYNC_END

Test(oneform, a_task_without_memory_fails_the_gather_cleanly)
{
    co_loop *loop = rt_loop();
    oom_gather *m = CO_TASK(loop, oom_gather, );
    cr_expect_eq(co_run(loop, &m->gen), CO_ENOMEM);
    rt.failing = false;
    rt_free_loop(loop);
}

Test(oneform, a_running_gather_cannot_be_released)
{
    co_gather g;
    memset(&g, 0, sizeof g);
    g.owner = (co_task *)&g; /* any owner: it runs */
    cr_expect_eq(co_gather_release(&g), CO_EBUSY);
    g.owner = NULL;
    cr_expect_eq(co_gather_release(&g), 0, "nothing owned: nothing to do");
    cr_expect_eq(co_gather_release(NULL), CO_EBADARG);
}

/* CO_CHECK raises a call's negative result and lets any other pass. */
static int result_of(int v) { return v; }

CO_ASYNC(checker, int passed;)
    CO_CHECK(self, result_of(3));
    CO_CHECK(self, result_of(0));
    self->passed = 1;
    CO_CHECK(self, result_of(-EIO));
    self->passed = 2;
CO_ASYNC_END

Test(oneform, co_check_raises_a_negative_result_only)
{
    co_loop *loop = rt_loop();
    checker *c = CO_TASK(loop, checker, );
    cr_assert_not_null(c);
    cr_expect_eq(co_run(loop, &c->gen), -EIO);
    cr_expect_eq(c->passed, 1, "3 and 0 passed; -EIO stopped the body");
    rt_free_loop(loop);
}
