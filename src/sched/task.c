/*
 * task.c -- a task's life: creating one (pool block or caller storage),
 * spawning, one step of it, finishing, cancelling, releasing; and the two
 * awaits every task has, sleeping and awaiting another task.
 *
 * A task is a co_task header followed by its root generator frame.  A task
 * that suspends has registered itself somewhere first (its own timer, a
 * wait queue, another task, the reactor), and whatever it waits on moves it
 * back to the ready queue.  Cancelling a task unhooks it from what it waits
 * on and resumes it with CO_ECANCELLED thrown at its await.  The
 * combinators above (sync, gather, groups) are never named here: they hook
 * in through the loop's wait ops and the joiner a task reports to.
 */
#include "loop.h"

/* The header keeps a frame that follows it aligned as malloc's memory; on
 * x86-64 it is four cache-line quarters (docs/PERFORMANCE.md counts them). */
_Static_assert(sizeof(co_task) % _Alignof(long double) == 0 &&
                   sizeof(co_task) % _Alignof(long long) == 0,
               "a frame after co_task must be aligned for any scalar");
#if defined(__x86_64__) && defined(__LP64__)
_Static_assert(sizeof(co_task) == 64, "co_task is 64 bytes on x86-64");
#endif
_Static_assert(CO__POOL_CLASSES < CO__BLOCK_BIG, "a pool block's grains fit co_timer.co__byte");

static void init_task(co_loop *loop, co_task *t, uint8_t flags, uint8_t block)
{
    t->next = t->awaiters = NULL;
    t->group = t->wait_on = NULL;
    co__set_task_loop(t, loop);
    t->timer.slot = 0;
    t->timer.seq = 0;
    t->timer.kind = CO__TIMER_SLEEP;
    t->timer.co__byte = block;
    t->wait = CO__W_NONE;
    t->flags = flags;
    t->cancels = 0;
    t->woke_from = CO__W_NONE;
    t->reg = 0;
    t->id = 0;
    t->scope.top = NULL;
}

/* A block of `total` bytes for a new task, its header set: the pool's up
 * to its largest class, else the allocator's with the size before it. */
static co_task *new_block(co_loop *loop, size_t total)
{
    co_task *t;
    if (total <= CO_POOL_MAX) {
        t = co__pool_alloc(loop, total);
        if (t)
            init_task(loop, t, CO__T_ALLOCATED,
                      (uint8_t)((total + CO_POOL_GRAIN - 1) / CO_POOL_GRAIN));
        return t;
    }
    char *b = co__alloc(loop, CO__BIG_PREFIX + total);
    if (b == NULL)
        return NULL;
    *(size_t *)(void *)b = total;
    t = (co_task *)(void *)(b + CO__BIG_PREFIX);
    init_task(loop, t, CO__T_ALLOCATED, CO__BLOCK_BIG);
    return t;
}

/* A new task's block with its frame's header set (co_init writes all of
 * it); the rest of the frame is the caller's to fill. */
static co_gen *new_task(co_loop *loop, size_t size, co_body body)
{
    size_t total;
    co_task *t;
    co_gen *frame;
    if (loop == NULL || body == NULL || size < sizeof(co_gen) ||
        size > CO__FRAME_MAX || loop->state == CO__LOOP_CLOSED)
        return NULL;
    total = sizeof(co_task) + size;
    t = new_block(loop, total);
    if (t == NULL)
        return NULL;
    if (co__register_task(loop, t) < 0) {
        co__free_block(loop, t);
        return NULL;
    }
    frame = co__frame(t);
    co_init(frame, body);
    return frame;
}

void *co_task_new(co_loop *loop, size_t size, co_body body)
{
    co_gen *frame = new_task(loop, size, body);
    if (frame) /* a zeroed frame, as calloc would give */
        co__zero(frame + 1, size - sizeof *frame);
    return frame;
}

void *co__task_from(co_loop *loop, size_t size, co_body body, const void *init)
{
    co_gen *frame = new_task(loop, size, body);
    if (frame == NULL)
        return NULL;
    /* the initializer's header is zeros: the new frame keeps its own, and
       the rest is the initializer's, so it is not zeroed first */
    if (init)
        co__bytecopy(frame + 1, (const char *)init + sizeof *frame, size - sizeof *frame);
    else
        co__zero(frame + 1, size - sizeof *frame);
    return frame;
}

