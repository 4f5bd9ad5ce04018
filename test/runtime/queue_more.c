/*
 * queue_more.c -- the queue's other faces: join / task_done (join wakes
 * when the last task_done arrives; one too many is CO_ETASKDONE), the LIFO
 * order, the priority order over many items -- ties included, in the very
 * order CPython's heapq gives them (twins.h) -- and cancelled waiters on
 * them, which lose no item and strand nobody.
 */
#include "sync_tests.h"

#include <stdio.h>
#include <string.h>

TestSuite(queue_more, .init = rt_reset);

/* ---------------------------------------------------------------- join */

static co_queue q;
static int qbuf[4];

CO_ASYNC(worker, const char *name; int pause; int item;)
    for (;;) {
        CO_QUEUE_GET(self, &q, &self->item);
        CO_SLEEP(self, self->pause);
        rt_log("%s done %d at %lld", self->name, self->item, st_now());
        CO_CHECK(self, co_queue_task_done(&q));
    }
CO_ASYNC_END

CO_ASYNC(join_main, worker *w1; worker *w2; int i;)
    CO_CREATE_TASK(self, self->w1, worker, .name = "w1", .pause = 5);
    CO_CREATE_TASK(self, self->w2, worker, .name = "w2", .pause = 7);
    for (self->i = 0; self->i < 5; self->i++)
        CO_QUEUE_PUT(self, &q, &self->i);
    rt_log("all put at %lld", st_now());
    CO_QUEUE_JOIN(self, &q);
    rt_log("joined at %lld", st_now());
    if (co_queue_task_done(&q) == CO_ETASKDONE)
        rt_log("task_done too many times");
    CO_QUEUE_JOIN(self, &q); /* nothing unfinished: at once */
    co_cancel(&self->w1->gen);
    co_cancel(&self->w2->gen);
    CO_AWAIT_TASK_CATCH(self, &self->w1->gen);
    CO_AWAIT_TASK_CATCH(self, &self->w2->gen);
CO_ASYNC_END

Test(queue_more, join_wakes_when_the_last_task_done_arrives)
{
    co_loop *loop = rt_loop();
    cr_assert_eq(co_queue_init(&q, qbuf, sizeof qbuf[0], 4), 0);
    cr_assert_eq(co_queue_maxsize(&q), 4);
    ST_RUN(loop, join_main, 0);
    cr_expect_str_eq(rt.log, TWIN_QUEUE_JOIN);
    rt_free_loop(loop);
}

/* A cancelled joiner leaves; the other still wakes at the last task_done. */
CO_ASYNC(joiner, const char *name;)
    CO_QUEUE_JOIN(self, &q);
    rt_log("%s joined at %lld", self->name, st_now());
CO_ASYNC_END

CO_ASYNC(join_cancel, joiner *a; joiner *b; int item;)
    CO_QUEUE_PUT(self, &q, &self->item);
    CO_CREATE_TASK(self, self->a, joiner, .name = "a");
    CO_CREATE_TASK(self, self->b, joiner, .name = "b");
    CO_SLEEP(self, 3);
    co_cancel(&self->a->gen);
    CO_SLEEP(self, 2);
    CO_QUEUE_GET(self, &q, &self->item);
    CO_CHECK(self, co_queue_task_done(&q));
    CO_AWAIT_TASK_CATCH(self, &self->a->gen);
    cr_assert_eq(CO_THROWN(self), CO_ECANCELLED);
    CO_AWAIT_TASK(self, &self->b->gen);
CO_ASYNC_END

Test(queue_more, a_cancelled_joiner_leaves_the_others_waiting)
{
    co_loop *loop = rt_loop();
    cr_assert_eq(co_queue_init_unbounded(&q, loop, sizeof(int)), 0);
    cr_assert_eq(co_queue_maxsize(&q), 0);
    ST_RUN(loop, join_cancel, 0);
    cr_expect_str_eq(rt.log, "b joined at 5\n");
    co_queue_fini(&q);
    rt_free_loop(loop);
}

/* ------------------------------------------------------ LIFO, priority */

typedef struct {
    int prio, id;
} pitem;

static int by_prio(const void *a, const void *b)
{
    return ((const pitem *)a)->prio - ((const pitem *)b)->prio;
}

Test(queue_more, lifo_gives_the_newest_first_across_waits)
{
    int buf[8], got = -1;
    cr_assert_eq(co_queue_init(&q, buf, sizeof buf[0], 8), 0);
    cr_assert_eq(co_queue_lifo(&q), 0);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(co_queue_try_put(&q, &i), 0);
    cr_expect_eq(co_queue_try_put(&q, &got), CO_EQFULL);
    for (int i = 7; i >= 4; i--) {
        cr_assert_eq(co_queue_try_get(&q, &got), 0);
        cr_expect_eq(got, i);
    }
    for (int i = 10; i < 12; i++)
        cr_assert_eq(co_queue_try_put(&q, &i), 0);
    for (int want = 11; want >= 10; want--) {
        cr_assert_eq(co_queue_try_get(&q, &got), 0);
        cr_expect_eq(got, want);
    }
    for (int want = 3; want >= 0; want--) {
        cr_assert_eq(co_queue_try_get(&q, &got), 0);
        cr_expect_eq(got, want);
    }
    cr_expect_eq(co_queue_try_get(&q, &got), CO_EQEMPTY);
}

