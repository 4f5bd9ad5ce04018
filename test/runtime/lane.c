/*
 * lane.c -- the timers' two homes (src/sched/heap.c): a timer armed no
 * earlier than the last one in the lane joins the lane, any other the heap.
 * Whichever holds it, a timer fires at its deadline, equal deadlines in
 * arming order across the two; cancelling from anywhere in the lane, growing
 * the lane's ring across its wrap-around, squeezing out its holes and
 * re-arming an armed timer keep that true.  Callbacks (call_at) arm the
 * timers here because a handle sets any deadline in any order; sleeps and
 * wait_for deadlines share the same structures.
 */
#include "testloop.h"

#include <stdio.h>
#include <string.h>

#include <corio/wait.h>

#ifdef RT_BARE
#include "sched/loop.h"
#endif

TestSuite(lane, .init = rt_reset);

enum { NH = 64 };

/* The handles a test arms, and their names in the log. */
static co_handle hs[NH];
static char names[NH][16]; /* "h" and an int */
/* Fires still to come; the last sets `all_fired`. */
static int to_fire;
static co_event all_fired;

/* Logs the callback's name and the time it runs at, which must be its own. */
static void log_at(void *arg)
{
    co_handle *h = arg;
    co_loop *loop = co_running_loop();
    cr_assert_eq(co_now(loop), co_handle_when(h), "fired at its deadline");
    rt_log("%s %lld", names[h - hs], (long long)rt_ms(loop));
    if (--to_fire == 0)
        co_event_set(&all_fired);
}

static void arm(co_loop *loop, int i, int64_t ms)
{
    snprintf(names[i], sizeof names[i], "h%d", i);
    cr_assert_eq(co_call_at(loop, &hs[i], ms * MS, log_at, &hs[i]), 0);
}

/* A main task that arms what `setup` says, then waits for the fires
 * without a timer of its own in the way. */
typedef struct {
    co_gen gen;
    void (*setup)(co_loop *loop);
} armer;

static int armer_fn(co_gen *g)
{
    armer *self = (armer *)g;
    CO_BEGIN(self);
    self->setup(co_running_loop());
    CO_EVENT_WAIT(self, &all_fired);
    CO_END(self);
}

/* Runs setup; `expect` is the log, one line a fire. */
static void run_setup(void (*setup)(co_loop *loop), const char *expect)
{
    co_loop *loop = rt_loop();
    armer *a = CO_NEW(loop, armer, armer_fn);
    cr_assert_not_null(a);
    a->setup = setup;
    co_event_init(&all_fired);
    to_fire = 0;
    for (const char *c = expect; *c; c++)
        to_fire += *c == '\n';
    cr_assert_eq(co_run(loop, &a->gen), 0);
    cr_expect_str_eq(rt.log, expect);
    rt_free_loop(loop);
}

/* h0@20 and h1@30 join the lane; h2@20 is earlier than the lane's last, so
 * it goes to the heap, as h4@20; h3@30 joins the lane again. */
static void ties_setup(co_loop *loop)
{
    arm(loop, 0, 20);
    arm(loop, 1, 30);
    arm(loop, 2, 20);
    arm(loop, 3, 30);
    arm(loop, 4, 20);
}

Test(lane, equal_deadlines_fire_in_arming_order_across_lane_and_heap)
{
    run_setup(ties_setup, "h0 20\nh2 20\nh4 20\nh1 30\nh3 30\n");
}

/* A heap timer armed before a lane timer with the same deadline: h2@30 goes
 * to the heap (the lane ends at 40); once h0 and h1 leave, the lane is empty
 * and h3@30 opens it again. */
static void heap_first_setup(co_loop *loop)
{
    arm(loop, 0, 10);
    arm(loop, 1, 40);
    arm(loop, 2, 30);
    co_handle_cancel(&hs[0]);
    co_handle_cancel(&hs[1]);
    arm(loop, 3, 30);
    arm(loop, 4, 30);
}

Test(lane, a_heap_timer_armed_first_fires_before_a_lane_tie)
{
    run_setup(heap_first_setup, "h2 30\nh3 30\nh4 30\n");
}

static void out_of_order_setup(co_loop *loop)
{
    arm(loop, 0, 50);
    arm(loop, 1, 10);
    arm(loop, 2, 30);
    arm(loop, 3, 60);
    arm(loop, 4, 5);
}

Test(lane, a_later_timer_then_an_earlier_one)
{
    run_setup(out_of_order_setup, "h4 5\nh1 10\nh2 30\nh0 50\nh3 60\n");
}

/* Seven in the lane (10..70); the head, one in the middle and the tail go.
 * Then h7@65 is later than the last live one (60) but earlier than the
 * cancelled tail (70): it must still fire, and before h6's old slot could. */
