/*
 * demo.c -- the firmware demo: what a firmware user would write, run on
 * emulated boards (Cortex-M0, Cortex-M4, ATmega328P) and on the host, whose
 * outputs scripts/firmware compares line for line.
 *
 * Part 1 is the generator core alone: the robot worker of the lecture,
 * driven with send, throw and close, delegating with yield from and reading
 * its sub-generator's return value.  Part 2 is the bare scheduler on a tick:
 * blinkers sleeping, a producer and a consumer on a queue, two workers on a
 * lock, a task waiting on an event, one cancelled, and a wait_for that
 * times out -- every task from CO_NEW, in a small static arena.
 *
 * The tick stands for a 1 kHz SysTick: the idle hook, where firmware would
 * WFI until the interrupt that reaches the next deadline, moves it there,
 * so the run is the same on every target.  Lines starting with '#' are the
 * target's own figures (memory), left out of the comparison.  No libc: the
 * output is built by hand, and its texts are TEXT()s, which an AVR keeps in
 * flash (a literal there costs RAM).
 */
#include <corio/sync.h>

#include "port.h"

#ifndef ARENA_SIZE
#define ARENA_SIZE 8192
#endif

/* ------------------------------------------------------------ output */

static void out_int(long v)
{
    char buf[12], *p = buf + sizeof buf;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    while (*p)
        port_putc(*p++);
}

/* "text n\n" */
static void say(const char *text, long n)
{
    port_puts(text);
    port_putc(' ');
    out_int(n);
    port_putc('\n');
}

static int failures;

static void check(bool ok, const char *what)
{
    if (!ok) {
        port_puts(TEXT("FAIL: "));
        port_puts(what);
        port_puts(TEXT("\n"));
        failures++;
    }
}

/* ----------------------------------------------- part 1: the robot */

#define OVERHEAT (-5) /* an error the robot's owner throws in */
enum { DO_NOTHING, DO_NUMBER, DO_DIAGNOSIS };

/* Word-sized fields: a Cortex-M0 copies a struct of halfwords with memcpy
 * at -O0, and a bare program has none. */
typedef struct {
    int kind;
    int number;
} order;

/* robot_setting(): yields 0..steps-1, returns how many it counted. */
typedef struct {
    co_gen gen;
    int16_t out;
    order in;
    int16_t step, steps, ret;
} robot_setting;

static int robot_setting_fn(co_gen *g)
{
    robot_setting *self = (robot_setting *)g;
    CO_BEGIN(self);
    for (self->step = 0; self->step < self->steps; self->step++)
        CO_YIELD(self, self->step);
    CO_RETURN(self, self->steps);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int16_t out;
    order in;
    int16_t done, ret;
    robot_setting diagnosis;
} robot_worker;

static int robot_worker_fn(co_gen *g)
{
    robot_worker *self = (robot_worker *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_YIELD_CATCH(self, -1);
        if (CO_THROWN(self) == CO_EXIT)
            break;
        if (CO_THROWN(self) == OVERHEAT) {
            port_puts(TEXT("robot: cooling down\n"));
            continue;
        }
        if (CO_THROWN(self))
            CO_RAISE(self, CO_THROWN(self));
        if (!CO_SENT(self) || self->in.kind == DO_NOTHING)
            continue;
        if (self->in.kind == DO_NUMBER) {
            say(TEXT("robot:"), self->in.number * 10);
            self->done++;
        } else {
            CO_INIT(&self->diagnosis, robot_setting_fn);
            self->diagnosis.steps = self->in.number;
            CO_YIELD_FROM(self, diagnosis);
            say(TEXT("robot: diagnosis counted"), self->diagnosis.ret);
            self->done++;
        }
    }
    port_puts(TEXT("robot: You turned the ROBOT off!\n"));
    CO_RETURN(self, self->done);
    CO_END(self);
}

static void robot_demo(void)
{
    robot_worker robot;
    order o;
    int rc;
    CO_INIT(&robot, robot_worker_fn);
    robot.done = 0;
    check(co_state(&robot.gen) == CO_CREATED, TEXT("created"));
    check(co_next(&robot.gen) == CO_YIELDED, TEXT("prime"));
    o.kind = DO_NUMBER;
    o.number = 4;
    check(CO_SEND(&robot, o) == CO_YIELDED, TEXT("send 4"));
    o.number = 2;
    check(CO_SEND(&robot, o) == CO_YIELDED, TEXT("send 2"));
    check(co_throw(&robot.gen, OVERHEAT) == CO_YIELDED, TEXT("throw"));
    o.kind = DO_DIAGNOSIS;
    o.number = 3;
    /* the send lands in the delegation: the setting's first value comes back */
    check(CO_SEND(&robot, o) == CO_YIELDED, TEXT("yield from"));
    say(TEXT("robot: setting"), robot.out);
    while (co_next(&robot.gen) == CO_YIELDED && robot.out >= 0)
        say(TEXT("robot: setting"), robot.out);
    rc = co_close(&robot.gen);
    say(TEXT("robot: closed with"), rc);
    say(TEXT("robot: orders done"), robot.ret);
    check(co_state(&robot.gen) == CO_CLOSED, TEXT("closed"));
}

