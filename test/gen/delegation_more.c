/*
 * Delegation, continued: `yield from` a child that already finished, failed,
 * returns at once, was partly consumed, is itself delegating or is running;
 * a delegated-to child refusing to be resumed behind its parent's back; and
 * `await`, the same delegation with no values passed.  Checked against
 * Python's PEP 380 and PEP 492; the chain is delegation_chain.h's.
 */
#include "delegation_chain.h"

/* ------------------------------------------- the child's state at the start */

/* A child the test ran to its end before the parent delegates to it. */
Test(yield_from, to_a_finished_child_goes_on_at_once)
{
    mid_t m;
    int rc;
    mid_init(&m, NULL);
    m.keep_leaf = true;
    leaf_setup(&m.leaf, leaf_fn, NULL);
    while ((rc = co_next(&m.leaf.gen)) == CO_YIELDED)
        ;
    cr_assert_eq(rc, CO_RETURNED);
    expect_yield(&m.gen, &m.out, 1100);
    cr_assert_null(co_yieldfrom(&m.gen));
    cr_assert_eq(co_state(&m.leaf.gen), CO_CLOSED);
}

/* Python: `yield from` an exhausted generator evaluates to None at once, even
   if that generator had ended with an exception. */
Test(yield_from, to_a_child_that_finished_with_an_error_goes_on_at_once)
{
    mid_t m;
    mid_init(&m, NULL);
    m.keep_leaf = true;
    leaf_setup(&m.leaf, leaf_fn, NULL);
    expect_yield(&m.leaf.gen, &m.leaf.out, 1);
    cr_assert_eq(co_throw(&m.leaf.gen, E_THROWN), E_THROWN);
    expect_yield(&m.gen, &m.out, 1000);
    cr_assert_eq(co_result(&m.leaf.gen), E_THROWN);
}

Test(yield_from, to_a_child_that_returns_without_yielding)
{
    mid_t m;
    mid_init(&m, NULL);
    m.keep_leaf = true;
    leaf_setup(&m.leaf, leaf_fn, NULL);
    m.leaf.count = 0;
    expect_yield(&m.gen, &m.out, 1100);
    cr_assert_eq(co_state(&m.leaf.gen), CO_CLOSED);
    cr_assert_eq(m.leaf.ret, 100);
}

/* Python: `yield from g` after next(g) goes on from g's second value. */
Test(yield_from, to_a_partly_consumed_child)
{
    mid_t m;
    mid_init(&m, NULL);
    m.keep_leaf = true;
    leaf_setup(&m.leaf, leaf_fn, NULL);
    expect_yield(&m.leaf.gen, &m.leaf.out, 1);
    expect_yield(&m.gen, &m.out, 2);
    expect_yield(&m.gen, &m.out, 3);
    expect_yield(&m.gen, &m.out, 1100);
}

/* A child that delegates itself: its chain joins the new parent's, so the
   values go on from where its own grandchild stood (Python: same). */
typedef struct {
    co_gen gen;
    int out;
    int in;
    mid_t mid;
    int caught;
    int ret;
} outer_t;

static int outer_fn(co_gen *g)
{
    outer_t *self = (outer_t *)g;
    CO_BEGIN(self);
    CO_YIELD_FROM_CATCH(self, mid.leaf); /* delegated to by mid: refused */
    self->caught = CO_THROWN(self);
    CO_YIELD_FROM(self, mid);
    CO_RETURN(self, self->mid.ret);
    CO_END(self);
}

Test(yield_from, to_a_child_that_is_itself_delegating)
{
    outer_t o;
    memset(&o, 0, sizeof o);
    CO_INIT(&o, outer_fn);
    mid_init(&o.mid, NULL);
    expect_yield(&o.mid.gen, &o.mid.out, 1);
    expect_yield(&o.gen, &o.out, 2);
    cr_assert_eq(o.caught, CO_EDELEGATED);
    cr_assert_eq(co_yieldfrom(&o.gen), &o.mid.gen);
    cr_assert_eq(co_yieldfrom(&o.mid.gen), &o.mid.leaf.gen);
    cr_assert_eq(co_next(&o.mid.gen), CO_EDELEGATED);
    expect_yield(&o.gen, &o.out, 3);
    expect_yield(&o.gen, &o.out, 1100);
    cr_assert_eq(co_next(&o.gen), CO_RETURNED);
    cr_assert_eq(o.ret, 101);
    cr_assert_eq(co_state(&o.mid.gen), CO_CLOSED);
}

/* A child that, while running on its own, resumes the parent that holds it;
   the parent then tries to delegate to it (Python: ValueError "generator
   already executing" raised in the parent). */
typedef struct {
    co_gen gen;
    int out;
    int in;
    co_gen *parent;
    int rc_parent;
} runner;

