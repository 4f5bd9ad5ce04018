/*
 * badarg.c -- invalid arguments to sched.h: every call that can detect one
 * returns CO_EBADARG (or the code its comment documents) instead of
 * crashing, and the await macros raise it in the task.  (Calls that crash
 * on NULL today are in pending.c.)
 */
#include "testloop.h"

#include <errno.h>
#include <string.h>

TestSuite(badarg, .init = rt_reset);

typedef struct {
    co_gen gen;
    int ret;
} plain;

static int plain_fn(co_gen *g)
{
    plain *self = (plain *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 1);
    CO_END(self);
}

Test(badarg, co_strerror_names_every_code)
{
    static const int codes[] = {
        CO_ECANCELLED, CO_ETIMEOUT,   CO_ENOTASK,    CO_ESELF,        CO_ELOOPRUNNING,
        CO_ELOOPCLOSED, CO_ENOMEM,    CO_EBADYIELD,  CO_ENOTLOCKED,   CO_EQFULL,
        CO_EQEMPTY,    CO_EQSHUTDOWN, CO_ESEMOVER,   CO_EINTERRUPTED, CO_EOF,
        CO_ENOTDONE,   CO_EBUSY,      CO_EXIT,       CO_EBADARG,      -EIO,
    };
    size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = co_strerror(-1099);
    cr_assert_not_null(unknown);
    for (size_t i = 0; i < n; i++) {
        const char *s = co_strerror(codes[i]);
        cr_assert_not_null(s, "code %d", codes[i]);
        cr_expect_str_neq(s, unknown, "code %d has no text of its own", codes[i]);
        for (size_t j = 0; j < i; j++)
            cr_expect_str_neq(s, co_strerror(codes[j]), "codes %d and %d share a text",
                              codes[i], codes[j]);
    }
    cr_expect_not_null(co_strerror(0));
    cr_expect_not_null(co_strerror(1));
    cr_expect_not_null(co_strerror(INT32_MIN));
    cr_expect_not_null(co_strerror(INT32_MAX));
}

Test(badarg, co_loop_new_refuses_a_null_result_and_an_unknown_backend)
{
    co_loop_options opt = rt_options();
    co_loop *loop = (co_loop *)&opt; /* must be reset to NULL */
    cr_expect_eq(co_loop_new(NULL, NULL), CO_EBADARG);
    cr_expect_eq(co_loop_new(NULL, &opt), CO_EBADARG);
#ifndef RT_BARE /* a bare loop has no backend to choose */
    opt.backend = "no-such-backend";
    cr_expect_eq(co_loop_new(&loop, &opt), CO_EBADARG);
    cr_expect_null(loop);
#else
    (void)loop;
#endif
    cr_expect_eq(rt.allocs, rt.frees, "nothing kept");
    co_loop_free(NULL);
}

Test(badarg, co_run_refuses_what_is_not_a_task_of_this_loop)
{
    co_loop *loop = rt_loop();
    co_loop_options opt = rt_options();
    co_loop *other;
    plain *foreign;
    co_gen zero;
    memset(&zero, 0, sizeof zero);
    cr_assert_eq(co_loop_new(&other, &opt), 0);
    foreign = CO_NEW(other, plain, plain_fn);
    cr_expect_eq(co_run(NULL, &foreign->gen), CO_EBADARG);
    cr_expect_eq(co_run(loop, NULL), CO_EBADARG);
    cr_expect_eq(co_run(loop, &zero), CO_EBADARG, "a frame with no body");
    cr_expect_eq(co_run(loop, &foreign->gen), CO_EBADARG, "a task of another loop");
    cr_expect_not(co_done(&foreign->gen));
    co_loop_free(other);
    rt_free_loop(loop);
}

Test(badarg, co_task_new_returns_null_for_bad_sizes_and_bodies)
{
    co_loop *loop = rt_loop();
    size_t calls = rt.alloc_calls;
    cr_expect_null(co_task_new(NULL, sizeof(plain), plain_fn));
    cr_expect_null(co_task_new(loop, sizeof(plain), NULL));
    cr_expect_null(co_task_new(loop, 0, plain_fn));
    cr_expect_null(co_task_new(loop, sizeof(co_gen) - 1, plain_fn), "smaller than a frame");
    cr_expect_null(co_task_new(loop, UINT32_MAX, plain_fn), "past a task's 32-bit size");
    cr_expect_eq(rt.alloc_calls, calls, "no allocation was even tried");
    rt_free_loop(loop);
}

Test(badarg, co_task_init_checks_its_storage)
{
    co_loop *loop = rt_loop();
    static CO_TASK_STORAGE(plain) st, other;
    memset(&st, 0, sizeof st);
    cr_expect_eq(co_task_init(loop, &st.task, &st.frame.gen), CO_EBADARG, "frame not CO_INIT-ed");
    CO_INIT(&st.frame, plain_fn);
    CO_INIT(&other.frame, plain_fn);
    cr_expect_eq(co_task_init(NULL, &st.task, &st.frame.gen), CO_EBADARG);
    cr_expect_eq(co_task_init(loop, NULL, &st.frame.gen), CO_EBADARG);
    cr_expect_eq(co_task_init(loop, &st.task, NULL), CO_EBADARG);
    cr_expect_eq(co_task_init(loop, &st.task, &other.frame.gen), CO_EBADARG,
                 "the frame must follow its task header");
    cr_expect_eq(co_task_init(loop, &st.task, &st.frame.gen), 0);
    cr_expect_eq(co_run(loop, &st.frame.gen), 0);
    rt_free_loop(loop);
}

