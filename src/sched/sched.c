/*
 * sched.c -- the scheduler: the loop's turn, tasks, sleeping, awaiting,
 * cancellation, gather, deadlines, task groups and asyncio.run.
 *
 * A task is a co_task header followed by its root generator frame.  The loop
 * resumes ready tasks in FIFO order; a task that suspends has registered
 * itself somewhere first (its own timer, a wait queue, another task, the
 * reactor), and whatever it waits on moves it back to the ready queue.
 * Cancelling a task unhooks it from what it waits on and resumes it with
 * CO_ECANCELLED thrown at its await.
 */
#include "loop.h"

#include <stdlib.h>
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

#define MAX_SHUTDOWN_ROUNDS 8

co_loop *co__loop(void) { return running; }
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

/* ------------------------------------------------------------- memory */

void *co__alloc(co_loop *loop, size_t size)
{
    if (loop->hooks.alloc)
        return loop->hooks.alloc(loop->hooks.ctx, size);
    return malloc(size);
}

void co__free(co_loop *loop, void *p, size_t size)
{
    if (p == NULL)
        return;
    if (loop->hooks.free)
        loop->hooks.free(loop->hooks.ctx, p, size);
    else
        free(p);
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

static int register_task(co_loop *loop, co_task *t)
{
    if (loop->ntasks == loop->cap_tasks && grow_registry(loop, loop->cap_tasks * 2) < 0)
        return CO_ENOMEM;
    t->flags |= CO__T_LISTED;
    t->reg = loop->ntasks;
    loop->tasks[loop->ntasks++] = t;
    return 0;
}

static void unregister_task(co_loop *loop, co_task *t)
{
    co_task *last;
    if (!(t->flags & CO__T_LISTED))
        return;
    t->flags &= (uint8_t)~CO__T_LISTED;
    last = loop->tasks[--loop->ntasks];
    loop->tasks[t->reg] = last;
    last->reg = t->reg;
}

static void free_task(co_loop *loop, co_task *t)
{
    unregister_task(loop, t);
    if (t->flags & CO__T_ALLOCATED)
        co__pool_free(loop, t, t->size);
}

/* --------------------------------------------------------------- tasks */

static void init_task(co_loop *loop, co_task *t, uint8_t flags, uint32_t size)
{
    t->next = t->awaiters = NULL;
    t->group = t->wait_on = NULL;
    t->loop = loop;
    t->timer.slot = 0;
    t->timer.seq = 0;
    t->timer.kind = CO__TIMER_SLEEP;
    t->wait = CO__W_NONE;
    t->flags = flags;
    t->cancels = 0;
    t->woke_from = CO__W_NONE;
    t->reg = 0;
    t->size = size;
}

void *co_task_new(co_loop *loop, size_t size, co_body body)
{
    size_t total;
    co_task *t;
    co_gen *frame;
    if (loop == NULL || body == NULL || size < sizeof(co_gen) ||
        size > UINT32_MAX - sizeof(co_task) || loop->state == CO__LOOP_CLOSED)
        return NULL;
    total = sizeof(co_task) + size;
    t = co__pool_alloc(loop, total);
    if (t == NULL)
        return NULL;
    init_task(loop, t, CO__T_ALLOCATED, (uint32_t)total);
    if (register_task(loop, t) < 0) {
        co__pool_free(loop, t, total);
        return NULL;
    }
    frame = co__frame(t);
    for (size_t i = 0; i < size; i++) /* a zeroed frame, as calloc would give */
        ((unsigned char *)frame)[i] = 0;
    co_init(frame, body);
    return frame;
}

int co_task_init(co_loop *loop, co_task *task, co_gen *frame)
{
    if (loop == NULL || task == NULL || frame == NULL || frame != co__frame(task) ||
        frame->fn == NULL)
        return CO_EBADARG;
    if (loop->state == CO__LOOP_CLOSED)
        return CO_ELOOPCLOSED;
    if ((task->flags & CO__T_LISTED) && task->loop == loop && task->reg < loop->ntasks &&
        loop->tasks[task->reg] == task)
        return CO_EBUSY; /* still running from an earlier init */
    init_task(loop, task, 0, 0);
    return 0;
}

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

static co_task *pop_ready(co_loop *loop)
{
    co_task *t = loop->ready_head;
    loop->ready_head = t->next;
    if (loop->ready_head == NULL)
        loop->ready_tail = NULL;
    loop->nready--;
    t->next = NULL;
    return t;
}

int co_spawn(co_gen *frame)
{
    co_task *t;
    if (frame == NULL || frame->fn == NULL)
        return CO_EBADARG;
    t = co__task(frame);
    if (t->flags & (CO__T_SPAWNED | CO__T_DONE))
        return CO_EBUSY;
    if (t->loop->state == CO__LOOP_CLOSED)
        return CO_ELOOPCLOSED;
    if (!(t->flags & CO__T_LISTED) && register_task(t->loop, t) < 0)
        return CO_ENOMEM; /* caller storage: listed while it runs */
    t->flags |= CO__T_SPAWNED;
    co__make_ready(t->loop, t);
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
    return co_done(task) ? co_result(task) : CO_ENOTDONE;
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
        free_task(t->loop, t);
    else
        t->flags |= CO__T_RELEASED;
}

/* -------------------------------------------------------- cancellation */

static void notify_member_done(co_loop *loop, co_task *t);
static void gather_cancel_children(co_gather *g);
static void group_abort(co_group *g);

/* Unhooks t from whatever it waits on.  False when it must stay suspended
 * (a file job still runs in a worker and owns memory in its frame). */
static bool unhook(co_loop *loop, co_task *t)
{
    switch (t->wait) {
    case CO__W_TIMER:
        co__heap_remove(loop, &t->timer);
        break;
    case CO__W_TASK: /* like asyncio: the awaited task is cancelled, and
                        the awaiter wakes when it has finished */
        co_cancel(co__frame(t->wait_on));
        return false;
    case CO__W_GATHER: /* the gather cancels its children and waits for them */
        gather_cancel_children(t->wait_on);
        return false;
    case CO__W_GROUP:
        group_abort(t->wait_on);
        return false;
    case CO__W_EVENT:
        co__waitq_remove(&((co_event *)t->wait_on)->waiters, t);
        break;
    case CO__W_LOCK:
        co__waitq_remove(&((co_lock *)t->wait_on)->waiters, t);
        break;
    case CO__W_SEM:
        co__waitq_remove(&((co_sem *)t->wait_on)->waiters, t);
        break;
    case CO__W_QGET:
        co__waitq_remove(&((co_queue *)t->wait_on)->getters, t);
        break;
    case CO__W_QPUT:
        co__waitq_remove(&((co_queue *)t->wait_on)->putters, t);
        break;
    case CO__W_FD:
    case CO__W_JOB:
        if (!loop->io->cancel(loop, t))
            return false;
        break;
    default:
        break;
    }
    t->wait = CO__W_NONE;
    return true;
}

int co_cancel(co_gen *task)
{
    co_task *t;
    co_loop *loop;
    if (task == NULL || task->fn == NULL)
        return CO_EBADARG;
    t = co__task(task);
    loop = t->loop;
    if (t->flags & CO__T_DONE)
        return 0;
    if (t->cancels < UINT8_MAX)
        t->cancels++;
    if (t->wait == CO__W_TASK && t != loop->current) {
        /* asyncio hands the cancellation to the task awaited: the awaiter
           ends cancelled only if that one does */
        co_cancel(co__frame(t->wait_on));
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

/* ---------------------------------------------------------- the driver */

static void finish_task(co_loop *loop, co_task *t)
{
    co_task *w = t->awaiters, *order = NULL;
    bool held = t->group != NULL; /* a gather or group reads it until it ends */
    t->flags |= CO__T_DONE;
    t->flags &= (uint8_t)~CO__T_CANCEL;
    t->wait = CO__W_NONE;
    co__heap_remove(loop, &t->timer);
    /* awaiters are stacked newest first: wake them oldest first */
    while (w) {
        co_task *next = w->next;
        w->next = order;
        order = w;
        w = next;
    }
    t->awaiters = NULL;
    while (order) {
        co_task *next = order->next;
        co__make_ready(loop, order);
        order = next;
    }
    if (held)
        notify_member_done(loop, t);
    if (!(t->flags & CO__T_ALLOCATED))
        unregister_task(loop, t); /* caller storage is listed only while it runs */
    else if ((t->flags & CO__T_RELEASED) && t != loop->main && !held)
        free_task(loop, t);
}

/* A gather or group lets go of task c: free it if its owner already did. */
static void let_go(co_loop *loop, co_task *c)
{
    c->group = NULL;
    if ((c->flags & (CO__T_RELEASED | CO__T_DONE)) == (CO__T_RELEASED | CO__T_DONE))
        free_task(loop, c);
}

static void run_task(co_loop *loop, co_task *t)
{
    co_gen *frame = co__frame(t);
    int st;
    loop->current = t;
    for (;;) {
        t->wait = CO__W_NONE;
        if (t->flags & CO__T_CANCEL) {
            t->flags &= (uint8_t)~CO__T_CANCEL;
            /* the wake-up it will not use goes to whoever else waits */
            if (t->flags & CO__T_WOKEN)
                co__sync_pass_on(loop, t);
            else if (t->woke_from == CO__W_GATHER) /* its children stop reporting to it */
                co__gather_end(t->wait_on);
            t->woke_from = CO__W_NONE;
            t->flags &= (uint8_t)~(CO__T_WOKEN | CO__T_HANDED);
            st = co_throw(frame, CO_ECANCELLED);
        } else {
            t->flags &= (uint8_t)~CO__T_WOKEN;
            st = co_next(frame);
        }
        if (st != CO_YIELDED || t->wait != CO__W_NONE)
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
    if ((t->flags & CO__T_CANCEL) && t->wait != CO__W_READY && unhook(loop, t))
        co__make_ready(loop, t);
}

/* ---------------------------------------------------------------- time */

int co__sleep(int64_t ns)
{
    co_loop *loop = running;
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
    deadline = ns > INT64_MAX - loop->now ? INT64_MAX : loop->now + ns;
    if (co__heap_push(loop, &t->timer, deadline) < 0) {
        t->wait = CO__W_NONE;
        return CO_ENOMEM;
    }
    return 0;
}

static void fire_timer(co_loop *loop, co_timer *tm)
{
    switch (tm->kind) {
    case CO__TIMER_SLEEP: {
        co_task *t = (co_task *)(void *)((char *)tm - offsetof(co_task, timer));
        co__make_ready(loop, t);
        break;
    }
    case CO__TIMER_DEADLINE: {
        co_deadline *d = (co_deadline *)(void *)((char *)tm - offsetof(co_deadline, timer));
        d->expired = true;
        co_cancel(co__frame(d->target));
        break;
    }
    case CO__TIMER_CALLBACK: {
        co__callback_timer *c = (co__callback_timer *)(void *)tm;
        c->fn(c->arg);
        break;
    }
    default:
        break;
    }
}

static void fire_timers(co_loop *loop)
{
    co_heap *h = &loop->timers;
    while (h->n && h->a[0].deadline <= loop->now) {
        co_timer *tm = h->a[0].timer;
        co__heap_remove(loop, tm);
        fire_timer(loop, tm);
    }
}

static int64_t read_clock(co_loop *loop);

/* Whether anything could still wake a task: timers, or the reactor (whose
 * signals and other threads may always call in). */
static bool can_progress(co_loop *loop)
{
    if (loop->io_error)
        return loop->ready_head != NULL;
    return loop->ready_head || !co__heap_empty(&loop->timers) || loop->io || loop->hooks.idle;
}

/* At shutdown, only what is already under way counts. */
static bool shutdown_can_progress(co_loop *loop)
{
    if (loop->io_error)
        return loop->ready_head != NULL;
    return loop->ready_head || !co__heap_empty(&loop->timers) ||
           (loop->io && loop->io->busy(loop));
}

/* Runs the tasks ready now; those they ready run in the next round, so a
 * task that yields goes behind the others and I/O is polled in between. */
static void run_round(co_loop *loop)
{
    size_t n = loop->nready;
    while (n-- && loop->ready_head)
        run_task(loop, pop_ready(loop));
}

/* The other half of a turn: wait for I/O until the next deadline (not at
 * all if something is ready or may_block is false), then fire the timers
 * that are due.  The clock is read once, after the wait. */
static void wait_and_fire(co_loop *loop, bool may_block)
{
    int64_t timeout = -1;
    if (loop->ready_head || !may_block)
        timeout = 0;
    else if (!co__heap_empty(&loop->timers)) {
        timeout = co__heap_top_deadline(&loop->timers) - loop->now;
        if (timeout < 0)
            timeout = 0;
    }
    if (loop->autojump && timeout > 0) {
        /* a fake clock: poll I/O once, then jump straight to the deadline */
        if (loop->io)
            loop->io->wait(loop, 0);
        if (!loop->ready_head)
            loop->now = co__heap_top_deadline(&loop->timers);
    } else {
        /* with tasks ready and nothing that a poll could find, skip the
           syscall: a busy round costs no kernel round trip */
        if (loop->io && (timeout != 0 || loop->io->busy(loop))) {
            int rc = loop->io->wait(loop, timeout);
            if (rc < 0 && loop->io_error == 0)
                loop->io_error = rc; /* never spin on a broken backend */
        } else if (loop->hooks.idle && timeout != 0)
            loop->hooks.idle(loop->hooks.ctx, timeout);
        loop->now = read_clock(loop);
    }
    fire_timers(loop);
}

/* ------------------------------------------------------------ awaiting */

int co__await_task(co_gen *task)
{
    co_loop *loop = running;
    co_task *self, *t;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (task == NULL || task->fn == NULL)
        return CO_EBADARG;
    self = loop->current;
    t = co__task(task);
    if (t == self)
        return CO_ESELF;
    if (t->flags & CO__T_DONE)
        return 1;
    if (!(t->flags & CO__T_SPAWNED)) /* awaiting an unscheduled task starts it */
        co_spawn(task);
    self->next = t->awaiters;
    t->awaiters = self;
    co__wait_for(self, CO__W_TASK, t);
    return 0;
}

int co__await_task_end(co_gen *task) { return co_result(task); }

/* -------------------------------------------------------------- gather */

enum { GROUP_GATHER = 1, GROUP_TASKGROUP };

static bool gather_ready(const co_gather *g)
{
    if (g->pending == 0)
        return true;
    /* a cancelled owner waits for every child it cancelled */
    if (g->owner && (g->owner->flags & CO__T_CANCEL))
        return false;
    return g->mode == CO_GATHER_FIRST_ERROR && g->error != 0;
}

int co__gather_start(co_gather *g, co_gen *const *tasks, size_t n, int mode)
{
    co_loop *loop = running;
    co_task *self;
    if (g == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    self = loop->current;
    if (g->owner != self) { /* the first call: adopt the children */
        if ((tasks == NULL && n) || (mode != CO_GATHER_FIRST_ERROR && mode != CO_GATHER_ALL))
            return CO_EBADARG;
        for (size_t i = 0; i < n; i++) {
            co_task *c;
            if (tasks[i] == NULL || tasks[i]->fn == NULL)
                return CO_EBADARG;
            c = co__task(tasks[i]);
            if (c == self)
                return CO_ESELF;
            if (c->group)
                return CO_EBUSY;
        }
        g->kind = GROUP_GATHER;
        g->tasks = tasks;
        g->n = n;
        g->pending = 0;
        g->error = 0;
        g->mode = (uint8_t)mode;
        g->owner = self;
        for (size_t i = 0; i < n; i++) {
            co_task *c = co__task(tasks[i]);
            if (c->flags & CO__T_DONE) {
                if (g->error == 0)
                    g->error = co_result(tasks[i]);
                continue;
            }
            if (c->group == g) /* named twice: counted once, like asyncio */
                continue;
            if (!(c->flags & CO__T_SPAWNED) && co_spawn(tasks[i]) < 0) {
                if (g->error == 0)
                    g->error = CO_ENOMEM;
                continue;
            }
            c->group = g;
            g->pending++;
        }
    }
    if (gather_ready(g))
        return 1;
    co__wait_for(self, CO__W_GATHER, g);
    return 0;
}

int co__gather_end(co_gather *g)
{
    if (g == NULL)
        return CO_EBADARG;
    /* the children let go; those still running (first error) stop reporting */
    for (size_t i = 0; i < g->n; i++) {
        co_task *c = co__task(g->tasks[i]);
        if (c->group == g)
            let_go(c->loop, c);
    }
    g->pending = 0;
    g->owner = NULL;
    return g->mode == CO_GATHER_FIRST_ERROR ? g->error : 0;
}

static void gather_cancel_children(co_gather *g)
{
    for (size_t i = 0; i < g->n; i++) {
        co_task *c = co__task(g->tasks[i]);
        if (c->group == g && !(c->flags & CO__T_DONE))
            co_cancel(g->tasks[i]);
    }
}

static void gather_member_done(co_loop *loop, co_gather *g, co_task *c)
{
    int err = co_result(co__frame(c));
    g->pending--;
    if (err && g->error == 0)
        g->error = err;
    if (g->owner && g->owner->wait == CO__W_GATHER && gather_ready(g)) {
        g->owner->woke_from = CO__W_GATHER;
        co__make_ready(loop, g->owner);
    }
}

/* ----------------------------------------------------------- deadlines */

int co__deadline_arm(co_deadline *d, co_gen *target, int64_t ns)
{
    co_loop *loop = running;
    int64_t deadline;
    if (d == NULL || (target && target->fn == NULL))
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    d->timer.slot = 0;
    d->timer.kind = CO__TIMER_DEADLINE;
    d->target = target ? co__task(target) : loop->current;
    d->owner = loop->current;
    d->expired = false;
    if (ns < 0)
        ns = 0;
    deadline = ns > INT64_MAX - loop->now ? INT64_MAX : loop->now + ns;
    return co__heap_push(loop, &d->timer, deadline);
}

int co__deadline_end(co_deadline *d, int err)
{
    co_loop *loop;
    if (d == NULL || d->owner == NULL)
        return CO_EBADARG;
    loop = d->owner->loop;
    co__heap_remove(loop, &d->timer);
    if (!d->expired)
        return err;
    if (d->target != d->owner) /* around a task: we cancelled it */
        return err == CO_ECANCELLED ? CO_ETIMEOUT : err;
    /* around our own child: our cancellation becomes a timeout, unless
       someone else cancelled us too (asyncio.timeout's rule) */
    if (co_uncancel(co__frame(d->owner)) == 0 && err == CO_ECANCELLED)
        return CO_ETIMEOUT;
    return err;
}

/* --------------------------------------------------------- task groups */

void co_group_init(co_group *g)
{
    if (g == NULL)
        return;
    g->kind = GROUP_TASKGROUP;
    g->finished = false;
    g->members = NULL;
    g->n = g->cap = g->pending = 0;
    g->error = 0;
    g->owner = NULL;
    g->aborting = false;
    g->body_done = false;
}

void co_group_fini(co_group *g)
{
    if (g == NULL || g->owner == NULL)
        return;
    for (size_t i = 0; i < g->n; i++) {
        co_task *c = co__task(g->members[i]);
        if (c->group == g)
            let_go(c->loop, c);
    }
    co__free(g->owner->loop, g->members, g->cap * sizeof *g->members);
    g->members = NULL;
    g->n = g->cap = 0;
}

int co__group_enter(co_group *g)
{
    co_loop *loop = running;
    if (g == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (g->finished || (g->owner && g->owner != loop->current))
        return CO_EGROUPDONE;
    g->owner = loop->current;
    g->body_done = false;
    return 0;
}

int co_group_spawn(co_group *g, co_gen *frame)
{
    co_task *c;
    int rc;
    if (g == NULL || frame == NULL || frame->fn == NULL || g->owner == NULL)
        return CO_EBADARG;
    c = co__task(frame);
    if (g->aborting || g->finished)
        return CO_EGROUPDONE;
    if (c->group || (c->flags & (CO__T_SPAWNED | CO__T_DONE)))
        return CO_EBUSY;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        co_gen **m = co__alloc(g->owner->loop, cap * sizeof *m);
        if (m == NULL)
            return CO_ENOMEM;
        for (size_t i = 0; i < g->n; i++)
            m[i] = g->members[i];
        co__free(g->owner->loop, g->members, g->cap * sizeof *m);
        g->members = m;
        g->cap = cap;
    }
    rc = co_spawn(frame);
    if (rc < 0)
        return rc;
    g->members[g->n++] = frame;
    c->group = g;
    g->pending++;
    return 0;
}

/* The first failure: cancel every member still running, and the body. */
static void group_abort(co_group *g)
{
    if (g->aborting)
        return;
    g->aborting = true;
    for (size_t i = 0; i < g->n; i++) {
        co_task *c = co__task(g->members[i]);
        if (c->group == g && !(c->flags & CO__T_DONE))
            co_cancel(g->members[i]);
    }
    if (!g->body_done && g->owner)
        co_cancel(co__frame(g->owner));
}

static void group_fail(co_group *g, int err)
{
    if (g->error == 0)
        g->error = err;
    group_abort(g);
}

int co__group_body_done(co_group *g, int err)
{
    if (g == NULL || g->owner == NULL)
        return CO_EBADARG;
    bool aborted = g->aborting;
    g->body_done = true;
    if (err == CO_ECANCELLED && aborted) {
        co_uncancel(co__frame(g->owner)); /* the group cancelled its body */
        return 0;
    }
    if (err)
        group_fail(g, err);
    return 0;
}

size_t co_group_errors(const co_group *g, int *errs, size_t max)
{
    if (g == NULL || (errs == NULL && max))
        return 0;
    for (size_t i = 0; i < g->n && i < max; i++)
        errs[i] = co_task_result(g->members[i]);
    return g->n;
}

int co__group_wait_start(co_group *g)
{
    if (g == NULL || g->owner == NULL)
        return CO_EBADARG;
    if (g->pending == 0)
        return 1;
    co__wait_for(g->owner, CO__W_GROUP, g);
    return 0;
}

int co__group_end(co_group *g)
{
    if (g == NULL)
        return CO_EBADARG;
    g->finished = true;
    return g->error;
}

static void group_member_done(co_loop *loop, co_group *g, co_task *c)
{
    int err = co_result(co__frame(c));
    g->pending--;
    if (err && err != CO_ECANCELLED)
        group_fail(g, err);
    if (g->pending == 0 && g->owner && g->owner->wait == CO__W_GROUP)
        co__make_ready(loop, g->owner);
}

static void notify_member_done(co_loop *loop, co_task *t)
{
    if (*(const uint8_t *)t->group == GROUP_GATHER)
        gather_member_done(loop, t->group, t);
    else
        group_member_done(loop, t->group, t);
}

/* ------------------------------------------------------------ the loop */

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
static int64_t read_clock(co_loop *loop)
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
    loop->now = read_clock(loop);
    return grow_registry(loop, REGISTRY_START);
}

void co__loop_fini(co_loop *loop)
{
    /* tasks left: never spawned, or stuck through shutdown */
    while (loop->ntasks) {
        co_task *t = loop->tasks[loop->ntasks - 1];
        unregister_task(loop, t);
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

static bool live_tasks(co_loop *loop)
{
    for (uint32_t i = 0; i < loop->ntasks; i++) {
        co_task *t = loop->tasks[i];
        if ((t->flags & CO__T_SPAWNED) && !(t->flags & CO__T_DONE))
            return true;
    }
    return false;
}

static void cancel_all(co_loop *loop)
{
    for (uint32_t i = 0; i < loop->ntasks; i++) {
        co_task *t = loop->tasks[i];
        if ((t->flags & CO__T_SPAWNED) && !(t->flags & CO__T_DONE))
            co_cancel(co__frame(t));
    }
}

/* Runs turns until `main` is done; false if nothing could ever wake it. */
static bool run_until_done(co_loop *loop, co_task *main)
{
    for (;;) {
        run_round(loop);
        if (main->flags & CO__T_DONE)
            return true;
        if (!can_progress(loop))
            return false;
        wait_and_fire(loop, true);
    }
}

/* asyncio.run's shutdown: cancel what is left and let its cleanup run.  A
 * task that keeps swallowing cancellations is given up on after a few
 * rounds rather than hanging the program. */
static void shutdown_tasks(co_loop *loop)
{
    for (int rounds = 0; rounds < MAX_SHUTDOWN_ROUNDS && live_tasks(loop); rounds++) {
        cancel_all(loop);
        for (;;) {
            run_round(loop);
            if (!live_tasks(loop) || !shutdown_can_progress(loop))
                break;
            wait_and_fire(loop, true);
        }
    }
}

int co_run(co_loop *loop, co_gen *main)
{
    co_task *t;
    int rc;
    if (loop == NULL || main == NULL || main->fn == NULL)
        return CO_EBADARG;
    if (running)
        return CO_ELOOPRUNNING;
    if (loop->state != CO__LOOP_OPEN)
        return loop->state == CO__LOOP_RUNNING ? CO_ELOOPRUNNING : CO_ELOOPCLOSED;
    t = co__task(main);
    if (t->loop != loop)
        return CO_EBADARG;
    if (!(t->flags & CO__T_SPAWNED) && (rc = co_spawn(main)) < 0)
        return rc;
    running = loop;
    loop->state = CO__LOOP_RUNNING;
    loop->main = t;
    loop->now = read_clock(loop);
    if (loop->io && loop->io->run_begin)
        loop->io->run_begin(loop);
    if (!run_until_done(loop, t)) {
        /* every task waits on something nothing can trigger: a deadlock */
        co_cancel(main);
        run_until_done(loop, t);
    }
    /* asyncio's loop stops one iteration after main is done: what was ready
       by then still runs (fire-and-forget tasks get their first step) */
    wait_and_fire(loop, false);
    run_round(loop);
    shutdown_tasks(loop);
    loop->main = NULL;
    loop->state = CO__LOOP_OPEN;
    running = NULL;
    rc = loop->io_error ? loop->io_error : co_task_result(main);
    loop->io_error = 0;
    if (loop->io && loop->io->run_end)
        rc = loop->io->run_end(loop, rc);
    if (t->flags & CO__T_RELEASED)
        free_task(loop, t);
    return rc;
}
