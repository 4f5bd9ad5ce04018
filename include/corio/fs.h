/*
 * corio/fs.h -- files that never block the loop: Python's aiofiles and
 * asyncio.to_thread.
 *
 * A regular file is always "ready" to poll(), yet reading it may wait for a
 * disk, so file work runs beside the loop: on io_uring where the kernel
 * offers it, otherwise on a small pool of worker threads.  Each await hands
 * one *job* over and suspends the task until the job is finished; the loop
 * keeps running every other task meanwhile.
 *
 * A job is a `co_file_job` in the task's frame: nothing is allocated per
 * job.  One job does a whole chore -- open, read everything, close -- so a
 * whole-file read costs one trip to a worker, like the function a Python
 * program passes to asyncio.to_thread.
 *
 *     typedef struct { co_gen gen; co_file_job job; char buf[4096]; } cat;
 *
 *     static int cat_fn(co_gen *g)
 *     {
 *         cat *self = (cat *)g;
 *         CO_BEGIN(self);
 *         CO_FILE_READ(self, &self->job, "notes.txt", self->buf, sizeof self->buf);
 *         if (self->job.result < 0)                  // -ENOENT, -EISDIR, ...
 *             printf("%s\n", co_strerror((int)self->job.result));
 *         else
 *             fwrite(self->buf, 1, (size_t)self->job.result, stdout);
 *         CO_END(self);
 *     }
 *
 * After each await `job.result` holds the outcome: a byte count, a size or
 * an fd (>= 0), or a negative errno (or CO_ENOMEM, CO_ENOTASK, CO_EBADARG
 * from the runtime).  Failures of the file work are never raised: the one
 * error an await raises is CO_ECANCELLED.
 *
 * Cancellation cannot interrupt a worker in the middle of a read(), and the
 * worker writes into the frame, so a task cancelled while its job runs stays
 * suspended until the job is over; only then is CO_ECANCELLED thrown at the
 * await.  A job still waiting in the queue is simply dropped; io_uring is
 * asked to interrupt the step in flight, and the job stops after it.  After
 * a cancellation `job.result` says nothing useful, but a file the job
 * opened has been closed.  Buffers and paths must stay valid until the
 * await returns: keep them in the frame or in memory the frame owns.
 *
 * The pool has co_loop_options.workers threads (4 when 0), started on the
 * first job that needs one and joined by co_loop_free.  The environment
 * variable CORIO_FS=threads makes a loop use the pool even where io_uring
 * works; co_fs_backend() tells which one a loop uses.
 */
#ifndef CORIO_FS_H
#define CORIO_FS_H

#include <corio/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One file job (96 bytes on 64-bit): lives in the task's frame; reusable
 * once its await is over, by one task at a time. */
typedef struct co_file_job {
    int64_t result; /* the outcome, after the await (see above) */
    /* private: the job's arguments and progress */
    struct co_file_job *next; /* the pool's queue, then its list of finished jobs */
    co_task *task;            /* the task waiting for it */
    const char *path;
    void *buf;
    int64_t (*fn)(void *arg);
    size_t len, done;
    int64_t offset; /* < 0: the file's own position (whole-file jobs) */
    int fd, flags, err;
    unsigned perm;
    uint8_t op, step, state;
} co_file_job;

/* How CO_FILE_WRITE opens its file, after Python's open() modes. */
enum co_file_mode {
    CO_FILE_TRUNC,  /* "wb": create, or empty an existing file          */
    CO_FILE_APPEND, /* "ab": create, or add at the end of an existing one */
    CO_FILE_EXCL    /* "xb": create; -EEXIST if the file already exists   */
};

/* ------------------------------------------------------- whole files */

/*
 * data = await asyncio.to_thread(lambda: open(path, "rb").read(cap))
 * (aiofiles: async with aiofiles.open(path, "rb") as f: data = await f.read(cap))
 *
 * Opens `path`, reads until end of file or `cap` bytes, closes.  result: the
 * bytes read into buf (a file longer than cap gives cap: size buf with
 * CO_FILE_STAT first to read all of it), or a negative errno.  Works on
 * FIFOs and character devices too, since it reads from the file's position.
 */
#define CO_FILE_READ(self, job, path, buf, cap)                                           \
    CO__FILE_AWAIT(self, co__file_read((job), (path), (buf), (cap)))

/*
 * data = await asyncio.to_thread(lambda: open(path, "rb").read())
 * (aiofiles: async with aiofiles.open(path, "rb") as f: data = await f.read())
 *
 * Opens `path`, reads it to its end, closes: regular files in one read of
 * the size they have, FIFOs and devices by a buffer that doubles.  result:
 * the length, with *data (a `char *` of the frame) a malloc'd buffer of
 * that many bytes plus a NUL; or a negative errno, *data NULL.  Free *data
 * with free() -- also after a cancellation, which may land once the read
 * has been done (it is NULL when there is nothing to free).
 */
#define CO_FILE_READ_ALL(self, job, path, data)                                            \
    CO__FILE_AWAIT(self, co__file_read_all((job), (path), (data)))

