/*
 * loop.h -- the loop's insides, shared by the scheduler (src/sched/) and the
 * POSIX reactor (src/reactor/, src/backend/).
 *
 * Inside the scheduler the arrows point one way: alloc, heap and pool at the
 * bottom; loop.c (ready queue, registry, clock); task.c; turn.c on top; the
 * combinators (sync, gather, deadline, group) beside turn.c, reached by the
 * task core only through co__wait_ops and co__join_ops.
 *
 * Data flows one way: the public API calls into the scheduler, the scheduler
 * calls the reactor through `co_io_ops` when it has nothing ready, and the
 * reactor hands woken tasks back with co__make_ready().
 */
#ifndef CORIO_LOOP_H
#define CORIO_LOOP_H

#include <corio/future.h>
#include <corio/sched.h>
#include <corio/sync.h>

/* ------------------------------------------------------------ timer heap */

/* A heap entry keeps the timer's seq too: with many equal deadlines (ms
 * sleeps), breaking ties must not read the timers themselves. */
typedef struct co_heap_entry {
    int64_t deadline;
    uint32_t seq;
    co_timer *timer;
} co_heap_entry;

/* The lane's entries are in firing order already. */
typedef struct co_lane_entry {
    int64_t deadline;
    co_timer *timer;
} co_lane_entry;

/*
 * The timers: a 4-ary min-heap on (deadline, seq), and beside it the lane,
 * a ring of timers in firing order -- one armed no earlier than the lane's
 * last goes there in O(1) (sleeps of one length, read from a clock that
 * only goes forward, all do).  A timer's slot says where it is: heap index
 * + 1, or CO__LANE | its lane position (head and tail count positions
 * without wrapping back; an entry sits at position & (lane_cap - 1)).
 * A timer cancelled from the lane leaves a hole (timer NULL) that popping
 * skips; the head is never a hole.
 */
typedef struct co_heap {
    co_heap_entry *a;
    uint32_t n, cap;
    co_lane_entry *lane;
    uint32_t head, tail, lane_cap, live;
} co_heap;
#define CO__LANE 0x80000000u

struct co_loop;
int co__heap_push(struct co_loop *loop, co_timer *t, int64_t deadline);
void co__heap_disarm(struct co_loop *loop, co_timer *t);
/* Disarms t; a no-op when it is not armed (a finished sleeper's timer: no
 * call then). */
static inline void co__heap_remove(struct co_loop *loop, co_timer *t)
{
    if (t->slot)
        co__heap_disarm(loop, t);
}
void co__heap_free(struct co_loop *loop);
/* The timer due at `now`, disarmed (NULL: none); the earliest deadline
 * (some timer must be armed); an armed timer's deadline. */
co_timer *co__heap_pop_due(struct co_loop *loop, int64_t now);
int64_t co__heap_top_deadline(const co_heap *h);
int64_t co__heap_deadline(const co_heap *h, const co_timer *t);
static inline bool co__heap_empty(const co_heap *h) { return h->n == 0 && h->head == h->tail; }

/* What a fired timer means (co_timer.kind). */
enum {
    CO__TIMER_SLEEP = 1, /* wakes the task that owns it     */
    CO__TIMER_DEADLINE,  /* a co_deadline: cancels its owner   */
    CO__TIMER_CALLBACK,  /* a co__callback_timer            */
    CO__TIMER_HANDLE     /* call_later: runs the co_handle whose header's
                            timer it is, through loop->run_call */
};

typedef struct co__callback_timer {
    co_timer timer;
    void (*fn)(void *arg);
    void *arg;
} co__callback_timer;

/* ------------------------------------------------------- the build */

/*
 * CO_BARE: built for a target with no operating system and no libc (a
 * Cortex-M, an AVR...).  On by default where the compiler targets neither
 * Unix, Apple nor Windows; -DCO_BARE=0 or =1 overrides that.  A bare build
 * includes no libc header and calls no library function: the running loop is
 * a plain static (no thread-local storage), the clock, alloc and free hooks
 * are required, co_strerror has no errno texts, and memory is zeroed and
 * copied by loops the compiler may not turn into memset or memcpy calls.
 */
