/*
 * timeout.c -- asyncio.timeout / timeout_at blocks (CO_TIMEOUT): expiry
 * becomes CO_ETIMEOUT at the block's end after the cleanup inside ran; an
 * outside cancellation stays one, even in the turn of the expiry; nested
 * blocks expiring in the same turn (equal deadlines fire in arming order)
 * give the timeout to the outer one, as CPython; reschedule, when, expired;
 * a deadline already past; every way out of the block disarms it.  The
 * behaviours were checked against CPython 3.11 (twins in the comments).
 */
#include "testloop.h"

#include <corio/wait.h>

#include <errno.h>

TestSuite(timeout, .init = rt_reset);

static int64_t now_ms(void) { return rt_ms(co_running_loop()); }

/* async with timeout(limit): await sleep(ms)  -- then sleeps `after` ms */
CO_ASYNC(blocked, co_try tries[2]; co_timeout to; int limit, ms, after; int seen, reached;)
    CO_TIMEOUT(self, to, self->limit) {
        CO_TRY(self) {
            CO_SLEEP(self, self->ms);
        } CO_TRY_FINALLY(self) {
            self->seen = CO_CAUGHT(self);
            rt_log("inside unwinds %s at %lld", co_strerror(self->seen), (long long)now_ms());
        } CO_TRY_END(self);
    } CO_TIMEOUT_END(self, to);
    self->reached = 1;
    CO_SLEEP(self, self->after);
CO_ASYNC_END

Test(timeout, expiry_raises_the_timeout_at_the_end_after_the_cleanup)
{
    co_loop *loop = rt_loop();
    blocked *b = CO_TASK(loop, blocked, .limit = 50, .ms = 1000);
    cr_assert_not_null(b);
    cr_expect_eq(co_run(loop, &b->gen), CO_ETIMEOUT);
    cr_expect_eq(b->seen, CO_ECANCELLED, "inside, it is a cancellation");
    cr_expect_eq(b->reached, 0);
    cr_expect_eq(rt_ms(loop), 50);
    cr_expect(co_timeout_expired(&b->to));
    cr_expect_eq(co_cancelling(&b->gen), 0, "the block took its request back");
    rt_free_loop(loop);
}

Test(timeout, in_time_nothing_is_raised_and_the_deadline_is_gone)
{
    co_loop *loop = rt_loop();
    blocked *b = CO_TASK(loop, blocked, .limit = 50, .ms = 10, .after = 100);
    cr_assert_not_null(b);
    cr_expect_eq(co_run(loop, &b->gen), 0);
    cr_expect_eq(b->reached, 1);
    cr_expect_eq(rt_ms(loop), 110, "a deadline left armed would cancel the later sleep");
    cr_expect(!co_timeout_expired(&b->to));
    rt_free_loop(loop);
}

/* Cancels `target` after ms. */
CO_ASYNC(canceller, co_gen *target; int ms;)
    CO_SLEEP(self, self->ms);
    co_cancel(self->target);
CO_ASYNC_END

static void check_outside_cancel(int at)
{
    co_loop *loop = rt_loop();
    blocked *b = CO_TASK(loop, blocked, .limit = 50, .ms = 1000);
    canceller *c = CO_TASK(loop, canceller, .target = &b->gen, .ms = at);
    cr_assert(b && c);
    rt_spawn(&c->gen);
    cr_expect_eq(co_run(loop, &b->gen), CO_ECANCELLED, "cancelled at %d", at);
    cr_expect_eq(rt_ms(loop), at);
    rt_free_loop(loop);
}

Test(timeout, an_outside_cancellation_stays_a_cancellation)
{
    check_outside_cancel(20);
}

/* The canceller's timer is armed after the block's: it fires second in the
 * same turn, and two requests are pending -- the block takes one back only
 * (Python 3.11: CancelledError too). */
Test(timeout, an_outside_cancellation_in_the_turn_of_the_expiry_wins)
{
    check_outside_cancel(50);
}

