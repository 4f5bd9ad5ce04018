/*
 * locals.c -- C locals passed to every await of sched.h.  A body returns to
 * the loop at each await, so its C locals are gone when it resumes: each
 * await must evaluate its arguments once, when it starts, and either keep
 * what it needs after the resume (the object a pointer local pointed at, a
 * copy of a queue item) or refuse at once with CO_ESTACKARG a pointer into
 * the C stack itself.  Every test here makes the await suspend, lets a
 * `scribbler` task overwrite the stack those locals lived in, and counts how
 * often the arguments were evaluated (each argument bumps `evals`).
 */
#include "testloop.h"

#include <string.h>

TestSuite(locals, .init = rt_reset);

/* Runs while the tested task is suspended: its stack frame lies where the
 * tested body's locals were, and fills it with a pattern. */
/* A child task: sleeps `ms`, then raises `error` if set. */
typedef struct {
    co_gen gen;
    int ms, error;
} child;

static int child_fn(co_gen *g)
{
    child *self = (child *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE(self, self->error);
    CO_END(self);
}

static child *new_child(co_loop *loop, int ms, int error)
{
    child *c = CO_NEW(loop, child, child_fn);
    cr_assert_not_null(c);
    c->ms = ms;
    c->error = error;
    return c;
}

/* Counts an evaluation of an argument and gives it back (through a call,
 * so several in one await are sequenced). */

/* Runs `frame` as main after a scribbler; returns what co_run did. */
static int run_main(co_loop *loop, co_gen *frame)
{
    rt_spawn_scribbler(loop);
    return co_run(loop, frame);
}

/* --------------------------------------------------------------- sleep */

typedef struct {
    co_gen gen;
    int evals;
    int64_t at;
} sleeper;

static int sleeper_fn(co_gen *g)
{
    sleeper *self = (sleeper *)g;
    CO_BEGIN(self);
    {
        int64_t ms = 7;
        CO_SLEEP(self, RT_ARG(self, ms));
    }
    self->at = rt_ms(co_running_loop());
    CO_END(self);
}

Test(locals, sleep)
{
    co_loop *loop = rt_loop();
    sleeper *s = CO_NEW(loop, sleeper, sleeper_fn);
    cr_assert_not_null(s);
    cr_expect_eq(run_main(loop, &s->gen), 0);
    cr_expect_eq(s->at, 7);
    cr_expect_eq(s->evals, 1);
    co_release(&s->gen);
    rt_free_loop(loop);
}

/* ---------------------------------------------------------- await task */

typedef struct {
    co_gen gen;
    child *c, *bad;
    int evals, first, second;
} awaiter;

static int awaiter_fn(co_gen *g)
{
    awaiter *self = (awaiter *)g;
    CO_BEGIN(self);
    {
        child *c = self->c; /* a C local pointing at the task */
        CO_AWAIT_TASK(self, RT_ARG(self, &c->gen));
    }
    self->first = CO_THROWN(self);
    {
        child *bad = self->bad;
        CO_AWAIT_TASK_CATCH(self, RT_ARG(self, &bad->gen));
    }
    self->second = CO_THROWN(self);
    CO_END(self);
}

Test(locals, await_task)
{
    co_loop *loop = rt_loop();
    awaiter *a = CO_NEW(loop, awaiter, awaiter_fn);
    cr_assert_not_null(a);
    a->c = new_child(loop, 5, 0);
    a->bad = new_child(loop, 5, CO_EBADARG);
    cr_expect_eq(run_main(loop, &a->gen), 0);
    cr_expect_eq(a->first, 0);
    cr_expect_eq(a->second, CO_EBADARG);
    cr_expect_eq(a->evals, 2);
    cr_expect(co_done(&a->c->gen) && co_done(&a->bad->gen));
    co_release(&a->c->gen);
    co_release(&a->bad->gen);
    co_release(&a->gen);
    rt_free_loop(loop);
}

/* A task in caller storage on the C stack cannot be awaited past a resume. */
typedef struct {
    co_gen gen;
    int err;
} stack_awaiter;

static int stack_awaiter_fn(co_gen *g)
{
    stack_awaiter *self = (stack_awaiter *)g;
    CO_BEGIN(self);
    {
        CO_TASK_STORAGE(child) st;
        memset(&st, 0, sizeof st);
        CO_INIT(&st.frame, child_fn);
        cr_assert_eq(co_task_init(co_running_loop(), &st.task, &st.frame.gen), 0);
        CO_AWAIT_TASK_CATCH(self, &st.frame.gen);
    }
    self->err = CO_THROWN(self);
    CO_END(self);
}

Test(locals, await_task_on_the_stack_is_refused)
{
    co_loop *loop = rt_loop();
    stack_awaiter *a = CO_NEW(loop, stack_awaiter, stack_awaiter_fn);
    cr_assert_not_null(a);
    cr_expect_eq(run_main(loop, &a->gen), 0);
    cr_expect_eq(a->err, CO_ESTACKARG);
    cr_expect_str_eq(co_strerror(CO_ESTACKARG),
                     "argument points into the C stack, which does not survive an await");
    co_release(&a->gen);
    rt_free_loop(loop);
}

/* -------------------------------------------------------------- gather */

typedef struct {
    co_gen gen;
    co_gather gather;
    co_gen *tasks[2];
    int evals, err, refused;
} gatherer;

static int gatherer_fn(co_gen *g)
{
    gatherer *self = (gatherer *)g;
    CO_BEGIN(self);
    {
        co_gather *gp = &self->gather;
        co_gen *const *tp = self->tasks;
        size_t n = 2;
        int mode = CO_GATHER_ALL;
        CO_GATHER(self, RT_ARG(self, gp), RT_ARG(self, tp), RT_ARG(self, n), RT_ARG(self, mode));
    }
    {
        co_gen *local[1] = {self->tasks[0]};
        CO_GATHER_CATCH(self, &self->gather, local, 1, CO_GATHER_ALL);
    }
    self->refused = CO_THROWN(self);
    CO_END(self);
}

Test(locals, gather)
{
    co_loop *loop = rt_loop();
    gatherer *m = CO_NEW(loop, gatherer, gatherer_fn);
    child *a = new_child(loop, 3, 0), *b = new_child(loop, 6, CO_EBADARG);
    cr_assert_not_null(m);
    m->tasks[0] = &a->gen;
    m->tasks[1] = &b->gen;
    cr_expect_eq(run_main(loop, &m->gen), 0);
    cr_expect_eq(m->evals, 4);
    cr_expect(co_done(&a->gen) && co_done(&b->gen));
    cr_expect_eq(co_task_result(&b->gen), CO_EBADARG);
    cr_expect_eq(m->refused, CO_ESTACKARG, "the array is read until the gather ends");
    co_release(&a->gen);
    co_release(&b->gen);
    co_release(&m->gen);
    rt_free_loop(loop);
}

/* ------------------------------------------------ wait_for, on a task */

typedef struct {
    co_gen gen;
    co_deadline deadline;
    child work; /* the delegated child */
    child *task;
    int evals, child_err, task_err, caught_err, refused;
} timeouts;

static int timeouts_fn(co_gen *g)
{
    timeouts *self = (timeouts *)g;
    CO_BEGIN(self);
    {
        co_deadline *d = &self->deadline;
        int ms = 4;
        CO_INIT(&self->work, child_fn);
        self->work.ms = 10;
        CO_WAIT_FOR_CATCH(self, RT_ARG(self, d), work, RT_ARG(self, ms));
    }
    self->child_err = CO_THROWN(self);
    {
        co_deadline *d = &self->deadline;
        child *t = self->task;
        int ms = 2;
        CO_WAIT_FOR_TASK_CATCH(self, RT_ARG(self, d), RT_ARG(self, &t->gen), RT_ARG(self, ms));
    }
    self->task_err = CO_THROWN(self);
    {
        co_deadline *d = &self->deadline;
        CO_INIT(&self->work, child_fn);
        self->work.ms = 1;
        self->work.error = CO_EQFULL;
        CO_WAIT_FOR(self, d, work, 50);
    }
    CO_FINALLY(self)
    {
        self->caught_err = CO_THROWN(self);
    }
    CO_END(self);
}

Test(locals, wait_for_and_wait_for_task)
{
    co_loop *loop = rt_loop();
    timeouts *m = CO_NEW(loop, timeouts, timeouts_fn);
    cr_assert_not_null(m);
    m->task = new_child(loop, 20, 0);
    cr_expect_eq(run_main(loop, &m->gen), CO_EQFULL);
    cr_expect_eq(m->child_err, CO_ETIMEOUT);
    cr_expect_eq(m->task_err, CO_ETIMEOUT);
    cr_expect_eq(co_task_result(&m->task->gen), CO_ECANCELLED);
    cr_expect_eq(m->caught_err, CO_EQFULL);
    cr_expect_eq(m->evals, 5);
    co_release(&m->task->gen);
    co_release(&m->gen);
    rt_free_loop(loop);
}

typedef struct {
    co_gen gen;
    child work;
    int err;
} stack_deadline;

static int stack_deadline_fn(co_gen *g)
{
    stack_deadline *self = (stack_deadline *)g;
    CO_BEGIN(self);
    {
        co_deadline d;
        CO_INIT(&self->work, child_fn);
        CO_WAIT_FOR_CATCH(self, &d, work, 5);
    }
    self->err = CO_THROWN(self);
    CO_END(self);
}

Test(locals, wait_for_deadline_on_the_stack_is_refused)
{
    co_loop *loop = rt_loop();
    stack_deadline *m = CO_NEW(loop, stack_deadline, stack_deadline_fn);
    cr_assert_not_null(m);
    cr_expect_eq(run_main(loop, &m->gen), 0, "a _CATCH form catches its misuse too");
    cr_expect_eq(m->err, CO_ESTACKARG);
    co_release(&m->gen);
    rt_free_loop(loop);
}

/* ----------------------------------------------------------- group run */

typedef struct {
    co_gen gen;
    co_group *group;
    child *ok, *bad;
} group_body;

static int group_body_fn(co_gen *g)
{
    group_body *self = (group_body *)g;
    CO_BEGIN(self);
    if (self->ok) {
        cr_assert_eq(co_group_spawn(self->group, &self->ok->gen), 0);
        cr_assert_eq(co_group_spawn(self->group, &self->bad->gen), 0);
    }
    CO_SLEEP(self, 1);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_group group;
    group_body body;
    child *ok, *bad;
    int evals, err, refused;
} grouper;

static int grouper_fn(co_gen *g)
{
    grouper *self = (grouper *)g;
    CO_BEGIN(self);
    co_group_init(&self->group);
    CO_INIT(&self->body, group_body_fn);
    self->body.group = &self->group;
    self->body.ok = self->ok;
    self->body.bad = self->bad;
    {
        co_group *gp = &self->group;
        CO_GROUP_RUN_CATCH(self, RT_ARG(self, gp), body);
    }
    self->err = CO_THROWN(self);
    co_group_fini(&self->group);
    {
        co_group local;
        co_group_init(&local);
        CO_INIT(&self->body, group_body_fn);
        self->body.ok = NULL;
        CO_GROUP_RUN_CATCH(self, &local, body);
    }
    self->refused = CO_THROWN(self);
    CO_END(self);
}

Test(locals, group_run)
{
    co_loop *loop = rt_loop();
    grouper *m = CO_NEW(loop, grouper, grouper_fn);
    cr_assert_not_null(m);
    m->ok = new_child(loop, 10, 0);
    m->bad = new_child(loop, 3, CO_EQEMPTY);
    cr_expect_eq(run_main(loop, &m->gen), 0);
    cr_expect_eq(m->err, CO_EQEMPTY);
    cr_expect_eq(co_task_result(&m->ok->gen), CO_ECANCELLED);
    cr_expect_eq(m->evals, 1);
    cr_expect_eq(m->refused, CO_ESTACKARG);
    co_release(&m->ok->gen);
    co_release(&m->bad->gen);
    co_release(&m->gen);
    rt_free_loop(loop);
}
