/*
 * Delegation (`yield from`) checked against Python's PEP 380: values come out
 * of the innermost child, sends and throws go in to it, and close() reaches
 * it first, through a chain of three levels whose frames are members of their
 * parents' (delegation_chain.h), so nothing here allocates.  Where a
 * delegation starts, resuming behind a parent's back, and `await` are in
 * delegation_more.c.
 */
#include "delegation_chain.h"

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
