/*
 * backend.c -- where jobs go and what they cost: the io_uring probe and
 * CORIO_FS, workers started only when needed and never more than the pool
 * holds, out of memory when the file machinery is set up, and awaits used
 * outside a task.
 */
#include "fs_harness.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

TestSuite(backend, .init = ft_init, .fini = ft_fini, .timeout = 10);

#define WORKER_NAME "corio-fs"

Test(backend, the_backend_follows_the_probe_and_corio_fs)
{
    co_loop *loop = ft_loop(0);
    const char *name = co_fs_backend(loop);
    cr_assert_not_null(name);
    cr_assert_str_eq(name, ft_expected_backend(), "CORIO_FS=%s", getenv("CORIO_FS"));
    cr_assert_eq(co_fs_backend(loop), name, "decided once per loop");
    cr_assert_null(co_fs_backend(NULL));
    rt_free_loop(loop);
}

/* Containers often refuse io_uring_setup (seccomp's ENOSYS or EPERM): a
 * filter does the same to this test's process, which then must fall back
 * to the pool and still read. */
#if defined(__linux__) && defined(__NR_io_uring_setup)
static void refuse_io_uring(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof code / sizeof code[0]), code};
    cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0, "seccomp: %s",
                 strerror(errno));
}

typedef struct {
    co_gen gen;
    co_file_job job;
    char buf[8];
    int64_t got;
} small_reader;

static int small_reader_fn(co_gen *g)
{
    small_reader *self = (small_reader *)g;
    CO_BEGIN(self);
    CO_FILE_READ(self, &self->job, ft_path("small"), self->buf, sizeof self->buf);
    self->got = self->job.result;
    CO_END(self);
}

Test(backend, a_kernel_that_refuses_io_uring_gets_the_pool)
{
    co_loop *loop;
    small_reader *t;
    ft_write("small", "tiny", 4);
    refuse_io_uring();
    loop = ft_loop(0);
    t = CO_NEW(loop, small_reader, small_reader_fn);
    cr_assert_str_eq(co_fs_backend(loop), "threads");
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(t->got, 4);
    cr_assert(memcmp(t->buf, "tiny", 4) == 0);
    rt_free_loop(loop);
}
#endif

/* A read, then a stat: with io_uring the read needs no worker thread, the
 * stat does; with the pool both do. */
typedef struct {
    co_gen gen;
    co_file_job job;
    char buf[8];
    int64_t got, size;
    int workers_after_read, workers_after_stat;
} route_task;

static int route_fn(co_gen *g)
{
    route_task *self = (route_task *)g;
    CO_BEGIN(self);
    CO_FILE_READ(self, &self->job, ft_path("small"), self->buf, sizeof self->buf);
    self->got = self->job.result;
    self->workers_after_read = ft_threads_named(WORKER_NAME);
    CO_FILE_STAT(self, &self->job, ft_path("small"));
    self->size = self->job.result;
    self->workers_after_stat = ft_threads_named(WORKER_NAME);
    CO_END(self);
}

Test(backend, workers_start_when_a_job_needs_one_and_are_joined)
{
    co_loop *loop = ft_loop(0);
    route_task *t = CO_NEW(loop, route_task, route_fn);
    bool ring = strcmp(ft_expected_backend(), "io_uring") == 0;
    ft_write("small", "tiny", 4);
    cr_assert_eq(ft_threads_named(WORKER_NAME), 0);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(t->got, 4);
    cr_assert_eq(t->size, 4);
    cr_assert_eq(t->workers_after_read, ring ? 0 : 1);
    cr_assert_eq(t->workers_after_stat, 1, "one job at a time needs one worker");
    rt_free_loop(loop);
    cr_assert_eq(ft_threads_named(WORKER_NAME), 0, "co_loop_free joins the workers");
}

/* Many jobs at once: never more workers than the pool holds. */
#define MANY 24

typedef struct {
    co_gen gen;
    co_file_job job;
    int64_t size;
} stat_task;

static int stat_fn(co_gen *g)
{
    stat_task *self = (stat_task *)g;
    CO_BEGIN(self);
    CO_FILE_STAT(self, &self->job, ft_path("small"));
    self->size = self->job.result;
    CO_END(self);
}

typedef struct {
    co_gen gen;
    stat_task *tasks[MANY];
    co_gather gather;
    int most_workers;
} many_main;

static int many_fn(co_gen *g)
{
    many_main *self = (many_main *)g;
    CO_BEGIN(self);
    for (int i = 0; i < MANY; i++)
        cr_assert_eq(co_spawn(&self->tasks[i]->gen), 0);
    CO_SLEEP(self, 0); /* every job is handed over */
    self->most_workers = ft_threads_named(WORKER_NAME);
    CO_GATHER(self, &self->gather, (co_gen *const *)self->tasks, MANY, CO_GATHER_FIRST_ERROR);
    if (ft_threads_named(WORKER_NAME) > self->most_workers)
        self->most_workers = ft_threads_named(WORKER_NAME);
    CO_END(self);
}

Test(backend, the_pool_never_grows_past_its_size)
{
    co_loop *loop = ft_loop(3);
    many_main *m = CO_NEW(loop, many_main, many_fn);
    ft_write("small", "tiny", 4);
    for (int i = 0; i < MANY; i++)
        m->tasks[i] = CO_NEW(loop, stat_task, stat_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    for (int i = 0; i < MANY; i++)
        cr_assert_eq(m->tasks[i]->size, 4);
    cr_assert_geq(m->most_workers, 1);
    /* the loop was made with co_loop_options.workers = 3 */
    cr_assert_leq(m->most_workers, 3);
    rt_free_loop(loop);
}

/* ------------------------------------------------------ out of memory */

typedef struct {
    co_gen gen;
    co_file_job job;
    char buf[8];
    int64_t failed, then;
    const char *backend_while_failing;
} oom_task;

static int oom_fn(co_gen *g)
{
    oom_task *self = (oom_task *)g;
    CO_BEGIN(self);
    rt.failing = true; /* the file machinery is set up on the first job */
    self->backend_while_failing = co_fs_backend(co_running_loop());
    CO_FILE_READ(self, &self->job, ft_path("small"), self->buf, sizeof self->buf);
    self->failed = self->job.result;
    rt.failing = false;
    CO_FILE_READ(self, &self->job, ft_path("small"), self->buf, sizeof self->buf);
    self->then = self->job.result;
    CO_END(self);
}

Test(backend, out_of_memory_comes_back_as_a_result)
{
    co_loop *loop = ft_loop(0);
    oom_task *t = CO_NEW(loop, oom_task, oom_fn);
    ft_write("small", "tiny", 4);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_null(t->backend_while_failing);
    cr_assert_eq(t->failed, CO_ENOMEM);
    cr_assert_str_eq(co_strerror((int)t->failed), co_strerror(CO_ENOMEM));
    cr_assert_eq(t->then, 4, "it works once memory is back");
    rt_free_loop(loop);
}

/* --------------------------------------------------- outside a task */

Test(backend, an_await_outside_a_task_is_enotask)
{
    co_file_job job;
    memset(&job, 0, sizeof job);
    cr_assert_eq(co__file_stat(&job, "/"), 1, "nothing to wait for");
    cr_assert_eq(job.result, CO_ENOTASK);
}
