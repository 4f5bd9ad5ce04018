/*
 * hops.c -- when gather, shield and a task group wake their awaiter, in
 * turns of the ready queue.  asyncio's gather and shield each wait on an
 * outer future of their own, and a TaskGroup's owner on a future of the
 * group's, set by a done callback of the child: the child ends, its
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

/* async with TaskGroup(): the body spawns one member and ends; the owner
 * waits for it. */
CO_ASYNC(group_body, co_group *g; hop_child *a;)
    self->a = CO_CALL(hop_child, .name = "a", .ms = 3);
    CO_CHECK(self, self->a ? co_group_spawn(self->g, &self->a->gen) : CO_ENOMEM);
    rt_log("body ends");
CO_ASYNC_END

CO_ASYNC(group_main, hop_spin *s; co_group g; group_body body;)
    CO_CREATE_TASK(self, self->s, hop_spin, .name = "s", .ms = 3);
    co_group_init(&self->g);
    self->body = (group_body){.g = &self->g};
    CO_INIT(&self->body, group_body_fn);
    CO_GROUP_RUN(self, &self->g, body);
    rt_log("group back at %lld", st_now());
    co_group_fini(&self->g);
    CO_SLEEP(self, 1);
CO_ASYNC_END

Test(hops, a_task_group_wakes_its_owner_two_turns_after_the_last_member)
{
    co_loop *loop = rt_loop();
    ST_RUN(loop, group_main, 0);
    cr_expect_str_eq(rt.log, TWIN_GROUP_HOPS);
    rt_free_loop(loop);
}
