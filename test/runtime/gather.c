/*
 * gather.c -- asyncio.gather: results in argument order, the first error
 * raised while the others run on (or every outcome collected, ALL mode),
 * cancellation of the gathering task reaching its children, gathers of
 * finished tasks, a task claimed by two gathers, and children released
 * while gathered (freed when the gather ends, not before).
 */
#include "testloop.h"

#include <errno.h>

TestSuite(gather, .init = rt_reset);

/* A child: sleeps `ms`, then returns `value` or raises `error`.  Cancelled,
 * its cleanup may await (`cleanup_ms`) and may swallow the cancellation. */
typedef struct {
    co_gen gen;
    int id, ms, value, error, cleanup_ms;
    bool swallow;
    int ret, seen;
    int64_t ended_at;
} child;

static int child_fn(co_gen *g)
{
    child *self = (child *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    if (self->error)
        CO_RAISE(self, self->error);
    self->ret = self->value;
    rt_log("child %d done", self->id);
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->seen == CO_ECANCELLED && self->cleanup_ms) {
            CO_SLEEP(self, self->cleanup_ms);
            rt_log("child %d cleaned", self->id);
        }
        self->ended_at = rt_ms(co_running_loop());
        if (self->seen == CO_ECANCELLED && self->swallow)
            CO_RETURN(self, -1);
    }
    CO_END(self);
}

enum { MAXKIDS = 4 };

/* The gathering coroutine, awaited inline by its task so that the task can
 * catch what the gather raises. */
typedef struct {
    co_gen gen;
    co_gather gather;
    co_gen *tasks[MAXKIDS];
    size_t n;
    int mode;
} gatherer;

static int gatherer_fn(co_gen *g)
{
    gatherer *self = (gatherer *)g;
    CO_BEGIN(self);
    CO_GATHER(self, &self->gather, self->tasks, self->n, self->mode);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    gatherer inner;
    child *kids[MAXKIDS];
    int raised;
    int64_t raised_at;
    int results_then[MAXKIDS]; /* co_task_result when the gather returned */
    int linger_ms;             /* how long to stay after the gather */
} gmain;

static int gmain_fn(co_gen *g)
{
    gmain *self = (gmain *)g;
    CO_BEGIN(self);
    CO_AWAIT_CATCH(self, inner);
    self->raised = CO_THROWN(self);
    self->raised_at = rt_ms(co_running_loop());
    for (size_t i = 0; i < self->inner.n; i++)
        self->results_then[i] = co_task_result(&self->kids[i]->gen);
    if (self->linger_ms)
        CO_SLEEP(self, self->linger_ms);
    CO_END(self);
}

/* A main gathering the children described by (ms, value, error) triples. */
static gmain *new_gmain(co_loop *loop, int mode, size_t n, const int (*spec)[3])
{
    gmain *m = CO_NEW(loop, gmain, gmain_fn);
    cr_assert_not_null(m);
    CO_INIT(&m->inner, gatherer_fn);
    m->inner.n = n;
    m->inner.mode = mode;
    for (size_t i = 0; i < n; i++) {
        child *c = CO_NEW(loop, child, child_fn);
        cr_assert_not_null(c);
        c->id = (int)i;
        c->ms = spec[i][0];
        c->value = spec[i][1];
        c->error = spec[i][2];
        m->kids[i] = c;
        m->inner.tasks[i] = &c->gen;
    }
    return m;
}

Test(gather, results_come_in_argument_order_whatever_the_finishing_order)
{
    static const int spec[3][3] = {{30, 100, 0}, {10, 200, 0}, {20, 300, 0}};
    co_loop *loop = rt_loop();
    gmain *m = new_gmain(loop, CO_GATHER_FIRST_ERROR, 3, spec);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_str_eq(rt.log, "child 1 done\nchild 2 done\nchild 0 done\n");
    cr_expect_eq(m->raised, 0);
    cr_expect_eq(m->raised_at, 30, "the gather waits for the slowest");
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(co_task_result(m->inner.tasks[i]), 0);
        cr_expect_eq(((child *)(void *)m->inner.tasks[i])->ret, 100 * (i + 1));
    }
    rt_free_loop(loop);
}

Test(gather, first_error_is_raised_at_once_and_the_others_keep_running)
{
    static const int spec[3][3] = {{20, 0, -EPIPE}, {10, 0, -EIO}, {30, 7, 0}};
    co_loop *loop = rt_loop();
    gmain *m = new_gmain(loop, CO_GATHER_FIRST_ERROR, 3, spec);
    m->linger_ms = 100;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->raised, -EIO, "the first error in time, not in argument order");
    cr_expect_eq(m->raised_at, 10);
    cr_expect_eq(m->results_then[0], CO_ENOTDONE, "still running when the gather raised");
    cr_expect_eq(m->results_then[2], CO_ENOTDONE);
    /* they were not cancelled: they finished on their own */
    cr_expect_eq(co_task_result(&m->kids[0]->gen), -EPIPE);
    cr_expect_eq(co_task_result(&m->kids[2]->gen), 0);
    cr_expect_eq(m->kids[2]->ret, 7);
    cr_expect_eq(m->kids[2]->ended_at, 30);
    rt_free_loop(loop);
}

