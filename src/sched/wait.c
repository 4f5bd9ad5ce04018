/*
 * wait.c -- asyncio.wait and as_completed: a done callback on every task
 * watched (co_task_add_done_callback, one co_wait_slot each) and a timer
 * handle for the timeout, as CPython builds them; the owner sleeps on the
 * co_wait (CO__W_WAIT) until a callback or the timer says it may go.
 *
 * The watched tasks are never cancelled nor read here.  Whatever way the
 * wait ends -- its condition, the timeout, the owner's cancellation -- the
 * callbacks and the timer are taken back before the owner goes on, so the
 * frame's slots are free again; as_completed keeps them across its awaits
 * until the last task, the timeout or co_wait_release.
 */
#include "loop.h"

#include <corio/wait.h>

enum { IDLE, WATCHING, RELEASED };
#define AS_COMPLETED 3 /* co_wait.mode beside enum co_wait_when */

static bool wait_cancel(co_loop *loop, co_task *owner);
static const co__wait_ops wait_ops = {wait_cancel, NULL};

void co_wait_init(co_wait *w, co_wait_slot *slots, size_t cap)
{
    if (w == NULL)
        return;
    co__zero(w, sizeof *w);
    w->slots = cap ? slots : NULL;
    w->cap = slots ? cap : 0;
}

/* The owner sleeps on w again. */
static int sleep_on(co_loop *loop, co_wait *w)
{
    loop->waits[CO__W_WAIT] = &wait_ops;
    co__wait_for(w->owner, CO__W_WAIT, w);
    return 0;
}

static void wake_owner(co_wait *w)
{
    co_task *o = w->owner;
    if (o && o->wait == CO__W_WAIT && o->wait_on == w)
        co__make_ready(co__task_loop(o), o);
}

/* A watched task is done (its callback, run by the loop). */
static void slot_done(void *arg)
{
    co_wait_slot *s = arg;
    co_wait *w = s->set;
    int err = co_result(s->task);
    w->pending--;
    if (w->mode == AS_COMPLETED) {
        s->next = NULL;
        if (w->tail)
            w->tail->next = s;
        else
            w->head = s;
        w->tail = s;
    } else if (w->pending == 0 || w->mode == CO_FIRST_COMPLETED ||
               (w->mode == CO_FIRST_EXCEPTION && err && err != CO_ECANCELLED)) {
        w->ready = true;
    } else {
        return;
    }
    wake_owner(w);
}

/* Takes the callbacks and the timer back. */
static void unwatch(co_wait *w)
{
    for (size_t i = 0; i < w->n; i++)
        co_handle_cancel(&w->slots[i].hook);
    co_handle_cancel(&w->timer);
}

/* The timeout: wait() returns; as_completed delivers what finished before
 * it, then raises CO_ETIMEOUT, later finishers unheard (as CPython). */
static void timed_out(void *arg)
{
    co_wait *w = arg;
    w->timed_out = true;
    if (w->mode == AS_COMPLETED)
        unwatch(w);
    wake_owner(w);
}

void co_wait_release(co_wait *w)
{
    if (w == NULL || w->state != WATCHING)
        return;
    w->state = RELEASED;
    unwatch(w);
    if (w->owns) {
        co__free(co__task_loop(w->owner), w->slots, w->cap * sizeof *w->slots);
        w->slots = NULL;
        w->cap = 0;
        w->owns = 0;
    }
}

/* Checks the tasks, takes slots, registers the callbacks and the timer. */
static int watch(co_loop *loop, co_wait *w, co_gen *const *tasks, size_t n, int64_t ns)
{
    int rc = 0;
    if (n == 0 || tasks == NULL)
        return CO_EBADARG; /* Python's ValueError: an empty set */
    for (size_t i = 0; i < n; i++) {
        if (tasks[i] == NULL || tasks[i]->fn == NULL || co__task_loop(co__task(tasks[i])) != loop)
            return CO_EBADARG;
        if (co__task(tasks[i]) == loop->current)
            return CO_ESELF;
    }
    if (w->slots && w->cap < n)
        return CO_EBADARG; /* fewer slots than tasks */
    if (w->slots == NULL) {
        if ((w->slots = co__alloc(loop, n * sizeof *w->slots)) == NULL)
            return CO_ENOMEM;
        w->cap = n;
        w->owns = 1;
    }
    w->owner = loop->current;
    w->pending = n;
    w->head = w->tail = NULL;
    w->ready = w->timed_out = false;
    w->state = WATCHING;
    co__zero(&w->timer, sizeof w->timer);
    if (ns != CO_NO_TIMEOUT)
        rc = co_call_at(loop, &w->timer, co__deadline_after(loop, ns), timed_out, w);
    w->n = 0; /* counts the slots registered, which a failure releases */
    for (size_t i = 0; i < n && rc == 0; i++) {
        co_wait_slot *s = &w->slots[i];
        co__zero(s, sizeof *s);
        s->set = w;
        s->task = tasks[i];
        rc = co_task_add_done_callback(tasks[i], &s->hook, slot_done, s);
        if (rc == 0)
            w->n = i + 1;
    }
    if (rc < 0)
        co_wait_release(w);
    return rc;
}

