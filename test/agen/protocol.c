/*
 * protocol.c -- async generators' protocol, edge by edge, as CPython 3.11
 * has it: values and sends, throws caught and not, aclose with a cleanup
 * that awaits, an ignored GeneratorExit, a finished generator staying
 * finished, awaits on one not started, "already running", and each await
 * argument evaluated once.  All on the fake clock of testloop.h.
 */
#include "testloop.h"

#include <corio/agen.h>

TestSuite(agen, .init = rt_reset);

#define E_VALUE (-7001) /* a user's error, as ValueError */

/* async def counter(n, ms): yields 0..n-1, sleeping ms before each; its
 * finally logs and awaits too. */
CO_ASYNC_GEN(counter, int, int n; int ms; int i; int evals;)
    for (self->i = 0; self->i < self->n; self->i++) {
        CO_SLEEP(self, self->ms);
        CO_YIELD(self, self->i);
    }
    CO_FINALLY(self) {
        rt_log("counter cleanup %d", CO_THROWN(self));
        CO_SLEEP(self, 5);
        rt_log("counter cleaned");
    }
CO_ASYNC_END

CO_ASYNC(for_main, counter c; int v; int sum;)
    CO_AGEN(self, c, counter, .n = 4, .ms = 10);
    CO_ASYNC_FOR(self, &self->c, &self->v) {
        rt_log("got %d at %lld", self->v, (long long)rt_ms(co_running_loop()));
        self->sum += self->v;
    } CO_ASYNC_FOR_END;
    rt_log("done");
CO_ASYNC_END

Test(agen, async_for_gets_every_value_with_the_awaits_between)
{
    co_loop *loop = rt_loop();
    for_main *m = CO_NEW(loop, for_main, for_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->sum, 6);
    cr_expect_str_eq(rt.log, "got 0 at 10\ngot 1 at 20\ngot 2 at 30\ngot 3 at 40\n"
                             "counter cleanup 0\ncounter cleaned\ndone\n");
    cr_expect_eq(rt_ms(loop), 45);
    cr_expect_eq(co_state(&m->c.gen), CO_CLOSED);
    rt_free_loop(loop);
}

/* async def echo(): x = yield 1; then yields 2x for each x sent; a thrown
 * E_VALUE is caught and yields -1. */
CO_ASYNC_GEN(echo, int, int x;)
    CO_YIELD(self, 1);
    for (;;) {
        self->x = CO_SENT(self) ? self->in : 0;
        CO_YIELD_CATCH(self, 2 * self->x);
        if (CO_THROWN(self) == E_VALUE)
            CO_YIELD(self, -1);
        else if (CO_THROWN(self))
            CO_RAISE(self, CO_THROWN(self));
    }
CO_ASYNC_END

CO_ASYNC(send_main, echo e; int v; int s; int rc[8];)
    CO_AGEN(self, e, echo, );
    self->s = 5;
    CO_ASEND_CATCH(self, &self->e, &self->s, &self->v); /* just started */
    self->rc[0] = CO_THROWN(self);
    CO_ANEXT(self, &self->e, &self->v);
    self->rc[1] = self->v;
    CO_ASEND(self, &self->e, &self->s, &self->v);
    self->rc[2] = self->v;
    CO_ANEXT(self, &self->e, &self->v); /* a None sent: x = 0 */
    self->rc[3] = self->v;
    CO_ATHROW(self, &self->e, E_VALUE, &self->v);
    self->rc[4] = self->v;
    CO_ATHROW_CATCH(self, &self->e, -7002, &self->v); /* not caught inside */
    self->rc[5] = CO_THROWN(self);
    CO_ANEXT_CATCH(self, &self->e, &self->v);
    self->rc[6] = CO_THROWN(self);
    self->v = 99;
    CO_ATHROW(self, &self->e, E_VALUE, &self->v); /* finished: returns at once */
    CO_ACLOSE(self, &self->e);
    self->rc[7] = self->v;
CO_ASYNC_END

Test(agen, asend_and_athrow_as_cpython)
{
    co_loop *loop = rt_loop();
    send_main *m = CO_NEW(loop, send_main, send_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc[0], CO_ENOTSTARTED, "TypeError: can't send non-None value");
    cr_expect_eq(m->rc[1], 1, "and it is still usable");
    cr_expect_eq(m->rc[2], 10);
    cr_expect_eq(m->rc[3], 0);
    cr_expect_eq(m->rc[4], -1, "a throw it catches: the next value is athrow's result");
    cr_expect_eq(m->rc[5], -7002);
    cr_expect_eq(m->rc[6], CO_ESTOPASYNC, "a finished generator stays finished");
    cr_expect_eq(m->rc[7], 99, "athrow of a finished one is None and writes nothing");
    rt_free_loop(loop);
}

/* async def stubborn(): try: yield 1 finally: yield 2 (ignores GeneratorExit) */
CO_ASYNC_GEN(stubborn, int, )
    CO_YIELD(self, 1);
    CO_FINALLY(self) {
        CO_YIELD(self, 2);
    }