int co__start_new(co_gen *frame)
{
    int rc;
    if (frame == NULL)
        return CO_ENOMEM; /* CO_TASK found no memory */
    rc = co_spawn(frame);
    if (rc < 0)
        co_release(frame);
    return rc;
}

int co_task_init(co_loop *loop, co_task *task, co_gen *frame)
{
    if (loop == NULL || task == NULL || frame == NULL || frame != co__frame(task) ||
        frame->fn == NULL)
        return CO_EBADARG;
    if (loop->state == CO__LOOP_CLOSED)
        return CO_ELOOPCLOSED;
    /* The header is not read: fresh storage (a C local) holds garbage, and
       a task still running here had its frame wiped by that CO_INIT already. */
    init_task(loop, task, 0, 0);
    return 0;
}

int co_spawn(co_gen *frame)
{
    co_task *t;
    co_loop *loop;
    if (frame == NULL || frame->fn == NULL)
        return CO_EBADARG;
    t = co__task(frame);
    if (t->flags & (CO__T_SPAWNED | CO__T_DONE))
        return CO_EBUSY;
    loop = co__task_loop(t);
    if (loop->state == CO__LOOP_CLOSED)
        return CO_ELOOPCLOSED;
    if (!(t->flags & CO__T_LISTED) && co__register_task(loop, t) < 0)
        return CO_ENOMEM; /* caller storage: listed while it runs */
    t->flags |= CO__T_SPAWNED;
    co__make_ready(loop, t);
    return 0;
}

bool co_done(const co_gen *task)
{
    return task != NULL && (co__task(task)->flags & CO__T_DONE) != 0;
}

int co_task_result(const co_gen *task)
{
    if (task == NULL)
        return CO_EBADARG;
    if (!co_done(task))
        return CO_ENOTDONE;
    co__mark_read(co__task(task));
    return co_result(task);
}

int co_cancelling(const co_gen *task) { return task ? co__task(task)->cancels : CO_EBADARG; }

int co_uncancel(co_gen *task)
{
    co_task *t;
    if (task == NULL)
        return CO_EBADARG;
    t = co__task(task);
    if (t->cancels > 0)
        t->cancels--;
    return t->cancels;
}

void co_release(co_gen *task)
{
    co_task *t = task ? co__task(task) : NULL;
    if (t == NULL || !(t->flags & CO__T_ALLOCATED))
        return;
    /* a gather still reads its tasks: it frees them when it ends */
    if ((t->flags & CO__T_DONE || !(t->flags & CO__T_SPAWNED)) && !t->group)
        co__free_task(co__task_loop(t), t);
    else
        t->flags |= CO__T_RELEASED;
}

/* -------------------------------------------------------- cancellation */

/* Unhooks t from whatever it waits on.  False when it must stay suspended
 * (a file job still runs in a worker and owns memory in its frame, or what
 * it awaits lets it go once its own children are done).  The wait kinds of
 * sync, gather and groups are reached through the ops they registered. */
static bool unhook(co_loop *loop, co_task *t)
{
    const co__wait_ops *ops;
    switch (t->wait) {
    case CO__W_TIMER:
        co__heap_remove(loop, &t->timer);
        break;
    case CO__W_TASK: /* like asyncio: the awaited task is cancelled, and
                        the awaiter wakes when it has finished */
        co_cancel(co__frame(t->wait_on));
        return false;
    case CO__W_FD:
    case CO__W_JOB:
        if (!loop->io->cancel(loop, t))
            return false;
        break;
    default:
        ops = t->wait < CO__W_KINDS ? loop->waits[t->wait] : NULL;
        if (ops && !ops->cancel(loop, t))
            return false;
        break;
    }
    t->wait = CO__W_NONE;
    return true;
}

/* The task t awaits, if it hands a cancellation on to one (not running). */
static co_task *awaited(const co_loop *loop, const co_task *t)
{
    return t->wait == CO__W_TASK && t != loop->current ? (co_task *)t->wait_on : NULL;
}

