/*
 * reactor.c -- the POSIX side of a loop: the fd table that turns readiness
 * into woken tasks, the wake-up through which other threads and signal
 * handlers reach a waiting loop, and the table of subsystems (files,
 * signals) it reaches only through their hooks.
 *
 * Interest in an fd is dropped lazily: a woken task usually waits on the
 * same fd again, so the backend keeps watching it until an event arrives
 * that nobody waits for.  In the steady state a wait costs no syscall; and
 * a read that emptied the fd marks it drained (reactor.h), so that the next
 * read waits for readiness instead of failing with EAGAIN first.
 */
#include "reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

/* woke_from value for a waiter whose fd was closed under it */
#define WOKE_BADF 0xFF

co_reactor *co__reactor(co_loop *loop) { return loop->reactor; }

/* ------------------------------------------------------------------ fork */

/* How many forks led from the process that started to this one: bumped in
 * the child of each fork, so a reactor made before it is known inherited. */
static atomic_uint forks;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;

static void count_fork(void) { atomic_fetch_add(&forks, 1); }
static void watch_forks(void) { pthread_atfork(NULL, NULL, count_fork); }

bool co__reactor_inherited(const co_reactor *r)
{
    return r->forks != atomic_load_explicit(&forks, memory_order_relaxed);
}
const char *co_loop_backend(const co_loop *loop) { return loop->backend_name; }

static co_fd *slot(co_reactor *r, int fd) { return fd >= 0 && fd < r->nfds ? &r->fds[fd] : NULL; }

static int grow_fds(co_reactor *r, int fd)
{
    int n = r->nfds ? r->nfds : 64;
    co_fd *a;
    while (n <= fd)
        n *= 2;
    a = co__alloc(r->loop, (size_t)n * sizeof *a);
    if (a == NULL)
        return CO_ENOMEM;
    memset(a, 0, (size_t)n * sizeof *a);
    if (r->nfds)
        memcpy(a, r->fds, (size_t)r->nfds * sizeof *a);
    co__free(r->loop, r->fds, (size_t)r->nfds * sizeof *a);
    r->fds = a;
    r->nfds = n;
    return 0;
}

/* ---------------------------------------------------------- readiness */

static void *encode_wait(int fd, unsigned dir) { return (void *)(uintptr_t)(((unsigned)fd << 2) | dir); }

static void wake_waiter(co_reactor *r, co_task **waiter, uint8_t status)
{
    co_task *t = *waiter;
    *waiter = NULL;
    r->fd_waiters--;
    t->woke_from = status;
    co__make_ready(r->loop, t);
}

static void set_watch(co_reactor *r, int fd, co_fd *s, unsigned events)
{
    if (s->watched == events)
        return;
    if (r->backend->watch(r, fd, s->gen, s->watched, events) == 0)
        s->watched = (uint8_t)events;
}

void co__fd_ready(co_reactor *r, int fd, uint32_t gen, unsigned events)
{
    co_fd *s;
    unsigned waited;
    if (gen == CO__WAKE_GEN) {
        co__reactor_woken(r);
        return;
    }
    s = slot(r, fd);
    if (s == NULL || s->gen != gen)
        return; /* an event for an fd closed since, whose number may be reused */
    if (events & (CO_READABLE | CO__FD_ERROR))
        s->drained = false; /* bytes (or an end, an error) to read again */
    waited = (s->reader ? CO_READABLE : 0u) | (s->writer ? CO_WRITABLE : 0u);
    if (s->reader && (events & (CO_READABLE | CO__FD_ERROR)))
        wake_waiter(r, &s->reader, CO__W_FD);
    if (s->writer && (events & (CO_WRITABLE | CO__FD_ERROR)))
        wake_waiter(r, &s->writer, CO__W_FD);
    /* reported, but nobody waited for it: stop watching for that */
    if (events & CO__FD_ERROR)
        set_watch(r, fd, s, waited ? s->watched : 0u);
    else
        set_watch(r, fd, s, s->watched & ~(events & ~waited));
}

