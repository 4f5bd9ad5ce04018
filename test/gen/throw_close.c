/*
 * Errors thrown in, close() and the cleanup section, checked against Python's
 * throw(), close(), GeneratorExit and try/finally: where a thrown error is
 * raised, who may catch it, what close() reports, and that the cleanup
 * section runs exactly once whichever way the body ends.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <corio/gen.h>

#define E_THROWN (-5)
#define E_OTHER (-77)

/*
 * One frame for every body of this file.  `mode` picks what a body does
 * after its first yield; the counters let a test see what ran.
 */
typedef struct {
    co_gen gen;
    int out;
    int in;
    int mode;
    int entered;       /* times the body started                  */
    int resumed;       /* times the first yield went on normally  */
    int caught;        /* error a _CATCH yield caught             */
    int cleanups;      /* times the cleanup section ran           */
    int cleanup_saw;   /* CO_THROWN inside the cleanup section    */
    int cleanup_tail;  /* times the cleanup section ran to its end */
    int cleanup_sent;  /* CO_SENT at a yield in the cleanup section */
    int ret;
} probe;

static void probe_init(probe *p, co_body fn, int mode)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    co_init(&p->gen, fn);
}

/* ------------------------------------------------------------- plain body */

/* Yields 1 and 2, catches nothing. */
static int plain_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    self->entered++;
    CO_YIELD(self, 1);
    self->resumed++;
    CO_YIELD(self, 2);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* Python: throw() into a just-created generator raises without running it. */
Test(throw, into_a_created_generator_finishes_it_unrun)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), E_THROWN);
    cr_assert_eq(p.entered, 0);
    cr_assert_eq(p.cleanups, 0, "the cleanup of a body that never ran ran");
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(co_result(&p.gen), E_THROWN);
    cr_assert_eq(co_next(&p.gen), CO_EEXHAUSTED);
    cr_assert_eq(p.entered, 0);
}

Test(throw, uncaught_runs_the_cleanup_and_finishes_with_the_error)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), E_THROWN);
    cr_assert_eq(p.resumed, 0, "the body went on past the yield the error hit");
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, E_THROWN);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(co_result(&p.gen), E_THROWN);
    cr_assert_eq(co_next(&p.gen), CO_EEXHAUSTED);
    cr_assert_eq(p.cleanups, 1);
}

/* Python: throw() into an exhausted generator raises that exception. */
Test(throw, into_a_finished_generator_reports_the_same_error)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    while (co_next(&p.gen) == CO_YIELDED)
        ;
    cr_assert_eq(co_throw(&p.gen, E_THROWN), E_THROWN);
    cr_assert_eq(co_throw(&p.gen, E_OTHER), E_OTHER);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(co_result(&p.gen), 0, "a throw changed how it had finished");
}

Test(throw, into_a_generator_finished_by_a_throw)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    co_throw(&p.gen, E_THROWN);
    cr_assert_eq(co_throw(&p.gen, E_OTHER), E_OTHER);
    cr_assert_eq(co_result(&p.gen), E_THROWN);
    cr_assert_eq(p.entered, 0);
}

/* Python: throw(GeneratorExit) that is not caught propagates out of throw(). */
Test(throw, generator_exit_uncaught_propagates)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, CO_EXIT), CO_EXIT);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, CO_EXIT);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
}

/* ------------------------------------------------------------ catching body */

enum { AFTER_CATCH_YIELD, AFTER_CATCH_RETURN, AFTER_CATCH_RAISE };

/* Catches an error at its first yield, then does what `mode` says. */
static int catcher_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    self->entered++;
    CO_YIELD_CATCH(self, 1);
    self->caught = CO_THROWN(self);
    if (self->caught == 0)
        self->resumed++;
    else if (self->mode == AFTER_CATCH_RETURN)
        CO_RETURN(self, -self->caught);
    else if (self->mode == AFTER_CATCH_RAISE)
        CO_RAISE(self, E_OTHER);
    CO_YIELD(self, 2);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

