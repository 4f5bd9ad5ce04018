/*
 * barrier.c -- asyncio.Barrier (3.11) as co_barrier: arrival indexes, the
 * last arrival tripping it without suspending, newcomers waiting while the
 * last round drains, abort failing the waiters (and later waits) with
 * CO_EBROKENBARRIER until a reset, reset failing the waits in progress, and
 * cancelled waiters -- while waiting, or woken by the trip and cancelled in
 * that same turn -- leaving the count without breaking the barrier.  The
 * main trace is CPython 3.11's (twins.h).
 */
#include "sync_tests.h"

TestSuite(barrier, .init = rt_reset);

static co_barrier bar;

CO_ASYNC(party, const char *name; int delay; size_t index;)
    CO_SLEEP(self, self->delay);
    rt_log("%s arrives at %lld, waiting %zu", self->name, st_now(),
           co_barrier_n_waiting(&bar));
    self->index = 99;
    CO_BARRIER_WAIT_CATCH(self, &bar, &self->index);
    if (CO_THROWN(self) == 0)
        rt_log("%s index %zu at %lld", self->name, self->index, st_now());
    else if (CO_THROWN(self) == CO_EBROKENBARRIER)
        rt_log("%s broken at %lld", self->name, st_now());
    else if (CO_THROWN(self) == CO_ECANCELLED)
        rt_log("%s cancelled at %lld, waiting %zu", self->name, st_now(),
               co_barrier_n_waiting(&bar));
    if (CO_THROWN(self))
        cr_assert_eq(self->index, 99, "no index written on a failure");
CO_ASYNC_END

CO_ASYNC(rounds, party *p[8]; int i;)
    for (self->i = 0; self->i < 8; self->i++) {
        static const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
        static const int delays[] = {0, 1, 2, 2, 5, 7, 9, 10};
        CO_CREATE_TASK(self, self->p[self->i], party, .name = names[self->i],
                       .delay = delays[self->i]);
    }
    CO_SLEEP(self, 6);
    co_barrier_abort(&bar);
    rt_log("aborted at %lld, broken %d", st_now(), co_barrier_broken(&bar));
    CO_SLEEP(self, 2);
    co_barrier_reset(&bar);
    rt_log("reset at %lld, broken %d", st_now(), co_barrier_broken(&bar));
    CO_SLEEP(self, 3);
    co_cancel(&self->p[7]->gen);
    CO_SLEEP(self, 1);
    rt_log("at %lld waiting %zu", st_now(), co_barrier_n_waiting(&bar));
    co_barrier_reset(&bar);
    for (self->i = 0; self->i < 8; self->i++)
        CO_AWAIT_TASK(self, &self->p[self->i]->gen);
CO_ASYNC_END

Test(barrier, rounds_drain_abort_reset_and_a_cancelled_waiter_as_asyncio)
{
    co_loop *loop = rt_loop();
    cr_assert_eq(co_barrier_init(&bar, 3), 0);
    cr_assert_eq(co_barrier_parties(&bar), 3);
    ST_RUN(loop, rounds, 0);
    cr_expect_str_eq(rt.log, TWIN_BARRIER_ROUNDS);
    rt_free_loop(loop);
}

/* The trip wakes a and b; a is cancelled before it runs: it ends cancelled,
 * b still gets its index, and the barrier is whole for the next round. */
CO_ASYNC(trip_cancel, party *a; party *b; party *c; size_t idx;)
    CO_CREATE_TASK(self, self->a, party, .name = "a");
    CO_CREATE_TASK(self, self->b, party, .name = "b");
    CO_SLEEP(self, 1);
    CO_BARRIER_WAIT(self, &bar, &self->idx); /* trips it */
    rt_log("main index %zu", self->idx);
    co_cancel(&self->a->gen);
    CO_AWAIT_TASK(self, &self->a->gen);
    CO_AWAIT_TASK(self, &self->b->gen);
    cr_assert_eq(co_barrier_n_waiting(&bar), 0);
    cr_assert(!co_barrier_broken(&bar));
    CO_CREATE_TASK(self, self->c, party, .name = "c");
    CO_CREATE_TASK(self, self->a, party, .name = "d");
    CO_SLEEP(self, 1);
    CO_BARRIER_WAIT(self, &bar, &self->idx);
    rt_log("main index %zu", self->idx);
    CO_AWAIT_TASK(self, &self->c->gen);
    CO_AWAIT_TASK(self, &self->a->gen);
CO_ASYNC_END

Test(barrier, a_waiter_cancelled_in_the_turn_the_trip_woke_it_leaves_it_whole)
{
    co_loop *loop = rt_loop();
    cr_assert_eq(co_barrier_init(&bar, 3), 0);
    ST_RUN(loop, trip_cancel, 0);
    cr_expect_str_eq(rt.log, "a arrives at 0, waiting 0\n"
                             "b arrives at 0, waiting 1\n"
                             "main index 2\n"
                             "a cancelled at 1, waiting 0\n"
                             "b index 1 at 1\n"
                             "c arrives at 1, waiting 0\n"
                             "d arrives at 1, waiting 1\n"
                             "main index 2\n"
                             "c index 0 at 2\n"
                             "d index 1 at 2\n");
    rt_free_loop(loop);
}

CO_ASYNC(misuse, size_t idx; int stack, alone;)
    {
        size_t local;
        CO_BARRIER_WAIT_CATCH(self, &bar, &local);
    }
    self->stack = CO_THROWN(self);
    CO_BARRIER_WAIT_CATCH(self, &bar, &self->idx); /* one party: never suspends */
    self->alone = CO_THROWN(self);
CO_ASYNC_END

Test(barrier, one_party_passes_at_once_and_bad_arguments_are_refused)
{
    co_loop *loop = rt_loop();
    misuse *m = CO_TASK(loop, misuse, .idx = 7);
    cr_expect_eq(co_barrier_init(&bar, 0), CO_EBADARG);
    cr_expect_eq(co_barrier_init(NULL, 1), CO_EBADARG);
    cr_assert_eq(co_barrier_init(&bar, 1), 0);
    cr_assert_eq(co_run(loop, &m->gen), 0);
#if defined(__GNUC__) || defined(__clang__)
    cr_expect_eq(m->stack, CO_ESTACKARG);
#endif
    cr_expect_eq(m->alone, 0);
    cr_expect_eq(m->idx, 0);
    cr_expect_eq(co_barrier_n_waiting(&bar), 0);
    co_release(&m->gen);
    rt_free_loop(loop);
}
