/*
 * try statements nested in one another, around delegations, and inside the
 * body's cleanup section (CO_FINALLY), checked against Python: which handler
 * an error reaches, what a throw into an inner clause does, what a child's
 * error does at a yield-from, and which error a cleanup keeps pending.  The
 * frame and its letter log are try_frame.h's.
 */
#include <criterion/criterion.h>

#include "try_frame.h"

/* ------------------------------------------------------------- nesting */

/* try:
 *     try: yield 1; raise mode  except E_A: a  finally: f
 *     z
 * except E_B: B  finally: F
 * Z */
static int nested_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        CO_TRY(self)
        {
            CO_YIELD(self, 1);
            if (self->mode)
                CO_RAISE(self, self->mode);
        }
        CO_EXCEPT(self, E_A)
        {
            mark(self, 'a');
            CO_YIELD(self, 2);
        }
        CO_TRY_FINALLY(self)
        {
            mark(self, 'f');
            CO_YIELD(self, 3);
        }
        CO_TRY_END(self);
        mark(self, 'z');
    }
    CO_EXCEPT(self, E_B)
    {
        mark(self, 'B');
        self->caught = CO_CAUGHT(self);
    }
    CO_TRY_FINALLY(self)
    {
        mark(self, 'F');
    }
    CO_TRY_END(self);
    mark(self, 'Z');
    CO_END(self);
}

Test(try, nested_inner_catches)
{
    frame f;
    frame_init(&f, nested_fn, E_A);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "yayfyzFZ");
}

Test(try, nested_outer_catches_after_the_inner_finally)
{
    frame f;
    frame_init(&f, nested_fn, E_B);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "yfyBFZ");
    cr_assert_eq(f.caught, E_B);
}

Test(try, nested_none_catches)
{
    frame f;
    frame_init(&f, nested_fn, E_C);
    cr_assert_eq(drain(&f), E_C);
    cr_assert_str_eq(f.log, "yfyF");
}

/* Throws into each clause of the inner try. */
Test(try, a_throw_into_the_inner_except_clause_reaches_the_outer)
{
    frame f;
    frame_init(&f, nested_fn, E_A);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(f.out, 2);
    cr_assert_eq(co_throw(&f.gen, E_B), CO_YIELDED, "the inner finally yields");
    cr_assert_eq(f.out, 3);
    cr_assert_eq(co_next(&f.gen), CO_RETURNED);
    cr_assert_str_eq(f.log, "afBFZ");
    cr_assert_eq(f.caught, E_B);
}

Test(try, a_throw_into_the_inner_finally_replaces_the_error)
{
    frame f;
    frame_init(&f, nested_fn, E_C);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(f.out, 3, "in the inner finally, unwinding E_C");
    cr_assert_eq(co_throw(&f.gen, E_B), CO_RETURNED);
    cr_assert_str_eq(f.log, "fBFZ");
}

Test(try, a_send_into_a_try_block)
{
    frame f;
    frame_init(&f, nested_fn, 0);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(CO_SEND(&f, 5), CO_YIELDED);
    cr_assert_eq(f.out, 3);
    cr_assert_eq(f.in, 5);
    cr_assert_eq(co_next(&f.gen), CO_RETURNED);
    cr_assert_str_eq(f.log, "fzFZ");
}

/* --------------------------------------------------------- delegation */

typedef struct {
    co_gen gen;
    int out;
    int in;
    int fail;
    int ret;
} kid;

static int kid_fn(co_gen *g)
{
    kid *self = (kid *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 100);
    if (self->fail)
        CO_RAISE(self, self->fail);
    CO_RETURN(self, 7);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    co_try tries[1];
    kid child;
    char log[16];
    int n;
    int got;
} parent;

/* try: r = yield from child  except E_A: a  else: e  finally: f */
static int parent_fn(co_gen *g)
{
    parent *self = (parent *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        CO_YIELD_FROM(self, child);
        self->got = self->child.ret;
    }
    CO_EXCEPT(self, E_A)
    {
        self->log[self->n++] = 'a';
    }
    CO_ELSE(self)
    {
        self->log[self->n++] = 'e';
    }
    CO_TRY_FINALLY(self)
    {
        self->log[self->n++] = 'f';
    }
    CO_TRY_END(self);
    CO_END(self);
}

static void parent_init(parent *p, int fail)
{
    memset(p, 0, sizeof *p);
    co_init(&p->gen, parent_fn);
    co_init(&p->child.gen, kid_fn);
    p->child.fail = fail;
}

Test(try, around_a_delegation_that_returns)
{
    parent p;
    parent_init(&p, 0);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(p.out, 100);
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_str_eq(p.log, "ef");
    cr_assert_eq(p.got, 7);
}

Test(try, catches_the_childs_error)
{
    parent p;
    parent_init(&p, E_A);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_str_eq(p.log, "af");
}

Test(try, catches_an_error_thrown_through_the_child)
{
    parent p;
    parent_init(&p, 0);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&p.gen, E_A), CO_RETURNED);
    cr_assert_str_eq(p.log, "af");
    cr_assert_eq(co_result(&p.child.gen), E_A);
}

Test(try, an_unmatched_childs_error_goes_on)
{
    parent p;
    parent_init(&p, E_B);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(co_next(&p.gen), E_B);
    cr_assert_str_eq(p.log, "f");
}

/* ---------------------------------------- inside the body's cleanup */

/* The cleanup section's pending error survives a try that catches another. */
static int in_cleanup_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_RAISE(self, E_A);
    CO_FINALLY(self)
    {
        self->caught = CO_THROWN(self);
        CO_TRY(self)
        {
            CO_YIELD(self, 2);
        }
        CO_EXCEPT(self, E_B)
        {
            mark(self, 'b');
        }
        CO_TRY_END(self);
        mark(self, 'z');
    }
    CO_END(self);
}

Test(try, in_the_cleanup_section_keeps_the_pending_error)
{
    frame f;
    frame_init(&f, in_cleanup_fn, 0);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(f.out, 2);
    cr_assert_eq(f.caught, E_A);
    cr_assert_eq(co_throw(&f.gen, E_B), E_A, "the caught E_B replaced the pending E_A");
    cr_assert_str_eq(f.log, "bz");
}

Test(try, in_the_cleanup_section_resumed_normally)
{
    frame f;
    frame_init(&f, in_cleanup_fn, 0);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_next(&f.gen), E_A);
    cr_assert_str_eq(f.log, "z");
}

/* A try statement costs its frame one co_try a level, nothing else. */
Test(try, the_slot_is_small)
{
    cr_assert_leq(sizeof(co_try), 6);
}
