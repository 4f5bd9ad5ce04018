/*
 * corio/sched.h -- tasks and time: asyncio's core, portable.
 * Futures and loop callbacks, built on it, are in corio/future.h; Event,
 * Lock, Semaphore and Queue in corio/sync.h.
 *
 * A loop runs tasks.  A task is a generator frame (see gen.h) that the loop
 * drives: the body suspends at an await (sleep, another task, an event, a
 * queue...) and the loop resumes it when what it waits for has happened.
 * This layer needs only a clock and an allocator, both hooks, so it runs on a
 * bare-metal tick as well as under the POSIX reactor of corio.h, which adds
 * sockets, files, signals and threads to the same loop.
 *
 *     typedef struct { co_gen gen; const char *text; } foo;
 *
 *     static int foo_fn(co_gen *g)
 *     {
 *         foo *self = (foo *)g;
 *         CO_BEGIN(self);
 *         puts(self->text);
 *         CO_SLEEP(self, 3000);               // await asyncio.sleep(3)
 *         puts("also finished");
 *         CO_END(self);
 *     }
 *
 * Await macros may only be used in bodies that run as tasks (or are awaited,
 * by delegation, from one).  Each raises its error at the await: a task that
 * is cancelled gets CO_ECANCELLED there, unwinds through its CO_FINALLY
 * sections and finishes cancelled unless a _CATCH form catches it.
 *
 * Every await evaluates each argument once, when it starts, and keeps what
 * it needs after a resume in storage the loop or the frame owns; a pointer
 * into the C stack that it would still use after suspending (a C local's
 * address) is refused at once with CO_ESTACKARG.
 */
#ifndef CORIO_SCHED_H
#define CORIO_SCHED_H

#include <corio/gen.h>

/*
 * CO_API marks what libcorio exports: the documented calls, and the co__*
 * functions the public macros expand to (grouped under "internals" in each
 * header).  The library is built with hidden visibility, so nothing else
 * leaves it; scripts/exports checks the two lists agree.
 */
#if defined(__GNUC__) || defined(__clang__)
#define CO_API __attribute__((visibility("default")))
#else
#define CO_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes of the runtime (the generator core's are -1001 ...). */
#define CO_ECANCELLED (-1101)   /* asyncio.CancelledError                           */
#define CO_ETIMEOUT (-1102)     /* TimeoutError: a wait_for or deadline expired    */
#define CO_ENOTASK (-1103)      /* an await outside a running task                 */
#define CO_ESELF (-1104)        /* a task awaiting itself                          */
#define CO_ELOOPRUNNING (-1105) /* run() while a loop already runs in this thread  */
#define CO_ELOOPCLOSED (-1106)  /* the loop is closed or shutting down             */
#define CO_ENOMEM (-1107)       /* the allocator hook returned NULL                */
#define CO_EBADYIELD (-1108)    /* a task suspended without awaiting anything      */
#define CO_ENOTLOCKED (-1109)   /* releasing a lock that is not held               */
#define CO_EQFULL (-1110)       /* try-put on a full queue (QueueFull)             */
#define CO_EQEMPTY (-1111)      /* try-get on an empty queue (QueueEmpty)          */
#define CO_EQSHUTDOWN (-1112)   /* the queue is shut down (and drained, for get)   */
#define CO_ESEMOVER (-1113)     /* a bounded semaphore released too many times     */
#define CO_EINTERRUPTED (-1114) /* run() interrupted by SIGINT (KeyboardInterrupt) */
#define CO_EOF (-1115)          /* the stream ended before the data asked for      */
#define CO_ENOTDONE (-1116)     /* a task's result read before it finished         */
#define CO_EBUSY (-1117)        /* already in a gather or group, or awaited twice  */
#define CO_EGROUPDONE (-1118)   /* the task group is finished or shutting down     */
#define CO_EINVALSTATE (-1119)  /* a future set twice (InvalidStateError)          */
#define CO_ESTACKARG (-1120)    /* an await argument points into the C stack       */
#define CO_EBROKENBARRIER (-1130) /* the barrier is aborted or reset (BrokenBarrierError) */
#define CO_ETASKDONE (-1131)    /* queue task_done() called too many times         */
/* Name resolution (dns.h): getaddrinfo's EAI_* codes. */
#define CO_EAI_NONAME (-1151)   /* no such host name (EAI_NONAME)                  */
#define CO_EAI_NODATA (-1152)   /* the name has no address of that family          */
#define CO_EAI_AGAIN (-1153)    /* temporary failure in name resolution            */
#define CO_EAI_FAIL (-1154)     /* non-recoverable failure in name resolution      */
#define CO_EAI_FAMILY (-1155)   /* address family not supported by the resolver    */
#define CO_ELIMIT (-1140)       /* a stream's buffer limit came first (LimitOverrunError) */
#define CO_ESTREAMCLOSED (-1141) /* writing to a stream after write_eof or close     */
#define CO_ETLS (-1142)         /* a TLS failure (co_tls_reason has OpenSSL's text)  */
#define CO_ETLSCERT (-1143)     /* TLS: the peer's certificate is not trusted        */
#define CO_ETLSHOST (-1144)     /* TLS: the certificate is not for that host name    */
#define CO_ETLSPROTO (-1145)    /* TLS: not TLS, or no protocol version in common    */
#define CO_ENOTLS (-1146)       /* TLS: built without OpenSSL (libssl-dev)           */

