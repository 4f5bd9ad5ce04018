/*
 * Delegation (`yield from` and `await`) checked against Python's PEP 380:
 * values come out of the innermost child, sends and throws go in to it,
 * close() reaches it first, its return value is readable afterwards, and a
 * delegated-to child refuses to be resumed behind its parent's back.  Child
 * frames are members of their parent's frame, so nothing here allocates.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include <corio/gen.h>

#define E_THROWN (-5)
#define E_OTHER (-77)
#define MID_CAUGHT (-1) /* what the middle level yields after catching */
#define TOP_CAUGHT (-2) /* what the top level yields after catching    */

/* What the levels of a chain share: the order their cleanup sections ran
   in, and frames the innermost body tries to resume while it runs. */
typedef struct {
    char order[8];
    int n;
    co_gen *poke[3];
    int rc_poke[3];
} chain_log;

static void chain_mark(chain_log *log, char level)
{
    if (log != NULL && log->n < (int)sizeof log->order - 1)
        log->order[log->n++] = level;
}

/* Resumes each frame in log->poke from inside a running body. */
static void chain_poke(chain_log *log)
{
    int k;
    for (k = 0; log != NULL && k < 3; k++)
        if (log->poke[k] != NULL)
            log->rc_poke[k] = co_next(log->poke[k]);
}

/* --------------------------------------------------------------- the leaf */

/* Yields base, base+1, ... (count values), adds up what is sent to it and
   returns base*100 + that sum. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    chain_log *log;
    int base, count, i, sum;
    int caught;
    int cleanup_saw;
    int ret;
} leaf_t;

static int leaf_fn(co_gen *g)
{
    leaf_t *self = (leaf_t *)g;
    CO_BEGIN(self);
    chain_poke(self->log);
    for (self->i = 0; self->i < self->count; self->i++) {
        CO_YIELD(self, self->base + self->i);
        if (CO_SENT(self))
            self->sum += self->in;
    }
    CO_RETURN(self, self->base * 100 + self->sum);
    CO_FINALLY(self)
    {
        chain_mark(self->log, 'L');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* The same values, but an error thrown at a yield is caught and the loop goes
   on; a close is answered by raising E_OTHER. */
