/*
 * fs.c -- file jobs: the work behind fs.h, done beside the loop by a pool of
 * worker threads or by io_uring.
 *
 * A job lives in its task's frame.  The task hands it over and suspends with
 * wait kind CO__W_JOB; when the job is over, co__fs_drain (run by the
 * reactor on its wake-up) readies the task again.
 *
 * The pool: jobs queue under a mutex; a worker runs a whole job (open, every
 * read, close) with plain blocking calls, pushes it on a lock-free list of
 * finished jobs and wakes the loop.  Workers start one at a time, when a job
 * finds none idle, up to the pool's size; co__fs_fini joins them.
 *
 * io_uring: each step of a job (open, a read or write of at most 1 GiB,
 * close) is one submission, whose completion submits the next step.  The
 * ring signals the loop's own eventfd on each completion, so a completion
 * wakes the loop exactly as a finished pool job does, and both are drained
 * in the same place.  Stat and to_thread jobs use the pool in any case.
 */
#include "reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef CORIO_HAVE_LIBURING
#include <liburing.h>
#endif

#define DEFAULT_WORKERS 4
#define MAX_CHUNK ((size_t)1 << 30) /* per read or write: fits an io_uring result */
#define RING_ENTRIES 64

/* co_file_job.op */
enum {
    OP_READ = 1, /* open, read from the file's position, close */
    OP_READ_AT,  /* open, read at an offset, close             */
    OP_WRITE,    /* open, write from the file's position, close */
    OP_STAT,
    OP_OPEN,
    OP_PREAD,
    OP_PWRITE,
    OP_CLOSE,
    OP_CALL /* to_thread */
};

/* co_file_job.step: STEP_POOL for a pool job, else the ring step in flight */
enum { STEP_POOL, STEP_OPEN, STEP_IO, STEP_CLOSE };

/* co_file_job.state of a pool job, changed under the pool's lock */
enum { JOB_QUEUED = 1, JOB_RUNNING };

typedef struct fs_state {
    co_loop *loop;
    size_t size; /* bytes allocated for this block */
    pthread_mutex_t lock;
    pthread_cond_t work;            /* a job was queued, or the pool stops */
    co_file_job *head, *tail;       /* queued jobs, oldest first           */
    size_t queued;                  /* how many                            */
    _Atomic(co_file_job *) finished; /* done by workers, newest first       */
    int max, started, idle;          /* workers: allowed, running, waiting  */
    bool stop;
#ifdef CORIO_HAVE_LIBURING
    bool ring_on;
    bool ring_backlog;   /* a submission failed: retry it at the next drain */
    struct io_uring ring;
#endif
    pthread_t threads[]; /* `max` of them */
} fs_state;

/* The pool's size: co_loop_options.workers, 0 meaning the default. */
static int pool_size(const co_reactor *r)
{
    return r->workers > 0 ? r->workers : DEFAULT_WORKERS;
}

static size_t chunk(const co_file_job *j)
{
    size_t left = j->len - j->done;
    return left < MAX_CHUNK ? left : MAX_CHUNK;
}

static bool writes(const co_file_job *j) { return j->op == OP_WRITE || j->op == OP_PWRITE; }

/* Whether the job opens and closes its own file. */
static bool whole_file(const co_file_job *j)
{
    return j->op == OP_READ || j->op == OP_READ_AT || j->op == OP_WRITE;
}

/* ------------------------------------------------ a job, done in place */

/* Reads or writes until len bytes are done, or end of file. */
static int64_t transfer(co_file_job *j, int fd)
{
    while (j->done < j->len) {
        char *p = (char *)j->buf + j->done;
        size_t n = chunk(j);
        ssize_t got;
        if (j->offset < 0)
            got = writes(j) ? write(fd, p, n) : read(fd, p, n);
        else {
            off_t at = (off_t)(j->offset + (int64_t)j->done);
            got = writes(j) ? pwrite(fd, p, n, at) : pread(fd, p, n, at);
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0) /* end of file; a write that makes no progress never will */
            return writes(j) ? -EIO : (int64_t)j->done;
        j->done += (size_t)got;
    }
    return (int64_t)j->done;
}

