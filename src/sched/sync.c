/*
 * sync.c -- asyncio's synchronisation primitives: Event, Lock, Semaphore and
 * a bounded Queue, on FIFO wait queues of tasks.
 *
 * A semaphore permit is handed straight to the first waiter, so a newcomer
 * cannot overtake the queue.  A released lock is unlocked at once, as in
 * asyncio 3.11, but promised to the waiter it woke (`handing`): a newcomer
 * waits behind it, and it takes the lock when it runs.  Queue waiters are woken and look
 * again (asyncio's way), since a handed-over item could be lost if the
 * waiter were cancelled before it ran.  In both cases a wake-up that reaches
 * a task cancelled before it could use it is passed on to the next waiter.
 *
 * What a waiter needs when it wakes is recorded when its await starts (the
 * object in wait_on; for a queue, a record with the item to put, copied, or
 * where the item got goes), so the macro never evaluates its arguments again.
 */
#include "loop.h"

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

/* Suspends the running task on q as a `kind` waiter for `obj`. */
static int wait_on(co_waitq *q, void *obj, uint8_t kind)
{
    co_loop *loop = co__loop();
    co_task *t;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, obj))
        return CO_ESTACKARG; /* the wait queue lives in it */
    t = loop->current;
    co__waitq_push(q, t);
    loop->waits[kind] = &sync_wait; /* how the task core cancels it */
    co__wait_for(t, kind, obj);
    return 0;
}

/* Wakes the first waiter of q; true if there was one. */
static bool wake_first(co_waitq *q)
{
    co_task *t = co__waitq_pop(q);
    if (t == NULL)
        return false;
    co__wake(t->loop, t);
    return true;
}

/* The current task, if it was just handed what it waited for. */
static bool take_handed(void)
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
        co__wake(t->loop, t);
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
    if (take_handed() || ev->set)
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
    if (take_handed()) { /* woken by a release: the lock was kept for us */
        lock->handing = false;
        lock->locked = true;
        return 1;
    }
    if (!lock->locked && !lock->handing && lock->waiters.head == NULL) {
        lock->locked = true;
        return 1;
    }
    return wait_on(&lock->waiters, lock, CO__W_LOCK);
}

/* Promises the unlocked lock to its first waiter, if any. */
static void hand_on(co_lock *lock)
{
    co_task *t = co__waitq_pop(&lock->waiters);
    lock->handing = t != NULL;
    if (t) {
        t->flags |= CO__T_HANDED;
        co__wake(t->loop, t);
    }
}

int co_lock_release(co_lock *lock)
{
    if (lock == NULL)
        return CO_EBADARG;
    if (!lock->locked)
        return CO_ENOTLOCKED;
    lock->locked = false;
    hand_on(lock);
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
    if (take_handed())
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
        co__wake(t->loop, t);
        return 0;
    }
    if (sem->bound && sem->value >= sem->bound)
        return CO_ESEMOVER;
    sem->value++;
    return 0;
}

/* --------------------------------------------------------------- queue */

int co_queue_init(co_queue *q, void *buf, size_t item_size, size_t capacity)
{
    if (q == NULL || buf == NULL || item_size == 0 || capacity == 0)
        return CO_EBADARG;
    q->getters.head = q->getters.tail = NULL;
    q->putters.head = q->putters.tail = NULL;
    q->buf = buf;
    q->item = item_size;
    q->cap = capacity;
    q->head = q->count = 0;
    q->shutdown = false;
    q->grow = NULL;
    return 0;
}

int co_queue_init_unbounded(co_queue *q, co_loop *loop, size_t item_size)
{
    if (q == NULL || loop == NULL || item_size == 0)
        return CO_EBADARG;
    q->getters.head = q->getters.tail = NULL;
    q->putters.head = q->putters.tail = NULL;
    q->buf = NULL; /* allocated by the first put */
    q->item = item_size;
    q->cap = q->head = q->count = 0;
    q->shutdown = false;
    q->grow = loop;
    return 0;
}

void co_queue_fini(co_queue *q)
{
    if (q == NULL || q->grow == NULL)
        return;
    co__free(q->grow, q->buf, q->cap * q->item);
    q->buf = NULL;
    q->cap = q->head = q->count = 0;
}

size_t co_queue_size(const co_queue *q) { return q ? q->count : 0; }

/* An unbounded queue's buffer, twice as large (4 items at first), with the
 * items moved to its start in order.  The old one stays if that fails. */
