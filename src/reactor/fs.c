/*
 * fs.c -- file jobs: the work behind fs.h, done beside the loop by a pool of
 * worker threads (fs_pool.c) or by io_uring (fs_uring.c).
 *
 * A job lives in its task's frame.  The task hands it over and suspends with
 * wait kind CO__W_JOB; when the job is over, the file subsystem's drain hook
 * (run by the reactor on its wake-up) readies the task again.  The reactor
 * knows files only through that subsystem, attached with the first job.
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void fs_drain(co_reactor *r);
static bool fs_cancel(co_reactor *r, co_task *t);
static void fs_fini(co_reactor *r);

/* Stops the workers and the ring, and frees the state. */
static void fs_fini_state(co_loop *loop, fs_state *s)
{
    /* A forked child has none of the workers, and their lock and condition
       may be frozen mid-use: it neither joins, locks nor destroys them.  Its
       copy of the ring only unmaps and closes what is the child's own. */
    bool inherited = co__reactor_inherited(co__reactor(loop));
    if (!inherited)
        co__fs_pool_stop(s);
#ifdef CORIO_HAVE_LIBURING
    if (s->ring_on)
        co__fs_ring_close(s);
#endif
    if (!inherited) {
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->lock);
    }
    co__free(loop, s, s->size);
}

static const co__subsys files = {
    .wait = CO__W_JOB,
    .drain = fs_drain,
    .cancel = fs_cancel,
    .fini = fs_fini,
};

static int pool_size(const co_reactor *r)
{
    return r->workers > 0 ? r->workers : DEFAULT_WORKERS;
}

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
    co__fs_ring_open(r, s);
#endif
    if ((rc = co__reactor_attach(r, &files)) < 0) {
        fs_fini_state(r->loop, s);
        return rc;
    }
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
    /* a worker uses the job, its path and buffer after the task suspends */
    if (co__on_stack(loop, j) || co__on_stack(loop, j->path) || co__on_stack(loop, j->buf))
        return over(j, CO_ESTACKARG);
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
    if (co__fs_ring_takes(s, j))
        rc = co__fs_ring_start(s, j);
    else
#endif
        rc = co__fs_pool_submit(s, j);
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

int co__file_read_all(co_file_job *job, const char *path, char **data)
{
    if (path == NULL || data == NULL)
        return over(job, CO_EBADARG);
    *data = NULL;
    /* the worker stores the buffer through `data`: it must outlive the await */
    prepare(job, OP_READ_ALL, path, -1, data, 0, -1)->flags = O_RDONLY | O_CLOEXEC;
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

static void fs_drain(co_reactor *r)
{
    fs_state *s = r->fs;
    if (s == NULL)
        return;
#ifdef CORIO_HAVE_LIBURING
    if (s->ring_on)
        co__fs_ring_reap(r, s);
#endif
    co__fs_pool_reap(r, s);
}

/* A queued job is dropped and its task resumes now; a running one cannot
 * be stopped (it writes into the frame), so its task waits for it. */
static bool fs_cancel(co_reactor *r, co_task *t)
{
    fs_state *s = r->fs;
    co_file_job *j = t->wait_on;
    if (s == NULL || j == NULL)
        return true;
#ifdef CORIO_HAVE_LIBURING
    if (j->step != STEP_POOL) {
        co__fs_ring_cancel(s, j);
        return false;
    }
#endif
    if (!co__fs_pool_unqueue(s, j))
        return false;
    j->result = CO_ECANCELLED;
    r->jobs--;
    return true;
}

static void fs_fini(co_reactor *r)
{
    if (r->fs == NULL)
        return;
    fs_fini_state(r->loop, r->fs);
    r->fs = NULL;
}
