/*
 * asyncio3.c -- where corio used to differ from CPython, and the unbounded
 * queue:
 *   - wait_for with a timeout <= 0 times out at once, the body unrun (a
 *     task already done gives its result; one not done is cancelled);
 *   - a released lock with waiters reads unlocked until the woken waiter
 *     runs, and a newcomer still waits behind it (CPython 3.11);
 *   - wait_for around a coroutine: CO_WAIT_FOR runs it in the caller's task
 *     (3.12), CO_WAIT_FOR_TASK in a task of its own (3.11's wrapping);
 *   - asyncio.Queue(): grows through the loop's allocator; out of memory is
 *     CO_ENOMEM at the put with nothing lost.
 */
#include "testloop.h"
#include "twins.h" /* the traces CPython prints */

#include <string.h>

TestSuite(asyncio3, .init = rt_reset);

/* ------------------------------------------------ wait_for(aw, 0) */

typedef struct {
    co_gen gen;
    bool ran;
    int ret;
} body;

static int body_fn(co_gen *g)
{
    body *self = (body *)g;
    CO_BEGIN(self);
    self->ran = true;
    self->ret = 1;
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_deadline d;
    body child;
    int ms;
    int caught;
} wf0_main;

static int wf0_raise_fn(co_gen *g)
{
    wf0_main *self = (wf0_main *)g;
    CO_BEGIN(self);
    CO_INIT(&self->child, body_fn);
    CO_WAIT_FOR(self, &self->d, child, self->ms);
    rt_log("not reached");
    CO_END(self);
}

static int wf0_catch_fn(co_gen *g)
{
    wf0_main *self = (wf0_main *)g;
    CO_BEGIN(self);
    CO_INIT(&self->child, body_fn);
    CO_WAIT_FOR_CATCH(self, &self->d, child, self->ms);
    self->caught = CO_THROWN(self);
    /* a positive timeout still runs the body */
    CO_INIT(&self->child, body_fn);
    CO_WAIT_FOR_CATCH(self, &self->d, child, 1);
    cr_expect_eq(CO_THROWN(self), 0);
    cr_expect(self->child.ran);
    CO_END(self);
}

Test(asyncio3, wait_for_zero_or_less_raises_at_once_without_running_the_body)
{
    int limits[] = {0, -1, -1000};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        co_loop *loop = rt_loop();
        wf0_main *m = CO_NEW(loop, wf0_main, wf0_raise_fn);
        m->ms = limits[i];
        cr_expect_eq(co_run(loop, &m->gen), CO_ETIMEOUT, "timeout %d", limits[i]);
        cr_expect_not(m->child.ran, "timeout %d: the body never starts", limits[i]);
        cr_expect_eq(rt_ms(loop), 0);
        rt_free_loop(loop);
        cr_expect_str_eq(rt.log, "");
    }
}

Test(asyncio3, wait_for_catch_with_zero_catches_the_timeout)
{
    co_loop *loop = rt_loop();
    wf0_main *m = CO_NEW(loop, wf0_main, wf0_catch_fn);
    m->ms = 0;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->caught, CO_ETIMEOUT);
    rt_free_loop(loop);
}

/* Around a task: a done one gives its result; a pending one is cancelled
 * and awaited -- TimeoutError, unless it swallowed the cancellation. */
typedef struct {
    co_gen gen;
    int steps, i;
    bool swallow;
    bool started;
} worker;

