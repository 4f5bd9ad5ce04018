/*
 * stack.c -- what an await may keep across a suspension: the check that
 * refuses pointers into the C stack, and the task's stack of scopes.
 *
 * A task body returns to the loop at every await, so the part of the C stack
 * below co_run's frame is reused by whatever runs next: a C local's address
 * is garbage once the body is resumed.  co_run notes its frame address; a
 * pointer between the checking function's own frame and that address is a
 * local of some body (or of the loop's own calls), never storage that lasts.
 * Stacks grow down on every target gcc and clang build corio for; elsewhere
 * the check says no and the rule is the documentation's alone.
 *
 * Wait-fors, task groups and socket operations span a resume but need their
 * state after it: they push it on the task's scope (co_task.scope, each
 * object linking to the one outside it), so the macro that ends them takes
 * it from there instead of evaluating its argument again.
 */
#include "loop.h"

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline)) bool co__on_stack(const co_loop *loop, const void *p)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t at = (uintptr_t)p;
    return loop && loop->stack_top && p && at >= here && at < loop->stack_top;
}
#else
bool co__on_stack(const co_loop *loop, const void *p)
{
    (void)loop;
    (void)p;
    return false;
}
#endif

void co__scope_push(co_task *t, void *obj, void **outer)
{
    *outer = t->scope.top;
    t->scope.top = obj;
}
