/*
 * gather.c -- asyncio.gather over tasks: the owner waits until every child
 * is done (CO_GATHER_ALL) or the first error (CO_GATHER_FIRST_ERROR).
 *
 * Children report through the joiner hook in their co_gather, and a
 * cancelled owner is handled through the wait ops registered for
 * CO__W_GATHER: the task core never calls this file by name.
 */
#include "loop.h"

static void gather_member_done(co_loop *loop, void *joiner, co_task *c);
static bool gather_cancel(co_loop *loop, co_task *owner);
static void gather_pass_on(co_loop *loop, co_task *owner);

static const co__join_ops gather_join = {gather_member_done};
static const co__wait_ops gather_wait = {gather_cancel, gather_pass_on};

static bool gather_ready(const co_gather *g)
{
    if (g->pending == 0)
        return true;
    /* a cancelled owner waits for every child it cancelled */
    if (g->owner && (g->owner->flags & CO__T_CANCEL))
        return false;
    return g->mode == CO_GATHER_FIRST_ERROR && g->error != 0;
}

/*
 * asyncio's gather wakes its awaiter through an outer future that a done
 * callback of the child sets: the child ends, the callback runs a turn of
 * the ready queue later, the awaiter one more turn after that.  So the
 * owner, woken (or finding the gather over as it starts), goes behind the
 * ready queue once more before it ends the gather.  It stays woken by the
 * gather meanwhile: cancelled in between, gather_pass_on ends the gather.
 */
static int gather_hop(co_loop *loop, co_task *self, co_gather *g)
{
    g->hop = 0;
    co__wait_for(self, CO__W_GATHER, g);
    co__wake(loop, self);
    return 0;
}

/* 1 when the gather is over (<0: the error it raises), else 0: waiting. */
static int gather_wait_or_end(co_loop *loop, co_task *self, co_gather *g)
{
    if (g->hop)
        return gather_hop(loop, self, g);
    if (gather_ready(g)) {
        int err = co__gather_end(g);
        return err < 0 ? err : 1;
    }
    loop->waits[CO__W_GATHER] = &gather_wait;
    co__wait_for(self, CO__W_GATHER, g);
    return 0;
}

/* Lets go of the children tasks[0..n) adopted before a bad argument. */
static void unadopt(co_gather *g, co_gen *const *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (co__task(tasks[i])->group == g)
            co__task(tasks[i])->group = NULL;
}

/* Whether tasks[i] was named earlier in the list: a child named twice
 * counts once.  A scan, but only for a child that already reports to this
 * gather, which is rare; a child another task's gather claimed through the
 * same struct is not named before, and is CO_EBUSY. */
static bool named_before(co_gen *const *tasks, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (tasks[j] == tasks[i])
            return true;
    return false;
}

/* The rarer children, in order: those done already (their errors read
 * now, the first one kept) and those not yet scheduled (spawned now). */
static void adopt_rest(co_gather *g, co_gen *const *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        co_task *c = co__task(tasks[i]);
        if (c->flags & CO__T_DONE) {
            co__mark_read(c);
            if (g->error == 0)
                g->error = co_result(tasks[i]);
        } else if (c->group == g && !(c->flags & CO__T_SPAWNED) && co_spawn(tasks[i]) < 0) {
            if (g->error == 0)
                g->error = CO_ENOMEM;
            c->group = NULL;
            g->pending--;
        }
    }
}

/* A child outside the common case's test, checked: 1 when it was named
 * earlier in this list (it counts once), else the error -- CO_EBADARG,
 * CO_ESELF, or CO_EBUSY: another gather's, or this struct's other use. */
static int adopt_odd(const co_gather *g, const co_task *self, co_gen *const *tasks, size_t i)
{
    const co_task *c;
    if (tasks[i] == NULL || tasks[i]->fn == NULL)
        return CO_EBADARG;
    c = co__task(tasks[i]);
    if (c == self)
        return CO_ESELF;
    return c->group == g && named_before(tasks, i) ? 1 : CO_EBUSY;
}

/*
 * One pass over the children checks and adopts them: at a million tasks
 * each pass over their blocks is a cache miss a task, so the common child
 * (a task, not the caller, unclaimed) costs one test of its frame and two
 * of its header.  A bad argument undoes the adoptions (nothing else
 * happened yet); a child named twice counts once, like asyncio.  Children
 * already done or not yet scheduled take a second pass, in order.
 */
static int adopt(co_gather *g, co_task *self, co_gen *const *tasks, size_t n, int mode)
{
    bool rest = false;
    size_t pending = 0; /* g is written only once all is well: it may be in use */
    if ((tasks == NULL && n) || (mode != CO_GATHER_FIRST_ERROR && mode != CO_GATHER_ALL))
        return CO_EBADARG;
    for (size_t i = 0; i < n; i++) {
        const co_gen *t = tasks[i];
        co_task *c;
        uint8_t flags;
        if (t == NULL || t->fn == NULL || (c = co__task(t))->group != NULL || c == self) {
            int rc = adopt_odd(g, self, tasks, i);
            if (rc > 0)
                continue;
            unadopt(g, tasks, i);
            return rc;
        }
        flags = c->flags;
        if ((flags & (CO__T_DONE | CO__T_SPAWNED)) != CO__T_SPAWNED) {
            rest = true;
            if (flags & CO__T_DONE)
                continue;
        }
        c->group = g;
        pending++;
    }
    g->ops = &gather_join;
    g->pending = pending;
    g->tasks = tasks;
    g->n = n;
    g->error = 0;
    g->mode = (uint8_t)mode;
    g->hop = 0;
    g->owner = self;
    if (rest)
        adopt_rest(g, tasks, n);
    return 0;
}

