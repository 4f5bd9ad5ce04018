/*
 * corio_bench.c -- the runtime benchmarks written against corio's public API.
 *
 *   spawn N [--add | --turn-clock]
 *                     N tasks (CO_NEW + co_spawn) that each sleep 10 ms and
 *                     return their number (or, with --add, add it to a
 *                     total), gathered with CO_GATHER, then co_release-d:
 *                     wall and CPU time, peak RSS growth.  --turn-clock: on
 *                     a loop whose timers count from the turn's clock
 *                     (co_loop_options.turn_clock, libev's way; lib=corio-tc).
 *   timers N [--unit ms|us]
 *                     timers as task sleeps: arming N of them (each task's
 *                     first step, which is its CO_SLEEP), cancelling all of
 *                     a fresh set with co_cancel, and the CPU per fire when
 *                     a second set all fires.
 *   timers-tc N [--unit ms|us]
 *                     the same on a turn_clock loop (lib=corio-tc).
 *   sleep0 N          one task doing CO_SLEEP(self, 0) N times.
 *   epoll0 N          the floor under sleep0: epoll_wait(fd, ..., 0) on an
 *                     epoll set holding one eventfd, as corio's loop polls
 *                     once a turn.
 *
 * uv_bench.c, ev_bench.c, threads_bench.c and asyncio_bench.py are the same
 * programs against the baselines.  See measure.h for the output.
 */
#include <corio/corio.h>

#include "measure.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static const char usage[] = "corio_bench spawn N [--add | --turn-clock] | timers[-tc] N [--unit ms|us] | "
                            "sleep0 N | epoll0 N";

static co_loop *new_loop(bool turn_clock)
{
    co_loop *loop;
    co_loop_options opt = {.turn_clock = turn_clock};
    int rc = co_loop_new(&loop, &opt);
    if (rc < 0) {
        fprintf(stderr, "co_loop_new: %s\n", co_strerror(rc));
        exit(1);
    }
    return loop;
}

/* Runs main on loop to the end; exits on an error. */
static void run_main(co_loop *loop, co_gen *main)
{
    int rc = co_run(loop, main);
    if (rc < 0) {
        fprintf(stderr, "co_run: %s\n", co_strerror(rc));
        exit(1);
    }
}

/* ----------------------------------------------------------------- spawn */

typedef struct {
    co_gen gen;
    long value;
    long ret;
} job;

static long long added; /* what the --add jobs add up */

/* async def job(i): await asyncio.sleep(0.01); return i */
static int job_return_fn(co_gen *g)
{
    job *self = (job *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 10);
    CO_RETURN(self, self->value);
    CO_END(self);
}

/* async def job(i): await asyncio.sleep(0.01); total += i */
static int job_add_fn(co_gen *g)
{
    job *self = (job *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 10);
    added += self->value;
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_body body;
    size_t n;
    co_gen **tasks; /* what gather reads: n task pointers */
    co_gather gather;
    long long sum;
} spawner;

/* await asyncio.gather(*(job(i) for i in range(n))), then sum the results. */
static int spawner_fn(co_gen *g)
{
    spawner *self = (spawner *)g;
    CO_BEGIN(self);
    for (size_t i = 0; i < self->n; i++) {
        job *j = CO_NEW(co_running_loop(), job, self->body);
        if (j == NULL)
            CO_RAISE(self, CO_ENOMEM);
        j->value = (long)i;
        self->tasks[i] = &j->gen;
        if (co_spawn(&j->gen) < 0)
            CO_RAISE(self, CO_ENOMEM);
    }
    CO_GATHER(self, &self->gather, self->tasks, self->n, CO_GATHER_FIRST_ERROR);
    for (size_t i = 0; i < self->n; i++) {
        self->sum += ((job *)self->tasks[i])->ret;
        co_release(self->tasks[i]);
    }
    CO_END(self);
}

