/*
 * time.c -- sleeping: sleep(0) as a fair yield, no early wake-ups, equal
 * deadlines in the order they were set, negative and huge sleeps, and a
 * clock read once per turn of the loop.
 */
#include "testloop.h"

TestSuite(time, .init = rt_reset);

/* ------------------------------------------------ sleep(0) */

typedef struct {
    co_gen gen;
    const char *name;
    int i, rounds;
    int64_t ns;
} yielder;

static int yielder_fn(co_gen *g)
{
    yielder *self = (yielder *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->rounds; self->i++) {
        rt_log("%s%d", self->name, self->i);
        CO_SLEEP_NS(self, self->ns);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_gen *tasks[3];
    co_gather gather;
    int64_t ns;
    int64_t t;
} fair_main;

static int late_fn(co_gen *g)
{
    yielder *self = (yielder *)g;
    CO_BEGIN(self);
    rt_log("late");
    CO_END(self);
}

static int fair_main_fn(co_gen *g)
{
    fair_main *self = (fair_main *)g;
    static const char *const names[] = {"A", "B", "C"};
    CO_BEGIN(self);
    for (int i = 0; i < 3; i++) {
        yielder *y = CO_NEW(co_running_loop(), yielder, yielder_fn);
        cr_assert_not_null(y);
        y->name = names[i];
        y->rounds = 3;
        y->ns = self->ns;
        self->tasks[i] = &y->gen;
        rt_spawn(&y->gen);
    }
    CO_SLEEP_NS(self, self->ns);
    /* made ready now: runs after the round of those already ready */
    rt_spawn(&CO_NEW(co_running_loop(), yielder, late_fn)->gen);
    CO_GATHER(self, &self->gather, self->tasks, 3, CO_GATHER_ALL);
    self->t = co_now(co_running_loop());
    CO_END(self);
}

/* The same order as asyncio (checked with Python 3.11). */
static const char fair_order[] = "A0\nB0\nC0\nA1\nB1\nC1\nlate\nA2\nB2\nC2\n";

Test(time, sleep_zero_lets_every_other_ready_task_run_first)
{
    co_loop *loop = rt_loop();
    fair_main *m = CO_NEW(loop, fair_main, fair_main_fn);
    m->ns = 0;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, fair_order);
    cr_expect_eq(m->t, 0, "sleep(0) takes no time");
    rt_free_loop(loop);
}

Test(time, a_negative_sleep_is_a_sleep_zero)
{
    co_loop *loop = rt_loop();
    fair_main *m = CO_NEW(loop, fair_main, fair_main_fn);
    m->ns = -5 * MS;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, fair_order);
    cr_expect_eq(m->t, 0);
    rt_free_loop(loop);
}

/* ------------------------------------------------ deadlines */

typedef struct {
    co_gen gen;
    int id;
    int64_t pre, ns;    /* sleeps `pre` first, then `ns` */
    int64_t armed, woke; /* co_now when the second sleep began and ended */
} timed;

static int timed_fn(co_gen *g)
{
    timed *self = (timed *)g;
    CO_BEGIN(self);
    if (self->pre)
        CO_SLEEP_NS(self, self->pre);
    self->armed = co_now(co_running_loop());
    CO_SLEEP_NS(self, self->ns);
    self->woke = co_now(co_running_loop());
    rt_log("%d", self->id);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    timed *t[8];
    int n;
    co_gather gather;
    co_gen *tasks[8];
} timed_main;

static int timed_main_fn(co_gen *g)
{
    timed_main *self = (timed_main *)g;
    CO_BEGIN(self);
    for (int i = 0; i < self->n; i++)
        self->tasks[i] = &self->t[i]->gen;
    CO_GATHER(self, &self->gather, self->tasks, (size_t)self->n, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

static timed *new_timed(co_loop *loop, int id, int64_t pre, int64_t ns)
{
    timed *t = CO_NEW(loop, timed, timed_fn);
    cr_assert_not_null(t);
    t->id = id;
    t->pre = pre;
    t->ns = ns;
    return t;
}

Test(time, sleeps_wake_in_deadline_order_and_never_early)
{
    static const int64_t ns[] = {30 * MS, 1, 10 * MS, 10 * MS + 1, 999, 20 * MS, 5 * MS, 2};
    co_loop *loop = rt_loop();
    timed_main *m = CO_NEW(loop, timed_main, timed_main_fn);
    m->n = 8;
    for (int i = 0; i < 8; i++)
        m->t[i] = new_timed(loop, i, 0, ns[i]);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "1\n7\n4\n6\n2\n3\n5\n0\n");
    for (int i = 0; i < 8; i++)
        cr_expect_geq(m->t[i]->woke - m->t[i]->armed, ns[i], "task %d woke %lld ns early", i,
                      (long long)(ns[i] - (m->t[i]->woke - m->t[i]->armed)));
    rt_free_loop(loop);
}

Test(time, equal_deadlines_fire_in_the_order_they_were_set)
{
    co_loop *loop = rt_loop();
    timed_main *m = CO_NEW(loop, timed_main, timed_main_fn);
    m->n = 5;
    /* created in reverse; task k arms at 10k ms for a deadline of 100 ms */
    for (int i = 0; i < 5; i++) {
        int k = 4 - i;
        m->t[i] = new_timed(loop, k, k * 10 * MS, (100 - k * 10) * MS);
    }
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "0\n1\n2\n3\n4\n");
    for (int i = 0; i < 5; i++)
        cr_expect_eq(m->t[i]->woke, 100 * MS);
    rt_free_loop(loop);
}

