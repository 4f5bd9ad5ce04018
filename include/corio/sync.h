/*
 * corio/sync.h -- asyncio's synchronisation primitives on the scheduler of
 * corio/sched.h: Event, Lock, Semaphore, Condition, Barrier and the queues
 * (FIFO, LIFO, priority, with join), with their awaits and their `async
 * with` blocks.  Portable like the scheduler (a bare-metal loop
 * has them too); corio/corio.h includes this header.
 *
 * Each primitive lives in memory the caller owns (a static, a frame field):
 * init it before the first await on it.  Waiters queue FIFO, and a waiter
 * that is cancelled leaves its queue without disturbing the others.
 */
#ifndef CORIO_SYNC_H
#define CORIO_SYNC_H

#include <corio/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------ synchronisation */

/* asyncio.Event */
typedef struct co_event {
    co_waitq waiters;
    bool set;
} co_event;
CO_API void co_event_init(co_event *ev);
CO_API void co_event_set(co_event *ev);
CO_API void co_event_clear(co_event *ev);
CO_API bool co_event_is_set(const co_event *ev);
#define CO_EVENT_WAIT(self, ev) CO__WAIT(self, co__event_wait((ev)), co__sync_again(), false)

/* asyncio.Lock: FIFO, not re-entrant.  A release with waiters leaves it
 * unlocked (locked() false) until the woken waiter runs and takes it, and no
 * newcomer may take it in between (asyncio 3.11's rules). */
typedef struct co_lock {
    co_waitq waiters;
    bool locked;
    bool handing; /* private: released to a woken waiter that has not run yet */
} co_lock;
CO_API void co_lock_init(co_lock *lock);
CO_API int co_lock_release(co_lock *lock); /* CO_ENOTLOCKED when not held */
CO_API bool co_lock_locked(const co_lock *lock);
#define CO_LOCK_ACQUIRE(self, lock) CO__WAIT(self, co__lock_acquire((lock)), co__sync_again(), false)

/*
 * async with lock: ...  -- `field` names a co_lock * member of the frame
 * (read from the frame at the acquire and at the release), and the frame
 * needs the core's `tries` array (gen.h's CO_TRY).  The release runs on
 * every way out of the block: its end, a raise, a cancellation, a return.
 *
 *     CO_WITH_LOCK(self, lock) {
 *         ... awaits ...
 *     } CO_WITH_LOCK_END(self, lock);
 */
#define CO_WITH_LOCK(self, field)                                                          \
    CO_LOCK_ACQUIRE(self, (self)->field);                                                  \
    CO_TRY(self)
#define CO_WITH_LOCK_END(self, field)                                                      \
    CO_TRY_FINALLY(self) { (void)co_lock_release((self)->field); }                         \
    CO_TRY_END(self)

/* asyncio.Semaphore (bound 0) and BoundedSemaphore (bound = initial value). */
typedef struct co_sem {
    co_waitq waiters;
    int value, bound;
} co_sem;
/* CO_EBADARG for a negative value or bound (Python's ValueError). */
CO_API int co_sem_init(co_sem *sem, int value, int bound);
CO_API int co_sem_release(co_sem *sem); /* CO_ESEMOVER past the bound */
CO_API int co_sem_value(const co_sem *sem);
#define CO_SEM_ACQUIRE(self, sem) CO__WAIT(self, co__sem_acquire((sem)), co__sync_again(), false)
/* async with sem: ...  -- as CO_WITH_LOCK, `field` a co_sem * member. */
#define CO_WITH_SEM(self, field)                                                           \
    CO_SEM_ACQUIRE(self, (self)->field);                                                   \
    CO_TRY(self)
#define CO_WITH_SEM_END(self, field)                                                       \
    CO_TRY_FINALLY(self) { (void)co_sem_release((self)->field); }                          \
    CO_TRY_END(self)

/* asyncio.Queue(maxsize): a bounded FIFO of fixed-size items in caller memory.
 * A put copies its item when it starts (a C local is fine); a get's
 * destination must outlive the await (CO_ESTACKARG for a C local). */
