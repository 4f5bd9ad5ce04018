/*
 * read_write.c -- what file jobs do: the lecture's read_files.py (several
 * files read at once, their sizes and first lines), writes in each of
 * open()'s modes, ranges, the fd calls, to_thread, and errors coming back
 * as codes with their text.
 */
#include "fs_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(read_write, .init = ft_init, .fini = ft_fini, .timeout = 10);

/* ------------------------------------------------ read_files.py */

/*
 *   async def read_file(filepath):
 *       def work():
 *           with open(filepath, 'r') as f:
 *               return f.read()
 *       return await asyncio.to_thread(work)
 *
 * In C the task first asks the size, then reads into a buffer that size.
 */
typedef struct {
    co_gen gen;
    co_file_job job;
    const char *path;
    char *data;
    int64_t size, got;
} read_file;

static int read_file_fn(co_gen *g)
{
    read_file *self = (read_file *)g;
    CO_BEGIN(self);
    CO_FILE_STAT(self, &self->job, self->path);
    self->size = self->job.result;
    if (self->size < 0)
        CO_RETURN_VOID(self);
    self->data = malloc((size_t)self->size + 1);
    CO_FILE_READ(self, &self->job, self->path, self->data, (size_t)self->size + 1);
    self->got = self->job.result;
    CO_END(self);
}

#define NFILES 4

typedef struct {
    co_gen gen;
    co_gather gather;
    read_file *readers[NFILES];
    const char *paths[NFILES];
} read_files_main;

