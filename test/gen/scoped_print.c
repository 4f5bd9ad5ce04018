/*
 * CO_SCOPED's default unraisable hook: it prints what closing a frame at
 * scope exit reported to stderr, as Python prints "Exception ignored in:",
 * with the traceback and message of the tree's error record when it has one.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>

#include <corio/gen.h>

#define VALUE_ERROR (-22)

typedef struct {
    co_gen gen;
    int out;
    int in;
    co_ctx ctx;
    co_error why;
} job;

static unsigned raised_at, declared_at;

static int job_fn(co_gen *g)
{
    job *self = (job *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        raised_at = __LINE__ + 1;
        CO_RAISE_WITH(self, VALUE_ERROR, 7, "bad value %d", NULL);
    }
    CO_END(self);
}

static int plain_fn(co_gen *g)
{
    job *self = (job *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        CO_RAISE(self, VALUE_ERROR);
    }
    CO_END(self);
}

static void run_described(void)
{
    CO_SCOPED(job, j, job_fn);
    declared_at = __LINE__ - 1;
    co_ctx_attach(&j.gen, &j.ctx);
    j.ctx.error = &j.why;
    cr_assert_eq(co_next(&j.gen), CO_YIELDED);
}

static void run_plain(void)
{
    CO_SCOPED(job, bare, plain_fn);
    declared_at = __LINE__ - 1;
    cr_assert_eq(co_next(&bare.gen), CO_YIELDED);
}

Test(scoped_print, the_default_hook_prints_the_record, .init = cr_redirect_stderr)
{
    char expected[512];
    run_described();
    fflush(stderr);
    snprintf(expected, sizeof expected,
             "Exception ignored in: generator frame 'j' (%s:%u), closed at scope exit\n"
             "Traceback (most recent call last):\n"
             "  in job_fn, line %u\n"
             "error %d: bad value 7\n",
             __FILE__, declared_at, raised_at, VALUE_ERROR);
    cr_expect_stderr_eq_str(expected);
}

Test(scoped_print, without_a_record_it_prints_the_code, .init = cr_redirect_stderr)
{
    char expected[512];
    run_plain();
    fflush(stderr);
    snprintf(expected, sizeof expected,
             "Exception ignored in: generator frame 'bare' (%s:%u), closed at scope exit\n"
             "error %d: unknown error\n",
             __FILE__, declared_at, VALUE_ERROR);
    cr_expect_stderr_eq_str(expected);
}
