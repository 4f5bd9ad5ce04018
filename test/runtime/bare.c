/*
 * bare.c -- the portable scheduler alone, as firmware runs it: sched.c,
 * heap.c, sync.c, error.c and src/bare.c compiled into this test with no
 * POSIX reactor, time from a millisecond tick counter, and an idle hook
 * standing for the WFI that sleeps until the next timer interrupt.
 */
#include "testloop.h"

TestSuite(bare, .init = rt_reset);

/* The board: a 1 kHz tick, advanced only while the CPU idles. */
static int64_t ticks;
static int idle_calls;
static int64_t idle_asked; /* ns the last idle call was asked to wait */

static int64_t tick_clock(void *ctx)
{
    (void)ctx;
    return ticks * MS;
}

/* WFI: the next tick interrupt that reaches the deadline wakes the CPU. */
static void tick_idle(void *ctx, int64_t ns)
{
    (void)ctx;
    idle_calls++;
    idle_asked = ns;
    cr_assert_gt(ns, 0, "idle with nothing to wait for: the board would sleep for ever");
    ticks += (ns + MS - 1) / MS;
}

static co_loop *board_loop(void)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    opt.hooks.clock = tick_clock;
    opt.hooks.idle = tick_idle;
    opt.autojump = false; /* real (tick) time: the idle hook moves it */
    ticks = 0;
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    return loop;
}

/* ------------------------------------------------ tasks and sleep */

typedef struct {
    co_gen gen;
    const char *name;
    int ms, times, i;
} blinker;

