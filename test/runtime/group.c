/*
 * group.c -- asyncio.TaskGroup as CO_GROUP_RUN: the group waits for every
 * member; the first failure (a member's or the body's) cancels the others
 * and the body and is raised once all have finished; co_group_errors gives
 * each member's outcome; a shutting-down group takes no new members.
 */
#include "testloop.h"

#include <errno.h>

TestSuite(group, .init = rt_reset);

enum { MAXMEMBERS = 6 };

/* A member: sleeps `ms`, then raises `error` if set; cancelled, its cleanup
 * awaits `cleanup_ms`. */
typedef struct {
    co_gen gen;
    int id, ms, error, cleanup_ms;
    int seen;
    int64_t ended_at;
} member;

static int member_fn(co_gen *g)
{
    member *self = (member *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE(self, self->error);
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->seen == CO_ECANCELLED && self->cleanup_ms)
            CO_SLEEP(self, self->cleanup_ms);
        self->ended_at = rt_ms(co_running_loop());
        rt_log("member %d ends: %s", self->id, co_strerror(self->seen));
    }
    CO_END(self);
}

/* The body of `async with TaskGroup() as g:` -- spawns the members, sleeps
 * `ms`, raises `error` if set; in its cleanup it may try a late spawn. */
typedef struct {
    co_gen gen;
    co_group *group;
    member *members[MAXMEMBERS];
    int n, ms, error;
    member *late; /* spawned from the cleanup when set */
    int late_rc;
    int seen;
} body;

static int body_fn(co_gen *g)
{
    body *self = (body *)g;
    CO_BEGIN(self);
    for (int i = 0; i < self->n; i++)
        cr_assert_eq(co_group_spawn(self->group, &self->members[i]->gen), 0);
    if (self->ms)
        CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE(self, self->error);
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->late)
            self->late_rc = co_group_spawn(self->group, &self->late->gen);
        rt_log("body ends: %s", co_strerror(self->seen));
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_group group;
    body b;
    int errs[MAXMEMBERS];
    size_t nerrs;
    int first[1]; /* co_group_errors with room for one */
    size_t nfirst;
    int raised;
    int64_t t;
    member *after; /* spawned once the group is over, when set */
    int after_rc;
} owner;

static int owner_fn(co_gen *g)
{
    owner *self = (owner *)g;
    CO_BEGIN(self);
    co_group_init(&self->group);
    CO_GROUP_RUN(self, &self->group, b);
    if (self->after)
        self->after_rc = co_group_spawn(&self->group, &self->after->gen);
    CO_FINALLY(self)
    {
        self->raised = CO_THROWN(self);
        self->t = rt_ms(co_running_loop());
        self->nerrs = co_group_errors(&self->group, self->errs, MAXMEMBERS);
        self->first[0] = 1;
        self->nfirst = co_group_errors(&self->group, self->first, 1);
        co_group_fini(&self->group);
        rt_log("group raises: %s", co_strerror(self->raised));
    }
    CO_END(self);
}

/* An owner whose body spawns members described by (ms, error) pairs. */
static owner *new_owner(co_loop *loop, int n, const int (*spec)[2], int body_ms, int body_error)
{
    owner *o = CO_NEW(loop, owner, owner_fn);
    cr_assert_not_null(o);
    CO_INIT(&o->b, body_fn);
    o->b.group = &o->group;
    o->b.n = n;
    o->b.ms = body_ms;
    o->b.error = body_error;
    for (int i = 0; i < n; i++) {
        member *m = CO_NEW(loop, member, member_fn);
        cr_assert_not_null(m);
        m->id = i;
        m->ms = spec[i][0];
        m->error = spec[i][1];
        o->b.members[i] = m;
    }
    return o;
}

Test(group, waits_for_every_member)
{
    static const int spec[3][2] = {{30, 0}, {10, 0}, {20, 0}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 3, spec, 0, 0);
    cr_expect_eq(co_run(loop, &o->gen), 0);
    cr_expect_eq(o->t, 30);
    cr_expect_str_eq(rt.log, "body ends: success\nmember 1 ends: success\n"
                             "member 2 ends: success\nmember 0 ends: success\n"
                             "group raises: success\n");
    cr_expect_eq(o->nerrs, 3);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(o->errs[i], 0);
    rt_free_loop(loop);
}