/*
 * Where a cancellation of t lands: asyncio hands it from an awaiter to the
 * task it awaits, so the awaiter ends cancelled only if that one does; it
 * lands on the first task of the chain that awaits none.  In a ring of
 * tasks awaiting each other (a deadlock; Python recurses until its
 * RecursionError) it lands on the ring's first task along the chain, which
 * is cancelled itself, and the ring unwinds.  Brent's cycle finding: no
 * mark on the tasks, O(chain) steps.
 */
static co_task *cancel_end(const co_loop *loop, co_task *t)
{
    co_task *slow = t, *fast = t, *next;
    uint32_t power = 1, len = 0;
    while ((next = awaited(loop, fast)) != NULL) {
        fast = next;
        len++;
        if (fast == slow)
            break; /* a ring of len tasks */
        if (len == power) {
            slow = fast;
            power *= 2;
            len = 0;
        }
    }
    if (next == NULL)
        return fast;
    slow = fast = t;
    while (len--)
        fast = awaited(loop, fast);
    while (slow != fast) {
        slow = awaited(loop, slow);
        fast = awaited(loop, fast);
    }
    return slow;
}

/* Takes a task out of the stack of awaiters of the task it awaits. */
static void leave_awaited(co_task *t)
{
    co_task **p = &((co_task *)t->wait_on)->awaiters;
    while (*p && *p != t)
        p = &(*p)->next;
    if (*p)
        *p = t->next;
    t->next = NULL;
    t->wait = CO__W_NONE;
}

int co_cancel(co_gen *task)
{
    co_task *t, *end;
    co_loop *loop;
    if (task == NULL || task->fn == NULL)
        return CO_EBADARG;
    t = co__task(task);
    loop = co__task_loop(t);
    if (t->flags & CO__T_DONE)
        return 0;
    end = cancel_end(loop, t);
    for (; t != end; t = awaited(loop, t)) /* each awaiter counts the request */
        if (t->cancels < UINT8_MAX)
            t->cancels++;
    if (t->cancels < UINT8_MAX)
        t->cancels++;
    if (awaited(loop, t) != NULL) { /* the ring's first task: woken cancelled */
        leave_awaited(t);
        t->flags |= CO__T_CANCEL;
        co__make_ready(loop, t);
        return 1;
    }
    t->flags |= CO__T_CANCEL;
    if (!(t->flags & CO__T_SPAWNED)) { /* Python: a task is scheduled when created */
        t->flags |= CO__T_SPAWNED;
        co__make_ready(loop, t);
        return 1;
    }
    /* a waiting task is resumed now; a ready or running one at its next await */
    if (t != loop->current && t->wait != CO__W_READY && t->wait != CO__W_NONE && unhook(loop, t))
        co__make_ready(loop, t);
    return 1;
}

/* ---------------------------------------------------------- one step */

static void finish_task(co_loop *loop, co_task *t)
{
    co_task *w = t->awaiters, *order = NULL;
    bool held = t->group != NULL; /* a gather or group reads it until it ends */
    bool read = held;
    t->flags |= CO__T_DONE;
    t->flags &= (uint8_t)~CO__T_CANCEL;
    t->wait = CO__W_NONE;
    co__heap_remove(loop, &t->timer); /* inline: a no-op when unarmed, as a fired sleep is */
    /* awaiters are stacked newest first: wake them oldest first */
    while (w) {
        co_task *next = w->next;
        read |= w->wait != CO__W_SHIELD; /* a shield reads it only if it resumes */
        w->next = order;
        order = w;
        w = next;
    }
    t->awaiters = NULL;
    /* what awaits it or gathers it reads its error; else it may go unread */
    t->wait_on = read ? (void *)t : NULL;
    while (order) {
        co_task *next = order->next;
        co__make_ready(loop, order);
        order = next;
    }
    if (held) /* the gather or group it reports to, through its hook */
        (*(const co__join_ops *const *)t->group)->member_done(loop, t->group, t);
    if (!(t->flags & CO__T_ALLOCATED))
        co__unregister_task(loop, t); /* caller storage is listed only while it runs */
    else if ((t->flags & CO__T_RELEASED) && t != loop->main && !held)
        co__free_task(loop, t);
}

/* A gather or group lets go of task c: free it if its owner already did. */

/* co__run_task's rare cases: hinted, and take_cancel kept out of line (the
 * common resume then saves fewer registers).  Neither at -Os (firmware):
 * there the hints make gcc outline co_throw and the helpers it inlines,
 * 170 bytes more of the AVR demo's flash. */
