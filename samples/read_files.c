/*
 * read_files.c -- reading several files at once without blocking the loop:
 * the lecture's aiofiles example, done with corio's file jobs.
 *
 * The Python it mirrors (samples/read_files.py, the lecture's example):
 *
 *     async def read_file(filepath):
 *         def work():
 *             with open(filepath, 'r') as f:
 *                 return f.read()
 *         return await asyncio.to_thread(work)
 *
 *     async def main(paths):
 *         datas = await asyncio.gather(*(read_file(p) for p in paths))
 *         for p, d in zip(paths, datas):
 *             print(p, len(d), d.splitlines()[0] if d else "")
 *
 * For the same files it prints the same lines: each path, its length in
 * characters (UTF-8 text, with "\r\n" and "\r" read as one "\n", as Python's
 * text mode does) and its first line, in the order of the arguments.  When a
 * file cannot be read, Python's gather raises and nothing is printed; this
 * program likewise prints nothing on stdout, says why on stderr, and exits
 * with status 1.  Unlike the .py, it wants at least one path.
 *
 * Each file is read by a task beside the loop (see corio/fs.h): the task
 * asks for the file's size, then reads it whole in one job; a file that
 * gives no size (a FIFO, /proc) is read to its end by a function run on a
 * worker thread, the .py's own asyncio.to_thread(work).
 *
 * --ticker adds a task printing "tick" every 0.1 s while the files are read,
 * to show the loop stays free.  Given no path, it reads a FIFO that a thread
 * fills in eight chunks of --fifo-mib / 8 MiB (64 MiB in all by default), one
 * chunk after each tick: the read cannot end before the eighth tick, so
 * every tick is printed while it runs, however fast the machine.
 * --fake-clock runs the ticks on virtual time; --trace puts the loop's time
 * in front of every line, and says when each read ends.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, mkfifo, pthread_sigmask */

#include "tour.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------ Python's view of text */

/*
 * The length in bytes of the UTF-8 character at s (left bytes remain), or 0
 * where Python's strict decoder would stop: a stray continuation byte, an
 * overlong form, a surrogate, a code point above U+10FFFF, or a character
 * cut short.
 */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned char b0 = s[0], lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (b0 < 0x80)
        return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF)
        n = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF)
        n = 3;
    else if (b0 >= 0xF0 && b0 <= 0xF4)
        n = 4;
    else
        return 0;
    /* the second byte's range is narrower after these four lead bytes */
    if (b0 == 0xE0)
        lo = 0xA0;
    else if (b0 == 0xED)
        hi = 0x9F;
    else if (b0 == 0xF0)
        lo = 0x90;
    else if (b0 == 0xF4)
        hi = 0x8F;
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Whether the character at s (n bytes) ends a line for str.splitlines():
 * \n \r \v \f, the separators \x1c-\x1e, U+0085, U+2028 and U+2029. */
static bool ends_line(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f' ||
               (s[0] >= 0x1C && s[0] <= 0x1E);
    if (n == 2)
        return s[0] == 0xC2 && s[1] == 0x85;
    return n == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9);
}

/* What len(d) and d.splitlines()[0] are for the file's bytes. */
typedef struct {
    size_t chars;      /* len(d) */
    size_t first_line; /* bytes of the first line, without its end */
    size_t bad_at;     /* where the UTF-8 is invalid; only if !valid */
    bool valid;
} text_view;

static text_view view_text(const char *data, size_t len)
{
    const unsigned char *s = (const unsigned char *)data;
    text_view v = {0, len, 0, true};
    bool line_ended = false;
    size_t i = 0;

    while (i < len) {
        size_t n = utf8_sequence(s + i, len - i);
        if (n == 0) {
            v.valid = false;
            v.bad_at = i;
            return v;
        }
        if (!line_ended && ends_line(s + i, n)) {
            v.first_line = i;
            line_ended = true;
        }
        /* text mode reads "\r\n" as a single "\n" */
        if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
            v.chars++;
        i += n;
    }
    return v;
}

/* ---------------------------------------------------------- read_file */

typedef struct {
    co_gen gen;
    co_file_job job;
    const char *path;
    char *data; /* the file's bytes (malloc'd: freed by main()), or NULL */
    size_t len;
    size_t cap;
    int error; /* 0, or why the file could not be read (a negative errno) */
    text_view view;
} read_file;

/*
 * The .py's work(): open, read to the end, close, on a worker thread.  It
 * grows its buffer as it goes, so it suits files that do not know their
 * size.  It may write into the frame: its task is suspended until it ends.
 */
