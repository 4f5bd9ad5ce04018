/*
 * turn_clock.c -- co_loop_options.turn_clock: timers count from the turn's
 * clock, as libev's count from ev_now, instead of from the time of the call.
 *
 * Arming a timer then reads no clock at all, and a deadline is the turn's
 * co_now() plus the delay -- so a sleep or a call_later armed after the
 * turn's tasks have run for a while ends that much early (the trade-off the
 * option makes; never_early.c holds the default to the call's time).  Equal
 * deadlines still fire in arming order.  The fake clock stands for time
 * passing while a task computes.
 */
#include "testloop.h"

TestSuite(turn_clock, .init = rt_reset);

static co_loop *turn_clock_loop(void)
{
    co_loop_options opt = rt_options();
    opt.turn_clock = true;
    return rt_loop_with(&opt);
}

/* The task "computes" for ms: the clock moves on while it runs. */
static void compute(int64_t ms) { rt.clock = co_now(co_running_loop()) + ms * MS; }

/* ------------------------------------------------------- no clock read */

static void nothing(void *arg) { (void)arg; }

typedef struct {
    co_gen gen;
    co_handle h[3];
    size_t reads;   /* clock reads while arming three call_laters */
    int64_t turn;   /* co_now() before the work */
    int64_t when;   /* the first one's deadline */
} armer;

static int armer_fn(co_gen *g)
{
    armer *self = (armer *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    CO_SLEEP(self, 1); /* a turn of its own, after the first */
    self->turn = co_now(loop);
    compute(5);
    self->reads = rt.clock_reads;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(co_call_later(loop, &self->h[i], 500, nothing, NULL), 0);
    self->reads = rt.clock_reads - self->reads;
    self->when = co_handle_when(&self->h[0]);
    for (int i = 0; i < 3; i++)
        co_handle_cancel(&self->h[i]);
    CO_END(self);
}

/* Runs the armer on loop: `reads` clock reads expected while it arms, and
 * its deadline `after_ms` after the turn's clock. */
static void run_armer(co_loop *loop, size_t reads, int64_t after_ms)
{
    armer *m = CO_NEW(loop, armer, armer_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->reads, reads, "%zu clock reads for three timers", m->reads);
    cr_expect_eq(m->when, m->turn + after_ms * MS, "deadline %lld, the turn's clock %lld",
                 (long long)m->when, (long long)m->turn);
    rt_free_loop(loop);
}

Test(turn_clock, arming_reads_no_clock_and_counts_from_the_turn)
{
    run_armer(turn_clock_loop(), 0, 500);
}

/* The default, for contrast: each arm reads the clock, and counts from it. */
Test(turn_clock, without_it_each_arm_reads_the_clock) { run_armer(rt_loop(), 3, 505); }

/* -------------------------------------------------------------- a sleep */

typedef struct {
    co_gen gen;
    int64_t work_ms, sleep_ms;
    const char *name;
    int64_t turn, woke;
} sleeper;

static int sleeper_fn(co_gen *g)
{
    sleeper *self = (sleeper *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1);
    self->turn = co_now(co_running_loop());
    compute(self->work_ms);
    CO_SLEEP(self, self->sleep_ms);
    self->woke = co_now(co_running_loop());
    rt_log("%s %lld", self->name, (long long)rt_ms(co_running_loop()));
    CO_END(self);
}

Test(turn_clock, a_sleep_after_work_ends_early_by_the_work)
{
    co_loop *loop = turn_clock_loop();
    sleeper *m = CO_NEW(loop, sleeper, sleeper_fn);
    m->work_ms = 5;
    m->sleep_ms = 20;
    m->name = "s";
    cr_assert_eq(co_run(loop, &m->gen), 0);
    /* 20 ms of the turn's clock: 15 ms after the call, 5 ms early */
    cr_expect_eq(m->woke, m->turn + 20 * MS, "woke %lld ns after the turn",
                 (long long)(m->woke - m->turn));
    rt_free_loop(loop);
}

/* Three tasks of one turn (at 1 ms), each working 3 ms before its sleep:
 * their deadlines count from the same clock, so the two 10 ms sleeps tie
 * and fire in arming order, after the 5 ms one armed last.  Counted from
 * the calls (at 4, 7 and 10 ms), a fires at 14, c at 15, b at 17 ms. */
typedef struct {
    co_gen gen;
    sleeper *s[3];
    co_gen *tasks[3];
    co_gather gather;
} trio;

static int trio_fn(co_gen *g)
{
    trio *self = (trio *)g;
    CO_BEGIN(self);
    for (int i = 0; i < 3; i++)
        self->tasks[i] = &self->s[i]->gen;
    CO_GATHER(self, &self->gather, self->tasks, 3, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

static void run_trio(co_loop *loop, const char *expect)
{
    static const char *const names[3] = {"a", "b", "c"};
    trio *m = CO_NEW(loop, trio, trio_fn);
    for (int i = 0; i < 3; i++) {
        m->s[i] = CO_NEW(loop, sleeper, sleeper_fn);
        m->s[i]->work_ms = 3;
        m->s[i]->sleep_ms = i == 2 ? 5 : 10;
        m->s[i]->name = names[i];
    }
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, expect);
    rt_free_loop(loop);
}

Test(turn_clock, equal_deadlines_of_one_turn_fire_in_arming_order)
{
    run_trio(turn_clock_loop(), "c 6\na 11\nb 11\n");
}

Test(turn_clock, without_it_each_counts_from_its_call)
{
    run_trio(rt_loop(), "a 14\nc 15\nb 17\n");
}
