/*
 * sync_queue.c -- asyncio's queues: Queue (FIFO), LifoQueue and
 * PriorityQueue over one co_queue, bounded in caller memory or unbounded
 * through the loop's allocator, with join / task_done.
 *
 * The three differ only in where an item is stored and which one a get
 * takes: a ring for FIFO, a stack for LIFO, a binary min-heap for priority.
 * The heap takes heapq's steps exactly (a put sifts the new item up; a get
 * moves the last item to the root, sinks it to a leaf along the smaller
 * children, then sifts it up), comparing with `cmp(a, b) < 0` only, so
 * items that compare equal come out in the order CPython gives them.
 *
 * Waiters are woken and look again (asyncio's way), since an item handed
 * over could be lost if the waiter were cancelled before it ran; a wake-up
 * that reaches a waiter cancelled before it ran goes to the next one.  A
 * waiting put or get records what it needs (the item to put, copied, or
 * where a got item goes), so the macro never evaluates its arguments again.
 */
#include "sync_wait.h"

enum { FIFO, LIFO, PRIORITY };

static const co__wait_ops queue_wait;

static void init_common(co_queue *q, size_t item_size)
{
    q->getters.head = q->getters.tail = NULL;
    q->putters.head = q->putters.tail = NULL;
    q->item = item_size;
    q->head = q->count = 0;
    q->shutdown = false;
    q->order = FIFO;
    q->cmp = NULL;
    q->unfinished = 0;
    co_event_init(&q->finished);
    co_event_set(&q->finished); /* nothing unfinished yet */
}

int co_queue_init(co_queue *q, void *buf, size_t item_size, size_t capacity)
{
    if (q == NULL || buf == NULL || item_size == 0 || capacity == 0)
        return CO_EBADARG;
    init_common(q, item_size);
    q->buf = buf;
    q->cap = capacity;
    q->grow = NULL;
    return 0;
}

int co_queue_init_unbounded(co_queue *q, co_loop *loop, size_t item_size)
{
    if (q == NULL || loop == NULL || item_size == 0)
        return CO_EBADARG;
    init_common(q, item_size);
    q->buf = NULL; /* allocated by the first put */
    q->cap = 0;
    q->grow = loop;
    return 0;
}

/* A new queue's order, before its first item. */
static int set_order(co_queue *q, uint8_t order, int (*cmp)(const void *, const void *))
{
    if (q == NULL || (order == PRIORITY && cmp == NULL))
        return CO_EBADARG;
    if (q->count)
        return CO_EBUSY; /* the items already in are in the old order */
    q->order = order;
    q->cmp = cmp;
    q->head = 0;
    return 0;
}

int co_queue_lifo(co_queue *q) { return set_order(q, LIFO, NULL); }

int co_queue_priority(co_queue *q, int (*cmp)(const void *a, const void *b))
{
    return set_order(q, PRIORITY, cmp);
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

size_t co_queue_maxsize(const co_queue *q) { return q == NULL || q->grow ? 0 : q->cap; }

/* ------------------------------------------------------------ storage */

static unsigned char *slot(const co_queue *q, size_t i) { return q->buf + i * q->item; }

static void swap(const co_queue *q, size_t i, size_t j)
{
    unsigned char *a = slot(q, i), *b = slot(q, j);
    for (size_t k = 0; k < q->item; k++) {
        unsigned char c = a[k];
        a[k] = b[k];
        b[k] = c;
    }
}

static bool less(const co_queue *q, size_t i, size_t j)
{
    return q->cmp(slot(q, i), slot(q, j)) < 0;
}

/* heapq._siftdown: the item at pos rises while it is less than its parent. */
static void sift_toward_root(const co_queue *q, size_t start, size_t pos)
{
    while (pos > start) {
        size_t parent = (pos - 1) / 2;
        if (!less(q, pos, parent))
            break;
        swap(q, pos, parent);
        pos = parent;
    }
}

/* heapq._siftup: the item at pos sinks to a leaf along the smaller child
 * (the right one unless the left is less), then rises into place. */
static void sift_toward_leaf(const co_queue *q, size_t pos)
{
    size_t start = pos, child = 2 * pos + 1;
    while (child < q->count) {
        if (child + 1 < q->count && !less(q, child, child + 1))
            child++;
        swap(q, pos, child);
        pos = child;
        child = 2 * pos + 1;
    }
    sift_toward_root(q, start, pos);
}

/* Stores a copy of item: there is room. */
static void store(co_queue *q, const void *item)
{
    size_t at = q->order == FIFO ? (q->head + q->count) % q->cap : q->count;
    co__bytecopy(slot(q, at), item, q->item);
    q->count++;
    if (q->order == PRIORITY)
        sift_toward_root(q, 0, at);
}

/* Takes the next item into dst: there is one. */
static void take(co_queue *q, void *dst)
{
    switch (q->order) {
    case FIFO:
        co__bytecopy(dst, slot(q, q->head), q->item);
        q->head = (q->head + 1) % q->cap;
        q->count--;
        break;
    case LIFO:
        co__bytecopy(dst, slot(q, --q->count), q->item);
        break;
    default:
        co__bytecopy(dst, slot(q, 0), q->item);
        if (--q->count) {
            co__bytecopy(slot(q, 0), slot(q, q->count), q->item);
            sift_toward_leaf(q, 0);
        }
        break;
    }
}

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
        co__bytecopy(buf + i * q->item, slot(q, (q->head + i) % q->cap), q->item);
    co__free(q->grow, q->buf, q->cap * q->item);
    q->buf = buf;
    q->cap = cap;
    q->head = 0;
    return 0;
}

