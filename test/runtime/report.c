/*
 * report.c -- "Task exception was never retrieved": a CO_NEW task whose
 * error nobody read is reported to the loop's exception handler when it is
 * freed (released, or by co_loop_free); an error that was awaited, gathered
 * or read with co_task_result, a cancellation and a success are not; the
 * report carries the task's error record when its context has one.
 */
#include "testloop.h"

#include <string.h>

TestSuite(report, .init = rt_reset);

typedef struct {
    int calls;
    int code;
    const char *text;
    co_gen *task;
    char message[CO_ERROR_MESSAGE];
    bool had_record;
    unsigned line;
} seen;

static void handler(co_loop *loop, const co_exception *e, void *arg)
{
    seen *s = arg;
    cr_assert_not_null(loop);
    s->calls++;
    s->code = e->code;
    s->text = e->text;
    s->task = e->task;
    s->had_record = e->record != NULL;
    if (e->record) {
        strcpy(s->message, co_error_text(e->record));
        s->line = e->record->line;
    }
}

/* Fails with `error` after `ms`; with a context and record when asked. */
typedef struct {
    co_gen gen;
    co_ctx ctx;
    int ms, error;
} failer;

static int failer_fn(co_gen *g)
{
    failer *self = (failer *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE_WITH(self, self->error, 7, "bad value %d", NULL);
    CO_END(self);
}

static failer *new_failer(co_loop *loop, int ms, int error)
{
    failer *f = CO_NEW(loop, failer, failer_fn);
    cr_assert_not_null(f);
    f->ms = ms;
    f->error = error;
    return f;
}

/* Main: spawns and releases one failer (unread), awaits another, reads a
 * third's result, cancels a fourth. */
typedef struct {
    co_gen gen;
    failer *unread, *awaited, *read, *cancelled;
} boss;

static int boss_fn(co_gen *g)
{
    boss *self = (boss *)g;
    CO_BEGIN(self);
    rt_spawn(&self->unread->gen);
    co_release(&self->unread->gen);
    rt_spawn(&self->read->gen);
    rt_spawn(&self->cancelled->gen);
    co_cancel(&self->cancelled->gen);
    co_release(&self->cancelled->gen);
    CO_AWAIT_TASK_CATCH(self, &self->awaited->gen);
    cr_assert_eq(CO_THROWN(self), CO_EQFULL);
    CO_SLEEP(self, 10);
    cr_assert_eq(co_task_result(&self->read->gen), CO_EQEMPTY);
    CO_END(self);
}

Test(report, only_the_unread_failure_is_reported)
{
    co_loop *loop = rt_loop();
    seen s = {0};
    boss *b = CO_NEW(loop, boss, boss_fn);
    cr_assert_not_null(b);
    co_loop_set_exception_handler(loop, handler, &s);
    b->unread = new_failer(loop, 1, CO_ESEMOVER);
    b->awaited = new_failer(loop, 2, CO_EQFULL);
    b->read = new_failer(loop, 3, CO_EQEMPTY);
    b->cancelled = new_failer(loop, 4, CO_EBADARG);
    co_gen *unread = &b->unread->gen;
    cr_expect_eq(co_run(loop, &b->gen), 0);
    cr_expect_eq(s.calls, 1);
    cr_expect_eq(s.code, CO_ESEMOVER);
    cr_expect_str_eq(s.text, co_strerror(CO_ESEMOVER));
    cr_expect_eq(s.task, unread);
    cr_expect(!s.had_record, "no context, no record");
    co_release(&b->awaited->gen);
    co_release(&b->read->gen);
    co_release(&b->gen);
    cr_expect_eq(s.calls, 1, "read errors stay unreported when released");
    rt_free_loop(loop);
}

Test(report, a_task_kept_until_the_loop_closes_carries_its_record)
{
    co_loop *loop = rt_loop();
    seen s = {0};
    co_error why;
    failer *f = new_failer(loop, 1, CO_EQFULL);
    failer *main = new_failer(loop, 5, 0);
    memset(&why, 0, sizeof why);
    cr_assert_eq(co_ctx_attach(&f->gen, &f->ctx), 0);
    f->ctx.error = &why;
    co_loop_set_exception_handler(loop, handler, &s);
    rt_spawn(&f->gen);
    main->error = 0;
    cr_expect_eq(co_run(loop, &main->gen), 0);
    cr_expect_eq(s.calls, 0, "not released: still readable");
    co_release(&main->gen);
    rt_free_loop(loop);
    cr_expect_eq(s.calls, 1);
    cr_expect_eq(s.code, CO_EQFULL);
    cr_expect(s.had_record);
    cr_expect_str_eq(s.message, "bad value 7");
    cr_expect_gt(s.line, 0);
}

Test(report, main_error_is_returned_not_reported)
{
    co_loop *loop = rt_loop();
    seen s = {0};
    failer *main = new_failer(loop, 1, CO_ESEMOVER);
    co_loop_set_exception_handler(loop, handler, &s);
    cr_expect_eq(co_run(loop, &main->gen), CO_ESEMOVER);
    co_release(&main->gen);
    rt_free_loop(loop);
    cr_expect_eq(s.calls, 0);
}
