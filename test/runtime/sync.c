/*
 * sync.c -- Event, Lock and Semaphore: who waits, who is woken and in what
 * order, what cannot be done (re-entry, releasing an unheld lock, a bounded
 * semaphore over its bound), and cancellation of a waiter, which must leave
 * the other waiters and the state intact and pass on a wake-up it received.
 */
#include "testloop.h"

TestSuite(sync, .init = rt_reset);

enum { PRIM_EVENT, PRIM_LOCK, PRIM_SEM };

/* A task that waits on one primitive, logs, optionally holds it `hold` ms
 * and releases it; its cleanup logs a cancellation. */
typedef struct {
    co_gen gen;
    int id, prim, hold;
    co_event *ev;
    co_lock *lock;
    co_sem *sem;
    int seen;
    bool got;
} sync_waiter;

static int sync_waiter_fn(co_gen *g)
{
    sync_waiter *self = (sync_waiter *)g;
    CO_BEGIN(self);
    if (self->prim == PRIM_EVENT)
        CO_EVENT_WAIT(self, self->ev);
    else if (self->prim == PRIM_LOCK)
        CO_LOCK_ACQUIRE(self, self->lock);
    else
        CO_SEM_ACQUIRE(self, self->sem);
    self->got = true;
    rt_log("%d got it at %lld", self->id, (long long)rt_ms(co_running_loop()));
    if (self->hold)
        CO_SLEEP(self, self->hold);
    if (self->prim == PRIM_LOCK)
        cr_assert_eq(co_lock_release(self->lock), 0);
    else if (self->prim == PRIM_SEM)
        cr_assert_eq(co_sem_release(self->sem), 0);
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->seen)
            rt_log("%d: %s", self->id, co_strerror(self->seen));
    }
    CO_END(self);
}

enum { NWAITERS = 4 };

/* A scenario: waiters on one primitive and a script of steps run by main. */
typedef struct scenario scenario;
typedef void (*step_fn)(scenario *s, int arg);
typedef struct {
    int sleep_ms; /* before the step; -1: in the same step as the previous */
    step_fn fn;
    int arg;
} step;

struct scenario {
    co_gen gen;
    co_event ev;
    co_lock lock;
    co_sem sem;
    sync_waiter *w[NWAITERS];
    int nw;
    const step *steps;
    int i;
};

static int scenario_fn(co_gen *g)
{
    scenario *self = (scenario *)g;
    CO_BEGIN(self);
    for (int i = 0; i < self->nw; i++)
        rt_spawn(&self->w[i]->gen);
    for (self->i = 0; self->steps[self->i].fn; self->i++) {
        if (self->steps[self->i].sleep_ms >= 0)
            CO_SLEEP(self, self->steps[self->i].sleep_ms);
        self->steps[self->i].fn(self, self->steps[self->i].arg);
    }
    CO_SLEEP(self, 1000); /* let everything settle */
    CO_END(self);
}

static scenario *new_scenario(co_loop *loop, int prim, int nw, const step *steps)
{
    scenario *s = CO_NEW(loop, scenario, scenario_fn);
    cr_assert_not_null(s);
    co_event_init(&s->ev);
    co_lock_init(&s->lock);
    co_sem_init(&s->sem, 0, 0);
    s->nw = nw;
    s->steps = steps;
    for (int i = 0; i < nw; i++) {
        sync_waiter *w = CO_NEW(loop, sync_waiter, sync_waiter_fn);
        cr_assert_not_null(w);
        w->id = i;
        w->prim = prim;
        w->ev = &s->ev;
        w->lock = &s->lock;
        w->sem = &s->sem;
        s->w[i] = w;
    }
    return s;
}

static void run_scenario(co_loop *loop, scenario *s)
{
    cr_assert_eq(co_run(loop, &s->gen), 0);
}

static void do_set(scenario *s, int arg)
{
    (void)arg;
    co_event_set(&s->ev);
}

static void do_set_then_clear(scenario *s, int arg)
{
    (void)arg;
    co_event_set(&s->ev);
    co_event_clear(&s->ev);
}

static void do_cancel(scenario *s, int arg)
{
    cr_expect_eq(co_cancel(&s->w[arg]->gen), 1);
}

static void do_release_sem(scenario *s, int arg)
{
    for (int i = 0; i < arg; i++)
        cr_expect_eq(co_sem_release(&s->sem), 0);
}

