/*
 * report.c -- asyncio's "Task exception was never retrieved": a task that
 * failed while nothing read its error is handed, as it is freed, to the
 * loop's exception handler (loop.set_exception_handler).
 *
 * "Read" is tracked without a flag bit: once a task is done, its wait_on
 * (what it waited on, now meaningless) points at the task itself when its
 * error was read -- by an await, a gather, a task group or co_task_result --
 * and is NULL when it was not.  The scheduler has no stdio: the reactor
 * installs the printing default, a bare loop has none unless one is set.
 */
#include "loop.h"

void co_loop_set_exception_handler(co_loop *loop, co_exception_handler fn, void *arg)
{
    if (loop == NULL)
        return;
    loop->on_error = fn;
    loop->on_error_arg = fn ? arg : NULL;
}

void co__report_unread(co_loop *loop, co_task *t)
{
    co_exception_handler fn = loop->on_error ? loop->on_error : loop->on_error_default;
    co_exception e;
    if (!(t->flags & CO__T_DONE) || t->wait_on == t || fn == NULL)
        return;
    e.task = co__frame(t);
    e.code = co_result(e.task);
    if (e.code == 0 || e.code == CO_ECANCELLED) /* asyncio is silent on both */
        return;
    co__mark_read(t);
    e.text = co_strerror(e.code);
    e.record = co__record(e.task);
    if (e.record && e.record->code != e.code)
        e.record = NULL; /* it describes another error than the one it ended with */
    fn(loop, &e, loop->on_error_arg);
}
