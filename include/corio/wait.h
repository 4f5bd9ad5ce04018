/*
 * corio/wait.h -- waiting on many tasks, shielding one, and timeout blocks:
 * asyncio.wait, as_completed, shield, timeout and timeout_at.  Portable like
 * the scheduler (a bare-metal loop has them too: they use the done
 * callbacks of corio/future.h); corio/corio.h includes this header.
 *
 * Storage: a wait or an as_completed iteration keeps one co_wait_slot per
 * task it watches.  Give it an array of the frame's with co_wait_init, or
 * leave the co_wait zeroed to have the loop's allocator provide one for the
 * duration (CO_ENOMEM when it has none).  A co_wait and its slots must
 * outlive the await: frame fields, not C locals (CO_ESTACKARG); the tasks
 * watched must not be released meanwhile.
 */
#ifndef CORIO_WAIT_H
#define CORIO_WAIT_H

#include <corio/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A timeout or a deadline that never comes (asyncio's None). */
#define CO_NO_TIMEOUT INT64_MAX

/* ------------------------------------------------------ asyncio.wait */

/* return_when */
enum co_wait_when {
    CO_FIRST_COMPLETED, /* any task done                               */
    CO_FIRST_EXCEPTION, /* any task failed (not cancelled), or all done */
    CO_ALL_COMPLETED    /* every task done                             */
};

struct co_wait;
/* One watched task: its done callback.  Private. */
typedef struct co_wait_slot {
    co_handle hook;
    struct co_wait *set;
    co_gen *task;
    struct co_wait_slot *next; /* as_completed: the FIFO of finished ones */
} co_wait_slot;

typedef struct co_wait {
    size_t ndone; /* after CO_WAIT: how many of the tasks are done (they come first) */
    /* private, as are the rest */
    co_wait_slot *slots, *head, *tail;
    size_t cap, n, pending;
    co_gen **tasks;
    co_gen **dst;
    co_task *owner;
    co_handle timer; /* the timeout */
    uint8_t mode, state, owns;
    bool ready, timed_out;
} co_wait;

/* Gives w the caller's slots (cap of them; a frame array) instead of the
 * loop's allocator; call before the wait. */
CO_API void co_wait_init(co_wait *w, co_wait_slot *slots, size_t cap);

/*
 * done, pending = await asyncio.wait(tasks, timeout=ms / 1000,
 * return_when=when): waits for n tasks (spawning those not yet spawned)
 * until `when` is met or ms pass (CO_NO_TIMEOUT: no limit).  The tasks are
 * neither cancelled nor read: on return `tasks` (a frame array) is reordered,
 * done ones first, each part in its old order, and w->ndone says where the
 * pending ones start.  n == 0 is CO_EBADARG (Python's ValueError).
 */
#define CO_WAIT(self, w, tasks, n, when, ms)                                               \
    CO__WAIT_TIDY(self, co__wait_start((w), (tasks), (n), (when), co__ms_to_ns(ms)),      \
                  co__wait_again, false)
/* The same, but its errors (a cancellation too) are left in CO_THROWN(self). */
#define CO_WAIT_CATCH(self, w, tasks, n, when, ms)                                         \
    CO__WAIT_TIDY(self, co__wait_start((w), (tasks), (n), (when), co__ms_to_ns(ms)),      \
                  co__wait_again, true)

/* ------------------------------------------------ asyncio.as_completed */

/* it = as_completed(tasks, timeout=ms / 1000): starts watching n tasks (the
 * array is copied) and the clock; not an await.  0 or an error. */
CO_API int co_as_completed(co_wait *w, co_gen *const *tasks, size_t n, int64_t ms);
/*
 * result = await next(it): the next task to finish, in the order they
 * finished, is stored in *dst (a co_gen ** into the frame), then its error
 * is raised, as awaiting it would.  Once the time is up CO_ETIMEOUT is
 * raised instead; after the n-th, or a cancellation, CO_EINVALSTATE.
 */
#define CO_NEXT_COMPLETED(self, w, dst)                                                    \
    CO__WAIT_TIDY(self, co__next_completed((w), (dst)), co__wait_again, false)
#define CO_NEXT_COMPLETED_CATCH(self, w, dst)                                              \
    CO__WAIT_TIDY(self, co__next_completed((w), (dst)), co__wait_again, true)
/* Stops watching (leaving an as_completed loop early): the callbacks go,
 * allocated slots are freed.  Done by itself after the n-th, a timeout or a
 * cancellation. */