static int leaf_catching_fn(co_gen *g)
{
    leaf_t *self = (leaf_t *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->count; self->i++) {
        CO_YIELD_CATCH(self, self->base + self->i);
        self->caught = CO_THROWN(self);
        if (self->caught == CO_EXIT)
            CO_RAISE(self, E_OTHER);
    }
    CO_RETURN(self, self->base * 100);
    CO_FINALLY(self)
    {
        chain_mark(self->log, 'L');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* Yields 7 forever, catching everything, close() included. */
static int leaf_ignoring_fn(co_gen *g)
{
    leaf_t *self = (leaf_t *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_YIELD_CATCH(self, 7);
        self->caught = CO_THROWN(self);
    }
    CO_END(self);
}

/* ------------------------------------------------------------- the middle */

/* Delegates to its leaf, then yields 1000 + the leaf's return value and
   returns the leaf's return value + 1. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    leaf_t leaf;
    chain_log *log;
    co_body leaf_body; /* NULL: leaf_fn                              */
    bool keep_leaf;    /* delegate to the leaf as the test left it   */
    bool catches;      /* delegate with CO_YIELD_FROM_CATCH          */
    bool redelegates;  /* after catching, delegate to a fresh leaf   */
    int caught;
    int cleanup_saw;
    int ret;
} mid_t;

static void leaf_setup(leaf_t *leaf, co_body fn, chain_log *log)
{
    memset(leaf, 0, sizeof *leaf);
    co_init(&leaf->gen, fn != NULL ? fn : leaf_fn);
    leaf->log = log;
    leaf->base = 1;
    leaf->count = 3;
}

static int mid_fn(co_gen *g)
{
    mid_t *self = (mid_t *)g;
    CO_BEGIN(self);
    if (!self->keep_leaf)
        leaf_setup(&self->leaf, self->leaf_body, self->log);
    if (self->catches) {
        CO_YIELD_FROM_CATCH(self, leaf);
        self->caught = CO_THROWN(self);
        if (self->caught && self->redelegates) {
            leaf_setup(&self->leaf, self->leaf_body, self->log);
            CO_YIELD_FROM(self, leaf);
        } else if (self->caught) {
            CO_YIELD(self, MID_CAUGHT);
        }
    } else {
        CO_YIELD_FROM(self, leaf);
    }
    CO_YIELD(self, 1000 + self->leaf.ret);
    CO_RETURN(self, self->leaf.ret + 1);
    CO_FINALLY(self)
    {
        chain_mark(self->log, 'M');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* ---------------------------------------------------------------- the top */

/* Delegates to its middle, then yields 2000 + the middle's return value and
   returns the middle's return value + 1. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    mid_t mid;
    chain_log log;
    co_body leaf_body;
    bool mid_catches;
    bool mid_redelegates;
    bool catches;
    int caught;
    int cleanup_saw;
    int ret;
} top_t;

static int top_fn(co_gen *g)
{
    top_t *self = (top_t *)g;
    CO_BEGIN(self);
    memset(&self->mid, 0, sizeof self->mid);
    CO_INIT(&self->mid, mid_fn);
    self->mid.log = &self->log;
    self->mid.leaf_body = self->leaf_body;
    self->mid.catches = self->mid_catches;
    self->mid.redelegates = self->mid_redelegates;
    if (self->catches) {
        CO_YIELD_FROM_CATCH(self, mid);
        self->caught = CO_THROWN(self);
        if (self->caught)
            CO_YIELD(self, TOP_CAUGHT);
    } else {
        CO_YIELD_FROM(self, mid);
    }
    CO_YIELD(self, 2000 + self->mid.ret);
    CO_RETURN(self, self->mid.ret + 1);
    CO_FINALLY(self)
    {
        chain_mark(&self->log, 'T');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

static void top_init(top_t *t)
{
    memset(t, 0, sizeof *t);
    CO_INIT(t, top_fn);
}

static void mid_init(mid_t *m, chain_log *log)
{
    memset(m, 0, sizeof *m);
    CO_INIT(m, mid_fn);
    m->log = log;
}

/* Resumes g with next and expects it to yield `value`. */
static void expect_yield(co_gen *g, const int *out, int value)
{
    int rc = co_next(g);
    cr_assert_eq(rc, CO_YIELDED, "next gave %d (%s), wanted a yield of %d", rc,
                 co_gen_strerror(rc), value);
    cr_assert_eq(*out, value);
}

/* ------------------------------------------------------------ values out */

Test(yield_from, values_come_out_of_the_child)
{
    chain_log log = {{0}, 0, {NULL, NULL, NULL}, {0, 0, 0}};
    mid_t m;
    mid_init(&m, &log);
    expect_yield(&m.gen, &m.out, 1);
    expect_yield(&m.gen, &m.out, 2);
    expect_yield(&m.gen, &m.out, 3);
    expect_yield(&m.gen, &m.out, 1100);
    cr_assert_eq(co_next(&m.gen), CO_RETURNED);
    cr_assert_eq(m.leaf.ret, 100);
    cr_assert_eq(m.ret, 101);
    cr_assert_str_eq(log.order, "LM");
}

Test(yield_from, three_levels_deep)
{
    top_t t;
    top_init(&t);
    expect_yield(&t.gen, &t.out, 1);
    expect_yield(&t.gen, &t.out, 2);
    expect_yield(&t.gen, &t.out, 3);
    expect_yield(&t.gen, &t.out, 1100);
    expect_yield(&t.gen, &t.out, 2101);
    cr_assert_eq(co_next(&t.gen), CO_RETURNED);
    cr_assert_eq(t.ret, 102);
    cr_assert_str_eq(t.log.order, "LMT");
    cr_assert_eq(co_state(&t.mid.leaf.gen), CO_CLOSED);
    cr_assert_eq(co_state(&t.mid.gen), CO_CLOSED);
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
    cr_assert_eq(co_next(&t.gen), CO_EEXHAUSTED);
}

/* ------------------------------------------------------------- sends in */

Test(yield_from, sends_reach_the_innermost_child)
{
    top_t t;
    top_init(&t);
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(CO_SEND(&t, 5), CO_YIELDED);
    cr_assert_eq(t.out, 2);
    cr_assert_eq(CO_SEND(&t, 7), CO_YIELDED);
    cr_assert_eq(t.out, 3);
    cr_assert_eq(t.mid.leaf.in, 7);
    cr_assert_eq(t.mid.leaf.sum, 12);
    expect_yield(&t.gen, &t.out, 1112);
    cr_assert_eq(t.mid.leaf.sum, 12, "a next was taken for a send");
    expect_yield(&t.gen, &t.out, 2113);
}

/* ---------------------------------------------------------------- throws */

Test(yield_from, a_throw_caught_by_the_innermost_child)
{
    top_t t;
    top_init(&t);
    t.leaf_body = leaf_catching_fn;
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_throw(&t.gen, E_THROWN), CO_YIELDED);
    cr_assert_eq(t.mid.leaf.caught, E_THROWN);
    cr_assert_eq(t.out, 2);
    cr_assert_eq(t.log.n, 0, "a cleanup ran for a caught error");
    expect_yield(&t.gen, &t.out, 3);
    expect_yield(&t.gen, &t.out, 1100);
    expect_yield(&t.gen, &t.out, 2101);
    cr_assert_eq(co_next(&t.gen), CO_RETURNED);
    cr_assert_str_eq(t.log.order, "LMT");
}

/* Python: the exception leaves each generator through its `finally`. */
Test(yield_from, an_uncaught_throw_unwinds_every_level)
{
    top_t t;
    top_init(&t);
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_throw(&t.gen, E_THROWN), E_THROWN);
    cr_assert_str_eq(t.log.order, "LMT");
    cr_assert_eq(t.mid.leaf.cleanup_saw, E_THROWN);
    cr_assert_eq(t.mid.cleanup_saw, E_THROWN);
    cr_assert_eq(t.cleanup_saw, E_THROWN);
    cr_assert_eq(co_result(&t.mid.leaf.gen), E_THROWN);
    cr_assert_eq(co_result(&t.mid.gen), E_THROWN);
    cr_assert_eq(co_result(&t.gen), E_THROWN);
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
    cr_assert_null(co_yieldfrom(&t.gen));
    cr_assert_eq(co_next(&t.gen), CO_EEXHAUSTED);
}

Test(yield_from, the_middle_level_catches_a_throw)
{
    top_t t;
    top_init(&t);
    t.mid_catches = true;
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_throw(&t.gen, E_THROWN), CO_YIELDED);
    cr_assert_eq(t.out, MID_CAUGHT);
    cr_assert_eq(t.mid.caught, E_THROWN);
    cr_assert_str_eq(t.log.order, "L");
    cr_assert_eq(co_state(&t.mid.leaf.gen), CO_CLOSED);
    cr_assert_eq(co_result(&t.mid.leaf.gen), E_THROWN);
    cr_assert_null(co_yieldfrom(&t.mid.gen));
    expect_yield(&t.gen, &t.out, 1000);
    expect_yield(&t.gen, &t.out, 2001);
    cr_assert_eq(co_next(&t.gen), CO_RETURNED);
    cr_assert_eq(t.ret, 2);
    cr_assert_str_eq(t.log.order, "LMT");
}