Test(group, the_first_failure_cancels_the_siblings_and_the_body)
{
    static const int spec[3][2] = {{100, 0}, {10, -EIO}, {20, -EPIPE}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 3, spec, 1000, 0);
    o->b.members[0]->cleanup_ms = 5;
    cr_expect_eq(co_run(loop, &o->gen), -EIO);
    cr_expect_eq(o->b.seen, CO_ECANCELLED, "the body was cancelled");
    cr_expect_eq(o->b.members[0]->seen, CO_ECANCELLED);
    cr_expect_eq(o->b.members[2]->seen, CO_ECANCELLED, "cancelled before its own failure");
    cr_expect_eq(o->t, 15, "raised once every member finished");
    cr_expect_eq(o->nerrs, 3);
    cr_expect_eq(o->errs[0], CO_ECANCELLED);
    cr_expect_eq(o->errs[1], -EIO);
    cr_expect_eq(o->errs[2], CO_ECANCELLED);
    cr_expect_eq(co_cancelling(&o->gen), 0, "the group took back its cancellation of the body");
    rt_free_loop(loop);
}

Test(group, a_failing_body_cancels_the_members)
{
    static const int spec[2][2] = {{100, 0}, {200, 0}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 2, spec, 10, -EPROTO);
    cr_expect_eq(co_run(loop, &o->gen), -EPROTO);
    cr_expect_eq(o->t, 10);
    cr_expect_eq(o->errs[0], CO_ECANCELLED);
    cr_expect_eq(o->errs[1], CO_ECANCELLED);
    rt_free_loop(loop);
}

Test(group, a_member_failing_after_the_body_cancels_the_rest)
{
    static const int spec[2][2] = {{10, -EIO}, {200, 0}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 2, spec, 0, 0);
    cr_expect_eq(co_run(loop, &o->gen), -EIO);
    cr_expect_eq(o->b.seen, 0, "the body had finished");
    cr_expect_eq(o->t, 10);
    cr_expect_eq(o->errs[1], CO_ECANCELLED);
    rt_free_loop(loop);
}

Test(group, co_group_errors_fills_at_most_max_and_counts_all)
{
    static const int spec[3][2] = {{1, -EIO}, {1, 0}, {1, 0}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 3, spec, 0, 0);
    int errs[2] = {1, 1};
    co_group g;
    cr_expect_eq(co_run(loop, &o->gen), -EIO);
    co_group_init(&g);
    cr_expect_eq(co_group_errors(&g, errs, 2), 0, "an empty group");
    cr_expect_eq(errs[0], 1, "nothing written");
    cr_expect_eq(o->nerrs, 3);
    cr_expect_eq(o->nfirst, 3, "the count of all members");
    cr_expect_eq(o->first[0], -EIO, "only the first fits");
    rt_free_loop(loop);
}

Test(group, spawning_into_a_shutting_down_group_fails)
{
    static const int spec[1][2] = {{10, -EIO}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 1, spec, 1000, 0);
    o->b.late = CO_NEW(loop, member, member_fn);
    o->b.late->id = 9;
    cr_expect_eq(co_run(loop, &o->gen), -EIO);
    cr_expect_lt(o->b.late_rc, 0, "spawned into an aborting group");
    cr_expect_not(co_done(&o->b.late->gen));
    cr_expect_eq(o->nerrs, 1, "not a member");
    rt_free_loop(loop); /* the refused task is freed with the loop */
}

/* ------------------------------------------------ from outside */

typedef struct {
    co_gen gen;
    co_gen *target;
    int at, result;
    int64_t t;
} poker;

static int cancel_later_fn(co_gen *g)
{
    poker *self = (poker *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->at);
    co_cancel(self->target);
    CO_END(self);
}

Test(group, a_member_cancelled_from_outside_does_not_abort_the_group)
{
    static const int spec[2][2] = {{100, 0}, {200, 0}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 2, spec, 0, 0);
    poker *p = CO_NEW(loop, poker, cancel_later_fn);
    p->target = &o->b.members[0]->gen;
    p->at = 10;
    rt_spawn(&p->gen);
    cr_expect_eq(co_run(loop, &o->gen), 0);
    cr_expect_eq(o->errs[0], CO_ECANCELLED);
    cr_expect_eq(o->errs[1], 0, "its sibling ran to the end");
    cr_expect_eq(o->t, 200);
    rt_free_loop(loop);
}

