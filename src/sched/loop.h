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

#include <corio/sched.h>

/* ------------------------------------------------------------ timer heap */

typedef struct co_heap_entry {
    int64_t deadline;
    co_timer *timer;
} co_heap_entry;

/* A 4-ary min-heap on (deadline, seq); each timer knows its slot. */
typedef struct co_heap {
    co_heap_entry *a;
    uint32_t n, cap;
} co_heap;

struct co_loop;
int co__heap_push(struct co_loop *loop, co_timer *t, int64_t deadline);
void co__heap_remove(struct co_loop *loop, co_timer *t);
void co__heap_free(struct co_loop *loop);
static inline bool co__heap_empty(const co_heap *h) { return h->n == 0; }
static inline int64_t co__heap_top_deadline(const co_heap *h) { return h->a[0].deadline; }

/* What a fired timer means (co_timer.kind). */
enum {
    CO__TIMER_SLEEP = 1, /* wakes the task that owns it     */
    CO__TIMER_DEADLINE,  /* a co_deadline: cancels its target */
    CO__TIMER_CALLBACK   /* a co__callback_timer            */
};

typedef struct co__callback_timer {
    co_timer timer;
    void (*fn)(void *arg);
    void *arg;
} co__callback_timer;

/* ------------------------------------------------------- the task pool */

#define CO__POOL_CLASSES 64 /* blocks of 16, 32, ... 1024 bytes */

typedef struct co_pool {
    void *free[CO__POOL_CLASSES];  /* freed blocks, linked through their first word */
    char *bump[CO__POOL_CLASSES];  /* the next fresh block of each class             */
    char *end[CO__POOL_CLASSES];   /* the end of that class's current chunk          */
    struct chunk *chunks;
} co_pool;

void *co__pool_alloc(struct co_loop *loop, size_t size);
void co__pool_free(struct co_loop *loop, void *block, size_t size);
void co__pool_fini(struct co_loop *loop);

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

/* The reactor's side of the loop; NULL on a bare scheduler. */
typedef struct co_io_ops {
    /* Waits for I/O for at most timeout_ns (-1: no limit), readying tasks. */
    int (*wait)(struct co_loop *loop, int64_t timeout_ns);
    /* A task waiting on the reactor is cancelled: stop waiting for it.
     * False when it must stay suspended (its job still runs in a worker). */
    bool (*cancel)(struct co_loop *loop, co_task *t);
    /* co_run starts and ends: SIGINT handling. end may turn rc into
     * CO_EINTERRUPTED. */
    void (*run_begin)(struct co_loop *loop);
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
    co_task **tasks; /* every live task: for shutdown and groups */
    uint32_t ntasks, cap_tasks;
    uint8_t state; /* CO__LOOP_* */
    bool autojump;
    int io_error; /* the reactor failed: co_run gives up and returns it */
    const co_io_ops *io;
    void *reactor; /* the reactor's state */
    const char *backend_name;
    co_pool pool;
    const co__wait_ops *waits[CO__W_KINDS]; /* see co__wait_ops */
    uintptr_t stack_top; /* co_run's frame: task bodies run below it (stack.c) */
    co_exception_handler on_error, on_error_default; /* report.c */
    void *on_error_arg;
};

enum { CO__LOOP_OPEN, CO__LOOP_RUNNING, CO__LOOP_CLOSED };

/* ------------------------------------------------- scheduler internals */

static inline co_gen *co__frame(co_task *t) { return (co_gen *)(void *)(t + 1); }
static inline co_task *co__task(const co_gen *frame) { return (co_task *)(void *)frame - 1; }

/* Memory through the allocator hook (alloc.c). */
void *co__alloc(co_loop *loop, size_t size);
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

/* Reports t to the exception handler if it failed and nobody read its
 * error (report.c); co__mark_read says someone did. */
void co__report_unread(co_loop *loop, co_task *t);
static inline void co__mark_read(co_task *t) { t->wait_on = t; }

/* The registry of live tasks (loop.c). */
int co__register_task(co_loop *loop, co_task *t);
void co__unregister_task(co_loop *loop, co_task *t);
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

/* Appends t to the ready queue; co__pop_ready takes the first. */
void co__make_ready(co_loop *loop, co_task *t);
co_task *co__pop_ready(co_loop *loop);
/* Like co__make_ready for a task leaving a wait queue. */
void co__wake(co_loop *loop, co_task *t);
/* The running loop of this thread (set by co_run). */
co_loop *co__loop(void);
void co__set_running(co_loop *loop);
/* The clock, never going back (the hook's or the platform's). */
int64_t co__read_clock(co_loop *loop);
/* The platform's monotonic clock in ns (0 where there is none: set a hook). */
int64_t co__platform_clock(void);
/* Sets up and tears down the scheduler's part of a loop. */
int co__loop_init(co_loop *loop, const co_loop_options *opt);
void co__loop_fini(co_loop *loop);

/* Wait queues (FIFO, singly linked through co_task.next), owned by sync.c. */
void co__waitq_push(co_waitq *q, co_task *t);
co_task *co__waitq_pop(co_waitq *q);
bool co__waitq_remove(co_waitq *q, co_task *t);
/* Tasks (task.c): one step of t; a gather or group letting go of c. */
void co__run_task(co_loop *loop, co_task *t);
void co__let_go(co_loop *loop, co_task *c);

#endif /* CORIO_LOOP_H */
