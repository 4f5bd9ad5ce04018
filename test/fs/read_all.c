/*
 * read_all.c -- CO_FILE_READ_ALL, Python's open(path, "rb").read(): a
 * regular file whole (in one read of its size), a FIFO that gives no size
 * (the buffer grows past its first 64 KiB), an empty file, errors as codes
 * with *data left NULL, arguments evaluated once, and a destination on the
 * C stack refused.
 */
#include "fs_harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(read_all, .init = ft_init, .fini = ft_fini, .timeout = 10);

CO_ASYNC(slurp, const char *path; co_file_job job; char *data; int evals;)
    CO_FILE_READ_ALL(self, RT_ARG(self, &self->job), RT_ARG(self, self->path),
                     RT_ARG(self, &self->data));
CO_ASYNC_END

/* Runs a slurp of path to its end; the caller frees t->data and the task. */
static slurp *slurp_run(co_loop *loop, const char *path)
{
    slurp *t = CO_TASK(loop, slurp, .path = path);
    cr_assert_not_null(t);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(t->evals, 3, "each argument once, got %d evaluations", t->evals);
    return t;
}

static char *pattern(size_t n)
{
    char *s = malloc(n);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + (i * 7) % 26);
    return s;
}

Test(read_all, a_regular_file_comes_whole_and_nul_terminated)
{
    size_t n = (size_t)3 << 20;
    char *want = pattern(n);
    co_loop *loop = ft_loop(0);
    slurp *t;
    ft_write("big", want, n);
    t = slurp_run(loop, ft_path("big"));
    cr_assert_eq(t->job.result, (int64_t)n, "%lld", (long long)t->job.result);
    cr_assert_not_null(t->data);
    cr_assert(memcmp(t->data, want, n) == 0, "the bytes differ");
    cr_assert_eq(t->data[n], '\0');
    free(t->data);
    free(want);
    rt_free_loop(loop);
}

Test(read_all, an_empty_file_is_an_empty_string)
{
    co_loop *loop = ft_loop(0);
    slurp *t;
    ft_write("empty", "", 0);
    t = slurp_run(loop, ft_path("empty"));
    cr_assert_eq(t->job.result, 0);
    cr_assert_not_null(t->data);
    cr_assert_str_eq(t->data, "");
    free(t->data);
    rt_free_loop(loop);
}

/* A thread writes the FIFO in pieces and closes it: the reader has no size
 * to go by and must grow its buffer several times. */
typedef struct {
    const char *path;
    const char *bytes;
    size_t len;
} fifo_writer;

static void *feed_fifo(void *arg)
{
    fifo_writer *w = arg;
    FILE *f = fopen(w->path, "wb"); /* blocks until the reader opens it */
    cr_assert_not_null(f);
    for (size_t at = 0; at < w->len; at += 10000)
        fwrite(w->bytes + at, 1, w->len - at < 10000 ? w->len - at : 10000, f);
    fclose(f);
    return NULL;
}

Test(read_all, a_fifo_is_read_to_its_end_through_a_growing_buffer)
{
    size_t n = 300 * 1024 + 7;
    fifo_writer w = {ft_fifo("pipe"), pattern(n), n};
    co_loop *loop = ft_loop(0);
    pthread_t th;
    slurp *t;
    cr_assert_eq(pthread_create(&th, NULL, feed_fifo, &w), 0);
    t = slurp_run(loop, w.path);
    pthread_join(th, NULL);
    cr_assert_eq(t->job.result, (int64_t)n, "%lld", (long long)t->job.result);
    cr_assert(memcmp(t->data, w.bytes, n) == 0, "the bytes differ");
    cr_assert_eq(t->data[n], '\0');
    free(t->data);
    free((char *)w.bytes);
    rt_free_loop(loop);
}

Test(read_all, errors_are_codes_and_leave_no_buffer)
{
    static const struct {
        const char *name; /* NULL: the scratch directory itself */
        int64_t want;
    } cases[] = {{"missing", -ENOENT}, {NULL, -EISDIR}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        co_loop *loop = ft_loop(0);
        slurp *t = slurp_run(loop, cases[i].name ? ft_path(cases[i].name) : ft.dir);
        cr_assert_eq(t->job.result, cases[i].want, "case %zu: %lld (%s)", i,
                     (long long)t->job.result, co_strerror((int)t->job.result));
        cr_assert_null(t->data);
        rt_free_loop(loop);
    }
}

CO_ASYNC(misuse, co_file_job job; char *data; int64_t got[2];)
    CO_FILE_READ_ALL(self, &self->job, NULL, &self->data);
    self->got[0] = self->job.result;
    {
        char *local = NULL;
/* The refused call returns at once, never suspending, so no resume jumps
 * past local's initializer; clang sees the resume path of the new
 * goto-based dispatch and cannot tell. */
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wsometimes-uninitialized"
#endif
        CO_FILE_READ_ALL(self, &self->job, ft_path("plain"), &local);
        cr_assert_null(local, "nothing may be stored through a refused pointer");
#ifdef __clang__
#pragma clang diagnostic pop
#endif
    }
    self->got[1] = self->job.result;
CO_ASYNC_END

Test(read_all, no_path_is_ebadarg_and_a_stack_destination_estackarg)
{
    co_loop *loop = ft_loop(0);
    misuse *t = CO_TASK(loop, misuse, );
    ft_write("plain", "x", 1);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(t->got[0], CO_EBADARG);
    cr_assert_eq(t->got[1], CO_ESTACKARG);
    cr_assert_null(t->data);
    rt_free_loop(loop);
}
