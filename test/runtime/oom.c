/*
 * oom.c -- out of memory at every allocation site: a scenario that spawns
 * tasks, sleeps, gathers and runs a task group with enough members to grow
 * the loop's task list, the timer heap and the group's member list is run
 * with the Nth allocation failing, for N = 1, 2, 3 ... until a run sees no
 * failure.  Every failure must come out as a clean error (CO_ENOMEM from
 * co_loop_new, NULL from CO_NEW, CO_ENOMEM raised in a task and returned by
 * co_run), with every byte and every file descriptor given back.
 */
#include "testloop.h"

#include <dirent.h>

TestSuite(oom, .init = rt_reset);

enum { NWORKERS = 3, NMEMBERS = 100 };

typedef struct {
    co_gen gen;
    int ms;
} oom_worker;

static int oom_worker_fn(co_gen *g)
{
    oom_worker *self = (oom_worker *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    CO_SLEEP(self, 0);
    CO_END(self);
}

/* Makes a worker task, or raises CO_ENOMEM in `self` -- a macro because a
 * raise must stand in the body. */
#define NEW_WORKER(self, dst, ms_)                                                         \
    do {                                                                                   \
        oom_worker *w_ = CO_NEW(co_running_loop(), oom_worker, oom_worker_fn);             \
        if (w_ == NULL)                                                                    \
            CO_RAISE(self, CO_ENOMEM);                                                     \
        w_->ms = (ms_);                                                                    \
        (dst) = &w_->gen;                                                                  \
    } while (0)

typedef struct {
    co_gen gen;
    co_group *group;
    int i;
    co_gen *member;
} oom_body;

static int oom_body_fn(co_gen *g)
{
    oom_body *self = (oom_body *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < NMEMBERS; self->i++) {
        int rc;
        NEW_WORKER(self, self->member, 1 + self->i % 7);
        rc = co_group_spawn(self->group, self->member);
        if (rc < 0)
            CO_RAISE(self, rc);
    }
    CO_SLEEP(self, 2);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    co_gen *tasks[NWORKERS];
    co_gather gather;
    co_group group;
    oom_body body;
    int i;
} oom_main;

static int oom_main_fn(co_gen *g)
{
    oom_main *self = (oom_main *)g;
    CO_BEGIN(self);
    co_group_init(&self->group);
    for (self->i = 0; self->i < NWORKERS; self->i++) {
        NEW_WORKER(self, self->tasks[self->i], 3 + self->i);
        if (co_spawn(self->tasks[self->i]) < 0)
            CO_RAISE(self, CO_EBADARG);
    }
    CO_SLEEP(self, 1);
    CO_GATHER(self, &self->gather, self->tasks, NWORKERS, CO_GATHER_FIRST_ERROR);
    CO_INIT(&self->body, oom_body_fn);
    self->body.group = &self->group;
    CO_GROUP_RUN(self, &self->group, body);
    CO_FINALLY(self)
    {
        co_group_fini(&self->group);
    }
    CO_END(self);
}

/* Open file descriptors of this process (Linux), or -1 where unknown. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Runs that reported the failed allocation as CO_ENOMEM (or a NULL CO_NEW). */
static size_t reported;

/* One run with allocation `fail_at` failing; true if it saw no failure. */
static bool run_failing_at(size_t fail_at)
{
    co_loop_options opt = rt_options();
    co_loop *loop = NULL;
    oom_main *m;
    int fds = open_fds();
    int rc;
    rt_reset();
    rt.fail_at = fail_at;
    rc = co_loop_new(&loop, &opt);
    if (rc < 0) {
        cr_assert_eq(rc, CO_ENOMEM, "allocation %zu: co_loop_new: %s", fail_at, co_strerror(rc));
        cr_assert_null(loop);
        reported++;
    } else {
        m = CO_NEW(loop, oom_main, oom_main_fn);
        if (m == NULL) {
            cr_assert_eq(rt.alloc_calls, fail_at, "CO_NEW failed with no failing allocation");
            reported++;
        } else {
            rc = co_run(loop, &m->gen);
            cr_assert(rc == 0 || rc == CO_ENOMEM, "allocation %zu: co_run: %s", fail_at,
                      co_strerror(rc));
            cr_assert(rc == 0 || rt.alloc_calls >= fail_at, "an error with no failure: %s",
                      co_strerror(rc));
            if (rt.alloc_calls < fail_at)
                cr_assert_eq(rc, 0);
            reported += rc == CO_ENOMEM;
        }
        rt_free_loop(loop);
    }
    cr_assert_eq(rt.allocs, rt.frees, "allocation %zu: %zu allocations, %zu frees", fail_at,
                 rt.allocs, rt.frees);
    cr_assert_eq(open_fds(), fds, "allocation %zu: file descriptors leaked", fail_at);
    return rt.alloc_calls < fail_at;
}

Test(oom, every_allocation_failure_is_a_clean_error)
{
    size_t n;
    for (n = 1; n < 5000; n++)
        if (run_failing_at(n))
            break;
    cr_assert_lt(n, 5000, "the scenario never ran without a failure");
    /* no failure was swallowed: each of the n - 1 failing runs said so */
    cr_expect_eq(reported, n - 1, "%zu of %zu failed allocations went unreported", n - 1 - reported,
                 n - 1);
    /* the loop, the task list, pool chunks, the heap, the group's list... */
    cr_expect_gt(n, 5, "only %zu allocations: the scenario is too small", n - 1);
}
