/*
 * future.c -- asyncio.Future: a one-shot result slot that tasks await.
 *
 * A future keeps one FIFO of what waits for it: tasks suspended on it and
 * done callbacks (callback.c adds those, as co_handle nodes whose `loop` is
 * NULL).  Resolving it moves the whole FIFO to the ready queue in order, so
 * awaiters and callbacks run in the order they came, as asyncio schedules
 * them.  A task cancelled while it awaits a future cancels the future, as
 * Task.cancel() does in asyncio; the task core reaches that through the
 * wait ops registered for CO__W_FUTURE.
 */
#include "loop.h"

enum { PENDING, DONE, CANCELLED };

static bool future_cancel_waiter(co_loop *loop, co_task *t);
static void future_pass_on(co_loop *loop, co_task *t);
static const co__wait_ops future_wait = {future_cancel_waiter, future_pass_on};

/* An awaiter's record (its wait_on while it waits): the future and where its
 * value goes, taken when the await starts so nothing is re-read after the
 * resume.  From the loop's pool: a loop torn down mid-await frees it too. */
typedef struct fwait {
    co_future *f;
    void **value;
} fwait;

void co_future_init(co_future *f, co_loop *loop)
{
    if (f == NULL)
        return;
    f->waiters.head = f->waiters.tail = NULL;
    f->loop = loop;
    f->value = NULL;
    f->error = 0;
    f->state = PENDING;
}

/* Moves every awaiter and done callback to the ready queue, oldest first. */
static void wake_all(co_future *f)
{
    co_task *t;
    while ((t = co__waitq_pop(&f->waiters)) != NULL) {
        if (co__is_task(t))
            co__wake(co__task_loop(t), t);
        else /* a done callback */
            co__make_ready(f->loop, t);
    }
}

static int resolve(co_future *f, uint8_t state, void *value, int error)
{
    if (f == NULL || f->loop == NULL)
        return CO_EBADARG;
    if (f->state != PENDING)
        return CO_EINVALSTATE;
    f->state = state;
    f->value = value;
    f->error = error;
    wake_all(f);
    return 0;
}

int co_future_set_result(co_future *f, void *value) { return resolve(f, DONE, value, 0); }

int co_future_set_exception(co_future *f, int err)
{
    if (err >= 0)
        return CO_EBADARG;
    return resolve(f, DONE, NULL, err);
}

bool co_future_cancel(co_future *f)
{
    return resolve(f, CANCELLED, NULL, CO_ECANCELLED) == 0;
}

bool co_future_done(const co_future *f) { return f && f->state != PENDING; }
bool co_future_cancelled(const co_future *f) { return f && f->state == CANCELLED; }

int co_future_result(const co_future *f, void **value)
{
    if (f == NULL)
        return CO_EBADARG;
    if (f->state == PENDING)
        return CO_ENOTDONE;
    if (value && f->error == 0)
        *value = f->value;
    return f->error;
}

/* The outcome of a done future for an await: 1, or its error. */
static int outcome(const co_future *f, void **value)
{
    int rc = co_future_result(f, value);
    return rc < 0 ? rc : 1;
}

int co__future_wait(co_future *f, void **value)
{
    co_loop *loop = co__loop();
    co_task *t;
    fwait *w;
    if (f == NULL || f->loop == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, value))
        return CO_ESTACKARG; /* it would be filled after a resume */
    if (f->state != PENDING)
        return outcome(f, value);
    if (f->loop != loop)
        return CO_EBADARG; /* a future belongs to one loop */
    w = co__pool_alloc(loop, sizeof *w);
    if (w == NULL)
        return CO_ENOMEM;
    w->f = f;
    w->value = value;
    t = loop->current;
    co__waitq_push(&f->waiters, t);
    loop->waits[CO__W_FUTURE] = &future_wait;
    co__wait_for(t, CO__W_FUTURE, w);
    return 0;
}

int co__future_again(void)
{
    co_loop *loop = co__loop();
    fwait *w;
    co_future *f;
    void **value;
    if (loop == NULL || loop->current == NULL || loop->current->woke_from != CO__W_FUTURE)
        return CO_ENOTASK;
    w = loop->current->wait_on;
    f = w->f;
    value = w->value;
    co__pool_free(loop, w, sizeof *w);
    if (f->state == PENDING)
        return CO_EBADYIELD; /* woken by something else than f */
    return outcome(f, value);
}

/* A task awaiting f is cancelled: f is cancelled, which wakes it (and every
 * other awaiter) with CO_ECANCELLED. */
static bool future_cancel_waiter(co_loop *loop, co_task *t)
{
    (void)loop;
    co_future_cancel(((fwait *)t->wait_on)->f);
    return false; /* woken by the cancellation just now: future_pass_on */
}

/* A woken awaiter was cancelled before it ran: its record goes. */
static void future_pass_on(co_loop *loop, co_task *t)
{
    co__pool_free(loop, t->wait_on, sizeof(fwait));
}
