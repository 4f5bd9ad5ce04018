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

#if defined(__unix__) || defined(__APPLE__)
#include <time.h>
#endif

#if defined(__STDC_NO_THREADS__) && !defined(CO_THREAD_LOCAL)
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
 * caller storage allocates nothing until that many run at once.
 */
#define REGISTRY_START 64

static int grow_registry(co_loop *loop, uint32_t cap)
{
    co_task **a = co__alloc(loop, cap * sizeof *a);
    if (a == NULL)
        return CO_ENOMEM;
    for (uint32_t i = 0; i < loop->ntasks; i++)
        a[i] = loop->tasks[i];
    co__free(loop, loop->tasks, loop->cap_tasks * sizeof *a);
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
    loop->tasks[loop->ntasks++] = t;
    return 0;
}

void co__unregister_task(co_loop *loop, co_task *t)
{
    co_task *last;
    if (!(t->flags & CO__T_LISTED))
        return;
    t->flags &= (uint8_t)~CO__T_LISTED;
    last = loop->tasks[--loop->ntasks];
    loop->tasks[t->reg] = last;
    last->reg = t->reg;
}

void co__free_task(co_loop *loop, co_task *t)
{
    co__report_unread(loop, t);
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

/* ------------------------------------------------------ clock, set up */

int64_t co__platform_clock(void)
{
#if defined(CLOCK_MONOTONIC)
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

int co__loop_init(co_loop *loop, const co_loop_options *opt)
{
    co_loop zero = {0};
    *loop = zero;
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
    co__pool_fini(loop);
    co__free(loop, loop->tasks, loop->cap_tasks * sizeof *loop->tasks);
    loop->tasks = NULL;
    loop->cap_tasks = 0;
    co__heap_free(loop);
    loop->state = CO__LOOP_CLOSED;
}
