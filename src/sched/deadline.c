/*
 * deadline.c -- a deadline around an await (asyncio.timeout, wait_for as
 * CPython 3.12 has it): a timer that cancels the waiting task when it
 * expires, and the rule that turns that cancellation into CO_ETIMEOUT when
 * the await ends -- only if no other cancellation was requested meanwhile,
 * counted against the task's cancelling() at the start.  A task awaited
 * under it is cancelled through its awaiter, as asyncio forwards a
 * cancellation.  A timeout of zero or less expires before the await
 * starts, as asyncio.wait_for's does.  CO_WAIT_FOR keeps its deadline on
 * the task's scope (stack.c) between the two; timeout.c's blocks use the
 * same pair.
 */
#include "loop.h"

int co__deadline_arm(co_deadline *d, co_gen *target, int64_t ns)
{
    co_loop *loop = co__loop();
    int64_t deadline;
    if (d == NULL || (target && target->fn == NULL))
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    d->timer.slot = 0;
    d->timer.kind = CO__TIMER_DEADLINE;
    d->target = target ? co__task(target) : loop->current;
    d->owner = loop->current;
    d->expired = false;
    d->cancelling = d->owner->cancels;
    if (ns <= 0) {
        /* asyncio's wait_for(aw, 0): no time at all.  Our own child never
           starts; a task not yet done is cancelled now and awaited */
        if (d->target == d->owner)
            return CO_ETIMEOUT;
        d->expired = !(d->target->flags & CO__T_DONE);
        d->timer.kind = 0; /* the task was cancelled, not the owner */
        if (d->expired)
            co_cancel(target);
        return 0;
    }
    deadline = co__deadline_after(loop, ns);
    return co__heap_push(loop, &d->timer, deadline);
}

int co__deadline_end(co_deadline *d, int err)
{
    co_loop *loop;
    if (d == NULL || d->owner == NULL)
        return CO_EBADARG;
    loop = co__task_loop(d->owner);
    co__heap_remove(loop, &d->timer);
    if (!d->expired)
        return err;
    if (d->timer.kind == 0) /* a zero timeout cancelled the task itself */
        return err == CO_ECANCELLED ? CO_ETIMEOUT : err;
    /* our cancellation becomes a timeout, unless someone else cancelled the
       owner too (asyncio.timeout's rule, 3.12's count) */
    if (co_uncancel(co__frame(d->owner)) <= d->cancelling && err == CO_ECANCELLED)
        return CO_ETIMEOUT;
    return err;
}

int co__wait_for_arm(co_deadline *d, co_gen *target, int64_t ns)
{
    co_loop *loop = co__loop();
    int rc;
    if (loop && (co__on_stack(loop, d) || co__on_stack(loop, target)))
        return CO_ESTACKARG;
    rc = co__deadline_arm(d, target, ns);
    if (rc == 0)
        co__scope_push(loop->current, d, &d->outer);
    return rc;
}

/* The innermost wait-for of the current task: the one ending now. */
static co_deadline *innermost(void)
{
    co_loop *loop = co__loop();
    return loop && loop->current ? loop->current->scope.top : NULL;
}

co_gen *co__wait_for_target(void)
{
    co_deadline *d = innermost();
    return d ? co__frame(d->target) : NULL;
}

int co__wait_for_end(int err)
{
    co_deadline *d = innermost();
    if (d == NULL)
        return CO_ENOTASK;
    d->owner->scope.top = d->outer;
    return co__deadline_end(d, err);
}
