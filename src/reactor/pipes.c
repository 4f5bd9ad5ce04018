/*
 * pipes.c -- communicate's pumps: the child's stdin fed and its stdout and
 * stderr drained at the same time, so that no pipe can fill up and stall
 * the child while the parent waits on another one.
 *
 * Each pipe gets a small task of its own (a "pump"), gathered by the
 * communicating task as asyncio gathers its three coroutines.  A pump works
 * the pipe with plain read()/write() on its non-blocking end and waits for
 * readiness when the pipe is full or empty; a reading pump takes at most
 * READS_PER_TURN reads before waiting again, so a chatty child does not
 * keep the loop.  Output grows in buffers from the loop's allocator.  A
 * cancelled gather cancels the pumps and waits for them, so a pump never
 * outlives the co_process it writes into.
 *
 * (The pipe ends are plain fds in co_process: a buffered stream can take
 * one over instead of communicate.)
 */
#include "reactor.h"

#include <corio/process.h>

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#define FIRST_CAP ((size_t)16384)
#define READS_PER_TURN 16

typedef struct pump {
    co_gen gen;
    co_process *p;
    int which; /* 0 stdin, 1 stdout, 2 stderr */
    int fd;
    int rc;    /* the last step: 1 done, 0 wait, <0 failed */
    size_t done;
} pump;

static void fail(co_process *p, int err)
{
    if (err < 0 && err != CO_ECANCELLED && p->result == 0)
        p->result = err;
}

/* ------------------------------------------------------------- stdin */

/* 1 all written (or the child stopped reading), 0 the pipe is full, <0. */
static int feed_some(pump *self)
{
    co_process *p = self->p;
    while (self->done < p->input_len) {
        size_t left = p->input_len - self->done;
        ssize_t n = write(self->fd, p->input + self->done, left < SSIZE_MAX ? left : SSIZE_MAX);
        if (n >= 0)
            self->done += (size_t)n;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        else if (errno == EPIPE)
            return 1; /* the child is not reading: asyncio ignores it too */
        else if (errno != EINTR)
            return -errno;
    }
    return 1;
}

static int feed_body(co_gen *g)
{
    pump *self = (pump *)g;
    CO_BEGIN(self);
    while ((self->rc = feed_some(self)) == 0)
        CO_WAIT_WRITABLE(self, self->fd);
    CO_FINALLY(self)
    {
        fail(self->p, self->rc < 0 ? self->rc : CO_THROWN(self));
        co_fd_close(self->p->loop, self->fd); /* the child reads end of file */
        self->p->in = -1;
    }
    CO_END(self);
}

/* ------------------------------------------------------ stdout, stderr */

/* Room for at least one more byte in the output buffer. */
static int grow(co_process *p, char **data, size_t len, size_t *cap)
{
    size_t ncap;
    char *nd;
    if (len < *cap)
        return 0;
    if (*cap > SIZE_MAX / 2)
        return CO_ENOMEM;
    ncap = *cap ? *cap * 2 : FIRST_CAP;
    if ((nd = co__alloc(p->loop, ncap)) == NULL)
        return CO_ENOMEM;
    if (len)
        memcpy(nd, *data, len);
    if (*data)
        co__free(p->loop, *data, *cap);
    *data = nd;
    *cap = ncap;
    return 0;
}

/* 1 end of file, 0 nothing more for now, <0 failed. */
static int drain_some(pump *self)
{
    co_process *p = self->p;
    char **data = self->which == 1 ? &p->out_data : &p->err_data;
    size_t *len = self->which == 1 ? &p->out_len : &p->err_len;
    size_t *cap = self->which == 1 ? &p->out_cap : &p->err_cap;
    for (int i = 0; i < READS_PER_TURN; i++) {
        ssize_t n;
        int rc = grow(p, data, *len, cap);
        if (rc < 0)
            return rc;
        n = read(self->fd, *data + *len, *cap - *len);
        if (n > 0)
            *len += (size_t)n;
        else if (n == 0)
            return 1;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        else if (errno != EINTR)
            return -errno;
    }
    return 0; /* more may wait: let the others run first */
}

static int drain_body(co_gen *g)
{
    pump *self = (pump *)g;
    CO_BEGIN(self);
    while ((self->rc = drain_some(self)) == 0)
        CO_WAIT_READABLE(self, self->fd);
    CO_FINALLY(self)
    {
        /* closed also after a failure, so the child cannot block on it */
        fail(self->p, self->rc < 0 ? self->rc : CO_THROWN(self));
        co_fd_close(self->p->loop, self->fd);
        if (self->which == 1)
            self->p->out = -1;
        else
            self->p->err = -1;
    }
    CO_END(self);
}

/* --------------------------------------------------------- the gather */

static void release_pumps(co_process *p)
{
    for (size_t i = 0; i < p->npumps; i++)
        co_release(p->pumps[i]);
    p->npumps = 0;
}

static void free_output(co_process *p)
{
    if (p->out_data)
        co__free(p->loop, p->out_data, p->out_cap);
    if (p->err_data)
        co__free(p->loop, p->err_data, p->err_cap);
    p->out_data = p->err_data = NULL;
    p->out_len = p->err_len = p->out_cap = p->err_cap = 0;
}

int co__pipes_start(co_process *p)
{
    int fds[3] = {p->in, p->out, p->err};
    free_output(p); /* a second communicate starts afresh */
    memset(&p->gather, 0, sizeof p->gather);
    p->npumps = 0;
    for (int i = 0; i < 3; i++) {
        pump *pu;
        if (fds[i] < 0)
            continue;
        pu = co_task_new(p->loop, sizeof *pu, i == 0 ? feed_body : drain_body);
        if (pu == NULL) {
            release_pumps(p);
            return CO_ENOMEM;
        }
        pu->p = p;
        pu->which = i;
        pu->fd = fds[i];
        p->pumps[p->npumps++] = &pu->gen;
    }
    return 0;
}

int co__pipes_step(co_process *p)
{
    int rc;
    if (p->npumps == 0)
        return 1;
    rc = co__gather_start(&p->gather, p->pumps, p->npumps, CO_GATHER_ALL);
    if (rc == 0)
        return 0;
    if (rc < 0) /* the gather has ended either way */
        fail(p, rc);
    release_pumps(p);
    return 1;
}

void co__pipes_end(co_process *p)
{
    if (p->gather.owner)
        co__gather_end(&p->gather);
    release_pumps(p);
}