static int read_files_main_fn(co_gen *g)
{
    read_files_main *self = (read_files_main *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    for (int i = 0; i < NFILES; i++) {
        self->readers[i] = CO_NEW(loop, read_file, read_file_fn);
        cr_assert_not_null(self->readers[i]);
        self->readers[i]->path = self->paths[i];
    }
    CO_GATHER(self, &self->gather, (co_gen *const *)self->readers, NFILES, CO_GATHER_ALL);
    CO_END(self);
}

/* The contents: a few lines of text each, and one large enough to take
 * several reads. */
static char *make_contents(int i, size_t *len)
{
    size_t n = i == NFILES - 1 ? (size_t)3 << 20 : (size_t)(40 + 300 * i);
    char *s = malloc(n);
    size_t at = (size_t)snprintf(s, n, "file %d: first line\n", i);
    for (; at < n; at++)
        s[at] = at % 61 == 60 ? '\n' : (char)('a' + (at * 7 + (size_t)i) % 26);
    *len = n;
    return s;
}

/* The length of the first line of s[0..n), its LF excluded. */
static size_t first_line(const char *s, size_t n)
{
    const char *nl = memchr(s, '\n', n);
    return nl ? (size_t)(nl - s) : n;
}

Test(read_write, read_files_reads_several_files_at_once)
{
    co_loop *loop = ft_loop(0);
    read_files_main *m = CO_NEW(loop, read_files_main, read_files_main_fn);
    char *want[NFILES];
    size_t len[NFILES];
    char name[32];
    for (int i = 0; i < NFILES; i++) {
        want[i] = make_contents(i, &len[i]);
        snprintf(name, sizeof name, "f%d.txt", i);
        ft_write(name, want[i], len[i]);
        m->paths[i] = strdup(ft_path(name));
    }
    cr_assert_eq(co_run(loop, &m->gen), 0);
    for (int i = 0; i < NFILES; i++) {
        read_file *r = m->readers[i];
        size_t first, wfirst;
        cr_assert_eq(co_task_result(&r->gen), 0);
        cr_assert_eq(r->size, (int64_t)len[i], "%s: size %lld", r->path, (long long)r->size);
        cr_assert_eq(r->got, (int64_t)len[i], "%s: read %lld", r->path, (long long)r->got);
        cr_assert(memcmp(r->data, want[i], len[i]) == 0, "%s: contents differ", r->path);
        /* print(p, len(d), d.splitlines()[0]): neither buffer ends with a
           NUL, so the line is found within the bytes read (no sscanf) */
        first = first_line(r->data, (size_t)r->got);
        wfirst = first_line(want[i], len[i]);
        cr_assert(first == wfirst && memcmp(r->data, want[i], first) == 0,
                  "%s: first line \"%.*s\"", r->path, (int)first, r->data);
        free(r->data);
        free(want[i]);
        free((char *)m->paths[i]);
    }
    rt_free_loop(loop);
}

/* data = await read_file(path): the coroutine awaited inline, not a task */
typedef struct {
    co_gen gen;
    read_file child;
} inline_main;

static int inline_main_fn(co_gen *g)
{
    inline_main *self = (inline_main *)g;
    CO_BEGIN(self);
    CO_AWAIT(self, child);
    CO_END(self);
}

Test(read_write, a_child_coroutine_awaits_jobs_for_its_task)
{
    co_loop *loop = ft_loop(0);
    inline_main *m = CO_NEW(loop, inline_main, inline_main_fn);
    ft_write("inline.txt", "inline\n", 7);
    CO_INIT(&m->child, read_file_fn);
    m->child.path = ft_path("inline.txt");
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_assert_eq(m->child.size, 7);
    cr_assert_eq(m->child.got, 7);
    cr_assert(memcmp(m->child.data, "inline\n", 7) == 0);
    free(m->child.data);
    rt_free_loop(loop);
}

/* ---------------------------------------------------- open() modes */

typedef struct {
    co_gen gen;
    co_file_job job;
    const char *path;
    char buf[64];
    int64_t r[12];
} modes_task;

static int modes_fn(co_gen *g)
{
    modes_task *self = (modes_task *)g;
    CO_BEGIN(self);
    CO_FILE_WRITE(self, &self->job, self->path, "hello\n", 6, CO_FILE_TRUNC);
    self->r[0] = self->job.result;
    CO_FILE_WRITE(self, &self->job, self->path, "world\n", 6, CO_FILE_APPEND);
    self->r[1] = self->job.result;
    CO_FILE_READ(self, &self->job, self->path, self->buf, sizeof self->buf);
    self->r[2] = self->job.result;
    CO_FILE_WRITE(self, &self->job, self->path, "x", 1, CO_FILE_EXCL);
    self->r[3] = self->job.result;
    CO_FILE_WRITE(self, &self->job, self->path, "abc", 3, CO_FILE_TRUNC);
    self->r[4] = self->job.result;
    CO_FILE_STAT(self, &self->job, self->path);
    self->r[5] = self->job.result;
    /* a read that stops at cap, and an empty write */
    CO_FILE_READ(self, &self->job, self->path, self->buf + 20, 2);
    self->r[6] = self->job.result;
    CO_FILE_WRITE(self, &self->job, ft_path("empty"), "", 0, CO_FILE_EXCL);
    self->r[7] = self->job.result;
    CO_FILE_STAT(self, &self->job, ft_path("empty"));
    self->r[8] = self->job.result;
    CO_END(self);
}

Test(read_write, write_modes_follow_python_open)
{
    co_loop *loop = ft_loop(0);
    modes_task *t = CO_NEW(loop, modes_task, modes_fn);
    t->path = ft_path("modes.txt");
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(t->r[0], 6); /* "wb" */
    cr_assert_eq(t->r[1], 6); /* "ab" */
    cr_assert_eq(t->r[2], 12);
    cr_assert(memcmp(t->buf, "hello\nworld\n", 12) == 0);
    cr_assert_eq(t->r[3], -EEXIST, "%lld", (long long)t->r[3]); /* "xb" on an existing file */
    cr_assert_eq(t->r[4], 3);
    cr_assert_eq(t->r[5], 3); /* "wb" truncated the 12 bytes */
    cr_assert_eq(t->r[6], 2);
    cr_assert(memcmp(t->buf + 20, "ab", 2) == 0);
    cr_assert_eq(t->r[7], 0);
    cr_assert_eq(t->r[8], 0);
    rt_free_loop(loop);
}

/* --------------------------------------------------------- ranges */

typedef struct {
    co_gen gen;
    co_file_job job;
    const char *path;
    char buf[16];
    int64_t r[3];
} range_task;

static int range_fn(co_gen *g)
{
    range_task *self = (range_task *)g;
    CO_BEGIN(self);
    CO_FILE_READ_AT(self, &self->job, self->path, 10, self->buf, 5);
    self->r[0] = self->job.result;
    CO_FILE_READ_AT(self, &self->job, self->path, 23, self->buf + 5, 10); /* past the end */
    self->r[1] = self->job.result;
    CO_FILE_READ_AT(self, &self->job, self->path, 100, self->buf + 10, 1);
    self->r[2] = self->job.result;
    CO_END(self);
}

Test(read_write, read_at_reads_a_range)
{
    co_loop *loop = ft_loop(0);
    range_task *t = CO_NEW(loop, range_task, range_fn);
    const char *abc = "abcdefghijklmnopqrstuvwxyz";
    ft_write("abc", abc, 26);
    t->path = ft_path("abc");
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(t->r[0], 5);
    cr_assert(memcmp(t->buf, abc + 10, 5) == 0);
    cr_assert_eq(t->r[1], 3); /* f.seek(23); f.read(10) gives the last 3 */
    cr_assert(memcmp(t->buf + 5, abc + 23, 3) == 0);
    cr_assert_eq(t->r[2], 0);
    rt_free_loop(loop);
}

/* ------------------------------------------------------ fd calls */

typedef struct {
    co_gen gen;
    co_file_job job;
    const char *path;
    int fd;
    char buf[16];
    int64_t r[8];
} fd_task;

static int fd_fn(co_gen *g)
{
    fd_task *self = (fd_task *)g;
    CO_BEGIN(self);
    CO_FILE_OPEN(self, &self->job, self->path, O_RDWR | O_CREAT | O_EXCL, 0600);
    self->r[0] = self->job.result;
    self->fd = (int)self->job.result;
    CO_FILE_PWRITE(self, &self->job, self->fd, "abcdef", 6, 0);
    self->r[1] = self->job.result;
    CO_FILE_PWRITE(self, &self->job, self->fd, "XY", 2, 2);
    self->r[2] = self->job.result;
    CO_FILE_PREAD(self, &self->job, self->fd, self->buf, 6, 0);
    self->r[3] = self->job.result;
    CO_FILE_PREAD(self, &self->job, self->fd, self->buf + 8, 8, 4); /* stops at end of file */
    self->r[4] = self->job.result;
    self->r[7] = fcntl(self->fd, F_GETFD); /* Python's fds are not inherited */
    CO_FILE_CLOSE(self, &self->job, self->fd);
    self->r[5] = self->job.result;
    CO_FILE_PREAD(self, &self->job, -1, self->buf, 4, 0);
    self->r[6] = self->job.result;
    CO_END(self);
}

Test(read_write, fd_calls_are_os_open_pread_pwrite_close)
{
    co_loop *loop = ft_loop(0);
    fd_task *t = CO_NEW(loop, fd_task, fd_fn);
    struct stat st;
    t->path = ft_path("fd.bin");
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_geq(t->r[0], 0, "open: %s", co_strerror((int)t->r[0]));
    cr_assert_eq(t->r[1], 6);
    cr_assert_eq(t->r[2], 2);
    cr_assert_eq(t->r[3], 6);
    cr_assert(memcmp(t->buf, "abXYef", 6) == 0);
    cr_assert_eq(t->r[4], 2);
    cr_assert(memcmp(t->buf + 8, "ef", 2) == 0);
    cr_assert_eq(t->r[5], 0);
    cr_assert_eq(t->r[6], -EBADF);
    cr_assert(t->r[7] & FD_CLOEXEC);
    cr_assert_eq(fcntl(t->fd, F_GETFD), -1, "the fd is still open");
    cr_assert_eq(stat(t->path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    rt_free_loop(loop);
}

/* ---------------------------------------------------- to_thread */

static int64_t which_thread(void *arg)
{
    pthread_t *loop_thread = arg;
    return pthread_equal(*loop_thread, pthread_self()) ? 0 : 7;
}

typedef struct {
    co_gen gen;
    co_file_job job;
    pthread_t loop_thread;
    int64_t result;
} call_task;

static int call_fn(co_gen *g)
{
    call_task *self = (call_task *)g;
    CO_BEGIN(self);
    self->loop_thread = pthread_self();
    CO_TO_THREAD(self, &self->job, which_thread, &self->loop_thread);
    self->result = self->job.result;
    CO_END(self);
}

Test(read_write, to_thread_runs_the_function_on_a_worker)
{
    co_loop *loop = ft_loop(0);
    call_task *t = CO_NEW(loop, call_task, call_fn);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(t->result, 7, "ran on the loop's thread");
    rt_free_loop(loop);
}

/* -------------------------------------------------------- errors */

typedef struct {
    co_gen gen;
    co_file_job job;
    char buf[8];
    int64_t r[8];
} errors_task;

static int errors_fn(co_gen *g)
{
    errors_task *self = (errors_task *)g;
    CO_BEGIN(self);
    CO_FILE_READ(self, &self->job, ft_path("missing"), self->buf, sizeof self->buf);
    self->r[0] = self->job.result;
    CO_FILE_READ(self, &self->job, ft.dir, self->buf, sizeof self->buf);
    self->r[1] = self->job.result;
    CO_FILE_STAT(self, &self->job, ft_path("missing"));
    self->r[2] = self->job.result;
    CO_FILE_WRITE(self, &self->job, ft_path("no/such/dir"), "x", 1, CO_FILE_TRUNC);
    self->r[3] = self->job.result;
    CO_FILE_WRITE(self, &self->job, ft.dir, "x", 1, CO_FILE_APPEND);
    self->r[4] = self->job.result;
    CO_FILE_OPEN(self, &self->job, ft_path("plain"), O_RDONLY | O_DIRECTORY, 0);
    self->r[5] = self->job.result;
    CO_FILE_READ_AT(self, &self->job, ft_path("plain"), -1, self->buf, 1);
    self->r[6] = self->job.result;
    CO_FILE_WRITE(self, &self->job, ft_path("plain"), "x", 1, 42);
    self->r[7] = self->job.result;
    CO_END(self);
}

Test(read_write, errors_come_back_as_codes_with_text)
{
    co_loop *loop = ft_loop(0);
    errors_task *t = CO_NEW(loop, errors_task, errors_fn);
    ft_write("plain", "x", 1);
    cr_assert_eq(co_run(loop, &t->gen), 0, "a failed job must not raise");
    cr_assert_eq(t->r[0], -ENOENT, "%lld", (long long)t->r[0]);
    cr_assert_str_eq(co_strerror((int)t->r[0]), strerror(ENOENT));
    cr_assert_eq(t->r[1], -EISDIR, "%lld", (long long)t->r[1]);
    cr_assert_str_eq(co_strerror((int)t->r[1]), strerror(EISDIR));
    cr_assert_eq(t->r[2], -ENOENT);
    cr_assert_eq(t->r[3], -ENOENT);
    cr_assert_eq(t->r[4], -EISDIR);
    cr_assert_eq(t->r[5], -ENOTDIR);
    cr_assert_eq(t->r[6], -EINVAL);
    cr_assert_eq(t->r[7], CO_EBADARG);
    rt_free_loop(loop);
}

/* Permission is checked with the rights of the task's process: as root the
 * test first gives them up (each Criterion test is its own process). */
typedef struct {
    co_gen gen;
    co_file_job job;
    char buf[8];
    int64_t r[2];
} perm_task;

static int perm_fn(co_gen *g)
{
    perm_task *self = (perm_task *)g;
    CO_BEGIN(self);
    CO_FILE_READ(self, &self->job, ft_path("secret"), self->buf, sizeof self->buf);
    self->r[0] = self->job.result;
    CO_FILE_WRITE(self, &self->job, ft_path("secret"), "x", 1, CO_FILE_APPEND);
    self->r[1] = self->job.result;
    CO_END(self);
}

Test(read_write, permission_denied_is_eacces)
{
    co_loop *loop = ft_loop(0);
    perm_task *t = CO_NEW(loop, perm_task, perm_fn);
    bool root = geteuid() == 0;
    ft_write("secret", "s", 1);
    cr_assert_eq(chmod(ft_path("secret"), 0), 0);
    cr_assert_eq(chmod(ft.dir, 0755), 0);
    if (root)
        cr_assert_eq(seteuid(65534), 0, "seteuid: %s", strerror(errno));
    cr_assert_eq(co_run(loop, &t->gen), 0);
    if (root)
        cr_assert_eq(seteuid(0), 0);
    cr_assert_eq(t->r[0], -EACCES, "%lld", (long long)t->r[0]);
    cr_assert_str_eq(co_strerror((int)t->r[0]), strerror(EACCES));
    cr_assert_eq(t->r[1], -EACCES, "%lld", (long long)t->r[1]);
    rt_free_loop(loop);
}
