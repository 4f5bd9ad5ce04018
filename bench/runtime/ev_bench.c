/*
 * ev_bench.c -- the runtime benchmarks written against libev, the baseline
 * whose timer heap (4-ary, deadlines cached beside the watcher pointers) is
 * built like corio's.
 *
 *   spawn N [--add]   N jobs, each an ev_timer in a malloc'd struct firing
 *                     once after 10 ms; its callback takes the job's number
 *                     and frees it (a fired one-shot timer is already
 *                     stopped); a counter stands for the gather.
 *   timers N [--unit ms|us]
 *                     ev_timer_start for N timers, ev_timer_stop of all of
 *                     them, then the same watchers started again (restart:
 *                     the heap's array is grown already) and ev_run until
 *                     all fired: CPU per fire.
 *   idle N            an ev_idle watcher counting N loop iterations (libev
 *                     polls its backend each iteration, with timeout 0).
 */
#include <ev.h>

#include "measure.h"

static const char usage[] = "ev_bench spawn N [--add] | timers N [--unit ms|us] | idle N";

/* ----------------------------------------------------------------- spawn */

typedef struct {
    ev_timer timer; /* first: the watcher's address is the job's */
    long value;
} ev_job;

static size_t jobs_left;
static long long job_sum;

static void job_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_job *j = (ev_job *)w;
    (void)loop;
    (void)revents;
    job_sum += j->value;
    jobs_left--;
    free(j);
}

static int bench_spawn(size_t n, bool add)
{
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    long rss0 = peak_rss_kb();
    int64_t t0 = wall_ns(), c0 = cpu_ns();
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
    ev_run(loop, 0);
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    long rss1 = peak_rss_kb();
    check_sum("spawn", job_sum, triangle(n));
    check_sum("spawn left", (long long)jobs_left, 0);
    printf("result bench=%s lib=libev n=%zu wall_ns=%lld cpu_ns=%lld rss_kb=%ld\n",
           add ? "jobs" : "spawn", n, (long long)(t1 - t0), (long long)(c1 - c0), rss1 - rss0);
    return 0;
}

/* ---------------------------------------------------------------- timers */

static size_t timers_left;

static void timer_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    timers_left--;
}

static int bench_timers(size_t n, int micro)
{
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    int64_t *delays = make_delays(n, micro);
    ev_timer *set = malloc(n * sizeof *set);
    double unit = micro ? 1e-6 : 1e-3;
    if (set == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        ev_timer_init(&set[i], timer_fired, (double)delays[i] * unit, 0.);

    int64_t t0 = wall_ns();
    for (size_t i = 0; i < n; i++)
        ev_timer_start(loop, &set[i]);
    int64_t start = wall_ns() - t0;

    t0 = wall_ns();
    for (size_t i = 0; i < n; i++)
        ev_timer_stop(loop, &set[i]);
    int64_t cancel = wall_ns() - t0;

    ev_now_update(loop);
    for (size_t i = 0; i < n; i++) /* a stopped timer starts over from its delay */
        ev_timer_set(&set[i], (double)delays[i] * unit, 0.);
    t0 = wall_ns();
    for (size_t i = 0; i < n; i++)
        ev_timer_start(loop, &set[i]);
    int64_t restart = wall_ns() - t0;
    timers_left = n;
    t0 = wall_ns();
    int64_t c0 = cpu_ns();
    ev_run(loop, 0);
    int64_t fire_cpu = cpu_ns() - c0, fire_wall = wall_ns() - t0;
    check_sum("timers", (long long)timers_left, 0);
    printf("result bench=timers lib=libev unit=%s n=%zu start_ns=%lld cancel_ns=%lld "
           "restart_ns=%lld fire_cpu_ns=%lld fire_wall_ns=%lld\n",
           micro ? "us" : "ms", n, (long long)start, (long long)cancel, (long long)restart,
           (long long)fire_cpu, (long long)fire_wall);
    free(set);
    free(delays);
    return 0;
}

/* ------------------------------------------------------------------ idle */

static size_t iterations, iterations_wanted;

static void idle_counted(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)revents;
    if (++iterations == iterations_wanted)
        ev_idle_stop(loop, w);
}

static int bench_idle(size_t n)
{
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    ev_idle idle;
    ev_idle_init(&idle, idle_counted);
    ev_idle_start(loop, &idle);
    iterations_wanted = n;
    int64_t t0 = wall_ns(), c0 = cpu_ns();
    ev_run(loop, 0);
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    check_sum("idle", (long long)iterations, (long long)n);
    printf("result bench=sleep0 lib=libev n=%zu wall_ns=%lld cpu_ns=%lld\n", n,
           (long long)(t1 - t0), (long long)(c1 - c0));
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    size_t n = parse_count(argc > 2 ? argv[2] : NULL, usage);
    if (strcmp(cmd, "spawn") == 0 && (argc == 3 || given_option(argc, argv, "--add")))
        return bench_spawn(n, argc == 4);
    if (strcmp(cmd, "timers") == 0)
        return bench_timers(n, parse_unit(argc, argv, 3, usage));
    if (strcmp(cmd, "idle") == 0 && argc == 3)
        return bench_idle(n);
    usage_exit(usage);
}