int co__fd_wait(co_loop *loop, int fd, unsigned dir)
{
    co_reactor *r = loop->reactor;
    co_task *t = loop->current;
    co_fd *s;
    co_task **waiter;
    int rc;
    if (t == NULL)
        return CO_ENOTASK;
    if (r == NULL)
        return CO_EBADARG;
    if (fd < 0)
        return -EBADF;
    if (fd >= r->nfds && (rc = grow_fds(r, fd)) < 0)
        return rc;
    s = &r->fds[fd];
    waiter = dir == CO_READABLE ? &s->reader : &s->writer;
    if (*waiter)
        return CO_EBUSY;
    if (!(s->watched & dir)) {
        rc = r->backend->watch(r, fd, s->gen, s->watched, s->watched | dir);
        if (rc < 0)
            return rc;
        s->watched |= (uint8_t)dir;
    }
    *waiter = t;
    r->fd_waiters++;
    co__wait_for(t, CO__W_FD, encode_wait(fd, dir));
    return 0;
}

int co__wait_fd(int fd, unsigned dir)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (dir != CO_READABLE && dir != CO_WRITABLE)
        return CO_EBADARG;
    return co__fd_wait(loop, fd, dir);
}

int co__wait_fd_end(void)
{
    co_loop *loop = co__loop();
    co_task *t = loop ? loop->current : NULL;
    if (t && t->woke_from == WOKE_BADF) {
        t->woke_from = CO__W_NONE;
        return -EBADF;
    }
    return 0;
}

void co_fd_forget(co_loop *loop, int fd)
{
    co_reactor *r = loop ? loop->reactor : NULL;
    co_fd *s = r ? slot(r, fd) : NULL;
    if (s == NULL)
        return;
    if (s->watched && !co__reactor_inherited(r)) /* a child must not edit the shared set */
        r->backend->watch(r, fd, s->gen, s->watched, 0);
    s->watched = 0;
    s->drained = false;
    if (s->reader)
        wake_waiter(r, &s->reader, WOKE_BADF);
    if (s->writer)
        wake_waiter(r, &s->writer, WOKE_BADF);
    s->gen++;
}

int co_fd_close(co_loop *loop, int fd)
{
    if (fd < 0)
        return -EBADF;
    co_fd_forget(loop, fd);
    return close(fd) == 0 ? 0 : -errno;
}

/* ------------------------------------------------------------ wake-up */

void co_loop_wake(co_loop *loop)
{
    co_reactor *r = loop->reactor;
    if (atomic_exchange(&r->wake_pending, 1) == 0) {
        uint64_t one = 1;
        ssize_t n;
        do /* a full pipe already holds a wake-up: nothing is lost */
            n = write(r->wake_wr, &one, r->wake_rd == r->wake_wr ? sizeof one : 1);
        while (n < 0 && errno == EINTR);
    }
}

int co_call_soon_threadsafe(co_loop *loop, co_call *call, void (*fn)(void *), void *arg)
{
    co_reactor *r;
    co_call *head;
    if (loop == NULL || call == NULL || fn == NULL || loop->reactor == NULL)
        return CO_EBADARG;
    r = loop->reactor;
    if (co__reactor_inherited(r)) /* its wake fd would wake the parent's loop */
        return CO_ELOOPCLOSED;
    call->fn = fn;
    call->arg = arg;
    head = atomic_load(&r->calls);
    do
        call->next = head;
    while (!atomic_compare_exchange_weak(&r->calls, &head, call));
    co_loop_wake(loop);
    return 0;
}

void co__reactor_woken(co_reactor *r)
{
    char buf[64];
    co_call *calls, *order = NULL;
    while (read(r->wake_rd, buf, sizeof buf) > 0)
        ;
    /* re-arm before looking: a wake-up after this point writes again */
    atomic_store(&r->wake_pending, 0);
    calls = atomic_exchange(&r->calls, NULL);
    while (calls) { /* pushed newest first: run them oldest first */
        co_call *next = calls->next;
        calls->next = order;
        order = calls;
        calls = next;
    }
    while (order) {
        co_call *next = order->next;
        order->fn(order->arg);
        order = next;
    }
    for (int i = 0; i < r->nsubsys; i++)
        if (r->subsys[i]->drain)
            r->subsys[i]->drain(r);
}

int co__reactor_attach(co_reactor *r, const co__subsys *s)
{
    for (int i = 0; i < r->nsubsys; i++)
        if (r->subsys[i] == s)
            return 0;
    if (r->nsubsys == CO__SUBSYS_MAX)
        return CO_EBUSY;
    r->subsys[r->nsubsys++] = s;
    return 0;
}

static int open_wake(co_reactor *r)
{
#ifdef __linux__
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd >= 0) {
        r->wake_rd = r->wake_wr = fd;
        return 0;
    }