Test(yield_from, the_top_level_catches_a_throw)
{
    top_t t;
    top_init(&t);
    t.catches = true;
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_throw(&t.gen, E_THROWN), CO_YIELDED);
    cr_assert_eq(t.out, TOP_CAUGHT);
    cr_assert_eq(t.caught, E_THROWN);
    cr_assert_str_eq(t.log.order, "LM");
    cr_assert_eq(co_result(&t.mid.gen), E_THROWN);
    cr_assert_eq(co_state(&t.gen), CO_SUSPENDED);
    cr_assert_null(co_yieldfrom(&t.gen));
}

/* ----------------------------------------------------------------- close */

Test(yield_from, close_reaches_the_innermost_child_first)
{
    top_t t;
    top_init(&t);
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_close(&t.gen), 0);
    cr_assert_str_eq(t.log.order, "LMT");
    cr_assert_eq(t.mid.leaf.cleanup_saw, CO_EXIT);
    cr_assert_eq(t.mid.cleanup_saw, CO_EXIT);
    cr_assert_eq(t.cleanup_saw, CO_EXIT);
    cr_assert_eq(co_state(&t.mid.leaf.gen), CO_CLOSED);
    cr_assert_eq(co_state(&t.mid.gen), CO_CLOSED);
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
    cr_assert_eq(co_close(&t.gen), 0);
    cr_assert_str_eq(t.log.order, "LMT");
}

