/*
 * loop.c -- a loop's state below its tasks: the loop running in this
 * thread, the clock, the registry of live tasks and the ready queue, and
 * setting a loop up and tearing it down.
 *
 * Nothing here resumes a task: task.c steps them and turn.c runs the
 * turns.  The ready queue is FIFO, so a task that yields goes behind the
 * others.
 */
#define CO__LOOP_C /* a bare build's one copy of the hot path */
#include "loop.h"

/* The loop running in this thread: awaits find their task through it. */
CO_THREAD_LOCAL co_loop *co__running;

void co__set_running(co_loop *loop) { co__running = loop; }
co_loop *co_running_loop(void) { return co__running; }
int64_t co_now(const co_loop *loop) { return loop ? loop->now : 0; }

co_gen *co_current_task(void)
{
    return co__running && co__running->current ? co__frame(co__running->current) : NULL;
}

/* ------------------------------------------------------- loop numbers */

#if CO__LOOP_ID
co_loop *co__loops[CO__LOOPS_MAX];

/* Takes the first free number.  Loops of other threads take theirs at the
 * same time: a slot is claimed by compare-and-swap where the compiler has
 * it; a task's read of its own loop's slot needs no fence (the slot was set
 * before the loop made any task). */
static int take_number(co_loop *loop)
{
    for (uint32_t i = 1; i < CO__LOOPS_MAX; i++) {
#if defined(__GNUC__) || defined(__clang__)
        co_loop *none = NULL;
        if (!__atomic_compare_exchange_n(&co__loops[i], &none, loop, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED))
            continue;
#else
        if (co__loops[i])
            continue;
        co__loops[i] = loop;
#endif
        loop->id = (uint16_t)i;
        return 0;
    }
    return CO_ENOMEM; /* 65535 loops alive at once */
}

static void give_number_back(co_loop *loop)
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(&co__loops[loop->id], NULL, __ATOMIC_RELEASE);
#else
    co__loops[loop->id] = NULL;
#endif
    loop->id = 0;
}
#else
static int take_number(co_loop *loop)
{
    (void)loop;
    return 0;
}
static void give_number_back(co_loop *loop) { (void)loop; }
#endif

/* ------------------------------------------------------------ registry */

/*
 * The registry lists the tasks the loop must find again: every CO_NEW task
 * (to free it) and every caller-storage task while it runs (to cancel it at
 * shutdown).  Room for the first REGISTRY_START is made with the loop, so
 * caller storage allocates nothing until that many run at once; it doubles
 * from there, so a small loop stays small.  The task's number for its
 * default name, "Task-N", is a store in its header when it is listed (a
 * program that never asks for a name pays nothing more).
 */
#define REGISTRY_START 8

static int grow_registry(co_loop *loop, uint32_t cap)
{
    const size_t slot = sizeof(co_task *);
    co_task **a;
    if (cap < loop->cap_tasks || (size_t)cap * slot / slot != cap)
        return CO_ENOMEM;
    /* realloc: at 1M tasks, copying the array at each doubling cost more
       than the rest of CO_NEW's bookkeeping (glibc moves a large block by
       remapping it) */
    a = co__realloc(loop, loop->tasks, loop->cap_tasks * slot, cap * slot);
    if (a == NULL)
        return CO_ENOMEM;
    loop->tasks = a;
    loop->cap_tasks = cap;
    return 0;
}

/* Closes up the gaps, keeping the order: each live task that moves learns
 * its new slot (and its name moves with it). */
static void close_gaps(co_loop *loop)
{
    uint32_t to = 0;
    for (uint32_t from = 0; from < loop->ntasks; from++) {
        co_task *t = loop->tasks[from];
        if (t == NULL)
            continue;
        if (to != from) {
            loop->tasks[to] = t;
            t->reg = to;
            if (loop->relisting)
                loop->relisting(loop, from, to);
        }
        to++;
    }
    loop->ntasks = to;
    loop->dead_tasks = 0;
}

