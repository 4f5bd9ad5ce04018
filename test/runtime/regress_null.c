/*
 * regress_null.c -- the runtime's bugs with NULL arguments, kept as tests:
 * every call of sched.h given NULL where it takes an object returns
 * CO_EBADARG, or does nothing (false, 0) where it returns no code, and every
 * await macro raises CO_EBADARG in the task -- never a crash.
 */
#include "testloop.h"

#include <errno.h>

TestSuite(regress_null, .init = rt_reset);

/* NULL to the sched.h calls that dereference it at once (SIGSEGV today).
 * The brief for the runtime: invalid arguments give CO_EBADARG (or, for
 * calls that return no code, nothing happens / false / 0), never a crash.
 * Each test stops at its first crash; all of these crash now. */
Test(regress_null, task_calls_accept_null)
{
    cr_expect_eq(co_cancel(NULL), CO_EBADARG);
    cr_expect_eq(co_uncancel(NULL), CO_EBADARG);
    cr_expect_eq(co_cancelling(NULL), CO_EBADARG);
    cr_expect_not(co_done(NULL));
    cr_expect_eq(co_task_result(NULL), CO_EBADARG);
    co_release(NULL);
}

Test(regress_null, co_now_accepts_null)
{
    cr_expect_eq(co_now(NULL), 0);
}

Test(regress_null, event_lock_semaphore_calls_accept_null)
{
    co_event_init(NULL);
    co_event_set(NULL);
    co_event_clear(NULL);
    cr_expect_not(co_event_is_set(NULL));
    co_lock_init(NULL);
    cr_expect_eq(co_lock_release(NULL), CO_EBADARG);
    cr_expect_not(co_lock_locked(NULL));
    co_sem_init(NULL, 1, 0);
    cr_expect_eq(co_sem_release(NULL), CO_EBADARG);
    cr_expect_eq(co_sem_value(NULL), CO_EBADARG);
}

Test(regress_null, queue_calls_accept_null)
{
    int buf[2], v = 1;
    co_queue q;
    cr_expect_eq(co_queue_init(NULL, buf, sizeof(int), 2), CO_EBADARG);
    cr_assert_eq(co_queue_init(&q, buf, sizeof(int), 2), 0);
    cr_expect_eq(co_queue_try_put(&q, NULL), CO_EBADARG);
    cr_expect_eq(co_queue_try_put(NULL, &v), CO_EBADARG);
    cr_expect_eq(co_queue_try_put(&q, &v), 0);
    cr_expect_eq(co_queue_try_get(&q, NULL), CO_EBADARG);
    cr_expect_eq(co_queue_size(&q), 1, "a refused get takes nothing");
    cr_expect_eq(co_queue_try_get(NULL, &v), CO_EBADARG);
    co_queue_shutdown(NULL);
    cr_expect_eq(co_queue_size(NULL), 0);
}

Test(regress_null, group_calls_accept_null)
{
    int errs[1];
    co_group_init(NULL);
    cr_expect_eq(co_group_spawn(NULL, NULL), CO_EBADARG);
    cr_expect_eq(co_group_errors(NULL, errs, 1), 0);
    co_group_fini(NULL);
}

typedef struct {
    co_gen gen;
    int what;
    int raised;
} null_awaiter;

static int null_awaiter_fn(co_gen *g)
{
    null_awaiter *self = (null_awaiter *)g;
    CO_BEGIN(self);
    if (self->what == 0)
        CO_EVENT_WAIT(self, NULL);
    else if (self->what == 1)
        CO_LOCK_ACQUIRE(self, NULL);
    else if (self->what == 2)
        CO_SEM_ACQUIRE(self, NULL);
    else if (self->what == 3)
        CO_QUEUE_GET(self, NULL, &self->raised);
    else if (self->what == 4)
        CO_GATHER(self, NULL, NULL, 0, CO_GATHER_ALL);
    CO_FINALLY(self)
    {
        self->raised = CO_THROWN(self);
    }
    CO_END(self);
}

/* The await macros on NULL objects: co__event_wait and the others
 * dereference them (SIGSEGV); they should raise CO_EBADARG in the task. */
Test(regress_null, await_macros_on_null_raise_ebadarg)
{
    co_loop *loop = rt_loop();
    for (int what = 0; what < 5; what++) {
        null_awaiter *a = CO_NEW(loop, null_awaiter, null_awaiter_fn);
        a->what = what;
        cr_expect_eq(co_run(loop, &a->gen), CO_EBADARG, "case %d", what);
    }
    rt_free_loop(loop);
}