static int blinker_fn(co_gen *g)
{
    blinker *self = (blinker *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->times; self->i++) {
        CO_SLEEP(self, self->ms);
        rt_log("%s at %lld", self->name, (long long)ticks);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    blinker *a, *b;
    co_gen *both[2];
    co_gather gather;
} board_main;

static int board_main_fn(co_gen *g)
{
    board_main *self = (board_main *)g;
    CO_BEGIN(self);
    self->both[0] = &self->a->gen;
    self->both[1] = &self->b->gen;
    CO_GATHER(self, &self->gather, self->both, 2, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

Test(bare, tasks_sleep_on_a_tick_clock_with_no_reactor)
{
    co_loop *loop = board_loop();
    board_main *m = CO_NEW(loop, board_main, board_main_fn);
    m->a = CO_NEW(loop, blinker, blinker_fn);
    m->b = CO_NEW(loop, blinker, blinker_fn);
    *m->a = (blinker){m->a->gen, "led", 3, 3, 0};
    *m->b = (blinker){m->b->gen, "beep", 5, 2, 0};
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "led at 3\nbeep at 5\nled at 6\nled at 9\nbeep at 10\n");
    cr_expect_eq(ticks, 10);
    cr_expect_eq(idle_calls, 5, "one WFI per wake-up time, none while tasks were ready");
    rt_free_loop(loop);
}

Test(bare, idle_is_told_the_time_to_the_next_deadline)
{
    co_loop *loop = board_loop();
    blinker *b = CO_NEW(loop, blinker, blinker_fn);
    *b = (blinker){b->gen, "once", 7, 1, 0};
    cr_assert_eq(co_run(loop, &b->gen), 0);
    cr_expect_eq(idle_calls, 1);
    cr_expect_eq(idle_asked, 7 * MS);
    rt_free_loop(loop);
}

/* ------------------------------------------------ a queue */

typedef struct {
    co_gen gen;
    co_queue *q;
    int i, v, sum;
} pipe_end;

static int sensor_fn(co_gen *g)
{
    pipe_end *self = (pipe_end *)g;
    CO_BEGIN(self);
    for (self->i = 1; self->i <= 5; self->i++) {
        CO_SLEEP(self, 2); /* a sample every 2 ms */
        self->v = self->i * 10;
        CO_QUEUE_PUT(self, self->q, &self->v);
    }
    co_queue_shutdown(self->q);
    CO_END(self);
}

static int logger_fn(co_gen *g)
{
    pipe_end *self = (pipe_end *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_QUEUE_GET(self, self->q, &self->v);
        self->sum += self->v;
        rt_log("%d at %lld", self->v, (long long)ticks);
        CO_SLEEP(self, 3); /* slower than the sensor: the queue fills */
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_queue q;
    int buf[2];
    pipe_end *sensor, *logger;
} pipe_main;

static int pipe_main_fn(co_gen *g)
{
    pipe_main *self = (pipe_main *)g;
    CO_BEGIN(self);
    co_queue_init(&self->q, self->buf, sizeof(int), 2);
    self->sensor->q = self->logger->q = &self->q;
    rt_spawn(&self->sensor->gen);
    rt_spawn(&self->logger->gen);
    CO_AWAIT_TASK_CATCH(self, &self->logger->gen);
    cr_expect_eq(CO_THROWN(self), CO_EQSHUTDOWN, "the logger ends when the queue is drained");
    CO_END(self);
}

Test(bare, a_queue_between_tasks_with_no_reactor)
{
    co_loop *loop = board_loop();
    pipe_main *m = CO_NEW(loop, pipe_main, pipe_main_fn);
    m->sensor = CO_NEW(loop, pipe_end, sensor_fn);
    m->logger = CO_NEW(loop, pipe_end, logger_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "10 at 2\n20 at 5\n30 at 8\n40 at 11\n50 at 14\n");
    cr_expect_eq(m->logger->sum, 150);
    rt_free_loop(loop);
}

/* ------------------------------------------------ memory */

typedef CO_TASK_STORAGE(blinker) blinker_storage;

Test(bare, the_loop_is_the_only_allocation_with_caller_storage_and_few_timers)
{
    static blinker_storage a, b;
    static CO_TASK_STORAGE(board_main) m;
    co_loop *loop = board_loop();
    CO_INIT(&a.frame, blinker_fn);
    a.frame.name = "a";
    a.frame.ms = 1;
    a.frame.times = 2;
    CO_INIT(&b.frame, blinker_fn);
    b.frame.name = "b";
    b.frame.ms = 2;
    b.frame.times = 1;
    CO_INIT(&m.frame, board_main_fn);
    m.frame.a = &a.frame;
    m.frame.b = &b.frame;
    cr_assert_eq(co_task_init(loop, &a.task, &a.frame.gen), 0);
    cr_assert_eq(co_task_init(loop, &b.task, &b.frame.gen), 0);
    cr_assert_eq(co_task_init(loop, &m.task, &m.frame.gen), 0);
    cr_assert_eq(co_run(loop, &m.frame.gen), 0);
    /* equal deadlines at tick 2: b armed its sleep first */
    cr_expect_str_eq(rt.log, "a at 1\nb at 2\na at 2\n");
    /* the loop, its task list and its timer heap: fixed costs, not per task */
    cr_expect_leq(rt.allocs, 3, "%zu allocations", rt.allocs);
    rt_free_loop(loop);
}

#ifdef RT_SMALL
/* Firmware's RAM: an arena of 8 KiB (its hook fails past that) holds the
 * loop and a dozen CO_NEW tasks.  The pool used to take 64 KiB chunks, so
 * the first CO_NEW failed there; on a 16-bit target 64 * 1024 was 0 and two
 * tasks got the same block.  Built with the pool of a bare build (the
 * runtime-small test); a hosted build's 64 KiB chunks are meant for speed. */
#define ARENA (8 * 1024)
static void *(*backing_alloc)(void *ctx, size_t size);

static void *arena_alloc(void *ctx, size_t size)
{
    if (rt.live_bytes + size > ARENA)
        return NULL;
    return backing_alloc(ctx, size);
}

typedef struct {
    co_gen gen;
    int id;
    unsigned char payload[40];
} tiny;

static int tiny_fn(co_gen *g)
{
    tiny *self = (tiny *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->id % 3 + 1);
    for (size_t i = 0; i < sizeof self->payload; i++)
        cr_assert_eq(self->payload[i], (unsigned char)self->id, "task %d's frame was overwritten",
                     self->id);
    CO_END(self);
}

Test(bare, co_new_fits_an_8_kib_arena_with_every_block_its_own)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    tiny *t[12];
    backing_alloc = opt.hooks.alloc;
    opt.hooks.alloc = arena_alloc;
    opt.hooks.clock = tick_clock;
    opt.hooks.idle = tick_idle;
    opt.autojump = false;
    ticks = 0;
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    for (int i = 0; i < 12; i++) {
        t[i] = CO_NEW(loop, tiny, tiny_fn);
        cr_assert_not_null(t[i], "CO_NEW %d in an 8 KiB arena (%zu bytes in use)", i, rt.live_bytes);
        t[i]->id = i;
        for (size_t j = 0; j < sizeof t[i]->payload; j++)
            t[i]->payload[j] = (unsigned char)i;
    }
    for (int i = 0; i < 12; i++) /* no two blocks overlap */
        for (int j = 0; j < i; j++)
            cr_assert((char *)t[i] >= (char *)(t[j] + 1) || (char *)(t[i] + 1) <= (char *)t[j],
                      "tasks %d and %d share memory", i, j);
    for (int i = 0; i < 12; i++)
        if (i != 2)
            rt_spawn(&t[i]->gen);
    cr_assert_eq(co_run(loop, &t[2]->gen), 0); /* sleeps 3 ticks: the longest */
    cr_expect_eq(ticks, 3);
    for (int i = 0; i < 12; i++)
        cr_expect_eq(co_task_result(&t[i]->gen), 0, "task %d", i);
    rt_free_loop(loop); /* and every byte came back, each block with its size */
}
#endif

/* A loop before its first task costs at most 512 bytes on 32-bit (twice
 * that with 64-bit pointers): its registry and timer heap start small. */
Test(bare, a_fresh_loop_is_small)
{
    co_loop *loop = board_loop();
    size_t budget = 512 * sizeof(void *) / 4;
    cr_expect_leq(rt.live_bytes, budget, "%zu bytes before the first task", rt.live_bytes);
    rt_free_loop(loop);
}
