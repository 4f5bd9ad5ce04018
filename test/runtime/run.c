/*
 * run.c -- co_run as asyncio.run: the lecture's create_task orderings, the
 * shutdown that cancels what main left behind, running a loop from inside
 * itself, and who owns a task's memory (CO_NEW, caller storage, release).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include "testloop.h"

#ifndef RT_BARE
#include <corio/corio.h> /* co_loop_backend */
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(run, .init = rt_reset);

/* ------------------------------------------------ the lecture's foo() */

/* async def foo(text): print(text); await asyncio.sleep(3); print("also finished") */
typedef struct {
    co_gen gen;
    const char *text;
    bool cleaned;
} foo;

static int foo_fn(co_gen *g)
{
    foo *self = (foo *)g;
    CO_BEGIN(self);
    rt_log("%s", self->text);
    CO_SLEEP(self, 3000);
    rt_log("also finished");
    CO_FINALLY(self)
    {
        self->cleaned = true;
    }
    CO_END(self);
}

/* The three mains share one frame: `child` is awaited inline (a coroutine),
 * `task` is created with create_task. */
typedef struct {
    co_gen gen;
    foo child;
    foo *task;
    int64_t end_ms;
} order_main;

static int sequential_fn(co_gen *g)
{
    order_main *self = (order_main *)g;
    CO_BEGIN(self);
    rt_log("hello");
    CO_INIT(&self->child, foo_fn);
    self->child.text = "world";
    CO_AWAIT(self, child);
    rt_log("finished");
    self->end_ms = rt_ms(co_running_loop());
    CO_END(self);
}

static int fire_and_forget_fn(co_gen *g)
{
    order_main *self = (order_main *)g;
    CO_BEGIN(self);
    rt_log("hello");
    self->task = CO_NEW(co_running_loop(), foo, foo_fn);
    self->task->text = "world";
    rt_spawn(&self->task->gen);
    rt_log("finished");
    CO_END(self);
}

static int fire_then_wait_fn(co_gen *g)
{
    order_main *self = (order_main *)g;
    CO_BEGIN(self);
    rt_log("hello");
    self->task = CO_NEW(co_running_loop(), foo, foo_fn);
    self->task->text = "world";
    rt_spawn(&self->task->gen);
    rt_log("finished");
    CO_SLEEP(self, 4000);
    rt_log("finished 2");
    self->end_ms = rt_ms(co_running_loop());
    CO_END(self);
}

/* The lecture's expected output: its file when the lecture folder is beside
 * the repository, else the same text kept here. */