static int check_owner(co_loop *loop, const co_wait *w, const void *array)
{
    if (w == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, w) || co__on_stack(loop, array) || co__on_stack(loop, w->slots))
        return CO_ESTACKARG; /* all are used after the owner suspends */
    return 0;
}

int co__wait_start(co_wait *w, co_gen **tasks, size_t n, int when, int64_t ns)
{
    co_loop *loop = co__loop();
    int rc = check_owner(loop, w, tasks);
    if (rc < 0)
        return rc;
    if (when != CO_FIRST_COMPLETED && when != CO_FIRST_EXCEPTION && when != CO_ALL_COMPLETED)
        return CO_EBADARG;
    if (w->state == WATCHING)
        return CO_EBUSY;
    w->mode = (uint8_t)when;
    w->tasks = tasks;
    w->ndone = 0;
    rc = watch(loop, w, tasks, n, ns);
    return rc < 0 ? rc : sleep_on(loop, w);
}

/* The wait is over: done tasks first, pending ones after, in their order. */
static void partition(co_wait *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++)
        if (co_done(w->slots[i].task))
            w->tasks[k++] = w->slots[i].task;
    w->ndone = k;
    for (size_t i = 0; i < w->n; i++)
        if (!co_done(w->slots[i].task))
            w->tasks[k++] = w->slots[i].task;
}

int co_as_completed(co_wait *w, co_gen *const *tasks, size_t n, int64_t ms)
{
    co_loop *loop = co__loop();
    int rc = check_owner(loop, w, NULL);
    if (rc < 0)
        return rc;
    if (w->state == WATCHING)
        return CO_EBUSY;
    w->mode = AS_COMPLETED;
    w->tasks = NULL;
    return watch(loop, w, tasks, n, co__ms_to_ns(ms));
}

/* Takes the next finished task, or says why there is none (0: wait). */
static int take_next(co_wait *w)
{
    co_wait_slot *s = w->head;
    int err;
    if (s) {
        w->head = s->next;
        if (w->head == NULL)
            w->tail = NULL;
        *w->dst = s->task;
        err = co_task_result(s->task); /* read, as awaiting it would */
        if (w->head == NULL && w->pending == 0)
            co_wait_release(w); /* that was the n-th */
        return err < 0 ? err : 1;
    }
    if (w->timed_out) {
        co_wait_release(w);
        return CO_ETIMEOUT;
    }
    return w->state == WATCHING ? 0 : CO_EINVALSTATE;
}

int co__next_completed(co_wait *w, co_gen **dst)
{
    co_loop *loop = co__loop();
    int rc = check_owner(loop, w, dst);
    if (rc < 0)
        return rc;
    if (dst == NULL || w->mode != AS_COMPLETED)
        return CO_EBADARG;
    if (w->state == WATCHING && w->owner != loop->current)
        return CO_EBUSY; /* one task iterates */
    w->dst = dst;
    rc = take_next(w);
    return rc == 0 ? sleep_on(loop, w) : rc;
}

int co__wait_again(int thrown)
{
    co_loop *loop = co__loop();
    co_wait *w;
    int rc;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    w = loop->current->wait_on;
    if (thrown) { /* cancelled: the callbacks go before the owner unwinds */
        co_wait_release(w);
        return thrown;
    }
    if (w->mode == AS_COMPLETED)
        return (rc = take_next(w)) == 0 ? sleep_on(loop, w) : rc;
    if (!w->ready && !w->timed_out)
        return sleep_on(loop, w);
    partition(w);
    co_wait_release(w);
    return 1;
}

/* The owner is cancelled while it waits: it resumes at once, and the
 * resume (co__wait_again) takes the callbacks back. */
static bool wait_cancel(co_loop *loop, co_task *owner)
{
    (void)loop;
    (void)owner;
    return true;
}