Test(throw, caught_at_the_yield_then_yields_again)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_YIELD);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), CO_YIELDED);
    cr_assert_eq(p.caught, E_THROWN);
    cr_assert_eq(p.out, 2);
    cr_assert_eq(p.cleanups, 0);
    cr_assert_eq(co_state(&p.gen), CO_SUSPENDED);
    cr_assert_eq(co_result(&p.gen), 0, "a caught error counted as an outcome");
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, 0, "a caught error still looked pending");
    cr_assert_eq(co_result(&p.gen), 0);
}

Test(throw, caught_at_the_yield_then_returns)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_RETURN);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), CO_RETURNED);
    cr_assert_eq(p.ret, -E_THROWN);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(co_result(&p.gen), 0);
}

Test(throw, caught_then_another_error_raised)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_RAISE);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), E_OTHER);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, E_OTHER);
    cr_assert_eq(co_result(&p.gen), E_OTHER);
}

Test(throw, a_catching_yield_resumed_normally_sees_no_error)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_YIELD);
    co_next(&p.gen);
    cr_assert_eq(CO_SEND(&p, 3), CO_YIELDED);
    cr_assert_eq(p.caught, 0);
    cr_assert_eq(p.resumed, 1);
    cr_assert_eq(p.out, 2);
}

/* ------------------------------------------------------------------- close */

Test(close, a_created_generator_just_closes)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(p.entered, 0);
    cr_assert_eq(p.cleanups, 0);
    cr_assert_eq(co_next(&p.gen), CO_EEXHAUSTED);
    cr_assert_eq(p.entered, 0);
    cr_assert_eq(co_result(&p.gen), CO_EXIT, "a closed generator did not return");
}

Test(close, a_suspended_generator_runs_its_cleanup_once)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, CO_EXIT);
    cr_assert_eq(p.resumed, 0);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(co_result(&p.gen), CO_EXIT);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(co_next(&p.gen), CO_EEXHAUSTED);
    cr_assert_eq(p.cleanups, 1);
}

Test(close, a_finished_generator_does_nothing)
{
    probe p;
    probe_init(&p, plain_fn, 0);
    while (co_next(&p.gen) == CO_YIELDED)
        ;
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_result(&p.gen), 0);
}

/* Python: a generator that catches GeneratorExit and returns closes fine. */
Test(close, caught_and_returned_is_a_clean_close)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_RETURN);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(p.caught, CO_EXIT);
    cr_assert_eq(p.ret, -CO_EXIT);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
}

/* Python: close() raises what the body raised while handling GeneratorExit. */
Test(close, caught_and_another_error_raised)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_RAISE);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), E_OTHER);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(co_result(&p.gen), E_OTHER);
}

/* Python: RuntimeError("generator ignored GeneratorExit"); it stays suspended
   at the yield it reached, and a later close of a yield that does not catch
   closes it. */
Test(close, caught_and_yielded_again_is_an_ignored_close)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_YIELD);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), CO_EIGNOREDCLOSE);
    cr_assert_eq(p.caught, CO_EXIT);
    cr_assert_eq(p.out, 2);
    cr_assert_eq(p.cleanups, 0);
    cr_assert_eq(co_state(&p.gen), CO_SUSPENDED);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
}

Test(close, an_ignored_close_leaves_it_resumable)
{
    probe p;
    probe_init(&p, catcher_fn, AFTER_CATCH_YIELD);
    co_next(&p.gen);
    co_close(&p.gen);
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, 0);
}

/* A cleanup section that yields 2, then runs on to its end. */
static int yields_in_cleanup_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
        CO_YIELD(self, 2);
        self->cleanup_tail++;
    }
    CO_END(self);
}

/* Python: close() -> RuntimeError; next() runs the rest of the `finally`,
   then raises GeneratorExit. */
