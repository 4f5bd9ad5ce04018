/*
 * try / except / else / finally anywhere in a body (CO_TRY ... CO_TRY_END),
 * checked against what Python's try statement does: which clauses run, in
 * what order, around plain code and loops; what goes on outward; return and
 * break through a finally; close and cancellation passing through `except
 * Exception`.  Each body logs a letter per step, and each test compares the
 * log with the order Python runs the same statement.  Nesting, delegation
 * and tries in the cleanup section are in try_nested.c.
 */
#include <criterion/criterion.h>

#include "try_frame.h"

/* ------------------------------------------------- around plain code */

/* try: t [raise mode]  except E_A: a  except (E_B, E_C): b  else: e  finally: f
 * then: z.  mode 0: no error; mode E_*: raises it. */
static int plain_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        mark(self, 't');
        if (self->mode)
            CO_RAISE(self, self->mode);
        mark(self, 'T');
    }
    CO_EXCEPT(self, E_A)
    {
        mark(self, 'a');
        self->caught = CO_CAUGHT(self);
    }
    CO_EXCEPT_IN(self, E_B, E_C)
    {
        mark(self, 'b');
        self->caught = CO_CAUGHT(self);
    }
    CO_ELSE(self)
    {
        mark(self, 'e');
    }
    CO_TRY_FINALLY(self)
    {
        mark(self, 'f');
        self->ret = CO_CAUGHT(self); /* what the finally is unwinding */
    }
    CO_TRY_END(self);
    mark(self, 'z');
    CO_END(self);
}

Test(try, no_error_runs_the_else_then_the_finally)
{
    frame f;
    frame_init(&f, plain_fn, 0);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "tTefz");
}

Test(try, except_one_code)
{
    frame f;
    frame_init(&f, plain_fn, E_A);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "tafz");
    cr_assert_eq(f.caught, E_A);
}

/* Python: in a finally after an except clause handled the error,
   sys.exc_info() is empty; unmatched, the finally sees the error (the
   differential test's trynest shape found the first one wrong). */
Test(try, the_finally_sees_only_an_error_still_unwinding)
{
    frame f;
    frame_init(&f, plain_fn, E_A);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_eq(f.ret, 0, "the finally after a handled E_A saw %d", f.ret);
    frame_init(&f, plain_fn, E_B);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_eq(f.ret, 0, "the finally after a handled E_B saw %d", f.ret);
    frame_init(&f, plain_fn, -99);
    cr_assert_eq(drain(&f), -99);
    cr_assert_eq(f.ret, -99);
    frame_init(&f, plain_fn, 0);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_eq(f.ret, 0);
}

Test(try, except_a_set_of_codes)
{
    frame f;
    frame_init(&f, plain_fn, E_C);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "tbfz");
    cr_assert_eq(f.caught, E_C);
}

Test(try, unmatched_propagates_after_the_finally)
{
    frame f;
    frame_init(&f, plain_fn, -99);
    cr_assert_eq(drain(&f), -99);
    cr_assert_str_eq(f.log, "tf");
    cr_assert_eq(co_result(&f.gen), -99);
}

/* ---------------------------------------- except any, close, cancellation */

/* try: yield 1; t  except Exception: a (or bare except, mode 1)  finally: f */
static int any_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        CO_YIELD(self, 1);
        mark(self, 't');
    }
    CO_EXCEPT_ANY(self)
    {
        mark(self, 'a');
        self->caught = CO_CAUGHT(self);
    }
    CO_EXCEPT_ALL(self)
    {
        mark(self, 'A');
        self->caught = CO_CAUGHT(self);
        if (self->mode == 1)
            CO_YIELD(self, 2); /* catching the close and yielding: ignored close */
    }
    CO_TRY_FINALLY(self)
    {
        mark(self, 'f');
    }
    CO_TRY_END(self);
    mark(self, 'z');
    CO_END(self);
}

Test(try, except_any_catches_a_thrown_error)
{
    frame f;
    frame_init(&f, any_fn, 0);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&f.gen, E_B), CO_RETURNED);
    cr_assert_str_eq(f.log, "afz");
    cr_assert_eq(f.caught, E_B);
}

Test(try, close_passes_through_except_any)
{
    frame f;
    frame_init(&f, any_fn, 0);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_close(&f.gen), 0);
    cr_assert_str_eq(f.log, "Afz", "GeneratorExit skips `except Exception`, not a bare except");
    cr_assert_eq(f.caught, CO_EXIT);
}

Test(try, cancellation_passes_through_except_any)
{
    frame f;
    frame_init(&f, any_fn, 0);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&f.gen, CANCELLED), CO_RETURNED);
    cr_assert_str_eq(f.log, "Afz");
    cr_assert_eq(f.caught, CANCELLED);
}

Test(try, a_bare_except_that_yields_ignores_the_close)
{
    frame f;
    frame_init(&f, any_fn, 1);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_close(&f.gen), CO_EIGNOREDCLOSE);
    cr_assert_eq(f.out, 2);
    cr_assert_eq(co_next(&f.gen), CO_RETURNED);
    cr_assert_str_eq(f.log, "Afz");
}

