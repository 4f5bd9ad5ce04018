/*
 * two_printers.c -- two endless tasks side by side: one prints 1, 2, 3, ...
 * every 0.5 s, the other a random number from 1 to 100 every 2 s.
 *
 * The Python it mirrors (samples/two_printers.py, the lecture's example):
 *
 *     async def print_numbers():
 *         count = 1
 *         while True:
 *             print(count)
 *             count += 1
 *             await asyncio.sleep(0.5)
 *
 *     async def print_random_numbers():
 *         while True:
 *             print(rnd(1, 100))
 *             await asyncio.sleep(2)
 *
 *     async def main():
 *         task1 = asyncio.create_task(print_numbers())
 *         task2 = asyncio.create_task(print_random_numbers())
 *         await asyncio.gather(task1, task2)
 *
 *     secs = float(sys.argv[1]) if len(sys.argv) > 1 else None
 *     try:
 *         asyncio.run(asyncio.wait_for(main(), secs) if secs else main())
 *     except (TimeoutError, asyncio.TimeoutError):
 *         pass
 *
 * Like the lecture's, it runs until Ctrl-C, or for --seconds N.  The first
 * Ctrl-C cancels main, and co_run returns CO_EINTERRUPTED (Python's
 * KeyboardInterrupt): the program then exits quietly with status 130, what a
 * shell reports for a program stopped by Ctrl-C.  --seed N makes the random
 * numbers repeatable; --fake-clock runs on virtual time (instantly, so give
 * it --seconds); --trace puts the loop's time in front of every line.
 */
#include "tour.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------- randint */

/* A small generator of our own (xorshift64*), so that one seed gives the
   same numbers with every C library. */
static uint64_t rng_state = 1;

static void rng_seed(uint64_t seed)
{
    rng_state = seed * UINT64_C(0x9E3779B97F4A7C15) + 1; /* never 0 */
    if (rng_state == 0)
        rng_state = 1;
}

/* random.randint(lo, hi): both ends included. */
static int randint(int lo, int hi)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return lo + (int)((rng_state * UINT64_C(0x2545F4914F6CDD1D)) >> 33) % (hi - lo + 1);
}

/* ------------------------------------------------------------- tasks */

CO_ASYNC(print_numbers, int count;)
    self->count = 1;
    for (;;) {
        tour_say("%d", self->count);
        self->count++;
        CO_SLEEP(self, 500);
    }
CO_ASYNC_END

CO_ASYNC(print_random_numbers, )
    for (;;) {
        tour_say("%d", randint(1, 100));
        CO_SLEEP(self, 2000);
    }
CO_ASYNC_END

/* main(): a coroutine, run as the main task or awaited by wait_for;
   cancelling it cancels the gather, which cancels both tasks */
CO_ASYNC(main_coro, co_gather gather;)
    CO_GATHER_OF(self, &self->gather, CO_GATHER_FIRST_ERROR, CO_CALL(print_numbers, ),
                 CO_CALL(print_random_numbers, ));
CO_ASYNC_END

/* asyncio.wait_for(main(), secs): cancels main when the time is up, then
   raises CO_ETIMEOUT (TimeoutError). */
CO_ASYNC(wait_for_main, int64_t ms; co_deadline deadline; main_coro main;)
    CO_INIT(&self->main, main_coro_fn);
    CO_WAIT_FOR(self, &self->deadline, main, self->ms);
CO_ASYNC_END

/* --------------------------------------------------------------- main */

/* Reads a number of seconds >= 0 (0: no limit), as float() would; -1 if bad. */
static double parse_seconds(const char *text)
{
    char *end;
    double secs;
    errno = 0;
    secs = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !(secs >= 0) || secs > 1e9)
        return -1;
    return secs;
}

int main(int argc, char **argv)
{
    static const char usage[] = "[--seconds N] [--seed N] [--fake-clock] [--trace]";
    double secs = 0;
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    co_loop *loop;
    co_gen *root;
    int rc, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            secs = parse_seconds(argv[++i]);
            if (secs < 0)
                tour_usage_error(argv[0], usage, argv[i]);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            seed = strtoull(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0')
                tour_usage_error(argv[0], usage, argv[i]);
        } else if (!tour_option(argv[i])) {
            tour_usage_error(argv[0], usage, argv[i]);
        }
    }
    if (tour.fake_clock && secs == 0) { /* virtual time would race on forever */
        fprintf(stderr, "%s: --fake-clock needs --seconds\n", argv[0]);
        return 2;
    }
    rng_seed(seed);

    loop = tour_loop();
    if (secs > 0) {
        wait_for_main *w = CO_TASK(loop, wait_for_main, );
        if (w)
            w->ms = (int64_t)(secs * 1000 + 0.5);
        root = w ? &w->gen : NULL;
    } else {
        main_coro *m = CO_TASK(loop, main_coro, );
        root = m ? &m->gen : NULL;
    }
    rc = root ? co_run(loop, root) : CO_ENOMEM;
    tour_loop_free(loop);
    if (rc == CO_ETIMEOUT) /* except TimeoutError: pass */
        rc = 0;
    return tour_exit_status(argv[0], rc);
}