/* Python 3.11: throw(GeneratorExit) into a delegating generator closes the
   delegate first, then raises GeneratorExit at the `yield from`. */
Test(yield_from, throwing_generator_exit_closes_the_chain)
{
    top_t t;
    top_init(&t);
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_throw(&t.gen, CO_EXIT), CO_EXIT);
    cr_assert_str_eq(t.log.order, "LMT");
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
}

/* Python 3.11: throw(GeneratorExit) closes the delegate rather than throwing
   into it, so a child that ignores the close makes the parent raise
   RuntimeError. */
Test(yield_from, throwing_generator_exit_closes_the_child_rather_than_throwing)
{
    chain_log log = {{0}, 0, {NULL, NULL, NULL}, {0, 0, 0}};
    mid_t m;
    mid_init(&m, &log);
    m.leaf_body = leaf_ignoring_fn;
    expect_yield(&m.gen, &m.out, 7);
    cr_assert_eq(co_throw(&m.gen, CO_EXIT), CO_EIGNOREDCLOSE);
    cr_assert_eq(m.cleanup_saw, CO_EIGNOREDCLOSE);
    cr_assert_eq(co_state(&m.gen), CO_CLOSED);
    cr_assert_eq(co_state(&m.leaf.gen), CO_SUSPENDED);
}

/* Python: an exception the child raises while closing is raised in the
   parent at its `yield from`, and out of close(). */
Test(yield_from, an_error_raised_by_a_closing_child_reaches_the_parents)
{
    top_t t;
    top_init(&t);
    t.leaf_body = leaf_catching_fn;
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_close(&t.gen), E_OTHER);
    cr_assert_str_eq(t.log.order, "LMT");
    cr_assert_eq(t.mid.cleanup_saw, E_OTHER);
    cr_assert_eq(t.cleanup_saw, E_OTHER);
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
}

/* Python: RuntimeError("generator ignored GeneratorExit") is raised in the
   parent, which closes with it; the child stays suspended, on its own. */
Test(yield_from, a_child_that_ignores_close)
{
    chain_log log = {{0}, 0, {NULL, NULL, NULL}, {0, 0, 0}};
    mid_t m;
    mid_init(&m, &log);
    m.leaf_body = leaf_ignoring_fn;
    expect_yield(&m.gen, &m.out, 7);
    cr_assert_eq(co_close(&m.gen), CO_EIGNOREDCLOSE);
    cr_assert_eq(m.leaf.caught, CO_EXIT);
    cr_assert_eq(m.cleanup_saw, CO_EIGNOREDCLOSE);
    cr_assert_eq(co_state(&m.gen), CO_CLOSED);
    cr_assert_null(co_yieldfrom(&m.gen));
    cr_assert_eq(co_state(&m.leaf.gen), CO_SUSPENDED);
    expect_yield(&m.leaf.gen, &m.leaf.out, 7);
    cr_assert_eq(m.leaf.caught, 0);
}

/* The middle level answers the close by delegating to a fresh leaf: the top
   closes with "ignored close", and the middle, now on its own, goes on
   through its new leaf (Python: same). */
Test(yield_from, a_middle_that_ignores_close_by_delegating_again)
{
    top_t t;
    top_init(&t);
    t.mid_catches = true;
    t.mid_redelegates = true;
    expect_yield(&t.gen, &t.out, 1);
    cr_assert_eq(co_close(&t.gen), CO_EIGNOREDCLOSE);
    cr_assert_str_eq(t.log.order, "LT");
    cr_assert_eq(t.mid.caught, CO_EXIT);
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
    cr_assert_eq(co_state(&t.mid.gen), CO_SUSPENDED);
    cr_assert_eq(co_yieldfrom(&t.mid.gen), &t.mid.leaf.gen);
    expect_yield(&t.mid.gen, &t.mid.out, 2);
    expect_yield(&t.mid.gen, &t.mid.out, 3);
    expect_yield(&t.mid.gen, &t.mid.out, 1100);
    cr_assert_str_eq(t.log.order, "LTL");
}

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