/* The text for any code: the core's, the runtime's, or a negative errno. */
CO_API const char *co_strerror(int code);

/* ------------------------------------------------------------------ loop */

typedef struct co_loop co_loop;

/* A bare-metal build (no OS: see docs/firmware.md) has no malloc and no
 * platform clock: there clock, alloc and free must be set. */
typedef struct co_hooks {
    int64_t (*clock)(void *ctx);                   /* monotonic ns; NULL: the platform's */
    void *(*alloc)(void *ctx, size_t size);        /* NULL: malloc (on Linux, large blocks
                                                      asked huge pages: docs/asyncio.md)  */
    void (*free)(void *ctx, void *p, size_t size); /* NULL: free                         */
    void (*idle)(void *ctx, int64_t ns);           /* no reactor: wait this long (-1: a
                                                      wake-up), e.g. WFI on firmware    */
    void *ctx;
    /* grows or shrinks p (old bytes) to size, keeping its bytes, as realloc;
       NULL: realloc with malloc, else alloc + copy + free */
    void *(*realloc)(void *ctx, void *p, size_t old, size_t size);
} co_hooks;

typedef struct co_loop_options {
    co_hooks hooks;
    const char *backend; /* "epoll", "kqueue", "poll"; NULL: $CORIO_BACKEND or the best */
    bool autojump;       /* when idle, jump the clock to the next deadline (fake clocks)  */
    int workers;         /* file worker threads; 0: 4                                     */
    /* Timers count from the turn's clock, as libev's from ev_now: arming one
       reads no clock (10-25 ns saved per sleep on a VM), but a sleep or timeout
       armed after the turn's tasks ran for a while may end that much early.
       false (the default): from the time of the call, as asyncio. */
    bool turn_clock;
} co_loop_options;

/* Creates a loop (opt may be NULL). 0 or an error: CO_ENOMEM also when
 * 65535 loops are alive in the process at once (64-bit targets, whose
 * tasks name their loop by a 16-bit number). */
CO_API int co_loop_new(co_loop **loop, const co_loop_options *opt);
/* Frees a loop that is not running, with every task it still owns. */
CO_API void co_loop_free(co_loop *loop);
/*
 * asyncio.run(main): runs the loop until the task of `main` (a frame from
 * CO_NEW or co_task_init on this loop) finishes, then cancels every task
 * still alive, runs their cleanup, and returns main's result: 0, or the
 * error it finished with.
 */