/*
 * with open(path, "rb") as f: f.seek(offset); data = f.read(len)
 *
 * The same for the range [offset, offset + len) of a seekable file (offset
 * >= 0, else -EINVAL).  Past the end of the file the result is short, or 0.
 */
#define CO_FILE_READ_AT(self, job, path, offset, buf, len)                                \
    CO__FILE_AWAIT(self, co__file_read_at((job), (path), (offset), (buf), (len)))

/*
 * with open(path, "wb" / "ab" / "xb") as f: f.write(buf[:len])
 *
 * Opens `path` as `mode` says (a new file gets mode 0666 less the umask),
 * writes all len bytes, closes.  result: len, or a negative errno (a failed
 * close counts, as the `with` block raises it).
 */
#define CO_FILE_WRITE(self, job, path, buf, len, mode)                                    \
    CO__FILE_AWAIT(self, co__file_write((job), (path), (buf), (len), (mode)))

/*
 * size = os.path.getsize(path)   (aiofiles.os.stat(path).st_size)
 *
 * result: the size in bytes of what `path` names (following symlinks), or a
 * negative errno.
 */
#define CO_FILE_STAT(self, job, path) CO__FILE_AWAIT(self, co__file_stat((job), (path)))

/* ----------------------------------------------------- open files */

/*
 * fd = os.open(path, flags, perm)
 *
 * flags are open(2)'s (O_RDONLY, O_RDWR | O_CREAT, ...); like Python, the fd
 * is opened close-on-exec.  result: the fd, or a negative errno.  Use the fd
 * with the three calls below; it is not watched by the loop.
 */
#define CO_FILE_OPEN(self, job, path, flags, perm)                                        \
    CO__FILE_AWAIT(self, co__file_open((job), (path), (flags), (perm)))

/*
 * data = os.pread(fd, len, offset)
 *
 * Reads up to len bytes at offset (>= 0) into buf, going on after a short
 * read until len bytes or end of file.  result: the bytes read, or a
 * negative errno.
 */
#define CO_FILE_PREAD(self, job, fd, buf, len, offset)                                    \
    CO__FILE_AWAIT(self, co__file_pread((job), (fd), (buf), (len), (offset)))

/*
 * os.pwrite(fd, buf[:len], offset)
 *
 * Writes all len bytes at offset (>= 0; Linux writes at the end of an fd
 * opened O_APPEND).  result: len, or a negative errno.
 */
#define CO_FILE_PWRITE(self, job, fd, buf, len, offset)                                   \
    CO__FILE_AWAIT(self, co__file_pwrite((job), (fd), (buf), (len), (offset)))

/*
 * os.close(fd)
 *
 * A close may wait too (a network file system flushes on it).  result: 0 or
 * a negative errno; the fd is closed either way.
 */
#define CO_FILE_CLOSE(self, job, fd) CO__FILE_AWAIT(self, co__file_close((job), (fd)))

/* ------------------------------------------------- any blocking call */

/*
 * result = await asyncio.to_thread(fn, arg)
 *
 * Runs fn(arg) on a worker thread; result: what it returns.  fn must not
 * touch the loop or its tasks, except through co_loop_wake and
 * co_call_soon_threadsafe.  Always runs on the pool, io_uring or not.
 */
#define CO_TO_THREAD(self, job, fn, arg) CO__FILE_AWAIT(self, co__file_call((job), (fn), (arg)))

/* ------------------------------------------------------------ backend */

/*
 * Where the loop's file jobs go: "io_uring" or "threads" (NULL when the
 * loop has no reactor, or when setting the file machinery up runs out of
 * memory).  Decided on first use, by this call or the first job: io_uring
 * when corio was built with liburing, the kernel allows it, and CORIO_FS is
 * not "threads".  (Stat and CO_TO_THREAD jobs use the pool in both cases.)
 */
CO_API const char *co_fs_backend(co_loop *loop);

/* ---------------------------------------------------------- internals */

/* Hand a job over for the current task: 0, it now waits (suspend); 1, the
 * job is already over (job->result says how). */
CO_API int co__file_read(co_file_job *job, const char *path, void *buf, size_t cap);
CO_API int co__file_read_at(co_file_job *job, const char *path, int64_t offset, void *buf, size_t len);
CO_API int co__file_write(co_file_job *job, const char *path, const void *buf, size_t len, int mode);
CO_API int co__file_read_all(co_file_job *job, const char *path, char **data);
CO_API int co__file_stat(co_file_job *job, const char *path);
CO_API int co__file_open(co_file_job *job, const char *path, int flags, unsigned perm);
CO_API int co__file_pread(co_file_job *job, int fd, void *buf, size_t len, int64_t offset);
CO_API int co__file_pwrite(co_file_job *job, int fd, const void *buf, size_t len, int64_t offset);
CO_API int co__file_close(co_file_job *job, int fd);
CO_API int co__file_call(co_file_job *job, int64_t (*fn)(void *arg), void *arg);

/* Suspends while the job runs; a cancellation is thrown here once it ended. */
#define CO__FILE_AWAIT(self, start)                                                        \
    do {                                                                                   \
        if ((start) == 0)                                                                  \
            CO__SUSPEND_TASK(self, false);                                                 \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_FS_H */
