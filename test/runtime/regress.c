/*
 * regress.c -- the runtime's first bugs, found by this suite, each kept as a
 * test of the behaviour asyncio has (the comment above each says which).
 */
#include "testloop.h"

#include <errno.h>

TestSuite(regress, .init = rt_reset);

/* A clock hook that never moves by itself: the loop's autojump is the only
 * source of time, as with trio's MockClock. */
static int64_t frozen_clock(void *ctx)
{
    (void)ctx;
    return 0;
}

typedef struct {
    co_gen gen;
    int64_t after_sleep, after_yield;
} clock_watcher;

static int clock_watcher_fn(co_gen *g)
{
    clock_watcher *self = (clock_watcher *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1000);
    self->after_sleep = co_now(co_running_loop());
    CO_SLEEP(self, 0); /* a turn with a ready task reads the clock hook */
    self->after_yield = co_now(co_running_loop());
    CO_END(self);
}

/* sched.c wait_and_fire(): with autojump, a turn that has a ready task sets
 * loop->now = read_clock(loop), undoing the jumps.  asyncio's time() is
 * monotonic; the fix is to keep now = max(now, clock) (or an offset added
 * by each jump) so a sleep never wakes before its deadline. */
Test(regress, co_now_never_goes_back_after_an_autojump)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    clock_watcher *w;
    opt.hooks.clock = frozen_clock;
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    w = CO_NEW(loop, clock_watcher, clock_watcher_fn);
    cr_assert_eq(co_run(loop, &w->gen), 0);
    cr_expect_eq(w->after_sleep, 1000 * MS);
    cr_expect_geq(w->after_yield, w->after_sleep, "co_now went from %lld back to %lld",
                  (long long)w->after_sleep, (long long)w->after_yield);
    cr_expect_geq(co_now(loop), 1000 * MS, "after co_run: %lld", (long long)co_now(loop));
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
} empty;

static int empty_fn(co_gen *g)
{
    empty *self = (empty *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 0);
    CO_END(self);
}

/* sched.c register_task(): the loop's list of tasks is allocated (64
 * entries, doubled) when the first task registers, so on a fresh loop the
 * first CO_TASK_STORAGE task allocates; sched.h promises "Caller-provided
 * storage for a task: no allocation", and firmware with no heap needs it.
 * An intrusive list through co_task (or a list allocated by co_loop_new)
 * would keep the promise. */
Test(regress, caller_storage_allocates_nothing_on_a_fresh_loop)
{
    static CO_TASK_STORAGE(empty) storage;
    co_loop *loop = rt_loop();
    size_t before = rt.alloc_calls;
    CO_INIT(&storage.frame, empty_fn);
    cr_assert_eq(co_task_init(loop, &storage.task, &storage.frame.gen), 0);
    cr_assert_eq(co_run(loop, &storage.frame.gen), 0);
    cr_expect_eq(rt.alloc_calls, before, "%zu allocations", rt.alloc_calls - before);
    rt_free_loop(loop);
}

/* A worker for the tests below: sleeps, records its cleanup. */
typedef struct {
    co_gen gen;
    int ms;
    int seen;
    int64_t cleaned_at;
} sleeper;

