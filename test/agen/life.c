/*
 * life.c -- an async generator's life around its consumer: a consumer
 * cancelled while the generator awaits (the generator's finally runs, and
 * may await), delegation through several generators (values out, throws
 * and closes in, innermost cleanup first, each free to await), and
 * finalization: at co_run's end for one left suspended (its cleanup
 * awaits, as under shutdown_asyncgens), and when the task holding it is
 * freed.  Every test checks that every byte came back.
 */
#include "testloop.h"

#include <corio/agen.h>

TestSuite(agen_life, .init = rt_reset);

/* async def slow(name): yields 1, 2, 3, sleeping 100 ms first; its finally
 * logs what unwinds it and awaits 7 ms. */
CO_ASYNC_GEN(slow, int, const char *name; int i;)
    for (self->i = 1; self->i <= 3; self->i++) {
        CO_SLEEP(self, 100);
        CO_YIELD(self, self->i);
    }
    CO_FINALLY(self) {
        rt_log("%s finally %d at %lld", self->name, CO_THROWN(self),
               (long long)rt_ms(co_running_loop()));
        CO_SLEEP_CATCH(self, 7);
        rt_log("%s cleaned at %lld", self->name, (long long)rt_ms(co_running_loop()));
    }
CO_ASYNC_END

CO_ASYNC(slow_consumer, slow s; int v;)
    CO_AGEN(self, s, slow, .name = "s");
    CO_ASYNC_FOR(self, &self->s, &self->v) {
        rt_log("v %d", self->v);
    } CO_ASYNC_FOR_END;
CO_ASYNC_END

CO_ASYNC(cancel_main, slow_consumer *c; int rc;)
    CO_CREATE_TASK(self, self->c, slow_consumer, );
    CO_SLEEP(self, 150); /* the consumer's second anext sleeps in the generator */
    co_cancel(&self->c->gen);
    CO_AWAIT_TASK_CATCH(self, &self->c->gen);
    self->rc = CO_THROWN(self);
    rt_log("state %d", co_state(&self->c->s.gen));
    co_release(&self->c->gen);
CO_ASYNC_END

Test(agen_life, a_cancelled_consumer_runs_the_generators_finally)
{
    co_loop *loop = rt_loop();
    cancel_main *m = CO_NEW(loop, cancel_main, cancel_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc, CO_ECANCELLED);
    cr_expect_str_eq(rt.log, "v 1\ns finally -1101 at 150\ns cleaned at 157\nstate 3\n");
    rt_free_loop(loop);
}

/* Three levels: outer yields from middle, middle from slow; each adds its
 * own cleanup line. */
CO_ASYNC_GEN(middle, int, slow inner;)
    CO_AGEN(self, inner, slow, .name = "inner");
    CO_YIELD_FROM(self, inner);
    CO_FINALLY(self) {
        rt_log("middle finally %d", CO_THROWN(self));
        CO_SLEEP_CATCH(self, 3);
    }
CO_ASYNC_END

CO_ASYNC_GEN(outer, int, middle mid; co_try tries[1];)
    CO_AGEN(self, mid, middle, );
    CO_TRY(self) {
        CO_YIELD_FROM(self, mid);
    } CO_EXCEPT(self, -7001) {
        rt_log("outer caught");
        CO_YIELD(self, 42);
    } CO_TRY_END(self);
    CO_FINALLY(self) {
        rt_log("outer finally %d at %lld", CO_THROWN(self), (long long)rt_ms(co_running_loop()));
    }
CO_ASYNC_END

CO_ASYNC(deleg_main, outer o; int v; int rc;)
    CO_AGEN(self, o, outer, );
    CO_ANEXT(self, &self->o, &self->v);
    rt_log("v %d", self->v);
    CO_ANEXT(self, &self->o, &self->v);
    rt_log("v %d", self->v);
    CO_ACLOSE(self, &self->o);
    rt_log("closed at %lld", (long long)rt_ms(co_running_loop()));
    CO_AGEN(self, o, outer, );
    CO_ANEXT(self, &self->o, &self->v);
    CO_ATHROW(self, &self->o, -7001, &self->v); /* into the innermost, caught by outer */
    rt_log("athrow %d", self->v);
    CO_ANEXT_CATCH(self, &self->o, &self->v);
    self->rc = CO_THROWN(self);
CO_ASYNC_END

Test(agen_life, delegation_passes_values_and_closes_innermost_first)
{
    co_loop *loop = rt_loop();
    deleg_main *m = CO_NEW(loop, deleg_main, deleg_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log,
                     "v 1\nv 2\n"
                     "inner finally -1001 at 200\ninner cleaned at 207\n"
                     "middle finally -1001\nouter finally -1001 at 210\nclosed at 210\n"
                     "inner finally -7001 at 310\ninner cleaned at 317\nmiddle finally -7001\n"
                     "outer caught\nathrow 42\nouter finally 0 at 320\n");
    cr_expect_eq(m->rc, CO_ESTOPASYNC);
    rt_free_loop(loop);
}