/* ------------------------------------------------ event */

Test(sync, event_set_wakes_every_waiter_in_order)
{
    static const step steps[] = {{10, do_set, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_EVENT, 3, steps);
    run_scenario(loop, s);
    cr_expect_str_eq(rt.log, "0 got it at 10\n1 got it at 10\n2 got it at 10\n");
    cr_expect(co_event_is_set(&s->ev));
    rt_free_loop(loop);
}

Test(sync, a_waiter_woken_by_set_returns_even_if_cleared_before_it_runs)
{
    static const step steps[] = {{10, do_set_then_clear, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_EVENT, 2, steps);
    run_scenario(loop, s);
    cr_expect_str_eq(rt.log, "0 got it at 10\n1 got it at 10\n");
    cr_expect_not(co_event_is_set(&s->ev));
    rt_free_loop(loop);
}

/* wait on a set event returns at once; after clear it waits again. */
typedef struct {
    co_gen gen;
    co_event ev;
    co_event *target; /* the setter's: the event to set after 20 ms */
    int64_t t[2];
} event_user;

static int event_setter_fn(co_gen *g)
{
    event_user *self = (event_user *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 20);
    co_event_set(self->target);
    CO_END(self);
}

static int event_user_fn(co_gen *g)
{
    event_user *self = (event_user *)g;
    CO_BEGIN(self);
    co_event_init(&self->ev);
    co_event_set(&self->ev);
    CO_EVENT_WAIT(self, &self->ev);
    self->t[0] = rt_ms(co_running_loop());
    co_event_clear(&self->ev);
    {
        event_user *setter = CO_NEW(co_running_loop(), event_user, event_setter_fn);
        cr_assert_not_null(setter);
        setter->target = &self->ev;
        rt_spawn(&setter->gen);
    }
    CO_EVENT_WAIT(self, &self->ev);
    self->t[1] = rt_ms(co_running_loop());
    CO_END(self);
}

Test(sync, event_wait_on_a_set_event_returns_at_once_and_clear_rearms)
{
    co_loop *loop = rt_loop();
    event_user *u = CO_NEW(loop, event_user, event_user_fn);
    cr_assert_eq(co_run(loop, &u->gen), 0);
    cr_expect_eq(u->t[0], 0);
    cr_expect_eq(u->t[1], 20);
    rt_free_loop(loop);
}

Test(sync, a_cancelled_event_waiter_leaves_the_others_waiting)
{
    static const step steps[] = {{10, do_cancel, 1}, {10, do_set, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_EVENT, 3, steps);
    run_scenario(loop, s);
    cr_expect_str_eq(rt.log, "1: task cancelled\n0 got it at 20\n2 got it at 20\n");
    rt_free_loop(loop);
}

Test(sync, an_event_waiter_cancelled_after_set_is_cancelled_and_the_others_run)
{
    static const step steps[] = {{10, do_set, 0}, {-1, do_cancel, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_EVENT, 2, steps);
    run_scenario(loop, s);
    /* asyncio: the woken task's cancel() throws CancelledError at its await */
    cr_expect_str_eq(rt.log, "0: task cancelled\n1 got it at 10\n");
    rt_free_loop(loop);
}

/* ------------------------------------------------ lock */

/* Main holds the lock for 10 ms while the waiters queue up. */
typedef struct {
    co_gen gen;
    scenario *s;
} lock_holder;

static int lock_holder_fn(co_gen *g)
{
    lock_holder *self = (lock_holder *)g;
    CO_BEGIN(self);
    CO_LOCK_ACQUIRE(self, &self->s->lock);
    rt_log("holder got it");
    rt_spawn(&self->s->gen);
    CO_SLEEP(self, 5);
    cr_assert_eq(co_lock_release(&self->s->lock), 0);
    CO_AWAIT_TASK(self, &self->s->gen);
    CO_END(self);
}

static void run_locked(co_loop *loop, scenario *s)
{
    lock_holder *h = CO_NEW(loop, lock_holder, lock_holder_fn);
    h->s = s;
    cr_assert_eq(co_run(loop, &h->gen), 0);
}

Test(sync, lock_goes_to_its_waiters_in_fifo_order)
{
    static const step steps[] = {{0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_LOCK, 3, steps);
    for (int i = 0; i < 3; i++)
        s->w[i]->hold = 10;
    run_locked(loop, s);
    cr_expect_str_eq(rt.log, "holder got it\n0 got it at 5\n1 got it at 15\n2 got it at 25\n");
    cr_expect_not(co_lock_locked(&s->lock));
    rt_free_loop(loop);
}

Test(sync, a_cancelled_lock_waiter_leaves_the_queue_intact)
{
    static const step steps[] = {{1, do_cancel, 1}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_LOCK, 3, steps);
    run_locked(loop, s);
    cr_expect_str_eq(rt.log, "holder got it\n1: task cancelled\n0 got it at 5\n2 got it at 5\n");
    cr_expect_not(co_lock_locked(&s->lock));
    rt_free_loop(loop);
}

/* A lock handed to a waiter cancelled before it ran goes to the next. */
typedef struct {
    co_gen gen;
    scenario *s;
} handing_holder;

static int handing_holder_fn(co_gen *g)
{
    handing_holder *self = (handing_holder *)g;
    CO_BEGIN(self);
    CO_LOCK_ACQUIRE(self, &self->s->lock);
    for (int i = 0; i < self->s->nw; i++)
        rt_spawn(&self->s->w[i]->gen);
    CO_SLEEP(self, 5); /* they all wait now */
    cr_assert_eq(co_lock_release(&self->s->lock), 0); /* to waiter 0 */
    cr_assert_eq(co_cancel(&self->s->w[0]->gen), 1);  /* before it runs */
    CO_SLEEP(self, 100);
    CO_END(self);
}

Test(sync, a_lock_handed_to_a_cancelled_waiter_passes_to_the_next)
{
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_LOCK, 3, NULL);
    handing_holder *h = CO_NEW(loop, handing_holder, handing_holder_fn);
    h->s = s;
    s->w[1]->hold = 10;
    cr_assert_eq(co_run(loop, &h->gen), 0);
    cr_expect_str_eq(rt.log, "0: task cancelled\n1 got it at 5\n2 got it at 15\n");
    cr_expect_not(co_lock_locked(&s->lock), "released by 2 and by nobody else");
    rt_free_loop(loop);
}

/* Not re-entrant: a second acquire by the holder waits (here: times out). */
typedef struct {
    co_gen gen;
    co_lock lock;
    co_deadline deadline;
    struct {
        co_gen gen;
        co_lock *lock;
    } again;
    int rc_unlocked;
} reentry;

static int acquire_fn(co_gen *g)
{
    typedef struct {
        co_gen gen;
        co_lock *lock;
    } acquirer;
    acquirer *self = (acquirer *)g;
    CO_BEGIN(self);
    CO_LOCK_ACQUIRE(self, self->lock);
    CO_END(self);
}

static int reentry_fn(co_gen *g)
{
    reentry *self = (reentry *)g;
    CO_BEGIN(self);
    co_lock_init(&self->lock);
    self->rc_unlocked = co_lock_release(&self->lock);
    CO_LOCK_ACQUIRE(self, &self->lock);
    CO_INIT(&self->again, acquire_fn);
    self->again.lock = &self->lock;
    CO_WAIT_FOR(self, &self->deadline, again, 50);
    CO_END(self);
}

Test(sync, lock_is_not_reentrant_and_release_of_an_unheld_lock_fails)
{
    co_loop *loop = rt_loop();
    reentry *r = CO_NEW(loop, reentry, reentry_fn);
    cr_expect_eq(co_run(loop, &r->gen), CO_ETIMEOUT, "the second acquire blocked");
    cr_expect_eq(r->rc_unlocked, CO_ENOTLOCKED);
    cr_expect(co_lock_locked(&r->lock), "still held by the first acquire");
    cr_expect_null(r->lock.waiters.head, "the timed-out acquire left the queue");
    rt_free_loop(loop);
}

/* The lock handed to a woken waiter cannot be taken by the task that
 * released it (nor anyone else) before that waiter runs. */
typedef struct {
    co_gen gen;
    scenario *s;
} overtaker;

static int overtaker_fn(co_gen *g)
{
    overtaker *self = (overtaker *)g;
    CO_BEGIN(self);
    CO_LOCK_ACQUIRE(self, &self->s->lock);
    rt_spawn(&self->s->w[0]->gen);
    CO_SLEEP(self, 5);
    cr_assert_eq(co_lock_release(&self->s->lock), 0);
    CO_LOCK_ACQUIRE(self, &self->s->lock); /* at once: queues behind waiter 0 */
    rt_log("main again at %lld", (long long)rt_ms(co_running_loop()));
    cr_assert_eq(co_lock_release(&self->s->lock), 0);
    CO_END(self);
}

Test(sync, a_newcomer_does_not_overtake_a_woken_lock_waiter)
{
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_LOCK, 1, NULL);
    overtaker *o = CO_NEW(loop, overtaker, overtaker_fn);
    o->s = s;
    s->w[0]->hold = 10;
    cr_assert_eq(co_run(loop, &o->gen), 0);
    cr_expect_str_eq(rt.log, "0 got it at 5\nmain again at 15\n");
    cr_expect_not(co_lock_locked(&s->lock));
    rt_free_loop(loop);
}

/* ------------------------------------------------ semaphore */

Test(sync, semaphore_permits_go_to_waiters_in_fifo_order)
{
    static const step steps[] = {{10, do_release_sem, 1}, {10, do_release_sem, 2},
                                 {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_SEM, 3, steps);
    for (int i = 0; i < 3; i++)
        s->w[i]->hold = 100;
    run_scenario(loop, s);
    cr_expect_str_eq(rt.log, "0 got it at 10\n1 got it at 20\n2 got it at 20\n");
    cr_expect_eq(co_sem_value(&s->sem), 3, "each waiter gave its permit back");
    rt_free_loop(loop);
}

Test(sync, a_cancelled_semaphore_waiter_passes_its_permit_on)
{
    static const step steps[] = {{10, do_release_sem, 1}, {-1, do_cancel, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_SEM, 2, steps);
    s->w[1]->hold = 5;
    run_scenario(loop, s);
    cr_expect_str_eq(rt.log, "0: task cancelled\n1 got it at 10\n");
    cr_expect_eq(co_sem_value(&s->sem), 1, "one permit, not lost nor doubled");
    rt_free_loop(loop);
}

Test(sync, a_cancelled_semaphore_waiter_leaves_the_queue_intact)
{
    static const step steps[] = {{10, do_cancel, 0}, {10, do_release_sem, 1}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    scenario *s = new_scenario(loop, PRIM_SEM, 2, steps);
    s->w[1]->hold = 5;
    run_scenario(loop, s);
    cr_expect_str_eq(rt.log, "0: task cancelled\n1 got it at 20\n");
    cr_expect_eq(co_sem_value(&s->sem), 1);
    rt_free_loop(loop);
}

Test(sync, semaphore_counts_and_a_bounded_one_refuses_to_go_over)
{
    co_sem sem, bounded;
    co_sem_init(&sem, 2, 0);
    cr_expect_eq(co_sem_value(&sem), 2);
    for (int i = 0; i < 5; i++)
        cr_expect_eq(co_sem_release(&sem), 0, "an unbounded semaphore grows");
    cr_expect_eq(co_sem_value(&sem), 7);
    co_sem_init(&bounded, 2, 2);
    cr_expect_eq(co_sem_release(&bounded), CO_ESEMOVER);
    cr_expect_eq(co_sem_value(&bounded), 2);
}

/* A bounded semaphore acquired and released by tasks stays within bounds. */
typedef struct {
    co_gen gen;
    co_sem *sem;
    int over;
} sem_user;

static int sem_user_fn(co_gen *g)
{
    sem_user *self = (sem_user *)g;
    CO_BEGIN(self);
    CO_SEM_ACQUIRE(self, self->sem);
    CO_SEM_ACQUIRE(self, self->sem);
    cr_expect_eq(co_sem_value(self->sem), 0);
    cr_expect_eq(co_sem_release(self->sem), 0);
    cr_expect_eq(co_sem_release(self->sem), 0);
    self->over = co_sem_release(self->sem);
    CO_END(self);
}

Test(sync, bounded_semaphore_released_once_too_often_is_esemover)
{
    co_loop *loop = rt_loop();
    co_sem sem;
    sem_user *u = CO_NEW(loop, sem_user, sem_user_fn);
    co_sem_init(&sem, 2, 2);
    u->sem = &sem;
    cr_assert_eq(co_run(loop, &u->gen), 0);
    cr_expect_eq(u->over, CO_ESEMOVER);
    cr_expect_eq(co_sem_value(&sem), 2);
    rt_free_loop(loop);
}