CO_API int co_run(co_loop *loop, co_gen *main);
/* The loop running in this thread (asyncio.get_running_loop()), or NULL. */
CO_API co_loop *co_running_loop(void);
/* The loop's clock in ns, read once per turn of the loop and when a timer is
 * armed (with turn_clock: once per turn only). */
CO_API int64_t co_now(const co_loop *loop);

/* ----------------------------------------------------------------- tasks */

/* A 64-bit task names its loop by a 16-bit number instead of a pointer:
 * with it the header is 64 bytes, not 80 (see co_task). */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define CO__LOOP_ID 1
#else
#define CO__LOOP_ID 0
#endif

typedef struct co_timer {
    uint32_t slot; /* position in the timer heap + 1; 0: not armed   */
    uint32_t seq;  /* arming order: equal deadlines fire in it        */
    uint8_t kind;  /* what firing means (a task's sleep, a deadline...) */
    uint8_t co__byte; /* padding the owner may use: a task's block class */
#if CO__LOOP_ID
    uint16_t co__owner; /* padding the owner may use: a task's loop number */
#endif
} co_timer;

/* The strictest alignment of a scalar (long double's or long long's):
 * a frame that follows a header of a multiple of it may hold any type. */
#if defined(__cplusplus)
#define CO__ALIGN_MAX alignas(long double) alignas(long long)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define CO__ALIGN_MAX _Alignas(long double) _Alignas(long long)
#elif defined(__GNUC__) || defined(__clang__) /* C99 with GNU extensions */
#define CO__ALIGN_MAX                                                                      \
    __attribute__((aligned(__alignof__(long double) > __alignof__(long long)              \
                               ? __alignof__(long double)                                 \
                               : __alignof__(long long))))
#else
#error "corio/sched.h needs C11, C++11, or gcc or clang"
#endif

/* A task's bookkeeping (64 bytes on 64-bit, 48 on a 32-bit ARM); its frame
 * follows it directly in memory, aligned as malloc's memory is.  Private:
 * use the functions below. */
typedef struct co_task {
    CO__ALIGN_MAX struct co_task *next; /* the ready queue, or the wait queue it is in */
    struct co_task *awaiters; /* tasks awaiting it, newest first, by `next`  */
    void *wait_on;            /* what it is suspended on                     */
#if !CO__LOOP_ID
    co_loop *loop; /* (64-bit: the loop numbered timer.co__owner) */
#endif
    union {
        void *top; /* the innermost wait-for, task group or socket
                      operation in progress: its state, recorded when it
                      started so nothing is re-read after a resume */
    } scope;
    co_timer timer;    /* its sleep                                         */
    uint32_t reg;      /* its place in the loop's list of tasks             */
    /* Last, beside the frame's first line: what a gather reads of each
       child (its group, its flags) shares a cache line with the frame's
       co_gen more often than not. */
    void *group;       /* the gather or task group it reports to            */
    uint8_t wait;      /* the kind of thing wait_on is                      */
    uint8_t flags;
    uint8_t cancels;   /* pending cancellation requests (Task.cancelling()) */
    uint8_t woke_from; /* the kind of wait a wake-up came from              */
    uint32_t id;       /* its number, Task-N's N, given when it is listed   */
} co_task;

/* A FIFO of waiting tasks (by their `next`): what Event, Lock, Future...
 * keep their waiters in. */
typedef struct co_waitq {
    co_task *head, *tail;
} co_waitq;

/*
 * A new task running `body` with a zeroed frame of `size` bytes from the
 * loop's allocator: the frame is returned (fill in its arguments), nothing
 * runs until co_spawn.  NULL when out of memory or the loop is closed.
 */
CO_API void *co_task_new(co_loop *loop, size_t size, co_body body);
#define CO_NEW(loop, type, body) ((type *)co_task_new((loop), sizeof(type), (body)))

