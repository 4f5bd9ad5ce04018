/*
 * timeout.c -- asyncio.timeout and timeout_at blocks: a co_deadline (see
 * deadline.c) armed at an absolute time when the block is entered, moved by
 * reschedule, and disarmed when the block is left by any way out.
 *
 * The block is a try (CO_TIMEOUT in corio/wait.h) whose finally clause calls
 * co__timeout_exit with the error being unwound.  The deadline cancels the
 * task; at the exit, deadline.c's rule decides whether that cancellation is
 * the block's own (it becomes CO_ETIMEOUT) or also someone else's (it stays
 * CO_ECANCELLED).  Nested blocks each count their own request, so when an
 * inner and an outer one expire in the same turn, the inner passes the
 * cancellation on and the outer turns it into the timeout, as in CPython.
 * A deadline already past fires at the next turn, as asyncio's call_soon.
 */
#include "loop.h"

#include <corio/wait.h>

enum { IDLE, ENTERED, EXITED };

int co__timeout_enter(co_timeout *to, int64_t t, bool absolute)
{
    co_loop *loop = co__loop();
    co_deadline *d = &to->d;
    int rc;
    if (loop == NULL || loop->current == NULL)
        rc = CO_ENOTASK;
    else if (co__on_stack(loop, to))
        rc = CO_ESTACKARG; /* the timer points at it until the block ends */
    else if (to->state == ENTERED)
        rc = CO_EINVALSTATE; /* the same field in two blocks at once */
    else {
        d->timer.slot = 0;
        d->timer.kind = CO__TIMER_DEADLINE;
        d->owner = d->target = loop->current;
        d->outer = NULL;
        d->expired = false;
        d->cancelling = d->owner->cancels;
        to->when = CO_NO_TIMEOUT;
        to->state = ENTERED;
        rc = co_timeout_reschedule(to, absolute ? t : co__deadline_after(loop, t));
        if (rc < 0)
            to->state = EXITED;
    }
    return rc;
}

int co_timeout_reschedule(co_timeout *to, int64_t when)
{
    co_loop *loop;
    if (to == NULL)
        return CO_EBADARG;
    if (to->state != ENTERED || to->d.expired)
        return CO_EINVALSTATE; /* Python's RuntimeError */
    loop = co__task_loop(to->d.owner);
    co__heap_remove(loop, &to->d.timer);
    to->when = when;
    if (when == CO_NO_TIMEOUT)
        return 0;
    return co__heap_push(loop, &to->d.timer, when);
}

int64_t co_timeout_when(const co_timeout *to) { return to ? to->when : CO_NO_TIMEOUT; }

bool co_timeout_expired(const co_timeout *to) { return to && to->d.expired; }

int co__timeout_exit(co_timeout *to, int err)
{
    if (to->state != ENTERED) /* left already (the catching end's finally) */
        return 0;
    to->state = EXITED;
    return co__deadline_end(&to->d, err) == CO_ETIMEOUT && err != CO_ETIMEOUT ? CO_ETIMEOUT : 0;
}

void co__timeout_caught(co_gen *g, co_timeout *to, int err)
{
    int x = co__timeout_exit(to, err);
    co__set_thrown(g, x ? x : err);
}
