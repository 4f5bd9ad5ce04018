/*
 * task_blocks.c -- where a CO_NEW task's block comes from, as its header
 * records it in one byte (src/sched/loop.h, co__task_bytes): a frame of the
 * pool's classes, and one larger than the pool's largest class, which comes
 * from the allocator with its size kept before the header.  Each frame is
 * zeroed and aligned for any scalar, runs, and its block goes back with the
 * size it was allocated with (rt_free_loop checks every size).
 */
#include "testloop.h"

#include <stdint.h>

TestSuite(task_blocks, .init = rt_reset);

CO_ASYNC(small, long double x; int ran;)
    self->ran = 1;
    CO_SLEEP(self, 1);
CO_ASYNC_END

CO_ASYNC(big, long double x; unsigned char bytes[4000]; int ran;)
    self->ran = 1;
    for (size_t i = 0; i < sizeof self->bytes; i++)
        if (self->bytes[i] != 0)
            self->ran = -1; /* not zeroed */
    CO_SLEEP(self, 1);
CO_ASYNC_END

CO_ASYNC(pair, small *s; big *b;)
    CO_AWAIT_TASK(self, &self->s->gen);
    CO_AWAIT_TASK(self, &self->b->gen);
CO_ASYNC_END

Test(task_blocks, pool_and_allocator_blocks_are_zeroed_aligned_and_freed_at_their_size)
{
    co_loop *loop = rt_loop();
    pair *m = CO_NEW(loop, pair, pair_fn);
    cr_assert_not_null(m);
    cr_assert_not_null(m->s = CO_NEW(loop, small, small_fn));
    cr_assert_not_null(m->b = CO_NEW(loop, big, big_fn), "a frame past the pool's largest class");
    cr_expect_eq((uintptr_t)&m->s->x % _Alignof(long double), 0);
    cr_expect_eq((uintptr_t)&m->b->x % _Alignof(long double), 0);
    rt_spawn(&m->s->gen);
    rt_spawn(&m->b->gen);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->s->ran, 1);
    cr_expect_eq(m->b->ran, 1, "ran, its frame zeroed");
    co_release(&m->s->gen);
    co_release(&m->b->gen);
    co_release(&m->gen);
    rt_free_loop(loop);
}

Test(task_blocks, never_spawned_blocks_go_back_with_the_loop)
{
    co_loop *loop = rt_loop();
    cr_assert_not_null(CO_NEW(loop, small, small_fn));
    cr_assert_not_null(CO_NEW(loop, big, big_fn));
    rt_free_loop(loop); /* both freed by co_loop_free, each at its size */
}
