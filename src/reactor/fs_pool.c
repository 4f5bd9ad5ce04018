/*
 * fs_pool.c -- the file worker pool: jobs queue under a mutex; a worker
 * runs a whole job (open, every read, close) with plain blocking calls,
 * pushes it on a lock-free list of finished jobs and wakes the loop.
 * Workers start one at a time, when a job finds none idle, up to the pool's
 * size; co__fs_pool_stop joins them.
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------ a job, done in place */

/* Reads or writes until len bytes are done, or end of file. */
static int64_t transfer(co_file_job *j, int fd)
{
    while (j->done < j->len) {
        char *p = (char *)j->buf + j->done;
        size_t n = co__fs_chunk(j);
        ssize_t got;
        if (j->offset < 0)
            got = co__fs_writes(j) ? write(fd, p, n) : read(fd, p, n);
        else {
            off_t at = (off_t)(j->offset + (int64_t)j->done);
            got = co__fs_writes(j) ? pwrite(fd, p, n, at) : pread(fd, p, n, at);
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0) /* end of file; a write that makes no progress never will */
            return co__fs_writes(j) ? -EIO : (int64_t)j->done;
        j->done += (size_t)got;
    }
    return (int64_t)j->done;
}

/* Linux closes the fd even when close() is interrupted: that is success. */
int co__fs_close_fd(int fd) { return close(fd) == 0 || errno == EINTR ? 0 : -errno; }

/* open, transfer, close: one trip to a worker for a whole chore */
static int64_t run_whole_file(co_file_job *j)
{
    int64_t n;
    int rc, fd = open(j->path, j->flags, (mode_t)j->perm);
    if (fd < 0)
        return -errno;
    n = transfer(j, fd);
    rc = co__fs_close_fd(fd);
    return n < 0 ? n : rc < 0 ? rc : n;
}

/* Reads fd to its end into a buffer that grows by doubling (from the size
 * fstat gives, so a regular file is read in one go), NUL-terminated. */
static int64_t read_to_end(co_file_job *j, int fd)
{
    struct stat st;
    size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX / 2
                     ? (size_t)st.st_size + 1
                     : 64 * 1024;
    char *data = NULL;
    int64_t n;
    for (;;) {
        char *bigger = realloc(data, cap + 1); /* + 1: the NUL */
        if (bigger == NULL) {
            free(data);
            return -ENOMEM;
        }
        data = bigger;
        j->buf = data;
        j->len = cap;
        if ((n = transfer(j, fd)) < 0) {
            free(data);
            return n;
        }
        if (j->done < cap) /* end of file before the buffer was full */
            break;
        if (cap > SIZE_MAX / 4) {
            free(data);
            return -EFBIG;
        }
        cap *= 2;
    }
    data[j->done] = '\0';
    return (int64_t)j->done;
}

/* OP_READ_ALL: j->buf is where the caller wants the buffer, until it has one. */
static int64_t run_read_all(co_file_job *j)
{
    char **out = j->buf;
    int64_t n;
    int rc, fd = open(j->path, j->flags);
    if (fd < 0)
        return -errno;
    n = read_to_end(j, fd);
    rc = co__fs_close_fd(fd);
    if (n >= 0 && rc < 0) {
        free(j->buf);
        n = rc;
    }
    if (n >= 0)
        *out = j->buf;
    j->buf = out;
    return n;
}

static int64_t run_job(co_file_job *j)
{
    struct stat st;
    int fd;
    if (co__fs_whole_file(j))
        return run_whole_file(j);
    switch (j->op) {
    case OP_CALL: return j->fn(j->buf);
    case OP_READ_ALL: return run_read_all(j);
    case OP_STAT: return stat(j->path, &st) == 0 ? (int64_t)st.st_size : -errno;
    case OP_OPEN:
        fd = open(j->path, j->flags, (mode_t)j->perm);
        return fd >= 0 ? fd : -errno;
    case OP_CLOSE: return co__fs_close_fd(j->fd);
    default: return transfer(j, j->fd); /* OP_PREAD, OP_PWRITE */
    }
}

/* --------------------------------------------------------------- pool */

static void push_finished(fs_state *s, co_file_job *j)
{
    co_file_job *head = atomic_load_explicit(&s->finished, memory_order_relaxed);
    do
        j->next = head;
    while (!atomic_compare_exchange_weak_explicit(&s->finished, &head, j, memory_order_release,
                                                  memory_order_relaxed));
}

static void *worker_main(void *arg)
{
    fs_state *s = arg;
    pthread_setname_np(pthread_self(), "corio-fs"); /* for ps, gdb and the tests */
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        co_file_job *j = s->head;
        if (j == NULL) {
            s->idle++;
            pthread_cond_wait(&s->work, &s->lock);
            s->idle--;
            continue;
        }
        s->head = j->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->queued--;
        j->state = JOB_RUNNING;
        pthread_mutex_unlock(&s->lock);
        j->result = run_job(j);
        /* Announce it under the lock: the task's next job then finds this
         * worker idle (or about to look at the queue), not a reason to
         * start another one. */
        pthread_mutex_lock(&s->lock);
        push_finished(s, j); /* the last touch: the task may resume at once */
        co_loop_wake(s->loop);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Starts one more worker (lock held).  Workers block every signal, so
 * signals keep going to the loop's thread. */
static int start_worker(fs_state *s)
{
    sigset_t all, old;
    int rc;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->threads[s->started], NULL, worker_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        s->started++;
    return -rc;
}

int co__fs_pool_submit(fs_state *s, co_file_job *j)
{
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    j->state = JOB_QUEUED;
    j->next = NULL;
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    s->queued++;
    if (s->queued > (size_t)s->idle && s->started < s->max)
        rc = start_worker(s);
    if (rc < 0 && s->started == 0) { /* nobody will ever run it */
        s->head = s->tail = NULL;
        s->queued = 0;
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* Takes j out of the queue if no worker has it yet. */
bool co__fs_pool_unqueue(fs_state *s, co_file_job *j)
{
    bool found = false;
    pthread_mutex_lock(&s->lock);
    if (j->state == JOB_QUEUED) {
        co_file_job **p = &s->head, *prev = NULL;
        while (*p != j) {
            prev = *p;
            p = &(*p)->next;
        }
        *p = j->next;
        if (s->tail == j)
            s->tail = prev;
        s->queued--;
        found = true;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* Stops and joins the workers.  None has a job by now: co_run's shutdown
 * waits for every job in flight before it returns. */
void co__fs_pool_stop(fs_state *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->started; i++)
        pthread_join(s->threads[i], NULL);
}

void co__fs_pool_reap(co_reactor *r, fs_state *s)
{
    co_file_job *j = atomic_exchange_explicit(&s->finished, NULL, memory_order_acquire);
    co_file_job *order = NULL;
    while (j) { /* pushed newest first: ready their tasks oldest first */
        co_file_job *next = j->next;
        j->next = order;
        order = j;
        j = next;
    }
    while (order) {
        co_file_job *next = order->next;
        co__fs_job_done(r, order);
        order = next;
    }
}

