/*
 * bare.c -- a loop without the POSIX reactor, for bare-metal super-loops.
 *
 * Build the files of src/sched/ with this one instead of the reactor's:
 * tasks, sleeps, gather, deadlines, groups and the sync primitives all
 * work; time comes from hooks.clock (a tick counter scaled to ns) and, when
 * every task waits, hooks.idle is called with the time to the next deadline
 * (-1: nothing is scheduled), which is where firmware sleeps until its next
 * interrupt.  Nothing here allocates beyond the loop itself.  A bare build
 * (CO_BARE, see loop.h) has no malloc: the alloc and free hooks are then
 * required, and the clock hook too, since there is no platform clock.
 */
#include "loop.h"

#if !CO_BARE
#include <stdlib.h>
#endif

int co_loop_new(co_loop **out, const co_loop_options *opt)
{
    co_loop *loop;
    if (out == NULL)
        return CO_EBADARG;
    *out = NULL;
#if CO_BARE
    if (opt == NULL || !opt->hooks.alloc || !opt->hooks.free || !opt->hooks.clock)
        return CO_EBADARG;
    loop = opt->hooks.alloc(opt->hooks.ctx, sizeof *loop);
#else
    loop = opt && opt->hooks.alloc ? opt->hooks.alloc(opt->hooks.ctx, sizeof *loop)
                                   : malloc(sizeof *loop);
#endif
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
