/*
 * report.c -- the default exception handler of a loop with the reactor:
 * an unread failure is printed to stderr with its code, text, message,
 * place and traceback.
 */
#include "net.h"

#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

static void init(void)
{
    net_reset();
    cr_redirect_stderr();
}

TestSuite(net_report, .init = init);

typedef struct {
    co_gen gen;
    co_ctx ctx;
} failer;

static int failer_fn(co_gen *g)
{
    failer *self = (failer *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1);
    CO_RAISE_WITH(self, CO_EQFULL, 3, "queue %d is full", NULL);
    CO_END(self);
}

Test(net_report, default_handler_prints_to_stderr)
{
    co_loop *loop = net_loop();
    co_error why;
    failer *f = CO_NEW(loop, failer, failer_fn);
    failer *main = CO_NEW(loop, failer, failer_fn);
    char out[1024] = "";
    size_t n;
    cr_assert(f && main);
    memset(&why, 0, sizeof why);
    cr_assert_eq(co_ctx_attach(&f->gen, &f->ctx), 0);
    f->ctx.error = &why;
    rt_spawn(&f->gen);
    co_release(&f->gen);
    cr_expect_eq(co_run(loop, &main->gen), CO_EQFULL);
    co_release(&main->gen);
    rt_free_loop(loop);
    fflush(stderr);
    n = fread(out, 1, sizeof out - 1, cr_get_redirected_stderr());
    out[n] = '\0';
    cr_expect(strstr(out, "Task exception was never retrieved\n") == out, "%s", out);
    cr_expect(strstr(out, "error -1110 (queue is full)") != NULL, "%s", out);
    cr_expect(strstr(out, "in failer_fn, line ") != NULL, "%s", out);
    cr_expect(strstr(out, "raised at ") != NULL && strstr(out, "report.c:") != NULL, "%s", out);
    cr_expect(strstr(out, "  queue 3 is full\n") != NULL, "%s", out);
    cr_expect(strstr(out + 1, "Task exception") == NULL,
              "main's error is co_run's, not reported: %s", out);
}
