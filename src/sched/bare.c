/*
 * bare.c -- a loop without the POSIX reactor, for bare-metal super-loops.
 *
 * Build sched.c, heap.c, pool.c, sync.c and error.c with this file instead of the
 * reactor's: tasks, sleeps, gather, deadlines and the sync primitives all
 * work; time comes from hooks.clock (a tick counter scaled to ns) and, when
 * every task waits, hooks.idle is called with the time to the next deadline
 * (-1: nothing is scheduled), which is where firmware sleeps until its next
 * interrupt.  Nothing here allocates beyond the loop itself.
 */
#include "loop.h"

#include <stdlib.h>

int co_loop_new(co_loop **out, const co_loop_options *opt)
{
    co_loop *loop;
    if (out == NULL)
        return CO_EBADARG;
    *out = NULL;
    loop = opt && opt->hooks.alloc ? opt->hooks.alloc(opt->hooks.ctx, sizeof *loop)
                                   : malloc(sizeof *loop);
    if (loop == NULL)
        return CO_ENOMEM;
    if (co__loop_init(loop, opt) < 0) {
        co__free(loop, loop, sizeof *loop);
        return CO_ENOMEM;
    }
    loop->backend_name = "none";
    *out = loop;
    return 0;
}

void co_loop_free(co_loop *loop)
{
    if (loop == NULL || loop->state == CO__LOOP_RUNNING)
        return;
    co__loop_fini(loop);
    co__free(loop, loop, sizeof *loop);
}