#ifdef __OPTIMIZE_SIZE__
#define RARE(x) (x)
#else
#define RARE(x) CO__UNLIKELY(x)
#endif

/* t, about to resume, was cancelled or woken by a wait queue: whether
 * it is cancelled (CO_ECANCELLED is then thrown at it, and the wake-up
 * it will not use is handed on).  Most resumes have neither flag, and
 * co__run_task tests both at once. */
static CO__OUT_OF_LINE bool take_cancel(co_loop *loop, co_task *t)
{
    if (!(t->flags & CO__T_CANCEL)) {
        t->flags &= (uint8_t)~CO__T_WOKEN;
        return false;
    }
    t->flags &= (uint8_t)~CO__T_CANCEL;
    /* the wake-up it will not use goes to whoever else waits */
    if ((t->flags & CO__T_WOKEN) && t->woke_from < CO__W_KINDS) {
        const co__wait_ops *ops = loop->waits[t->woke_from];
        if (ops && ops->pass_on)
            ops->pass_on(loop, t);
    }
    t->woke_from = CO__W_NONE;
    t->flags &= (uint8_t)~(CO__T_WOKEN | CO__T_HANDED);
    return true;
}

/* One step of t: resumes it until it awaits something or ends.  The common
 * resume (not cancelled, not woken by a wait queue) tests one flags byte
 * and resumes; the rare cases are placed out of its way. */
void co__run_task(co_loop *loop, co_task *t)
{
    co_gen *frame = co__frame(t);
    int st;
    loop->current = t;
    for (;;) {
        t->wait = CO__W_NONE;
        if (RARE(t->flags & (CO__T_CANCEL | CO__T_WOKEN)) && take_cancel(loop, t))
            st = co_throw(frame, CO_ECANCELLED);
        else
            st = co_next(frame);
        if (!RARE(st == CO_YIELDED && t->wait == CO__W_NONE))
            break;
        /* a bare yield awaits nothing: like asyncio's "Task got bad yield" */
        st = co_throw(frame, CO_EBADYIELD);
        if (st != CO_YIELDED || t->wait != CO__W_NONE)
            break;
    }
    loop->current = NULL;
    if (st != CO_YIELDED) {
        finish_task(loop, t);
        return;
    }
    /* cancelled while it ran (by itself or a task it woke): resume it at once */
    if (RARE(t->flags & CO__T_CANCEL) && t->wait != CO__W_READY && unhook(loop, t))
        co__make_ready(loop, t);
}

/* ------------------------------------------------------------- awaits */

int co__sleep(int64_t ns)
{
    co_loop *loop = co__loop();
    co_task *t;
    int64_t deadline;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    t = loop->current;
    co__wait_for(t, CO__W_TIMER, NULL);
    if (ns <= 0) { /* asyncio.sleep(0): go behind every other ready task */
        co__make_ready(loop, t);
        return 0;
    }
    deadline = co__deadline_after(loop, ns);
    if (co__heap_push(loop, &t->timer, deadline) < 0) {
        t->wait = CO__W_NONE;
        return CO_ENOMEM;
    }
    return 0;
}

/* Done: the task's outcome becomes caller's thrown value.  The task is
 * recorded in wait_on, so the resume needs nothing from the caller. */
int co__await_task(co_gen *caller, co_gen *task)
{
    co_loop *loop = co__loop();
    co_task *self, *t;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (task == NULL || task->fn == NULL)
        return CO_EBADARG;
    if (co__on_stack(loop, task))
        return CO_ESTACKARG;
    self = loop->current;
    t = co__task(task);
    if (t == self)
        return CO_ESELF;
    if (t->flags & CO__T_DONE) {
        co__mark_read(t);
        co__set_thrown(caller, co_result(task));
        return 1;
    }
    if (!(t->flags & CO__T_SPAWNED)) /* awaiting an unscheduled task starts it */
        co_spawn(task);
    self->next = t->awaiters;
    t->awaiters = self;
    co__wait_for(self, CO__W_TASK, t);
    return 0;
}

int co__await_task_again(co_gen *caller)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    return co__await_task(caller, co__frame(loop->current->wait_on));
}
