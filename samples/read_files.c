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
 * Each file is read by a task, in one job beside the loop (CO_FILE_READ_ALL
 * of corio/fs.h, the .py's asyncio.to_thread(work)): a regular file in one
 * read of its size, a FIFO or a file of /proc to its end.
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

/* ------------------------------------------------------------ the tasks */

static bool told; /* a reader said on stderr why it failed */

/* What Python's text-mode f.read() makes of what was read: 0, or why it
 * raises (said on stderr, as its traceback would): the read's errno, or
 * -EILSEQ for bytes that are not UTF-8. */
static int decode(const char *path, const char *data, int64_t result, text_view *v)
{
    if (result < 0) {
        told = true;
        fprintf(stderr, "read_files: %s: %s\n", path, co_strerror((int)result));
        return (int)result;
    }
    *v = view_text(data, (size_t)result);
    if (!v->valid) {
        told = true;
        fprintf(stderr, "read_files: %s: 'utf-8' codec can't decode byte 0x%02x in position %zu\n",
                path, (unsigned char)data[v->bad_at], v->bad_at);
        return -EILSEQ;
    }
    tour_trace("read %s: %lld bytes", path, (long long)result);
    return 0;
}

/* async def read_file(path): return await asyncio.to_thread(work): work's
   open(path).read() is one job on a worker (see corio/fs.h). */
CO_ASYNC(read_file, const char *path; co_file_job job; char *data; text_view view;)
    CO_FILE_READ_ALL(self, &self->job, self->path, &self->data);
    CO_CHECK(self, decode(self->path, self->data, self->job.result, &self->view));
CO_ASYNC_END

/* Tick n of --ticker; false when it was the last: the FIFO's last chunk,
 * or main being cancelled (Ctrl-C: a read on a worker cannot be
 * interrupted, so the feeder stops instead, and the FIFO's read ends). */
static bool tick(feeder *f, co_gen *main, int n)
{
    if (f == NULL) {
        tour_say("tick %d: the loop is free while the files are read", n);
    } else if (co_cancelling(main) > 0) { /* main.cancelling() */
        tour_trace("main is being cancelled: the feeder stops, and the read ends");
        feeder_stop(f);
        return false;
    } else {
        tour_say("tick %d: the loop runs while a worker reads; the FIFO gets chunk %d of %d", n,
                 n, FEED_CHUNKS);
        feeder_go(f);
    }
    return f == NULL || n < FEED_CHUNKS;
}

/* --ticker: a tick every TICK_MS; with the FIFO, each hands it a chunk, and
   the last chunk is the last tick. */
CO_ASYNC(ticker, feeder *feeder; co_gen *main; int n;)
    do {
        CO_SLEEP(self, TICK_MS);
    } while (tick(self->feeder, self->main, ++self->n));
CO_ASYNC_END

/* print(p, len(d), d.splitlines()[0] if d else "") */
static void print_file(const read_file *r)
{
    tour_say("%s %zu %.*s", r->path, r->view.chars, (int)r->view.first_line, r->data);
}

/* async def main(paths): datas = await asyncio.gather(*(read_file(p) for p
   in paths)), then a line per file (and the ticker beside the reads) */
CO_ASYNC(main_task, char **paths; size_t n, i; feeder *feeder; bool tick; read_file **files;
         ticker *ticker; co_gather gather;)
    CO_CHECK(self, (self->files = calloc(self->n, sizeof *self->files)) ? 0 : CO_ENOMEM);
    for (self->i = 0; self->i < self->n; self->i++)
        CO_CREATE_TASK(self, self->files[self->i], read_file, .path = self->paths[self->i]);
    if (self->tick)
        CO_CREATE_TASK(self, self->ticker, ticker, .feeder = self->feeder, .main = &self->gen);
    CO_GATHER(self, &self->gather, (co_gen *const *)self->files, self->n, CO_GATHER_FIRST_ERROR);
    if (self->ticker)
        co_cancel(&self->ticker->gen);
    for (self->i = 0; self->i < self->n; self->i++)
        print_file(self->files[self->i]);
CO_ASYNC_END

/* What the readers read (every job is over once co_run has returned). */
static void free_files(main_task *m)
{
    for (size_t i = 0; m->files && i < m->n; i++)
        if (m->files[i])
            free(m->files[i]->data);
    free(m->files);
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
    m = CO_TASK(loop, main_task, .tick = tick, .paths = argv + first_path, .n = (size_t)(argc - first_path));
    if (m == NULL) {
        tour_loop_free(loop);
        return tour_exit_status(argv[0], CO_ENOMEM);
    }
    if (m->n == 0) { /* --ticker alone: the slow FIFO */
        int err = feeder_start(&fifo, mib);
        if (err != 0) {
            fprintf(stderr, "%s: cannot set the FIFO up: %s\n", argv[0], strerror(err));
            feeder_free(&fifo);
            tour_loop_free(loop);
            return 1;
        }
        fifo_path[0] = fifo.path;
        m->paths = fifo_path;
        m->n = 1;
        m->feeder = &fifo;
    }
    rc = co_run(loop, &m->gen);
    if (m->feeder)
        feeder_free(m->feeder);
    free_files(m);
    /* a reader that failed said why, as Python's traceback would */
    rc = rc < 0 && told ? 1 : tour_exit_status(argv[0], rc);
    tour_loop_free(loop);
    return rc;
}