static int bench_spawn(size_t n, bool add, bool turn_clock)
{
    co_loop *loop = new_loop(turn_clock);
    long rss0 = peak_rss_kb();
    int64_t t0 = wall_ns(), c0 = cpu_ns();
    spawner *m = CO_NEW(loop, spawner, spawner_fn);
    if (m == NULL || (m->tasks = malloc(n * sizeof *m->tasks)) == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    m->body = add ? job_add_fn : job_return_fn;
    m->n = n;
    run_main(loop, &m->gen);
    free(m->tasks);
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    long rss1 = peak_rss_kb();
    check_sum("spawn", add ? added : m->sum, triangle(n));
    printf("result bench=%s lib=%s n=%zu wall_ns=%lld cpu_ns=%lld rss_kb=%ld\n",
           add ? "jobs" : "spawn", turn_clock ? "corio-tc" : "corio", n, (long long)(t1 - t0), (long long)(c1 - c0), rss1 - rss0);
    co_loop_free(loop);
    return 0;
}

/* ---------------------------------------------------------------- timers */

typedef struct {
    co_gen gen;
    int64_t ns;
} sleeper;

static size_t sleepers_left;
static co_event all_fired;

/* A timer as a task: sleep, then count the firing. */
static int sleeper_fn(co_gen *g)
{
    sleeper *self = (sleeper *)g;
    CO_BEGIN(self);
    CO_SLEEP_NS(self, self->ns);
    if (--sleepers_left == 0)
        co_event_set(&all_fired);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    size_t n;
    const int64_t *delay_ns;
    sleeper **set;
    int64_t t0, c0;
    int64_t arm_ns, cancel_ns, unwind_ns, rearm_ns, fire_cpu_ns, fire_wall_ns;
} timer_main;

/* n new sleeper tasks, spawned: each arms its timer at its first step. */
static int make_set(timer_main *self)
{
    for (size_t i = 0; i < self->n; i++) {
        sleeper *s = CO_NEW(co_running_loop(), sleeper, sleeper_fn);
        if (s == NULL)
            return CO_ENOMEM;
        s->ns = self->delay_ns[i];
        self->set[i] = s;
        if (co_spawn(&s->gen) < 0)
            return CO_ENOMEM;
    }
    return 0;
}

static void release_set(timer_main *self)
{
    for (size_t i = 0; i < self->n; i++)
        co_release(&self->set[i]->gen);
}

/*
 * The loop runs the tasks ready at the start of a turn in order, and a task
 * that sleeps 0 goes behind them: so after spawning a set, one CO_SLEEP(0)
 * of this task lets every sleeper of the set take its first step (arming
 * its timer) before this task runs again.  Nothing fires in between: the
 * shortest delay (1 ms) counts from the start of that turn.
 */
static int timer_main_fn(co_gen *g)
{
    timer_main *self = (timer_main *)g;
    CO_BEGIN(self);
    /* arm: a fresh set of n sleepers */
    CO__CHECK(self, make_set(self));
    self->t0 = wall_ns();
    CO_SLEEP(self, 0);
    self->arm_ns = wall_ns() - self->t0;

    /* cancel all of it: the co_cancel calls, then the cancelled tasks'
       unwinding (each is resumed with CO_ECANCELLED and finishes) */
    self->t0 = wall_ns();
    for (size_t i = 0; i < self->n; i++)
        co_cancel(&self->set[i]->gen);
    self->cancel_ns = wall_ns() - self->t0;
    self->t0 = wall_ns();
    CO_SLEEP(self, 0);
    self->unwind_ns = wall_ns() - self->t0;
    release_set(self);

    /* restart and fire: a second set armed (the heap is grown now), then
       all of it fires */
    sleepers_left = self->n;
    co_event_init(&all_fired);
    CO__CHECK(self, make_set(self));
    self->t0 = wall_ns();
    CO_SLEEP(self, 0);
    self->rearm_ns = wall_ns() - self->t0;
    self->t0 = wall_ns();
    self->c0 = cpu_ns();
    CO_EVENT_WAIT(self, &all_fired);
    self->fire_cpu_ns = cpu_ns() - self->c0;
    self->fire_wall_ns = wall_ns() - self->t0;
    release_set(self);
    CO_END(self);
}

static int bench_timers(size_t n, int micro, bool turn_clock)
{
    co_loop *loop = new_loop(turn_clock);
    int64_t *delays = make_delays(n, micro);
    timer_main *m = CO_NEW(loop, timer_main, timer_main_fn);
    if (m == NULL || (m->set = malloc(n * sizeof *m->set)) == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < n; i++) /* delays in ns, for CO_SLEEP_NS */
        delays[i] *= micro ? 1000 : 1000000;
    m->n = n;
    m->delay_ns = delays;
    run_main(loop, &m->gen);
    check_sum("timers", (long long)sleepers_left, 0);
    printf("result bench=timers lib=%s unit=%s n=%zu start_ns=%lld cancel_ns=%lld "
           "unwind_ns=%lld restart_ns=%lld fire_cpu_ns=%lld fire_wall_ns=%lld\n",
           turn_clock ? "corio-tc" : "corio", micro ? "us" : "ms", n, (long long)m->arm_ns, (long long)m->cancel_ns,
           (long long)m->unwind_ns, (long long)m->rearm_ns, (long long)m->fire_cpu_ns,
           (long long)m->fire_wall_ns);
    free(m->set);
    free(delays);
    co_loop_free(loop);
    return 0;
}

/* ---------------------------------------------------------------- sleep0 */

typedef struct {
    co_gen gen;
    size_t i, n;
} spinner;

/* for _ in range(n): await asyncio.sleep(0) */
static int spinner_fn(co_gen *g)
{
    spinner *self = (spinner *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->n; self->i++)
        CO_SLEEP(self, 0);
    CO_END(self);
}

static int bench_sleep0(size_t n)
{
    co_loop *loop = new_loop(false);
    spinner *s = CO_NEW(loop, spinner, spinner_fn);
    if (s == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    s->n = n;
    int64_t t0 = wall_ns(), c0 = cpu_ns();
    run_main(loop, &s->gen);
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    check_sum("sleep0", (long long)s->i, (long long)n);
    printf("result bench=sleep0 lib=corio n=%zu wall_ns=%lld cpu_ns=%lld\n", n,
           (long long)(t1 - t0), (long long)(c1 - c0));
    co_loop_free(loop);
    return 0;
}

/* What the reactor's poll costs alone: the kernel round trip of a turn. */
static int bench_epoll0(size_t n)
{
    struct epoll_event ev = {.events = EPOLLIN}, out[8];
    int ep = epoll_create1(EPOLL_CLOEXEC), efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    long long polled = 0;
    if (ep < 0 || efd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
        perror("epoll");
        return 1;
    }
    int64_t t0 = wall_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < n; i++)
        polled += epoll_wait(ep, out, 8, 0) == 0;
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    check_sum("epoll0", polled, (long long)n);
    printf("result bench=sleep0 lib=epoll0 n=%zu wall_ns=%lld cpu_ns=%lld\n", n,
           (long long)(t1 - t0), (long long)(c1 - c0));
    close(efd);
    close(ep);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    size_t n = parse_count(argc > 2 ? argv[2] : NULL, usage);
    if (strcmp(cmd, "spawn") == 0 && argc == 3)
        return bench_spawn(n, false, false);
    if (strcmp(cmd, "spawn") == 0 && given_option(argc, argv, "--add"))
        return bench_spawn(n, true, false);
    if (strcmp(cmd, "spawn") == 0 && given_option(argc, argv, "--turn-clock"))
        return bench_spawn(n, false, true);
    if (strcmp(cmd, "timers") == 0 || strcmp(cmd, "timers-tc") == 0)
        return bench_timers(n, parse_unit(argc, argv, 3, usage), cmd[6] != '\0');
    if (strcmp(cmd, "sleep0") == 0 && argc == 3)
        return bench_sleep0(n);
    if (strcmp(cmd, "epoll0") == 0 && argc == 3)
        return bench_epoll0(n);
    usage_exit(usage);
}