/* Many sleepers on one deadline, armed in creation order. */
typedef struct {
    co_gen gen;
    int id;
    int *order, *next;
} same_sleeper;

static int same_sleeper_fn(co_gen *g)
{
    same_sleeper *self = (same_sleeper *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 7);
    self->order[(*self->next)++] = self->id;
    CO_END(self);
}

Test(time, a_thousand_equal_deadlines_keep_their_order)
{
    enum { N = 1000 };
    static int order[N];
    int next = 0;
    co_loop *loop = rt_loop();
    same_sleeper *last = NULL;
    for (int i = 0; i < N; i++) {
        same_sleeper *s = CO_NEW(loop, same_sleeper, same_sleeper_fn);
        cr_assert_not_null(s);
        s->id = i;
        s->order = order;
        s->next = &next;
        if (i < N - 1)
            rt_spawn(&s->gen);
        last = s;
    }
    cr_assert_eq(co_run(loop, &last->gen), 0); /* main is spawned last */
    cr_assert_eq(next, N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(order[i], i, "position %d fired %d", i, order[i]);
    rt_free_loop(loop);
}

/* ------------------------------------------------ huge sleeps */

typedef struct {
    co_gen gen;
    co_gen *forever;
    int caught;
    bool woke;
} huge_main;

static int forever_fn(co_gen *g)
{
    huge_main *self = (huge_main *)g; /* same layout: only `woke` is used */
    CO_BEGIN(self);
    CO_SLEEP_NS(self, INT64_MAX);
    self->woke = true;
    CO_END(self);
}

static int huge_main_fn(co_gen *g)
{
    huge_main *self = (huge_main *)g;
    CO_BEGIN(self);
    self->forever = &CO_NEW(co_running_loop(), huge_main, forever_fn)->gen;
    rt_spawn(self->forever);
    CO_SLEEP(self, 1); /* an overflowed deadline would have fired by now */
    cr_expect(!co_done(self->forever), "the huge sleep ended early");
    co_cancel(self->forever);
    CO_AWAIT_TASK_CATCH(self, self->forever);
    self->caught = CO_THROWN(self);
    self->woke = ((huge_main *)(void *)self->forever)->woke;
    CO_END(self);
}

Test(time, huge_sleeps_clamp_instead_of_overflowing)
{
    co_loop *loop = rt_loop();
    huge_main *m = CO_NEW(loop, huge_main, huge_main_fn);
    rt.clock = INT64_MAX / 2; /* a deadline of now + INT64_MAX would wrap */
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->caught, CO_ECANCELLED);
    cr_expect_not(m->woke);
    cr_expect_eq(co_now(loop), INT64_MAX / 2 + MS);
    rt_free_loop(loop);
}

/* ------------------------------------------------ the clock */

/* A clock that moves by 1 ns at every read: co_now must not follow it
 * within a turn.  (Arming a timer reads it, so the readers are woken
 * together by an event that main sets after its sleep.) */
static int64_t ticking_clock(void *ctx)
{
    rt_state *s = ctx;
    s->clock_reads++;
    return ++s->clock;
}

typedef struct {
    co_gen gen;
    co_event *go;
    int64_t seen[2];
    size_t reads[2];
} now_reader;

static int now_reader_fn(co_gen *g)
{
    now_reader *self = (now_reader *)g;
    CO_BEGIN(self);
    CO_EVENT_WAIT(self, self->go);
    self->reads[0] = rt.clock_reads;
    for (int i = 0; i < 100; i++)
        self->seen[0] = co_now(co_running_loop());
    self->reads[1] = rt.clock_reads;
    CO_END(self);
}

typedef struct {
    co_gen gen;
    now_reader *a, *b;
    co_gen *tasks[2];
    co_gather gather;
    co_event go;
} now_main;

static int now_main_fn(co_gen *g)
{
    now_main *self = (now_main *)g;
    CO_BEGIN(self);
    self->tasks[0] = &self->a->gen;
    self->tasks[1] = &self->b->gen;
    co_event_init(&self->go);
    self->a->go = self->b->go = &self->go;
    co_spawn(self->tasks[0]);
    co_spawn(self->tasks[1]);
    CO_SLEEP(self, 2);
    co_event_set(&self->go);
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

Test(time, co_now_is_read_once_a_turn)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    now_main *m;
    opt.hooks.clock = ticking_clock;
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    m = CO_NEW(loop, now_main, now_main_fn);
    m->a = CO_NEW(loop, now_reader, now_reader_fn);
    m->b = CO_NEW(loop, now_reader, now_reader_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->a->seen[0], m->b->seen[0], "woken in one turn, they see one time");
    cr_expect_geq(m->a->seen[0], 2 * MS);
    cr_expect_eq(m->a->reads[1], m->a->reads[0], "co_now does not read the clock");
    rt_free_loop(loop);
}