#ifndef CO_BARE
#if defined(__unix__) || defined(__APPLE__) || defined(_WIN32)
#define CO_BARE 0
#else
#define CO_BARE 1
#endif
#endif

/* The turn's hot path (the ready queue, the registry, the clock) is inlined
 * where it is used on a hosted build; a bare build, whose flash is counted
 * in bytes, keeps one copy of each, which loop.c defines. */
#if !CO_BARE
#define CO__HOT static inline
#else
#define CO__HOT
#endif

/* Marks a rare path that a hot function calls: kept out of line on a
 * hosted build, so that the common path saves fewer registers; at -Os
 * (firmware) left to the compiler, whose choice is smaller there. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define CO__OUT_OF_LINE __attribute__((noinline))
#else
#define CO__OUT_OF_LINE
#endif

/* Zeroes or copies n bytes (alloc.c); on a bare build never a call to
 * memset or memcpy.  A hosted build zeroes inline with the library's memset:
 * every CO_NEW zeroes its frame, and a call around the call cost it five
 * instructions. */
#if CO_BARE
void co__zero(void *p, size_t n);
#else
#include <string.h>
static inline void co__zero(void *p, size_t n)
{
    if (n)
        memset(p, 0, n);
}
#endif
void co__bytecopy(void *dst, const void *src, size_t n);
void co__bytemove(void *dst, const void *src, size_t n); /* ranges may overlap */

/* ------------------------------------------------------- the task pool */

#include "pool.h"

/* ------------------------------------------------------------ the loop */

/* What a suspended task waits on (co_task.wait); wait_on says which one. */
enum {
    CO__W_NONE,
    CO__W_READY,  /* in the ready queue                          */
    CO__W_TIMER,  /* sleeping on its own timer                   */
    CO__W_TASK,   /* awaiting the task wait_on                   */
    CO__W_GATHER, /* the owner of the co_gather wait_on          */
    CO__W_GROUP,  /* the owner of the co_group wait_on           */
    CO__W_EVENT,  /* in the wait queue of co_event wait_on       */
    CO__W_LOCK,
    CO__W_SEM,
    CO__W_QGET,
    CO__W_QPUT,
    CO__W_FD,     /* on the reactor: wait_on encodes fd and direction */
    CO__W_JOB,    /* on a file job running in a worker thread        */
    CO__W_FUTURE, /* in a co_future's waiters: wait_on its record (future.c) */
    CO__W_COND,     /* a Condition waiter: wait_on its record (sync_cond.c) */
    CO__W_CONDLOCK, /* the same, taking the condition's lock back        */
    CO__W_BARRIER,  /* a Barrier waiter: wait_on its record (barrier.c)  */
    CO__W_SHIELD, /* among the awaiters of task wait_on, not reading it (shield.c) */
    CO__W_WAIT,   /* the owner of the co_wait wait_on (wait.c)                    */
    CO__W_KINDS
};

/*
 * What the task core does with a task suspended on one of the kinds above
 * that it does not own (sync, gather, groups): the code that suspends a
 * task that way stores its ops in loop->waits[kind] first, so the core
 * never names the combinators above it.
 */
typedef struct co__wait_ops {
    /* t, suspended on this kind, is cancelled: unhook it.  False when it
       stays suspended until what it waits on lets it go. */
    bool (*cancel)(struct co_loop *loop, co_task *t);
    /* t was woken from this kind but is cancelled before it ran: pass the
       wake-up on (NULL: nothing to pass on). */
    void (*pass_on)(struct co_loop *loop, co_task *t);
} co__wait_ops;

/*
 * The joiner a task reports to when it finishes (co_task.group): a gather
 * or a task group, whose first member (`ops`) points at this.
 */
typedef struct co__join_ops {
    void (*member_done)(struct co_loop *loop, void *joiner, co_task *member);
} co__join_ops;

/*
 * What the loop calls of the async generators (agen.c), once one started:
 * a task's block is being freed (close those in its frame); co_run ends
 * (close_all starts a finalizer task for each one still suspended, true if
 * it started any; forget lets go of the rest once those ran).
 */
struct co_agen;
typedef struct co__agen_ops {
    void (*drop)(struct co_loop *loop, co_task *t);
    bool (*close_all)(struct co_loop *loop);
    void (*forget)(struct co_loop *loop);
} co__agen_ops;

