/*
 * reactor.h -- the POSIX reactor's insides: the fd table, the readiness
 * backends' interface, the cross-thread wake-up, and the hooks the socket,
 * file and signal code use.
 *
 * A backend (epoll.c, kqueue.c, poll.c) only watches fds and reports which
 * are ready; it knows nothing of tasks.  reactor.c owns the fd table and
 * turns readiness into woken tasks.
 */
#ifndef CORIO_REACTOR_H
#define CORIO_REACTOR_H

#include <corio/corio.h>

#include "sched/loop.h"

#include <stdatomic.h>

typedef struct co_reactor co_reactor;

/*
 * A subsystem of the reactor (files, signals, ...): the reactor knows one
 * only through these hooks, attached with co__reactor_attach when the
 * subsystem is first used, so reactor.c names none of them.  Any hook may
 * be NULL.  Hooks run in the order of attachment; fini in reverse.
 */
typedef struct co__subsys {
    uint8_t wait;                             /* the co_task.wait kind it owns, or 0  */
    void (*drain)(co_reactor *r);             /* a wake-up arrived: look for work    */
    bool (*cancel)(co_reactor *r, co_task *t); /* as co_io_ops.cancel, for its kind  */
    void (*run_begin)(co_reactor *r);         /* co_run starts                       */
    int (*run_end)(co_reactor *r, int rc);    /* co_run ends: may change its result  */
    void (*fini)(co_reactor *r);              /* the loop is freed                   */
} co__subsys;

#define CO__SUBSYS_MAX 8

/* One slot per fd number. */
typedef struct co_fd {
    co_task *reader, *writer; /* tasks waiting for readable / writable     */
    uint32_t gen;             /* bumped when the fd is forgotten, so events
                                 for an old fd with a reused number drop   */
    uint8_t watched;          /* CO_READABLE | CO_WRITABLE the backend has  */
    bool drained;             /* a read found the kernel's buffer empty and
                                 no readiness was reported since           */
} co_fd;

/* The interface every backend implements. */
typedef struct co_backend {
    const char *name;
    int (*init)(co_reactor *r);
    void (*fini)(co_reactor *r);
    /* Makes the backend watch fd for `events` (0: not at all), having
     * watched `old` before.  0 or a negative errno. */
    int (*watch)(co_reactor *r, int fd, uint32_t gen, unsigned old, unsigned events);
    /* Waits at most timeout_ns (-1: no limit) and calls co__fd_ready for
     * each ready fd.  The number of fds reported (0: it found nothing in
     * the whole timeout), CO__WAIT_CUT_SHORT when a signal ended it early
     * (EINTR is not an error), or a negative errno. */
    int (*wait)(co_reactor *r, int64_t timeout_ns);
} co_backend;

extern const co_backend co__epoll_backend;
extern const co_backend co__poll_backend;
extern const co_backend co__kqueue_backend;

/* Marks an fd whose readiness the backend reports for the wake-up. */
#define CO__WAKE_GEN UINT32_MAX

struct co_reactor {
    co_loop *loop;
    const co_backend *backend;
    union { /* the backend's own state */
        struct {
            int fd;
            void *events;
            int nevents;
        } epoll;
        struct {
            int fd;
            void *events;
            int nevents;
        } kqueue;
        struct poll_state *poll;
    } b;
    co_fd *fds;
    int nfds;
    size_t fd_waiters; /* tasks waiting on fds */
    size_t jobs;       /* file jobs in flight  */
    int workers;       /* file worker threads wanted (0: the default) */
    int wake_rd, wake_wr; /* eventfd (both the same) or a pipe */
    atomic_int wake_pending;
    _Atomic(co_call *) calls; /* threadsafe calls, newest first */
    atomic_uint signals;      /* pending signal numbers, one bit each */
    co_event *sig_events[32];
    int sigint_count;
    bool sigint_installed;
    void *fs; /* the file worker pool (fs.c) */
    const co__subsys *subsys[CO__SUBSYS_MAX];
    int nsubsys;
    unsigned forks; /* the process's fork count when it was made */
};

co_reactor *co__reactor(co_loop *loop);

/* Whether r was made by an ancestor of this process and inherited through
 * fork: its kernel objects (the epoll set, the wake fd, an io_uring) are
 * shared with the parent and its threads are gone, so the child only frees
 * it, touching none of them (docs/asyncio.md, "fork"). */
bool co__reactor_inherited(const co_reactor *r);

/* Reported by a backend: fd (of generation gen) is ready for `events`;
 * CO__FD_ERROR wakes both directions. */
#define CO__FD_ERROR 4u
void co__fd_ready(co_reactor *r, int fd, uint32_t gen, unsigned events);

/*
 * The drained bit.  A read that got fewer bytes than it asked for emptied
 * the fd's kernel buffer, so the next read would most likely fail with
 * EAGAIN: a keep-alive server's read after each reply does.  The reader
 * marks the fd drained, and the next read waits for readiness first.  The
 * backends are level-triggered, so bytes that came in between are
 * reported by the very next poll: the wait costs a loop turn, never a lost
 * wake-up.  The bit only counts while the backend watches the fd for
 * reading -- then the wait is free; otherwise it would cost a watch call,
 * and trying the read is cheaper -- and readiness or an error reported for
 * the fd, or its close, clears it.  A TLS session buffers bytes above the
 * fd, so TLS reads neither set nor honour it.
 */
static inline void co__fd_set_drained(co_reactor *r, int fd)
{
    if (r && fd >= 0 && fd < r->nfds && (r->fds[fd].watched & CO_READABLE))
        r->fds[fd].drained = true;
}

/* Whether a read on fd should wait for readiness before it tries. */
static inline bool co__fd_drained(const co_reactor *r, int fd)
{
    return r && fd >= 0 && fd < r->nfds && r->fds[fd].drained && (r->fds[fd].watched & CO_READABLE);
}

/* Current task waits until fd is ready for dir (CO_READABLE or
 * CO_WRITABLE): 0 (suspend), or an error. */
int co__fd_wait(co_loop *loop, int fd, unsigned dir);

/* The wake-up is due: drain the wake fd, run threadsafe calls, signals. */
void co__reactor_woken(co_reactor *r);

/* Attaches a subsystem once (again: nothing happens). 0 or CO_EBUSY when
 * the table is full. */
int co__reactor_attach(co_reactor *r, const co__subsys *s);

/* Sets up the reactor of a loop on a backend, and tears it down: the
 * loop's co_io_ops are the reactor's from then on (create.c). */
int co__reactor_init(co_reactor *r, co_loop *loop, const co_backend *backend, int workers);

/* Signals (signal.c): attached to every loop when it is created, since
 * co_run handles SIGINT as asyncio.run does. */
int co__signals_attach(co_reactor *r);

#endif /* CORIO_REACTOR_H */
