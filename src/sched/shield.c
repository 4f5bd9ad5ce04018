/*
 * shield.c -- asyncio.shield: awaiting a task without lending it one's own
 * cancellation.  The awaiter stacks itself among the task's awaiters, as an
 * await does, but waits as CO__W_SHIELD: cancelling it only takes it off that
 * stack and resumes it with CO_ECANCELLED, while the task runs on.
 *
 * Reading: a task's error counts as read when an awaiter takes it.  A
 * shielding awaiter reads it only when it resumes normally (finish_task in
 * task.c does not count it), so a task whose shield was cancelled, and that
 * nobody else reads, is reported to the exception handler when it is freed.
 */
#include "loop.h"

#include <corio/wait.h>

static bool shield_cancel(co_loop *loop, co_task *self);
static const co__wait_ops shield_ops = {shield_cancel, NULL};

/* The task's outcome, read: 1 for a success, else its error. */
static int outcome(co_task *t)
{
    int err = co_task_result(co__frame(t));
    return err < 0 ? err : 1;
}

/* An await of the task (task.c's checks and stacking), turned into a
 * shield's wait once stacked. */
int co__shield(co_gen *task)
{
    co_loop *loop = co__loop();
    co_task *self;
    int rc;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (task && task->fn && co_done(task)) /* before the await, which would
                                              set its outcome on the root frame */
        return outcome(co__task(task));
    self = loop->current;
    rc = co__await_task(co__frame(self), task);
    if (rc == 0) {
        loop->waits[CO__W_SHIELD] = &shield_ops;
        self->wait = CO__W_SHIELD;
    }
    return rc;
}

/*
 * asyncio's shield wakes its awaiter through an outer future that a done
 * callback of the task sets: a turn of the ready queue after the task's
 * end, and the awaiter one turn after that.  So the awaiter, woken by the
 * end, goes behind the ready queue once more (woken from CO__W_SHIELD, its
 * mark for the second turn) before it reads the outcome.
 */
int co__shield_again(int thrown)
{
    co_loop *loop = co__loop();
    co_task *self;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (thrown) /* the awaiter was cancelled: the task goes on alone */
        return thrown;
    self = loop->current;
    if (self->woke_from != CO__W_SHIELD) {
        co__wait_for(self, CO__W_SHIELD, self->wait_on);
        co__wake(loop, self);
        return 0;
    }
    self->woke_from = CO__W_NONE;
    return outcome(self->wait_on);
}

/* The awaiter leaves the task's stack of awaiters and resumes at once. */
static bool shield_cancel(co_loop *loop, co_task *self)
{
    co_task *t = self->wait_on, **p = &t->awaiters;
    (void)loop;
    while (*p && *p != self)
        p = &(*p)->next;
    if (*p)
        *p = self->next;
    self->next = NULL;
    return true;
}
