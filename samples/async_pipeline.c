/*
 * async_pipeline.c -- three async generators, each consuming the last with
 * async for: numbers (sleeping before each) -> squares -> running totals.
 * Each stage awaits the one before it from inside its own body, in the one
 * task of main.
 *
 * The Python it mirrors (samples/async_pipeline.py):
 *
 *     async def numbers(n):
 *         for i in range(1, n + 1):
 *             await asyncio.sleep(0.01)
 *             yield i
 *
 *     async def squares(source):
 *         async for x in source:
 *             yield x * x
 *
 *     async def totals(source):
 *         total = 0
 *         async for x in source:
 *             total += x
 *             yield total
 *
 *     async def main():
 *         async for t in totals(squares(numbers(5))):
 *             print('running total', t)
 *
 * --fake-clock runs it on virtual time, instantly; --trace puts the loop's
 * time in front of every line.
 */
#include "tour.h"

CO_ASYNC_GEN(numbers, int, int n; int i;)
    for (self->i = 1; self->i <= self->n; self->i++) {
        CO_SLEEP(self, 10);
        CO_YIELD(self, self->i);
    }
CO_ASYNC_END

CO_ASYNC_GEN(squares, int, numbers *source; int x;)
    CO_ASYNC_FOR(self, self->source, &self->x) {
        CO_YIELD(self, self->x * self->x);
    } CO_ASYNC_FOR_END;
CO_ASYNC_END

CO_ASYNC_GEN(totals, int, squares *source; int x; int total;)
    CO_ASYNC_FOR(self, self->source, &self->x) {
        self->total += self->x;
        CO_YIELD(self, self->total);
    } CO_ASYNC_FOR_END;
CO_ASYNC_END

/* totals(squares(numbers(5))): the stages live in main's frame */
CO_ASYNC(main_task, numbers n; squares s; totals t; int total;)
    CO_AGEN(self, n, numbers, .n = 5);
    CO_AGEN(self, s, squares, .source = &self->n);
    CO_AGEN(self, t, totals, .source = &self->s);
    CO_ASYNC_FOR(self, &self->t, &self->total) {
        tour_say("running total %d", self->total);
    } CO_ASYNC_FOR_END;
CO_ASYNC_END

int main(int argc, char **argv)
{
    co_loop *loop;
    main_task *m;
    int rc;
    for (int i = 1; i < argc; i++)
        if (!tour_option(argv[i]))
            tour_usage_error(argv[0], "[--fake-clock] [--trace]", argv[i]);
    loop = tour_loop();
    m = CO_TASK(loop, main_task, );
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    tour_loop_free(loop);
    return tour_exit_status(argv[0], rc);
}