/* Linux closes the fd even when close() is interrupted: that is success. */
static int close_fd(int fd) { return close(fd) == 0 || errno == EINTR ? 0 : -errno; }

/* open, transfer, close: one trip to a worker for a whole chore */
static int64_t run_whole_file(co_file_job *j)
{
    int64_t n;
    int rc, fd = open(j->path, j->flags, (mode_t)j->perm);
    if (fd < 0)
        return -errno;
    n = transfer(j, fd);
    rc = close_fd(fd);
    return n < 0 ? n : rc < 0 ? rc : n;
}

static int64_t run_job(co_file_job *j)
{
    struct stat st;
    int fd;
    if (whole_file(j))
        return run_whole_file(j);
    switch (j->op) {
    case OP_CALL: return j->fn(j->buf);
    case OP_STAT: return stat(j->path, &st) == 0 ? (int64_t)st.st_size : -errno;
    case OP_OPEN:
        fd = open(j->path, j->flags, (mode_t)j->perm);
        return fd >= 0 ? fd : -errno;
    case OP_CLOSE: return close_fd(j->fd);
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

static int pool_submit(fs_state *s, co_file_job *j)
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
static bool pool_unqueue(fs_state *s, co_file_job *j)
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
static void pool_stop(fs_state *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->started; i++)
        pthread_join(s->threads[i], NULL);
}

/* ----------------------------------------------------- jobs that end */

static void job_done(co_reactor *r, co_file_job *j)
{
    r->jobs--;
    co__make_ready(r->loop, j->task);
}

static void pool_reap(co_reactor *r, fs_state *s)
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
        job_done(r, order);
        order = next;
    }
}

/* ------------------------------------------------------------ io_uring */

#ifdef CORIO_HAVE_LIBURING

#define CANCEL_TAG NULL /* user_data of cancel requests, whose completions say nothing */

static bool ring_takes(const fs_state *s, const co_file_job *j)
{
    return s->ring_on && j->op != OP_STAT && j->op != OP_CALL;
}

/* The ring works if the kernel lets us set it up with the features the
 * steps rely on (5.6: openat, close, reads at the file position; 5.5:
 * completions never dropped) and the loop wakes through an eventfd. */
static void ring_open(co_reactor *r, fs_state *s)
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
        if (writes(j))
            io_uring_prep_write(sqe, j->fd, p, (unsigned)chunk(j), at);
        else
            io_uring_prep_read(sqe, j->fd, p, (unsigned)chunk(j), at);
        /* without it the kernel copies a cached file inside io_uring_enter,
           on the loop's thread: a big read would stall every task */
        io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
    }
    io_uring_sqe_set_data(sqe, j);
    j->step = (uint8_t)step;
    ring_flush(s);
    return 0;
}

static int ring_start(fs_state *s, co_file_job *j)
{
    int step = whole_file(j) || j->op == OP_OPEN ? STEP_OPEN : j->op == OP_CLOSE ? STEP_CLOSE
                                                                                : STEP_IO;
    return ring_push(s, j, step);
}

static void ring_job_done(co_reactor *r, co_file_job *j, int64_t result)
{
    j->result = result;
    job_done(r, j);
}

/* What comes after a read or write step that returned res: 0 when the
 * transfer is over. */
static int after_io(co_file_job *j, int res, bool stop)
{
    if (res == -EINTR && !stop)
        return STEP_IO;
    if (res < 0)
        j->err = res;
    else if (res == 0 && j->done < j->len && writes(j))
        j->err = -EIO;
    else
        j->done += (size_t)res;
    if (j->err == 0 && res > 0 && j->done < j->len && !stop)
        return STEP_IO;
    return whole_file(j) ? STEP_CLOSE : 0;
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
        if (whole_file(j))
            close_fd(j->fd);
        ring_job_done(r, j, err);
    }
}

