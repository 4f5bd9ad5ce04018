/*
 * ev_phases.c -- libev's side of bench/breakdown.sh: ev_bench spawn N (N
 * malloc'd ev_timers firing once after 10 ms, each freed by its callback)
 * cut into phases for valgrind --tool=callgrind.  Each dump is named after
 * the phase it closes:
 *
 *   spawn      malloc + ev_timer_init + ev_timer_start, N times
 *   fire       ev_run up to the timers' callbacks: the poll, and libev
 *              moving every expired timer from its heap to the pending queue
 *   callbacks  the N callbacks (taking the job's number, free), ev_run's
 *              return, and the printf of the result line, as ev_bench
 *
 * The fire/callbacks boundary is an ev_check watcher: libev queues check
 * watchers after the expired timers and runs the pending queue from its end,
 * so the check's callback runs after the timers are queued and before any
 * of their callbacks.  ev_unref keeps it from holding the loop open.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/callgrind.h>

static const char usage[] = "ev_phases N";

typedef struct {
    ev_timer timer; /* first: the watcher's address is the job's */
    long value;
} ev_job;

static size_t jobs_left;
static long long job_sum;
static int fired_dumped;

/* As ev_bench.c's job_fired. */
static void job_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_job *j = (ev_job *)w;
    (void)loop;
    (void)revents;
    job_sum += j->value;
    jobs_left--;
    free(j);
}

/* After a poll: if the timers are queued now, the fire phase ends here. */
static void checked(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)w;
    (void)revents;
    if (!fired_dumped && ev_pending_count(loop) > 0) {
        fired_dumped = 1;
        CALLGRIND_DUMP_STATS_AT("fire");
    }
}

int main(int argc, char **argv)
{
    char *end;
    unsigned long long n = argc == 2 ? strtoull(argv[1], &end, 10) : 0;
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    ev_check check;
    if (argc != 2 || *end != '\0' || n == 0 || n > 100000000ull) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    ev_check_init(&check, checked);
    ev_check_start(loop, &check);
    ev_unref(loop);
    CALLGRIND_DUMP_STATS_AT("setup");
    for (size_t i = 0; i < n; i++) {
        ev_job *j = malloc(sizeof *j);
        if (j == NULL) {
            fputs("out of memory\n", stderr);
            return 1;
        }
        j->value = (long)i;
        ev_timer_init(&j->timer, job_fired, 0.010, 0.);
        ev_timer_start(loop, &j->timer);
    }
    jobs_left = n;
    CALLGRIND_DUMP_STATS_AT("spawn");
    ev_run(loop, 0);
    if (jobs_left != 0 || job_sum != (long long)(n * (n - 1) / 2)) {
        fprintf(stderr, "ev_phases: checksum %lld, %zu jobs left\n", job_sum, jobs_left);
        return 1;
    }
    /* ev_bench prints its result here: stdout's buffer is the first large
       malloc after the frees, at which glibc consolidates the N chunks its
       fast bins kept -- a cost of free, deferred, so it is counted with it */
    printf("ev_phases: %llu timers fired\n", n);
    CALLGRIND_DUMP_STATS_AT("callbacks");
    return 0;
}