static int sleeper_fn(co_gen *g)
{
    sleeper *self = (sleeper *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        self->cleaned_at = rt_ms(co_running_loop());
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_gen *target;
    int caught;
    bool target_done;
} task_awaiter;

static int task_awaiter_fn(co_gen *g)
{
    task_awaiter *self = (task_awaiter *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK(self, self->target);
    CO_FINALLY(self)
    {
        self->caught = CO_THROWN(self);
        self->target_done = co_done(self->target);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    sleeper *child;
    task_awaiter *waiter;
} propagate_main;

static int propagate_main_fn(co_gen *g)
{
    propagate_main *self = (propagate_main *)g;
    CO_BEGIN(self);
    self->child = CO_NEW(co_running_loop(), sleeper, sleeper_fn);
    self->child->ms = 10000;
    self->waiter = CO_NEW(co_running_loop(), task_awaiter, task_awaiter_fn);
    self->waiter->target = &self->child->gen;
    rt_spawn(&self->child->gen);
    rt_spawn(&self->waiter->gen);
    CO_SLEEP(self, 1000);
    co_cancel(&self->waiter->gen);
    CO_AWAIT_TASK_CATCH(self, &self->waiter->gen);
    CO_END(self);
}

/* sched.c unhook(), case CO__W_TASK: cancelling a task that awaits another
 * task only takes it off the awaiters.  In asyncio, Task.cancel() cancels
 * the future it waits on, so `await task` passes the cancellation into the
 * awaited task; the awaiter gets CancelledError once that task finished
 * (Python 3.11 prints "child cancelled" before "waiter cancelled").  Fix:
 * for CO__W_TASK, cancel wait_on and keep waiting for it (like gather). */
Test(regress, cancelling_an_awaiter_cancels_the_awaited_task)
{
    co_loop *loop = rt_loop();
    propagate_main *m = CO_NEW(loop, propagate_main, propagate_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->waiter->caught, CO_ECANCELLED);
    cr_expect(m->waiter->target_done, "the awaiter ended before the task it awaited");
    cr_expect_eq(m->child->seen, CO_ECANCELLED);
    rt_free_loop(loop);
}

/* sched.c: a caller-storage task stays in the loop's list of tasks until
 * co_loop_free (co_release ignores it, finish_task keeps it), so storage
 * reused for a new task (co_task_init again once done, as a periodic job on
 * firmware would) adds one entry each time and the list grows without end.
 * A finished caller-storage task should leave the list (or co_task_init of
 * a registered task should reuse its entry). */
Test(regress, reusing_caller_storage_does_not_grow_memory)
{
    static CO_TASK_STORAGE(empty) storage;
    co_loop *loop = rt_loop();
    size_t live = 0;
    for (int i = 0; i < 1000; i++) {
        CO_INIT(&storage.frame, empty_fn);
        cr_assert_eq(co_task_init(loop, &storage.task, &storage.frame.gen), 0);
        cr_assert_eq(co_run(loop, &storage.frame.gen), 0);
        if (i == 0)
            live = rt.live_bytes;
    }
    cr_expect_eq(rt.live_bytes, live, "%zu bytes grew to %zu", live, rt.live_bytes);
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    sleeper *kid;
    co_gen *tasks[2];
    co_gather gather;
    bool done;
} dup_main;

static int dup_main_fn(co_gen *g)
{
    dup_main *self = (dup_main *)g;
    CO_BEGIN(self);
    self->kid = CO_NEW(co_running_loop(), sleeper, sleeper_fn);
    self->kid->ms = 10;
    self->tasks[0] = self->tasks[1] = &self->kid->gen;
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_FIRST_ERROR);
    self->done = true;
    CO_END(self);
}

/* sched.c co__gather_start(): a task named twice in one gather counts twice
 * in `pending` but reports once, so the gather never ends (the loop then
 * blocks in the backend for ever: this test times out).  asyncio.gather(t,
 * t) returns [r, r] (Python 3.11).  Fix: skip a task whose group is already
 * this gather when adopting the children. */
Test(regress, a_task_named_twice_in_one_gather, .timeout = 5)
{
    co_loop *loop = rt_loop();
    dup_main *m = CO_NEW(loop, dup_main, dup_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect(m->done);
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    co_deadline deadline;
    sleeper *task;
    bool task_done;
} wait_for_task_waiter;

static int wait_for_task_waiter_fn(co_gen *g)
{
    wait_for_task_waiter *self = (wait_for_task_waiter *)g;
    CO_BEGIN(self);
    rt_spawn(&self->task->gen);
    CO_WAIT_FOR_TASK(self, &self->deadline, &self->task->gen, 100);
    CO_FINALLY(self)
    {
        self->task_done = co_done(&self->task->gen);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    wait_for_task_waiter *w;
} wft_main;

static int wft_main_fn(co_gen *g)
{
    wft_main *self = (wft_main *)g;
    CO_BEGIN(self);
    rt_spawn(&self->w->gen);
    CO_SLEEP(self, 10);
    co_cancel(&self->w->gen);
    CO_AWAIT_TASK_CATCH(self, &self->w->gen);
    CO_END(self);
}

/* The same gap as above, through CO_WAIT_FOR_TASK: asyncio.wait_for(task)
 * cancelled from outside cancels the task and waits for it before raising
 * CancelledError (Python 3.11: "job cancelled" comes before "waiter
 * cancelled; job done: True").  corio leaves the task running. */
Test(regress, cancelling_a_wait_for_task_cancels_the_task)
{
    co_loop *loop = rt_loop();
    wft_main *m = CO_NEW(loop, wft_main, wft_main_fn);
    m->w = CO_NEW(loop, wait_for_task_waiter, wait_for_task_waiter_fn);
    m->w->task = CO_NEW(loop, sleeper, sleeper_fn);
    m->w->task->ms = 1000;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(co_task_result(&m->w->gen), CO_ECANCELLED);
    cr_expect(m->w->task_done, "the waiter ended while its task still ran");
    cr_expect_eq(m->w->task->cleaned_at, 10);
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    co_group *group;
} group_body;

static int group_body_fn(co_gen *g)
{
    group_body *self = (group_body *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_group group;
    group_body body;
    sleeper *late;
    int late_rc;
} finished_group_owner;

static int finished_group_owner_fn(co_gen *g)
{
    finished_group_owner *self = (finished_group_owner *)g;
    CO_BEGIN(self);
    co_group_init(&self->group);
    CO_INIT(&self->body, group_body_fn);
    self->body.group = &self->group;
    CO_GROUP_RUN(self, &self->group, body);
    self->late_rc = co_group_spawn(&self->group, &self->late->gen);
    CO_SLEEP(self, 1);
    co_group_fini(&self->group);
    CO_END(self);
}

/* sched.c co_group_spawn(): once CO_GROUP_RUN has returned, the group still
 * accepts members (owner set, not aborting), which nobody will wait for.
 * asyncio raises RuntimeError("TaskGroup ... is finished").  Fix: mark the
 * group finished in co__group_end and refuse spawns (CO_EBADARG or a
 * dedicated code) from then on. */
Test(regress, spawning_into_a_finished_group_fails)
{
    co_loop *loop = rt_loop();
    finished_group_owner *o = CO_NEW(loop, finished_group_owner, finished_group_owner_fn);
    o->late = CO_NEW(loop, sleeper, sleeper_fn);
    o->late->ms = 1000;
    cr_assert_eq(co_run(loop, &o->gen), 0);
    cr_expect_lt(o->late_rc, 0, "a finished group took a member");
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    co_queue *q;
    int value;
    int seen;
} putter;

static int putter_fn(co_gen *g)
{
    putter *self = (putter *)g;
    CO_BEGIN(self);
    CO_QUEUE_PUT(self, self->q, &self->value);
    rt_log("put %d", self->value);
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_queue q;
    int buf[1];
    putter *p[3];
    int got[2];
} putters_main;

static int putters_main_fn(co_gen *g)
{
    putters_main *self = (putters_main *)g;
    CO_BEGIN(self);
    co_queue_init(&self->q, self->buf, sizeof(int), 1);
    for (int i = 0; i < 3; i++) {
        self->p[i] = CO_NEW(co_running_loop(), putter, putter_fn);
        self->p[i]->q = &self->q;
        self->p[i]->value = i + 1;
        rt_spawn(&self->p[i]->gen);
    }
    CO_SLEEP(self, 10);                /* p0 put 1; p1 and p2 wait for room */
    cr_assert_eq(co_cancel(&self->p[1]->gen), 1);
    CO_SLEEP(self, 10);
    cr_assert_eq(co_queue_try_get(&self->q, &self->got[0]), 0); /* room: for p2 */
    CO_SLEEP(self, 10);
    self->got[1] = -1;
    co_queue_try_get(&self->q, &self->got[1]);
    CO_END(self);
}

/* task.c unhook() (then sched.c): for CO__W_QPUT it calls co__waitq_remove(t->wait_on, t)
 * with wait_on = the co_queue, whose first member is `getters`: a cancelled
 * putter is looked for in the getters' list and stays in `putters`.  The
 * next get then "wakes" that finished task (run again, or freed memory if it
 * was released) and p2 is never woken.  asyncio: the cancelled put() leaves
 * the putters, p2 puts its item when room is made.  Fix: in unhook, use
 * &((co_queue *)t->wait_on)->putters for CO__W_QPUT (->getters for QGET). */
Test(regress, a_cancelled_putter_leaves_the_putters_queue)
{
    co_loop *loop = rt_loop();
    putters_main *m = CO_NEW(loop, putters_main, putters_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->p[1]->seen, CO_ECANCELLED);
    cr_expect_str_eq(rt.log, "put 1\nput 3\n");
    cr_expect_eq(m->got[1], 3, "p2's item never arrived");
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    co_group *group;
    sleeper *quick;
} release_body;

typedef struct {
    co_gen gen;
    int ms, error;
} failer;

static int failer_fn(co_gen *g)
{
    failer *self = (failer *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    CO_RAISE(self, self->error);
    CO_END(self);
}

static int release_body_fn(co_gen *g)
{
    release_body *self = (release_body *)g;
    failer *f;
    CO_BEGIN(self);
    self->quick = CO_NEW(co_running_loop(), sleeper, sleeper_fn);
    self->quick->ms = 1;
    cr_assert_eq(co_group_spawn(self->group, &self->quick->gen), 0);
    co_release(&self->quick->gen); /* freed once it is done, at 1 ms */
    f = CO_NEW(co_running_loop(), failer, failer_fn);
    f->ms = 5;
    f->error = -EIO;
    cr_assert_eq(co_group_spawn(self->group, &f->gen), 0);
    co_release(&f->gen);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_group group;
    release_body body;
} release_owner;

static int release_owner_fn(co_gen *g)
{
    release_owner *self = (release_owner *)g;
    CO_BEGIN(self);
    co_group_init(&self->group);
    CO_INIT(&self->body, release_body_fn);
    self->body.group = &self->group;
    CO_GROUP_RUN(self, &self->group, body);
    CO_FINALLY(self)
    {
        co_group_fini(&self->group);
    }
    CO_END(self);
}

/* sched.c group_abort() and co_group_errors() read every member's co_task
 * through group->members, but a member released with co_release is freed
 * as soon as it finishes: when a later member fails, group_abort reads the
 * freed task (ASan: heap-use-after-free).  asyncio's TaskGroup keeps its
 * tasks alive.  Either co_release of a group member must wait for the
 * group (free in co_group_fini), or the group must drop a member from its
 * list when it finishes; sched.h should say which.  Run under ASan. */
Test(regress, a_released_group_member_is_not_used_after_it_is_freed)
{
    co_loop *loop = rt_loop();
    release_owner *o = CO_NEW(loop, release_owner, release_owner_fn);
    cr_expect_eq(co_run(loop, &o->gen), -EIO);
    rt_free_loop(loop);
}

/* sched.c co_task_new(): `total = sizeof(co_task) + size` wraps for sizes
 * near SIZE_MAX, passes the `total > UINT32_MAX` check, allocates a few
 * bytes and then zeroes `size` bytes: a crash (SIGSEGV) instead of NULL.
 * Fix: check size > UINT32_MAX - sizeof(co_task) before adding. */
Test(regress, co_task_new_of_a_size_that_wraps_returns_null)
{
    co_loop *loop = rt_loop();
    cr_expect_null(co_task_new(loop, SIZE_MAX, empty_fn));
    cr_expect_null(co_task_new(loop, SIZE_MAX - sizeof(co_task) + 1, empty_fn));
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    co_deadline deadline;
    sleeper child;
    int which;
    int64_t ms;
} huge_ms;

static int huge_ms_fn(co_gen *g)
{
    huge_ms *self = (huge_ms *)g;
    CO_BEGIN(self);
    if (self->which == 0) {
        CO_SLEEP(self, self->ms);
    } else {
        CO_INIT(&self->child, sleeper_fn);
        self->child.ms = 1;
        CO_WAIT_FOR(self, &self->deadline, child, self->ms);
    }
    CO_END(self);
}

/* sched.h CO_SLEEP and CO_WAIT_FOR compute (int64_t)(ms) * 1000000: a
 * signed overflow (undefined behaviour; UBSan aborts) for ms past about
 * 9.2e12.  asyncio.sleep(1e300) just sleeps for ever, and co__sleep already
 * clamps huge ns.  Fix: convert through a helper that saturates, e.g.
 * ms > INT64_MAX / 1000000 ? INT64_MAX : ms * 1000000.  Build this file
 * with -fsanitize=undefined to see it. */
Test(regress, huge_millisecond_sleeps_do_not_overflow)
{
    for (int which = 0; which < 2; which++) {
        co_loop *loop = rt_loop();
        huge_ms *h = CO_NEW(loop, huge_ms, huge_ms_fn);
        sleeper *stop = CO_NEW(loop, sleeper, sleeper_fn);
        h->which = which;
        h->ms = INT64_MAX / 1000; /* about 292,000 years */
        stop->ms = 5;
        rt_spawn(&h->gen);
        cr_expect_eq(co_run(loop, &stop->gen), 0);
        /* the sleep lasts until shutdown cancels it; the wait_for ends with its
           1 ms child, long before its huge deadline */
        cr_expect_eq(co_task_result(&h->gen), which == 0 ? CO_ECANCELLED : 0);
        rt_free_loop(loop);
    }
}

#ifdef RT_BARE
/* Built with the bare scheduler instead of libcorio:
 *   cc -std=c11 -DRT_BARE -Iinclude -Isrc -Itest/common test/runtime/regress.c \
 *      test/common/testloop.c src/sched.c src/heap.c src/pool.c src/sync.c \
 *      src/error.c src/bare.c -lcriterion -o regress-bare
 */
static co_event button;
static int idle_waits;

/* WFI with no timer armed: the next interrupt is the button, whose handler
 * sets an event (firmware's usual way into the tasks). */
static void interrupt_idle(void *ctx, int64_t ns)
{
    (void)ctx;
    cr_assert_eq(ns, -1, "no deadline: idle should wait for an interrupt");
    idle_waits++;
    co_event_set(&button);
}

typedef struct {
    co_gen gen;
    bool pressed;
} button_waiter;

static int button_waiter_fn(co_gen *g)
{
    button_waiter *self = (button_waiter *)g;
    CO_BEGIN(self);
    CO_EVENT_WAIT(self, &button);
    self->pressed = true;
    CO_END(self);
}

/* sched.c run_until_done(): with no reactor, no ready task and no timer,
 * can_progress() is false and co_run cancels main as a deadlock, so
 * hooks.idle is never called with -1, which src/bare.c documents ("-1:
 * nothing is scheduled"); an interrupt handler setting an event from the
 * idle hook can never wake a task that waits with no timeout.  Fix: on a
 * bare loop with an idle hook, call idle(-1) and go on instead of giving
 * up (keep the deadlock exit for a loop without one). */
Test(regress, bare_idle_waits_for_an_interrupt_when_nothing_is_scheduled)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    button_waiter *w;
    opt.hooks.idle = interrupt_idle;
    opt.autojump = false;
    co_event_init(&button);
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    w = CO_NEW(loop, button_waiter, button_waiter_fn);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    cr_expect(w->pressed);
    cr_expect_eq(idle_waits, 1);
    rt_free_loop(loop);
}
#endif

/* co_task grew to 72 bytes with the scope field, so a frame at t + 1 was
 * only 8-aligned: a frame holding a max_align_t (long double, a 16-aligned
 * user struct) was misaligned (UBSan in start_server's connections).  The
 * frame of CO_NEW and of CO_TASK_STORAGE is aligned as malloc's memory. */
typedef struct aligned_frame {
    co_gen gen;
    max_align_t strict;
} aligned_frame;

static int aligned_fn(co_gen *g)
{
    aligned_frame *self = (aligned_frame *)g;
    CO_BEGIN(self);
    CO_END(self);
}

Test(regress, every_task_frame_is_aligned_for_any_type)
{
    co_loop *loop = rt_loop();
    static CO_TASK_STORAGE(aligned_frame) storage;
    for (int i = 0; i < 5; i++) {
        aligned_frame *f = CO_NEW(loop, aligned_frame, aligned_fn);
        cr_assert_not_null(f);
        cr_expect_eq((uintptr_t)f % _Alignof(max_align_t), 0, "CO_NEW frame %d at %p", i, (void *)f);
    }
    CO_INIT(&storage.frame, aligned_fn);
    cr_expect_eq(co_task_init(loop, &storage.task, &storage.frame.gen), 0,
                 "CO_TASK_STORAGE's frame is where the task expects it");
    rt_free_loop(loop);
}
