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

CO_ASYNC(foo, )
    tour_say("foo");
    CO_SLEEP(self, 1000);
    tour_say("foo done");
CO_ASYNC_END

CO_ASYNC(bar, )
    tour_say("bar");
    CO_SLEEP(self, 2000);
    tour_say("bar done");
CO_ASYNC_END

/* gather(foo(), bar()) wraps each in a task, started in this order; the
   gather and its tasks live in main's frame */
CO_ASYNC(main_task, co_gather gather;)
    CO_GATHER_OF(self, &self->gather, CO_GATHER_FIRST_ERROR, CO_CALL(foo, ), CO_CALL(bar, ));
CO_ASYNC_END

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
    m = CO_TASK(loop, main_task, );
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    ms = tour_elapsed_ms();
    fprintf(timing ? stdout : stderr,
            "elapsed: %lld.%03lld s (not 3: foo's 1 s and bar's 2 s overlapped)\n",
            (long long)(ms / 1000), (long long)(ms % 1000));
    tour_loop_free(loop);
    return tour_exit_status(argv[0], rc);
}