static void cancel_setup(co_loop *loop)
{
    for (int i = 0; i < 7; i++)
        arm(loop, i, 10 * (i + 1));
    co_handle_cancel(&hs[0]);
    co_handle_cancel(&hs[3]);
    co_handle_cancel(&hs[6]);
    arm(loop, 7, 65);
    co_handle_cancel(&hs[5]); /* the new tail's neighbour: a hole before it */
}

Test(lane, cancel_from_the_head_the_middle_and_the_tail)
{
    run_setup(cancel_setup, "h1 20\nh2 30\nh4 50\nh7 65\n");
}

static void cancel_all_setup(co_loop *loop)
{
    for (int i = 0; i < 9; i++)
        arm(loop, i, 10 + i);
    for (int i = 8; i >= 0; i -= 2) /* from the tail, then the rest */
        co_handle_cancel(&hs[i]);
    for (int i = 1; i < 9; i += 2)
        co_handle_cancel(&hs[i]);
    arm(loop, 9, 5); /* an empty lane takes any deadline */
    arm(loop, 10, 7);
}

Test(lane, cancel_all_then_start_again)
{
    run_setup(cancel_all_setup, "h9 5\nh10 7\n");
}

/* Wrap-around: 8 armed fill a ring of 8 (grown once from 4); when h4 fires, 5 of
 * them have left, and 8 more are armed from its callback: the tail wraps to
 * the array's start, then the ring is full and doubles, which moves the
 * wrapped entries.  Two cancelled after the move must not fire. */
static void wrap_more(void *arg)
{
    co_loop *loop = co_running_loop();
    log_at(arg);
    for (int i = 8; i < 16; i++)
        arm(loop, i, 100 + 10 * i);
    co_handle_cancel(&hs[9]);  /* wrapped, then moved */
    co_handle_cancel(&hs[15]); /* the tail, in the doubled ring */
}

static void wrap_setup(co_loop *loop)
{
    for (int i = 0; i < 8; i++)
        if (i == 4) {
            snprintf(names[i], sizeof names[i], "h%d", i);
            cr_assert_eq(co_call_at(loop, &hs[i], 50 * MS, wrap_more, &hs[i]), 0);
        } else
            arm(loop, i, 10 * (i + 1));
}

Test(lane, the_ring_grows_across_its_wrap_around)
{
    run_setup(wrap_setup, "h0 10\nh1 20\nh2 30\nh3 40\nh4 50\nh5 60\nh6 70\nh7 80\n"
                          "h8 180\nh10 200\nh11 210\nh12 220\nh13 230\nh14 240\n");
}

/* Holes behind a live head: two timers re-armed in turn, later each time,
 * behind h0, which stays.  Each cancel leaves a hole in the middle; the ring
 * squeezes them out instead of growing, so the memory stays put. */
typedef struct {
    co_gen gen;
    int i;
    size_t bytes_early;
} churner;