/*
 * Nested, both expiring in the same turn (equal deadlines: the outer armed
 * first fires first).  CPython 3.11:
 *     async with timeout(0.05):
 *         try:
 *             async with timeout(0.05): await sleep(1)
 *         except CancelledError: log("inner CancelledError"); raise
 *     -> inner CancelledError, then TimeoutError from the outer block
 */
CO_ASYNC(nested, co_try tries[2]; co_timeout outer, inner; int outer_ms, inner_ms; int in_err;)
    CO_TIMEOUT(self, outer, self->outer_ms) {
        CO_TIMEOUT(self, inner, self->inner_ms) {
            CO_SLEEP(self, 1000);
        } CO_TIMEOUT_END_CATCH(self, inner);
        self->in_err = CO_THROWN(self);
        rt_log("inner block ends with %s at %lld", co_strerror(self->in_err), (long long)now_ms());
        if (self->in_err)
            CO_RAISE(self, self->in_err);
        CO_SLEEP(self, 1000);
    } CO_TIMEOUT_END(self, outer);
CO_ASYNC_END

Test(timeout, nested_blocks_expiring_in_the_same_turn_give_the_timeout_to_the_outer)
{
    co_loop *loop = rt_loop();
    nested *n = CO_TASK(loop, nested, .outer_ms = 50, .inner_ms = 50);
    cr_assert_not_null(n);
    cr_expect_eq(co_run(loop, &n->gen), CO_ETIMEOUT);
    cr_expect_eq(n->in_err, CO_ECANCELLED, "the inner block passes the cancellation on");
    cr_expect(co_timeout_expired(&n->inner) && co_timeout_expired(&n->outer));
    cr_expect_eq(co_cancelling(&n->gen), 0);
    cr_expect_eq(rt_ms(loop), 50);
    rt_free_loop(loop);
}

/* The inner deadline first: its block times out, the outer goes on to expire. */
Test(timeout, the_inner_expiry_is_the_inner_blocks_timeout)
{
    co_loop *loop = rt_loop();
    nested *n = CO_TASK(loop, nested, .outer_ms = 100, .inner_ms = 50);
    cr_assert_not_null(n);
    /* the outer body re-raises what the inner block ended with */
    cr_expect_eq(co_run(loop, &n->gen), CO_ETIMEOUT);
    cr_expect_eq(n->in_err, CO_ETIMEOUT);
    cr_expect(!co_timeout_expired(&n->outer), "raised before the outer deadline");
    cr_expect_str_eq(rt.log, "inner block ends with timed out at 50\n");
    rt_free_loop(loop);
}

/* The outer deadline first: the inner block sees only a cancellation. */
Test(timeout, the_outer_expiry_passes_through_the_inner_block)
{
    co_loop *loop = rt_loop();
    nested *n = CO_TASK(loop, nested, .outer_ms = 30, .inner_ms = 50);
    cr_assert_not_null(n);
    cr_expect_eq(co_run(loop, &n->gen), CO_ETIMEOUT);
    cr_expect_eq(n->in_err, CO_ECANCELLED);
    cr_expect(!co_timeout_expired(&n->inner));
    cr_expect_eq(rt_ms(loop), 30);
    rt_free_loop(loop);
}

/* timeout.reschedule: later, then never; when(); refused once expired. */
CO_ASYNC(moving, co_try tries[1]; co_timeout to; int64_t when0, when1; int late, again;)
    CO_TIMEOUT(self, to, 50) {
        self->when0 = co_timeout_when(&self->to);
        CO_SLEEP(self, 40);
        CO_CHECK(self, co_timeout_reschedule(&self->to, co_now(co_running_loop()) + 100 * MS));
        self->when1 = co_timeout_when(&self->to);
        CO_SLEEP(self, 60); /* past the first deadline */
        self->late = (int)now_ms();
        CO_SLEEP(self, 1000);
    } CO_TIMEOUT_END_CATCH(self, to);
    self->again = co_timeout_reschedule(&self->to, CO_NO_TIMEOUT);
    CO_RAISE(self, CO_THROWN(self));
CO_ASYNC_END

