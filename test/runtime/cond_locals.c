/*
 * cond_locals.c -- the awaits of Condition, Barrier and Queue.join with C
 * locals as arguments, as locals_sync.c does for the others: each await
 * suspends while a scribbler overwrites the C stack, evaluates each
 * argument once, and reads nothing of the caller's locals after a resume.
 */
#include "testloop.h"

TestSuite(cond_locals, .init = rt_reset);

static struct {
    co_cond cond;
    co_barrier bar;
    co_queue q;
    int qbuf[2];
    int ready; /* the predicate's state */
    int checks;
} P;

static bool is_ready(void *arg)
{
    P.checks++;
    return *(int *)arg != 0;
}

CO_ASYNC(helper, int item;)
    CO_SLEEP(self, 5);
    CO_COND_ACQUIRE(self, &P.cond);
    P.ready = 1;
    CO_CHECK(self, co_cond_notify_all(&P.cond));
    CO_CHECK(self, co_cond_release(&P.cond));
    CO_SLEEP(self, 5);
    CO_BARRIER_WAIT(self, &P.bar, NULL);
    CO_SLEEP(self, 5);
    CO_QUEUE_GET(self, &P.q, &self->item);
    CO_CHECK(self, co_queue_task_done(&P.q));
CO_ASYNC_END

CO_ASYNC(user, int evals; size_t index; int64_t at[3];)
    CO_COND_ACQUIRE(self, &P.cond);
    {
        co_cond *c = &P.cond;
        bool (*pred)(void *) = is_ready;
        CO_COND_WAIT_FOR(self, RT_ARG(self, c), RT_ARG(self, pred), RT_ARG(self, &P.ready));
    }
    cr_assert(co_cond_locked(&P.cond));
    CO_CHECK(self, co_cond_release(&P.cond));
    self->at[0] = rt_ms(co_running_loop());
    {
        co_barrier *b = &P.bar;
        size_t *dst = &self->index;
        CO_BARRIER_WAIT(self, RT_ARG(self, b), RT_ARG(self, dst));
    }
    self->at[1] = rt_ms(co_running_loop());
    {
        int item = 7;
        co_queue *q = &P.q;
        CO_CHECK(self, co_queue_try_put(q, &item));
        CO_QUEUE_JOIN(self, RT_ARG(self, q));
    }
    self->at[2] = rt_ms(co_running_loop());
CO_ASYNC_END

Test(cond_locals, pointer_locals_are_read_once_at_the_start)
{
    co_loop *loop = rt_loop();
    user *u = CO_TASK(loop, user, );
    helper *h = CO_TASK(loop, helper, );
    cr_assert(u && h);
    co_cond_init(&P.cond, NULL);
    cr_assert_eq(co_barrier_init(&P.bar, 2), 0);
    cr_assert_eq(co_queue_init(&P.q, P.qbuf, sizeof P.qbuf[0], 2), 0);
    rt_spawn(&h->gen);
    rt_spawn_scribbler(loop);
    cr_expect_eq(co_run(loop, &u->gen), 0);
    cr_expect_eq(u->at[0], 5);
    cr_expect_eq(u->at[1], 10);
    cr_expect_eq(u->at[2], 15);
    cr_expect_eq(u->index, 0, "the user arrived first");
    cr_expect_eq(P.checks, 2, "at the start and after the notify");
    cr_expect_eq(u->evals, 6);
    co_release(&u->gen);
    co_release(&h->gen);
    rt_free_loop(loop);
}
