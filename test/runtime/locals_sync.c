/*
 * locals_sync.c -- C locals passed to the awaits of the synchronisation
 * primitives (event, lock, semaphore, queue put and get), as locals.c does
 * for the others: each await suspends while a scribbler overwrites the stack,
 * and a pointer local to a primitive in the frame works, a primitive or a
 * get's destination on the C stack is refused with CO_ESTACKARG, and a put
 * of a C local delivers the value it had when the put started.
 */
#include "testloop.h"

#include <string.h>

TestSuite(locals_sync, .init = rt_reset);

/* The primitives, and a helper that lets the waiter go after 5 ms. */
typedef struct {
    co_event ev;
    co_lock lock;
    co_sem sem;
    co_queue q;
    int qbuf[1];
} prims;

typedef struct {
    co_gen gen;
    prims *p;
    int got;
} helper;

static int helper_fn(co_gen *g)
{
    helper *self = (helper *)g;
    CO_BEGIN(self);
    cr_assert(!co_lock_locked(&self->p->lock));
    CO_LOCK_ACQUIRE(self, &self->p->lock);
    CO_SLEEP(self, 5);
    co_event_set(&self->p->ev);
    cr_assert_eq(co_lock_release(&self->p->lock), 0);
    cr_assert_eq(co_sem_release(&self->p->sem), 0);
    CO_SLEEP(self, 5);
    CO_QUEUE_GET(self, &self->p->q, &self->got); /* frees room for the put */
    CO_END(self);
}

typedef struct {
    co_gen gen;
    prims *p;
    int evals, got;
    int refused[5];
    int64_t at[4];
} waiter;

static int64_t now_ms(void) { return rt_ms(co_running_loop()); }

static int waiter_fn(co_gen *g)
{
    waiter *self = (waiter *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 0); /* the helper takes the lock first */
    {
        co_event *ev = &self->p->ev;
        CO_EVENT_WAIT(self, RT_ARG(self, ev));
    }
    self->at[0] = now_ms();
    {
        co_lock *lock = &self->p->lock;
        CO_LOCK_ACQUIRE(self, RT_ARG(self, lock));
        cr_assert_eq(co_lock_release(&self->p->lock), 0); /* `lock` is gone here */
    }
    self->at[1] = now_ms();
    {
        co_sem *sem = &self->p->sem;
        CO_SEM_ACQUIRE(self, RT_ARG(self, sem));
    }
    self->at[2] = now_ms();
    {
        int item = 41;
        cr_assert_eq(co_queue_try_put(&self->p->q, &item), 0); /* now full */
        item = 42;
        CO_QUEUE_PUT(self, RT_ARG(self, &self->p->q), RT_ARG(self, &item));
        item = -1; /* what the queue holds must be the 42 copied at the start */
    }
    self->at[3] = now_ms();
    CO_QUEUE_GET(self, &self->p->q, &self->got);
    CO_END(self);
}

Test(locals_sync, pointer_locals_and_a_put_of_a_local)
{
    co_loop *loop = rt_loop();
    prims p;
    waiter *w = CO_NEW(loop, waiter, waiter_fn);
    helper *h = CO_NEW(loop, helper, helper_fn);
    cr_assert(w && h);
    co_event_init(&p.ev);
    co_lock_init(&p.lock);
    cr_assert_eq(co_sem_init(&p.sem, 0, 0), 0);
    cr_assert_eq(co_queue_init(&p.q, p.qbuf, sizeof p.qbuf[0], 1), 0);
    w->p = h->p = &p;
    rt_spawn(&h->gen);
    rt_spawn_scribbler(loop);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->at[0], 5);
    cr_expect_eq(w->at[1], 5);
    cr_expect_eq(w->at[2], 5);
    cr_expect_eq(w->at[3], 10);
    cr_expect_eq(h->got, 41);
    cr_expect_eq(w->got, 42, "the put delivers the local's value at its start");
    cr_expect_eq(w->evals, 5);
    co_release(&w->gen);
    co_release(&h->gen);
    rt_free_loop(loop);
}