typedef struct {
    co_gen gen;
    int out;
    int in;
    runner child;
    int ran_past;
} host_t;

static int runner_fn(co_gen *g)
{
    runner *self = (runner *)g;
    CO_BEGIN(self);
    self->rc_parent = co_next(self->parent);
    CO_YIELD(self, 1);
    CO_END(self);
}

static int host_fn(co_gen *g)
{
    host_t *self = (host_t *)g;
    CO_BEGIN(self);
    CO_YIELD_FROM(self, child);
    self->ran_past++;
    CO_END(self);
}

Test(yield_from, to_a_running_child_raises_erunning)
{
    host_t h;
    memset(&h, 0, sizeof h);
    CO_INIT(&h, host_fn);
    CO_INIT(&h.child, runner_fn);
    h.child.parent = &h.gen;
    expect_yield(&h.child.gen, &h.child.out, 1);
    cr_assert_eq(h.child.rc_parent, CO_ERUNNING);
    cr_assert_eq(h.ran_past, 0);
    cr_assert_eq(co_state(&h.gen), CO_CLOSED);
    cr_assert_eq(co_result(&h.gen), CO_ERUNNING);
    cr_assert_eq(co_state(&h.child.gen), CO_SUSPENDED);
    cr_assert_eq(co_next(&h.child.gen), CO_RETURNED);
}

/* ------------------------------------------ resuming a delegated-to child */

Test(yield_from, resuming_a_delegated_child_directly_is_refused)
{
    top_t t;
    top_init(&t);
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_next(&t.mid.gen), CO_EDELEGATED);
    cr_assert_eq(co_next(&t.mid.leaf.gen), CO_EDELEGATED);
    t.mid.leaf.in = -1;
    cr_assert_eq(CO_SEND(&t.mid.leaf, 4), CO_EDELEGATED);
    cr_assert_eq(t.mid.leaf.in, -1, "a refused send wrote `in`");
    cr_assert_eq(co_throw(&t.mid.leaf.gen, E_THROWN), CO_EDELEGATED);
    cr_assert_eq(co_close(&t.mid.leaf.gen), CO_EDELEGATED);
    cr_assert_eq(co_close(&t.mid.gen), CO_EDELEGATED);
    cr_assert_str_eq(co_gen_strerror(CO_EDELEGATED),
                     "generator is being delegated to; resume the outermost one");
    cr_assert_eq(t.log.n, 0, "a refused close ran a cleanup");
    cr_assert_eq(co_state(&t.mid.leaf.gen), CO_SUSPENDED);
    expect_yield(&t.gen, &t.out, 2);
    expect_yield(&t.gen, &t.out, 3);
    expect_yield(&t.gen, &t.out, 1100);
    cr_assert_eq(t.mid.leaf.sum, 0, "a refused send reached the child");
}

Test(yield_from, resuming_any_level_from_the_innermost_body_is_erunning)
{
    top_t t;
    top_init(&t);
    t.log.poke[0] = &t.gen;
    t.log.poke[1] = &t.mid.gen;
    t.log.poke[2] = &t.mid.leaf.gen;
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(t.log.rc_poke[0], CO_ERUNNING);
    cr_assert_eq(t.log.rc_poke[1], CO_ERUNNING);
    cr_assert_eq(t.log.rc_poke[2], CO_ERUNNING);
    expect_yield(&t.gen, &t.out, 2);
    cr_assert_eq(t.log.n, 0);
}

/* ----------------------------------------------------------------- await */

/* A frame without values: suspends three times and returns 42, or raises
   `fail` at its second step. */
typedef struct {
    co_gen gen;
    int ticks;
    int fail;
    int cleanups;
    int cleanup_saw;
    int ret;
} job_t;