static int churner_fn(co_gen *g)
{
    churner *self = (churner *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    arm(loop, 0, 50);
    arm(loop, 1, 1000);
    arm(loop, 2, 1000);
    for (self->i = 0; self->i < 20000; self->i++) {
        int which = 1 + self->i % 2;
        co_handle_cancel(&hs[which]);
        arm(loop, which, 1001 + self->i);
        if (self->i == 100)
            self->bytes_early = rt.live_bytes;
    }
    cr_expect_eq(rt.live_bytes, self->bytes_early, "the lane did not grow");
    CO_EVENT_WAIT(self, &all_fired);
    CO_END(self);
}

Test(lane, holes_behind_a_live_head_are_squeezed_out)
{
    co_loop *loop = rt_loop();
    churner *c = CO_NEW(loop, churner, churner_fn);
    cr_assert_not_null(c);
    co_event_init(&all_fired);
    to_fire = 3;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    cr_expect_str_eq(rt.log, "h0 50\nh1 20999\nh2 21000\n");
    rt_free_loop(loop);
}

/* Re-arming an armed timer: a timeout block's deadline (100 ms, in the
 * lane) moved from a callback at 10 ms, earlier (into the heap) or later
 * than the block's sleep (the lane's end). */
static void move_cb(void *arg);

CO_ASYNC(moved, co_try tries[1]; co_timeout to; co_handle h; int64_t move_to;)
    cr_assert_eq(co_call_at(co_running_loop(), &self->h, 10 * MS, move_cb, self), 0);
    CO_TIMEOUT(self, to, 100) {
        CO_SLEEP(self, 1000);
    } CO_TIMEOUT_END(self, to);
CO_ASYNC_END

static void move_cb(void *arg)
{
    moved *m = arg;
    cr_assert_eq(co_timeout_reschedule(&m->to, m->move_to * MS), 0);
}

static void run_moved(int64_t move_to, int rc, int64_t end_ms)
{
    co_loop *loop = rt_loop();
    moved *m = CO_TASK(loop, moved, .move_to = move_to);
    cr_assert_not_null(m);
    cr_expect_eq(co_run(loop, &m->gen), rc);
    cr_expect_eq(rt_ms(loop), end_ms);
    rt_free_loop(loop);
}

Test(lane, rearming_an_armed_timer_moves_it_either_way)
{
    run_moved(40, CO_ETIMEOUT, 40);
    run_moved(500, CO_ETIMEOUT, 500);
    run_moved(2000, 0, 1000);
}

/* ----------------------------------------------------- against a model */

/* A fixed-seed xorshift: the same "random" run every time. */
static uint64_t rng_state;

static uint32_t rng(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

enum { ROUNDS = 400, OPS = 6, MAXFIRES = ROUNDS * OPS };

/* The model: what each handle was armed for, in which order, and whether it
 * is still due; the fires as they came. */
static int64_t model_when[NH];
static uint32_t model_seq[NH], armed_count, cancelled_count;
static bool model_pending[NH];
static int64_t fired_when[MAXFIRES];
static uint32_t fired_seq[MAXFIRES], nfired;

static void model_cb(void *arg)
{
    co_handle *h = arg;
    size_t i = (size_t)(h - hs);
    cr_assert(model_pending[i], "a cancelled timer fired");
    cr_assert_eq(co_now(co_running_loop()), model_when[i], "fired at its deadline");
    model_pending[i] = false;
    fired_when[nfired] = model_when[i];
    fired_seq[nfired++] = model_seq[i];
}

/* A deadline after now: one sleep length (monotone: the lane's case), a
 * random one, or a tie with a pending timer (which may sit in either). */
static int64_t pick_deadline(int64_t now)
{
    uint32_t c = rng(10), j = rng(NH);
    if (c < 4)
        return now + 20 * MS;
    if (c < 7 || !model_pending[j])
        return now + (1 + rng(40)) * MS;
    return model_when[j];
}

static void model_arm(co_loop *loop, uint32_t i)
{
    model_when[i] = pick_deadline(co_now(loop));
    model_seq[i] = armed_count++;
    model_pending[i] = true;
    cr_assert_eq(co_call_at(loop, &hs[i], model_when[i], model_cb, &hs[i]), 0);
}

static void random_ops(co_loop *loop)
{
    for (int k = 0; k < OPS; k++) {
        uint32_t i = rng(NH), op = rng(10);
        if (!model_pending[i])
            model_arm(loop, i);
        else if (op < 6) {
            co_handle_cancel(&hs[i]);
            model_pending[i] = false;
            cancelled_count++;
            if (op < 2) /* cancel and arm again, later or earlier */
                model_arm(loop, i);
        }
    }
}

typedef struct {
    co_gen gen;
    int round;
} driver;

/* Each round after the fires due by then: a few random operations, then a
 * sleep of 0 to 7 ms (its own timer among the others). */
static int driver_fn(co_gen *g)
{
    driver *self = (driver *)g;
    CO_BEGIN(self);
    for (self->round = 0; self->round < ROUNDS; self->round++) {
        random_ops(co_running_loop());
        CO_SLEEP_NS(self, rng(8) * MS);
    }
    CO_SLEEP(self, 100); /* past every deadline */
    CO_END(self);
}

Test(lane, a_random_mix_fires_as_the_model_says)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        co_loop *loop = rt_loop();
        driver *d = CO_NEW(loop, driver, driver_fn);
        cr_assert_not_null(d);
        rng_state = 0x9E3779B97F4A7C15u * seed;
        memset(model_pending, 0, sizeof model_pending);
        armed_count = cancelled_count = nfired = 0;
        cr_assert_eq(co_run(loop, &d->gen), 0);
        cr_expect_eq(nfired, armed_count - cancelled_count, "every timer not cancelled fired");
        for (uint32_t k = 1; k < nfired; k++)
            cr_assert(fired_when[k - 1] < fired_when[k] ||
                          (fired_when[k - 1] == fired_when[k] && fired_seq[k - 1] < fired_seq[k]),
                      "fire %u out of (deadline, arming) order", k);
        rt_free_loop(loop);
    }
}

/* ---------------------------------------------- sleeps, deadlines, callbacks */

/* sleep(ms), then a line */
CO_ASYNC(napper, const char *name; int ms;)
    CO_SLEEP(self, self->ms);
    rt_log("%s woke %lld", self->name, (long long)rt_ms(co_running_loop()));
CO_ASYNC_END

/* wait_for(napper(50), 10), caught */
CO_ASYNC(bounded, co_deadline d; napper child;)
    CO_INIT(&self->child, napper_fn);
    self->child.name = "child";
    self->child.ms = 50;
    CO_WAIT_FOR_CATCH(self, &self->d, child, 10);
    rt_log("bounded: %s at %lld", co_strerror(CO_THROWN(self)), (long long)rt_ms(co_running_loop()));
