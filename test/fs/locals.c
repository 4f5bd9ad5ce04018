/*
 * locals.c -- C locals passed to the file-job awaits and CO_TO_THREAD:
 * arguments are evaluated once; a pointer local to frame storage works; a
 * job, path, buffer or thread argument on the C stack (a worker would use it
 * after the task suspends) is refused at once: the job's result is
 * CO_ESTACKARG and no file is touched.
 */
#include "fs_harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

TestSuite(fs_locals, .init = ft_init, .fini = ft_fini);

static int64_t twice(void *arg) { return 2 * *(int64_t *)arg; }

typedef struct {
    co_gen gen;
    co_file_job job;
    const char *path;
    char buf[16];
    int64_t arg;
    int evals;
    int64_t got[6];
} filer;

static int filer_fn(co_gen *g)
{
    filer *self = (filer *)g;
    CO_BEGIN(self);
    {
        co_file_job *job = &self->job;
        const char *path = self->path;
        char *buf = self->buf;
        size_t cap = sizeof self->buf;
        CO_FILE_READ(self, RT_ARG(self, job), RT_ARG(self, path), RT_ARG(self, buf), RT_ARG(self, cap));
    }
    self->got[0] = self->job.result;
    {
        co_file_job *job = &self->job;
        int64_t *arg = &self->arg;
        CO_TO_THREAD(self, RT_ARG(self, job), RT_ARG(self, twice), RT_ARG(self, arg));
    }
    self->got[1] = self->job.result;
    {
        char path[256];
        snprintf(path, sizeof path, "%s", self->path);
        CO_FILE_STAT(self, &self->job, path);
    }
    self->got[2] = self->job.result;
    {
        char local[8];
        CO_FILE_READ(self, &self->job, self->path, local, sizeof local);
    }
    self->got[3] = self->job.result;
    {
        int64_t local = 5;
        CO_TO_THREAD(self, &self->job, twice, &local);
    }
    self->got[4] = self->job.result;
    CO_END(self);
}

Test(fs_locals, file_jobs_and_to_thread)
{
    co_loop *loop = ft_loop(0);
    filer *f = CO_NEW(loop, filer, filer_fn);
    cr_assert_not_null(f);
    ft_write("in", "corio", 5);
    f->path = ft_path("in");
    f->arg = 21;
    cr_expect_eq(co_run(loop, &f->gen), 0);
    cr_expect_eq(f->got[0], 5);
    cr_expect_eq(memcmp(f->buf, "corio", 5), 0);
    cr_expect_eq(f->got[1], 42);
    cr_expect_eq(f->got[2], CO_ESTACKARG, "a path in a C local");
    cr_expect_eq(f->got[3], CO_ESTACKARG, "a buffer in a C local");
    cr_expect_eq(f->got[4], CO_ESTACKARG, "a thread argument in a C local");
    cr_expect_eq(f->evals, 4 + 3);
    co_release(&f->gen);
    rt_free_loop(loop);
}

/* A job in a C local cannot even receive its result past a suspension: it
 * gets CO_ESTACKARG at once, written before the await returns. */
typedef struct {
    co_gen gen;
    const char *path;
    int64_t got;
} stack_job;

static int stack_job_fn(co_gen *g)
{
    stack_job *self = (stack_job *)g;
    CO_BEGIN(self);
    {
        co_file_job job;
        CO_FILE_STAT(self, &job, self->path);
        self->got = job.result;
    }
    CO_END(self);
}

Test(fs_locals, a_job_on_the_stack_is_refused)
{
    co_loop *loop = ft_loop(0);
    stack_job *s = CO_NEW(loop, stack_job, stack_job_fn);
    cr_assert_not_null(s);
    ft_write("in", "x", 1);
    s->path = ft_path("in");
    cr_expect_eq(co_run(loop, &s->gen), 0);
    cr_expect_eq(s->got, CO_ESTACKARG);
    co_release(&s->gen);
    rt_free_loop(loop);
}
