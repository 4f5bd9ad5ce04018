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

/* One slot per fd number. */
typedef struct co_fd {
    co_task *reader, *writer; /* tasks waiting for readable / writable     */
    uint32_t gen;             /* bumped when the fd is forgotten, so events
                                 for an old fd with a reused number drop   */
    uint8_t watched;          /* CO_READABLE | CO_WRITABLE the backend has  */
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
     * each ready fd.  0 or a negative errno (EINTR is not an error). */
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
};

co_reactor *co__reactor(co_loop *loop);

/* Reported by a backend: fd (of generation gen) is ready for `events`;
 * CO__FD_ERROR wakes both directions. */
#define CO__FD_ERROR 4u
void co__fd_ready(co_reactor *r, int fd, uint32_t gen, unsigned events);

/* Current task waits until fd is ready for dir (CO_READABLE or
 * CO_WRITABLE): 0 (suspend), or an error. */
int co__fd_wait(co_loop *loop, int fd, unsigned dir);

/* The wake-up is due: drain the wake fd, run threadsafe calls, signals. */
void co__reactor_woken(co_reactor *r);

/* File jobs (fs.c). */
void co__fs_fini(co_reactor *r);
bool co__fs_cancel(co_reactor *r, co_task *t);
void co__fs_drain(co_reactor *r);

/* Signals (signal.c). */
void co__signals_dispatch(co_reactor *r);
void co__sigint_begin(co_reactor *r);
int co__sigint_end(co_reactor *r, int rc);
void co__signals_fini(co_reactor *r);

#endif /* CORIO_REACTOR_H */