Test(close, a_cleanup_that_yields_ignores_the_close)
{
    probe p;
    probe_init(&p, yields_in_cleanup_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), CO_EIGNOREDCLOSE);
    cr_assert_eq(p.out, 2);
    cr_assert_eq(co_state(&p.gen), CO_SUSPENDED);
    cr_assert_eq(p.cleanup_tail, 0);
    cr_assert_eq(co_next(&p.gen), CO_EXIT);
    cr_assert_eq(p.cleanup_tail, 1, "the rest of the cleanup section was skipped");
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(p.cleanups, 1);
}

/* Python: throw() -> 2 (the `finally` yields); next() runs the rest of the
   `finally`, then re-raises the exception. */
Test(cleanup, a_cleanup_that_yields_while_an_error_unwinds)
{
    probe p;
    probe_init(&p, yields_in_cleanup_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), CO_YIELDED);
    cr_assert_eq(p.out, 2);
    cr_assert_eq(p.cleanup_saw, E_THROWN);
    cr_assert_eq(co_next(&p.gen), E_THROWN);
    cr_assert_eq(p.cleanup_tail, 1, "the rest of the cleanup section was skipped");
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_result(&p.gen), E_THROWN);
}

/* Normal end: the yield in the cleanup section is an ordinary one. */
Test(cleanup, a_cleanup_that_yields_after_a_normal_end)
{
    probe p;
    probe_init(&p, yields_in_cleanup_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(p.out, 2);
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_tail, 1);
    cr_assert_eq(co_result(&p.gen), 0);
}

/* Python: GeneratorExit raised at a yield inside `finally` leaves the rest of
   the `finally` unrun and ends the generator quietly. */
Test(close, closing_while_suspended_in_the_cleanup)
{
    probe p;
    probe_init(&p, yields_in_cleanup_fn, 0);
    co_next(&p.gen);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_tail, 0);
}

/* Python: an exception thrown at a yield inside `finally` propagates. */
Test(cleanup, a_throw_at_a_yield_in_the_cleanup)
{
    probe p;
    probe_init(&p, yields_in_cleanup_fn, 0);
    co_next(&p.gen);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_OTHER), E_OTHER);
    cr_assert_eq(p.cleanup_tail, 0);
    cr_assert_eq(co_result(&p.gen), E_OTHER);
}

/* The cleanup section reads a value sent to its yield. */
static int receives_in_cleanup_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        CO_YIELD(self, 2);
        self->cleanup_sent = CO_SENT(self);
        self->ret = self->in;
    }
    CO_END(self);
}

/* Python: `x = yield 2` inside `finally` receives what send() passes. */
Test(cleanup, a_send_into_the_cleanup_section)
{
    probe p;
    probe_init(&p, receives_in_cleanup_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_eq(CO_SEND(&p, 42), CO_RETURNED);
    cr_assert_eq(p.cleanup_sent, 1, "CO_SENT is false after a send");
    cr_assert_eq(p.ret, 42);
}

Test(cleanup, a_send_into_the_cleanup_section_while_an_error_unwinds)
{
    probe p;
    probe_init(&p, receives_in_cleanup_fn, 0);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), CO_YIELDED);
    cr_assert_eq(CO_SEND(&p, 42), E_THROWN);
    cr_assert_eq(p.cleanup_sent, 1, "CO_SENT is false after a send");
    cr_assert_eq(p.ret, 42);
}

/* --------------------------------------------------------- cleanup section */

enum { END_FALL_OFF, END_RETURN, END_RAISE };

/* After one yield, ends the way `mode` says. */
static int ender_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    if (self->mode == END_RETURN)
        CO_RETURN(self, 6);
    if (self->mode == END_RAISE)
        CO_RAISE(self, E_OTHER);
    self->resumed++;
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