/* --------------------------------------------- the arena and the tick */

/* A first-fit allocator over a static array: the loop's alloc and free
 * hooks.  Frees come with their size, so blocks carry no header. */
typedef struct hole {
    struct hole *next;
    size_t size;
} hole;

/* Every size a multiple of ALIGN, which holds a hole: a split always leaves
 * either nothing or a hole. */
#define ALIGN (sizeof(hole) > 8 ? sizeof(hole) : 8)
static union {
    unsigned char bytes[ARENA_SIZE];
    int64_t align;
} arena;
static size_t arena_top, arena_peak, arena_used;
static hole *holes;

static size_t rounded(size_t n) { return n ? (n + ALIGN - 1) / ALIGN * ALIGN : ALIGN; }

static void *arena_alloc(void *ctx, size_t size)
{
    hole **h;
    (void)ctx;
    size = rounded(size);
    for (h = &holes; *h; h = &(*h)->next) {
        hole *f = *h;
        if (f->size < size)
            continue;
        if (f->size > size) { /* split: the tail stays free */
            hole *rest = (hole *)(void *)((unsigned char *)f + size);
            rest->next = f->next;
            rest->size = f->size - size;
            *h = rest;
        } else {
            *h = f->next;
        }
        arena_used += size;
        return f;
    }
    if (ARENA_SIZE - arena_top < size)
        return NULL;
    arena_top += size;
    arena_used += size;
    if (arena_top > arena_peak)
        arena_peak = arena_top;
    return arena.bytes + arena_top - size;
}

/* Back into the address-ordered list of holes, merged with its neighbours;
 * a hole that reaches the top lowers it. */
static void arena_free(void *ctx, void *p, size_t size)
{
    hole **h = &holes, *b = p;
    (void)ctx;
    size = rounded(size);
    while (*h && (unsigned char *)*h < (unsigned char *)b)
        h = &(*h)->next;
    arena_used -= size;
    b->size = size;
    b->next = *h;
    if (b->next && (unsigned char *)b + b->size == (unsigned char *)b->next) {
        b->size += b->next->size;
        b->next = b->next->next;
    }
    *h = b;
    if (h != &holes) {
        hole *prev = (hole *)(void *)((unsigned char *)h - offsetof(hole, next));
        if ((unsigned char *)prev + prev->size == (unsigned char *)b) {
            prev->size += b->size;
            prev->next = b->next;
            b = prev;
        }
    }
    if ((unsigned char *)b + b->size == arena.bytes + arena_top) {
        arena_top -= b->size;
        for (h = &holes; *h != b; h = &(*h)->next)
            ;
        *h = b->next;
    }
}

#define MS 1000000L /* the loop's clock is in ns */
static long ticks;  /* the 1 kHz tick */

static int64_t tick_clock(void *ctx)
{
    (void)ctx;
    return (int64_t)ticks * MS;
}

/* WFI: the tick interrupt that reaches the deadline wakes the core. */
static void tick_idle(void *ctx, int64_t ns)
{
    (void)ctx;
    if (ns <= 0) { /* no interrupt will come: the demo is stuck */
        port_puts(TEXT("FAIL: idle with nothing to wait for\n"));
        port_exit(1);
    }
    ticks += (long)((ns + MS - 1) / MS);
}

/* ------------------------------------------- part 2: the scheduler */

typedef struct {
    co_gen gen;
    const char *name;
    int16_t ms, times, i;
} blinker;

static int blinker_fn(co_gen *g)
{
    blinker *self = (blinker *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->times; self->i++) {
        CO_SLEEP(self, self->ms);
        port_puts(self->name);
        say(TEXT(" at"), ticks);
    }
    CO_END(self);
}

static co_queue queue;
static int16_t slots[2];

typedef struct {
    co_gen gen;
    int16_t i, item;
} producer;