CO_ASYNC_END

CO_ASYNC(ignored_main, stubborn s; int v; int rc[4];)
    CO_AGEN(self, s, stubborn, );
    CO_ANEXT(self, &self->s, &self->v);
    CO_ACLOSE_CATCH(self, &self->s);
    self->rc[0] = CO_THROWN(self);
    CO_ACLOSE_CATCH(self, &self->s);
    self->rc[1] = CO_THROWN(self);
    CO_ATHROW_CATCH(self, &self->s, E_VALUE, &self->v);
    self->rc[2] = CO_THROWN(self);
    CO_ANEXT_CATCH(self, &self->s, &self->v); /* the finally goes on, GeneratorExit */
    self->rc[3] = CO_THROWN(self);
CO_ASYNC_END

Test(agen, an_ignored_generator_exit_is_an_error_and_then_stop_async_iteration)
{
    co_loop *loop = rt_loop();
    ignored_main *m = CO_NEW(loop, ignored_main, ignored_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc[0], CO_EIGNOREDCLOSE);
    cr_expect_eq(m->rc[1], CO_ESTOPASYNC);
    cr_expect_eq(m->rc[2], CO_ESTOPASYNC);
    cr_expect_eq(m->rc[3], CO_EXIT);
    cr_expect_eq(co_state(&m->s.gen), CO_CLOSED);
    rt_free_loop(loop);
}

CO_ASYNC(unstarted_main, counter a; counter b; int v; int rc[4];)
    CO_AGEN(self, a, counter, .n = 3, .ms = 1);
    CO_ATHROW_CATCH(self, &self->a, E_VALUE, &self->v);
    self->rc[0] = CO_THROWN(self);
    CO_ANEXT_CATCH(self, &self->a, &self->v);
    self->rc[1] = CO_THROWN(self);
    CO_AGEN(self, b, counter, .n = 3, .ms = 1);
    CO_ACLOSE(self, &self->b);
    CO_ANEXT_CATCH(self, &self->b, &self->v);
    self->rc[2] = CO_THROWN(self);
    CO_AGEN(self, a, counter, .n = 1, .ms = 1); /* a finished one may be replaced */
    CO_ANEXT(self, &self->a, &self->v);
    self->rc[3] = self->v;
CO_ASYNC_END

Test(agen, awaits_on_one_not_started_run_no_body)
{
    co_loop *loop = rt_loop();
    unstarted_main *m = CO_NEW(loop, unstarted_main, unstarted_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc[0], E_VALUE, "athrow into one not started raises it there");
    cr_expect_eq(m->rc[1], CO_ESTOPASYNC);
    cr_expect_eq(m->rc[2], CO_ESTOPASYNC);
    cr_expect_eq(m->rc[3], 0);
    /* only the last one ran, and its cleanup ran at the loop's shutdown */
    cr_expect_str_eq(rt.log, "counter cleanup -1001\ncounter cleaned\n");
    rt_free_loop(loop);
}

/* Two consumers of one generator: the second finds it running. */
CO_ASYNC(first_consumer, counter *c; int v;)
    CO_ANEXT(self, self->c, &self->v);
CO_ASYNC_END

CO_ASYNC(running_main, counter c; first_consumer *f; int v; int rc[3];)
    CO_AGEN(self, c, counter, .n = 3, .ms = 50);
    CO_CREATE_TASK(self, self->f, first_consumer, .c = &self->c);
    CO_SLEEP(self, 10); /* the first consumer's anext now sleeps inside it */
    CO_ANEXT_CATCH(self, &self->c, &self->v);
    self->rc[0] = CO_THROWN(self);
    CO_ACLOSE_CATCH(self, &self->c);
    self->rc[1] = CO_THROWN(self);
    CO_AWAIT_TASK(self, &self->f->gen);
    self->rc[2] = self->f->v;
    co_release(&self->f->gen);
    CO_ACLOSE(self, &self->c);
CO_ASYNC_END

Test(agen, an_await_while_another_runs_is_already_running)
{
    co_loop *loop = rt_loop();
    running_main *m = CO_NEW(loop, running_main, running_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc[0], CO_ERUNNING);
    cr_expect_eq(m->rc[1], CO_ERUNNING);
    cr_expect_eq(m->rc[2], 0, "the first consumer's await was not disturbed");
    rt_free_loop(loop);
}

/* An aclose whose awaiting cleanup is cancelled: the cancellation comes out
 * of the aclose and the generator is finished.  (CPython 3.11 leaves
 * ag_running set there, and its next anext says "already running".) */
CO_ASYNC(closer, counter *c; int rc;)
    CO_ACLOSE_CATCH(self, self->c);
    self->rc = CO_THROWN(self);
CO_ASYNC_END