static void ring_reap(co_reactor *r, fs_state *s)
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
static void ring_cancel(fs_state *s, co_file_job *j)
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
static void ring_close(fs_state *s) { io_uring_queue_exit(&s->ring); }

#endif /* CORIO_HAVE_LIBURING */

/* ------------------------------------------------------ the fs state */

static int state_new(co_reactor *r, fs_state **out)
{
    int workers = pool_size(r);
    size_t size = sizeof(fs_state) + (size_t)workers * sizeof(pthread_t);
    fs_state *s = co__alloc(r->loop, size);
    int rc;
    if (s == NULL)
        return CO_ENOMEM;
    memset(s, 0, size);
    s->loop = r->loop;
    s->size = size;
    s->max = workers;
    atomic_init(&s->finished, NULL);
    if ((rc = pthread_mutex_init(&s->lock, NULL)) != 0) {
        co__free(r->loop, s, size);
        return -rc;
    }
    if ((rc = pthread_cond_init(&s->work, NULL)) != 0) {
        pthread_mutex_destroy(&s->lock);
        co__free(r->loop, s, size);
        return -rc;
    }
#ifdef CORIO_HAVE_LIBURING
    ring_open(r, s);
#endif
    r->fs = s;
    *out = s;
    return 0;
}

static int state_get(co_reactor *r, fs_state **out)
{
    if (r->fs) {
        *out = r->fs;
        return 0;
    }
    return state_new(r, out);
}

static bool ring_used(const fs_state *s)
{
#ifdef CORIO_HAVE_LIBURING
    return s->ring_on;
#else
    (void)s;
    return false;
#endif
}

const char *co_fs_backend(co_loop *loop)
{
    co_reactor *r = loop ? co__reactor(loop) : NULL;
    fs_state *s;
    if (r == NULL || state_get(r, &s) < 0)
        return NULL;
    return ring_used(s) ? "io_uring" : "threads";
}

/* ----------------------------------------------------- handing over */

/* The job is over before it started: result says why. */
static int over(co_file_job *j, int64_t result)
{
    j->result = result;
    return 1;
}

static int submit(co_file_job *j)
{
    co_loop *loop = co__loop();
    co_reactor *r;
    fs_state *s;
    int rc;
    if (loop == NULL || loop->current == NULL)
        return over(j, CO_ENOTASK);
    r = co__reactor(loop);
    if (r == NULL)
        return over(j, CO_EBADARG);
    if ((rc = state_get(r, &s)) < 0)
        return over(j, rc);
    j->task = loop->current;
    j->result = 0;
    j->done = 0;
    j->err = 0;
#ifdef CORIO_HAVE_LIBURING
    if (ring_takes(s, j))
        rc = ring_start(s, j);
    else
#endif
        rc = pool_submit(s, j);
    if (rc < 0)
        return over(j, rc);
    r->jobs++;
    co__wait_for(j->task, CO__W_JOB, j);
    return 0;
}

/* Fills in a job: fields an operation does not use are cleared. */
static co_file_job *prepare(co_file_job *j, int op, const char *path, int fd, void *buf,
                            size_t len, int64_t offset)
{
    j->op = (uint8_t)op;
    j->path = path;
    j->fd = fd;
    j->buf = buf;
    j->len = len;
    j->offset = offset;
    j->fn = NULL;
    j->flags = 0;
    j->perm = 0;
    j->step = STEP_POOL;
    j->state = 0;
    j->next = NULL;
    return j;
}

int co__file_read(co_file_job *job, const char *path, void *buf, size_t cap)
{
    if (path == NULL || (buf == NULL && cap))
        return over(job, CO_EBADARG);
    prepare(job, OP_READ, path, -1, buf, cap, -1)->flags = O_RDONLY | O_CLOEXEC;
    return submit(job);
}