/* co_task.flags */
enum {
    CO__T_ALLOCATED = 0x01, /* from co_task_new: the loop frees it      */
    CO__T_RELEASED = 0x02,  /* its owner let go: free it when done      */
    CO__T_SPAWNED = 0x04,   /* scheduled at least once                  */
    CO__T_DONE = 0x08,
    CO__T_CANCEL = 0x10, /* throw CO_ECANCELLED at its next resume   */
    CO__T_WOKEN = 0x20,  /* woken by a wait queue: pass the wake-up on
                            if it is cancelled before it runs       */
    CO__T_HANDED = 0x40, /* a lock or permit was handed to it       */
    CO__T_LISTED = 0x80, /* in the loop's registry                  */
};

/* What a wait that a signal interrupted returns (co_io_ops.wait). */
#define CO__WAIT_CUT_SHORT 1

/* The reactor's side of the loop; NULL on a bare scheduler. */
typedef struct co_io_ops {
    /* Waits for I/O for at most timeout_ns (-1: no limit), readying tasks.
     * 0 when it found nothing, > 0 when it found something or was cut
     * short (CO__WAIT_CUT_SHORT: a signal), a negative code on failure.
     * Only 0 lets an autojump loop jump its clock. */
    int (*wait)(struct co_loop *loop, int64_t timeout_ns);
    /* A task waiting on the reactor is cancelled: stop waiting for it.
     * False when it must stay suspended (its job still runs in a worker). */
    bool (*cancel)(struct co_loop *loop, co_task *t);
    /* co_run starts and ends: SIGINT handling.  begin may refuse the run
     * (a negative code: co_run returns it); end may turn rc into
     * CO_EINTERRUPTED. */
    int (*run_begin)(struct co_loop *loop);
    int (*run_end)(struct co_loop *loop, int rc);
    /* Whether any task waits on the reactor (fds, jobs, signals). */
    bool (*busy)(struct co_loop *loop);
    void (*fini)(struct co_loop *loop);
} co_io_ops;

struct co_loop {
    co_hooks hooks;
    co_task *ready_head, *ready_tail;
    size_t nready;
    co_heap timers;
    uint32_t timer_seq;
    int64_t now;
    co_task *current;
    co_task *main;
    /* every live task, for shutdown and groups, in the order listed: a
       task that leaves leaves a NULL (see co__unregister_task) */
    co_task **tasks;
    uint32_t ntasks, cap_tasks; /* slots in use (the last one live), made   */
    uint32_t dead_tasks;        /* the NULLs among the ntasks                */
    uint32_t created; /* tasks listed so far: Task-N's N (co_task.id) */
    /* A task's name, by registry slot (inspect.c, allocated when the first
     * is set); the hooks keep it in step as a task leaves the registry
     * (NULL: the loop ends) and as the registry closes up its gaps. */
    char **names;
    uint32_t cap_names;
    void (*unlisting)(struct co_loop *loop, co_task *t);
    void (*relisting)(struct co_loop *loop, uint32_t from, uint32_t to);
    uint8_t state; /* CO__LOOP_* */
    bool autojump;
    bool turn_clock; /* co_loop_options.turn_clock: co__deadline_after reads no clock */
    int io_error; /* the reactor failed: co_run gives up and returns it */
    const co_io_ops *io;
    void *reactor; /* the reactor's state */
    const char *backend_name;
    co_pool pool;
    const co__wait_ops *waits[CO__W_KINDS]; /* see co__wait_ops */
    /* Runs a callback entry of the ready queue (callback.c sets it). */
    void (*run_call)(struct co_loop *loop, co_task *entry);
    co_task *round_last; /* the last entry the current round runs, or NULL */
    uintptr_t stack_top; /* co_run's frame: task bodies run below it (stack.c) */
    co_exception_handler on_error, on_error_default; /* report.c */
    void *on_error_arg;
    struct co_agen *agens; /* async generators started and not finished (agen.c) */
    const co__agen_ops *agen_ops;
    struct co_agen *agen_driving; /* the generator an await is driving now */
#if CO__LOOP_ID
    uint16_t id; /* its number in co__loops, which its tasks keep */
#endif
};