static int worker_fn(co_gen *g)
{
    worker *self = (worker *)g;
    CO_BEGIN(self);
    self->started = true;
    for (self->i = 0; self->i < self->steps; self->i++) {
        CO_SLEEP_CATCH(self, 10);
        if (CO_THROWN(self) && self->swallow) {
            rt_log("worker swallows the cancellation");
            break;
        }
        if (CO_THROWN(self))
            CO_RAISE(self, CO_THROWN(self));
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_deadline d;
    worker *w;
    bool wait_done_first;
    int outcome;
} wf0_task_main;

static int wf0_task_fn(co_gen *g)
{
    wf0_task_main *self = (wf0_task_main *)g;
    CO_BEGIN(self);
    if (self->wait_done_first)
        CO_AWAIT_TASK(self, &self->w->gen);
    CO_WAIT_FOR_TASK(self, &self->d, &self->w->gen, 0);
    CO_FINALLY(self) { self->outcome = CO_THROWN(self); }
    CO_END(self);
}

static wf0_task_main *run_wf0_task(co_loop *loop, int steps, bool swallow, bool done_first)
{
    wf0_task_main *m = CO_NEW(loop, wf0_task_main, wf0_task_fn);
    m->w = CO_NEW(loop, worker, worker_fn);
    m->w->steps = steps;
    m->w->swallow = swallow;
    m->wait_done_first = done_first;
    co_run(loop, &m->gen);
    return m;
}

Test(asyncio3, wait_for_zero_on_tasks_as_asyncio)
{
    co_loop *loop = rt_loop();
    wf0_task_main *m = run_wf0_task(loop, 1, false, false);
    cr_expect_eq(m->outcome, CO_ETIMEOUT, "not started: cancelled before its first step");
    cr_expect_not(m->w->started);
    cr_expect_eq(rt_ms(loop), 0);
    rt_free_loop(loop);

    loop = rt_loop();
    m = run_wf0_task(loop, 1, false, true);
    cr_expect_eq(m->outcome, 0, "done already: its result, no timeout");
    rt_free_loop(loop);

    loop = rt_loop();
    m = run_wf0_task(loop, 3, true, false);
    cr_expect_eq(m->outcome, CO_ETIMEOUT, "unstarted, it cannot swallow anything");
    rt_free_loop(loop);
}

/* A running task that swallows the cancellation: its own result. */
typedef struct {
    co_gen gen;
    co_deadline d;
    worker *w;
    int outcome;
} wf0_running_main;

static int wf0_running_fn(co_gen *g)
{
    wf0_running_main *self = (wf0_running_main *)g;
    CO_BEGIN(self);
    rt_spawn(&self->w->gen);
    CO_SLEEP(self, 0); /* the worker starts sleeping */
    CO_WAIT_FOR_TASK(self, &self->d, &self->w->gen, 0);
    CO_FINALLY(self) { self->outcome = CO_THROWN(self); }
    CO_END(self);
}

Test(asyncio3, wait_for_zero_on_a_task_that_swallows_the_cancellation)
{
    co_loop *loop = rt_loop();
    wf0_running_main *m = CO_NEW(loop, wf0_running_main, wf0_running_fn);
    m->w = CO_NEW(loop, worker, worker_fn);
    m->w->steps = 3;
    m->w->swallow = true;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->outcome, 0);
    cr_expect_str_eq(rt.log, "worker swallows the cancellation\n");
    cr_expect_eq(rt_ms(loop), 0);
    rt_free_loop(loop);
}

/* ------------------------------------------------ wait_for on a coroutine */

typedef struct {
    co_gen gen;
    co_gen *caller_task;
    bool same_task;
} probe;

static int probe_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    self->same_task = co_current_task() == self->caller_task;
    rt_log("probe runs in the %s task", self->same_task ? "caller's" : "new");
    CO_SLEEP(self, 1);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_deadline d;
    probe child; /* 3.12: awaited inline      */
    probe *task; /* 3.11: wrapped in a task */
    worker *other;
} wf_main;

static int wf_main_fn(co_gen *g)
{
    wf_main *self = (wf_main *)g;
    CO_BEGIN(self);
    rt_spawn(&self->other->gen); /* ready before either body */
    rt_log("3.12 form");
    CO_INIT(&self->child, probe_fn);
    self->child.caller_task = co_current_task();
    CO_WAIT_FOR(self, &self->d, child, 100);
    rt_log("3.11 form");
    self->task->caller_task = co_current_task();
    CO_WAIT_FOR_TASK(self, &self->d, &self->task->gen, 100);
    CO_END(self);
}

static int other_fn(co_gen *g)
{
    worker *self = (worker *)g;
    CO_BEGIN(self);
    rt_log("other task steps");
    CO_END(self);
}