/* Without any except clause, close() runs the finally and is a clean close. */
static int finally_only_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        CO_YIELD(self, 1);
        mark(self, 't');
    }
    CO_TRY_FINALLY(self)
    {
        mark(self, 'f');
    }
    CO_TRY_END(self);
    mark(self, 'z');
    CO_END(self);
}

Test(try, close_runs_the_finally)
{
    frame f;
    frame_init(&f, finally_only_fn, 0);
    cr_assert_eq(co_next(&f.gen), CO_YIELDED);
    cr_assert_eq(co_close(&f.gen), 0);
    cr_assert_str_eq(f.log, "f");
    cr_assert_eq(co_result(&f.gen), CO_EXIT);
}

/* ----------------------------------------------------- around a loop */

/* for i in range(4):
 *     try: yield i; if i == 1: raise E_A; if i == 2 and mode: break
 *     except E_A: a
 *     finally: f
 * z */
static int loop_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < 4; self->i++) {
        CO_TRY(self)
        {
            CO_YIELD(self, self->i);
            if (self->i == 1)
                CO_RAISE(self, E_A);
            if (self->i == 2 && self->mode)
                CO_BREAK(self);
            mark(self, 't');
        }
        CO_EXCEPT(self, E_A)
        {
            mark(self, 'a');
        }
        CO_TRY_FINALLY(self)
        {
            mark(self, 'f');
        }
        CO_TRY_END(self);
    }
    mark(self, 'z');
    CO_RETURN(self, self->i);
    CO_END(self);
}

Test(try, inside_a_loop)
{
    frame f;
    frame_init(&f, loop_fn, 0);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "ytfyafytfytfz");
    cr_assert_eq(f.ret, 4);
}

Test(try, break_runs_the_finally_then_leaves_the_loop)
{
    frame f;
    frame_init(&f, loop_fn, 1);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "ytfyafyfz");
    cr_assert_eq(f.ret, 2);
}

/* try around the whole loop: the error leaves the loop. */
static int around_loop_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        for (self->i = 0;; self->i++) {
            CO_YIELD(self, self->i);
            if (self->i == 2)
                CO_RAISE(self, E_B);
        }
    }
    CO_EXCEPT(self, E_B)
    {
        mark(self, 'b');
    }
    CO_TRY_END(self);
    CO_RETURN(self, self->i);
    CO_END(self);
}

Test(try, around_a_loop)
{
    frame f;
    frame_init(&f, around_loop_fn, 0);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "yyyb");
    cr_assert_eq(f.ret, 2);
}

/* --------------------------------------------------- return and raise */

/* mode 0: return in the try block; 1: return in the except clause;
 * 2: raise in the except clause; 3: raise E_A, finally returns;
 * 4: raise E_A, finally raises E_C. */
static int exits_fn(co_gen *g)
{
    frame *self = (frame *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        mark(self, 't');
        if (self->mode == 0)
            CO_RETURN(self, 10);
        CO_RAISE(self, self->mode >= 3 ? E_A : E_B);
    }
    CO_EXCEPT(self, E_B)
    {
        mark(self, 'b');
        if (self->mode == 1)
            CO_RETURN(self, 11);
        CO_RAISE(self, E_C);
    }
    CO_TRY_FINALLY(self)
    {
        mark(self, 'f');
        if (self->mode == 3)
            CO_RETURN(self, 13);
        if (self->mode == 4)
            CO_RAISE(self, E_C);
    }
    CO_TRY_END(self);
    mark(self, 'z');
    CO_FINALLY(self)
    {
        mark(self, 'F');
    }
    CO_END(self);
}

Test(try, return_in_the_try_block_runs_both_finallys)
{
    frame f;
    frame_init(&f, exits_fn, 0);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "tfF");
    cr_assert_eq(f.ret, 10);
}

Test(try, return_in_the_except_clause)
{
    frame f;
    frame_init(&f, exits_fn, 1);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "tbfF");
    cr_assert_eq(f.ret, 11);
}

Test(try, raise_in_the_except_clause_runs_the_finally_and_propagates)
{
    frame f;
    frame_init(&f, exits_fn, 2);
    cr_assert_eq(drain(&f), E_C);
    cr_assert_str_eq(f.log, "tbfF");
}

Test(try, return_in_the_finally_swallows_the_error)
{
    frame f;
    frame_init(&f, exits_fn, 3);
    cr_assert_eq(drain(&f), CO_RETURNED);
    cr_assert_str_eq(f.log, "tfF");
    cr_assert_eq(f.ret, 13);
}

Test(try, raise_in_the_finally_replaces_the_error)
{
    frame f;
    frame_init(&f, exits_fn, 4);
    cr_assert_eq(drain(&f), E_C);
    cr_assert_str_eq(f.log, "tfF");
}
