/*
 * with.c -- `async with lock:` and `async with sem:` as CO_WITH_LOCK and
 * CO_WITH_SEM: the release runs when the block ends, when it raises, and
 * when the task is cancelled inside it (at an await in the block).
 */
#include "testloop.h"

TestSuite(with, .init = rt_reset);

enum { NORMAL, RAISE, CANCELLED };

typedef struct {
    co_gen gen;
    co_lock *lock;
    co_sem *sem;
    int how;
    bool held_inside;
    int sem_inside;
    co_try tries[2];
} user;

static int user_fn(co_gen *g)
{
    user *self = (user *)g;
    CO_BEGIN(self);
    CO_WITH_SEM(self, sem)
    {
        CO_WITH_LOCK(self, lock)
        {
            self->held_inside = co_lock_locked(self->lock);
            self->sem_inside = co_sem_value(self->sem);
            CO_SLEEP(self, 10);
            if (self->how == RAISE)
                CO_RAISE(self, CO_EQFULL);
        }
        CO_WITH_LOCK_END(self, lock);
    }
    CO_WITH_SEM_END(self, sem);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    user *u;
} canceller;

static int canceller_fn(co_gen *g)
{
    canceller *self = (canceller *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 5);
    co_cancel(&self->u->gen);
    CO_END(self);
}

static void check(int how, int want)
{
    co_loop *loop = rt_loop();
    co_lock lock;
    co_sem sem;
    user *u = CO_NEW(loop, user, user_fn);
    cr_assert_not_null(u);
    co_lock_init(&lock);
    cr_assert_eq(co_sem_init(&sem, 1, 1), 0);
    u->lock = &lock;
    u->sem = &sem;
    u->how = how;
    if (how == CANCELLED) {
        canceller *c = CO_NEW(loop, canceller, canceller_fn);
        cr_assert_not_null(c);
        c->u = u;
        rt_spawn(&c->gen);
        co_release(&c->gen);
    }
    cr_expect_eq(co_run(loop, &u->gen), want);
    cr_expect(u->held_inside);
    cr_expect_eq(u->sem_inside, 0);
    cr_expect(!co_lock_locked(&lock), "the lock was released");
    cr_expect_eq(co_sem_value(&sem), 1, "the permit was given back");
    co_release(&u->gen);
    rt_free_loop(loop);
}

Test(with, released_at_the_end) { check(NORMAL, 0); }
Test(with, released_on_a_raise) { check(RAISE, CO_EQFULL); }
Test(with, released_on_cancellation) { check(CANCELLED, CO_ECANCELLED); }
