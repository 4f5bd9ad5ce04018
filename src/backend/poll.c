/*
 * poll.c -- the portable readiness backend, for any POSIX system.
 *
 * The set of watched fds is a packed pollfd array; `pos` maps an fd number
 * to its entry so that watching, changing and forgetting an fd are O(1).
 * Each wait hands the whole array to poll(2): O(fds) a turn, the price of
 * portability that epoll and kqueue avoid.
 */
#include "reactor/reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

struct poll_state {
    struct pollfd *fds;
    uint32_t *gens; /* the generation each entry was watched with */
    int n, cap;
    int *pos; /* fd -> entry + 1, 0: not watched */
    int npos;
};

static int poll_init(co_reactor *r)
{
    struct poll_state *p = co__alloc(r->loop, sizeof *p);
    if (p == NULL)
        return CO_ENOMEM;
    memset(p, 0, sizeof *p);
    r->b.poll = p;
    return 0;
}

static void poll_fini(co_reactor *r)
{
    struct poll_state *p = r->b.poll;
    co__free(r->loop, p->fds, (size_t)p->cap * sizeof *p->fds);
    co__free(r->loop, p->gens, (size_t)p->cap * sizeof *p->gens);
    co__free(r->loop, p->pos, (size_t)p->npos * sizeof *p->pos);
    co__free(r->loop, p, sizeof *p);
}

/* Makes room for entry number n and for fd in the position map. */
static int reserve(co_reactor *r, struct poll_state *p, int fd)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        struct pollfd *fds = co__alloc(r->loop, (size_t)cap * sizeof *fds);
        uint32_t *gens = co__alloc(r->loop, (size_t)cap * sizeof *gens);
        if (fds == NULL || gens == NULL) {
            co__free(r->loop, fds, (size_t)cap * sizeof *fds);
            co__free(r->loop, gens, (size_t)cap * sizeof *gens);
            return CO_ENOMEM;
        }
        if (p->n) {
            memcpy(fds, p->fds, (size_t)p->n * sizeof *fds);
            memcpy(gens, p->gens, (size_t)p->n * sizeof *gens);
        }
        co__free(r->loop, p->fds, (size_t)p->cap * sizeof *fds);
        co__free(r->loop, p->gens, (size_t)p->cap * sizeof *gens);
        p->fds = fds;
        p->gens = gens;
        p->cap = cap;
    }
    if (fd >= p->npos) {
        int npos = p->npos ? p->npos : 64, *pos;
        while (npos <= fd)
            npos *= 2;
        pos = co__alloc(r->loop, (size_t)npos * sizeof *pos);
        if (pos == NULL)
            return CO_ENOMEM;
        memset(pos, 0, (size_t)npos * sizeof *pos);
        if (p->npos)
            memcpy(pos, p->pos, (size_t)p->npos * sizeof *pos);
        co__free(r->loop, p->pos, (size_t)p->npos * sizeof *pos);
        p->pos = pos;
        p->npos = npos;
    }
    return 0;
}

static short poll_events(unsigned events)
{
    return (short)((events & CO_READABLE ? POLLIN : 0) | (events & CO_WRITABLE ? POLLOUT : 0));
}

static int poll_watch(co_reactor *r, int fd, uint32_t gen, unsigned old, unsigned events)
{
    struct poll_state *p = r->b.poll;
    int i, rc;
    (void)old;
    if (fd < 0)
        return -EBADF;
    i = fd < p->npos ? p->pos[fd] - 1 : -1;
    if (events == 0) {
        if (i >= 0) { /* the last entry fills the hole */
            p->fds[i] = p->fds[p->n - 1];
            p->gens[i] = p->gens[p->n - 1];
            p->pos[p->fds[i].fd] = i + 1;
            p->pos[fd] = 0;
            p->n--;
        }
        return 0;
    }
    if (i < 0) {
        /* epoll and kqueue refuse a closed fd here; poll(2) would not */
        if (fcntl(fd, F_GETFD) < 0)
            return -errno;
        if ((rc = reserve(r, p, fd)) < 0)
            return rc;
        i = p->n++;
        p->fds[i].fd = fd;
        p->pos[fd] = i + 1;
    }
    p->fds[i].events = poll_events(events);
    p->fds[i].revents = 0;
    p->gens[i] = gen;
    return 0;
}

static int poll_timeout(int64_t ns)
{
    if (ns < 0)
        return -1;
    if (ns > (int64_t)INT_MAX * 1000000)
        return INT_MAX;
    return (int)((ns + 999999) / 1000000); /* rounded up: never early */
}

static int poll_wait(co_reactor *r, int64_t timeout_ns)
{
    struct poll_state *p = r->b.poll;
    int n = poll(p->fds, (nfds_t)p->n, poll_timeout(timeout_ns));
    int found = n;
    if (n < 0)
        return errno == EINTR ? CO__WAIT_CUT_SHORT : -errno;
    /* handling an event may change the array: walk it backwards, and only
       over entries that were there, re-reading each one */
    for (int i = p->n - 1; i >= 0 && n > 0; i--) {
        unsigned what = 0;
        short re;
        if (i >= p->n)
            continue;
        re = p->fds[i].revents;
        if (re == 0)
            continue;
        n--;
        p->fds[i].revents = 0;
        if (re & POLLIN)
            what |= CO_READABLE;
        if (re & POLLOUT)
            what |= CO_WRITABLE;
        if (re & (POLLERR | POLLHUP | POLLNVAL))
            what |= CO__FD_ERROR;
        co__fd_ready(r, p->fds[i].fd, p->gens[i], what);
    }
    return found;
}

const co_backend co__poll_backend = {
    .name = "poll",
    .init = poll_init,
    .fini = poll_fini,
    .watch = poll_watch,
    .wait = poll_wait,
};