static char *lecture_output(const char *name, const char *fallback)
{
    const char *dir = getenv("CORIO_LECTURES_DIR");
    char path[4096];
    FILE *f;
    char *text;
    long n;
    if (dir == NULL || snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
        (f = fopen(path, "rb")) == NULL)
        return strdup(fallback);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = malloc((size_t)n + 1);
    cr_assert_not_null(text);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Runs one of the three mains as asyncio.run would; returns the main. */
static order_main *run_order_main(co_loop *loop, const char *name, co_body body)
{
    order_main *m = CO_NEW(loop, order_main, body);
    int rc;
    cr_assert_not_null(m);
    rt_log("-- %s", name);
    rc = co_run(loop, &m->gen);
    cr_assert_eq(rc, 0, "%s: co_run: %s", name, co_strerror(rc));
    return m;
}

Test(run, create_task_order_matches_the_lecture)
{
    static const char expected[] = "-- sequential\nhello\nworld\nalso finished\nfinished\n"
                                   "-- fire_and_forget\nhello\nfinished\nworld\n"
                                   "-- fire_then_wait\nhello\nfinished\nworld\nalso finished\n"
                                   "finished 2\n";
    char *want = lecture_output("create_task_order.out", expected);
    co_loop *loop;
    order_main *m;

    loop = rt_loop();
    m = run_order_main(loop, "sequential", sequential_fn);
    cr_expect_eq(m->end_ms, 3000, "awaiting the coroutine takes its 3 s");
    cr_expect(m->child.cleaned);
    rt_free_loop(loop);

    loop = rt_loop();
    m = run_order_main(loop, "fire_and_forget", fire_and_forget_fn);
    /* main ended first: the task got its first step, then was cancelled */
    cr_expect_eq(co_task_result(&m->task->gen), CO_ECANCELLED);
    cr_expect(m->task->cleaned, "the cancelled task's CO_FINALLY ran at shutdown");
    cr_expect_eq(rt_ms(loop), 0, "shutdown does not wait for the sleep");
    rt_free_loop(loop);

    loop = rt_loop();
    m = run_order_main(loop, "fire_then_wait", fire_then_wait_fn);
    cr_expect_eq(co_task_result(&m->task->gen), 0);
    cr_expect_eq(m->end_ms, 4000);
    rt_free_loop(loop);

    cr_assert_str_eq(rt.log, want);
    free(want);
}

/* ------------------------------------------------ fetch_data.py */

typedef struct {
    co_gen gen;
    int ret;
} fetcher;

static int fetch_data_fn(co_gen *g)
{
    fetcher *self = (fetcher *)g;
    CO_BEGIN(self);
    rt_log("start fetching");
    CO_SLEEP(self, 2000);
    rt_log("finished fetching");
    self->ret = 123;
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int i;
    bool cleaned;
} printer;

static int print_numbers_fn(co_gen *g)
{
    printer *self = (printer *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < 10; self->i++) {
        rt_log("%d", self->i);
        CO_SLEEP(self, 450);
    }
    CO_FINALLY(self)
    {
        self->cleaned = CO_THROWN(self) == CO_ECANCELLED;
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    fetcher *fetching;
    printer *printing;
} fetch_main;

static int fetch_main_fn(co_gen *g)
{
    fetch_main *self = (fetch_main *)g;
    CO_BEGIN(self);
    self->fetching = CO_NEW(co_running_loop(), fetcher, fetch_data_fn);
    self->printing = CO_NEW(co_running_loop(), printer, print_numbers_fn);
    rt_spawn(&self->fetching->gen);
    rt_spawn(&self->printing->gen);
    CO_AWAIT_TASK(self, &self->fetching->gen);
    rt_log("{'data': %d}", self->fetching->ret);
    CO_END(self);
}

Test(run, fetch_data_cancels_the_printer_at_shutdown)
{
    static const char expected[] = "start fetching\n0\n1\n2\n3\n4\nfinished fetching\n"
                                   "{'data': 123}\n";
    char *want = lecture_output("fetch_data.out", expected);
    co_loop *loop = rt_loop();
    fetch_main *m = CO_NEW(loop, fetch_main, fetch_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, want);
    cr_expect_eq(m->printing->i, 4, "the printer was at 4 when main ended");
    cr_expect_eq(co_task_result(&m->printing->gen), CO_ECANCELLED);
    cr_expect(m->printing->cleaned, "its cleanup saw the cancellation");
    cr_expect_eq(rt_ms(loop), 2000);
    rt_free_loop(loop);
    free(want);
}

/* ------------------------------------------------ foo_bar_gather.py */

typedef struct {
    co_gen gen;
    const char *name;
    int ms;
} sleeper;

static int named_sleep_fn(co_gen *g)
{
    sleeper *self = (sleeper *)g;
    CO_BEGIN(self);
    rt_log("%s", self->name);
    CO_SLEEP(self, self->ms);
    rt_log("%s done", self->name);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_gen *tasks[2];
    co_gather gather;
} gather_main;

static int gather_main_fn(co_gen *g)
{
    gather_main *self = (gather_main *)g;
    static const char *const names[] = {"foo", "bar"};
    CO_BEGIN(self);
    for (int i = 0; i < 2; i++) {
        sleeper *s = CO_NEW(co_running_loop(), sleeper, named_sleep_fn);
        cr_assert_not_null(s);
        s->name = names[i];
        s->ms = 1000 * (i + 1);
        self->tasks[i] = &s->gen;
    }
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

Test(run, foo_bar_gather_takes_two_seconds_not_three)
{
    static const char expected[] = "foo\nbar\nfoo done\nbar done\n";
    char *want = lecture_output("foo_bar_gather.out", expected);
    co_loop *loop = rt_loop();
    gather_main *m = CO_NEW(loop, gather_main, gather_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, want);
    cr_expect_eq(rt_ms(loop), 2000);
    rt_free_loop(loop);
    free(want);
}

/* ------------------------------------------------ shutdown */

/* A task that waits on one thing and records its cleanup. */
typedef struct {
    co_gen gen;
    int kind; /* 0: sleeps, 1: waits for an event, 2: awaits another task */
    co_event *ev;
    co_gen *other;
    int cleanup_ms; /* an await inside the cleanup, like `finally: await sleep` */
    int seen;       /* the error its cleanup saw */
    int64_t cleaned_at;
} lingerer;

static int lingerer_fn(co_gen *g)
{
    lingerer *self = (lingerer *)g;
    CO_BEGIN(self);
    if (self->kind == 0)
        CO_SLEEP(self, 100000);
    else if (self->kind == 1)
        CO_EVENT_WAIT(self, self->ev);
    else
        CO_AWAIT_TASK(self, self->other);
    rt_log("not reached");
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->cleanup_ms)
            CO_SLEEP(self, self->cleanup_ms);
        self->cleaned_at = rt_ms(co_running_loop());
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    lingerer *left[4];
    co_event ev;
    int ret;
} leaving_main;

static int leaving_main_fn(co_gen *g)
{
    leaving_main *self = (leaving_main *)g;
    CO_BEGIN(self);
    co_event_init(&self->ev);
    for (int i = 0; i < 4; i++) {
        lingerer *l = CO_NEW(co_running_loop(), lingerer, lingerer_fn);
        cr_assert_not_null(l);
        l->kind = i < 3 ? i : 0;
        l->ev = &self->ev;
        l->other = i == 2 ? &self->left[0]->gen : NULL;
        l->cleanup_ms = i == 3 ? 500 : 0;
        self->left[i] = l;
        rt_spawn(&l->gen);
    }
    CO_SLEEP(self, 10); /* every task is now waiting */
    if (self->ret)
        CO_RAISE(self, self->ret);
    CO_END(self);
}

Test(run, shutdown_cancels_every_task_left_and_returns_mains_result)
{
    co_loop *loop = rt_loop();
    leaving_main *m = CO_NEW(loop, leaving_main, leaving_main_fn);
    int rc;
    m->ret = -EPROTO;
    rc = co_run(loop, &m->gen);
    cr_expect_eq(rc, -EPROTO, "co_run returns main's error, not the cancellations: %s",
                 co_strerror(rc));
    for (int i = 0; i < 4; i++) {
        lingerer *l = m->left[i];
        cr_expect(co_done(&l->gen), "task %d finished", i);
        cr_expect_eq(co_task_result(&l->gen), CO_ECANCELLED, "task %d", i);
        cr_expect_eq(l->seen, CO_ECANCELLED, "task %d's cleanup saw the cancellation", i);
    }
    /* a cleanup that awaits is waited for: co_run returns after it */
    cr_expect_eq(m->left[3]->cleaned_at, 510);
    cr_expect_eq(rt_ms(loop), 510);
    cr_expect_str_eq(rt.log, "");
    rt_free_loop(loop);
}

Test(run, returns_zero_when_main_returns_even_if_others_are_cancelled)
{
    co_loop *loop = rt_loop();
    leaving_main *m = CO_NEW(loop, leaving_main, leaving_main_fn);
    m->ret = 0;
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(co_task_result(&m->left[0]->gen), CO_ECANCELLED);
    rt_free_loop(loop);
}

/* ------------------------------------------------ nesting */

typedef struct {
    co_gen gen;
    co_loop *other_loop;
    int same_loop_rc, other_loop_rc;
    co_loop *seen_loop;
    co_gen *seen_task;
} nesting_main;

typedef struct {
    co_gen gen;
} empty;

static int nothing_fn(co_gen *g)
{
    empty *self = (empty *)g;
    CO_BEGIN(self);
    CO_END(self);
}

static int nesting_main_fn(co_gen *g)
{
    nesting_main *self = (nesting_main *)g;
    CO_BEGIN(self);
    {
        co_loop *loop = co_running_loop();
        co_gen *inner = &CO_NEW(loop, empty, nothing_fn)->gen;
        co_gen *elsewhere = &CO_NEW(self->other_loop, empty, nothing_fn)->gen;
        self->seen_loop = loop;
        self->seen_task = co_current_task();
        self->same_loop_rc = co_run(loop, inner);
        self->other_loop_rc = co_run(self->other_loop, elsewhere);
    }
    CO_END(self);
}

Test(run, running_a_loop_from_a_task_is_refused)
{
    co_loop *other = rt_loop();
    co_loop *loop = rt_loop();
    nesting_main *m = CO_NEW(loop, nesting_main, nesting_main_fn);
    m->other_loop = other;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->same_loop_rc, CO_ELOOPRUNNING);
    cr_expect_eq(m->other_loop_rc, CO_ELOOPRUNNING, "one running loop per thread");
    cr_expect_eq(m->seen_loop, loop);
    cr_expect_eq(m->seen_task, &m->gen);
    cr_expect_null(co_running_loop(), "no loop runs once co_run returned");
    cr_expect_null(co_current_task());
    co_loop_free(other);
    rt_free_loop(loop);
}

#ifndef RT_BARE
Test(run, the_loop_uses_the_backend_of_the_environment)
{
    const char *want = getenv("CORIO_BACKEND");
    co_loop *loop = rt_loop();
    if (want && *want) /* meson runs the suite once per backend */
        cr_expect_str_eq(co_loop_backend(loop), want);
    rt_free_loop(loop);
}
#endif

/* ------------------------------------------------ task memory */

typedef struct {
    co_gen gen;
    int runs;
} counted;

static int counted_fn(co_gen *g)
{
    counted *self = (counted *)g;
    CO_BEGIN(self);
    self->runs++;
    CO_SLEEP(self, 0);
    self->runs++;
    CO_END(self);
}

typedef CO_TASK_STORAGE(counted) counted_storage;

typedef struct {
    co_gen gen;
    counted_storage *kids;
    int nkids;
} storage_main;

static int storage_main_fn(co_gen *g)
{
    storage_main *self = (storage_main *)g;
    CO_BEGIN(self);
    for (int i = 0; i < self->nkids; i++) {
        CO_INIT(&self->kids[i].frame, counted_fn);
        self->kids[i].frame.runs = 0;
        cr_assert_eq(co_task_init(co_running_loop(), &self->kids[i].task,
                                  &self->kids[i].frame.gen), 0);
        rt_spawn(&self->kids[i].frame.gen);
    }
    CO_SLEEP(self, 0);
    CO_SLEEP(self, 0);
    CO_END(self);
}

/* The loop's own list of tasks is allocated with its first task (see
 * pending.c); a task made first with CO_NEW and released sets it up here. */
Test(run, caller_storage_tasks_allocate_nothing)
{
    co_loop *loop = rt_loop();
    static CO_TASK_STORAGE(storage_main) main_storage;
    static counted_storage kids[3];
    size_t before;
    co_release(&CO_NEW(loop, counted, counted_fn)->gen);
    before = rt.alloc_calls;
    CO_INIT(&main_storage.frame, storage_main_fn);
    main_storage.frame.kids = kids;
    main_storage.frame.nkids = 3;
    cr_assert_eq(co_task_init(loop, &main_storage.task, &main_storage.frame.gen), 0);
    cr_assert_eq(co_run(loop, &main_storage.frame.gen), 0);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(kids[i].frame.runs, 2);
    cr_expect_eq(rt.alloc_calls, before, "%zu allocations for tasks in caller storage",
                 rt.alloc_calls - before);
    rt_free_loop(loop);
}

Test(run, co_new_allocates_one_block_a_task_with_a_zeroed_frame)
{
    typedef struct {
        co_gen gen;
        unsigned char bytes[200];
    } big;
    co_loop *loop = rt_loop();
    size_t before = rt.allocs;
    big *b = CO_NEW(loop, big, nothing_fn);
    counted *c = CO_NEW(loop, counted, counted_fn);
    cr_assert_not_null(b);
    cr_assert_not_null(c);
    cr_expect_leq(rt.allocs - before, 3, "a block each, plus at most the loop's task list");
    for (size_t i = 0; i < sizeof b->bytes; i++)
        cr_assert_eq(b->bytes[i], 0, "byte %zu of the frame is not zeroed", i);
    cr_expect_eq(co_state(&b->gen), CO_CREATED);
    cr_expect_not(co_done(&b->gen));
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    counted *kid;
    counted *old, *while_running, *after_done;
} release_main;

static int release_main_fn(co_gen *g)
{
    release_main *self = (release_main *)g;
    CO_BEGIN(self);
    self->kid = CO_NEW(co_running_loop(), counted, counted_fn);
    rt_spawn(&self->kid->gen);
    CO_SLEEP(self, 0); /* the kid runs its first step and yields */
    self->old = self->kid;
    co_release(&self->kid->gen);
    /* still running: its block is not free, a new task gets another one */
    self->while_running = CO_NEW(co_running_loop(), counted, counted_fn);
    self->kid = NULL; /* ours no more */
    CO_SLEEP(self, 0);
    CO_SLEEP(self, 0);
    /* done: its block went back to the pool and is handed out again */
    self->after_done = CO_NEW(co_running_loop(), counted, counted_fn);
    CO_END(self);
}

Test(run, co_release_frees_a_task_once_it_is_done)
{
    co_loop *loop = rt_loop();
    release_main *m = CO_NEW(loop, release_main, release_main_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_neq((void *)m->while_running, (void *)m->old, "still running: not freed yet");
    cr_expect_eq((void *)m->after_done, (void *)m->old, "freed when it finished");
    rt_free_loop(loop);
}

Test(run, co_release_of_a_finished_or_unspawned_task_frees_it_at_once)
{
    co_loop *loop = rt_loop();
    counted *unspawned = CO_NEW(loop, counted, counted_fn);
    counted *done = CO_NEW(loop, counted, counted_fn);
    co_release(&unspawned->gen);
    cr_expect_eq((void *)CO_NEW(loop, counted, counted_fn), (void *)unspawned,
                 "an unspawned task's block is free at once");
    cr_assert_eq(co_run(loop, &done->gen), 0);
    co_release(&done->gen);
    cr_expect_eq((void *)CO_NEW(loop, counted, counted_fn), (void *)done,
                 "a finished task's block is free at once");
    rt_free_loop(loop);
}

Test(run, co_loop_free_frees_tasks_never_spawned)
{
    co_loop *loop = rt_loop();
    for (int i = 0; i < 100; i++)
        cr_assert_not_null(CO_NEW(loop, counted, counted_fn));
    rt_free_loop(loop);
}

Test(run, a_released_main_is_freed_after_co_run)
{
    co_loop *loop = rt_loop();
    counted *m = CO_NEW(loop, counted, counted_fn), *old;
    rt_spawn(&m->gen);
    co_release(&m->gen);
    old = m;
    cr_expect_neq((void *)CO_NEW(loop, counted, counted_fn), (void *)old, "freed too early");
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq((void *)CO_NEW(loop, counted, counted_fn), (void *)old,
                 "freed once co_run was done with it");
    rt_free_loop(loop);
}
