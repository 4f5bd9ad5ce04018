/*
 * callback.c -- callbacks on the loop: call_soon, call_later and call_at
 * with cancellable handles, and the done callbacks of tasks and futures.
 *
 * A co_handle begins with a co_task header that is not a task (its `loop`
 * is NULL), so a callback can sit wherever a task waits, with no queue of
 * its own: in the ready queue (call_soon: the same FIFO as task steps), on
 * the timer heap (its header's timer: the turn runs it when it fires, as
 * asyncio runs the timer handles due in the iteration they are due, so it
 * comes before the sleepers woken with it, which asyncio resumes one
 * iteration later through their futures), in a task's list
 * of awaiters or a future's FIFO of waiters (done callbacks, woken in order
 * with the tasks awaiting it).  The turn runs such an entry through
 * loop->run_call, set here; a task step costs one test more.
 *
 * Where a pending handle sits is read from its header: `wait` is READY,
 * TIMER, TASK (on the awaiters of task wait_on) or FUTURE (on the waiters of
 * future wait_on), and NONE once it ran or was cancelled.
 */
#include "loop.h"

static co_handle *handle_of(co_task *node) { return (co_handle *)(void *)node; }

/* Runs a due callback.  The loop lets go of the handle first, so fn may arm
 * it again; an allocated one is freed before fn runs. */
static void run_call(co_loop *loop, co_task *node)
{
    co_handle *h = handle_of(node);
    void (*fn)(void *) = h->fn;
    void *arg = h->arg;
    node->wait = CO__W_NONE;
    if (node->flags & CO__T_ALLOCATED)
        co__pool_free(loop, h, sizeof *h);
    fn(arg);
}

static bool pending(const co_handle *h) { return h->loop && h->node.wait != CO__W_NONE; }

/* A handle ready to be queued: the caller's (idle), or a block from the
 * loop's allocator when h is NULL.  NULL with *rc set on an error. */
static co_handle *take(co_loop *loop, co_handle *h, void (*fn)(void *), void *arg, int *rc)
{
    uint8_t flags = 0;
    *rc = 0;
    if (loop == NULL || fn == NULL) {
        *rc = CO_EBADARG;
        return NULL;
    }
    if (loop->state == CO__LOOP_CLOSED) {
        *rc = CO_ELOOPCLOSED;
        return NULL;
    }
    if (h == NULL) {
        h = co__pool_alloc(loop, sizeof *h);
        if (h == NULL) {
            *rc = CO_ENOMEM;
            return NULL;
        }
        flags = CO__T_ALLOCATED;
    } else if (pending(h)) {
        *rc = CO_EBUSY;
        return NULL;
    }
    co__zero(&h->node, sizeof h->node); /* loop NULL: a callback, not a task */
    h->node.timer.kind = CO__TIMER_HANDLE;
    h->node.flags = flags;
    h->fn = fn;
    h->arg = arg;
    h->loop = loop;
    h->when = loop->now;
    h->cancelled = false;
    loop->run_call = run_call;
    return h;
}

/* A handle that will not run: an allocated one goes back to the pool. */
static void drop(co_handle *h)
{
    h->node.wait = CO__W_NONE;
    if (h->node.flags & CO__T_ALLOCATED)
        co__pool_free(h->loop, h, sizeof *h);
}

int co_call_soon(co_loop *loop, co_handle *h, void (*fn)(void *), void *arg)
{
    int rc;
    h = take(loop, h, fn, arg, &rc);
    if (h)
        co__make_ready(loop, &h->node);
    return rc;
}

int co_call_at(co_loop *loop, co_handle *h, int64_t when, void (*fn)(void *), void *arg)
{
    int rc;
    h = take(loop, h, fn, arg, &rc);
    if (h == NULL)
        return rc;
    h->when = when;
    h->node.wait = CO__W_TIMER;
    rc = co__heap_push(loop, &h->node.timer, when);
    if (rc < 0)
        drop(h);
    return rc;
}

int co_call_later(co_loop *loop, co_handle *h, int64_t ms, void (*fn)(void *), void *arg)
{
    if (loop == NULL)
        return CO_EBADARG;
    /* from the time of the call, as asyncio (unless the loop has turn_clock) */
    return co_call_at(loop, h, co__deadline_after(loop, co__ms_to_ns(ms)), fn, arg);
}

