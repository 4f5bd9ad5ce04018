/*
 * fs_uring.c -- file jobs on io_uring: each step of a job (open, a read or
 * write of at most 1 GiB, close) is one submission, whose completion submits
 * the next step.  The ring signals the loop's own eventfd on each
 * completion, so a completion wakes the loop exactly as a finished pool job
 * does, and both are drained in the same place.  Stat and to_thread jobs use
 * the pool in any case.
 */
#include "files.h"

#ifdef CORIO_HAVE_LIBURING

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CANCEL_TAG NULL /* user_data of cancel requests, whose completions say nothing */

bool co__fs_ring_takes(const fs_state *s, const co_file_job *j)
{
    return s->ring_on && j->op != OP_STAT && j->op != OP_CALL && j->op != OP_READ_ALL;
}

/* The ring works if the kernel lets us set it up with the features the
 * steps rely on (5.6: openat, close, reads at the file position; 5.5:
 * completions never dropped) and the loop wakes through an eventfd. */
void co__fs_ring_open(co_reactor *r, fs_state *s)
{
    struct io_uring_params p;
    const char *want = getenv("CORIO_FS");
    if ((want && strcmp(want, "threads") == 0) || r->wake_rd != r->wake_wr)
        return;
    memset(&p, 0, sizeof p);
    if (io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p) < 0)
        return;
    if (!(p.features & IORING_FEAT_NODROP) || !(p.features & IORING_FEAT_RW_CUR_POS) ||
        io_uring_register_eventfd(&s->ring, r->wake_wr) < 0) {
        io_uring_queue_exit(&s->ring);
        return;
    }
    s->ring_on = true;
}

/* Hands what is queued to the kernel.  On failure the submissions stay in
 * the ring, so they are retried, not lost. */
static void ring_flush(fs_state *s)
{
    int rc;
    do
        rc = io_uring_submit(&s->ring);
    while (rc == -EINTR);
    s->ring_backlog = rc < 0;
}

static struct io_uring_sqe *ring_sqe(fs_state *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (sqe == NULL) {
        ring_flush(s);
        sqe = io_uring_get_sqe(&s->ring);
    }
    return sqe;
}

/* Submits j's next step.  An error means nothing was queued. */
static int ring_push(fs_state *s, co_file_job *j, int step)
{
    struct io_uring_sqe *sqe = ring_sqe(s);
    if (sqe == NULL)
        return -EBUSY;
    if (step == STEP_OPEN)
        io_uring_prep_openat(sqe, AT_FDCWD, j->path, j->flags, (mode_t)j->perm);
    else if (step == STEP_CLOSE)
        io_uring_prep_close(sqe, j->fd);
    else {
        char *p = (char *)j->buf + j->done;
        /* -1: the file's own position, which FIFOs and O_APPEND need */
        uint64_t at = j->offset < 0 ? (uint64_t)-1 : (uint64_t)(j->offset + (int64_t)j->done);
        if (co__fs_writes(j))
            io_uring_prep_write(sqe, j->fd, p, (unsigned)co__fs_chunk(j), at);
        else
            io_uring_prep_read(sqe, j->fd, p, (unsigned)co__fs_chunk(j), at);
        /* without it the kernel copies a cached file inside io_uring_enter,
           on the loop's thread: a big read would stall every task */
        io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
    }
    io_uring_sqe_set_data(sqe, j);
    j->step = (uint8_t)step;
    ring_flush(s);
    return 0;
}

int co__fs_ring_start(fs_state *s, co_file_job *j)
{
    int step = co__fs_whole_file(j) || j->op == OP_OPEN ? STEP_OPEN : j->op == OP_CLOSE ? STEP_CLOSE
                                                                                : STEP_IO;
    return ring_push(s, j, step);
}

static void ring_job_done(co_reactor *r, co_file_job *j, int64_t result)
{
    j->result = result;
    co__fs_job_done(r, j);
}

/* What comes after a read or write step that returned res: 0 when the
 * transfer is over. */
static int after_io(co_file_job *j, int res, bool stop)
{
    if (res == -EINTR && !stop)
        return STEP_IO;
    if (res < 0)
        j->err = res;
    else if (res == 0 && j->done < j->len && co__fs_writes(j))
        j->err = -EIO;
    else
        j->done += (size_t)res;
    if (j->err == 0 && res > 0 && j->done < j->len && !stop)
        return STEP_IO;
    return co__fs_whole_file(j) ? STEP_CLOSE : 0;
}

/* A step of j completed with res: submit the next one, or finish the job.
 * A cancelled task's job skips to closing its file. */
static void ring_step_done(co_reactor *r, fs_state *s, co_file_job *j, int res)
{
    bool stop = (j->task->flags & CO__T_CANCEL) != 0;
    int next;
    switch (j->step) {
    case STEP_OPEN:
        if (res < 0 || j->op == OP_OPEN) {
            ring_job_done(r, j, res);
            return;
        }
        j->fd = res;
        next = stop || j->len == 0 ? STEP_CLOSE : STEP_IO;
        break;
    case STEP_IO:
        next = after_io(j, res, stop);
        if (next == 0) {
            ring_job_done(r, j, j->err ? j->err : (int64_t)j->done);
            return;
        }
        break;
    default: /* STEP_CLOSE */
        if (res == -EINTR)
            res = 0;
        if (j->op == OP_CLOSE)
            ring_job_done(r, j, res);
        else
            ring_job_done(r, j, j->err ? j->err : res < 0 ? res : (int64_t)j->done);
        return;
    }
    if (ring_push(s, j, next) < 0) { /* the ring is full: finish here */
        int err = j->err ? j->err : -EBUSY;
        if (co__fs_whole_file(j))
            co__fs_close_fd(j->fd);
        ring_job_done(r, j, err);
    }
}

void co__fs_ring_reap(co_reactor *r, fs_state *s)
{
    struct io_uring_cqe *cqe;
    if (s->ring_backlog)
        ring_flush(s);
    while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
        co_file_job *j = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&s->ring, cqe);
        if (j != CANCEL_TAG)
            ring_step_done(r, s, j, res);
    }
}

/* Asks the kernel to interrupt j's step (a read from a FIFO can wait
 * forever); the step still completes, with -ECANCELED or -EINTR, or with
 * its result if it was quicker. */
void co__fs_ring_cancel(fs_state *s, co_file_job *j)
{
    struct io_uring_sqe *sqe = ring_sqe(s);
    if (sqe == NULL)
        return;
    io_uring_prep_cancel(sqe, j, 0);
    io_uring_sqe_set_data(sqe, CANCEL_TAG);
    ring_flush(s);
}

/* co_run never returns with a job in flight (its shutdown waits for
 * them), so the ring is idle by the time the loop is freed. */
void co__fs_ring_close(fs_state *s) { io_uring_queue_exit(&s->ring); }

#endif /* CORIO_HAVE_LIBURING */
