/*
 * sync.c -- the FIFO wait queues of tasks that every primitive waits in,
 * and the first primitives on them: Event, Lock and Semaphore.  The Queue
 * is in sync_queue.c, the Condition in sync_cond.c, the Barrier in
 * barrier.c; they share the helpers declared in sync_wait.h.
 *
 * A semaphore permit is handed straight to the first waiter, so a newcomer
 * cannot overtake the queue.  A released lock is unlocked at once, as in
 * asyncio 3.11, but promised to the waiter it woke (`handing`): a newcomer
 * waits behind it, and it takes the lock when it runs.  A wake-up that
 * reaches a task cancelled before it could use it is passed on to the next
 * waiter.  What a waiter needs when it wakes is the object in wait_on,
 * recorded when its await starts, so the macro never evaluates its
 * arguments again.
 */
#include "sync_wait.h"

/* --------------------------------------------------------- wait queues */

void co__waitq_push(co_waitq *q, co_task *t)
{
    t->next = NULL;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
}

co_task *co__waitq_pop(co_waitq *q)
{
    co_task *t = q->head;
    if (t == NULL)
        return NULL;
    q->head = t->next;
    if (q->head == NULL)
        q->tail = NULL;
    t->next = NULL;
    return t;
}

bool co__waitq_remove(co_waitq *q, co_task *t)
{
    co_task *prev = NULL;
    for (co_task *p = q->head; p; prev = p, p = p->next) {
        if (p != t)
            continue;
        if (prev)
            prev->next = p->next;
        else
            q->head = p->next;
        if (q->tail == p)
            q->tail = prev;
        p->next = NULL;
        return true;
    }
    return false;
}

static const co__wait_ops sync_wait;

int co__sync_wait(co_waitq *q, void *obj, uint8_t kind, const co__wait_ops *ops)
{
    co_loop *loop = co__loop();
    co_task *t;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, obj))
        return CO_ESTACKARG; /* the wait queue lives in it */
    t = loop->current;
    co__waitq_push(q, t);
    loop->waits[kind] = ops; /* how the task core cancels it */
    co__wait_for(t, kind, obj);
    return 0;
}

static int wait_on(co_waitq *q, void *obj, uint8_t kind)
{
    return co__sync_wait(q, obj, kind, &sync_wait);
}

bool co__sync_wake_first(co_waitq *q)
{
    co_task *t = co__waitq_pop(q);
    if (t == NULL)
        return false;
    co__wake(co__task_loop(t), t);
    return true;
}

void co__sync_wake_all(co_waitq *q)
{
    while (co__sync_wake_first(q))
        ;
}

bool co__sync_take_handed(void)
{
    co_loop *loop = co__loop();
    co_task *t = loop ? loop->current : NULL;
    if (t == NULL || !(t->flags & CO__T_HANDED))
        return false;
    t->flags &= (uint8_t)~CO__T_HANDED;
    return true;
}

/* --------------------------------------------------------------- event */

void co_event_init(co_event *ev)
{
    if (ev == NULL)
        return;
    ev->waiters.head = ev->waiters.tail = NULL;
    ev->set = false;
}

void co_event_set(co_event *ev)
{
    co_task *t;
    if (ev == NULL)
        return;
    ev->set = true;
    while ((t = co__waitq_pop(&ev->waiters)) != NULL) {
        t->flags |= CO__T_HANDED; /* wait() returns even if cleared again first */
        co__wake(co__task_loop(t), t);
    }
}

void co_event_clear(co_event *ev)
{
    if (ev)
        ev->set = false;
}

bool co_event_is_set(const co_event *ev) { return ev && ev->set; }

int co__event_wait(co_event *ev)
{
    if (ev == NULL)
        return CO_EBADARG;
    if (co__on_stack(co__loop(), ev))
        return CO_ESTACKARG; /* its wait queue would outlive the frame */
    if (co__sync_take_handed() || ev->set)
        return 1;
    return wait_on(&ev->waiters, ev, CO__W_EVENT);
}

/* ---------------------------------------------------------------- lock */

void co_lock_init(co_lock *lock)
{
    if (lock == NULL)
        return;
    lock->waiters.head = lock->waiters.tail = NULL;
    lock->locked = false;
    lock->handing = false;
}

bool co_lock_locked(const co_lock *lock) { return lock && lock->locked; }

int co__lock_acquire(co_lock *lock)
{
    if (lock == NULL)
        return CO_EBADARG;
    if (co__on_stack(co__loop(), lock))
        return CO_ESTACKARG; /* its wait queue would outlive the frame */
    if (co__lock_take(lock))
        return 1;
    return wait_on(&lock->waiters, lock, CO__W_LOCK);
}

