/*
 * hops.c -- when gather and shield wake their awaiter, in turns of the
 * ready queue.  asyncio's gather and shield each wait on an outer future of
 * their own, set by a done callback of the child: the child ends, its
 * callback runs one turn later, and the awaiter one turn after that.  A
 * task stepping with sleep(0) beside them shows the two turns (twins.h:
 * the trace CPython prints for the same program).
 */
#include "sync_tests.h"

#include <corio/wait.h>

TestSuite(hops, .init = rt_reset);

CO_ASYNC(hop_child, const char *name; int ms; bool fail;)
    CO_SLEEP(self, self->ms);
    rt_log("%s ends at %lld", self->name, st_now());
    if (self->fail)
        CO_RAISE(self, CO_EOF);
CO_ASYNC_END

CO_ASYNC(hop_spin, const char *name; int ms; int i;)
    CO_SLEEP(self, self->ms);
    for (self->i = 0; self->i < 4; self->i++) {
        rt_log("%s %d", self->name, self->i);
        CO_SLEEP(self, 0);
    }
CO_ASYNC_END

CO_ASYNC(hops_main, hop_child *a; hop_child *b; hop_child *c; hop_child *d; hop_spin *s;
         co_gather g; co_gen *ts[2];)
    CO_CREATE_TASK(self, self->a, hop_child, .name = "a", .ms = 3);
    CO_CREATE_TASK(self, self->s, hop_spin, .name = "s", .ms = 3);
    self->ts[0] = &self->a->gen;
    CO_GATHER(self, &self->g, self->ts, 1, CO_GATHER_FIRST_ERROR);
    rt_log("gather back at %lld", st_now());
    CO_SLEEP(self, 1);
    CO_CREATE_TASK(self, self->s, hop_spin, .name = "t", .ms = 0);
    CO_GATHER(self, &self->g, self->ts, 1, CO_GATHER_FIRST_ERROR); /* a is done */
    rt_log("gather of a done task back");
    CO_SLEEP(self, 1);
    CO_CREATE_TASK(self, self->b, hop_child, .name = "b", .ms = 3, .fail = true);
    CO_CREATE_TASK(self, self->c, hop_child, .name = "c", .ms = 10);
    CO_CREATE_TASK(self, self->s, hop_spin, .name = "u", .ms = 3);
    self->ts[0] = &self->b->gen;
    self->ts[1] = &self->c->gen;
    CO_GATHER_CATCH(self, &self->g, self->ts, 2, CO_GATHER_FIRST_ERROR);
    if (CO_THROWN(self) == CO_EOF)
        rt_log("gather raised at %lld", st_now());
    CO_SLEEP(self, 10);
    CO_CREATE_TASK(self, self->d, hop_child, .name = "d", .ms = 3);
    CO_CREATE_TASK(self, self->s, hop_spin, .name = "v", .ms = 3);
    CO_SHIELD(self, &self->d->gen);
    rt_log("shield back at %lld", st_now());
    CO_SLEEP(self, 1);
CO_ASYNC_END

Test(hops, gather_and_shield_wake_their_awaiter_two_turns_after_the_child)
{
    co_loop *loop = rt_loop();
    ST_RUN(loop, hops_main, 0);
    cr_expect_str_eq(rt.log, TWIN_GATHER_SHIELD_HOPS);
    rt_free_loop(loop);
}
