/*
 * corio/future.h -- asyncio's Future and the loop's callbacks (call_soon,
 * call_later, call_at, done callbacks), on the scheduler of corio/sched.h.
 * Portable like it: a bare-metal loop has them too.  corio/corio.h includes
 * this header.
 */
#ifndef CORIO_FUTURE_H
#define CORIO_FUTURE_H

#include <corio/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ callbacks */

/*
 * A callback on the loop (asyncio.Handle / TimerHandle).  call_soon puts it
 * in the same FIFO as task steps; call_later / call_at put it on the timer
 * heap, and when due it joins that FIFO like a woken task.  Callbacks run on
 * the loop's thread, between task steps, with no current task.
 *
 * Memory: pass a co_handle of yours (it must stay put until the callback
 * ran or was cancelled, and may be reused after), or NULL to have the loop
 * take a block from its allocator and free it once the callback ran (no
 * handle then, so it cannot be cancelled).  Arming a handle still pending
 * is CO_EBUSY.
 */
typedef struct co_handle {
    co_task node; /* private, as are the others: its entry in the loop's queues */
    void (*fn)(void *arg);
    void *arg;
    co_loop *loop;
    int64_t when;
    bool cancelled;
} co_handle;

/* loop.call_soon(fn, arg) */
CO_API int co_call_soon(co_loop *loop, co_handle *h, void (*fn)(void *), void *arg);
/* loop.call_later(ms / 1000, fn, arg): due ms after the call. */
CO_API int co_call_later(co_loop *loop, co_handle *h, int64_t ms, void (*fn)(void *), void *arg);
/* loop.call_at(when, fn, arg): `when` on the loop's clock (co_now), in ns. */
CO_API int co_call_at(co_loop *loop, co_handle *h, int64_t when, void (*fn)(void *), void *arg);
/* handle.cancel(): a pending callback will not run (even if due this turn). */
CO_API void co_handle_cancel(co_handle *h);
/* handle.cancelled() */
CO_API bool co_handle_cancelled(const co_handle *h);
/* timer_handle.when(): the time it is due, in co_now's ns. */
CO_API int64_t co_handle_when(const co_handle *h);

/* task.add_done_callback(fn): fn(arg) is called through the loop (never at
 * once) when the task is done, in registration order among its awaiters and
 * other callbacks; at the next turn if it is done already. */
CO_API int co_task_add_done_callback(co_gen *task, co_handle *h, void (*fn)(void *), void *arg);
/* task.remove_done_callback(fn): removes every pending (fn, arg); the count. */
CO_API size_t co_task_remove_done_callback(co_gen *task, void (*fn)(void *), void *arg);

/* --------------------------------------------------------------- futures */

/*
 * asyncio.Future: a one-shot result slot in caller memory.  The result is a
 * pointer (to a value of any type, which must outlive the readers; an
 * integer fits through intptr_t), or an error code.  Awaiting tasks are
 * woken first come, first served.  Like asyncio, cancelling a task that
 * awaits a future cancels the future (every awaiter then gets
 * CO_ECANCELLED).  From another thread, resolve it inside a
 * co_call_soon_threadsafe callback.
 */
typedef struct co_future {
    co_waitq waiters; /* private, as are the others: awaiters and done callbacks */
    co_loop *loop;
    void *value;
    int error;     /* set_exception's code; CO_ECANCELLED when cancelled */
    uint8_t state; /* pending, done, cancelled */
} co_future;

/* loop.create_future() */
CO_API void co_future_init(co_future *f, co_loop *loop);
/* fut.set_result(value): CO_EINVALSTATE when already done. */
CO_API int co_future_set_result(co_future *f, void *value);
/* fut.set_exception(err), err < 0: CO_EINVALSTATE when already done. */
CO_API int co_future_set_exception(co_future *f, int err);
/* fut.cancel(): true if it was pending and is now cancelled. */
CO_API bool co_future_cancel(co_future *f);
CO_API bool co_future_done(const co_future *f);
CO_API bool co_future_cancelled(const co_future *f);
/* fut.result(): 0 with *value set, its error, CO_ECANCELLED, or CO_ENOTDONE
 * (InvalidStateError) while pending.  value may be NULL. */
CO_API int co_future_result(const co_future *f, void **value);
/* value = await fut: the future's error is raised here.  `value` (a void **,
 * or NULL) is filled after the wait: a C-stack one is CO_ESTACKARG. */
#define CO_AWAIT_FUTURE(self, fut, value) CO__AWAIT_FUTURE(self, fut, value, false)
/* The same, but its error is caught: read it with CO_THROWN(self). */
#define CO_AWAIT_FUTURE_CATCH(self, fut, value) CO__AWAIT_FUTURE(self, fut, value, true)
/* fut.add_done_callback / remove_done_callback, as for tasks above. */
CO_API int co_future_add_done_callback(co_future *f, co_handle *h, void (*fn)(void *), void *arg);
CO_API size_t co_future_remove_done_callback(co_future *f, void (*fn)(void *), void *arg);

/* ------------------------------------------------------------- internals */

/* Behind CO_AWAIT_FUTURE: the future and the value's destination are
 * recorded when the await starts (1 done, 0 wait, <0 an error). */
CO_API int co__future_wait(co_future *f, void **value);
CO_API int co__future_again(void);

#define CO__AWAIT_FUTURE(self, fut, value, caught)                                         \
    CO__WAIT(self, co__future_wait((fut), (value)), co__future_again(), caught)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_FUTURE_H */