int co__gather_start(co_gather *g, co_gen *const *tasks, size_t n, int mode)
{
    co_loop *loop = co__loop();
    co_task *self;
    if (g == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, g) || co__on_stack(loop, tasks))
        return CO_ESTACKARG; /* both are read until the gather ends */
    self = loop->current;
    if (g->owner != self) { /* the first call: adopt the children */
        int rc = adopt(g, self, tasks, n, mode);
        if (rc < 0)
            return rc;
        /* over already (children done): asyncio's callbacks still run
           first, then the awaiter -- two turns, as for a child ending;
           a gather of nothing is done at once there too */
        if (n && gather_ready(g)) {
            gather_hop(loop, self, g);
            g->hop = 1;
            return 0;
        }
    }
    return gather_wait_or_end(loop, self, g);
}

/* Back from the wait: the gather is the one the task waited on. */
int co__gather_again(void)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    return gather_wait_or_end(loop, loop->current, loop->current->wait_on);
}

/*
 * The children let go; those still running (first error) stop reporting.
 * A pass over every child, so per child it does the least: co__let_go is
 * inline, and looks up the child's loop only for one released while
 * gathered, which it frees.
 * The array and its length are read once: the stores through c->group may
 * alias them for the compiler.
 */
int co__gather_end(co_gather *g)
{
    co_gen *const *tasks = g->tasks;
    size_t n = g->n;
    for (size_t i = 0; i < n; i++) {
        co_task *c = co__task(tasks[i]);
        if (c->group == g)
            co__let_go(c);
    }
    g->pending = 0;
    g->hop = 0;
    g->owner = NULL;
    return g->mode == CO_GATHER_FIRST_ERROR ? g->error : 0;
}

static void gather_cancel_children(co_gather *g)
{
    for (size_t i = 0; i < g->n; i++) {
        co_task *c = co__task(g->tasks[i]);
        if (c->group == g && !(c->flags & CO__T_DONE))
            co_cancel(g->tasks[i]);
    }
}

/* A child finished (the joiner hook), once per child: the common case --
 * more children to come and no error -- returns after two tests, as
 * gather_ready could only say "not yet" then. */
static void gather_member_done(co_loop *loop, void *joiner, co_task *c)
{
    co_gather *g = joiner;
    if (g->error == 0) /* the first error, in time */
        g->error = co_result(co__frame(c));
    if (--g->pending != 0 && g->error == 0)
        return;
    if (g->owner && g->owner->wait == CO__W_GATHER && gather_ready(g)) {
        co__wake(loop, g->owner); /* cancelled before it runs: gather_pass_on */
        g->hop = 1;
    }
}


/* The owner is cancelled while it waits: the gather cancels its children
 * and the owner wakes when they are done. */
static bool gather_cancel(co_loop *loop, co_task *owner)
{
    (void)loop;
    gather_cancel_children(owner->wait_on);
    return false;
}

/* Woken by the gather but cancelled before it ran: its children stop
 * reporting to it. */
static void gather_pass_on(co_loop *loop, co_task *owner)
{
    (void)loop;
    co__gather_end(owner->wait_on);
}

/* ------------------------------------------------ gathers of new tasks */

int co__gather_of(co_gather *g, int mode, void *const *frames, size_t n)
{
    co_loop *loop = co__loop();
    co_gen **own = NULL;
    bool missing = false;
    int rc;
    if (g == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    for (size_t i = 0; i < n; i++)
        missing |= frames[i] == NULL;
    if (!missing)
        own = co__pool_alloc(loop, n * sizeof *own);
    if (own == NULL) { /* a CO_TASK found no memory, or the array none */
        for (size_t i = 0; i < n; i++)
            co_release(frames[i]);
        return CO_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        own[i] = frames[i];
    g->owns = 0;
    rc = co__gather_start(g, own, n, mode);
    g->tasks = own; /* even when refused: co_gather_release frees them */
    g->n = n;
    g->owns = 1;
    return rc;
}

co_gen *co_gather_task(const co_gather *g, size_t i)
{
    return g && g->tasks && i < g->n ? g->tasks[i] : NULL;
}

int co_gather_release(co_gather *g)
{
    co_loop *loop;
    if (g == NULL)
        return CO_EBADARG;
    if (g->owner)
        return CO_EBUSY;
    if (!g->owns || g->n == 0)
        return 0;
    loop = co__task_loop(co__task(g->tasks[0]));
    for (size_t i = 0; i < g->n; i++)
        co_release(g->tasks[i]);
    co__pool_free(loop, (void *)(uintptr_t)g->tasks, g->n * sizeof *g->tasks);
    g->tasks = NULL;
    g->n = 0;
    g->owns = 0;
    return 0;
}
