/*
 * barrier.c -- asyncio.Barrier (3.11): `parties` tasks meet, then all go
 * on, each with its arrival index.
 *
 * asyncio builds it on a Condition; its lock is never held across an
 * await, so no task ever waits for that lock, and what is left is one FIFO
 * of waiters that every change of state wakes (notify_all), each looking
 * at the state again when it runs and queueing again at the end if it must
 * still wait (wait_for's loop).  corio keeps exactly that, without the
 * lock, so the order of wake-ups is asyncio's.  The states:
 *
 *   FILLING   arrivals count up; the one that makes `parties` trips it
 *   DRAINING  the released waiters leave one by one; newcomers wait
 *   RESETTING reset() with waiters inside: they fail; newcomers wait
 *   BROKEN    abort(): every wait fails until a reset()
 *
 * The last waiter to leave a draining or resetting barrier makes it
 * FILLING again.  A waiter's record (its wait_on, from the loop's pool)
 * keeps the barrier, its index and where the index goes.  A cancellation
 * is handled when the waiter runs, as asyncio's `finally` does then: a
 * waiter that had arrived leaves the count.
 */
#include "sync_wait.h"

enum { FILLING, DRAINING, RESETTING, BROKEN };

typedef struct bwait {
    co_barrier *b;
    size_t *dst;
    size_t index;
    bool arrived; /* counted; else blocked until a drain or reset ends */
} bwait;

static const co__wait_ops barrier_wait_ops;

int co_barrier_init(co_barrier *b, size_t parties)
{
    if (b == NULL || parties == 0)
        return CO_EBADARG; /* ValueError: parties must be > 0 */
    b->waiters.head = b->waiters.tail = NULL;
    b->parties = parties;
    b->count = 0;
    b->state = FILLING;
    return 0;
}

size_t co_barrier_parties(const co_barrier *b) { return b ? b->parties : 0; }

size_t co_barrier_n_waiting(const co_barrier *b)
{
    return b && b->state == FILLING ? b->count : 0;
}

bool co_barrier_broken(const co_barrier *b) { return b && b->state == BROKEN; }

void co_barrier_abort(co_barrier *b)
{
    if (b == NULL)
        return;
    b->state = BROKEN;
    co__sync_wake_all(&b->waiters);
}

void co_barrier_reset(co_barrier *b)
{
    if (b == NULL)
        return;
    b->state = b->count > 0 ? RESETTING : FILLING;
    co__sync_wake_all(&b->waiters);
}

/* A waiter that had arrived leaves: the last one out ends a drain or a
 * reset, and wakes those that wait for that. */
static void leave(co_barrier *b)
{
    if (--b->count > 0)
        return;
    if (b->state == DRAINING || b->state == RESETTING)
        b->state = FILLING;
    co__sync_wake_all(&b->waiters);
}

static int done(co_loop *loop, bwait *w, int rc)
{
    co__pool_free(loop, w, sizeof *w);
    return rc;
}

static int wait_again(bwait *w)
{
    return co__sync_wait(&w->b->waiters, w, CO__W_BARRIER, &barrier_wait_ops);
}

/* Arrives at a filling barrier: trips it (1), or waits in it (0). */
static int arrive(co_loop *loop, bwait *w)
{
    co_barrier *b = w->b;
    w->index = b->count++;
    w->arrived = true;
    if (b->count < b->parties)
        return wait_again(w);
    b->state = DRAINING; /* the others go; newcomers wait for them */
    co__sync_wake_all(&b->waiters);
    if (w->dst)
        *w->dst = w->index;
    leave(b);
    return done(loop, w, 1);
}

int co__barrier_wait(co_barrier *b, size_t *index)
{
    co_loop *loop = co__loop();
    bwait *w;
    if (b == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, b) || co__on_stack(loop, index))
        return CO_ESTACKARG; /* read again after a resume */
    if (b->state == BROKEN)
        return CO_EBROKENBARRIER;
    w = co__pool_alloc(loop, sizeof *w);
    if (w == NULL)
        return CO_ENOMEM;
    w->b = b;
    w->dst = index;
    w->arrived = false;
    if (b->state == DRAINING || b->state == RESETTING)
        return wait_again(w);
    return arrive(loop, w);
}

int co__barrier_again(int thrown)
{
    co_loop *loop = co__loop();
    bwait *w;
    co_barrier *b;
    bool released;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    w = loop->current->wait_on;
    b = w->b;
    if (thrown) { /* asyncio: the finally of the wait, for one that arrived */
        if (w->arrived)
            leave(b);
        return done(loop, w, thrown);
    }
    if (!w->arrived) { /* blocked until the drain or reset ends */
        if (b->state == DRAINING || b->state == RESETTING)
            return wait_again(w);
        if (b->state == BROKEN)
            return done(loop, w, CO_EBROKENBARRIER);
        return arrive(loop, w);
    }
    if (b->state == FILLING)
        return wait_again(w);
    released = b->state == DRAINING; /* else broken or reset */
    if (released && w->dst)
        *w->dst = w->index;
    leave(b);
    return done(loop, w, released ? 1 : CO_EBROKENBARRIER);
}

/* A waiter is cancelled: it leaves the queue; its await goes on, to leave
 * the count when it runs. */
static bool barrier_cancel(co_loop *loop, co_task *t)
{
    (void)loop;
    co__waitq_remove(&((bwait *)t->wait_on)->b->waiters, t);
    return true;
}

/* Every change wakes every waiter: a woken one cancelled has nothing to
 * pass on. */
static const co__wait_ops barrier_wait_ops = {barrier_cancel, NULL};
