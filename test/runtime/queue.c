/*
 * queue.c -- the bounded FIFO queue: items in order (across the ring's
 * wrap), put waiting while full and get while empty, waiters served first
 * come first served, the non-waiting forms, shutdown, and cancelled waiters
 * that must neither lose nor duplicate an item, nor strand the next waiter.
 */
#include "testloop.h"

#include <string.h>

TestSuite(queue, .init = rt_reset);

/* An item larger than a word, so copies of every byte are checked. */
typedef struct {
    int id;
    char tag[12];
} item;

static item make_item(int id)
{
    item it;
    memset(&it, 0, sizeof it);
    it.id = id;
    it.tag[0] = (char)('a' + id % 26);
    it.tag[10] = (char)id;
    return it;
}

static bool item_ok(const item *it)
{
    item want = make_item(it->id);
    return memcmp(it, &want, sizeof want) == 0;
}

/* A producer puts `count` items from `first`; a consumer gets `count`. */
typedef struct {
    co_gen gen;
    co_queue *q;
    int id, first, count, i;
    int pause_ms; /* between items */
    item it;
    int seen;
} actor;

static int producer_fn(co_gen *g)
{
    actor *self = (actor *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->count; self->i++) {
        self->it = make_item(self->first + self->i);
        CO_QUEUE_PUT(self, self->q, &self->it);
        rt_log("p%d put %d at %lld", self->id, self->it.id,
               (long long)rt_ms(co_running_loop()));
        if (self->pause_ms)
            CO_SLEEP(self, self->pause_ms);
    }
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->seen)
            rt_log("p%d: %s", self->id, co_strerror(self->seen));
    }
    CO_END(self);
}

static int consumer_fn(co_gen *g)
{
    actor *self = (actor *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->count; self->i++) {
        memset(&self->it, 0xEE, sizeof self->it);
        CO_QUEUE_GET(self, self->q, &self->it);
        cr_assert(item_ok(&self->it), "item %d arrived damaged", self->it.id);
        rt_log("c%d got %d at %lld", self->id, self->it.id,
               (long long)rt_ms(co_running_loop()));
        if (self->pause_ms)
            CO_SLEEP(self, self->pause_ms);
    }
    CO_FINALLY(self)
    {
        self->seen = CO_THROWN(self);
        if (self->seen)
            rt_log("c%d: %s", self->id, co_strerror(self->seen));
    }
    CO_END(self);
}

enum { MAXACTORS = 4 };

/* Main spawns the actors, then runs a script of steps like sync.c's. */
typedef struct qmain qmain;
typedef struct {
    int sleep_ms; /* before the step; -1: in the same step as the previous */
    void (*fn)(qmain *m, int arg);
    int arg;
} qstep;

struct qmain {
    co_gen gen;
    co_queue q;
    item buf[3];
    actor *a[MAXACTORS];
    int n;
    const qstep *steps;
    int i;
};

static int qmain_fn(co_gen *g)
{
    qmain *self = (qmain *)g;
    CO_BEGIN(self);
    for (int i = 0; i < self->n; i++)
        rt_spawn(&self->a[i]->gen);
    for (self->i = 0; self->steps && self->steps[self->i].fn; self->i++) {
        if (self->steps[self->i].sleep_ms >= 0)
            CO_SLEEP(self, self->steps[self->i].sleep_ms);
        self->steps[self->i].fn(self, self->steps[self->i].arg);
    }
    CO_SLEEP(self, 1000);
    CO_END(self);
}

static qmain *new_qmain(co_loop *loop, size_t cap, const qstep *steps)
{
    qmain *m = CO_NEW(loop, qmain, qmain_fn);
    cr_assert_not_null(m);
    cr_assert_leq(cap, 3);
    cr_assert_eq(co_queue_init(&m->q, m->buf, sizeof(item), cap), 0);
    m->steps = steps;
    return m;
}

/* Adds an actor (producer_fn or consumer_fn) to main. */
static actor *add_actor(co_loop *loop, qmain *m, co_body fn, int first, int count, int pause)
{
    actor *a = CO_NEW(loop, actor, fn);
    cr_assert_not_null(a);
    cr_assert_lt(m->n, MAXACTORS);
    a->q = &m->q;
    a->id = m->n;
    a->first = first;
    a->count = count;
    a->pause_ms = pause;
    m->a[m->n++] = a;
    return a;
}

static void run_qmain(co_loop *loop, qmain *m)
{
    cr_assert_eq(co_run(loop, &m->gen), 0);
}