/* ---------------------------------------------------- the plain calls */

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
    store(q, item);
    q->unfinished++;
    co_event_clear(&q->finished);
    co__sync_wake_first(&q->getters);
    return 0;
}

int co_queue_try_get(co_queue *q, void *item)
{
    if (q == NULL || item == NULL)
        return CO_EBADARG;
    if (q->count == 0)
        return q->shutdown ? CO_EQSHUTDOWN : CO_EQEMPTY;
    take(q, item);
    co__sync_wake_first(&q->putters);
    return 0;
}

void co_queue_shutdown(co_queue *q)
{
    if (q == NULL)
        return;
    q->shutdown = true;
    /* putters fail; getters drain, then fail: wake them all to find out */
    co__sync_wake_all(&q->putters);
    co__sync_wake_all(&q->getters);
}

int co_queue_task_done(co_queue *q)
{
    if (q == NULL)
        return CO_EBADARG;
    if (q->unfinished == 0)
        return CO_ETASKDONE;
    if (--q->unfinished == 0)
        co_event_set(&q->finished); /* every join returns */
    return 0;
}

int co__queue_join(co_queue *q)
{
    /* Python's `if unfinished: await finished.wait()`: the event is set
       while nothing is unfinished */
    if (q == NULL)
        return CO_EBADARG;
    return co__event_wait(&q->finished);
}

/* ------------------------------------------------------ the awaits */

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
        rc = w->dst ? co__sync_wait(&q->getters, w, CO__W_QGET, &queue_wait)
                    : co__sync_wait(&q->putters, w, CO__W_QPUT, &queue_wait);
        if (rc == 0)
            return 0;
    }
    qwait_free(loop, w);
    return rc < 0 ? rc : 1;
}

/* The queue is full or empty: record the operation and wait. */
static int queue_wait_start(co_queue *q, const void *item, void *dst)
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
    return queue_wait_start(q, item, NULL);
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
    return queue_wait_start(q, NULL, item);
}

int co__queue_again(void)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    return queue_try(loop, loop->current->wait_on);
}

/* ------------------------------------------- cancel and pass on */

/* A waiting put or get is cancelled: it leaves its queue, and its await
 * ends with the cancellation. */
static bool queue_cancel(co_loop *loop, co_task *t)
{
    qwait *w = t->wait_on;
    co__waitq_remove(t->wait == CO__W_QGET ? &w->q->getters : &w->q->putters, t);
    qwait_free(loop, w);
    return true;
}

/* A woken put or get was cancelled before it ran: the room or the item it
 * was woken for goes to the next waiter. */
static void queue_pass_on(co_loop *loop, co_task *t)
{
    co_queue *q = ((qwait *)t->wait_on)->q;
    qwait_free(loop, t->wait_on);
    if (t->woke_from == CO__W_QGET) {
        if (q->count || q->shutdown)
            co__sync_wake_first(&q->getters);
    } else if (q->count < q->cap || q->shutdown) {
        co__sync_wake_first(&q->putters);
    }
}

static const co__wait_ops queue_wait = {queue_cancel, queue_pass_on};