int co__lock_take(co_lock *lock)
{
    if (co__sync_take_handed()) { /* woken by a release: the lock was kept for us */
        lock->handing = false;
        lock->locked = true;
        return 1;
    }
    if (!lock->locked && !lock->handing && lock->waiters.head == NULL) {
        lock->locked = true;
        return 1;
    }
    return 0;
}

void co__lock_hand_on(co_lock *lock)
{
    co_task *t = co__waitq_pop(&lock->waiters);
    lock->handing = t != NULL;
    if (t) {
        t->flags |= CO__T_HANDED;
        co__wake(co__task_loop(t), t);
    }
}

int co_lock_release(co_lock *lock)
{
    if (lock == NULL)
        return CO_EBADARG;
    if (!lock->locked)
        return CO_ENOTLOCKED;
    lock->locked = false;
    co__lock_hand_on(lock);
    return 0;
}

/* ----------------------------------------------------------- semaphore */

int co_sem_init(co_sem *sem, int value, int bound)
{
    if (sem == NULL || value < 0 || bound < 0)
        return CO_EBADARG;
    sem->waiters.head = sem->waiters.tail = NULL;
    sem->value = value;
    sem->bound = bound;
    return 0;
}

int co_sem_value(const co_sem *sem) { return sem ? sem->value : CO_EBADARG; }

int co__sem_acquire(co_sem *sem)
{
    if (sem == NULL)
        return CO_EBADARG;
    if (co__on_stack(co__loop(), sem))
        return CO_ESTACKARG; /* its wait queue would outlive the frame */
    if (co__sync_take_handed())
        return 1;
    if (sem->value > 0 && sem->waiters.head == NULL) {
        sem->value--;
        return 1;
    }
    return wait_on(&sem->waiters, sem, CO__W_SEM);
}

int co_sem_release(co_sem *sem)
{
    co_task *t;
    if (sem == NULL)
        return CO_EBADARG;
    t = co__waitq_pop(&sem->waiters);
    if (t) { /* the permit goes straight to the first waiter */
        t->flags |= CO__T_HANDED;
        co__wake(co__task_loop(t), t);
        return 0;
    }
    if (sem->bound && sem->value >= sem->bound)
        return CO_ESEMOVER;
    sem->value++;
    return 0;
}

/* Back from an event, lock or semaphore wait: the object is in wait_on. */
int co__sync_again(void)
{
    co_loop *loop = co__loop();
    co_task *t = loop ? loop->current : NULL;
    if (t == NULL)
        return CO_ENOTASK;
    switch (t->woke_from) {
    case CO__W_EVENT:
        return co__event_wait(t->wait_on);
    case CO__W_LOCK:
        return co__lock_acquire(t->wait_on);
    case CO__W_SEM:
        return co__sem_acquire(t->wait_on);
    default:
        return CO_EBADYIELD;
    }
}

/* ------------------------------------------- cancel and pass on */

/* The wait queue that t, suspended on a primitive, sits in. */
static co_waitq *queue_of(co_task *t)
{
    switch (t->wait) {
    case CO__W_EVENT:
        return &((co_event *)t->wait_on)->waiters;
    case CO__W_LOCK:
        return &((co_lock *)t->wait_on)->waiters;
    case CO__W_SEM:
        return &((co_sem *)t->wait_on)->waiters;
    default:
        return NULL;
    }
}

/* A waiter is cancelled: it leaves its wait queue. */
static bool sync_cancel(co_loop *loop, co_task *t)
{
    co_waitq *q = queue_of(t);
    (void)loop;
    if (q)
        co__waitq_remove(q, t);
    return true;
}

/* A waiter woken by a primitive was cancelled before it ran: the wake-up it
 * will not use goes to the next waiter. */
static void sync_pass_on(co_loop *loop, co_task *t)
{
    (void)loop;
    switch (t->woke_from) {
    case CO__W_LOCK:
        if (t->flags & CO__T_HANDED)
            co__lock_hand_on(t->wait_on);
        break;
    case CO__W_SEM:
        if (t->flags & CO__T_HANDED)
            co_sem_release(t->wait_on);
        break;
    default: /* an event wakes everyone: nothing to pass on */
        break;
    }
    t->flags &= (uint8_t)~CO__T_HANDED;
}

static const co__wait_ops sync_wait = {sync_cancel, sync_pass_on};