Test(badarg, spawning_twice_or_after_the_end_is_ebusy)
{
    co_loop *loop = rt_loop();
    plain *p = CO_NEW(loop, plain, plain_fn);
    cr_expect_eq(co_spawn(NULL), CO_EBADARG);
    cr_expect_eq(co_spawn(&p->gen), 0);
    cr_expect_eq(co_spawn(&p->gen), CO_EBUSY);
    cr_expect_eq(co_run(loop, &p->gen), 0, "co_run of a spawned main");
    cr_expect_eq(co_spawn(&p->gen), CO_EBUSY, "a finished task");
    /* like loop.run_until_complete(done_task): its result, nothing runs */
    cr_expect_eq(co_run(loop, &p->gen), 0);
    rt_free_loop(loop);
}

Test(badarg, co_group_spawn_outside_the_group_run_is_ebadarg)
{
    co_loop *loop = rt_loop();
    plain *p = CO_NEW(loop, plain, plain_fn);
    co_group g;
    int errs[1];
    co_group_init(&g);
    cr_expect_eq(co_group_spawn(&g, NULL), CO_EBADARG);
    cr_expect_eq(co_group_spawn(&g, &p->gen), CO_EBADARG, "no CO_GROUP_RUN has begun");
    cr_expect_not(co_done(&p->gen));
    cr_expect_eq(co_group_errors(&g, errs, 1), 0);
    cr_expect_eq(co_group_errors(&g, NULL, 0), 0);
    co_group_fini(&g);
    rt_free_loop(loop);
}

Test(badarg, co_queue_init_refuses_an_empty_buffer)
{
    co_queue q;
    int buf[2];
    cr_expect_eq(co_queue_init(&q, NULL, sizeof(int), 2), CO_EBADARG);
    cr_expect_eq(co_queue_init(&q, buf, 0, 2), CO_EBADARG);
    cr_expect_eq(co_queue_init(&q, buf, sizeof(int), 0), CO_EBADARG);
    cr_expect_eq(co_queue_init(&q, buf, sizeof(int), 2), 0);
}

Test(badarg, lock_and_semaphore_misuse_is_reported)
{
    co_lock lock;
    co_sem sem;
    co_lock_init(&lock);
    cr_expect_eq(co_lock_release(&lock), CO_ENOTLOCKED);
    cr_expect_not(co_lock_locked(&lock));
    co_sem_init(&sem, 1, 1);
    cr_expect_eq(co_sem_release(&sem), CO_ESEMOVER);
    cr_expect_eq(co_sem_value(&sem), 1);
}

/* ------------------------------------------------ the await macros */

typedef struct {
    co_gen gen;
    int what;
    co_gen *list[2];
    co_gather gather;
    int raised;
} bad_awaiter;

static int bad_awaiter_fn(co_gen *g)
{
    bad_awaiter *self = (bad_awaiter *)g;
    CO_BEGIN(self);
    switch (self->what) {
    case 0:
        self->list[0] = NULL;
        break;
    case 1:
        self->list[0] = co_current_task();
        break;
    default:
        self->list[0] = &CO_NEW(co_running_loop(), plain, plain_fn)->gen;
        break;
    }
    if (self->what == 0)
        CO_AWAIT_TASK(self, NULL);
    else if (self->what == 1)
        CO_GATHER(self, &self->gather, self->list, 1, CO_GATHER_ALL);
    else if (self->what == 2)
        CO_GATHER(self, &self->gather, NULL, 1, CO_GATHER_ALL);
    else if (self->what == 3)
        CO_GATHER(self, &self->gather, self->list, 1, 42);
    else
        CO_GATHER(self, &self->gather, self->list, 1, CO_GATHER_ALL);
    CO_FINALLY(self)
    {
        self->raised = CO_THROWN(self);
    }
    CO_END(self);
}

Test(badarg, await_macros_raise_bad_arguments_in_the_task)
{
    static const int want[] = {CO_EBADARG, CO_ESELF, CO_EBADARG, CO_EBADARG, 0};
    co_loop *loop = rt_loop();
    for (int what = 0; what < 5; what++) {
        bad_awaiter *b = CO_NEW(loop, bad_awaiter, bad_awaiter_fn);
        b->what = what;
        cr_expect_eq(co_run(loop, &b->gen), want[what], "case %d: %s", what,
                     co_strerror(co_task_result(&b->gen)));
        cr_expect_eq(b->raised, want[what]);
    }
    rt_free_loop(loop);
}

/* A gather whose list holds NULL raises CO_EBADARG. */
typedef struct {
    co_gen gen;
    co_gen *list[2];
    co_gather gather;
} null_member;

static int null_member_fn(co_gen *g)
{
    null_member *self = (null_member *)g;
    CO_BEGIN(self);
    self->list[0] = &CO_NEW(co_running_loop(), plain, plain_fn)->gen;
    self->list[1] = NULL;
    CO_GATHER(self, &self->gather, self->list, 2, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

Test(badarg, a_gather_of_a_null_task_raises_ebadarg)
{
    co_loop *loop = rt_loop();
    null_member *n = CO_NEW(loop, null_member, null_member_fn);
    cr_expect_eq(co_run(loop, &n->gen), CO_EBADARG);
    rt_free_loop(loop);
}
