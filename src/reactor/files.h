/*
 * files.h -- the insides of file jobs, shared by fs.c (the jobs' API and the
 * reactor's hooks), fs_pool.c (the worker threads) and fs_uring.c (io_uring).
 *
 * fs.c hands a job to the pool or the ring; both finish it with
 * co__fs_job_done(), and neither calls fs.c.
 */
#ifndef CORIO_FILES_H
#define CORIO_FILES_H

#include "reactor.h"

#include <pthread.h>
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
    OP_CALL,    /* to_thread */
    OP_READ_ALL /* open, read to the end into a malloc'd buffer, close */
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

static inline size_t co__fs_chunk(const co_file_job *j)
{
    size_t left = j->len - j->done;
    return left < MAX_CHUNK ? left : MAX_CHUNK;
}

static inline bool co__fs_writes(const co_file_job *j) { return j->op == OP_WRITE || j->op == OP_PWRITE; }

/* Whether the job opens and closes its own file. */
static inline bool co__fs_whole_file(const co_file_job *j)
{
    return j->op == OP_READ || j->op == OP_READ_AT || j->op == OP_WRITE;
}


/* The job is over: its task runs again. */
static inline void co__fs_job_done(co_reactor *r, co_file_job *j)
{
    r->jobs--;
    co__make_ready(r->loop, j->task);
}

/* Linux closes the fd even when close() is interrupted: that is success. */
int co__fs_close_fd(int fd);

/* The worker pool (fs_pool.c). */
int co__fs_pool_submit(fs_state *s, co_file_job *j);
bool co__fs_pool_unqueue(fs_state *s, co_file_job *j);
void co__fs_pool_stop(fs_state *s);
void co__fs_pool_reap(co_reactor *r, fs_state *s);

#ifdef CORIO_HAVE_LIBURING
/* io_uring (fs_uring.c). */
void co__fs_ring_open(co_reactor *r, fs_state *s);
bool co__fs_ring_takes(const fs_state *s, const co_file_job *j);
int co__fs_ring_start(fs_state *s, co_file_job *j);
void co__fs_ring_reap(co_reactor *r, fs_state *s);
void co__fs_ring_cancel(fs_state *s, co_file_job *j);
void co__fs_ring_close(fs_state *s);
#endif

#endif /* CORIO_FILES_H */