CO_ASYNC(cancelled_close_main, counter c; closer *t; int v; int rc[4];)
    CO_AGEN(self, c, counter, .n = 3, .ms = 1);
    CO_ANEXT(self, &self->c, &self->v);
    CO_CREATE_TASK(self, self->t, closer, .c = &self->c);
    CO_SLEEP(self, 1); /* the closer's aclose now sleeps in the cleanup */
    CO_ANEXT_CATCH(self, &self->c, &self->v);
    self->rc[0] = CO_THROWN(self);
    co_cancel(&self->t->gen);
    CO_AWAIT_TASK_CATCH(self, &self->t->gen);
    CO_ANEXT_CATCH(self, &self->c, &self->v);
    self->rc[1] = CO_THROWN(self);
    CO_ACLOSE_CATCH(self, &self->c);
    self->rc[2] = CO_THROWN(self);
    self->rc[3] = self->t->rc;
    co_release(&self->t->gen);
CO_ASYNC_END

Test(agen, a_cancelled_aclose_leaves_it_finished)
{
    co_loop *loop = rt_loop();
    cancelled_close_main *m = CO_NEW(loop, cancelled_close_main, cancelled_close_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc[0], CO_ERUNNING, "while the aclose awaits, it is running");
    cr_expect_eq(m->rc[3], CO_ECANCELLED, "the aclose raises the cancellation");
    cr_expect_eq(m->rc[1], CO_ESTOPASYNC, "%d", m->rc[1]);
    cr_expect_eq(m->rc[2], 0);
    cr_expect_eq(co_state(&m->c.gen), CO_CLOSED);
    cr_expect_str_eq(rt.log, "counter cleanup -1001\n");
    rt_free_loop(loop);
}

/* A StopAsyncIteration escaping the body is a RuntimeError (PEP 479's twin). */
CO_ASYNC_GEN(leaky, int, counter inner; int v;)
    CO_AGEN(self, inner, counter, .n = 0, .ms = 1);
    CO_ANEXT(self, &self->inner, &self->v);
    CO_YIELD(self, self->v);
CO_ASYNC_END

CO_ASYNC(leaky_main, leaky l; int v; int rc;)
    CO_AGEN(self, l, leaky, );
    CO_ANEXT_CATCH(self, &self->l, &self->v);
    self->rc = CO_THROWN(self);
CO_ASYNC_END

Test(agen, stop_async_iteration_escaping_is_a_runtime_error)
{
    co_loop *loop = rt_loop();
    leaky_main *m = CO_NEW(loop, leaky_main, leaky_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc, CO_ESTOPITERATION, "%d", m->rc);
    rt_free_loop(loop);
}

/* Each argument once, and a destination in the C stack refused. */
CO_ASYNC(once_main, counter c; int v; int evals; int rc;)
    CO_AGEN(self, c, counter, .n = 2, .ms = 3);
    rt_spawn_scribbler(co_running_loop());
    CO_ANEXT(self, RT_ARG(self, &self->c), RT_ARG(self, &self->v));
    CO_ANEXT(self, RT_ARG(self, &self->c), RT_ARG(self, &self->v));
    {
        int local;
        CO_ANEXT_CATCH(self, &self->c, &local);
        self->rc = CO_THROWN(self);
    }
    CO_ACLOSE(self, RT_ARG(self, &self->c));
CO_ASYNC_END

Test(agen, each_argument_is_evaluated_once)
{
    co_loop *loop = rt_loop();
    once_main *m = CO_NEW(loop, once_main, once_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->evals, 5);
    cr_expect_eq(m->v, 1);
#if defined(__GNUC__)
    cr_expect_eq(m->rc, CO_ESTACKARG);
#endif
    rt_free_loop(loop);
}

CO_ASYNC(busy_main, counter c; int v; int rc; co_try tries[1];)
    CO_AGEN(self, c, counter, .n = 2, .ms = 1);
    CO_ANEXT(self, &self->c, &self->v);
    CO_TRY(self) {
        CO_AGEN(self, c, counter, .n = 2, .ms = 1);
    } CO_EXCEPT(self, CO_EBUSY) {
        self->rc = CO_EBUSY;
    } CO_TRY_END(self);
    CO_ACLOSE(self, &self->c);
CO_ASYNC_END

Test(agen, replacing_one_still_started_is_busy)
{
    co_loop *loop = rt_loop();
    busy_main *m = CO_NEW(loop, busy_main, busy_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc, CO_EBUSY);
    cr_expect_str_eq(rt.log, "counter cleanup -1001\ncounter cleaned\n");
    rt_free_loop(loop);
}

Test(agen, outside_a_task_it_is_no_task)
{
    co_loop *loop = rt_loop();
    counter c = {.n = 1};
    int v = 0;
    CO_INIT(&c, counter_fn);
    cr_expect_eq(co__agen_start(&c.gen, CO__AG_NEXT, 0, &v, &v, sizeof v), CO_ENOTASK);
    cr_expect_eq(co_state(&c.gen), CO_CREATED);
    cr_expect_str_eq(co_strerror(CO_ESTOPASYNC), "async generator finished (StopAsyncIteration)");
    rt_free_loop(loop);
}