Test(asyncio3, wait_for_on_a_coroutine_both_cpython_behaviours)
{
    co_loop *loop = rt_loop();
    wf_main *m = CO_NEW(loop, wf_main, wf_main_fn);
    m->task = CO_NEW(loop, probe, probe_fn);
    m->other = CO_NEW(loop, worker, other_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    /* inline, the body's first step comes before the task made ready
       earlier; wrapped, it waits its turn in the ready queue */
    cr_expect_str_eq(rt.log, TWIN_WAIT_FOR_FORMS);
    cr_expect(m->child.same_task);
    cr_expect_not(m->task->same_task);
    rt_free_loop(loop);
}

/* ------------------------------------------------ the lock hand-off */

typedef struct {
    co_gen gen;
    co_lock *lock;
    const char *name;
} locker;

static int locker_fn(co_gen *g)
{
    locker *self = (locker *)g;
    CO_BEGIN(self);
    CO_LOCK_ACQUIRE(self, self->lock);
    rt_log("%s has it, locked %d", self->name, co_lock_locked(self->lock));
    CO_SLEEP(self, 0);
    cr_assert_eq(co_lock_release(self->lock), 0);
    rt_log("%s released, locked %d", self->name, co_lock_locked(self->lock));
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_lock lock;
    locker *a, *late;
    bool cancel_a;
} lock_main;

static int lock_main_fn(co_gen *g)
{
    lock_main *self = (lock_main *)g;
    CO_BEGIN(self);
    co_lock_init(&self->lock);
    CO_LOCK_ACQUIRE(self, &self->lock);
    self->a->lock = self->late->lock = &self->lock;
    rt_spawn(&self->a->gen);
    CO_SLEEP(self, 0); /* a waits */
    cr_assert_eq(co_lock_release(&self->lock), 0);
    rt_log("main released, locked %d", co_lock_locked(&self->lock));
    cr_expect_eq(co_lock_release(&self->lock), CO_ENOTLOCKED, "unlocked, as asyncio");
    if (self->cancel_a)
        co_cancel(&self->a->gen); /* woken, not run: the promise passes on */
    rt_spawn(&self->late->gen); /* a newcomer before a runs: no barging */
    CO_AWAIT_TASK_CATCH(self, &self->a->gen);
    CO_AWAIT_TASK(self, &self->late->gen);
    CO_END(self);
}

Test(asyncio3, a_released_lock_reads_unlocked_until_the_woken_waiter_runs)
{
    co_loop *loop = rt_loop();
    lock_main *m = CO_NEW(loop, lock_main, lock_main_fn);
    m->a = CO_NEW(loop, locker, locker_fn);
    m->late = CO_NEW(loop, locker, locker_fn);
    m->a->name = "a";
    m->late->name = "late";
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, TWIN_LOCK_HAND_OFF);
    rt_free_loop(loop);
}

Test(asyncio3, a_lock_promised_to_a_cancelled_waiter_goes_to_the_next)
{
    co_loop *loop = rt_loop();
    lock_main *m = CO_NEW(loop, lock_main, lock_main_fn);
    m->a = CO_NEW(loop, locker, locker_fn);
    m->late = CO_NEW(loop, locker, locker_fn);
    m->a->name = "a";
    m->late->name = "late";
    m->cancel_a = true;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, TWIN_LOCK_HAND_OFF_CANCELLED);
    cr_expect_eq(co_task_result(&m->a->gen), CO_ECANCELLED);
    rt_free_loop(loop);
}

/* ------------------------------------------------ the unbounded queue */

typedef struct {
    int id;
    char pad[29]; /* an odd size: every byte copied */
} big_item;

typedef struct {
    co_gen gen;
    co_queue q;
    big_item it;
    int i, n, rc_oom, rc_oom_try;
    bool order_ok;
} uq_main;

typedef struct {
    co_gen gen;
    co_queue *q;
    big_item it;
    int got;
} uq_getter;

static int uq_getter_fn(co_gen *g)
{
    uq_getter *self = (uq_getter *)g;
    CO_BEGIN(self);
    CO_QUEUE_GET(self, self->q, &self->it);
    self->got = self->it.id;
    rt_log("getter got %d", self->got);
    CO_END(self);
}

static big_item make_big(int id)
{
    big_item it;
    memset(&it, 0, sizeof it);
    it.id = id;
    for (size_t k = 0; k < sizeof it.pad; k++)
        it.pad[k] = (char)(id + (int)k);
    return it;
}