Test(gather, all_mode_collects_every_result_and_error)
{
    static const int spec[3][3] = {{20, 0, -EPIPE}, {10, 0, -EIO}, {30, 7, 0}};
    co_loop *loop = rt_loop();
    gmain *m = new_gmain(loop, CO_GATHER_ALL, 3, spec);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->raised, 0, "return_exceptions=True raises nothing");
    cr_expect_eq(m->raised_at, 30);
    cr_expect_eq(m->results_then[0], -EPIPE);
    cr_expect_eq(m->results_then[1], -EIO);
    cr_expect_eq(m->results_then[2], 0);
    cr_expect(co_done(&m->gen));
    rt_free_loop(loop);
}

Test(gather, of_no_tasks_returns_at_once)
{
    co_loop *loop = rt_loop();
    gmain *m = new_gmain(loop, CO_GATHER_FIRST_ERROR, 0, NULL);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->raised, 0);
    cr_expect_eq(m->raised_at, 0);
    rt_free_loop(loop);
}

/* ------------------------------------------------ cancellation */

typedef struct {
    co_gen gen;
    gmain *owner;
    int owner_result;
    int64_t owner_done_at;
} canceller;

static int canceller_fn(co_gen *g)
{
    canceller *self = (canceller *)g;
    CO_BEGIN(self);
    rt_spawn(&self->owner->gen);
    CO_SLEEP(self, 10);
    cr_expect_eq(co_cancel(&self->owner->gen), 1);
    CO_AWAIT_TASK_CATCH(self, &self->owner->gen);
    self->owner_result = CO_THROWN(self);
    self->owner_done_at = rt_ms(co_running_loop());
    CO_END(self);
}

static void cancel_gatherer(int mode, bool swallow)
{
    static const int spec[2][3] = {{1000, 0, 0}, {1000, 0, 0}};
    co_loop *loop = rt_loop();
    gmain *m = new_gmain(loop, mode, 2, spec);
    canceller *c = CO_NEW(loop, canceller, canceller_fn);
    m->kids[0]->cleanup_ms = 5;
    m->kids[1]->cleanup_ms = 5;
    m->kids[1]->swallow = swallow;
    c->owner = m;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(m->kids[i]->seen, CO_ECANCELLED, "child %d was cancelled", i);
        cr_expect_eq(m->kids[i]->ended_at, 15);
    }
    cr_expect_eq(co_task_result(&m->kids[1]->gen), swallow ? 0 : CO_ECANCELLED);
    /* the gather raises the cancellation once the children finished their
       cleanup; the owner catches it (CO_AWAIT_CATCH) and returns */
    cr_expect_eq(m->raised, CO_ECANCELLED);
    cr_expect_eq(m->raised_at, 15);
    cr_expect_eq(c->owner_result, 0);
    cr_expect_eq(c->owner_done_at, 15);
    cr_expect_str_eq(rt.log, "child 0 cleaned\nchild 1 cleaned\n");
    rt_free_loop(loop);
}

Test(gather, cancelling_the_gathering_task_cancels_its_children_first)
{
    cancel_gatherer(CO_GATHER_FIRST_ERROR, false);
}

Test(gather, cancelling_an_all_mode_gather_cancels_its_children_first)
{
    cancel_gatherer(CO_GATHER_ALL, false);
}

Test(gather, a_child_swallowing_the_cancellation_does_not_save_the_owner)
{
    cancel_gatherer(CO_GATHER_ALL, true);
}

/* ------------------------------------------------ finished tasks */

typedef struct {
    co_gen gen;
    gatherer inner;
    child *kids[2];
    int raised;
    int64_t raised_at;
    bool second_ok;
} done_main;

static int done_main_fn(co_gen *g)
{
    done_main *self = (done_main *)g;
    CO_BEGIN(self);
    for (int i = 0; i < 2; i++) {
        rt_spawn(&self->kids[i]->gen);
        self->inner.tasks[i] = &self->kids[i]->gen;
    }
    CO_SLEEP(self, 5); /* both are done now */
    CO_INIT(&self->inner, gatherer_fn);
    self->inner.n = 2;
    self->inner.mode = CO_GATHER_FIRST_ERROR;
    CO_AWAIT_CATCH(self, inner);
    self->raised = CO_THROWN(self);
    self->raised_at = rt_ms(co_running_loop());
    /* ALL mode over the same finished tasks: a second gather is fine now */
    CO_INIT(&self->inner, gatherer_fn);
    self->inner.n = 2;
    self->inner.mode = CO_GATHER_ALL;
    CO_AWAIT(self, inner);
    self->second_ok = true;
    CO_END(self);
}

