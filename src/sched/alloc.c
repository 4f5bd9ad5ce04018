/*
 * alloc.c -- the loop's memory: every block the scheduler and the reactor
 * allocate goes through the loop's allocator hook, or malloc without one.
 *
 * This is the bottom of the scheduler: the timer heap, the task pool and
 * the registry all allocate here, and it calls nothing of theirs.
 */
#include "loop.h"

#include <stdlib.h>

void *co__alloc(co_loop *loop, size_t size)
{
    if (loop->hooks.alloc)
        return loop->hooks.alloc(loop->hooks.ctx, size);
    return malloc(size);
}

void co__free(co_loop *loop, void *p, size_t size)
{
    if (p == NULL)
        return;
    if (loop->hooks.free)
        loop->hooks.free(loop->hooks.ctx, p, size);
    else
        free(p);
}