enum { CO__LOOP_OPEN, CO__LOOP_RUNNING, CO__LOOP_CLOSED };

/*
 * The loop a task belongs to.  On 64-bit a task keeps its loop's number in
 * its timer's padding (co_timer.co__owner): 2 bytes instead of a pointer's
 * 8 make the header 64 bytes.  co__loops maps the numbers of the loops alive
 * in the process (any thread) to them; 0 is no loop -- a callback's header
 * (callback.c), whose node is not a task.  A loop takes a number in
 * co__loop_init and gives it back in co__loop_fini (loop.c).
 */
#if CO__LOOP_ID
#define CO__LOOPS_MAX 65536 /* numbers 1 .. 65535: loops alive at once */
extern co_loop *co__loops[CO__LOOPS_MAX];
static inline co_loop *co__task_loop(const co_task *t) { return co__loops[t->timer.co__owner]; }
static inline void co__set_task_loop(co_task *t, const co_loop *loop)
{
    t->timer.co__owner = loop ? loop->id : 0;
}
/* Whether a ready-queue entry is a task, not a callback (no loop read). */
static inline bool co__is_task(const co_task *t) { return t->timer.co__owner != 0; }
#else
static inline co_loop *co__task_loop(const co_task *t) { return t->loop; }
static inline void co__set_task_loop(co_task *t, co_loop *loop) { t->loop = loop; }
static inline bool co__is_task(const co_task *t) { return t->loop != NULL; }
#endif

/* ------------------------------------------------- scheduler internals */

/*
 * Where a task's block came from, in its header's co_timer.co__byte: 0 for
 * caller storage; for a block of the pool, its size in grains (its class +
 * 1); CO__BLOCK_BIG for a block larger than the pool's, from the allocator
 * itself, whose size is kept in the CO__BIG_PREFIX bytes before the header
 * (a size_t, and room for the header's alignment).  A byte instead of a
 * 4-byte size in every header leaves room for the task's number (co_task.id).
 */
#define CO__BLOCK_BIG 0xFF
#define CO__BIG_PREFIX                                                                     \
    (((sizeof(size_t) + _Alignof(co_task) - 1) / _Alignof(co_task)) * _Alignof(co_task))
static inline size_t co__task_bytes(const co_task *t)
{
    uint8_t b = t->timer.co__byte;
    if (b == CO__BLOCK_BIG)
        return *(const size_t *)(const void *)((const char *)t - CO__BIG_PREFIX);
    return (size_t)b * CO_POOL_GRAIN;
}
/* Frees the block of a task the loop allocated (loop.c). */
void co__free_block(struct co_loop *loop, co_task *t);

/* The largest frame co_task_new takes: its block's size with the prefix
 * fits a uint32_t and a size_t, whichever is smaller -- a constant within
 * size_t's range, so a 16-bit target compares it without a warning. */
#define CO__FRAME_MAX \
    ((SIZE_MAX < UINT32_MAX ? SIZE_MAX : (size_t)UINT32_MAX) - sizeof(co_task) - CO__BIG_PREFIX)

static inline co_gen *co__frame(co_task *t) { return (co_gen *)(void *)(t + 1); }
static inline co_task *co__task(const co_gen *frame) { return (co_task *)(void *)frame - 1; }

/* Memory through the allocator hook (alloc.c).  co__realloc keeps the
 * first min(old, size) bytes; on failure p is left as it was. */
void *co__alloc(co_loop *loop, size_t size);
#if !CO_BARE
/* The same for a block of CO__HUGE_SPAN bytes or a multiple of it (a big
 * pool chunk): the default allocator aligns it to that, so that all of it
 * may be huge pages. */
void *co__alloc_spans(co_loop *loop, size_t size);
#define CO__HUGE_SPAN ((size_t)2 << 20)
#endif
void *co__realloc(co_loop *loop, void *p, size_t old, size_t size);
void co__free(co_loop *loop, void *p, size_t size);

/* Whether p points into the part of the C stack that task bodies reuse
 * between resumes (below co_run's frame), on gcc and clang (stack.c). */
bool co__on_stack(const co_loop *loop, const void *p);
/* The current task's scope stack (co_task.scope): the state objects of its
 * wait-fors, groups and socket operations in progress (stack.c). */
