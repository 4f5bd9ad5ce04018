/*
 * corio/sync.h -- asyncio's synchronisation primitives on the scheduler of
 * corio/sched.h: Event, Lock, Semaphore and Queue, with their awaits and
 * their `async with` blocks.  Portable like the scheduler (a bare-metal loop
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
    co_loop *grow; /* unbounded: buf grows through this loop's allocator */
} co_queue;
/* Bounded: `buf` (caller memory) holds capacity items of item_size bytes. */
CO_API int co_queue_init(co_queue *q, void *buf, size_t item_size, size_t capacity);
/* asyncio.Queue(): unbounded, its buffer from loop's allocator (doubling as
 * it fills).  A put that cannot grow it fails with CO_ENOMEM and stores
 * nothing.  Items of any size; for pointers, item_size = sizeof(void *). */
CO_API int co_queue_init_unbounded(co_queue *q, co_loop *loop, size_t item_size);
/* Frees an unbounded queue's buffer (the items left in it are dropped). */
CO_API void co_queue_fini(co_queue *q);
CO_API int co_queue_try_put(co_queue *q, const void *item); /* CO_EQFULL, CO_EQSHUTDOWN */
CO_API int co_queue_try_get(co_queue *q, void *item);       /* CO_EQEMPTY, CO_EQSHUTDOWN */
/* queue.shutdown(): puts fail from now on; gets drain what is left, then fail. */
CO_API void co_queue_shutdown(co_queue *q);
CO_API size_t co_queue_size(const co_queue *q);
#define CO_QUEUE_PUT(self, q, item) CO__WAIT(self, co__queue_put((q), (item)), co__queue_again(), false)
#define CO_QUEUE_GET(self, q, item) CO__WAIT(self, co__queue_get((q), (item)), co__queue_again(), false)

/* ------------------------------------------------------------- internals */

/* The registrations behind the awaits above (see CO__WAIT in sched.h). */
CO_API int co__event_wait(co_event *ev);
CO_API int co__lock_acquire(co_lock *lock);
CO_API int co__sem_acquire(co_sem *sem);
CO_API int co__sync_again(void);
CO_API int co__queue_put(co_queue *q, const void *item);
CO_API int co__queue_get(co_queue *q, void *item);
CO_API int co__queue_again(void);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_SYNC_H */