static int64_t read_to_end(void *arg)
{
    read_file *r = arg;
    size_t cap = 64 * 1024, len = 0;
    char *data = malloc(cap);
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    int err = 0;

    if (data == NULL || fd < 0) {
        err = data == NULL ? -ENOMEM : -errno;
        free(data);
        return err;
    }
    for (;;) {
        ssize_t n;
        if (len == cap) {
            char *bigger = realloc(data, 2 * cap);
            if (bigger == NULL) {
                err = -ENOMEM;
                break;
            }
            data = bigger;
            cap *= 2;
        }
        n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? -errno : 0;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (err < 0) {
        free(data);
        return err;
    }
    r->data = data;
    r->len = len;
    return (int64_t)len;
}

static int read_file_fn(co_gen *g)
{
    read_file *self = (read_file *)g;
    CO_BEGIN(self);
    CO_FILE_STAT(self, &self->job, self->path);
    if (self->job.result < 0) {
        self->error = (int)self->job.result;
        CO_RETURN_VOID(self);
    }
    if (self->job.result > 0 && (uint64_t)self->job.result < SIZE_MAX) {
        /* one byte more than the size: a read that fills it all means the
           file grew since, and is read again below, to its end */
        self->cap = (size_t)self->job.result + 1;
        self->data = malloc(self->cap);
        if (self->data == NULL) {
            self->error = -ENOMEM;
            CO_RETURN_VOID(self);
        }
        CO_FILE_READ(self, &self->job, self->path, self->data, self->cap);
        if (self->job.result < 0) {
            self->error = (int)self->job.result;
            CO_RETURN_VOID(self);
        }
        if ((size_t)self->job.result < self->cap) {
            self->len = (size_t)self->job.result;
            tour_trace("read %s: %zu bytes", self->path, self->len);
            CO_RETURN_VOID(self);
        }
        free(self->data);
        self->data = NULL;
    }
    /* no size to go by (a FIFO, a file of /proc, an empty file), or a file
       that grew: the .py's way, to the end */
    CO_TO_THREAD(self, &self->job, read_to_end, self);
    if (self->job.result < 0)
        self->error = (int)self->job.result;
    else
        tour_trace("read %s: %zu bytes", self->path, self->len);
    CO_END(self);
}

/* ------------------------------------------------------- the FIFO feeder */

enum { FEED_CHUNKS = 8, TICK_MS = 100 };

/*
 * A thread writing a FIFO chunk by chunk, each chunk when the ticker hands
 * it a token (a byte on a pipe).  Closing the token pipe stops it early: it
 * then closes the FIFO, and the read of it ends.
 */
typedef struct {
    char dir[256], path[300]; /* the temporary directory and the FIFO in it */
    char header[96];          /* the FIFO's first line */
    char *chunk;
    size_t chunk_bytes;
    int tokens[2]; /* the ticker writes [1], the thread reads [0] */
    pthread_t thread;
    bool running;
} feeder;

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void *feed(void *arg)
{
    feeder *f = arg;
    int fd = open(f->path, O_WRONLY); /* waits for the reader to open it */
    int k;
    if (fd < 0)
        return NULL;
    if (write_all(fd, f->header, strlen(f->header)) == 0) {
        for (k = 0; k < FEED_CHUNKS; k++) {
            char token;
            ssize_t n;
            do
                n = read(f->tokens[0], &token, 1);
            while (n < 0 && errno == EINTR);
            if (n != 1 || write_all(fd, f->chunk, f->chunk_bytes) < 0)
                break;
        }
    }
    close(fd);
    return NULL;
}

/* The FIFO's text: a first line, then lines of dots. */
static void feeder_fill(feeder *f, int mib)
{
    size_t i;
    if (f->chunk_bytes % (1024 * 1024) == 0)
        snprintf(f->header, sizeof f->header, "a FIFO of %d MiB, %zu MiB a tick from a thread\n",
                 mib, f->chunk_bytes / (1024 * 1024));
    else
        snprintf(f->header, sizeof f->header, "a FIFO of %d MiB, %zu KiB a tick from a thread\n",
                 mib, f->chunk_bytes / 1024);
    for (i = 0; i < f->chunk_bytes; i++)
        f->chunk[i] = i % 64 == 63 ? '\n' : '.';
}

/* Makes the FIFO in a new temporary directory and starts the thread, which
 * blocks every signal so that Ctrl-C reaches the loop.  0 or an errno. */
static int feeder_start(feeder *f, int mib)
{
    const char *tmp = getenv("TMPDIR");
    sigset_t all, old;
    int err;

    memset(f, 0, sizeof *f);
    f->tokens[0] = f->tokens[1] = -1;
    f->chunk_bytes = (size_t)mib * 1024 * 1024 / FEED_CHUNKS;
    f->chunk = malloc(f->chunk_bytes);
    if (f->chunk == NULL)
        return ENOMEM;
    feeder_fill(f, mib);
    snprintf(f->dir, sizeof f->dir, "%s/read_files-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        f->dir[0] = '\0'; /* nothing to remove */
        return errno;
    }
    snprintf(f->path, sizeof f->path, "%s/slow.fifo", f->dir);
    if (mkfifo(f->path, 0600) != 0 || pipe(f->tokens) != 0)
        return errno;
    /* the ticker's writes never wait: at most FEED_CHUNKS bytes are in flight */
    fcntl(f->tokens[1], F_SETFL, O_NONBLOCK);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&f->thread, NULL, feed, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    f->running = err == 0;
    return err;
}

/* Lets the thread write one more chunk. */
static void feeder_go(feeder *f)
{
    if (f->tokens[1] >= 0)
        (void)!write(f->tokens[1], "", 1);
}

/* Makes the thread finish: no more tokens, and a reader for a FIFO nobody
 * opened, so that the thread's own open returns.  Safe to call again. */
static void feeder_stop(feeder *f)
{
    int fd;
    if (f->tokens[1] >= 0) {
        close(f->tokens[1]);
        f->tokens[1] = -1;
    }
    if (f->running && (fd = open(f->path, O_RDONLY | O_NONBLOCK)) >= 0)
        close(fd);
}

/* Stops and joins the thread, and removes the FIFO and its directory. */
static void feeder_free(feeder *f)
{
    feeder_stop(f);
    if (f->running)
        pthread_join(f->thread, NULL);
    f->running = false;
    if (f->tokens[0] >= 0)
        close(f->tokens[0]);
    if (f->path[0])
        unlink(f->path);
    if (f->dir[0])
        rmdir(f->dir);
    free(f->chunk);
}

/* ------------------------------------------------------------ ticker */

/*
 * Prints a tick every TICK_MS.  With a feeder, each tick hands it a token,
 * and the ticker stops after the last chunk; else it ticks until cancelled.
 *
 * Ctrl-C cancels main, whose gather cancels the readers; but a read running
 * on a worker cannot be interrupted (in Python neither), so the cancellation
 * lands only once the read ends, and the FIFO's read ends only when the
 * feeder closes it.  The ticker therefore watches main: once main is being
 * cancelled, it stops the feeder instead of ticking on.
 */
typedef struct {
    co_gen gen;
    feeder *feeder;
    co_gen *main;
    int n;
} ticker;

static int ticker_fn(co_gen *g)
{
    ticker *self = (ticker *)g;
    CO_BEGIN(self);
    for (self->n = 1; self->feeder == NULL || self->n <= FEED_CHUNKS; self->n++) {
        CO_SLEEP(self, TICK_MS);
        if (self->feeder == NULL) {
            tour_say("tick %d: the loop is free while the files are read", self->n);
        } else if (co_cancelling(self->main) > 0) { /* main.cancelling() */
            tour_trace("main is being cancelled: the feeder stops, and the read ends");
            feeder_stop(self->feeder);
            break;
        } else {
            tour_say("tick %d: the loop runs while a worker reads; the FIFO gets chunk %d of %d",
                     self->n, self->n, FEED_CHUNKS);
            feeder_go(self->feeder);
        }
    }
    CO_END(self);
}

/* -------------------------------------------------------------- main */

typedef struct {
    co_gen gen;
    int npaths;
    char **paths;
    feeder *feeder; /* the FIFO's, or NULL */
    bool tick;
    read_file **readers; /* npaths of them, for main() to free */
    co_gen **tasks;
    ticker *ticker;
    co_gather gather;
    bool failed; /* some file could not be read */
    int i;
} main_task;

/* d = f.read(): false, with the reason on stderr, if r gives Python no text. */
static bool decode(read_file *r)
{
    if (r->error < 0) {
        fprintf(stderr, "read_files: %s: %s\n", r->path, co_strerror(r->error));
        return false;
    }
    r->view = view_text(r->data, r->len);
    if (!r->view.valid) {
        fprintf(stderr,
                "read_files: %s: 'utf-8' codec can't decode byte 0x%02x in position %zu\n",
                r->path, (unsigned char)r->data[r->view.bad_at], r->view.bad_at);
        return false;
    }
    return true;
}

/* print(p, len(d), d.splitlines()[0] if d else "") */
static void print_file(const read_file *r)
{
    tour_say("%s %zu %.*s", r->path, r->view.chars, (int)r->view.first_line,
             r->len ? r->data : "");
}

static int main_fn(co_gen *g)
{
    main_task *self = (main_task *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    self->readers = calloc((size_t)self->npaths, sizeof *self->readers);
    self->tasks = calloc((size_t)self->npaths, sizeof *self->tasks);
    if (self->readers == NULL || self->tasks == NULL)
        CO_RAISE(self, CO_ENOMEM);
    for (self->i = 0; self->i < self->npaths; self->i++) {
        read_file *r = CO_NEW(loop, read_file, read_file_fn);
        if (r == NULL)
            CO_RAISE(self, CO_ENOMEM);
        r->path = self->paths[self->i];
        self->readers[self->i] = r;
        self->tasks[self->i] = &r->gen;
    }
    if (self->tick) {
        self->ticker = CO_NEW(loop, ticker, ticker_fn);
        if (self->ticker == NULL)
            CO_RAISE(self, CO_ENOMEM);
        self->ticker->feeder = self->feeder;
        self->ticker->main = &self->gen;
        co_spawn(&self->ticker->gen);
    }
    /* datas = await asyncio.gather(*(read_file(p) for p in paths)) */
    CO_GATHER(self, &self->gather, self->tasks, (size_t)self->npaths, CO_GATHER_FIRST_ERROR);
    if (self->ticker)
        co_cancel(&self->ticker->gen);
    /* Python decodes every file before it prints any line */
    for (self->i = 0; self->i < self->npaths; self->i++)
        if (!decode(self->readers[self->i]))
            self->failed = true;
    if (self->failed)
        CO_RETURN_VOID(self);
    for (self->i = 0; self->i < self->npaths; self->i++)
        print_file(self->readers[self->i]);
    CO_END(self);
}

static void free_readers(main_task *m)
{
    int i;
    if (m->readers)
        for (i = 0; i < m->npaths; i++)
            if (m->readers[i])
                free(m->readers[i]->data);
    free(m->readers);
    free(m->tasks);
}

/* --fifo-mib: a whole number of MiB from 1 to 1024; -1 if bad. */
static int parse_mib(const char *text)
{
    char *end;
    long mib = strtol(text, &end, 10);
    return *text && *end == '\0' && mib >= 1 && mib <= 1024 ? (int)mib : -1;
}

int main(int argc, char **argv)
{
    static const char usage[] =
        "[--ticker [--fifo-mib N]] [--fake-clock] [--trace] PATH...  (no PATH: --ticker's FIFO)";
    static feeder fifo;
    char *fifo_path[1];
    bool tick = false;
    int mib = 64, first_path = argc, rc, i;
    co_loop *loop;
    main_task *m;

    for (i = 1; i < argc && first_path == argc; i++) {
        if (strcmp(argv[i], "--ticker") == 0)
            tick = true;
        else if (strcmp(argv[i], "--fifo-mib") == 0 && i + 1 < argc) {
            if ((mib = parse_mib(argv[++i])) < 0)
                tour_usage_error(argv[0], usage, argv[i]);
        } else if (strcmp(argv[i], "--") == 0)
            first_path = i + 1;
        else if (argv[i][0] != '-' || argv[i][1] == '\0') /* a path, "-" included */
            first_path = i;
        else if (!tour_option(argv[i]))
            tour_usage_error(argv[0], usage, argv[i]);
    }
    if (first_path == argc && !tick) {
        fprintf(stderr, "%s: no file to read\nusage: %s %s\n", argv[0], argv[0], usage);
        return 2;
    }

    loop = tour_loop();
    m = CO_NEW(loop, main_task, main_fn);
    if (m == NULL) {
        tour_loop_free(loop);
        return tour_exit_status(argv[0], CO_ENOMEM);
    }
    m->tick = tick;
    m->paths = argv + first_path;
    m->npaths = argc - first_path;
    if (m->npaths == 0) { /* --ticker alone: the slow FIFO */
        int err = feeder_start(&fifo, mib);
        if (err != 0) {
            fprintf(stderr, "%s: cannot set the FIFO up: %s\n", argv[0], strerror(err));
            feeder_free(&fifo);
            tour_loop_free(loop);
            return 1;
        }
        fifo_path[0] = fifo.path;
        m->paths = fifo_path;
        m->npaths = 1;
        m->feeder = &fifo;
    }
    rc = co_run(loop, &m->gen);
    if (m->feeder)
        feeder_free(m->feeder);
    free_readers(m); /* every job is over once co_run has returned */
    if (rc == 0 && m->failed)
        rc = 1;
    else
        rc = tour_exit_status(argv[0], rc);
    tour_loop_free(loop);
    return rc;
}
