/*
 * tour.c -- the pieces the asyncio samples share (see tour.h): the common
 * options, the fake clock, printing with or without the loop's time, and
 * the exit status.
 */
#include "tour.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

tour_options tour;

/* The loop tour_say reads the time from, and where its time started. */
static co_loop *current;
static int64_t started_ns;

bool tour_option(const char *arg)
{
    if (strcmp(arg, "--fake-clock") == 0)
        tour.fake_clock = true;
    else if (strcmp(arg, "--trace") == 0)
        tour.trace = true;
    else
        return false;
    return true;
}

void tour_usage_error(const char *prog, const char *usage, const char *arg)
{
    fprintf(stderr, "%s: unexpected argument '%s'\nusage: %s %s\n", prog, arg, prog, usage);
    exit(2);
}

/* The fake clock stands still at 0.  The loop never lets its time go back,
 * so its autojump (to the next deadline, when nothing is ready) is what
 * moves time forward, and nothing else does. */
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return 0;
}

co_loop *tour_loop(void)
{
    co_loop_options opt;
    co_loop *loop = NULL;
    int rc;

    memset(&opt, 0, sizeof opt);
    if (tour.fake_clock) {
        opt.hooks.clock = fake_clock;
        opt.autojump = true;
    }
    rc = co_loop_new(&loop, &opt);
    if (rc < 0) {
        fprintf(stderr, "cannot make a loop: %s\n", co_strerror(rc));
        exit(EXIT_FAILURE);
    }
    current = loop;
    started_ns = co_now(loop);
    return loop;
}

void tour_loop_free(co_loop *loop)
{
    if (loop == current)
        current = NULL;
    co_loop_free(loop);
}

int64_t tour_elapsed_ms(void)
{
    return current ? (co_now(current) - started_ns) / 1000000 : 0;
}

static void print_time(void)
{
    int64_t ms = tour_elapsed_ms();
    printf("t=%lld.%03lld ", (long long)(ms / 1000), (long long)(ms % 1000));
}

void tour_say(const char *fmt, ...)
{
    va_list ap;
    if (tour.trace)
        print_time();
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    /* a line at a time even into a pipe, so a live run shows as it goes */
    fflush(stdout);
}

void tour_trace(const char *fmt, ...)
{
    va_list ap;
    if (!tour.trace)
        return;
    print_time();
    putchar('[');
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    puts("]");
    fflush(stdout);
}

int tour_exit_status(const char *prog, int rc)
{
    if (rc == 0)
        return 0;
    if (rc == CO_EINTERRUPTED) {
        /* the terminal echoed ^C: let the shell's prompt start a fresh line */
        if (isatty(STDERR_FILENO))
            fputc('\n', stderr);
        return 130;
    }
    fprintf(stderr, "%s: %s\n", prog, co_strerror(rc));
    return 1;
}