static int cancel_and_wait_fn(co_gen *g)
{
    poker *self = (poker *)g;
    CO_BEGIN(self);
    rt_spawn(self->target);
    CO_SLEEP(self, self->at);
    co_cancel(self->target);
    CO_AWAIT_TASK_CATCH(self, self->target);
    self->result = CO_THROWN(self);
    self->t = rt_ms(co_running_loop());
    CO_END(self);
}

static void cancel_owner(int body_ms)
{
    static const int spec[2][2] = {{100, 0}, {200, 0}};
    co_loop *loop = rt_loop();
    owner *o = new_owner(loop, 2, spec, body_ms, 0);
    poker *p = CO_NEW(loop, poker, cancel_and_wait_fn);
    o->b.members[0]->cleanup_ms = 5;
    o->b.members[1]->cleanup_ms = 7;
    p->target = &o->gen;
    p->at = 10;
    cr_expect_eq(co_run(loop, &p->gen), 0);
    cr_expect_eq(p->result, CO_ECANCELLED);
    cr_expect_eq(o->raised, CO_ECANCELLED);
    cr_expect_eq(o->errs[0], CO_ECANCELLED);
    cr_expect_eq(o->errs[1], CO_ECANCELLED);
    cr_expect_eq(o->t, 17, "the owner ends after its members' cleanup");
    cr_expect_eq(p->t, 17);
    rt_free_loop(loop);
}

Test(group, cancelling_the_owner_in_the_body_cancels_the_members)
{
    cancel_owner(1000);
}

Test(group, cancelling_the_owner_while_it_waits_cancels_the_members)
{
    cancel_owner(0);
}

/* A member whose cleanup, once cancelled, fails: CPython's TaskGroup then
 * raises that error, not the owner's cancellation ("other errors have
 * priority"), whether the owner was cancelled in the body or waiting. */
CO_ASYNC(failing_cleanup, int unused;)
    CO_SLEEP_CATCH(self, 100);
    if (CO_THROWN(self) == CO_ECANCELLED) {
        CO_SLEEP(self, 1);
        CO_RAISE(self, -EPIPE);
    }
CO_ASYNC_END

CO_ASYNC(fc_body, co_group *g; failing_cleanup *m; int ms;)
    self->m = CO_CALL(failing_cleanup, );
    CO_CHECK(self, self->m ? co_group_spawn(self->g, &self->m->gen) : CO_ENOMEM);
    CO_SLEEP(self, self->ms);
CO_ASYNC_END

CO_ASYNC(fc_owner, co_group g; fc_body b; int ms;)
    co_group_init(&self->g);
    self->b = (fc_body){.g = &self->g, .ms = self->ms};
    CO_INIT(&self->b, fc_body_fn);
    CO_GROUP_RUN(self, &self->g, b);
CO_FINALLY(self)
{
    co_group_fini(&self->g);
}
CO_ASYNC_END

static void cancel_owner_member_fails(int body_ms)
{
    co_loop *loop = rt_loop();
    fc_owner *o = CO_TASK(loop, fc_owner, .ms = body_ms);
    poker *p = CO_NEW(loop, poker, cancel_and_wait_fn);
    cr_assert(o && p);
    p->target = &o->gen;
    p->at = 10;
    cr_expect_eq(co_run(loop, &p->gen), 0);
    cr_expect_eq(p->result, -EPIPE, "the member's error, not CO_ECANCELLED");
    cr_expect_eq(p->t, 11);
    cr_expect_eq(co_cancelling(&o->gen), 1, "the outside request stays counted");
    rt_free_loop(loop);
}

Test(group, a_member_error_wins_over_the_owner_cancelled_in_the_body)
{
    cancel_owner_member_fails(1000);
}

Test(group, a_member_error_wins_over_the_owner_cancelled_while_it_waits)
{
    cancel_owner_member_fails(0);
}