Test(timeout, reschedule_moves_the_deadline)
{
    co_loop *loop = rt_loop();
    moving *m = CO_TASK(loop, moving, );
    cr_assert_not_null(m);
    cr_expect_eq(co_run(loop, &m->gen), CO_ETIMEOUT);
    cr_expect_eq(m->when0, 50 * MS);
    cr_expect_eq(m->when1, 140 * MS);
    cr_expect_eq(m->late, 100, "the first deadline no longer counts");
    cr_expect_eq(rt_ms(loop), 140);
    cr_expect_eq(m->again, CO_EINVALSTATE, "an expired timeout is not rescheduled");
    rt_free_loop(loop);
}

/* timeout_at(None), then rescheduled to a time already past: it fires at
 * the next turn (asyncio's call_soon), not at once. */
CO_ASYNC(never_then_past, co_try tries[1]; co_timeout to; int64_t when; int steps;)
    CO_TIMEOUT_AT(self, to, CO_NO_TIMEOUT) {
        self->when = co_timeout_when(&self->to);
        CO_SLEEP(self, 500);
        CO_CHECK(self, co_timeout_reschedule(&self->to, 0));
        self->steps++; /* still running: nothing thrown yet */
        CO_SLEEP(self, 1000);
        self->steps++;
    } CO_TIMEOUT_END(self, to);
CO_ASYNC_END

Test(timeout, no_deadline_then_one_in_the_past_expires_at_the_next_turn)
{
    co_loop *loop = rt_loop();
    never_then_past *t = CO_TASK(loop, never_then_past, );
    cr_assert_not_null(t);
    cr_expect_eq(co_run(loop, &t->gen), CO_ETIMEOUT);
    cr_expect_eq(t->when, CO_NO_TIMEOUT);
    cr_expect_eq(t->steps, 1);
    cr_expect_eq(rt_ms(loop), 500);
    rt_free_loop(loop);
}

/* A task that swallowed a cancellation without uncancel (cancelling() is
 * 1) then times out: the block compares with the count at its entry, as
 * CPython 3.12 and 3.11.7 do, so it is a timeout (3.11.2 compares with 0
 * and gives CancelledError). */
CO_ASYNC(swallower, co_try tries[1]; co_timeout to; int at_entry;)
    co_cancel(&self->gen);
    CO_SLEEP_CATCH(self, 0);
    self->at_entry = co_cancelling(&self->gen);
    CO_TIMEOUT(self, to, 10) {
        CO_SLEEP(self, 1000);
    } CO_TIMEOUT_END(self, to);
CO_ASYNC_END

Test(timeout, entered_with_a_pending_request_its_own_expiry_is_still_a_timeout)
{
    co_loop *loop = rt_loop();
    swallower *s = CO_TASK(loop, swallower, );
    cr_assert_not_null(s);
    cr_expect_eq(co_run(loop, &s->gen), CO_ETIMEOUT);
    cr_expect_eq(s->at_entry, 1);
    cr_expect_eq(co_cancelling(&s->gen), 1, "the earlier request is still there");
    rt_free_loop(loop);
}

/* CO_RETURN out of the block disarms it; the same field serves again after. */
CO_ASYNC(early, co_try tries[1]; co_timeout to; int round;)
    for (self->round = 0; self->round < 2; self->round++) {
        CO_TIMEOUT(self, to, 20) {
            CO_SLEEP(self, 10);
            if (self->round == 1)
                CO_RETURN_VOID(self);
        } CO_TIMEOUT_END(self, to);
    }
CO_ASYNC_END

Test(timeout, returning_from_the_block_disarms_it)
{
    co_loop *loop = rt_loop();
    early *e = CO_TASK(loop, early, );
    cr_assert_not_null(e);
    cr_expect_eq(co_run(loop, &e->gen), 0);
    cr_expect_eq(rt_ms(loop), 20);
    cr_expect_eq(e->round, 1);
    cr_expect(!co_timeout_expired(&e->to));
    rt_free_loop(loop);
}

/* The same field entered twice at once: the inner block is refused with
 * CO_EINVALSTATE before it starts, and the outer block, left by that error,
 * is disarmed (nothing fires later). */
