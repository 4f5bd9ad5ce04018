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

int co__shield(co_gen *task)
{
    co_loop *loop = co__loop();
    co_task *self, *t;
    int rc;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (task == NULL || task->fn == NULL)
        return CO_EBADARG;
    if (co__on_stack(loop, task))
        return CO_ESTACKARG;
    self = loop->current;
    t = co__task(task);
    if (t == self)
        return CO_ESELF;
    if (t->flags & CO__T_DONE)
        return outcome(t);
    if (!(t->flags & CO__T_SPAWNED) && (rc = co_spawn(task)) < 0)
        return rc;
    self->next = t->awaiters;
    t->awaiters = self;
    loop->waits[CO__W_SHIELD] = &shield_ops;
    co__wait_for(self, CO__W_SHIELD, t);
    return 0;
}

int co__shield_again(int thrown)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (thrown) /* the awaiter was cancelled: the task goes on alone */
        return thrown;
    return outcome(loop->current->wait_on);
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
