/*
 * loop_numbers.c -- a task finds its loop again however many loops there
 * are: on 64-bit a task keeps its loop's number, not a pointer (see
 * src/sched/loop.h, co__task_loop), so these check that tasks of two loops
 * alive at once stay with their own, through co_spawn, co_run and a
 * co_cancel from outside its loop's run; and that a freed loop gives its
 * number back, so making and freeing loops never runs out of them.
 */
#include "testloop.h"

TestSuite(loop_numbers, .init = rt_reset);

CO_ASYNC(sleeper, int ms; bool woke;)
    CO_SLEEP(self, self->ms);
    self->woke = true;
CO_ASYNC_END

Test(loop_numbers, tasks_of_two_loops_stay_on_their_own)
{
    co_loop *a = rt_loop(), *b = rt_loop();
    sleeper *sa = CO_TASK(a, sleeper, .ms = 5), *sb = CO_TASK(b, sleeper, .ms = 5);
    sleeper *doomed = CO_TASK(b, sleeper, .ms = 50);
    cr_assert(sa && sb && doomed);
    rt_spawn(&sb->gen); /* queued on b, not on a */
    rt_spawn(&doomed->gen);
    cr_expect_eq(co_run(a, &sb->gen), CO_EBADARG, "b's task is not a's");
    cr_expect_eq(co_run(a, &sa->gen), 0);
    cr_expect(sa->woke);
    cr_expect_not(sb->woke, "a ran none of b's tasks");
    cr_expect_eq(co_cancel(&doomed->gen), 1, "cancelled outside b's run");
    cr_expect_eq(co_run(b, &sb->gen), 0);
    cr_expect(sb->woke);
    cr_expect_eq(co_task_result(&doomed->gen), CO_ECANCELLED, "the cancel reached b's task");
    co_release(&sa->gen);
    co_release(&sb->gen);
    co_release(&doomed->gen);
    co_loop_free(a);
    rt_free_loop(b); /* checks both loops' memory: the count is one for all */
}

Test(loop_numbers, freed_loops_give_their_numbers_back)
{
    /* more loops, one after another, than there are numbers */
    for (int i = 0; i < 70000; i++) {
        co_loop *loop;
        co_loop_options opt = rt_options();
        cr_assert_eq(co_loop_new(&loop, &opt), 0, "loop %d", i);
        co_loop_free(loop);
    }
}