/* main breaks out of its async for: at co_run's end the loop closes the
 * generator in a task, so its cleanup's await works. */
CO_ASYNC(shutdown_main, slow s; int v;)
    CO_AGEN(self, s, slow, .name = "left");
    CO_ASYNC_FOR(self, &self->s, &self->v) {
        if (self->v == 2)
            break;
    } CO_ASYNC_FOR_END;
    rt_log("main done at %lld", (long long)rt_ms(co_running_loop()));
CO_ASYNC_END

Test(agen_life, co_run_finalizes_one_left_suspended_and_its_cleanup_awaits)
{
    co_loop *loop = rt_loop();
    shutdown_main *m = CO_NEW(loop, shutdown_main, shutdown_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "main done at 200\nleft finally -1001 at 200\nleft cleaned at 207\n");
    cr_expect_eq(co_state(&m->s.gen), CO_CLOSED);
    rt_free_loop(loop);
}

/* A released task leaves one suspended in its frame: it is closed as the
 * task is freed, outside any task: the await in its cleanup raises
 * CO_ENOTASK, which ends the cleanup there. */
CO_ASYNC(leaver, slow s; int v;)
    CO_AGEN(self, s, slow, .name = "dropped");
    CO_ANEXT(self, &self->s, &self->v);
CO_ASYNC_END

CO_ASYNC(drop_main, leaver *l;)
    CO_CREATE_TASK(self, self->l, leaver, );
    co_release(&self->l->gen);
    CO_SLEEP(self, 500);
    rt_log("main at %lld", (long long)rt_ms(co_running_loop()));
CO_ASYNC_END

Test(agen_life, freeing_its_task_closes_it_with_no_task_to_await_in)
{
    co_loop *loop = rt_loop();
    drop_main *m = CO_NEW(loop, drop_main, drop_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "dropped finally -1001 at 100\nmain at 500\n", "%s", rt.log);
    rt_free_loop(loop);
}

/* A generator in caller storage, closed at shutdown; one that ignores it
 * is let go (and reported as its finalizer's error). */
CO_ASYNC_GEN(deaf, int, )
    for (;;)
        CO_YIELD_CATCH(self, 1);
CO_ASYNC_END

static deaf static_deaf;
static slow static_slow;

CO_ASYNC(static_main, int v;)
    CO_ANEXT(self, &static_deaf, &self->v);
    CO_ANEXT(self, &static_slow, &self->v);
CO_ASYNC_END

static int reported;
static void count_report(co_loop *loop, const co_exception *e, void *arg)
{
    (void)loop;
    (void)arg;
    cr_expect_eq(e->code, CO_EIGNOREDCLOSE);
    reported++;
}

Test(agen_life, statics_are_finalized_at_shutdown_and_a_deaf_one_reported)
{
    co_loop *loop = rt_loop();
    static_main *m = CO_NEW(loop, static_main, static_main_fn);
    co_loop_set_exception_handler(loop, count_report, NULL);
    CO_INIT(&static_deaf, deaf_fn);
    CO_INIT(&static_slow, slow_fn);
    static_slow.name = "static";
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "static finally -1001 at 100\nstatic cleaned at 107\n");
    cr_expect_eq(reported, 1);
    cr_expect_eq(co_state(&static_deaf.gen), CO_SUSPENDED);
    rt_free_loop(loop);
}

/* A generator that swallows the consumer's cancellation and yields: the
 * await gives the value and the consumer goes on, as in Python. */
CO_ASYNC_GEN(swallow, int, )
    CO_SLEEP_CATCH(self, 100);
    CO_YIELD(self, CO_THROWN(self) == CO_ECANCELLED ? 1 : 0);
CO_ASYNC_END

CO_ASYNC(swallow_consumer, swallow s; int v;)
    CO_AGEN(self, s, swallow, );
    CO_ANEXT(self, &self->s, &self->v);
    rt_log("got %d, cancelling %d", self->v, co_cancelling(co_current_task()));
    CO_SLEEP(self, 10);
    CO_ACLOSE(self, &self->s);
CO_ASYNC_END

CO_ASYNC(swallow_main, swallow_consumer *c; int rc;)
    CO_CREATE_TASK(self, self->c, swallow_consumer, );
    CO_SLEEP(self, 50);
    co_cancel(&self->c->gen);
    CO_AWAIT_TASK_CATCH(self, &self->c->gen);
    self->rc = CO_THROWN(self);
    co_release(&self->c->gen);
CO_ASYNC_END

Test(agen_life, a_cancellation_the_generator_swallows_lets_the_consumer_go_on)
{
    co_loop *loop = rt_loop();
    swallow_main *m = CO_NEW(loop, swallow_main, swallow_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->rc, 0);
    cr_expect_str_eq(rt.log, "got 1, cancelling 1\n");
    cr_expect_eq(rt_ms(loop), 60);
    rt_free_loop(loop);
}