static int grow(co_queue *q)
{
    size_t cap = q->cap ? q->cap * 2 : 4;
    unsigned char *buf;
    if (cap < q->cap || cap > SIZE_MAX / q->item)
        return CO_ENOMEM;
    buf = co__alloc(q->grow, cap * q->item);
    if (buf == NULL)
        return CO_ENOMEM;
    for (size_t i = 0; i < q->count; i++)
        co__bytecopy(buf + i * q->item, q->buf + ((q->head + i) % q->cap) * q->item, q->item);
    co__free(q->grow, q->buf, q->cap * q->item);
    q->buf = buf;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int co_queue_try_put(co_queue *q, const void *item)
{
    if (q == NULL || item == NULL)
        return CO_EBADARG;
    if (q->shutdown)
        return CO_EQSHUTDOWN;
    if (q->count == q->cap && q->grow) {
        int rc = grow(q);
        if (rc < 0)
            return rc; /* nothing stored: the caller still has its item */
    }
    if (q->count == q->cap)
        return CO_EQFULL;
    co__bytecopy(q->buf + ((q->head + q->count) % q->cap) * q->item, item, q->item);
    q->count++;
    wake_first(&q->getters);
    return 0;
}

int co_queue_try_get(co_queue *q, void *item)
{
    if (q == NULL || item == NULL)
        return CO_EBADARG;
    if (q->count == 0)
        return q->shutdown ? CO_EQSHUTDOWN : CO_EQEMPTY;
    co__bytecopy(item, q->buf + q->head * q->item, q->item);
    q->head = (q->head + 1) % q->cap;
    q->count--;
    wake_first(&q->putters);
    return 0;
}

void co_queue_shutdown(co_queue *q)
{
    if (q == NULL)
        return;
    q->shutdown = true;
    /* putters fail; getters drain, then fail: wake them all to find out */
    while (wake_first(&q->putters))
        ;
    while (wake_first(&q->getters))
        ;
}

/* A waiting put or get (wait_on while it waits): the queue; where a got
 * item goes, or NULL for a put, whose item follows, copied. */
typedef struct qwait {
    co_queue *q;
    void *dst;
    size_t size;
    unsigned char item[];
} qwait;

static void qwait_free(co_loop *loop, qwait *w) { co__free(loop, w, w->size); }

/* Tries the put or get of w once more: 1 done, 0 waiting again, <0 error. */
static int queue_try(co_loop *loop, qwait *w)
{
    co_queue *q = w->q;
    int rc = w->dst ? co_queue_try_get(q, w->dst) : co_queue_try_put(q, w->item);
    if (rc == (w->dst ? CO_EQEMPTY : CO_EQFULL)) {
        rc = w->dst ? wait_on(&q->getters, w, CO__W_QGET) : wait_on(&q->putters, w, CO__W_QPUT);
        if (rc == 0)
            return 0;
    }
    qwait_free(loop, w);
    return rc < 0 ? rc : 1;
}

/* The queue is full or empty: record the operation and wait. */
static int queue_wait(co_queue *q, const void *item, void *dst)
{
    co_loop *loop = co__loop();
    qwait *w;
    size_t size = sizeof *w + (dst ? 0 : q->item);
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, q))
        return CO_ESTACKARG;
    w = co__alloc(loop, size);
    if (w == NULL)
        return CO_ENOMEM;
    w->q = q;
    w->dst = dst;
    w->size = size;
    if (item)
        co__bytecopy(w->item, item, q->item);
    return queue_try(loop, w);
}

int co__queue_put(co_queue *q, const void *item)
{
    int rc = co_queue_try_put(q, item);
    if (rc != CO_EQFULL)
        return rc < 0 ? rc : 1;
    return queue_wait(q, item, NULL);
}

int co__queue_get(co_queue *q, void *item)
{
    co_loop *loop = co__loop();
    int rc;
    if (loop && co__on_stack(loop, item))
        return CO_ESTACKARG; /* it would be filled after a resume */
    rc = co_queue_try_get(q, item);
    if (rc != CO_EQEMPTY)
        return rc < 0 ? rc : 1;
    return queue_wait(q, NULL, item);
}

int co__queue_again(void)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    return queue_try(loop, loop->current->wait_on);
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
    case CO__W_QGET:
        return &((qwait *)t->wait_on)->q->getters;
    case CO__W_QPUT:
        return &((qwait *)t->wait_on)->q->putters;
    default:
        return NULL;
    }
}

/* A waiter is cancelled: it leaves its wait queue. */
static bool sync_cancel(co_loop *loop, co_task *t)
{
    co_waitq *q = queue_of(t);
    if (q)
        co__waitq_remove(q, t);
    if (t->wait == CO__W_QGET || t->wait == CO__W_QPUT)
        qwait_free(loop, t->wait_on); /* its await ends with the cancellation */
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
            hand_on(t->wait_on);
        break;
    case CO__W_SEM:
        if (t->flags & CO__T_HANDED)
            co_sem_release(t->wait_on);
        break;
    case CO__W_QGET: {
        co_queue *q = ((qwait *)t->wait_on)->q;
        qwait_free(loop, t->wait_on);
        if (q->count || q->shutdown)
            wake_first(&q->getters);
        break;
    }
    case CO__W_QPUT: {
        co_queue *q = ((qwait *)t->wait_on)->q;
        qwait_free(loop, t->wait_on);
        if (q->count < q->cap || q->shutdown)
            wake_first(&q->putters);
        break;
    }
    default: /* an event wakes everyone: nothing to pass on */
        break;
    }
    t->flags &= (uint8_t)~CO__T_HANDED;
}

static const co__wait_ops sync_wait = {sync_cancel, sync_pass_on};