static int job_fn(co_gen *g)
{
    job_t *self = (job_t *)g;
    CO_BEGIN(self);
    for (self->ticks = 0; self->ticks < 3; self->ticks++) {
        if (self->fail && self->ticks == 1)
            CO_RAISE(self, self->fail);
        CO_SUSPEND(self);
    }
    CO_RETURN(self, 42);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* Awaits its job, suspends once more and returns the job's value + 1. */
typedef struct {
    co_gen gen;
    job_t job;
    int fail;
    bool catches;
    int caught;
    int got;
    int ret;
} boss_t;

static int boss_fn(co_gen *g)
{
    boss_t *self = (boss_t *)g;
    CO_BEGIN(self);
    memset(&self->job, 0, sizeof self->job);
    CO_INIT(&self->job, job_fn);
    self->job.fail = self->fail;
    if (self->catches) {
        CO_AWAIT_CATCH(self, job);
        self->caught = CO_THROWN(self);
    } else {
        CO_AWAIT(self, job);
    }
    self->got = self->job.ret;
    CO_SUSPEND(self);
    CO_RETURN(self, self->got + 1);
    CO_END(self);
}

static void boss_init(boss_t *b, int fail, bool catches)
{
    memset(b, 0, sizeof *b);
    CO_INIT(b, boss_fn);
    b->fail = fail;
    b->catches = catches;
}

Test(await, runs_the_child_and_reads_its_return_value)
{
    boss_t b;
    int k;
    boss_init(&b, 0, false);
    for (k = 0; k < 3; k++) {
        cr_assert_eq(co_next(&b.gen), CO_YIELDED, "step %d", k);
        cr_assert_eq(co_yieldfrom(&b.gen), &b.job.gen);
        cr_assert_eq(b.got, 0, "the parent went on while its child was suspended");
    }
    cr_assert_eq(co_next(&b.gen), CO_YIELDED);
    cr_assert_eq(b.got, 42);
    cr_assert_null(co_yieldfrom(&b.gen));
    cr_assert_eq(co_next(&b.gen), CO_RETURNED);
    cr_assert_eq(b.ret, 43);
    cr_assert_eq(b.job.cleanups, 1);
}

Test(await, an_error_the_child_raises_is_raised_in_the_parent)
{
    boss_t b;
    boss_init(&b, E_OTHER, false);
    cr_assert_eq(co_next(&b.gen), CO_YIELDED);
    cr_assert_eq(co_next(&b.gen), E_OTHER);
    cr_assert_eq(b.job.cleanups, 1);
    cr_assert_eq(co_state(&b.gen), CO_CLOSED);
    cr_assert_eq(co_result(&b.gen), E_OTHER);
}

Test(await, the_parent_can_catch_the_childs_error)
{
    boss_t b;
    boss_init(&b, E_OTHER, true);
    cr_assert_eq(co_next(&b.gen), CO_YIELDED);
    cr_assert_eq(co_next(&b.gen), CO_YIELDED);
    cr_assert_eq(b.caught, E_OTHER);
    cr_assert_eq(co_next(&b.gen), CO_RETURNED);
}

Test(await, a_throw_reaches_the_awaited_child)
{
    boss_t b;
    boss_init(&b, 0, true);
    co_next(&b.gen);
    cr_assert_eq(co_throw(&b.gen, E_THROWN), CO_YIELDED);
    cr_assert_eq(b.job.cleanup_saw, E_THROWN);
    cr_assert_eq(b.caught, E_THROWN);
    cr_assert_eq(co_result(&b.job.gen), E_THROWN);
}

Test(await, close_reaches_the_awaited_child)
{
    boss_t b;
    boss_init(&b, 0, false);
    co_next(&b.gen);
    cr_assert_eq(co_close(&b.gen), 0);
    cr_assert_eq(b.job.cleanups, 1);
    cr_assert_eq(b.job.cleanup_saw, CO_EXIT);
    cr_assert_eq(co_state(&b.gen), CO_CLOSED);
}

/* A parent that swallows GeneratorExit and suspends again ignores the close
   (Python: RuntimeError), after its child was closed. */
Test(await, a_parent_that_swallows_the_close_ignores_it)
{
    boss_t b;
    boss_init(&b, 0, true);
    co_next(&b.gen);
    cr_assert_eq(co_close(&b.gen), CO_EIGNOREDCLOSE);
    cr_assert_eq(b.caught, CO_EXIT);
    cr_assert_eq(b.job.cleanups, 1);
    cr_assert_eq(co_state(&b.gen), CO_SUSPENDED);
}

/* CO_AWAIT passes no values, even between frames that have them: the
   child's yields stay in the child. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    leaf_t leaf;
} peek_t;

static int peek_fn(co_gen *g)
{
    peek_t *self = (peek_t *)g;
    CO_BEGIN(self);
    leaf_setup(&self->leaf, leaf_fn, NULL);
    CO_AWAIT(self, leaf);
    CO_END(self);
}

Test(await, values_stay_in_the_child)
{
    peek_t p;
    memset(&p, 0, sizeof p);
    CO_INIT(&p, peek_fn);
    p.out = -99;
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(p.leaf.out, 1);
    cr_assert_eq(p.out, -99, "a value passed through an await");
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(p.leaf.out, 2);
    cr_assert_eq(p.out, -99);
}

/* A send into an await chain has nowhere to go: refused, and nothing runs. */
Test(await, a_send_into_an_await_chain_is_refused)
{
    peek_t p;
    memset(&p, 0, sizeof p);
    CO_INIT(&p, peek_fn);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(p.leaf.out, 1);
    cr_assert_eq(CO_SEND(&p, 5), CO_ELAYOUT);
    cr_assert_eq(p.leaf.out, 1, "the child ran");
    cr_assert_eq(co_state(&p.gen), CO_SUSPENDED);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED, "the chain still resumes");
    cr_assert_eq(p.leaf.out, 2);
}