CO_ASYNC_END

/* At 10 ms fire, in arming order: s1's sleep and c1 (the lane), s0's 20 ms
 * sleep closing the lane, then w's deadline and s2's sleep (the heap, being
 * earlier than 20).  c1 runs as it fires; the woken tasks run after, in the
 * order their timers fired. */
CO_ASYNC(mixer, napper *s0, *s1, *s2; bounded *w;)
    self->s1 = CO_TASK(co_running_loop(), napper, .name = "s1", .ms = 10);
    rt_spawn(&self->s1->gen);
    CO_SLEEP(self, 0);
    snprintf(names[0], sizeof names[0], "c1");
    cr_assert_eq(co_call_at(co_running_loop(), &hs[0], 10 * MS, log_at, &hs[0]), 0);
    self->s0 = CO_TASK(co_running_loop(), napper, .name = "s0", .ms = 20);
    self->w = CO_TASK(co_running_loop(), bounded, .child = {.ms = 50});
    self->s2 = CO_TASK(co_running_loop(), napper, .name = "s2", .ms = 10);
    rt_spawn(&self->s0->gen);
    rt_spawn(&self->w->gen);
    rt_spawn(&self->s2->gen);
    CO_AWAIT_TASK(self, &self->s0->gen);
    CO_AWAIT_TASK(self, &self->s1->gen);
    CO_AWAIT_TASK(self, &self->w->gen);
    CO_AWAIT_TASK(self, &self->s2->gen);
    co_release(&self->s0->gen);
    co_release(&self->s1->gen);
    co_release(&self->w->gen);
    co_release(&self->s2->gen);
CO_ASYNC_END

Test(lane, sleeps_deadlines_and_callbacks_share_the_order)
{
    co_loop *loop = rt_loop();
    mixer *m = CO_TASK(loop, mixer, .s0 = NULL);
    cr_assert_not_null(m);
    to_fire = 1;
    co_event_init(&all_fired);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "c1 10\n"
                             "s1 woke 10\n"
                             "bounded: timed out at 10\n"
                             "s2 woke 10\n"
                             "s0 woke 20\n");
    rt_free_loop(loop);
}

#ifdef RT_BARE
/* Where they went: sleeps of one length all in the lane, the heap unused. */
CO_ASYNC(counter, int i; napper *t[100];)
    for (self->i = 0; self->i < 100; self->i++) {
        self->t[self->i] = CO_TASK(co_running_loop(), napper, .name = "n", .ms = 10);
        rt_spawn(&self->t[self->i]->gen);
    }
    CO_SLEEP(self, 0);
    cr_expect_eq(co_running_loop()->timers.n, 0, "nothing in the heap");
    cr_expect_eq(co_running_loop()->timers.live, 100, "every sleep in the lane");
    for (self->i = 0; self->i < 100; self->i++) {
        CO_AWAIT_TASK(self, &self->t[self->i]->gen);
        co_release(&self->t[self->i]->gen);
    }
CO_ASYNC_END

Test(lane, sleeps_of_one_length_stay_out_of_the_heap)
{
    co_loop *loop = rt_loop();
    counter *c = CO_TASK(loop, counter, .i = 0);
    cr_assert_not_null(c);
    cr_assert_eq(co_run(loop, &c->gen), 0);
    rt_free_loop(loop);
}
#endif

/* A lane that grows while it drains: the fires arm one or two more in
 * turn (1, 2, 2), later each time, so the lane grows by two entries every
 * three fires and each doubling finds the head about one and a half rings
 * on: its position has the old capacity's bit, the case the wrap-around
 * test above does not meet. */
enum { CHAIN = 300 };
static int chain_next, chain_armed;
static co_handle chain[CHAIN];

static void chain_cb(void *arg)
{
    co_handle *h = arg;
    co_loop *loop = co_running_loop();
    cr_assert_eq((int)(h - chain), chain_next, "fired in arming order");
    chain_next++;
    for (int k = chain_next % 3 == 1; k < 2 && chain_armed < CHAIN; k++, chain_armed++)
        cr_assert_eq(co_call_at(loop, &chain[chain_armed], (chain_armed + 1) * MS, chain_cb,
                                &chain[chain_armed]),
                     0);
    if (chain_next == CHAIN)
        co_event_set(&all_fired);
}

static void chain_setup(co_loop *loop)
{
    chain_next = 0;
    chain_armed = 1;
    cr_assert_eq(co_call_at(loop, &chain[0], MS, chain_cb, &chain[0]), 0);
}

Test(lane, a_lane_that_grows_as_it_drains)
{
    run_setup(chain_setup, "");
    cr_expect_eq(chain_next, CHAIN);
}
