/*
 * foo_bar_gather.c -- asyncio.gather: two coroutines that sleep 1 s and 2 s
 * run at the same time, so the whole takes about 2 s, not 3.
 *
 * The Python it mirrors (samples/foo_bar_gather.py, the lecture's example):
 *
 *     async def foo():
 *         print('foo')
 *         await asyncio.sleep(1)
 *         print('foo done')
 *
 *     async def bar():
 *         print('bar')
 *         await asyncio.sleep(2)
 *         print('bar done')
 *
 *     async def main():
 *         await asyncio.gather(foo(), bar())
 *
 *     asyncio.run(main())
 *
 * It prints the same four lines, then how long the run took, on stderr (on
 * stdout with --timing).  --fake-clock runs it on virtual time, instantly;
 * --trace puts the loop's time in front of every line.
 */
#include "tour.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    co_gen gen;
} foo;

static int foo_fn(co_gen *g)
{
    foo *self = (foo *)g;
    CO_BEGIN(self);
    tour_say("foo");
    CO_SLEEP(self, 1000);
    tour_say("foo done");
    CO_END(self);
}

typedef struct {
    co_gen gen;
} bar;

static int bar_fn(co_gen *g)
{
    bar *self = (bar *)g;
    CO_BEGIN(self);
    tour_say("bar");
    CO_SLEEP(self, 2000);
    tour_say("bar done");
    CO_END(self);
}

/* main(): gather's tasks and its bookkeeping live in the frame. */
typedef struct {
    co_gen gen;
    co_gen *tasks[2];
    co_gather gather;
} main_task;

static int main_fn(co_gen *g)
{
    main_task *self = (main_task *)g;
    co_loop *loop = co_running_loop();
    foo *f;
    bar *b;
    CO_BEGIN(self);
    /* gather(foo(), bar()) wraps each coroutine in a task; CO_GATHER starts
       the ones not started yet, in this order */
    f = CO_NEW(loop, foo, foo_fn);
    b = CO_NEW(loop, bar, bar_fn);
    if (f == NULL || b == NULL)
        CO_RAISE(self, CO_ENOMEM);
    self->tasks[0] = &f->gen;
    self->tasks[1] = &b->gen;
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

int main(int argc, char **argv)
{
    static const char usage[] = "[--fake-clock] [--trace] [--timing]";
    bool timing = false;
    co_loop *loop;
    main_task *m;
    int64_t ms;
    int rc, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--timing") == 0)
            timing = true;
        else if (!tour_option(argv[i]))
            tour_usage_error(argv[0], usage, argv[i]);
    }
    loop = tour_loop();
    m = CO_NEW(loop, main_task, main_fn);
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    ms = tour_elapsed_ms();
    fprintf(timing ? stdout : stderr,
            "elapsed: %lld.%03lld s (not 3: foo's 1 s and bar's 2 s overlapped)\n",
            (long long)(ms / 1000), (long long)(ms % 1000));
    tour_loop_free(loop);
    return tour_exit_status(argv[0], rc);
}