Test(queue_more, the_order_is_set_before_the_first_item_only)
{
    pitem buf[2], it = {1, 1};
    cr_assert_eq(co_queue_init(&q, buf, sizeof buf[0], 2), 0);
    cr_expect_eq(co_queue_priority(&q, NULL), CO_EBADARG);
    cr_expect_eq(co_queue_lifo(NULL), CO_EBADARG);
    cr_assert_eq(co_queue_try_put(&q, &it), 0);
    cr_expect_eq(co_queue_lifo(&q), CO_EBUSY);
    cr_expect_eq(co_queue_priority(&q, by_prio), CO_EBUSY);
    cr_expect_eq(co_queue_task_done(&q), 0);
    cr_expect_eq(co_queue_task_done(&q), CO_ETASKDONE);
}

/* The same seeded puts and gets as the Python twin: ids in heapq's order. */
Test(queue_more, priority_order_with_many_items_and_ties_is_heapqs)
{
    co_loop *loop = rt_loop();
    uint32_t seed = 12345;
    int out[200];
    size_t n = 0, drained = 0, in_order = 0;
    pitem it;
    char line[128];
    cr_assert_eq(co_queue_init_unbounded(&q, loop, sizeof(pitem)), 0);
    cr_assert_eq(co_queue_priority(&q, by_prio), 0);
    for (int id = 0; id < 200; id++) {
        seed = (uint32_t)((seed * 1103515245ull + 12345) % 2147483648ull);
        it = (pitem){(int)(seed >> 16 & 3), id};
        cr_assert_eq(co_queue_try_put(&q, &it), 0);
        if (seed >> 8 & 1) {
            cr_assert_eq(co_queue_try_get(&q, &it), 0);
            out[n++] = it.id;
        }
    }
    cr_assert_gt(co_queue_size(&q), 50, "many items are queued at the end");
    for (int last = -1; co_queue_try_get(&q, &it) == 0; last = it.prio) {
        in_order += it.prio >= last;
        drained++;
        out[n++] = it.id;
    }
    cr_expect_eq(n, 200);
    cr_expect_eq(in_order, drained, "the drain comes out smallest first");
    for (size_t i = 0; i < n; i += 20) {
        size_t len = 0;
        for (size_t j = i; j < i + 20 && j < n; j++)
            len += (size_t)snprintf(line + len, sizeof line - len, j > i ? " %d" : "%d", out[j]);
        rt_log("%s", line);
    }
    cr_expect_str_eq(rt.log, TWIN_QUEUE_PRIORITY_TIES);
    co_queue_fini(&q);
    rt_free_loop(loop);
}

/* -------------------------------------------- cancelled waiters on them */

CO_ASYNC(getter, const char *name; pitem it;)
    CO_QUEUE_GET(self, &q, &self->it);
    rt_log("%s got %d/%d at %lld", self->name, self->it.prio, self->it.id, st_now());
CO_ASYNC_END

/* g1 is woken by the first put and cancelled before it runs: the wake-up
 * goes to g2, which takes the item the order gives; the putter waits for
 * room on the full queue twice.  Every item comes out once. */
CO_ASYNC(cancel_getters, getter *g1; getter *g2; getter *g3; pitem it; int i;)
    CO_CREATE_TASK(self, self->g1, getter, .name = "g1");
    CO_CREATE_TASK(self, self->g2, getter, .name = "g2");
    CO_SLEEP(self, 1);
    self->it = (pitem){5, 0};
    CO_QUEUE_PUT(self, &q, &self->it);
    co_cancel(&self->g1->gen);
    for (self->i = 1; self->i <= 3; self->i++) { /* the third waits for room */
        static const int prios[] = {0, 1, 9, 3};
        self->it = (pitem){prios[self->i], self->i};
        CO_QUEUE_PUT(self, &q, &self->it);
        rt_log("put %d at %lld", self->i, st_now());
        if (self->i == 2) {
            CO_CREATE_TASK(self, self->g3, getter, .name = "g3");
            rt_log("size %zu", co_queue_size(&q));
        }
    }
    CO_AWAIT_TASK_CATCH(self, &self->g1->gen);
    cr_assert_eq(CO_THROWN(self), CO_ECANCELLED);
    CO_AWAIT_TASK(self, &self->g2->gen);
    CO_AWAIT_TASK(self, &self->g3->gen);
    rt_log("left %zu", co_queue_size(&q));
    while (co_queue_try_get(&q, &self->it) == 0)
        rt_log("then %d/%d", self->it.prio, self->it.id);
CO_ASYNC_END

static void cancel_getters_on(bool lifo, const char *want)
{
    co_loop *loop = rt_loop();
    pitem buf[2];
    cr_assert_eq(co_queue_init(&q, buf, sizeof buf[0], 2), 0);
    cr_assert_eq(lifo ? co_queue_lifo(&q) : co_queue_priority(&q, by_prio), 0);
    ST_RUN(loop, cancel_getters, 0);
    cr_expect_str_eq(rt.log, want);
    rt_free_loop(loop);
}

Test(queue_more, a_cancelled_priority_getter_loses_no_item)
{
    cancel_getters_on(false, "put 1 at 1\n"
                             "g2 got 1/1 at 1\n"
                             "put 2 at 1\n"
                             "size 2\n"
                             "g3 got 5/0 at 1\n"
                             "put 3 at 1\n"
                             "left 2\n"
                             "then 3/3\n"
                             "then 9/2\n");
}

Test(queue_more, a_cancelled_lifo_getter_loses_no_item)
{
    cancel_getters_on(true, "put 1 at 1\n"
                            "g2 got 1/1 at 1\n"
                            "put 2 at 1\n"
                            "size 2\n"
                            "g3 got 9/2 at 1\n"
                            "put 3 at 1\n"
                            "left 2\n"
                            "then 3/3\n"
                            "then 5/0\n");
}