Test(cleanup, runs_once_on_falling_off_the_end)
{
    probe p;
    probe_init(&p, ender_fn, END_FALL_OFF);
    co_next(&p.gen);
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_eq(p.resumed, 1);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, 0);
}

Test(cleanup, runs_once_on_co_return)
{
    probe p;
    probe_init(&p, ender_fn, END_RETURN);
    co_next(&p.gen);
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_eq(p.ret, 6);
    cr_assert_eq(p.resumed, 0, "CO_RETURN did not leave the body");
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, 0);
}

Test(cleanup, runs_once_on_co_raise)
{
    probe p;
    probe_init(&p, ender_fn, END_RAISE);
    co_next(&p.gen);
    cr_assert_eq(co_next(&p.gen), E_OTHER);
    cr_assert_eq(p.resumed, 0, "CO_RAISE did not leave the body");
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, E_OTHER);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
    cr_assert_eq(co_result(&p.gen), E_OTHER);
    cr_assert_eq(co_next(&p.gen), CO_EEXHAUSTED);
    cr_assert_eq(p.cleanups, 1);
}

Test(cleanup, runs_once_on_an_uncaught_error)
{
    probe p;
    probe_init(&p, ender_fn, END_FALL_OFF);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), E_THROWN);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, E_THROWN);
}

Test(cleanup, runs_once_on_close)
{
    probe p;
    probe_init(&p, ender_fn, END_FALL_OFF);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, CO_EXIT);
}

enum { CLEANUP_RETURNS, CLEANUP_RAISES };

/* A cleanup section that returns or raises half-way (`mode`). */
static int leaving_cleanup_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
        if (self->mode == CLEANUP_RETURNS)
            CO_RETURN(self, 9);
        CO_RAISE(self, E_OTHER);
    }
    CO_END(self);
}

/* Python: `return` in `finally` swallows the exception: StopIteration(9). */
Test(cleanup, co_return_in_the_cleanup_swallows_the_error)
{
    probe p;
    probe_init(&p, leaving_cleanup_fn, CLEANUP_RETURNS);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), CO_RETURNED);
    cr_assert_eq(p.ret, 9);
    cr_assert_eq(p.cleanups, 1, "the cleanup section looped");
    cr_assert_eq(p.cleanup_saw, E_THROWN);
    cr_assert_eq(co_result(&p.gen), 0);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
}

Test(cleanup, co_return_in_the_cleanup_after_a_normal_end)
{
    probe p;
    probe_init(&p, leaving_cleanup_fn, CLEANUP_RETURNS);
    co_next(&p.gen);
    cr_assert_eq(co_next(&p.gen), CO_RETURNED);
    cr_assert_eq(p.ret, 9);
    cr_assert_eq(p.cleanups, 1, "the cleanup section looped");
}

Test(cleanup, co_return_in_the_cleanup_during_close)
{
    probe p;
    probe_init(&p, leaving_cleanup_fn, CLEANUP_RETURNS);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), 0);
    cr_assert_eq(p.ret, 9);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(p.cleanup_saw, CO_EXIT);
}

/* Python: an exception raised in `finally` replaces the one in flight. */
Test(cleanup, co_raise_in_the_cleanup_replaces_the_error)
{
    probe p;
    probe_init(&p, leaving_cleanup_fn, CLEANUP_RAISES);
    co_next(&p.gen);
    cr_assert_eq(co_throw(&p.gen, E_THROWN), E_OTHER);
    cr_assert_eq(p.cleanups, 1, "the cleanup section looped");
    cr_assert_eq(co_result(&p.gen), E_OTHER);
}

Test(cleanup, co_raise_in_the_cleanup_during_close)
{
    probe p;
    probe_init(&p, leaving_cleanup_fn, CLEANUP_RAISES);
    co_next(&p.gen);
    cr_assert_eq(co_close(&p.gen), E_OTHER);
    cr_assert_eq(p.cleanups, 1);
    cr_assert_eq(co_state(&p.gen), CO_CLOSED);
}