Test(gather, of_finished_tasks_completes_at_once)
{
    co_loop *loop = rt_loop();
    done_main *m = CO_NEW(loop, done_main, done_main_fn);
    for (int i = 0; i < 2; i++) {
        m->kids[i] = CO_NEW(loop, child, child_fn);
        m->kids[i]->id = i;
        m->kids[i]->ms = 1;
    }
    m->kids[1]->error = -EIO;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->raised, -EIO);
    cr_expect_eq(m->raised_at, 5);
    cr_expect(m->second_ok);
    rt_free_loop(loop);
}

/* ------------------------------------------------ two gathers, one task */

typedef struct {
    co_gen gen;
    gatherer inner;
    int raised;
} second_gatherer;

static int second_gatherer_fn(co_gen *g)
{
    second_gatherer *self = (second_gatherer *)g;
    CO_BEGIN(self);
    CO_AWAIT_CATCH(self, inner);
    self->raised = CO_THROWN(self);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    gmain *first;
    second_gatherer *second;
} busy_main;

static int busy_main_fn(co_gen *g)
{
    busy_main *self = (busy_main *)g;
    CO_BEGIN(self);
    rt_spawn(&self->first->gen);
    CO_SLEEP(self, 0); /* the first gather has claimed the child */
    rt_spawn(&self->second->gen);
    CO_AWAIT_TASK(self, &self->second->gen);
    CO_AWAIT_TASK(self, &self->first->gen);
    CO_END(self);
}

Test(gather, a_task_in_two_gathers_is_ebusy)
{
    static const int spec[1][3] = {{10, 1, 0}};
    co_loop *loop = rt_loop();
    busy_main *m = CO_NEW(loop, busy_main, busy_main_fn);
    m->first = new_gmain(loop, CO_GATHER_FIRST_ERROR, 1, spec);
    m->second = CO_NEW(loop, second_gatherer, second_gatherer_fn);
    CO_INIT(&m->second->inner, gatherer_fn);
    m->second->inner.n = 1;
    m->second->inner.mode = CO_GATHER_FIRST_ERROR;
    m->second->inner.tasks[0] = &m->first->kids[0]->gen;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->second->raised, CO_EBUSY);
    cr_expect_eq(m->first->raised, 0, "the first gather is not disturbed");
    cr_expect_eq(m->first->raised_at, 10);
    rt_free_loop(loop);
}

/* A bad argument late in the list: asyncio raises before anything is
 * gathered, and here the children named before it are left as they were --
 * unclaimed (a second gather takes them) and not scheduled.  The one pass
 * that checks and adopts must undo what it did. */
CO_ASYNC(numbered, int value, ret;)
    CO_SLEEP(self, 1);
    CO_RETURN(self, self->value);
CO_ASYNC_END

CO_ASYNC(bad_then_good, numbered *a, *b; co_gen *bad[3], *good[2]; co_gather g1, g2;
         int first, second, a_done_after_first; int sum;)
    self->bad[0] = &self->a->gen;
    self->bad[1] = &self->b->gen;
    self->bad[2] = NULL;
    CO_GATHER_CATCH(self, &self->g1, self->bad, 3, CO_GATHER_ALL);
    self->first = CO_THROWN(self);
    self->a_done_after_first = co_done(&self->a->gen);
    CO_SLEEP(self, 5); /* an adopted or scheduled child would have run */
    self->a_done_after_first |= co_done(&self->a->gen);
    self->good[0] = &self->a->gen;
    self->good[1] = &self->b->gen;
    CO_GATHER_CATCH(self, &self->g2, self->good, 2, CO_GATHER_ALL);
    self->second = CO_THROWN(self);
    self->sum = self->a->ret + self->b->ret;
CO_ASYNC_END

Test(gather, a_bad_argument_leaves_the_children_before_it_unclaimed_and_unscheduled)
{
    co_loop *loop = rt_loop();
    bad_then_good *m = CO_TASK(loop, bad_then_good, .a = CO_TASK(loop, numbered, .value = 2),
                               .b = CO_TASK(loop, numbered, .value = 40));
    cr_assert(m && m->a && m->b);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->first, CO_EBADARG);
    cr_expect_eq(m->a_done_after_first, 0, "nothing ran the children before the good gather");
    cr_expect_eq(m->second, 0, "the children were left unclaimed: no CO_EBUSY");
    cr_expect_eq(m->sum, 42);
    rt_free_loop(loop);
}

