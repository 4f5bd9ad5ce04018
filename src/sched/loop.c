/*
 * loop.c -- a loop's state below its tasks: the loop running in this
 * thread, the clock, the registry of live tasks and the ready queue, and
 * setting a loop up and tearing it down.
 *
 * Nothing here resumes a task: task.c steps them and turn.c runs the
 * turns.  The ready queue is FIFO, so a task that yields goes behind the
 * others.
 */
#include "loop.h"

#if !CO_BARE && (defined(__unix__) || defined(__APPLE__))
#include <time.h>
#endif

/* A bare build has one thread: the running loop is a plain static, and no
 * thread-local storage (which firmware's startup code rarely sets up) is
 * needed.  -DCO_THREAD_LOCAL=... overrides either choice. */
#if !defined(CO_THREAD_LOCAL) && (CO_BARE || defined(__STDC_NO_THREADS__))
#define CO_THREAD_LOCAL
#elif !defined(CO_THREAD_LOCAL)
#define CO_THREAD_LOCAL _Thread_local
#endif

/* The loop running in this thread: awaits find their task through it. */
static CO_THREAD_LOCAL co_loop *running;

co_loop *co__loop(void) { return running; }
void co__set_running(co_loop *loop) { running = loop; }
co_loop *co_running_loop(void) { return running; }
int64_t co_now(const co_loop *loop) { return loop ? loop->now : 0; }

int64_t co__ms_to_ns(int64_t ms)
{
    if (ms > INT64_MAX / 1000000)
        return INT64_MAX;
    return ms < 0 ? 0 : ms * 1000000;
}

co_gen *co_current_task(void)
{
    return running && running->current ? co__frame(running->current) : NULL;
}

/* ------------------------------------------------------------ registry */

/*
 * The registry lists the tasks the loop must find again: every CO_NEW task
 * (to free it) and every caller-storage task while it runs (to cancel it at
 * shutdown).  Room for the first REGISTRY_START is made with the loop, so
 * caller storage allocates nothing until that many run at once; it doubles
 * from there, so a small loop stays small.  Beside each slot is the task's
 * number for its default name, "Task-N" (a store per task, in the same
 * block: a program that never asks for a name pays nothing more).
 */
#define REGISTRY_START 8

static int grow_registry(co_loop *loop, uint32_t cap)
{
    co_task **a = co__alloc(loop, cap * (sizeof *a + sizeof(uint32_t)));
    if (a == NULL)
        return CO_ENOMEM;
    co__bytecopy(a, loop->tasks, loop->ntasks * sizeof *a);
    if (loop->tasks)
        co__bytecopy(a + cap, co__task_ids(loop), loop->ntasks * sizeof(uint32_t));
    co__free(loop, loop->tasks, loop->cap_tasks * (sizeof *a + sizeof(uint32_t)));
    loop->tasks = a;
    loop->cap_tasks = cap;
    return 0;
}

int co__register_task(co_loop *loop, co_task *t)
{
    if (loop->ntasks == loop->cap_tasks && grow_registry(loop, loop->cap_tasks * 2) < 0)
        return CO_ENOMEM;
    t->flags |= CO__T_LISTED;
    t->reg = loop->ntasks;
    co__task_ids(loop)[t->reg] = ++loop->created;
    loop->tasks[loop->ntasks++] = t;
    return 0;
}

void co__unregister_task(co_loop *loop, co_task *t)
{
    co_task *last;
    if (!(t->flags & CO__T_LISTED))
        return;
    t->flags &= (uint8_t)~CO__T_LISTED;
    if (loop->unlisting) /* its name goes, the last slot's moves */
        loop->unlisting(loop, t);
    last = loop->tasks[--loop->ntasks];
    loop->tasks[t->reg] = last;
    co__task_ids(loop)[t->reg] = co__task_ids(loop)[last->reg];
    last->reg = t->reg;
}

void co__free_task(co_loop *loop, co_task *t)
{
    co__report_unread(loop, t);
    if (loop->agen_ops) /* async generators in its frame are closed first */
        loop->agen_ops->drop(loop, t);
    co__unregister_task(loop, t);
    if (t->flags & CO__T_ALLOCATED)
        co__pool_free(loop, t, t->size);
}


/* --------------------------------------------------------- ready queue */

void co__make_ready(co_loop *loop, co_task *t)
{
    t->wait = CO__W_READY;
    t->next = NULL;
    if (loop->ready_tail)
        loop->ready_tail->next = t;
    else
        loop->ready_head = t;
    loop->ready_tail = t;
    loop->nready++;
}

void co__wake(co_loop *loop, co_task *t)
{
    t->flags |= CO__T_WOKEN;
    t->woke_from = t->wait;
    co__make_ready(loop, t);
}

co_task *co__pop_ready(co_loop *loop)
{
    co_task *t = loop->ready_head;
    loop->ready_head = t->next;
    if (loop->ready_head == NULL)
        loop->ready_tail = NULL;
    loop->nready--;
    t->next = NULL;
    return t;
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

int64_t co__platform_clock(void)
{
#if !CO_BARE && defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#else
    return 0;
#endif
}

/* The loop's clock never goes back, whatever the hook or a jump did. */
int64_t co__read_clock(co_loop *loop)
{
    int64_t now = loop->hooks.clock ? loop->hooks.clock(loop->hooks.ctx) : co__platform_clock();
    return now > loop->now ? now : loop->now;
}

/*
 * The turn's clock (loop->now) is read after the wait, so it is as old as
 * the time the tasks of this round have run: a task that computed for 30 ms
 * and then slept 20 ms would wake after 20 ms of turn time, 10 ms after its
 * call.  Arming a timer therefore reads the clock again (asyncio reads it at
 * the call too).  That read is one clock_gettime, a vDSO call, and it costs
 * nothing measurable: bench/runtime.sh's spawn benchmark (N tasks that sleep
 * 10 ms) spent less CPU per task with it than with the cached clock, since
 * deadlines that differ order the heap on their first comparison where equal
 * ones fall back to the sequence number (callgrind: 1319 against 1382
 * instructions per task).  The fresh time becomes the loop's, so co_now
 * stays consistent with the deadlines set from it.
 */
int64_t co__deadline_after(co_loop *loop, int64_t ns)
{
    loop->now = co__read_clock(loop);
    return ns > INT64_MAX - loop->now ? INT64_MAX : loop->now + ns;
}

int co__loop_init(co_loop *loop, const co_loop_options *opt)
{
    co__zero(loop, sizeof *loop); /* not `*loop = (co_loop){0}`: a memset call */
    if (opt) {
        loop->hooks = opt->hooks;
        loop->autojump = opt->autojump;
    }
    loop->state = CO__LOOP_OPEN;
    loop->now = INT64_MIN;
    loop->now = co__read_clock(loop);
    return grow_registry(loop, REGISTRY_START);
}

void co__loop_fini(co_loop *loop)
{
    /* tasks left: never spawned, or stuck through shutdown */
    while (loop->ntasks) {
        co_task *t = loop->tasks[loop->ntasks - 1];
        co__report_unread(loop, t);
        co__unregister_task(loop, t);
        if (t->flags & CO__T_ALLOCATED)
            co__pool_free(loop, t, t->size);
    }
    if (loop->unlisting)
        loop->unlisting(loop, NULL);
    co__pool_fini(loop);
    co__free(loop, loop->tasks, loop->cap_tasks * (sizeof *loop->tasks + sizeof(uint32_t)));
    loop->tasks = NULL;
    loop->cap_tasks = 0;
    co__heap_free(loop);
    loop->state = CO__LOOP_CLOSED;
}