typedef struct co_queue {
    co_waitq getters, putters;
    unsigned char *buf;
    size_t item, cap, head, count;
    bool shutdown;
    uint8_t order; /* private, as are the others: FIFO, LIFO or priority */
    co_loop *grow; /* unbounded: buf grows through this loop's allocator */
    int (*cmp)(const void *a, const void *b);
    size_t unfinished; /* items put and not yet task_done()  */
    co_event finished; /* set while unfinished is 0 (join) */
} co_queue;
/* Bounded: `buf` (caller memory) holds capacity items of item_size bytes. */
CO_API int co_queue_init(co_queue *q, void *buf, size_t item_size, size_t capacity);
/* asyncio.Queue(): unbounded, its buffer from loop's allocator (doubling as
 * it fills).  A put that cannot grow it fails with CO_ENOMEM and stores
 * nothing.  Items of any size; for pointers, item_size = sizeof(void *). */
CO_API int co_queue_init_unbounded(co_queue *q, co_loop *loop, size_t item_size);
/* asyncio.LifoQueue: a queue just made by either init hands out its newest
 * item first.  CO_EBUSY once it holds an item. */
CO_API int co_queue_lifo(co_queue *q);
/* asyncio.PriorityQueue: the same, handing out the smallest item first by
 * cmp (qsort's: < 0 when a comes before b).  Items equal by cmp come out in
 * the order Python's heapq gives them (corio keeps the same heap, step for
 * step), which is not the order they were put in; add a sequence number to
 * the item for that. */
CO_API int co_queue_priority(co_queue *q, int (*cmp)(const void *a, const void *b));
/* Frees an unbounded queue's buffer (the items left in it are dropped). */
CO_API void co_queue_fini(co_queue *q);
CO_API int co_queue_try_put(co_queue *q, const void *item); /* CO_EQFULL, CO_EQSHUTDOWN */
CO_API int co_queue_try_get(co_queue *q, void *item);       /* CO_EQEMPTY, CO_EQSHUTDOWN */
/* queue.shutdown(): puts fail from now on; gets drain what is left, then fail. */
CO_API void co_queue_shutdown(co_queue *q);
CO_API size_t co_queue_size(const co_queue *q);
/* queue.maxsize: the capacity, 0 for an unbounded queue. */
CO_API size_t co_queue_maxsize(const co_queue *q);
/* queue.task_done(): one item got earlier is dealt with; CO_ETASKDONE
 * when called more times than items were put (Python's ValueError). */
CO_API int co_queue_task_done(co_queue *q);
#define CO_QUEUE_PUT(self, q, item) CO__WAIT(self, co__queue_put((q), (item)), co__queue_again(), false)
#define CO_QUEUE_GET(self, q, item) CO__WAIT(self, co__queue_get((q), (item)), co__queue_again(), false)
/* await queue.join(): until every item put has had its task_done(). */
#define CO_QUEUE_JOIN(self, q) CO__WAIT(self, co__queue_join((q)), co__sync_again(), false)

/*
 * asyncio.Condition(lock): waiters queue FIFO for a notify; `lock` is a
 * co_lock shared with others, or NULL for the condition's own.  Every way
 * out of a wait -- a notify, a cancellation, an error -- holds the lock
 * again, as asyncio does.  A waiter that is cancelled after a notify
 * reached it passes that notify on to the next waiter (asyncio 3.13 does;
 * 3.11 loses it).  Do not copy a co_cond: it may point into itself.
 */
typedef struct co_cond {
    co_waitq waiters; /* private, as are the others */
    co_lock *lock;
    co_lock own;
} co_cond;
CO_API void co_cond_init(co_cond *cond, co_lock *lock);
/* The condition's lock, for CO_LOCK_ACQUIRE and friends. */
CO_API co_lock *co_cond_lock(co_cond *cond);
CO_API int co_cond_release(co_cond *cond); /* CO_ENOTLOCKED when not held */
CO_API bool co_cond_locked(const co_cond *cond);
/* cond.notify(n), cond.notify_all(): wake the n (all) first waiters;
 * CO_ENOTLOCKED unless the lock is held. */
