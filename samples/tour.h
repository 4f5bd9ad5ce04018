/*
 * tour.h -- what the asyncio samples of the tour share: their common
 * command-line options, the loop they run on, printing a line (with the
 * loop's time in front of it under --trace), and turning co_run's result
 * into an exit status.
 *
 * Every asyncio sample runs in real time by default, as its Python twin does.
 * Tests run them with --fake-clock: the loop's clock then only moves when the
 * loop is idle, jumping straight to the next deadline, so a run is instant and
 * its times are exact (a 3 s sleep ends at t=3.000, never 3.001).
 */
#ifndef TOUR_H
#define TOUR_H

#include <corio/corio.h>

#include <stdbool.h>

/* The options every asyncio sample understands. */
typedef struct tour_options {
    bool fake_clock; /* --fake-clock: virtual time, instant and exact    */
    bool trace;      /* --trace: lines start with the loop's time, t=S.mmm */
} tour_options;

extern tour_options tour;

/* Takes `arg` if it is one of the common options: true when it was. */
bool tour_option(const char *arg);

/* Reports a bad command line and exits with status 2, like Python's argparse. */
void tour_usage_error(const char *prog, const char *usage, const char *arg);

/* A new loop, on the fake clock under --fake-clock; exits if none can be made.
 * Its time starts at t=0 for tour_say. */
co_loop *tour_loop(void);
/* Frees a loop from tour_loop. */
void tour_loop_free(co_loop *loop);

/* Milliseconds since the current tour loop started. */
int64_t tour_elapsed_ms(void);

/* print(): one line on stdout, flushed at once; under --trace, "t=S.mmm " goes
   first. */
void tour_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line that only --trace shows (what Python would not print), in brackets. */
void tour_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * co_run's result as the process's exit status: 0 when main returned; 130
 * (128 + SIGINT, what a shell reports for a Ctrl-C) when the first Ctrl-C
 * ended the run, with no message, as the interruption was asked for; 1 with
 * a message on stderr for any other error.
 */
int tour_exit_status(const char *prog, int rc);

#endif /* TOUR_H */