CO_API void co_wait_release(co_wait *w);

/* ------------------------------------------------------ asyncio.shield */

/* result = await shield(task): awaits a task (spawning it if need be), but
 * cancelling the awaiter raises CO_ECANCELLED at once and leaves the task
 * running.  Its error, unread, is reported when it is freed. */
#define CO_SHIELD(self, task) CO__WAIT_TIDY(self, co__shield((task)), co__shield_again, false)
#define CO_SHIELD_CATCH(self, task) CO__WAIT_TIDY(self, co__shield((task)), co__shield_again, true)

/* ---------------------------------------------------- asyncio.timeout */

typedef struct co_timeout {
    co_deadline d; /* private, as are the others */
    int64_t when;
    uint8_t state;
} co_timeout;

/*
 * async with asyncio.timeout(ms / 1000) as field: ... -- a block of awaits
 * under a deadline, `field` a co_timeout member of the frame, whose
 * `co_try tries[N]` counts the block as one try.  On expiry the task is
 * cancelled; if that cancellation reaches the block's end, and no other was
 * requested meanwhile, it becomes CO_ETIMEOUT there (an outside cancel stays
 * CO_ECANCELLED).  Blocks nest: each counts its own request.
 *
 *     CO_TIMEOUT(self, to, 500) {
 *         CO_SLEEP(self, 1000);
 *     } CO_TIMEOUT_END(self, to);
 */
#define CO_TIMEOUT(self, field, ms) CO__TIMEOUT(self, field, co__ms_to_ns(ms), false)
/* async with asyncio.timeout_at(when): `when` in co_now's ns (CO_NO_TIMEOUT: none). */
#define CO_TIMEOUT_AT(self, field, when) CO__TIMEOUT(self, field, (when), true)
/* The end of the block: a timeout is raised here. */
#define CO_TIMEOUT_END(self, field)                                                        \
    CO_TRY_FINALLY(self) { CO__CHECK(self, co__timeout_exit(&(self)->field, CO_CAUGHT(self))); } \
    CO_TRY_END(self)
/* The end that catches: CO_THROWN(self) is then 0, CO_ETIMEOUT or what the
 * block raised (try: async with timeout(): ... except BaseException).
 * Entering is raised before the block, in both forms: CO_EINVALSTATE for a
 * field already in a block, CO_ENOMEM, CO_ESTACKARG for a frame on the C
 * stack. */
#define CO_TIMEOUT_END_CATCH(self, field)                                                  \
    CO_EXCEPT_ALL(self) { co__timeout_caught(&(self)->gen, &(self)->field, CO_CAUGHT(self)); } \
    CO_ELSE(self) { co__timeout_caught(&(self)->gen, &(self)->field, 0); }                 \
    CO_TRY_FINALLY(self) { (void)co__timeout_exit(&(self)->field, 0); }                    \
    CO_TRY_END(self)

/* timeout.reschedule(when): a new deadline (co_now's ns; CO_NO_TIMEOUT:
 * none) for a block under way; CO_EINVALSTATE outside it or once expired. */
CO_API int co_timeout_reschedule(co_timeout *to, int64_t when);
/* timeout.when(): the deadline, CO_NO_TIMEOUT for none. */
CO_API int64_t co_timeout_when(const co_timeout *to);
/* timeout.expired(): the deadline passed and cancelled the task. */
CO_API bool co_timeout_expired(const co_timeout *to);

/* ------------------------------------------------------------- internals */

/* Starts: <0 an error (or the outcome to raise), 1 done, 0 the task waits;
 * after a resume the _again function, given what was thrown, says the same. */
CO_API int co__wait_start(co_wait *w, co_gen **tasks, size_t n, int when, int64_t ns);
CO_API int co__next_completed(co_wait *w, co_gen **dst);
CO_API int co__shield(co_gen *task);
CO_API int co__wait_again(int thrown);
CO_API int co__shield_again(int thrown);
CO_API int co__timeout_enter(co_timeout *to, int64_t t, bool absolute);
CO_API int co__timeout_exit(co_timeout *to, int err); /* CO_ETIMEOUT, or 0 */
CO_API void co__timeout_caught(co_gen *g, co_timeout *to, int err);

/* Entered, the block is a try: its end runs on every way out. */
#define CO__TIMEOUT(self, field, t, absolute)                                              \
    CO__CHECK(self, co__timeout_enter(&(self)->field, (t), (absolute)));                   \
    CO_TRY(self)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_WAIT_H */