CO_API int co_cond_notify(co_cond *cond, size_t n);
CO_API int co_cond_notify_all(co_cond *cond);
#define CO_COND_ACQUIRE(self, cond) CO_LOCK_ACQUIRE(self, co_cond_lock((cond)))
/* await cond.wait(), the lock held (CO_ENOTLOCKED otherwise). */
#define CO_COND_WAIT(self, cond) CO__WAIT_TIDY(self, co__cond_wait((cond), NULL, NULL), co__cond_again, false)
#define CO_COND_WAIT_CATCH(self, cond) CO__WAIT_TIDY(self, co__cond_wait((cond), NULL, NULL), co__cond_again, true)
/* await cond.wait_for(predicate): pred(arg) is called, the lock held, at
 * the start and after each wake-up, until it is true.  Both are recorded at
 * the start: arg must outlive the await (CO_ESTACKARG for a C local). */
#define CO_COND_WAIT_FOR(self, cond, pred, arg)                                            \
    CO__WAIT_TIDY(self, co__cond_wait((cond), (pred), (arg)), co__cond_again, false)
#define CO_COND_WAIT_FOR_CATCH(self, cond, pred, arg)                                      \
    CO__WAIT_TIDY(self, co__cond_wait((cond), (pred), (arg)), co__cond_again, true)
/* async with cond: ...  -- as CO_WITH_LOCK, `field` a co_cond * member. */
#define CO_WITH_COND(self, field)                                                          \
    CO_COND_ACQUIRE(self, (self)->field);                                                  \
    CO_TRY(self)
#define CO_WITH_COND_END(self, field)                                                      \
    CO_TRY_FINALLY(self) { (void)co_cond_release((self)->field); }                         \
    CO_TRY_END(self)

/*
 * asyncio.Barrier(parties) (3.11): each wait blocks until `parties` tasks
 * wait, then all go on, each with its arrival index (0 .. parties-1).  A
 * task arriving while the last round still drains waits for it to end.
 * abort() breaks it: waits then fail with CO_EBROKENBARRIER
 * (BrokenBarrierError) until a reset(); reset() also fails the waits in
 * progress.  A cancelled waiter just leaves (the barrier is not broken).
 */
typedef struct co_barrier {
    co_waitq waiters; /* private, as are the others */
    size_t parties, count;
    uint8_t state;
} co_barrier;
CO_API int co_barrier_init(co_barrier *b, size_t parties); /* CO_EBADARG for 0 */
/* index = await barrier.wait(): `index` a size_t * that outlives the await
 * (a frame field), or NULL. */
#define CO_BARRIER_WAIT(self, b, index)                                                    \
    CO__WAIT_TIDY(self, co__barrier_wait((b), (index)), co__barrier_again, false)
#define CO_BARRIER_WAIT_CATCH(self, b, index)                                              \
    CO__WAIT_TIDY(self, co__barrier_wait((b), (index)), co__barrier_again, true)
/* await barrier.abort(), await barrier.reset(): asyncio's never suspend
 * (the barrier's lock is never held across an await), so these are calls. */
CO_API void co_barrier_abort(co_barrier *b);
CO_API void co_barrier_reset(co_barrier *b);
CO_API size_t co_barrier_parties(const co_barrier *b);
CO_API size_t co_barrier_n_waiting(const co_barrier *b); /* 0 unless filling */
CO_API bool co_barrier_broken(const co_barrier *b);

/* ------------------------------------------------------------- internals */

/* The registrations behind the awaits above (see CO__WAIT in sched.h). */
CO_API int co__event_wait(co_event *ev);
CO_API int co__lock_acquire(co_lock *lock);
CO_API int co__sem_acquire(co_sem *sem);
CO_API int co__sync_again(void);
CO_API int co__queue_put(co_queue *q, const void *item);
CO_API int co__queue_get(co_queue *q, void *item);
CO_API int co__queue_again(void);
CO_API int co__queue_join(co_queue *q);
CO_API int co__cond_wait(co_cond *cond, bool (*pred)(void *arg), void *arg);
CO_API int co__cond_again(int thrown);
CO_API int co__barrier_wait(co_barrier *b, size_t *index);
CO_API int co__barrier_again(int thrown);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SYNC_H */