/* One co_gather struct used by two tasks at once (a misuse): the second
 * finds the child claimed -- CO_EBUSY, as a child of another gather -- and
 * must not take it for a child it named twice and overwrite the first. */
static co_gather shared_gather;

CO_ASYNC(sharer, numbered *child; co_gen *kids[1]; int raised, got;)
    self->kids[0] = &self->child->gen;
    CO_GATHER_CATCH(self, &shared_gather, self->kids, 1, CO_GATHER_ALL);
    self->raised = CO_THROWN(self);
    self->got = self->child->ret;
CO_ASYNC_END

CO_ASYNC(two_sharers, sharer *first, *second;)
    rt_spawn(&self->first->gen);
    CO_SLEEP(self, 0); /* the first gather has claimed the child */
    CO_AWAIT_TASK(self, &self->second->gen); /* it catches its own error */
    CO_AWAIT_TASK(self, &self->first->gen);
CO_ASYNC_END

Test(gather, one_gather_struct_in_two_tasks_is_ebusy_for_the_second)
{
    co_loop *loop = rt_loop();
    numbered *x = CO_TASK(loop, numbered, .value = 7);
    two_sharers *m = CO_TASK(loop, two_sharers, .first = CO_NEW(loop, sharer, sharer_fn),
                             .second = CO_NEW(loop, sharer, sharer_fn));
    cr_assert(x && m && m->first && m->second);
    m->first->child = m->second->child = x;
    memset(&shared_gather, 0, sizeof shared_gather);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->second->raised, CO_EBUSY);
    cr_expect_eq(m->first->raised, 0, "the first gather is not disturbed");
    cr_expect_eq(m->first->got, 7);
    rt_free_loop(loop);
}

/* Releases `kid` at `ms` (done by then, still gathered) and takes a new
 * block of its size, to see whether the kid's went back to the pool. */
typedef struct {
    co_gen gen;
    child *kid;
    int ms;
    child *got;
} releaser;

static int releaser_fn(co_gen *g)
{
    releaser *self = (releaser *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, self->ms);
    co_release(&self->kid->gen);
    self->got = CO_NEW(co_running_loop(), child, child_fn);
    co_release(&self->got->gen); /* never spawned: free again at once */
    CO_END(self);
}

/* Gathers three children, two of them released while gathered: kids[1]
 * before the gather (still running), kids[0] by `rel` once done. */
typedef struct {
    co_gen gen;
    co_gather gather;
    co_gen *tasks[3];
    child *kids[3];
    releaser *rel;
    child *after[2]; /* two blocks taken once the gather is over */
} release_gmain;

static int release_gmain_fn(co_gen *g)
{
    static const int ms[3] = {1, 5, 3};
    release_gmain *self = (release_gmain *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    for (int i = 0; i < 3; i++) {
        self->kids[i] = CO_NEW(loop, child, child_fn);
        self->kids[i]->id = i;
        self->kids[i]->ms = ms[i];
        self->kids[i]->value = 10 + i;
        self->tasks[i] = &self->kids[i]->gen;
        rt_spawn(self->tasks[i]);
    }
    co_release(self->tasks[1]);
    self->rel = CO_NEW(loop, releaser, releaser_fn);
    self->rel->kid = self->kids[0];
    self->rel->ms = 2;
    rt_spawn(&self->rel->gen);
    CO_GATHER(self, &self->gather, self->tasks, 3, CO_GATHER_ALL);
    self->after[0] = CO_NEW(loop, child, child_fn);
    self->after[1] = CO_NEW(loop, child, child_fn);
    CO_END(self);
}

Test(gather, children_released_while_gathered_are_freed_when_it_ends_the_others_kept)
{
    co_loop *loop = rt_loop();
    release_gmain *m = CO_NEW(loop, release_gmain, release_gmain_fn);
    void *freed[2], *after[2];
    cr_assert_eq(co_run(loop, &m->gen), 0);
    freed[0] = m->kids[0];
    freed[1] = m->kids[1];
    after[0] = m->after[0];
    after[1] = m->after[1];
    cr_expect_neq((void *)m->rel->got, freed[0], "done and released, but the gather still held it");
    cr_expect((after[0] == freed[0] && after[1] == freed[1]) ||
                  (after[0] == freed[1] && after[1] == freed[0]),
              "both released children were freed when the gather ended");
    cr_expect_eq(co_task_result(m->tasks[2]), 0, "the kept child is still readable");
    cr_expect_eq(m->kids[2]->ret, 12);
    rt_free_loop(loop);
}