#endif
    {
        int p[2];
        if (pipe(p) < 0)
            return -errno;
        for (int i = 0; i < 2; i++) {
            fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
            fcntl(p[i], F_SETFD, FD_CLOEXEC);
        }
        r->wake_rd = p[0];
        r->wake_wr = p[1];
    }
    return 0;
}

/* ------------------------------------------------------------- io ops */

static int io_wait(co_loop *loop, int64_t timeout_ns)
{
    co_reactor *r = loop->reactor;
    return r->backend->wait(r, timeout_ns);
}

static bool io_cancel(co_loop *loop, co_task *t)
{
    co_reactor *r = loop->reactor;
    if (t->wait != CO__W_FD) {
        for (int i = 0; i < r->nsubsys; i++)
            if (r->subsys[i]->wait == t->wait && r->subsys[i]->cancel)
                return r->subsys[i]->cancel(r, t);
        return true;
    }
    {
        uintptr_t code = (uintptr_t)t->wait_on;
        co_fd *s = slot(r, (int)(code >> 2));
        co_task **waiter;
        if (s == NULL)
            return true;
        waiter = (code & 3) == CO_READABLE ? &s->reader : &s->writer;
        if (*waiter == t) {
            *waiter = NULL;
            r->fd_waiters--;
        }
    }
    return true;
}

/* Whether a poll could find anything: a task waits on an fd or a job, or a
 * wake-up (another thread, a signal, a finished job) is pending. */
static bool io_busy(co_loop *loop)
{
    co_reactor *r = loop->reactor;
    return r->fd_waiters || r->jobs || atomic_load_explicit(&r->wake_pending, memory_order_relaxed);
}

static int io_run_begin(co_loop *loop)
{
    co_reactor *r = loop->reactor;
    if (co__reactor_inherited(r)) /* a forked child runs loops of its own */
        return CO_ELOOPCLOSED;
    for (int i = 0; i < r->nsubsys; i++)
        if (r->subsys[i]->run_begin)
            r->subsys[i]->run_begin(r);
    return 0;
}

static int io_run_end(co_loop *loop, int rc)
{
    co_reactor *r = loop->reactor;
    for (int i = r->nsubsys; i-- > 0;)
        if (r->subsys[i]->run_end)
            rc = r->subsys[i]->run_end(r, rc);
    return rc;
}

static void io_fini(co_loop *loop);

static const co_io_ops reactor_ops = {
    .wait = io_wait,
    .cancel = io_cancel,
    .busy = io_busy,
    .run_begin = io_run_begin,
    .run_end = io_run_end,
    .fini = io_fini,
};

/* ------------------------------------------------------ set up, tear down */

int co__reactor_init(co_reactor *r, co_loop *loop, const co_backend *backend, int workers)
{
    int rc;
    pthread_once(&forks_once, watch_forks);
    r->loop = loop;
    r->backend = backend;
    r->workers = workers;
    r->forks = atomic_load(&forks);
    r->wake_rd = r->wake_wr = -1;
    atomic_init(&r->wake_pending, 0);
    atomic_init(&r->calls, NULL);
    atomic_init(&r->signals, 0);
    if ((rc = backend->init(r)) < 0)
        return rc;
    if ((rc = open_wake(r)) < 0 ||
        (rc = backend->watch(r, r->wake_rd, CO__WAKE_GEN, 0, CO_READABLE)) < 0) {
        if (r->wake_rd >= 0)
            close(r->wake_rd);
        if (r->wake_wr != r->wake_rd)
            close(r->wake_wr);
        backend->fini(r);
        return rc;
    }
    loop->io = &reactor_ops;
    loop->reactor = r;
    loop->backend_name = backend->name;
    return 0;
}

static void io_fini(co_loop *loop)
{
    co_reactor *r = loop->reactor;
    while (r->nsubsys > 0) {
        const co__subsys *s = r->subsys[--r->nsubsys];
        if (s->fini)
            s->fini(r);
    }
    /* in a forked child the epoll set is the parent's too: a delete would
       take the parent's wake fd out of it (closing our copies is harmless) */
    if (!co__reactor_inherited(r))
        r->backend->watch(r, r->wake_rd, CO__WAKE_GEN, CO_READABLE, 0);
    close(r->wake_rd);
    if (r->wake_wr != r->wake_rd)
        close(r->wake_wr);
    r->backend->fini(r);
    co__free(loop, r->fds, (size_t)r->nfds * sizeof *r->fds);
    r->fds = NULL;
    r->nfds = 0;
}
