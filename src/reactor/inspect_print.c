/*
 * inspect_print.c -- Task.print_stack and a loop's task dump on a FILE: the
 * scheduler's writers (src/sched/inspect_write.c) with stdio behind them.
 */
#include "reactor.h"

#include <stdio.h>

static void to_file(void *arg, const char *text, size_t n) { fwrite(text, 1, n, arg); }

void co_task_print_stack(const co_gen *task, FILE *f)
{
    co_task_write_stack(task, to_file, f ? f : stderr);
}

void co_loop_print_tasks(co_loop *loop, FILE *f)
{
    FILE *to = f ? f : stderr;
    co_loop_write_tasks(loop, to_file, to);
    fflush(to);
}