/* A scenario of producers and consumers on one queue: who starts, with what,
 * and the log they must write.  The scenarios differ only in this data. */
typedef struct {
    bool producer;
    int first, count, pause;
} actor_spec;

typedef struct {
    size_t cap;
    actor_spec actors[4];
    const char *log;
} queue_case;

static void run_case(const queue_case *c)
{
    co_loop *loop = rt_loop();
    qmain *m = new_qmain(loop, c->cap, NULL);
    for (size_t i = 0; i < 4 && c->actors[i].count; i++) {
        const actor_spec *a = &c->actors[i];
        add_actor(loop, m, a->producer ? producer_fn : consumer_fn, a->first, a->count, a->pause);
    }
    run_qmain(loop, m);
    cr_expect_str_eq(rt.log, c->log);
    cr_expect_eq(co_queue_size(&m->q), 0);
    rt_free_loop(loop);
}

#define P(first, count, pause) {true, first, count, pause}
#define C(count, pause) {false, 0, count, pause}

Test(queue, put_waits_while_full_and_items_keep_their_order_across_the_wrap)
{
    run_case(&(queue_case){2, {P(0, 5, 0), C(5, 10)},
        "p0 put 0 at 0\np0 put 1 at 0\nc1 got 0 at 0\np0 put 2 at 0\n"
        "c1 got 1 at 10\np0 put 3 at 10\nc1 got 2 at 20\np0 put 4 at 20\n"
        "c1 got 3 at 30\nc1 got 4 at 40\n"});
}

Test(queue, get_waits_while_empty)
{
    run_case(&(queue_case){3, {C(3, 0), P(0, 3, 10)},
        "p1 put 0 at 0\nc0 got 0 at 0\np1 put 1 at 10\nc0 got 1 at 10\n"
        "p1 put 2 at 20\nc0 got 2 at 20\n"});
}

Test(queue, waiting_getters_are_served_in_fifo_order)
{
    run_case(&(queue_case){3, {C(1, 0), C(1, 0), C(1, 0), P(0, 3, 10)},
        "p3 put 0 at 0\nc0 got 0 at 0\np3 put 1 at 10\nc1 got 1 at 10\n"
        "p3 put 2 at 20\nc2 got 2 at 20\n"});
}

Test(queue, waiting_putters_are_served_in_fifo_order)
{
    run_case(&(queue_case){1, {P(0, 1, 0), P(10, 1, 0), P(20, 1, 0), C(3, 10)},
        "p0 put 0 at 0\nc3 got 0 at 0\np1 put 10 at 0\n"
        "c3 got 10 at 10\np2 put 20 at 10\nc3 got 20 at 20\n"});
}

Test(queue, try_put_and_try_get_never_wait)
{
    item buf[2], it = make_item(1), out;
    co_queue q;
    cr_assert_eq(co_queue_init(&q, buf, sizeof(item), 2), 0);
    cr_expect_eq(co_queue_try_get(&q, &out), CO_EQEMPTY);
    cr_expect_eq(co_queue_try_put(&q, &it), 0);
    it = make_item(2);
    cr_expect_eq(co_queue_try_put(&q, &it), 0);
    it = make_item(3);
    cr_expect_eq(co_queue_try_put(&q, &it), CO_EQFULL);
    cr_expect_eq(co_queue_size(&q), 2);
    cr_expect_eq(co_queue_try_get(&q, &out), 0);
    cr_expect_eq(out.id, 1);
    cr_expect(item_ok(&out));
    cr_expect_eq(co_queue_try_put(&q, &it), 0, "room again: it wraps around");
    cr_expect_eq(co_queue_try_get(&q, &out), 0);
    cr_expect_eq(out.id, 2);
    cr_expect_eq(co_queue_try_get(&q, &out), 0);
    cr_expect_eq(out.id, 3);
    cr_expect(item_ok(&out));
    cr_expect_eq(co_queue_try_get(&q, &out), CO_EQEMPTY);
}

Test(queue, shutdown_fails_puts_and_drains_gets)
{
    item buf[2], it = make_item(1), out;
    co_queue q;
    cr_assert_eq(co_queue_init(&q, buf, sizeof(item), 2), 0);
    cr_expect_eq(co_queue_try_put(&q, &it), 0);
    co_queue_shutdown(&q);
    cr_expect_eq(co_queue_try_put(&q, &it), CO_EQSHUTDOWN);
    cr_expect_eq(co_queue_try_get(&q, &out), 0, "what was left is still there");
    cr_expect_eq(out.id, 1);
    cr_expect_eq(co_queue_try_get(&q, &out), CO_EQSHUTDOWN, "drained: now it fails");
}

