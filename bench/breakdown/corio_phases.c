/*
 * corio_phases.c -- bench/runtime.sh's spawn benchmark (corio_bench spawn N:
 * N tasks that sleep 10 ms and return their number, gathered, released) cut
 * into phases for valgrind --tool=callgrind, which bench/breakdown.sh runs.
 *
 * The program dumps callgrind's counters at each phase's end
 * (CALLGRIND_DUMP_STATS_AT, a no-op outside valgrind); each dump is named
 * after the phase it closes:
 *
 *   spawn         the main task's CO_NEW + co_spawn of the N jobs
 *   gather-start  CO_GATHER adopting them, the end of that turn
 *   first-steps   each job's first step, up to its CO_SLEEP (the timer arm)
 *   fire          the loop's wait for the deadline and the N timers firing
 *   resumes       each job's resume to its end: CO_RETURN, finishing, and
 *                 reporting to the gather
 *   gather-end    the main task woken, CO_GATHER's end
 *   release       the main task summing the results and co_release-ing each,
 *                 then a printf (where ev_phases.c counts glibc's deferred
 *                 work of free)
 *
 * The boundaries inside the loop's turns are drawn by two marker tasks that
 * sleep 10 ms too: one spawned before the jobs (so it runs, arms, fires and
 * resumes before all of them: FIFO) and one after.  Their own few hundred
 * instructions, and the loop's per-turn work, are spread over N tasks.  The
 * jobs' code is corio_bench.c's, instruction for instruction.
 */
#include <corio/corio.h>

#include <stdio.h>
#include <stdlib.h>
#include <valgrind/callgrind.h>

static const char usage[] = "corio_phases N";

typedef struct {
    co_gen gen;
    long value;
    long ret;
} job;

/* async def job(i): await asyncio.sleep(0.01); return i -- as in corio_bench.c */
static int job_fn(co_gen *g)
{
    job *self = (job *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 10);
    CO_RETURN(self, self->value);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    const char *at_first_step, *at_resume; /* the phases its two steps close */
} marker;

static int marker_fn(co_gen *g)
{
    marker *self = (marker *)g;
    CO_BEGIN(self);
    CALLGRIND_DUMP_STATS_AT(self->at_first_step);
    CO_SLEEP(self, 10);
    CALLGRIND_DUMP_STATS_AT(self->at_resume);
    CO_END(self);
}

/* A marker task, spawned; 0 or an error. */
static int spawn_marker(const char *at_first_step, const char *at_resume)
{
    marker *m = CO_NEW(co_running_loop(), marker, marker_fn);
    if (m == NULL)
        return CO_ENOMEM;
    m->at_first_step = at_first_step;
    m->at_resume = at_resume;
    return co_spawn(&m->gen);
}

typedef struct {
    co_gen gen;
    size_t n;
    co_gen **tasks;
    co_gather gather;
    long long sum;
} spawner;

/* corio_bench.c's spawner, with the dumps between its parts. */
static int spawner_fn(co_gen *g)
{
    spawner *self = (spawner *)g;
    CO_BEGIN(self);
    CO__CHECK(self, spawn_marker("gather-start", "fire"));
    CALLGRIND_DUMP_STATS_AT("setup");
    for (size_t i = 0; i < self->n; i++) {
        job *j = CO_NEW(co_running_loop(), job, job_fn);
        if (j == NULL)
            CO_RAISE(self, CO_ENOMEM);
        j->value = (long)i;
        self->tasks[i] = &j->gen;
        if (co_spawn(&j->gen) < 0)
            CO_RAISE(self, CO_ENOMEM);
    }
    CALLGRIND_DUMP_STATS_AT("spawn");
    CO__CHECK(self, spawn_marker("first-steps", "resumes"));
    CO_GATHER(self, &self->gather, self->tasks, self->n, CO_GATHER_FIRST_ERROR);
    CALLGRIND_DUMP_STATS_AT("gather-end");
    for (size_t i = 0; i < self->n; i++) {
        self->sum += ((job *)self->tasks[i])->ret;
        co_release(self->tasks[i]);
    }
    printf("corio_phases: %zu tasks gathered\n", self->n); /* as ev_phases.c prints */
    CALLGRIND_DUMP_STATS_AT("release");
    CO_END(self);
}

int main(int argc, char **argv)
{
    char *end;
    unsigned long long n = argc == 2 ? strtoull(argv[1], &end, 10) : 0;
    co_loop *loop;
    spawner *m;
    int rc;
    if (argc != 2 || *end != '\0' || n == 0 || n > 100000000ull) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    if ((rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "co_loop_new: %s\n", co_strerror(rc));
        return 1;
    }
    m = CO_NEW(loop, spawner, spawner_fn);
    if (m == NULL || (m->tasks = malloc(n * sizeof *m->tasks)) == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    m->n = (size_t)n;
    if ((rc = co_run(loop, &m->gen)) < 0) {
        fprintf(stderr, "co_run: %s\n", co_strerror(rc));
        return 1;
    }
    if (m->sum != (long long)(n * (n - 1) / 2)) {
        fprintf(stderr, "corio_phases: checksum %lld, expected %llu\n", m->sum, n * (n - 1) / 2);
        return 1;
    }
    free(m->tasks);
    co_loop_free(loop);
    return 0;
}