static int producer_fn(co_gen *g)
{
    producer *self = (producer *)g;
    CO_BEGIN(self);
    for (self->i = 1; self->i <= 4; self->i++) {
        self->item = (int16_t)(self->i * 100);
        CO_QUEUE_PUT(self, &queue, &self->item);
        say(TEXT("put at"), ticks);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int16_t i, item;
} consumer;

static int consumer_fn(co_gen *g)
{
    consumer *self = (consumer *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < 4; self->i++) {
        CO_SLEEP(self, 3);
        CO_QUEUE_GET(self, &queue, &self->item);
        say(TEXT("got"), self->item);
    }
    CO_END(self);
}

static co_lock lock;

typedef struct {
    co_gen gen;
    const char *name;
} worker;

static int worker_fn(co_gen *g)
{
    worker *self = (worker *)g;
    CO_BEGIN(self);
    CO_LOCK_ACQUIRE(self, &lock);
    port_puts(self->name);
    say(TEXT(" has the lock at"), ticks);
    CO_SLEEP(self, 4);
    co_lock_release(&lock);
    CO_END(self);
}

static co_event gate;

typedef struct {
    co_gen gen;
} waiter;

static int waiter_fn(co_gen *g)
{
    waiter *self = (waiter *)g;
    CO_BEGIN(self);
    CO_EVENT_WAIT(self, &gate);
    say(TEXT("gate open at"), ticks);
    CO_END(self);
}

typedef struct {
    co_gen gen;
} sentinel;

static int sentinel_fn(co_gen *g)
{
    sentinel *self = (sentinel *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1000);
    port_puts(TEXT("sentinel woke: not cancelled\n"));
    CO_FINALLY(self);
    if (CO_THROWN(self) == CO_ECANCELLED)
        say(TEXT("sentinel cancelled at"), ticks);
    CO_END(self);
}

/* A child coroutine the main task awaits under a deadline. */
typedef struct {
    co_gen gen;
} slow_job;

static int slow_job_fn(co_gen *g)
{
    slow_job *self = (slow_job *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 50);
    CO_END(self);
}

#define NTASKS 8

typedef struct {
    co_gen gen;
    co_gen *tasks[NTASKS];
    co_gen *sentry;
    co_deadline deadline;
    co_gather gather;
    slow_job slow;
    int i;
} board_main;

static void *spawn(co_gen *frame)
{
    check(frame != NULL && co_spawn(frame) == 0, TEXT("spawn"));
    return frame;
}

static int board_main_fn(co_gen *g)
{
    board_main *self = (board_main *)g;
    co_loop *loop = co_running_loop();
    blinker *b;
    worker *w;
    CO_BEGIN(self);
    b = spawn(&CO_NEW(loop, blinker, blinker_fn)->gen);
    b->name = TEXT("led");
    b->ms = 3;
    b->times = 3;
    self->tasks[0] = &b->gen;
    b = spawn(&CO_NEW(loop, blinker, blinker_fn)->gen);
    b->name = TEXT("beep");
    b->ms = 5;
    b->times = 2;
    self->tasks[1] = &b->gen;
    self->tasks[2] = spawn(&CO_NEW(loop, producer, producer_fn)->gen);
    self->tasks[3] = spawn(&CO_NEW(loop, consumer, consumer_fn)->gen);
    w = spawn(&CO_NEW(loop, worker, worker_fn)->gen);
    w->name = TEXT("left");
    self->tasks[4] = &w->gen;
    w = spawn(&CO_NEW(loop, worker, worker_fn)->gen);
    w->name = TEXT("right");
    self->tasks[5] = &w->gen;
    self->tasks[6] = spawn(&CO_NEW(loop, waiter, waiter_fn)->gen);
    self->tasks[7] = self->sentry = spawn(&CO_NEW(loop, sentinel, sentinel_fn)->gen);

    CO_SLEEP(self, 4);
    co_event_set(&gate);
    CO_INIT(&self->slow, slow_job_fn);
    CO_WAIT_FOR_CATCH(self, &self->deadline, slow, 10);
    say(TEXT("wait_for gave"), CO_THROWN(self));
    say(TEXT("at"), ticks);
    co_cancel(self->sentry);
    CO_GATHER(self, &self->gather, self->tasks, NTASKS, CO_GATHER_ALL);
    for (self->i = 0; self->i < NTASKS; self->i++)
        say(TEXT("result"), co_task_result(self->tasks[self->i]));
    CO_END(self);
}

static void scheduler_demo(void)
{
    static co_loop_options opt; /* static: zeroed with no memset call */
    co_loop *loop;
    board_main *m;
    int rc;
    opt.hooks.clock = tick_clock;
    opt.hooks.idle = tick_idle;
    opt.hooks.alloc = arena_alloc;
    opt.hooks.free = arena_free;
    co_event_init(&gate);
    co_lock_init(&lock);
    check(co_queue_init(&queue, slots, sizeof slots[0], 2) == 0, TEXT("queue"));
    check(co_loop_new(&loop, &opt) == 0, TEXT("co_loop_new"));
    if (loop == NULL)
        return;
    say(TEXT("# loop RAM before the first task:"), (long)arena_used);
    m = CO_NEW(loop, board_main, board_main_fn);
    check(m != NULL, TEXT("CO_NEW main"));
    if (m == NULL)
        return;
    rc = co_run(loop, &m->gen);
    say(TEXT("co_run gave"), rc);
    say(TEXT("ticks"), ticks);
    say(TEXT("# arena peak:"), (long)arena_peak);
    co_loop_free(loop);
    check(arena_used == 0 && arena_top == 0, TEXT("every byte back in the arena"));
}

int main(void)
{
    port_puts(TEXT("corio firmware demo\n"));
    robot_demo();
    scheduler_demo();
    say(TEXT("# stack peak:"), (long)port_stack_peak());
    port_puts(failures ? TEXT("FAILED\n") : TEXT("done\n"));
    return failures != 0;
}