void co__scope_push(co_task *t, void *obj, void **outer);
/* A deadline around an await, without the scope (deadline.c, io.c). */
int co__deadline_arm(co_deadline *d, co_gen *target, int64_t ns);
int co__deadline_end(co_deadline *d, int err);
/* Ends a gather now: its children let go (a subsystem's own gather). */
int co__gather_end(co_gather *g);

/* Reports t to the exception handler if it failed and nobody read its
 * error (report.c); co__mark_read says someone did. */
void co__report_unread(co_loop *loop, co_task *t);
static inline void co__mark_read(co_task *t) { t->wait_on = t; }

/* The registry of live tasks (loop.c).  Listing a task gives it its number
 * (co_task.id: 1, 2, ... in the order of listing). */
/* Room for one more in a full registry (loop.c): its gaps closed up when
 * they are half of it, else it doubles; CO_ENOMEM when there is no room. */
int co__registry_room(co_loop *loop);
/* Drops the gaps at the registry's end, whose last slot just emptied. */
void co__trim_registry(co_loop *loop);
CO__HOT int co__register_task(co_loop *loop, co_task *t);
/* t leaves the list: O(1), the others keep their order. */
CO__HOT void co__unregister_task(co_loop *loop, co_task *t);
/* Reports t if its error went unread, unregisters it, and frees its block
 * if the loop allocated it. */
void co__free_task(co_loop *loop, co_task *t);
/* Records what the current task t now waits on (a fresh wait: whatever an
 * earlier wake-up left in woke_from is forgotten). */
static inline void co__wait_for(co_task *t, uint8_t kind, void *obj)
{
    t->wait = kind;
    t->wait_on = obj;
    t->woke_from = 0;
}

/* Appends t to the ready queue; co__pop_ready takes the first.
 * An entry that is no task (co__is_task) but a callback (a co_handle,
 * callback.c): the turn runs it with loop->run_call instead of a step. */
CO__HOT void co__make_ready(co_loop *loop, co_task *t);
CO__HOT co_task *co__pop_ready(co_loop *loop);
/* Takes entry t out of the ready queue (a cancelled callback); false if it
 * is not there. */
bool co__unready(co_loop *loop, co_task *t);
/* Like co__make_ready for a task leaving a wait queue. */
void co__wake(co_loop *loop, co_task *t);
/* The running loop of this thread (set by co_run), read at every await.
 * A bare build has one thread: a plain static, no thread-local storage
 * (which firmware's startup code rarely sets up).  Elsewhere the
 * initial-exec model makes the read one load from the thread pointer
 * instead of a __tls_get_addr call in the shared library (glibc keeps
 * room for it even when libcorio is dlopen-ed).  -DCO_THREAD_LOCAL=...
 * overrides the choice. */
#if !defined(CO_THREAD_LOCAL) && (CO_BARE || defined(__STDC_NO_THREADS__))
#define CO_THREAD_LOCAL
#elif !defined(CO_THREAD_LOCAL) && (defined(__GNUC__) || defined(__clang__))
#define CO_THREAD_LOCAL _Thread_local __attribute__((tls_model("initial-exec")))
#elif !defined(CO_THREAD_LOCAL)
#define CO_THREAD_LOCAL _Thread_local
#endif
extern CO_THREAD_LOCAL co_loop *co__running;
static inline co_loop *co__loop(void) { return co__running; }
void co__set_running(co_loop *loop);
/* The platform's monotonic clock in ns (0 where there is none: set a hook).
 * Inline where there is one: every sleep reads it (co__deadline_after). */
#if !CO_BARE && (defined(__unix__) || defined(__APPLE__))
#include <time.h>
#endif
#if !CO_BARE && defined(CLOCK_MONOTONIC)
static inline int64_t co__platform_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#else
int64_t co__platform_clock(void);
#endif
/* The clock (the hook's or the platform's), never going back whatever the
 * hook or a jump did.  Inline with co__deadline_after: every sleep reads it. */
