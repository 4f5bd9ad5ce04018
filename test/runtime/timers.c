/*
 * timers.c -- the timer heap under load: 200,000 sleeping tasks with random
 * deadlines (many equal), half of them cancelled at random while armed.
 * Every survivor wakes exactly once, at its deadline, in (deadline, arming)
 * order; no cancelled one ever wakes.
 */
#include "testloop.h"

#include <stdlib.h>

TestSuite(timers, .init = rt_reset);

enum { NTIMERS = 200000 };

/* A fixed-seed xorshift: the same "random" run every time. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct {
    co_gen gen;
    uint32_t idx;
    int64_t ns;
    int64_t woke;
    uint8_t fired, cancelled_seen;
} stress_timer;

/* Wake-ups in the order they happened. */
static uint32_t *fire_order;
static size_t nfired;

static int stress_timer_fn(co_gen *g)
{
    stress_timer *self = (stress_timer *)g;
    CO_BEGIN(self);
    CO_SLEEP_NS(self, self->ns);
    self->fired++;
    self->woke = co_now(co_running_loop());
    fire_order[nfired++] = self->idx;
    CO_FINALLY(self)
    {
        if (CO_THROWN(self) == CO_ECANCELLED)
            self->cancelled_seen++;
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    stress_timer **t;
    bool *cancel;
    int64_t last;
} stress_main;

static int stress_main_fn(co_gen *g)
{
    stress_main *self = (stress_main *)g;
    CO_BEGIN(self);
    for (uint32_t i = 0; i < NTIMERS; i++)
        rt_spawn(&self->t[i]->gen);
    CO_SLEEP(self, 0); /* they all run once and arm their sleeps, in order */
    for (uint32_t i = 0; i < NTIMERS; i++)
        if (self->cancel[i])
            cr_assert_eq(co_cancel(&self->t[i]->gen), 1);
    CO_SLEEP_NS(self, self->last + 1);
    CO_END(self);
}

/* Whether a fires before b: by deadline, then by arming (index) order. */
static bool fires_before(const stress_timer *a, const stress_timer *b)
{
    return a->ns != b->ns ? a->ns < b->ns : a->idx < b->idx;
}

Test(timers, many_random_timers_fire_once_in_order_and_cancelled_ones_never)
{
    co_loop *loop = rt_loop();
    stress_main *m = CO_NEW(loop, stress_main, stress_main_fn);
    size_t survivors = 0;
    m->t = calloc(NTIMERS, sizeof *m->t);
    m->cancel = calloc(NTIMERS, sizeof *m->cancel);
    fire_order = calloc(NTIMERS, sizeof *fire_order);
    cr_assert(m->t && m->cancel && fire_order);
    for (uint32_t i = 0; i < NTIMERS; i++) {
        stress_timer *t = CO_NEW(loop, stress_timer, stress_timer_fn);
        cr_assert_not_null(t);
        t->idx = i;
        /* 1..50 ms in whole microseconds: about four timers share a deadline */
        t->ns = (int64_t)(1 + rng() % 50000) * 1000;
        m->t[i] = t;
        m->cancel[i] = rng() & 1;
        survivors += !m->cancel[i];
        if (t->ns > m->last)
            m->last = t->ns;
    }
    cr_assert_eq(co_run(loop, &m->gen), 0);

    cr_assert_eq(nfired, survivors, "%zu wake-ups for %zu survivors", nfired, survivors);
    for (uint32_t i = 0; i < NTIMERS; i++) {
        stress_timer *t = m->t[i];
        if (m->cancel[i]) {
            cr_assert_eq(t->fired, 0, "cancelled timer %u fired", i);
            cr_assert_eq(t->cancelled_seen, 1, "timer %u", i);
        } else {
            cr_assert_eq(t->fired, 1, "timer %u fired %u times", i, t->fired);
            cr_assert_eq(t->woke, t->ns, "timer %u woke at %lld for %lld", i,
                         (long long)t->woke, (long long)t->ns);
        }
    }
    for (size_t k = 1; k < nfired; k++)
        cr_assert(fires_before(m->t[fire_order[k - 1]], m->t[fire_order[k]]),
                  "wake-up %zu (timer %u) came before %u", k, fire_order[k - 1], fire_order[k]);

    free(fire_order);
    free(m->cancel);
    free(m->t);
    rt_free_loop(loop);
}
