/*
 * ticker.c -- an async generator that sleeps between its values, consumed
 * by an async for that breaks out of it; the loop then closes the generator
 * left suspended, so its finally runs at the end (shutdown_asyncgens).
 *
 * The Python it mirrors (samples/ticker.py):
 *
 *     async def ticks(ms):
 *         i = 0
 *         try:
 *             while True:
 *                 await asyncio.sleep(ms / 1000)
 *                 yield i
 *                 i += 1
 *         finally:
 *             print('ticker stopped')
 *
 *     async def main():
 *         async for t in ticks(100):
 *             print('tick', t)
 *             if t == 4:
 *                 break
 *         print('main done')
 *
 * --fake-clock runs it on virtual time, instantly; --trace puts the loop's
 * time in front of every line.
 */
#include "tour.h"

CO_ASYNC_GEN(ticks, int, int ms; int i;)
    for (self->i = 0;; self->i++) {
        CO_SLEEP(self, self->ms);
        CO_YIELD(self, self->i);
    }
    CO_FINALLY(self) {
        tour_say("ticker stopped");
    }
CO_ASYNC_END

CO_ASYNC(main_task, ticks ticker; int t;)
    CO_AGEN(self, ticker, ticks, .ms = 100);
    CO_ASYNC_FOR(self, &self->ticker, &self->t) {
        tour_say("tick %d", self->t);
        if (self->t == 4)
            break;
    } CO_ASYNC_FOR_END;
    tour_say("main done");
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