/* Primitives themselves, or a get's destination, as C locals: refused. */
typedef struct {
    co_gen gen;
    co_queue *q;
    int refused[4];
    co_try tries[1];
} refuser;

static int refuser_fn(co_gen *g)
{
    refuser *self = (refuser *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        co_event ev;
        co_event_init(&ev);
        CO_EVENT_WAIT(self, &ev);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[0] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_TRY(self)
    {
        co_lock lock;
        co_lock_init(&lock);
        CO_LOCK_ACQUIRE(self, &lock);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[1] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_TRY(self)
    {
        co_sem sem;
        cr_assert_eq(co_sem_init(&sem, 1, 0), 0);
        CO_SEM_ACQUIRE(self, &sem);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[2] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_TRY(self)
    {
        int into;
        CO_QUEUE_GET(self, self->q, &into);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[3] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_END(self);
}

Test(locals_sync, primitives_and_destinations_on_the_stack_are_refused)
{
    co_loop *loop = rt_loop();
    refuser *r = CO_NEW(loop, refuser, refuser_fn);
    co_queue q;
    int buf[2] = {7, 0};
    cr_assert_not_null(r);
    cr_assert_eq(co_queue_init(&q, buf, sizeof buf[0], 2), 0);
    cr_assert_eq(co_queue_try_put(&q, &buf[0]), 0); /* a get would not even wait */
    r->q = &q;
    cr_expect_eq(co_run(loop, &r->gen), 0);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(r->refused[i], CO_ESTACKARG, "await %d", i);
    cr_expect_eq(co_queue_size(&q), 1, "nothing was taken");
    co_release(&r->gen);
    rt_free_loop(loop);
}

/* A future's await: the future and the value's destination are read once,
 * when it starts; the value lands in the frame after the wait.  A
 * destination on the C stack is refused, even when the future is done (the
 * rule does not depend on timing), and nothing is taken from the future. */
typedef struct {
    co_gen gen;
    co_future *f;
    int evals, refused[1];
    void *value;
    co_try tries[1];
} fut_waiter;

static int fut_waiter_fn(co_gen *g)
{
    fut_waiter *self = (fut_waiter *)g;
    CO_BEGIN(self);
    {
        co_future *f = self->f;
        void **into = &self->value;
        CO_AWAIT_FUTURE(self, RT_ARG(self, f), RT_ARG(self, into));
    }
    CO_TRY(self)
    {
        void *v;
        CO_AWAIT_FUTURE(self, self->f, &v); /* done by now */
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused[0] = CO_ESTACKARG; }
    CO_TRY_END(self);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_future *f;
} fut_setter;

static int fut_setter_fn(co_gen *g)
{
    fut_setter *self = (fut_setter *)g;
    static int answer = 42;
    CO_BEGIN(self);
    CO_SLEEP(self, 5);
    cr_assert_eq(co_future_set_result(self->f, &answer), 0);
    CO_END(self);
}

Test(locals_sync, a_future_await_reads_its_arguments_once)
{
    co_loop *loop = rt_loop();
    co_future f;
    fut_waiter *w = CO_NEW(loop, fut_waiter, fut_waiter_fn);
    fut_setter *st = CO_NEW(loop, fut_setter, fut_setter_fn);
    cr_assert(w && st);
    co_future_init(&f, loop);
    w->f = st->f = &f;
    rt_spawn(&st->gen);
    rt_spawn_scribbler(loop);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_assert_not_null(w->value);
    cr_expect_eq(*(int *)w->value, 42, "the value landed in the frame");
    cr_expect_eq(w->evals, 2);
    cr_expect_eq(w->refused[0], CO_ESTACKARG, "a C-stack destination, future done");
    co_release(&w->gen);
    co_release(&st->gen);
    rt_free_loop(loop);
}
