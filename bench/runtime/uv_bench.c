/*
 * uv_bench.c -- the runtime benchmarks written against libuv, the baseline
 * for corio_bench.c's spawn, timers and sleep0.
 *
 *   spawn N [--add]   N jobs, each a uv_timer_t in a malloc'd struct firing
 *                     once after 10 ms; its callback takes the job's number
 *                     and closes (then frees) the handle; a counter stands
 *                     for the gather.  --add prints bench=jobs (the same
 *                     work: libuv has no return values).
 *   timers N [--unit ms]
 *                     uv_timer_start for N timers (handles initialised
 *                     beforehand), uv_timer_stop of all of them, then the
 *                     same handles started again (restart) and uv_run until
 *                     all fired: CPU per fire.  libuv's timers take whole milliseconds.
 *   idle N [--async]  a uv_idle_t whose callback counts N loop iterations;
 *                     --async also keeps a uv_async_t open, which puts an fd
 *                     in the loop's epoll set (corio's loop always has one).
 */
#include <uv.h>

#include "measure.h"

static const char usage[] = "uv_bench spawn N [--add] | timers N [--unit ms] | idle N [--async]";

static uv_loop_t *new_loop(void)
{
    static uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc < 0) {
        fprintf(stderr, "uv_loop_init: %s\n", uv_strerror(rc));
        exit(1);
    }
    return &loop;
}

static void close_loop(uv_loop_t *loop)
{
    int rc = uv_loop_close(loop);
    if (rc < 0) {
        fprintf(stderr, "uv_loop_close: %s\n", uv_strerror(rc));
        exit(1);
    }
}

/* ----------------------------------------------------------------- spawn */

typedef struct {
    uv_timer_t timer; /* first: the handle's address is the job's */
    long value;
} uv_job;

static size_t jobs_left;
static long long job_sum;

static void job_closed(uv_handle_t *h) { free(h); }

static void job_fired(uv_timer_t *t)
{
    uv_job *j = (uv_job *)t;
    job_sum += j->value;
    jobs_left--;
    uv_close((uv_handle_t *)t, job_closed);
}

static int bench_spawn(size_t n, bool add)
{
    uv_loop_t *loop = new_loop();
    long rss0 = peak_rss_kb();
    int64_t t0 = wall_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
        uv_job *j = malloc(sizeof *j);
        if (j == NULL) {
            fputs("out of memory\n", stderr);
            return 1;
        }
        j->value = (long)i;
        uv_timer_init(loop, &j->timer);
        uv_timer_start(&j->timer, job_fired, 10, 0);
    }
    jobs_left = n;
    uv_run(loop, UV_RUN_DEFAULT);
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    long rss1 = peak_rss_kb();
    check_sum("spawn", job_sum, triangle(n));
    check_sum("spawn left", (long long)jobs_left, 0);
    printf("result bench=%s lib=libuv n=%zu wall_ns=%lld cpu_ns=%lld rss_kb=%ld\n",
           add ? "jobs" : "spawn", n, (long long)(t1 - t0), (long long)(c1 - c0), rss1 - rss0);
    close_loop(loop);
    return 0;
}

/* ---------------------------------------------------------------- timers */

static size_t timers_left;

static void timer_fired(uv_timer_t *t)
{
    (void)t;
    timers_left--;
}

static void close_all(uv_timer_t *set, size_t n, uv_loop_t *loop)
{
    for (size_t i = 0; i < n; i++)
        uv_close((uv_handle_t *)&set[i], NULL);
    uv_run(loop, UV_RUN_DEFAULT);
}

static int bench_timers(size_t n)
{
    uv_loop_t *loop = new_loop();
    int64_t *delays = make_delays(n, 0);
    uv_timer_t *set = malloc(n * sizeof *set);
    if (set == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        uv_timer_init(loop, &set[i]);

    int64_t t0 = wall_ns();
    for (size_t i = 0; i < n; i++)
        uv_timer_start(&set[i], timer_fired, (uint64_t)delays[i], 0);
    int64_t start = wall_ns() - t0;

    t0 = wall_ns();
    for (size_t i = 0; i < n; i++)
        uv_timer_stop(&set[i]);
    int64_t cancel = wall_ns() - t0;

    uv_update_time(loop);
    t0 = wall_ns();
    for (size_t i = 0; i < n; i++)
        uv_timer_start(&set[i], timer_fired, (uint64_t)delays[i], 0);
    int64_t restart = wall_ns() - t0;
    timers_left = n;
    t0 = wall_ns();
    int64_t c0 = cpu_ns();
    uv_run(loop, UV_RUN_DEFAULT);
    int64_t fire_cpu = cpu_ns() - c0, fire_wall = wall_ns() - t0;
    check_sum("timers", (long long)timers_left, 0);
    printf("result bench=timers lib=libuv unit=ms n=%zu start_ns=%lld cancel_ns=%lld "
           "restart_ns=%lld fire_cpu_ns=%lld fire_wall_ns=%lld\n",
           n, (long long)start, (long long)cancel, (long long)restart, (long long)fire_cpu,
           (long long)fire_wall);
    close_all(set, n, loop);
    close_loop(loop);
    free(set);
    free(delays);
    return 0;
}

/* ------------------------------------------------------------------ idle */

static size_t iterations, iterations_wanted;
static uv_async_t wakeup;
static bool with_async;

static void idle_counted(uv_idle_t *idle)
{
    if (++iterations < iterations_wanted)
        return;
    uv_idle_stop(idle);
    if (with_async)
        uv_close((uv_handle_t *)&wakeup, NULL);
}

static void never_woken(uv_async_t *a) { (void)a; }

static int bench_idle(size_t n, bool async)
{
    uv_loop_t *loop = new_loop();
    uv_idle_t idle;
    uv_idle_init(loop, &idle);
    uv_idle_start(&idle, idle_counted);
    with_async = async;
    if (async)
        uv_async_init(loop, &wakeup, never_woken);
    iterations_wanted = n;
    int64_t t0 = wall_ns(), c0 = cpu_ns();
    uv_run(loop, UV_RUN_DEFAULT);
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    check_sum("idle", (long long)iterations, (long long)n);
    printf("result bench=sleep0 lib=%s n=%zu wall_ns=%lld cpu_ns=%lld\n",
           async ? "libuv+async" : "libuv", n, (long long)(t1 - t0), (long long)(c1 - c0));
    uv_close((uv_handle_t *)&idle, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    close_loop(loop);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    size_t n = parse_count(argc > 2 ? argv[2] : NULL, usage);
    if (strcmp(cmd, "spawn") == 0 && (argc == 3 || given_option(argc, argv, "--add")))
        return bench_spawn(n, argc == 4);
    if (strcmp(cmd, "timers") == 0) {
        if (parse_unit(argc, argv, 3, usage))
            usage_exit(usage); /* no microsecond timers in libuv */
        return bench_timers(n);
    }
    if (strcmp(cmd, "idle") == 0 && (argc == 3 || given_option(argc, argv, "--async")))
        return bench_idle(n, argc == 4);
    usage_exit(usage);
}
