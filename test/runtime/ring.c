/*
 * ring.c -- cancelling tasks that await each other in a ring (a deadlock):
 * the cancellation is handed along the await chain as asyncio does, and
 * where the chain closes on itself it lands on the ring's first task, which
 * ends cancelled and so unwinds the others.  Before, co_cancel handed it
 * round the ring until the C stack overflowed (Python recurses until its
 * RecursionError), and co_run's shutdown, which cancels what is left, did
 * the same.
 */
#include "testloop.h"

TestSuite(ring, .init = rt_reset, .timeout = 10);

/* await other; its cleanup counts that it ran */
CO_ASYNC(peer, co_gen *other; bool cleaned;)
    CO_AWAIT_TASK(self, self->other);
    CO_FINALLY(self) { self->cleaned = true; }
CO_ASYNC_END

/* n peers: peer i awaits peer i + 1, the last awaits peer `closes_at`: a
 * ring of the peers from closes_at on, with a tail before it. */
static void make_chain(co_loop *loop, peer **p, int n, int closes_at)
{
    for (int i = 0; i < n; i++) {
        p[i] = CO_TASK(loop, peer, );
        cr_assert_not_null(p[i]);
    }
    for (int i = 0; i < n; i++)
        p[i]->other = &p[i + 1 < n ? i + 1 : closes_at]->gen;
    for (int i = 0; i < n; i++)
        rt_spawn(&p[i]->gen);
}

CO_ASYNC(canceller, peer **p; int n; int victim; int results[4];)
    CO_SLEEP(self, 10); /* every peer is waiting now */
    cr_assert_eq(co_cancel(&self->p[self->victim]->gen), 1);
    CO_SLEEP(self, 10);
    for (int i = 0; i < self->n; i++)
        self->results[i] = co_task_result(&self->p[i]->gen);
CO_ASYNC_END

static void check_ring(int n, int closes_at, int victim)
{
    co_loop *loop = rt_loop();
    peer *p[4];
    canceller *c;
    make_chain(loop, p, n, closes_at);
    c = CO_TASK(loop, canceller, .p = p, .n = n, .victim = victim);
    cr_assert_not_null(c);
    cr_assert_eq(co_run(loop, &c->gen), 0);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(c->results[i], CO_ECANCELLED, "peer %d: %d (%s)", i, c->results[i],
                     co_strerror(c->results[i]));
        cr_assert(p[i]->cleaned, "peer %d's cleanup did not run", i);
    }
    rt_free_loop(loop);
}

Test(ring, two_tasks_awaiting_each_other_both_end_cancelled)
{
    check_ring(2, 0, 0);
}

Test(ring, cancelling_the_other_one_of_the_two_is_the_same)
{
    check_ring(2, 0, 1);
}

/* 0 -> 1 -> 2 -> 3 -> 1: the cancellation of 0 goes down the tail to the
 * ring's first task, 1; of 2, round to 1 the same way. */
Test(ring, a_tail_into_a_ring_of_three_unwinds_whole)
{
    check_ring(4, 1, 0);
    rt_reset();
    check_ring(4, 1, 2);
}

CO_ASYNC(leaver, int ms;)
    CO_SLEEP(self, self->ms);
CO_ASYNC_END

/* 0 -> 1 -> a task asleep: no ring, so the request goes down to the sleeper
 * (each awaiter counting it), and its end cancels the others. */
CO_ASYNC(chain_main, peer *p[2]; leaver *sleeper; int results[3];)
    CO_SLEEP(self, 10);
    cr_assert_eq(co_cancel(&self->p[0]->gen), 1);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(co_cancelling(&self->p[i]->gen), 1, "peer %d", i);
    cr_assert_eq(co_cancelling(&self->sleeper->gen), 1);
    CO_SLEEP(self, 10);
    self->results[0] = co_task_result(&self->p[0]->gen);
    self->results[1] = co_task_result(&self->p[1]->gen);
    self->results[2] = co_task_result(&self->sleeper->gen);
CO_ASYNC_END

Test(ring, a_chain_without_a_ring_lands_on_its_end)
{
    co_loop *loop = rt_loop();
    leaver *s = CO_TASK(loop, leaver, .ms = 60000);
    peer *p1 = s ? CO_TASK(loop, peer, .other = &s->gen) : NULL;
    peer *p0 = p1 ? CO_TASK(loop, peer, .other = &p1->gen) : NULL;
    chain_main *m = p0 ? CO_TASK(loop, chain_main, .p = {p0, p1}, .sleeper = s) : NULL;
    cr_assert_not_null(m);
    rt_spawn(&s->gen);
    rt_spawn(&p1->gen);
    rt_spawn(&p0->gen);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(m->results[i], CO_ECANCELLED, "task %d: %d", i, m->results[i]);
    cr_assert(p0->cleaned && p1->cleaned);
    rt_free_loop(loop);
}

/* main returns with a ring still deadlocked: co_run's shutdown cancels it
 * and returns, every cleanup run. */
Test(ring, a_ring_left_at_shutdown_is_cancelled_and_run_returns)
{
    co_loop *loop = rt_loop();
    peer *p[3];
    leaver *m;
    make_chain(loop, p, 3, 0);
    m = CO_TASK(loop, leaver, .ms = 10);
    cr_assert_not_null(m);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    for (int i = 0; i < 3; i++)
        cr_assert(p[i]->cleaned, "peer %d's cleanup did not run", i);
    rt_free_loop(loop);
}
