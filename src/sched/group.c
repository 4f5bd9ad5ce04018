/*
 * group.c -- asyncio.TaskGroup: members spawned into a group, whose first
 * failure cancels the others and the group's body; the owner waits for all.
 *
 * Members report through the joiner hook in their co_group, and a cancelled
 * owner aborts the group through the wait ops registered for CO__W_GROUP.
 * Between entering and ending, the group is on its owner's scope (stack.c).
 */
#include "loop.h"

static void group_member_done(co_loop *loop, void *joiner, co_task *c);
static bool group_cancel(co_loop *loop, co_task *owner);

static const co__join_ops group_join = {group_member_done};
static const co__wait_ops group_wait = {group_cancel, NULL};

void co_group_init(co_group *g)
{
    if (g == NULL)
        return;
    g->ops = &group_join;
    g->finished = false;
    g->members = NULL;
    g->n = g->cap = g->pending = 0;
    g->error = 0;
    g->owner = NULL;
    g->aborting = false;
    g->body_done = false;
    g->hop = false;
}

void co_group_fini(co_group *g)
{
    if (g == NULL || g->owner == NULL)
        return;
    for (size_t i = 0; i < g->n; i++) {
        co_task *c = co__task(g->members[i]);
        if (c->group == g)
            co__let_go(c);
    }
    co__free(co__task_loop(g->owner), g->members, g->cap * sizeof *g->members);
    g->members = NULL;
    g->n = g->cap = 0;
}

int co__group_enter(co_group *g)
{
    co_loop *loop = co__loop();
    if (g == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, g))
        return CO_ESTACKARG; /* members report to it after the body suspends */
    if (g->finished || (g->owner && g->owner != loop->current))
        return CO_EGROUPDONE;
    g->owner = loop->current;
    g->body_done = false;
    co__scope_push(g->owner, g, &g->outer);
    return 0;
}

/* The group the current task's CO_GROUP_RUN is in. */
static co_group *current_group(void)
{
    co_loop *loop = co__loop();
    return loop && loop->current ? loop->current->scope.top : NULL;
}

int co_group_spawn(co_group *g, co_gen *frame)
{
    co_task *c;
    int rc;
    if (g == NULL || frame == NULL || frame->fn == NULL || g->owner == NULL)
        return CO_EBADARG;
    c = co__task(frame);
    if (g->aborting || g->finished)
        return CO_EGROUPDONE;
    if (c->group || (c->flags & (CO__T_SPAWNED | CO__T_DONE)))
        return CO_EBUSY;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        co_gen **m = co__alloc(co__task_loop(g->owner), cap * sizeof *m);
        if (m == NULL)
            return CO_ENOMEM;
        co__bytecopy(m, g->members, g->n * sizeof *m);
        co__free(co__task_loop(g->owner), g->members, g->cap * sizeof *m);
        g->members = m;
        g->cap = cap;
    }
    rc = co_spawn(frame);
    if (rc < 0)
        return rc;
    g->members[g->n++] = frame;
    c->group = g;
    g->pending++;
    return 0;
}

/* The first failure: cancel every member still running, and the body. */
static void group_abort(co_group *g)
{
    if (g->aborting)
        return;
    g->aborting = true;
    for (size_t i = 0; i < g->n; i++) {
        co_task *c = co__task(g->members[i]);
        if (c->group == g && !(c->flags & CO__T_DONE))
            co_cancel(g->members[i]);
    }
    if (!g->body_done && g->owner)
        co_cancel(co__frame(g->owner));
}

/* err: a failure, or the body's CO_ECANCELLED from outside.  A failure
 * takes the place of a cancellation recorded first: in CPython's
 * TaskGroup the members' errors have priority over a cancellation. */
static void group_fail(co_group *g, int err)
{
    if (g->error == 0 || (g->error == CO_ECANCELLED && err != CO_ECANCELLED))
        g->error = err;
    group_abort(g);
}

void co__group_body_done(int err)
{
    co_group *g = current_group();
    bool aborted;
    if (g == NULL)
        return;
    aborted = g->aborting;
    g->body_done = true;
    if (err == CO_ECANCELLED && aborted) {
        co_uncancel(co__frame(g->owner)); /* the group cancelled its body */
        return;
    }
    if (err)
        group_fail(g, err);
}

size_t co_group_errors(const co_group *g, int *errs, size_t max)
{
    if (g == NULL || (errs == NULL && max))
        return 0;
    for (size_t i = 0; i < g->n && i < max; i++)
        errs[i] = co_task_result(g->members[i]);
    return g->n;
}

/* The owner waits for the members (0), or the group ends: 1, or the first
 * failure; a cancellation thrown at the wait (the members are done by then)
 * ends it too, and is what the group raises. */
int co__group_wait(int thrown)
{
    co_group *g = current_group();
    if (g == NULL)
        return CO_ENOTASK;
    if (g->hop && !thrown) {
        /* asyncio's owner waits on a future that the last member's done
           callback sets: woken by that end, it goes behind the ready queue
           once more, as a gather's owner does */
        g->hop = false;
        co__wait_for(g->owner, CO__W_GROUP, g);
        co__make_ready(co__task_loop(g->owner), g->owner);
        return 0;
    }
    g->hop = false;
    if (g->pending && !thrown) {
        co__task_loop(g->owner)->waits[CO__W_GROUP] = &group_wait;
        co__wait_for(g->owner, CO__W_GROUP, g);
        return 0;
    }
    g->finished = true;
    g->owner->scope.top = g->outer;
    if (thrown && (g->error == 0 || g->error == CO_ECANCELLED))
        return thrown; /* else a member's error has priority, as in CPython */
    return g->error ? g->error : 1;
}

/* A member finished (the joiner hook). */
static void group_member_done(co_loop *loop, void *joiner, co_task *c)
{
    co_group *g = joiner;
    int err = co_result(co__frame(c));
    g->pending--;
    if (err && err != CO_ECANCELLED)
        group_fail(g, err);
    if (g->pending == 0 && g->owner && g->owner->wait == CO__W_GROUP) {
        co__make_ready(loop, g->owner);
        g->hop = true;
    }
}

/* The owner is cancelled while it waits for the members: abort the group;
 * the owner wakes when every member is done. */
static bool group_cancel(co_loop *loop, co_task *owner)
{
    (void)loop;
    group_abort(owner->wait_on);
    return false;
}