static void do_shutdown(qmain *m, int arg)
{
    (void)arg;
    co_queue_shutdown(&m->q);
}

Test(queue, shutdown_wakes_waiting_getters_with_an_error_once_drained)
{
    static const qstep steps[] = {{10, do_shutdown, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    qmain *m = new_qmain(loop, 3, steps);
    add_actor(loop, m, consumer_fn, 0, 2, 0);
    add_actor(loop, m, consumer_fn, 0, 2, 0);
    add_actor(loop, m, producer_fn, 0, 1, 0);
    run_qmain(loop, m);
    /* c0 waits again behind c1 after its first item: c1 is told first */
    cr_expect_str_eq(rt.log, "p2 put 0 at 0\nc0 got 0 at 0\n"
                             "c1: queue is shut down\nc0: queue is shut down\n");
    cr_expect_eq(m->a[0]->seen, CO_EQSHUTDOWN);
    cr_expect_eq(m->a[1]->seen, CO_EQSHUTDOWN);
    rt_free_loop(loop);
}

Test(queue, shutdown_wakes_waiting_putters_with_an_error)
{
    static const qstep steps[] = {{10, do_shutdown, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    qmain *m = new_qmain(loop, 1, steps);
    add_actor(loop, m, producer_fn, 0, 3, 0);
    run_qmain(loop, m);
    cr_expect_str_eq(rt.log, "p0 put 0 at 0\np0: queue is shut down\n");
    cr_expect_eq(co_queue_size(&m->q), 1, "the item put before stays for getters");
    rt_free_loop(loop);
}

/* ------------------------------------------------ cancelled waiters */

static void do_cancel(qmain *m, int arg)
{
    cr_expect_eq(co_cancel(&m->a[arg]->gen), 1);
}

static void do_put(qmain *m, int arg)
{
    item it = make_item(arg);
    cr_expect_eq(co_queue_try_put(&m->q, &it), 0);
}

static void do_get(qmain *m, int arg)
{
    item it;
    cr_expect_eq(co_queue_try_get(&m->q, &it), 0);
    cr_expect_eq(it.id, arg);
}

Test(queue, a_cancelled_getter_leaves_the_others_and_the_items)
{
    static const qstep steps[] = {{10, do_cancel, 0}, {10, do_put, 7}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    qmain *m = new_qmain(loop, 3, steps);
    add_actor(loop, m, consumer_fn, 0, 1, 0);
    add_actor(loop, m, consumer_fn, 0, 1, 0);
    run_qmain(loop, m);
    cr_expect_str_eq(rt.log, "c0: task cancelled\nc1 got 7 at 20\n");
    rt_free_loop(loop);
}

Test(queue, an_item_for_a_getter_cancelled_before_it_ran_goes_to_the_next)
{
    static const qstep steps[] = {{10, do_put, 7}, {-1, do_cancel, 0}, {0, NULL, 0}};
    co_loop *loop = rt_loop();
    qmain *m = new_qmain(loop, 3, steps);
    add_actor(loop, m, consumer_fn, 0, 1, 0);
    add_actor(loop, m, consumer_fn, 0, 1, 0);
    run_qmain(loop, m);
    cr_expect_str_eq(rt.log, "c0: task cancelled\nc1 got 7 at 10\n");
    cr_expect_eq(co_queue_size(&m->q), 0, "taken once, not lost, not twice");
    rt_free_loop(loop);
}

Test(queue, room_for_a_putter_cancelled_before_it_ran_goes_to_the_next)
{
    static const qstep steps[] = {{10, do_get, 1}, {-1, do_cancel, 1}, {10, do_get, 3},
                                  {0, NULL, 0}};
    co_loop *loop = rt_loop();
    qmain *m = new_qmain(loop, 1, steps);
    add_actor(loop, m, producer_fn, 1, 1, 0); /* fills the queue */
    add_actor(loop, m, producer_fn, 2, 1, 0); /* waits; cancelled once woken */
    add_actor(loop, m, producer_fn, 3, 1, 0); /* waits; gets the room */
    run_qmain(loop, m);
    cr_expect_str_eq(rt.log, "p0 put 1 at 0\np1: task cancelled\np2 put 3 at 10\n");
    cr_expect_eq(co_queue_size(&m->q), 0);
    rt_free_loop(loop);
}