static int uq_main_fn(co_gen *g)
{
    uq_main *self = (uq_main *)g;
    CO_BEGIN(self);
    /* puts never wait; the ring wraps and grows several times */
    for (self->i = 0; self->i < 3; self->i++) {
        self->it = make_big(self->i);
        CO_QUEUE_PUT(self, &self->q, &self->it);
    }
    cr_assert_eq(co_queue_try_get(&self->q, &self->it), 0); /* head moves: a wrap next */
    for (self->i = 3; self->i < self->n; self->i++) {
        self->it = make_big(self->i);
        CO_QUEUE_PUT(self, &self->q, &self->it);
    }
    cr_expect_eq(co_queue_size(&self->q), (size_t)self->n - 1);
    /* out of memory at a growth: a clear error, the item not stored */
    while (co_queue_size(&self->q) & (co_queue_size(&self->q) - 1)) { /* fill to a power of two */
        self->it = make_big(self->i++);
        cr_assert_eq(co_queue_try_put(&self->q, &self->it), 0);
    }
    rt.failing = true;
    self->it = make_big(-1);
    self->rc_oom_try = co_queue_try_put(&self->q, &self->it);
    CO_QUEUE_PUT(self, &self->q, &self->it); /* raises CO_ENOMEM */
    CO_FINALLY(self)
    {
        self->rc_oom = CO_THROWN(self);
        rt.failing = false;
    }
    CO_END(self);
}

Test(asyncio3, the_unbounded_queue_grows_and_fails_cleanly_out_of_memory)
{
    co_loop *loop = rt_loop();
    uq_main *m = CO_NEW(loop, uq_main, uq_main_fn);
    big_item it;
    size_t size;
    int want = 1;
    cr_assert_eq(co_queue_init_unbounded(&m->q, loop, sizeof(big_item)), 0);
    m->n = 100;
    cr_assert_eq(co_run(loop, &m->gen), CO_ENOMEM);
    cr_expect_eq(m->rc_oom_try, CO_ENOMEM);
    cr_expect_eq(m->rc_oom, CO_ENOMEM);
    size = co_queue_size(&m->q);
    cr_expect_eq(size, 128, "nothing lost, nothing added: %zu", size);
    while (co_queue_try_get(&m->q, &it) == 0) {
        big_item expect = make_big(want++);
        cr_expect_eq(memcmp(&it, &expect, sizeof it), 0, "item %d", expect.id);
    }
    cr_expect_eq(want, 129);
    /* the allocator is back: puts work again */
    it = make_big(7);
    cr_expect_eq(co_queue_try_put(&m->q, &it), 0);
    co_queue_fini(&m->q);
    rt_free_loop(loop); /* every byte back */
}

typedef struct {
    co_gen gen;
    co_queue q;
    uq_getter *g[2];
    big_item it;
    void *ptrs[2];
} uq_wait_main;

static int uq_wait_fn(co_gen *g)
{
    uq_wait_main *self = (uq_wait_main *)g;
    co_queue pq;
    void *p = NULL;
    CO_BEGIN(self);
    self->g[0]->q = self->g[1]->q = &self->q;
    rt_spawn(&self->g[0]->gen);
    rt_spawn(&self->g[1]->gen);
    CO_SLEEP(self, 3); /* both wait on the empty queue */
    self->it = make_big(10);
    cr_assert_eq(co_queue_try_put(&self->q, &self->it), 0);
    self->it = make_big(11);
    cr_assert_eq(co_queue_try_put(&self->q, &self->it), 0);
    CO_AWAIT_TASK(self, &self->g[0]->gen);
    CO_AWAIT_TASK(self, &self->g[1]->gen);
    /* pointers: item_size = sizeof(void *) */
    cr_assert_eq(co_queue_init_unbounded(&pq, co_running_loop(), sizeof(void *)), 0);
    p = self;
    cr_assert_eq(co_queue_try_put(&pq, &p), 0);
    p = NULL;
    cr_assert_eq(co_queue_try_get(&pq, &p), 0);
    cr_expect_eq(p, self);
    co_queue_fini(&pq);
    co_queue_fini(&self->q);
    CO_END(self);
}

Test(asyncio3, getters_wait_on_an_empty_unbounded_queue_first_come_first_served)
{
    co_loop *loop = rt_loop();
    uq_wait_main *m = CO_NEW(loop, uq_wait_main, uq_wait_fn);
    cr_assert_eq(co_queue_init_unbounded(&m->q, loop, sizeof(big_item)), 0);
    m->g[0] = CO_NEW(loop, uq_getter, uq_getter_fn);
    m->g[1] = CO_NEW(loop, uq_getter, uq_getter_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "getter got 10\ngetter got 11\n");
    cr_expect_eq(co_queue_init_unbounded(NULL, loop, 1), CO_EBADARG);
    cr_expect_eq(co_queue_init_unbounded(&m->q, NULL, 1), CO_EBADARG);
    cr_expect_eq(co_queue_init_unbounded(&m->q, loop, 0), CO_EBADARG);
    rt_free_loop(loop);
}