/*
 * async def name(...): one declaration for a coroutine's frame and body.
 * The fields (its arguments and the locals that live across awaits, as
 * struct members; leave the argument empty for none: CO_ASYNC(tick, )) make
 * the frame type `name`; the lines up to CO_ASYNC_END are the body (CO_BEGIN
 * and CO_END included), with a typed `self` and no cast; `name_fn` is its
 * co_body, and its name shows in stacks (inspect.h).  Declare a coroutine
 * before the ones that create or embed it.
 * A C local in the body lasts until the next await only, as in any body.
 *
 *     CO_ASYNC(say_after, int ms; const char *what;)
 *         CO_SLEEP(self, self->ms);
 *         puts(self->what);
 *     CO_ASYNC_END
 */
#define CO_ASYNC(name, ...)                                                                \
    typedef struct name {                                                                  \
        co_gen gen;                                                                        \
        __VA_ARGS__                                                                        \
    } name;                                                                                \
    static int name##_body(name *self);                                                    \
    static int name##_fn(co_gen *co__g) { return name##_body((name *)(void *)co__g); }    \
    CO__BODY_INFO(name##_fn, #name)                                                        \
    static int name##_body(name *self)                                                     \
    {                                                                                      \
        CO_BEGIN(self);
/* The end of a CO_ASYNC body (a CO_FINALLY block, if any, comes before). */
#define CO_ASYNC_END                                                                       \
    CO_END(self);                                                                          \
    }

/* coro = name(...): a new task of a CO_ASYNC coroutine with its fields set
 * by designated initializers (CO_TASK(loop, say_after, .ms = 10, .what =
 * "hi"); none: CO_TASK(loop, tick, )), not started; NULL when out of memory. */
#define CO_TASK(loop, name, ...)                                                           \
    ((name *)co__task_from((loop), sizeof(name), name##_fn, &(name){.gen = {0}, __VA_ARGS__}))

/* Raises the error a call returns (a negative code), if any: for the
 * calls that report failure by their result, as co_process_spawn does. */
#define CO_CHECK(self, expr) CO__CHECK(self, expr)

/* The same inside a task, on its loop: CO_CALL(say_after, .ms = 10) is
 * say_after(ms=10), the coroutine object that gather or create_task takes. */
#define CO_CALL(name, ...) CO_TASK(co_running_loop(), name, __VA_ARGS__)

/* await name(...) inline (no task): `member` is a frame field of type
 * `name`, set from the designated initializers, then awaited by delegation
 * (CO_AWAIT).  The _CATCH form leaves its error in CO_THROWN(self). */
#define CO_AWAIT_CALL(self, member, name, ...)                                             \
    CO__AWAIT_CALL(self, member, name, CO_AWAIT, __VA_ARGS__)
#define CO_AWAIT_CALL_CATCH(self, member, name, ...)                                       \
    CO__AWAIT_CALL(self, member, name, CO_AWAIT_CATCH, __VA_ARGS__)

/* dst = asyncio.create_task(name(...)), inside a task: created on the
 * running loop and started; out of memory is raised as CO_ENOMEM. */
#define CO_CREATE_TASK(self, dst, name, ...)                                               \
    do {                                                                                   \
        name *co__t = CO_CALL(name, __VA_ARGS__);                                          \
        CO__CHECK(self, co__start_new((co_gen *)(void *)co__t));                                       \
        (dst) = co__t;                                                                     \
    } while (0)

/* Caller-provided storage for a task: no allocation. */
#define CO_TASK_STORAGE(type) \
    struct {                  \
        co_task task;         \
        type frame;           \
    }
/* Makes storage.task/frame (a CO_TASK_STORAGE, frame CO_INIT-ed) a task.
   The header may be uninitialised; storage is reusable once its task ended. */
CO_API int co_task_init(co_loop *loop, co_task *task, co_gen *frame);

/* asyncio.create_task: schedules the task owning `frame`. 0 or an error. */
CO_API int co_spawn(co_gen *frame);
/* task.cancel(): 1 when a cancellation was requested, 0 when already done. */
CO_API int co_cancel(co_gen *task);
/* task.uncancel(): one request fewer; returns how many remain. */
CO_API int co_uncancel(co_gen *task);
/* task.cancelling(): pending cancellation requests. */
CO_API int co_cancelling(const co_gen *task);
/* task.done() */
CO_API bool co_done(const co_gen *task);
/* 0 if it returned, its error (CO_ECANCELLED...), or CO_ENOTDONE. */
CO_API int co_task_result(const co_gen *task);
/* Drops the caller's hold on a CO_NEW task: it is freed once done. */
CO_API void co_release(co_gen *task);
/* The task whose body is running now (asyncio.current_task()), or NULL. */
CO_API co_gen *co_current_task(void);

/*
 * "Task exception was never retrieved": a CO_NEW task that finished with an
 * error (not a cancellation) that nothing read -- no await, gather or group
 * took it, no co_task_result -- is reported when it is freed (released, or
 * by co_loop_free) to the loop's exception handler.
 */
typedef struct co_exception {
    co_gen *task;           /* the task's frame, valid during the call       */
    int code;               /* the error it finished with                     */
    const char *text;       /* co_strerror(code)                              */
    const co_error *record; /* message, place and traceback: the error record
                               of the task's context (co_ctx_attach), or NULL */
} co_exception;
typedef void (*co_exception_handler)(co_loop *loop, const co_exception *e, void *arg);
/* loop.set_exception_handler(fn); NULL: the default again, which prints the
 * report to stderr on a loop with the reactor (co_default_exception_handler
 * in corio.h) and does nothing on a bare one. */
CO_API void co_loop_set_exception_handler(co_loop *loop, co_exception_handler fn, void *arg);

/* ------------------------------------------------------------------ time */

/* await asyncio.sleep(ms / 1000); 0 yields to every other ready task once. */
#define CO_SLEEP(self, ms) CO_SLEEP_NS(self, co__ms_to_ns(ms))
#define CO_SLEEP_NS(self, ns) CO__AWAIT_ONCE(self, co__sleep(ns), false)
/* The same, but a cancellation is caught: read it with CO_THROWN(self). */
#define CO_SLEEP_CATCH(self, ms) CO__AWAIT_ONCE(self, co__sleep(co__ms_to_ns(ms)), true)

/* ----------------------------------------------------------- awaiting */

/* result = await task: its error is raised here (after it ran its cleanup).
 * The _CATCH form raises nothing: read the outcome with CO_THROWN(self). */
#define CO_AWAIT_TASK(self, task) CO__AWAIT_TASK(self, task, false)
#define CO_AWAIT_TASK_CATCH(self, task) CO__AWAIT_TASK(self, task, true)

/* asyncio.gather(*tasks): waits for n spawned tasks. */
enum co_gather_mode {
    CO_GATHER_FIRST_ERROR, /* the first error is raised at once; the rest keep running */
    CO_GATHER_ALL          /* return_exceptions=True: wait for all, raise nothing      */
};
typedef struct co_gather {
    const void *ops; /* private, as are the other fields; the gather and the
                        task array must outlive the await (not C locals) */
    co_gen *const *tasks;
    size_t n, pending;
    int error; /* the first error, in time */
    uint8_t mode;
    uint8_t owns; /* CO_GATHER_OF: the array and the tasks are the gather's */
    uint8_t hop;  /* the owner, woken, takes one more turn (asyncio's callback) */
    co_task *owner;
} co_gather;
#define CO_GATHER(self, gather, tasks, n, mode) \
    CO__WAIT(self, co__gather_start((gather), (tasks), (n), (mode)), co__gather_again(), false)
/* The same, but the outcome is caught: CO_THROWN(self) is then 0 or the error. */
#define CO_GATHER_CATCH(self, gather, tasks, n, mode) \
    CO__WAIT(self, co__gather_start((gather), (tasks), (n), (mode)), co__gather_again(), true)

/*
 * await asyncio.gather(a(...), b(...), ...): over tasks made inline with
 * CO_CALL (one or more), which the gather then owns, with their array.  Any
 * NULL among them (out of memory) raises CO_ENOMEM and releases the others.
 * After the await, CO_GATHER_RESULT(gather, i, type) is the i-th task's
 * frame, in argument order, to read its results from (co_task_result for its
 * error); co_gather_release lets the tasks go when they have been read.
 */
#define CO_GATHER_OF(self, gather, mode, ...) CO__GATHER_OF(self, gather, mode, false, __VA_ARGS__)
#define CO_GATHER_OF_CATCH(self, gather, mode, ...)                                        \
    CO__GATHER_OF(self, gather, mode, true, __VA_ARGS__)
#define CO_GATHER_RESULT(gather, i, type) ((type *)(void *)co_gather_task((gather), (i)))
/* The i-th task of a gather (NULL past the end). */
CO_API co_gen *co_gather_task(const co_gather *g, size_t i);
/* Releases a CO_GATHER_OF's tasks and array (each task is freed once done);
 * CO_EBUSY while the gather runs.  Nothing to do for CO_GATHER's. */
CO_API int co_gather_release(co_gather *g);

/* asyncio.wait_for (3.12: a timeout around the await) around a delegated
 * child coroutine: on expiry the task is cancelled, the child's cleanup
 * runs, then CO_ETIMEOUT is raised.  `deadline` is a co_deadline in the
 * frame.  Timeout blocks, wait and shield are in corio/wait.h. */
typedef struct co_deadline {
    co_timer timer; /* private, as are the other fields */
    co_task *target, *owner;
    void *outer; /* the scope it sits in (co_task.scope) */
    bool expired;
    uint8_t cancelling; /* the owner's cancelling() when it started */
} co_deadline;
#define CO_WAIT_FOR(self, deadline, member, ms) CO__WAIT_FOR(self, deadline, member, ms, false)
/* The same, but the outcome is caught: CO_THROWN(self) is then 0, CO_ETIMEOUT
 * or the child's own error (try: ... except TimeoutError: around it).
 * A timeout <= 0 times out at once: the child never starts (asyncio too). */
#define CO_WAIT_FOR_CATCH(self, deadline, member, ms) CO__WAIT_FOR(self, deadline, member, ms, true)
/* The same around a spawned task: on expiry the waiter is cancelled, which
 * cancels the task it awaits; a task that swallows that gives its value. */
#define CO_WAIT_FOR_TASK(self, deadline, task, ms) CO__WAIT_FOR_TASK(self, deadline, task, ms, false)
#define CO_WAIT_FOR_TASK_CATCH(self, deadline, task, ms)                                   \
    CO__WAIT_FOR_TASK(self, deadline, task, ms, true)

/* asyncio.TaskGroup: tasks spawned into it; the first failure cancels the
 * others and the group's body; the group waits for all. */
typedef struct co_group {
    const void *ops; /* private, as are the other fields */
    void *outer;     /* the scope it sits in (co_task.scope) */
    co_gen **members;
    size_t n, cap, pending;
    int error; /* the first failure */
    co_task *owner;
    bool aborting, body_done, finished;
    bool hop; /* the owner, woken, takes one more turn (asyncio's callback) */
} co_group;
CO_API void co_group_init(co_group *group);
/* Spawns the task owning `frame` into the group. */
CO_API int co_group_spawn(co_group *group, co_gen *frame);
/* The members' results: errs[i] for member i (i < min(n, max)); returns n. */
CO_API size_t co_group_errors(const co_group *group, int *errs, size_t max);
/* async with TaskGroup() as g: await body -- runs the child coroutine
 * `member` as the group's body, then waits for every member; raises the
 * first failure (the body's or a member's). */
#define CO_GROUP_RUN(self, group, member) CO__GROUP_RUN(self, group, member, false)
/* The same, but the outcome is caught: CO_THROWN(self) is then 0 or the
 * first failure (try: async with TaskGroup() ... except ...). */
#define CO_GROUP_RUN_CATCH(self, group, member) CO__GROUP_RUN(self, group, member, true)
/* Releases the group's member list (after CO_GROUP_RUN). */
CO_API void co_group_fini(co_group *group);

/* ------------------------------------------------------------- internals */

/* Registration functions behind the await macros: <0 an error to raise,
 * 1 done, 0 the current task now waits (suspend, then call the _again
 * function, which takes what it needs from where the start recorded it). */
CO_API int co__sleep(int64_t ns);
/* ms in ns, clamped to [0, INT64_MAX]: inline, as every CO_SLEEP computes it. */
static inline int64_t co__ms_to_ns(int64_t ms)
{
    return ms > INT64_MAX / 1000000 ? INT64_MAX : ms < 0 ? 0 : ms * 1000000;
}
/* Done: the task's outcome is set as caller's thrown value. */
CO_API int co__await_task(co_gen *caller, co_gen *task);
CO_API int co__await_task_again(co_gen *caller);
CO_API int co__gather_start(co_gather *g, co_gen *const *tasks, size_t n, int mode);
CO_API int co__gather_again(void);
CO_API int co__gather_of(co_gather *g, int mode, void *const *frames, size_t n);
CO_API void *co__task_from(co_loop *loop, size_t size, co_body body, const void *init);
CO_API int co__start_new(co_gen *frame); /* co_spawn, CO_ENOMEM for NULL */
/* wait-for and group scopes: the start pushes the state on the task's
 * scope, the end pops it and gives the outcome. */
CO_API int co__wait_for_arm(co_deadline *d, co_gen *target, int64_t ns);
CO_API int co__wait_for_end(int err);
CO_API co_gen *co__wait_for_target(void);
CO_API int co__group_enter(co_group *g);
CO_API void co__group_body_done(int err);
CO_API int co__group_wait(int thrown);

/* Evaluates `start` once; while it says wait, suspends, then asks `again`.
 * An error is raised, unless caught (then it is CO_THROWN).  Cancellation
 * unwinds from the wait. */
#define CO__WAIT(self, start, again, caught)                                               \
    do {                                                                                   \
        int co__r = (start);                                                               \
        while (co__r == 0) {                                                               \
            CO__SUSPEND_TASK(self, false);                                                 \
            co__r = (again);                                                               \
        }                                                                                  \
        CO__OUTCOME(self, co__r < 0 ? co__r : 0, caught);                                  \
    } while (0)

/* The same for a wait that tidies up when a cancellation is thrown at it
 * (takes a lock back, leaves a count or a watch), as Python's `finally`
 * does: the suspension catches what is thrown and gives it to
 * again(thrown), which tidies and returns it, or 0 to wait again. */
#define CO__WAIT_TIDY(self, start, again, caught)                                          \
    do {                                                                                   \
        int co__r = (start);                                                               \
        while (co__r == 0) {                                                               \
            CO__SUSPEND_TASK(self, true);                                                  \
            co__r = again(CO_THROWN(self));                                                \
        }                                                                                  \
        CO__OUTCOME(self, co__r < 0 ? co__r : 0, caught);                                  \
    } while (0)

/* Raises err (<0) or, when caught, leaves it (or 0) in CO_THROWN(self). */
#define CO__OUTCOME(self, err, caught)                                                     \
    do {                                                                                   \
        int co__o = (err);                                                                 \
        if (caught)                                                                        \
            co__set_thrown(&(self)->gen, co__o);                                           \
        else if (co__o < 0)                                                                \
            CO_RAISE(self, co__o);                                                         \
    } while (0)

#define CO__WAIT_FOR(self, deadline, member, ms, caught)                                   \
    do {                                                                                   \
        int co__a = co__wait_for_arm((deadline), NULL, co__ms_to_ns(ms));                  \
        if (co__a < 0) {                                                                   \
            CO__OUTCOME(self, co__a, caught);                                              \
            break;                                                                         \
        }                                                                                  \
        CO_AWAIT_CATCH(self, member);                                                      \
        CO__OUTCOME(self, co__wait_for_end(CO_THROWN(self)), caught);                      \
    } while (0)

#define CO__WAIT_FOR_TASK(self, deadline, task, ms, caught)                                \
    do {                                                                                   \
        int co__a = co__wait_for_arm((deadline), (task), co__ms_to_ns(ms));                \
        if (co__a < 0) {                                                                   \
            CO__OUTCOME(self, co__a, caught);                                              \
            break;                                                                         \
        }                                                                                  \
        CO__AWAIT_TASK(self, co__wait_for_target(), true);                                 \
        CO__OUTCOME(self, co__wait_for_end(CO_THROWN(self)), caught);                      \
    } while (0)

/* The body runs as a child with the group on the task's scope; then the
 * owner waits for the members, a cancellation included (the group must
 * end), and the end gives the first failure. */
#define CO__GROUP_RUN(self, group, member, caught)                                         \
    do {                                                                                   \
        int co__g = co__group_enter((group));                                              \
        if (co__g < 0) {                                                                   \
            CO__OUTCOME(self, co__g, caught);                                              \
            break;                                                                         \
        }                                                                                  \
        CO_AWAIT_CATCH(self, member);                                                      \
        co__group_body_done(CO_THROWN(self));                                              \
        co__g = co__group_wait(0);                                                         \
        while (co__g == 0) {                                                               \
            CO__SUSPEND_TASK(self, true);                                                  \
            co__g = co__group_wait(CO_THROWN(self));                                       \
        }                                                                                  \
        CO__OUTCOME(self, co__g < 0 ? co__g : 0, caught);                                  \
    } while (0)

#define CO__AWAIT_CALL(self, member, name, await, ...)                                     \
    do {                                                                                   \
        (self)->member = (name){.gen = {0}, __VA_ARGS__};                                  \
        CO_INIT(&(self)->member, name##_fn);                                               \
        await(self, member);                                                               \
    } while (0)

#define CO__GATHER_OF(self, gather, mode, caught, ...)                                     \
    CO__WAIT(self,                                                                         \
             co__gather_of((gather), (mode), (void *const[]){__VA_ARGS__},                 \
                           sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *)),         \
             co__gather_again(), caught)

/* Raises the error `expr` returns, if any. */
#define CO__CHECK(self, expr)                                                              \
    do {                                                                                   \
        int co__c = (expr);                                                                \
        if (co__c < 0)                                                                     \
            CO_RAISE(self, co__c);                                                         \
    } while (0)

/* Registers once, suspends once (sleep). */
#define CO__AWAIT_ONCE(self, start, caught)                                                \
    do {                                                                                   \
        int co__r = (start);                                                               \
        if (co__r < 0)                                                                     \
            CO_RAISE(self, co__r);                                                         \
        if (co__r == 0)                                                                    \
            CO__SUSPEND_TASK(self, caught);                                                \
    } while (0)

/* The await of a task: a cancellation thrown at the wait unwinds, unless
 * caught (then it is the outcome). */
#define CO__AWAIT_TASK(self, task, caught)                                                 \
    do {                                                                                   \
        int co__r = co__await_task(&(self)->gen, (task));                                  \
        while (co__r == 0) {                                                               \
            CO__SUSPEND_TASK(self, caught);                                                \
            co__r = CO_THROWN(self) ? 1 : co__await_task_again(&(self)->gen);             \
        }                                                                                  \
        if (co__r < 0)                                                                     \
            co__set_thrown(&(self)->gen, co__r);                                           \
        if (!(caught) && CO_THROWN(self))                                                  \
            CO_RAISE(self, CO_THROWN(self));                                               \
    } while (0)

/* A task's suspension: a thrown cancellation unwinds unless caught. */
#define CO__SUSPEND_TASK(self, caught) CO__SUSPEND(self, CO__K, caught)

#ifdef __cplusplus
}
#endif

/* Names, all_tasks and stacks; CO_ASYNC records its body's name with it. */
#include <corio/inspect.h>

#endif /* CORIO_SCHED_H */