CO__HOT int64_t co__read_clock(co_loop *loop);
/*
 * The deadline ns (>= 0) from now: from the time of the call, not the
 * turn's cached clock, so that a sleep or a timeout never ends early.  The
 * turn's clock (loop->now) is read after the wait, so it is as old as the
 * time the tasks of this round have run: a task that computed for 30 ms and
 * then slept 20 ms would wake after 20 ms of turn time, 10 ms after its call.
 * Arming a timer therefore reads the clock again (asyncio reads it at the
 * call too): one clock_gettime, a vDSO call of some 25 instructions but
 * ~33 ns on a VM.  The fresh time becomes the loop's, so co_now stays
 * consistent with the deadlines set from it.  A loop made with turn_clock
 * opts out: the deadline is the turn's clock + ns, as libev's timers.
 */
CO__HOT int64_t co__deadline_after(co_loop *loop, int64_t ns);
/* Sets up and tears down the scheduler's part of a loop. */
int co__loop_init(co_loop *loop, const co_loop_options *opt);
void co__loop_fini(co_loop *loop);

/* Wait queues (FIFO, singly linked through co_task.next), owned by sync.c
 * (the primitives' shared helpers are in sync_wait.h). */
void co__waitq_push(co_waitq *q, co_task *t);
co_task *co__waitq_pop(co_waitq *q);
bool co__waitq_remove(co_waitq *q, co_task *t);
/* Tasks (task.c): one step of t. */
void co__run_task(co_loop *loop, co_task *t);
/* A gather or group lets go of c: it stops reporting there, and is freed if
 * it was released while held (finished) -- the rare case, the only one that
 * needs c's loop.  Inline: a gather's end runs it for every child. */
static inline void co__let_go(co_task *c)
{
    c->group = NULL;
    if ((c->flags & (CO__T_RELEASED | CO__T_DONE)) == (CO__T_RELEASED | CO__T_DONE))
        co__free_task(co__task_loop(c), c);
}

/* --------------------------------------------------- the hot path's bodies */

#if !CO_BARE || defined(CO__LOOP_C)
CO__HOT int co__register_task(co_loop *loop, co_task *t)
{
    if (loop->ntasks == loop->cap_tasks && co__registry_room(loop) < 0)
        return CO_ENOMEM;
    t->flags |= CO__T_LISTED;
    t->reg = loop->ntasks;
    t->id = ++loop->created;
    loop->tasks[loop->ntasks++] = t;
    return 0;
}

/* The slot is left NULL, not filled with the last task: moving that one
 * would touch a block no one else touches then (at a million tasks, a
 * cache miss per release), and the list keeps its order.  The gaps close
 * when the registry is full (co__registry_room) or all of it is gaps. */
CO__HOT void co__unregister_task(co_loop *loop, co_task *t)
{
    if (!(t->flags & CO__T_LISTED))
        return;
    t->flags &= (uint8_t)~CO__T_LISTED;
    if (loop->unlisting) /* its name goes */
        loop->unlisting(loop, t);
    loop->tasks[t->reg] = NULL;
    if (++loop->dead_tasks == loop->ntasks)
        loop->ntasks = loop->dead_tasks = 0;
    else if (t->reg + 1 == loop->ntasks)
        co__trim_registry(loop);
}

CO__HOT void co__make_ready(co_loop *loop, co_task *t)
{
    t->wait = CO__W_READY;
    t->next = NULL;
    if (loop->ready_tail)
        loop->ready_tail->next = t;
    else
        loop->ready_head = t;
    loop->ready_tail = t;
    loop->nready++;
}

CO__HOT co_task *co__pop_ready(co_loop *loop)
{
    co_task *t = loop->ready_head;
    loop->ready_head = t->next;
    if (loop->ready_head == NULL)
        loop->ready_tail = NULL;
    loop->nready--;
    t->next = NULL;
    return t;
}

CO__HOT int64_t co__read_clock(co_loop *loop)
{
    int64_t now = loop->hooks.clock ? loop->hooks.clock(loop->hooks.ctx) : co__platform_clock();
    return now > loop->now ? now : loop->now;
}

CO__HOT int64_t co__deadline_after(co_loop *loop, int64_t ns)
{
    if (!loop->turn_clock)
        loop->now = co__read_clock(loop);
    return ns > INT64_MAX - loop->now ? INT64_MAX : loop->now + ns;
}
#endif

#endif /* CORIO_LOOP_H */