int co__file_read_at(co_file_job *job, const char *path, int64_t offset, void *buf, size_t len)
{
    if (path == NULL || (buf == NULL && len))
        return over(job, CO_EBADARG);
    if (offset < 0)
        return over(job, -EINVAL);
    prepare(job, OP_READ_AT, path, -1, buf, len, offset)->flags = O_RDONLY | O_CLOEXEC;
    return submit(job);
}

int co__file_write(co_file_job *job, const char *path, const void *buf, size_t len, int mode)
{
    static const int how[] = {O_TRUNC, O_APPEND, O_EXCL};
    if (path == NULL || (buf == NULL && len) || mode < CO_FILE_TRUNC || mode > CO_FILE_EXCL)
        return over(job, CO_EBADARG);
    /* the buffer is only read; the job keeps one pointer for both ways */
    prepare(job, OP_WRITE, path, -1, (void *)(uintptr_t)buf, len, -1);
    job->flags = O_WRONLY | O_CREAT | O_CLOEXEC | how[mode];
    job->perm = 0666;
    return submit(job);
}

int co__file_stat(co_file_job *job, const char *path)
{
    if (path == NULL)
        return over(job, CO_EBADARG);
    prepare(job, OP_STAT, path, -1, NULL, 0, -1);
    return submit(job);
}

int co__file_open(co_file_job *job, const char *path, int flags, unsigned perm)
{
    if (path == NULL)
        return over(job, CO_EBADARG);
    prepare(job, OP_OPEN, path, -1, NULL, 0, -1);
    job->flags = flags | O_CLOEXEC;
    job->perm = perm;
    return submit(job);
}

int co__file_pread(co_file_job *job, int fd, void *buf, size_t len, int64_t offset)
{
    if (buf == NULL && len)
        return over(job, CO_EBADARG);
    if (offset < 0)
        return over(job, -EINVAL);
    prepare(job, OP_PREAD, NULL, fd, buf, len, offset);
    return submit(job);
}

int co__file_pwrite(co_file_job *job, int fd, const void *buf, size_t len, int64_t offset)
{
    if (buf == NULL && len)
        return over(job, CO_EBADARG);
    if (offset < 0)
        return over(job, -EINVAL);
    prepare(job, OP_PWRITE, NULL, fd, (void *)(uintptr_t)buf, len, offset);
    return submit(job);
}

int co__file_close(co_file_job *job, int fd)
{
    prepare(job, OP_CLOSE, NULL, fd, NULL, 0, -1);
    return submit(job);
}

int co__file_call(co_file_job *job, int64_t (*fn)(void *arg), void *arg)
{
    if (fn == NULL)
        return over(job, CO_EBADARG);
    prepare(job, OP_CALL, NULL, -1, arg, 0, -1)->fn = fn;
    return submit(job);
}

/* ------------------------------------------------ the reactor's hooks */

void co__fs_drain(co_reactor *r)
{
    fs_state *s = r->fs;
    if (s == NULL)
        return;
#ifdef CORIO_HAVE_LIBURING
    if (s->ring_on)
        ring_reap(r, s);
#endif
    pool_reap(r, s);
}

/* A queued job is dropped and its task resumes now; a running one cannot
 * be stopped (it writes into the frame), so its task waits for it. */
bool co__fs_cancel(co_reactor *r, co_task *t)
{
    fs_state *s = r->fs;
    co_file_job *j = t->wait_on;
    if (s == NULL || j == NULL)
        return true;
#ifdef CORIO_HAVE_LIBURING
    if (j->step != STEP_POOL) {
        ring_cancel(s, j);
        return false;
    }
#endif
    if (!pool_unqueue(s, j))
        return false;
    j->result = CO_ECANCELLED;
    r->jobs--;
    return true;
}

void co__fs_fini(co_reactor *r)
{
    fs_state *s = r->fs;
    if (s == NULL)
        return;
    pool_stop(s);
#ifdef CORIO_HAVE_LIBURING
    if (s->ring_on)
        ring_close(s);
#endif
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    co__free(r->loop, s, s->size);
    r->fs = NULL;
}
