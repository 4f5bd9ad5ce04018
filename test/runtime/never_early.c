/*
 * never_early.c -- a deadline counts from the moment of the call, not from
 * the clock the loop read at the start of its turn.
 *
 * A task that computes for a while (here: the fake clock moves on while it
 * runs, as a real one would) and then sleeps or arms a timeout must get the
 * whole duration it asked for, counted from the call, as asyncio.sleep and
 * asyncio.wait_for do.  Before the fix the deadline was the turn's cached
 * time plus the duration, so the time spent computing was taken off it.
 */
#include "testloop.h"

TestSuite(never_early, .init = rt_reset);

/* The task "computes" for ms: the clock moves on while it runs. */
static void compute(int64_t ms) { rt.clock = co_now(co_running_loop()) + ms * MS; }

typedef struct {
    co_gen gen;
    int64_t called, woke; /* ns, on the fake clock */
} sleeper;

static int sleeper_fn(co_gen *g)
{
    sleeper *self = (sleeper *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1); /* not the first turn: a cached clock is older here */
    compute(30);
    self->called = rt.clock;
    CO_SLEEP(self, 20);
    self->woke = co_now(co_running_loop());
    CO_END(self);
}

Test(never_early, a_sleep_after_long_work_lasts_from_the_call)
{
    co_loop *loop = rt_loop();
    sleeper *m = CO_NEW(loop, sleeper, sleeper_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_geq(m->woke - m->called, 20 * MS, "a 20 ms sleep called at %lld ns woke at %lld ns",
                  (long long)m->called, (long long)m->woke);
    rt_free_loop(loop);
}

/* Two tasks in one turn: the second one's sleep starts after the first
 * one's work, not at the start of the turn. */
typedef struct {
    co_gen gen;
    int64_t work_ms, called, woke;
} worker;

static int worker_fn(co_gen *g)
{
    worker *self = (worker *)g;
    CO_BEGIN(self);
    compute(self->work_ms);
    self->called = rt.clock;
    CO_SLEEP(self, 10);
    self->woke = co_now(co_running_loop());
    CO_END(self);
}

typedef struct {
    co_gen gen;
    worker *w[2];
    co_gen *tasks[2];
    co_gather gather;
} pair;

static int pair_fn(co_gen *g)
{
    pair *self = (pair *)g;
    CO_BEGIN(self);
    self->tasks[0] = &self->w[0]->gen;
    self->tasks[1] = &self->w[1]->gen;
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

Test(never_early, the_second_task_of_a_turn_sleeps_from_its_own_call)
{
    co_loop *loop = rt_loop();
    pair *m = CO_NEW(loop, pair, pair_fn);
    for (int i = 0; i < 2; i++) {
        m->w[i] = CO_NEW(loop, worker, worker_fn);
        m->w[i]->work_ms = 25;
    }
    cr_assert_eq(co_run(loop, &m->gen), 0);
    for (int i = 0; i < 2; i++)
        cr_expect_geq(m->w[i]->woke - m->w[i]->called, 10 * MS,
                      "task %d: a 10 ms sleep called at %lld ns woke at %lld ns", i,
                      (long long)m->w[i]->called, (long long)m->w[i]->woke);
    rt_free_loop(loop);
}

/* asyncio.wait_for armed after long work: it expires no sooner than its
 * timeout after the call. */
typedef struct {
    co_gen gen;
} forever;

static int forever_fn(co_gen *g)
{
    forever *self = (forever *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1000000);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    forever *child;
    co_deadline d;
    int64_t called, expired;
} waiter;

static int waiter_fn(co_gen *g)
{
    waiter *self = (waiter *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1);
    co_spawn(&self->child->gen);
    compute(30);
    self->called = rt.clock;
    CO_WAIT_FOR_TASK(self, &self->d, &self->child->gen, 20);
    CO_FINALLY(self) { self->expired = co_now(co_running_loop()); }
    CO_END(self);
}

Test(never_early, a_wait_for_armed_after_long_work_lasts_from_the_call)
{
    co_loop *loop = rt_loop();
    waiter *m = CO_NEW(loop, waiter, waiter_fn);
    m->child = CO_NEW(loop, forever, forever_fn);
    cr_assert_eq(co_run(loop, &m->gen), CO_ETIMEOUT);
    cr_expect_geq(m->expired - m->called, 20 * MS,
                  "a 20 ms wait_for armed at %lld ns expired at %lld ns", (long long)m->called,
                  (long long)m->expired);
    rt_free_loop(loop);
}
