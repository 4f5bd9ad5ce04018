/*
 * corio/corio.h -- the POSIX reactor: asyncio's event loop for C.
 *
 * Include this one header for everything: the generator core (gen.h), tasks,
 * time and synchronisation (sched.h), sockets (net.h), files (fs.h), host
 * names (dns.h), datagrams (udp.h), subprocesses (process.h), and the
 * pieces declared here: waiting for fds, waking a loop from another thread
 * or a signal handler, and signals as awaitable events.  A loop lives in one
 * thread; scale across cores with one loop per thread.
 *
 * The readiness backend is epoll on Linux, kqueue on the BSDs and macOS and
 * poll elsewhere; co_loop_options.backend or the CORIO_BACKEND environment
 * variable picks another one ("epoll", "kqueue", "poll") for testing.
 */
#ifndef CORIO_CORIO_H
#define CORIO_CORIO_H

#include <corio/gen.h>
#include <corio/sched.h>
#include <corio/future.h>
#include <corio/sync.h>
#include <corio/agen.h>
#include <corio/inspect.h>
#include <corio/wait.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The backend a loop uses: "epoll", "kqueue" or "poll". */
CO_API const char *co_loop_backend(const co_loop *loop);

/* ------------------------------------------------------------ readiness */

enum { CO_READABLE = 1, CO_WRITABLE = 2 };

/* await until fd is readable / writable (or has an error or hang-up).
 * One task at a time may wait for each direction of an fd (CO_EBUSY). */
#define CO_WAIT_READABLE(self, fd) CO__WAIT_FD(self, fd, CO_READABLE)
#define CO_WAIT_WRITABLE(self, fd) CO__WAIT_FD(self, fd, CO_WRITABLE)

/* Stops watching fd and closes it; tasks waiting on it get -EBADF.  Always
 * close watched fds this way, so no stale event reaches a reused number. */
CO_API int co_fd_close(co_loop *loop, int fd);
/* The same without the close (the fd is handed to other code). */
CO_API void co_fd_forget(co_loop *loop, int fd);

/* ----------------------------------------------------- other threads */

/* A caller-owned node for co_call_soon_threadsafe (no allocation). */
typedef struct co_call {
    struct co_call *next;
    void (*fn)(void *arg);
    void *arg;
} co_call;

/* loop.call_soon_threadsafe(fn, arg): runs fn(arg) on the loop's thread at
 * its next turn.  Safe from any thread and from signal handlers; `call`
 * must stay valid until fn runs.  Wake-ups coalesce into one write. */
CO_API int co_call_soon_threadsafe(co_loop *loop, co_call *call, void (*fn)(void *), void *arg);
/* Wakes the loop if it waits (async-signal-safe). */
CO_API void co_loop_wake(co_loop *loop);

/* -------------------------------------------------------------- signals */

/* Sets `ev` each time signal `signo` (1..31) arrives, until unwatched.
 * One loop watches a given signal at a time (CO_EBUSY otherwise). */
CO_API int co_signal_watch(co_loop *loop, int signo, co_event *ev);
CO_API int co_signal_unwatch(co_loop *loop, int signo);

/* ------------------------------------------------------------ reports */

/* loop.default_exception_handler: prints "Task exception was never
 * retrieved", the task, its error code and text, and when the task has an
 * error record its message, where it was raised and its traceback (most
 * recent call last), to stderr.  The default of a loop from co_loop_new. */
CO_API void co_default_exception_handler(co_loop *loop, const co_exception *e, void *arg);

/* ------------------------------------------------------------ internals */

CO_API int co__wait_fd(int fd, unsigned dir);
CO_API int co__wait_fd_end(void);

#define CO__WAIT_FD(self, fd, dir)                                                         \
    do {                                                                                   \
        CO__CHECK(self, co__wait_fd((fd), (dir)));                                         \
        CO__SUSPEND_TASK(self, false);                                                     \
        CO__CHECK(self, co__wait_fd_end());                                                \
    } while (0)

#ifdef __cplusplus
}
#endif

#include <corio/fs.h>
#include <corio/net.h>
#include <corio/dns.h>
#include <corio/udp.h>
#include <corio/process.h>
#include <corio/stream.h>
#include <corio/tls.h>

#endif /* CORIO_CORIO_H */