/* Takes node out of a task's stack of awaiters. */
static void unstack(co_task *t, co_task *node)
{
    for (co_task **p = &t->awaiters; *p; p = &(*p)->next)
        if (*p == node) {
            *p = node->next;
            node->next = NULL;
            return;
        }
}

void co_handle_cancel(co_handle *h)
{
    co_loop *loop = h ? h->loop : NULL;
    if (loop == NULL)
        return;
    h->cancelled = true;
    switch (h->node.wait) {
    case CO__W_TIMER: co__heap_remove(loop, &h->node.timer); break;
    case CO__W_READY: co__unready(loop, &h->node); break;
    case CO__W_TASK: unstack(h->node.wait_on, &h->node); break;
    case CO__W_FUTURE:
        co__waitq_remove(&((co_future *)h->node.wait_on)->waiters, &h->node);
        break;
    default: return; /* it ran already */
    }
    h->node.wait = CO__W_NONE;
}

bool co_handle_cancelled(const co_handle *h) { return h && h->cancelled; }
int64_t co_handle_when(const co_handle *h) { return h ? h->when : 0; }

/* ------------------------------------------------------ done callbacks */

int co_task_add_done_callback(co_gen *task, co_handle *h, void (*fn)(void *), void *arg)
{
    co_task *t;
    int rc;
    if (task == NULL || task->fn == NULL)
        return CO_EBADARG;
    t = co__task(task);
    if (t->flags & CO__T_DONE)
        return co_call_soon(co__task_loop(t), h, fn, arg);
    h = take(co__task_loop(t), h, fn, arg, &rc);
    if (h == NULL)
        return rc;
    /* asyncio's tasks run from their creation; ours from co_spawn, which
       this implies, as awaiting does */
    if (!(t->flags & CO__T_SPAWNED) && (rc = co_spawn(task)) < 0) {
        drop(h);
        return rc;
    }
    /* beside its awaiters, stacked newest first: finish_task readies them all
       oldest first, so callbacks and awaiters keep their order */
    h->node.wait = CO__W_TASK;
    h->node.wait_on = t;
    h->node.next = t->awaiters;
    t->awaiters = &h->node;
    return 0;
}

/* Whether node is a callback of (fn, arg). */
static bool is_call(const co_task *node, void (*fn)(void *), void *arg)
{
    const co_handle *h = (const co_handle *)(const void *)node;
    return !co__is_task(node) && h->fn == fn && h->arg == arg;
}

size_t co_task_remove_done_callback(co_gen *task, void (*fn)(void *), void *arg)
{
    size_t n = 0;
    co_task **p;
    if (task == NULL || task->fn == NULL)
        return 0;
    p = &co__task(task)->awaiters;
    while (*p) {
        co_task *node = *p;
        if (!is_call(node, fn, arg)) {
            p = &node->next;
            continue;
        }
        *p = node->next;
        node->next = NULL;
        drop(handle_of(node));
        n++;
    }
    return n;
}

int co_future_add_done_callback(co_future *f, co_handle *h, void (*fn)(void *), void *arg)
{
    int rc;
    if (f == NULL || f->loop == NULL)
        return CO_EBADARG;
    if (co_future_done(f))
        return co_call_soon(f->loop, h, fn, arg);
    h = take(f->loop, h, fn, arg, &rc);
    if (h == NULL)
        return rc;
    h->node.wait = CO__W_FUTURE;
    h->node.wait_on = f;
    co__waitq_push(&f->waiters, &h->node);
    return 0;
}

size_t co_future_remove_done_callback(co_future *f, void (*fn)(void *), void *arg)
{
    size_t n = 0;
    co_task *prev = NULL, *p;
    if (f == NULL)
        return 0;
    p = f->waiters.head;
    while (p) {
        co_task *next = p->next;
        if (is_call(p, fn, arg)) {
            if (prev)
                prev->next = next;
            else
                f->waiters.head = next;
            if (f->waiters.tail == p)
                f->waiters.tail = prev;
            p->next = NULL;
            drop(handle_of(p));
            n++;
        } else {
            prev = p;
        }
        p = next;
    }
    return n;
}
