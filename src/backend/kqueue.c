/*
 * kqueue.c -- the readiness backend of the BSDs and macOS.
 *
 * An fd is watched through two independent filters, EVFILT_READ and
 * EVFILT_WRITE, added and deleted as the reactor's interest changes.  Without
 * EV_CLEAR or EV_ONESHOT a filter is level-triggered, like epoll here: it stays
 * reported while the fd is ready, so a task that reads a little and waits
 * again is woken again.  The event's ident is the fd and its udata the fd's
 * generation, so an event for a closed fd whose number was reused in the same
 * batch is recognised and dropped.
 */
#include "reactor/reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256

/* The longest single wait.  macOS refuses very long timeouts (EINVAL) and a
   32-bit time_t cannot hold the longest deadlines; waking up early once in
   11 days costs nothing, the loop just waits again. */
#define MAX_WAIT_NS (INT64_C(1000000) * 1000000000)

/* udata is a pointer almost everywhere but an intptr_t on older NetBSD:
   _Generic picks the conversion that fits, with no version checks. */
#define GEN_TO_UDATA(gen)                                                                  \
    _Generic(((struct kevent *)0)->udata,                                                  \
        intptr_t: (intptr_t)(gen),                                                         \
        default: (void *)(uintptr_t)(gen))
#define UDATA_TO_GEN(udata) ((uint32_t)(uintptr_t)(udata))

static int kqueue_init(co_reactor *r)
{
    int kq = kqueue();
    if (kq < 0)
        return -errno;
    /* a kqueue is not inherited by fork, but would survive exec */
    fcntl(kq, F_SETFD, FD_CLOEXEC);
    r->b.kqueue.events = co__alloc(r->loop, BATCH * sizeof(struct kevent));
    if (r->b.kqueue.events == NULL) {
        close(kq);
        return CO_ENOMEM;
    }
    r->b.kqueue.fd = kq;
    r->b.kqueue.nevents = BATCH;
    return 0;
}

static void kqueue_fini(co_reactor *r)
{
    close(r->b.kqueue.fd);
    co__free(r->loop, r->b.kqueue.events, (size_t)r->b.kqueue.nevents * sizeof(struct kevent));
}

static void set_change(struct kevent *kev, int fd, int filter, unsigned flags, uint32_t gen)
{
    /* zeroed first: some systems have fields beyond the classic six */
    memset(kev, 0, sizeof *kev);
    kev->ident = (uintptr_t)fd;
    kev->filter = filter;
    kev->flags = flags;
    kev->udata = GEN_TO_UDATA(gen);
}

/* The outcome of one change: deleting a filter of an fd closed behind our
   back is not an error, the kernel dropped the filter with the fd. */
static int change_result(const struct kevent *change, int err)
{
    if (err == 0)
        return 0;
    if ((change->flags & EV_DELETE) && (err == EBADF || err == ENOENT))
        return 0;
    return -err;
}

/* Applies changes without waiting for events; retrying after EINTR is safe,
   as adding twice and deleting what is gone are both harmless. */
static int submit(co_reactor *r, const struct kevent *changes, int n, struct kevent *out, int nout)
{
    static const struct timespec no_wait = {0, 0};
    int got;
    do
        got = kevent(r->b.kqueue.fd, changes, n, out, nout, &no_wait);
    while (got < 0 && errno == EINTR);
    return got < 0 ? -errno : got;
}

#ifdef EV_RECEIPT
/* All changes in one call: EV_RECEIPT makes the kernel report each change's
   own outcome, so a failed one neither hides nor stops the others. */
static int apply_changes(co_reactor *r, struct kevent *changes, int n)
{
    struct kevent receipts[2];
    int got, rc = 0;
    for (int i = 0; i < n; i++)
        changes[i].flags |= EV_RECEIPT;
    if ((got = submit(r, changes, n, receipts, n)) < 0)
        return got;
    for (int i = 0; i < got; i++)
        for (int j = 0; j < n; j++) { /* match the receipt to its change */
            int c;
            if (!(receipts[i].flags & EV_ERROR) || receipts[i].ident != changes[j].ident ||
                receipts[i].filter != changes[j].filter)
                continue;
            c = change_result(&changes[j], (int)receipts[i].data);
            if (c < 0 && rc == 0)
                rc = c;
        }
    return rc;
}
#else
/* Without receipts a failed change would stop the batch: one call each. */
static int apply_changes(co_reactor *r, struct kevent *changes, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        int got = submit(r, &changes[i], 1, NULL, 0);
        int c = got < 0 ? change_result(&changes[i], -got) : 0;
        if (c < 0 && rc == 0)
            rc = c;
    }
    return rc;
}
#endif

/* A failed call leaves the reactor believing in the old interest: take back
   the filters it added, so the kernel agrees. */
static void undo_adds(co_reactor *r, struct kevent *changes, int n)
{
    for (int i = 0; i < n; i++)
        if (changes[i].flags & EV_ADD) {
            changes[i].flags = EV_DELETE;
            submit(r, &changes[i], 1, NULL, 0);
        }
}

static int kqueue_watch(co_reactor *r, int fd, uint32_t gen, unsigned old, unsigned events)
{
    static const struct {
        unsigned dir;
        int filter;
    } dirs[2] = {{CO_READABLE, EVFILT_READ}, {CO_WRITABLE, EVFILT_WRITE}};
    struct kevent changes[2];
    int n = 0, rc;
    if (fd < 0)
        return -EBADF;
    for (int i = 0; i < 2; i++) {
        bool had = (old & dirs[i].dir) != 0, wants = (events & dirs[i].dir) != 0;
        if (had != wants)
            set_change(&changes[n++], fd, dirs[i].filter, wants ? EV_ADD : EV_DELETE, gen);
    }
    if (n == 0)
        return 0;
    rc = apply_changes(r, changes, n);
    if (rc < 0 && n > 1)
        undo_adds(r, changes, n);
    return rc;
}

/* What one reported event means to the reactor. */
static unsigned event_bits(const struct kevent *ev)
{
    unsigned what = 0;
    if (ev->filter == EVFILT_READ)
        what |= CO_READABLE;
    else if (ev->filter == EVFILT_WRITE)
        what |= CO_WRITABLE;
    /* EV_EOF alone is a hang-up the direction itself reports (a read of 0,
       a write's EPIPE); with a pending socket error in fflags it is an error */
    if ((ev->flags & EV_ERROR) || ((ev->flags & EV_EOF) && ev->fflags != 0))
        what |= CO__FD_ERROR;
    return what;
}

static int kqueue_wait(co_reactor *r, int64_t timeout_ns)
{
    struct kevent *ev = r->b.kqueue.events;
    struct timespec ts, *tsp = NULL;
    int n;
    if (timeout_ns >= 0) { /* to the nanosecond: no rounding, never early */
        if (timeout_ns > MAX_WAIT_NS)
            timeout_ns = MAX_WAIT_NS;
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    n = kevent(r->b.kqueue.fd, NULL, 0, ev, r->b.kqueue.nevents, tsp);
    if (n < 0)
        return errno == EINTR ? CO__WAIT_CUT_SHORT : -errno;
    for (int i = 0; i < n; i++)
        co__fd_ready(r, (int)ev[i].ident, UDATA_TO_GEN(ev[i].udata), event_bits(&ev[i]));
    return n;
}

const co_backend co__kqueue_backend = {
    .name = "kqueue",
    .init = kqueue_init,
    .fini = kqueue_fini,
    .watch = kqueue_watch,
    .wait = kqueue_wait,
};
