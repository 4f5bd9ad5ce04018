/*
 * sync_cond.c -- asyncio.Condition: a FIFO of tasks waiting for a notify,
 * over a lock (its own or one shared with others).
 *
 * A wait releases the lock, waits for a notify, then takes the lock back
 * through the lock's own queue, as asyncio's does: a notified waiter
 * competes for the lock like any newcomer, in the order it runs.  The lock
 * is taken back on every way out, a cancellation included: the suspension
 * catches what is thrown at it (CO__WAIT_TIDY), the waiter queues for the
 * lock again (at its end, as asyncio's retry of acquire() does) and raises
 * the cancellation only once it holds the lock.  A notify that reached a
 * waiter which then ends with an error is given to the next waiter, as
 * asyncio 3.13 does (3.11 loses it); unlike 3.13, a waiter that was never
 * notified passes nothing on (no spurious wake-up).
 *
 * The waiter's record (its wait_on, from the loop's pool) keeps the
 * condition and wait_for's predicate, taken when the await starts.
 */
#include "sync_wait.h"

typedef struct cwait {
    co_cond *c;
    bool (*pred)(void *arg); /* wait_for's, or NULL */
    void *arg;
    int err;       /* thrown at the wait: raised once the lock is back */
    bool relock;   /* waiting for the lock, else for a notify */
    bool notified; /* a notify reached it in this wait */
} cwait;

static const co__wait_ops cond_wait_ops;

void co_cond_init(co_cond *cond, co_lock *lock)
{
    if (cond == NULL)
        return;
    cond->waiters.head = cond->waiters.tail = NULL;
    co_lock_init(&cond->own);
    cond->lock = lock ? lock : &cond->own;
}

co_lock *co_cond_lock(co_cond *cond) { return cond ? cond->lock : NULL; }

int co_cond_release(co_cond *cond) { return cond ? co_lock_release(cond->lock) : CO_EBADARG; }

bool co_cond_locked(const co_cond *cond) { return cond && co_lock_locked(cond->lock); }

int co_cond_notify(co_cond *cond, size_t n)
{
    if (cond == NULL)
        return CO_EBADARG;
    if (!cond->lock->locked)
        return CO_ENOTLOCKED; /* RuntimeError: cannot notify on un-acquired lock */
    for (; n > 0 && co__sync_wake_first(&cond->waiters); n--)
        ;
    return 0;
}

int co_cond_notify_all(co_cond *cond) { return co_cond_notify(cond, SIZE_MAX); }

/* Releases the lock (held) and waits for a notify. */
static int wait_notify(cwait *w)
{
    int rc = co_lock_release(w->c->lock);
    if (rc < 0)
        return rc;
    w->relock = false;
    w->notified = false;
    return co__sync_wait(&w->c->waiters, w, CO__W_COND, &cond_wait_ops);
}

/* The lock is back: the wait's outcome, or a wait_for waits again. */
static int finish(co_loop *loop, cwait *w)
{
    int rc = 1;
    if (w->err) {
        if (w->notified) /* the notify it will not use goes to the next */
            co__sync_wake_first(&w->c->waiters);
        rc = w->err;
    } else if (w->pred && !w->pred(w->arg)) {
        return wait_notify(w);
    }
    co__pool_free(loop, w, sizeof *w);
    return rc;
}

/* Takes the lock back, or queues for it. */
static int relock(co_loop *loop, cwait *w)
{
    if (co__lock_take(w->c->lock))
        return finish(loop, w);
    w->relock = true;
    return co__sync_wait(&w->c->lock->waiters, w, CO__W_CONDLOCK, &cond_wait_ops);
}

int co__cond_wait(co_cond *cond, bool (*pred)(void *arg), void *arg)
{
    co_loop *loop = co__loop();
    cwait *w;
    if (cond == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, cond) || (pred && co__on_stack(loop, arg)))
        return CO_ESTACKARG; /* read again after a resume */
    if (!cond->lock->locked)
        return CO_ENOTLOCKED; /* RuntimeError: cannot wait on un-acquired lock */
    if (pred && pred(arg))
        return 1;
    w = co__pool_alloc(loop, sizeof *w);
    if (w == NULL)
        return CO_ENOMEM; /* the lock is still held */
    w->c = cond;
    w->pred = pred;
    w->arg = arg;
    w->err = 0;
    return wait_notify(w);
}

/* Back from a notify, a hand-off of the lock, or an error thrown at either. */
int co__cond_again(int thrown)
{
    co_loop *loop = co__loop();
    cwait *w;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    w = loop->current->wait_on;
    if (thrown) {
        if (w->err == 0)
            w->err = thrown;
    } else if (!w->relock) {
        w->notified = true;
    }
    return relock(loop, w);
}

/* A waiter is cancelled: it leaves the queue it is in; its await goes on,
 * to take the lock back. */
static bool cond_cancel(co_loop *loop, co_task *t)
{
    cwait *w = t->wait_on;
    (void)loop;
    co__waitq_remove(t->wait == CO__W_COND ? &w->c->waiters : &w->c->lock->waiters, t);
    return true;
}

/* A waiter woken by a notify, or handed the lock, is cancelled before it
 * ran: the notify is passed on once it holds the lock again; the lock goes
 * to the next in its queue now. */
static void cond_pass_on(co_loop *loop, co_task *t)
{
    cwait *w = t->wait_on;
    (void)loop;
    if (t->woke_from == CO__W_COND)
        w->notified = true;
    else if (t->flags & CO__T_HANDED)
        co__lock_hand_on(w->c->lock);
}

static const co__wait_ops cond_wait_ops = {cond_cancel, cond_pass_on};
