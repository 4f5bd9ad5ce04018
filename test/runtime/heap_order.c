/*
 * heap_order.c -- the timer heap (src/sched/heap.c) at a size where its
 * shortcuts matter: hundreds of timers five levels deep, most of them tied
 * on a few deadlines, armed in no order, some cancelled from the middle and
 * some re-armed.  Each fires at its deadline, never before, and equal
 * deadlines fire in the order they were (last) armed.  That pins down the
 * child chosen on the way down (a seq compared only on a tie), a new timer
 * rising past later deadlines only (it is the newest of its deadline), and
 * the last entry rising back after a removal.
 */
#include "testloop.h"

TestSuite(heap_order, .init = rt_reset);

enum { NT = 600, SPREAD = 7 };

static co_handle hs[NT];
static uint32_t rank[NT]; /* the order of each handle's last arming */
static uint32_t armed_count;
static int64_t last_when;
static uint32_t last_rank;
static int fired, expected;
static co_event all_fired;

static void check_order(void *arg)
{
    co_handle *h = arg;
    size_t i = (size_t)(h - hs);
    int64_t when = co_handle_when(h);
    co_loop *loop = co_running_loop();
    cr_assert_geq(co_now(loop), when, "h%zu fired before its deadline", i);
    cr_assert_geq(when, last_when, "h%zu (at %lld) after a later one", i, (long long)when);
    if (fired && when == last_when)
        cr_assert_gt(rank[i], last_rank, "h%zu fired before a tie armed earlier", i);
    last_when = when;
    last_rank = rank[i];
    if (++fired == expected)
        co_event_set(&all_fired);
}

static void arm(co_loop *loop, size_t i, int64_t ms)
{
    rank[i] = armed_count++;
    cr_assert_eq(co_call_at(loop, &hs[i], ms * MS, check_order, &hs[i]), 0);
}

/* A fixed pseudo-random sequence: the same heap on every run. */
static uint32_t next(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 16;
}

typedef struct {
    co_gen gen;
} armer;

static int armer_fn(co_gen *g)
{
    armer *self = (armer *)g;
    co_loop *loop = co_running_loop();
    uint32_t state = 2026;
    CO_BEGIN(self);
    for (size_t i = 0; i < NT; i++)
        arm(loop, i, 10 + next(&state) % SPREAD);
    expected = NT;
    for (size_t i = 3; i < NT; i += 7) { /* from anywhere in the heap */
        co_handle_cancel(&hs[i]);
        expected--;
    }
    for (size_t i = 5; i < NT; i += 11) /* re-armed: now the newest of its tie */
        if (i % 7 != 3) {
            co_handle_cancel(&hs[i]);
            arm(loop, i, 10 + next(&state) % SPREAD);
        }
    CO_EVENT_WAIT(self, &all_fired);
    CO_END(self);
}

Test(heap_order, ties_in_a_deep_heap_fire_in_arming_order)
{
    co_loop *loop = rt_loop();
    armer *a = CO_NEW(loop, armer, armer_fn);
    co_event_init(&all_fired);
    cr_assert_eq(co_run(loop, &a->gen), 0);
    cr_expect_eq(fired, expected, "%d fired, %d expected", fired, expected);
    rt_free_loop(loop);
}