/* Closing up touches every live task, so it waits until half the slots
 * are gaps: each gap then pays for at most one task moved. */
int co__registry_room(co_loop *loop)
{
    if (loop->dead_tasks >= loop->ntasks / 2 && loop->dead_tasks > 0) {
        close_gaps(loop);
        return 0;
    }
    return grow_registry(loop, loop->cap_tasks * 2);
}

void co__trim_registry(co_loop *loop)
{
    while (loop->ntasks > 0 && loop->tasks[loop->ntasks - 1] == NULL) {
        loop->ntasks--;
        loop->dead_tasks--;
    }
}

void co__free_task(co_loop *loop, co_task *t)
{
    if (t->wait_on != t) /* read (co__mark_read): the common case, no call */
        co__report_unread(loop, t);
    if (loop->agen_ops) /* async generators in its frame are closed first */
        loop->agen_ops->drop(loop, t);
    co__unregister_task(loop, t);
    if (t->flags & CO__T_ALLOCATED)
        co__free_block(loop, t);
}

void co__free_block(co_loop *loop, co_task *t)
{
    size_t n = co__task_bytes(t);
    if (t->timer.co__byte == CO__BLOCK_BIG)
        co__free(loop, (char *)t - CO__BIG_PREFIX, CO__BIG_PREFIX + n);
    else
        co__pool_free(loop, t, n);
}


/* --------------------------------------------------------- ready queue */

void co__wake(co_loop *loop, co_task *t)
{
    t->flags |= CO__T_WOKEN;
    t->woke_from = t->wait;
    co__make_ready(loop, t);
}

/* Walks the queue, so it is for rare events (a cancelled callback).  If t
 * is the last entry of the round under way, the round now ends before it. */
bool co__unready(co_loop *loop, co_task *t)
{
    co_task *prev = NULL;
    for (co_task *p = loop->ready_head; p; prev = p, p = p->next) {
        if (p != t)
            continue;
        if (prev)
            prev->next = p->next;
        else
            loop->ready_head = p->next;
        if (loop->ready_tail == p)
            loop->ready_tail = prev;
        p->next = NULL;
        loop->nready--;
        if (loop->round_last == p)
            loop->round_last = prev;
        return true;
    }
    return false;
}

/* ------------------------------------------------------ clock, set up */

#if CO_BARE || !defined(CLOCK_MONOTONIC) /* else inline (loop.h) */
int64_t co__platform_clock(void) { return 0; }
#endif

int co__loop_init(co_loop *loop, const co_loop_options *opt)
{
    co__zero(loop, sizeof *loop); /* not `*loop = (co_loop){0}`: a memset call */
    if (opt) {
        loop->hooks = opt->hooks;
        loop->autojump = opt->autojump;
        loop->turn_clock = opt->turn_clock;
    }
    loop->state = CO__LOOP_OPEN;
    loop->now = INT64_MIN;
    loop->now = co__read_clock(loop);
    if (take_number(loop) < 0)
        return CO_ENOMEM;
    if (grow_registry(loop, REGISTRY_START) < 0) {
        give_number_back(loop);
        return CO_ENOMEM;
    }
    return 0;
}

void co__loop_fini(co_loop *loop)
{
    /* tasks left: never spawned, or stuck through shutdown */
    while (loop->ntasks) {
        co_task *t = loop->tasks[loop->ntasks - 1];
        co__report_unread(loop, t);
        co__unregister_task(loop, t);
        if (t->flags & CO__T_ALLOCATED)
            co__free_block(loop, t);
    }
    if (loop->unlisting)
        loop->unlisting(loop, NULL);
    co__pool_fini(loop);
    co__free(loop, loop->tasks, loop->cap_tasks * sizeof *loop->tasks);
    loop->tasks = NULL;
    loop->cap_tasks = 0;
    co__heap_free(loop);
    give_number_back(loop);
    loop->state = CO__LOOP_CLOSED;
}
