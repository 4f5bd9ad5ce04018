/*
 * epoll.c -- the Linux readiness backend.
 *
 * Level-triggered: an fd stays reported while it is ready, which is what a
 * task that reads a little and waits again expects.  Each event carries the
 * fd and its generation, so an event for a closed fd whose number was
 * reused in the same batch is recognised and dropped.
 */
#include "reactor/reactor.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define BATCH 256

static int epoll_init(co_reactor *r)
{
    r->b.epoll.fd = epoll_create1(EPOLL_CLOEXEC);
    if (r->b.epoll.fd < 0)
        return -errno;
    r->b.epoll.events = co__alloc(r->loop, BATCH * sizeof(struct epoll_event));
    if (r->b.epoll.events == NULL) {
        close(r->b.epoll.fd);
        return CO_ENOMEM;
    }
    r->b.epoll.nevents = BATCH;
    return 0;
}

static void epoll_fini(co_reactor *r)
{
    close(r->b.epoll.fd);
    co__free(r->loop, r->b.epoll.events, (size_t)r->b.epoll.nevents * sizeof(struct epoll_event));
}

static int epoll_watch(co_reactor *r, int fd, uint32_t gen, unsigned old, unsigned events)
{
    struct epoll_event ev = {0};
    int op = !old ? EPOLL_CTL_ADD : !events ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    ev.events = (events & CO_READABLE ? EPOLLIN | EPOLLRDHUP : 0u) | (events & CO_WRITABLE ? EPOLLOUT : 0u);
    ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
    if (epoll_ctl(r->b.epoll.fd, op, fd, &ev) == 0)
        return 0;
    /* the fd was closed behind our back: it is gone from the set already */
    if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT))
        return 0;
    return -errno;
}

/* ms for epoll_wait, rounded up: a timer must never fire early */
static int timeout_ms(int64_t ns)
{
    if (ns < 0)
        return -1;
    if (ns > (int64_t)INT32_MAX * 1000000)
        return INT32_MAX;
    return (int)((ns + 999999) / 1000000);
}

static int epoll_wait_events(co_reactor *r, int64_t timeout_ns)
{
    struct epoll_event *ev = r->b.epoll.events;
    int n = epoll_wait(r->b.epoll.fd, ev, r->b.epoll.nevents, timeout_ms(timeout_ns));
    if (n < 0)
        return errno == EINTR ? CO__WAIT_CUT_SHORT : -errno;
    for (int i = 0; i < n; i++) {
        unsigned what = 0;
        uint32_t e = ev[i].events;
        if (e & (EPOLLIN | EPOLLRDHUP))
            what |= CO_READABLE;
        if (e & EPOLLOUT)
            what |= CO_WRITABLE;
        if (e & (EPOLLERR | EPOLLHUP))
            what |= CO__FD_ERROR;
        co__fd_ready(r, (int)(uint32_t)ev[i].data.u64, (uint32_t)(ev[i].data.u64 >> 32), what);
    }
    return n;
}

const co_backend co__epoll_backend = {
    .name = "epoll",
    .init = epoll_init,
    .fini = epoll_fini,
    .watch = epoll_watch,
    .wait = epoll_wait_events,
};