CO_ASYNC(twice, co_try tries[2]; co_timeout to; int inner;)
    CO_TIMEOUT(self, to, 30) {
        CO_TIMEOUT(self, to, 10) {
            self->inner = 1;
        } CO_TIMEOUT_END(self, to);
    } CO_TIMEOUT_END(self, to);
CO_ASYNC_END

Test(timeout, a_field_in_use_is_refused)
{
    co_loop *loop = rt_loop();
    twice *t = CO_TASK(loop, twice, );
    cr_assert_not_null(t);
    cr_expect_eq(co_run(loop, &t->gen), CO_EINVALSTATE);
    cr_expect_eq(t->inner, 0);
    cr_expect_eq(rt_ms(loop), 0);
    cr_expect(!co_timeout_expired(&t->to));
    rt_free_loop(loop);
}

Test(timeout, reschedule_outside_a_block_is_refused)
{
    co_timeout to = {0};
    cr_expect_eq(co_timeout_reschedule(&to, 0), CO_EINVALSTATE);
    cr_expect_eq(co_timeout_reschedule(NULL, 0), CO_EBADARG);
    cr_expect(!co_timeout_expired(&to));
}

/* ------------------------------------------ wait_for, as 3.12 defines it */

/* A task that may swallow its cancellation and return a value; it notes the
 * waiter's cancelling() while it cleans up. */
CO_ASYNC(stubborn, co_gen *waiter; bool swallow; int value; int waiter_cancelling;)
    CO_SLEEP_CATCH(self, 1000);
    self->waiter_cancelling = co_cancelling(self->waiter);
    if (CO_THROWN(self) && !self->swallow)
        CO_RAISE(self, CO_THROWN(self));
    self->value = 7;
CO_ASYNC_END

/* await wait_for(task, 0.05) */
CO_ASYNC(task_waiter, co_deadline d; stubborn *task; int err;)
    CO_WAIT_FOR_TASK_CATCH(self, &self->d, &self->task->gen, 50);
    self->err = CO_THROWN(self);
CO_ASYNC_END

static task_waiter *run_wait_for(co_loop *loop, bool swallow, int cancel_at)
{
    task_waiter *w = CO_TASK(loop, task_waiter, );
    cr_assert_not_null(w);
    w->task = CO_TASK(loop, stubborn, .waiter = &w->gen, .swallow = swallow);
    cr_assert_not_null(w->task);
    if (cancel_at) {
        canceller *c = CO_TASK(loop, canceller, .target = &w->gen, .ms = cancel_at);
        cr_assert_not_null(c);
        rt_spawn(&c->gen);
    }
    cr_expect_eq(co_run(loop, &w->gen), 0);
    return w;
}

/* 3.12: the deadline cancels the waiter, which passes it to the task. */
Test(timeout, wait_for_a_task_cancels_the_waiter_which_cancels_the_task)
{
    co_loop *loop = rt_loop();
    task_waiter *w = run_wait_for(loop, false, 0);
    cr_expect_eq(w->err, CO_ETIMEOUT);
    cr_expect_eq(w->task->waiter_cancelling, 1, "the request is the waiter's");
    cr_expect_eq(co_cancelling(&w->gen), 0);
    rt_free_loop(loop);
}

/* A task that swallows the cancellation gives its value (3.11 and 3.12). */
Test(timeout, wait_for_a_task_that_swallows_the_cancellation_gives_its_value)
{
    co_loop *loop = rt_loop();
    task_waiter *w = run_wait_for(loop, true, 0);
    cr_expect_eq(w->err, 0);
    cr_expect_eq(w->task->value, 7);
    rt_free_loop(loop);
}

/* The deadline and an outside cancel in one turn: two requests, so the
 * waiter ends cancelled (3.12's rule), the deadline's request taken back. */
Test(timeout, wait_for_with_an_outside_cancel_in_the_same_turn_is_cancelled)
{
    co_loop *loop = rt_loop();
    task_waiter *w = run_wait_for(loop, false, 50);
    cr_expect_eq(w->err, CO_ECANCELLED);
    cr_expect_eq(w->task->waiter_cancelling, 2);
    cr_expect_eq(co_cancelling(&w->gen), 1);
    rt_free_loop(loop);
}
