/*
 * use_after_release.c -- reads a task through a pointer kept after
 * co_release freed it.  Run under ASan or valgrind, the tool must report
 * the read (the pool poisons released blocks); meson runs it through
 * expect_report.py, which passes only when the tool's report is there.
 */
#include <corio/sched.h>

#include <stdio.h>

typedef struct {
    co_gen gen;
    int secret;
} task;

static int task_fn(co_gen *g)
{
    task *self = (task *)g;
    CO_BEGIN(self);
    CO_END(self);
}

int main(void)
{
    co_loop *loop;
    task *t;
    volatile int seen;
    if (co_loop_new(&loop, NULL) < 0)
        return 2;
    t = CO_NEW(loop, task, task_fn);
    if (t == NULL)
        return 2;
    t->secret = 42;
    co_release(&t->gen); /* never spawned: freed at once, back to the pool */
    seen = ((volatile task *)t)->secret; /* the bug the tools must catch */
    printf("read %d from a released task unnoticed\n", seen);
    co_loop_free(loop);
    return 0;
}
