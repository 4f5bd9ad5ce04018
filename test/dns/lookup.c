/*
 * lookup.c -- CO_GETADDRINFO: numeric hosts answered at once, names from
 * the test's hosts file on the worker pool and on the loop, the EAI codes,
 * a cancelled lookup whose worker is still inside the resolver, a loop
 * that keeps ticking while a lookup is slow, and out-of-memory.
 */
#include "hosts.h"
#include "testloop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static void init(void)
{
    rt_reset();
    atomic_store(&hosts_live, 0);
    atomic_store(&hosts_entered, 0);
    atomic_store(&hosts_left, 0);
    hosts_write("# the test's names\n"
                "::1        both.test\n"
                "127.0.0.1  both.test v4only.test\n"
                "127.0.0.2  both.test Many.Test\n"
                "127.0.0.3  many.test\n"
                "127.0.0.4  many.test\n");
}

static void fini(void) { hosts_done(); }

TestSuite(lookup, .init = init, .fini = fini, .timeout = 30);

typedef struct resolve {
    co_gen gen;
    const char *host;
    int port, family;
    size_t cap;
    co_lookup lk;
    co_addr addrs[8];
    bool finished;
} resolve;

static int resolve_fn(co_gen *g)
{
    resolve *self = (resolve *)g;
    CO_BEGIN(self);
    CO_GETADDRINFO(self, lk, self->host, self->port, self->family, self->addrs, self->cap);
    self->finished = true;
    CO_END(self);
}

/* Looks host up in a task of a fresh loop; the loop is freed (and every
 * byte checked) before returning a copy of the frame. */
static resolve run(const char *host, int port, int family, size_t cap)
{
    co_loop *loop = rt_loop();
    resolve *r = CO_NEW(loop, resolve, resolve_fn), out;
    cr_assert_not_null(r);
    r->host = host;
    r->port = port;
    r->family = family;
    r->cap = cap;
    cr_assert_eq(co_run(loop, &r->gen), 0);
    out = *r;
    rt_free_loop(loop);
    cr_assert_eq(atomic_load(&hosts_live), 0, "every answer freed");
    return out;
}

static void assert_addr(const co_addr *a, const char *text, int port)
{
    char buf[INET6_ADDRSTRLEN];
    const void *bin = a->u.sa.sa_family == AF_INET ? (const void *)&a->u.in4.sin_addr
                                                   : (const void *)&a->u.in6.sin6_addr;
    cr_assert_not_null(inet_ntop(a->u.sa.sa_family, bin, buf, sizeof buf));
    cr_assert_str_eq(buf, text);
    cr_assert_eq(co_addr_port(a), port);
}

Test(lookup, numeric_hosts_need_no_resolver)
{
    resolve r;
    hosts_use(false);
    r = run("127.0.0.9", 80, AF_UNSPEC, 8);
    cr_assert_eq(r.lk.result, 1);
    assert_addr(&r.addrs[0], "127.0.0.9", 80);
    r = run("::1", 443, AF_UNSPEC, 8);
    cr_assert_eq(r.lk.result, 1);
    assert_addr(&r.addrs[0], "::1", 443);
    r = run(NULL, 7, AF_INET, 8);
    cr_assert_eq(r.lk.result, 1);
    assert_addr(&r.addrs[0], "127.0.0.1", 7);
    cr_assert_eq(atomic_load(&hosts_entered), 0, "never asked the resolver");
}

Test(lookup, a_name_on_the_pool_in_file_order)
{
    resolve r;
    hosts_use(false);
    r = run("both.test", 8080, AF_UNSPEC, 8);
    cr_assert_eq(r.lk.result, 3, "%s", co_strerror(r.lk.result));
    cr_assert_eq(r.lk.found, 3);
    assert_addr(&r.addrs[0], "::1", 8080);
    assert_addr(&r.addrs[1], "127.0.0.1", 8080);
    assert_addr(&r.addrs[2], "127.0.0.2", 8080);
    cr_assert_eq(atomic_load(&hosts_entered), 1);
}

Test(lookup, on_the_loop_family_filter_and_case)
{
    resolve r;
    hosts_use(true);
    r = run("MANY.test", 1, AF_INET, 8);
    cr_assert_eq(r.lk.result, 3);
    assert_addr(&r.addrs[0], "127.0.0.2", 1);
    assert_addr(&r.addrs[2], "127.0.0.4", 1);
    r = run("both.test", 2, AF_INET6, 8);
    cr_assert_eq(r.lk.result, 1);
    assert_addr(&r.addrs[0], "::1", 2);
}

Test(lookup, more_answers_than_room)
{
    resolve r;
    hosts_use(false);
    r = run("many.test", 9, AF_UNSPEC, 2);
    cr_assert_eq(r.lk.result, 2);
    cr_assert_eq(r.lk.found, 3, "the count says some were cut");
    assert_addr(&r.addrs[1], "127.0.0.3", 9);
}

Test(lookup, eai_errors_are_codes_with_text)
{
    resolve r;
    hosts_use(false);
    r = run("nowhere.test", 80, AF_UNSPEC, 8);
    cr_assert_eq(r.lk.result, CO_EAI_NONAME);
    cr_assert_str_eq(co_strerror(CO_EAI_NONAME), "name or service not known");
    r = run("v4only.test", 80, AF_INET6, 8);
    cr_assert_eq(r.lk.result, CO_EAI_NODATA);
    cr_assert(strstr(co_strerror(CO_EAI_NODATA), "no address") != NULL);
    r = run("both.test", 80, AF_UNIX, 8);
    cr_assert_eq(r.lk.result, CO_EAI_FAMILY);
    r = run("both.test", 65536, AF_UNSPEC, 8);
    cr_assert_eq(r.lk.result, -EINVAL);
    r = run("both.test", 80, AF_UNSPEC, 0);
    cr_assert_eq(r.lk.result, -EINVAL);
    for (int c = CO_EAI_FAMILY; c <= CO_EAI_NONAME; c++)
        cr_assert_str_neq(co_strerror(c), "unknown error");
}

Test(lookup, the_system_resolver_knows_localhost)
{
    resolve r = run("localhost", 5, AF_INET, 8);
    cr_assert_geq(r.lk.result, 1, "%s", co_strerror(r.lk.result));
    cr_assert_eq(r.addrs[0].u.sa.sa_family, AF_INET);
    cr_assert_eq(co_addr_port(&r.addrs[0]), 5);
}

/* ------------------------------------------------- cancel, slow, OOM */

typedef struct canceller {
    co_gen gen;
    resolve *victim;
    int64_t cancelled_at;
} canceller;

/* Waits (in fake time) until the worker is inside the resolver, then
 * cancels the lookup's task, and only then lets the resolver answer. */
static int canceller_fn(co_gen *g)
{
    canceller *self = (canceller *)g;
    CO_BEGIN(self);
    while (atomic_load(&hosts_entered) == 0)
        CO_SLEEP(self, 1);
    co_cancel(&self->victim->gen);
    CO_SLEEP(self, 0);
    cr_assert(co_done(&self->victim->gen), "cancelled at once, the worker still inside");
    cr_assert_eq(co_task_result(&self->victim->gen), CO_ECANCELLED);
    cr_assert_eq(atomic_load(&hosts_left), 0);
    hosts_gate_open();
    CO_END(self);
}

typedef struct drain {
    co_gen gen;
    canceller *c;
} drain;

/* main: runs the canceller, then waits (fake time) for the answer to land. */
static int drain_fn(co_gen *g)
{
    drain *self = (drain *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK(self, &self->c->gen);
    while (atomic_load(&hosts_left) == 0 || atomic_load(&hosts_live) != 0)
        CO_SLEEP(self, 1);
    CO_END(self);
}

Test(lookup, cancelled_while_the_worker_resolves)
{
    co_loop *loop;
    resolve *r;
    canceller *c;
    drain *d;
    hosts_use(false);
    hosts_gate_close();
    loop = rt_loop();
    r = CO_NEW(loop, resolve, resolve_fn);
    c = CO_NEW(loop, canceller, canceller_fn);
    d = CO_NEW(loop, drain, drain_fn);
    cr_assert(r && c && d);
    r->host = "both.test";
    r->port = 80;
    r->cap = 8;
    c->victim = r;
    d->c = c;
    rt_spawn(&r->gen);
    rt_spawn(&c->gen);
    cr_assert_eq(co_run(loop, &d->gen), 0);
    cr_assert_not(r->finished);
    cr_assert_eq(r->lk.result, CO_ECANCELLED, "the frame was not written after the cancel");
    rt_free_loop(loop);
    cr_assert_eq(atomic_load(&hosts_live), 0, "the late answer was freed");
}

typedef struct ticker {
    co_gen gen;
    resolve *r;
    int ticks, at_answer;
} ticker;

/* Ticks every ms; opens the resolver's gate at tick 10. */
static int ticker_fn(co_gen *g)
{
    ticker *self = (ticker *)g;
    CO_BEGIN(self);
    while (!self->r->finished) {
        CO_SLEEP(self, 1);
        if (++self->ticks == 10)
            hosts_gate_open();
    }
    self->at_answer = self->ticks;
    CO_END(self);
}

Test(lookup, the_loop_keeps_ticking_while_a_lookup_is_slow)
{
    co_loop *loop;
    resolve *r;
    ticker *t;
    hosts_use(false);
    hosts_gate_close();
    loop = rt_loop();
    r = CO_NEW(loop, resolve, resolve_fn);
    t = CO_NEW(loop, ticker, ticker_fn);
    cr_assert(r && t);
    r->host = "many.test";
    r->port = 1;
    r->cap = 8;
    t->r = r;
    rt_spawn(&r->gen);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(r->lk.result, 3);
    cr_assert_geq(t->at_answer, 10, "the answer came only after 10 ticks of the loop");
    rt_free_loop(loop);
}

typedef struct starved {
    co_gen gen;
    co_lookup lk;
    co_addr addrs[2];
} starved;

static int starved_fn(co_gen *g)
{
    starved *self = (starved *)g;
    CO_BEGIN(self);
    rt.failing = true;
    CO_GETADDRINFO(self, lk, "both.test", 1, AF_UNSPEC, self->addrs, 2);
    rt.failing = false;
    CO_END(self);
}

Test(lookup, out_of_memory_is_a_clear_result)
{
    co_loop *loop;
    starved *s;
    hosts_use(false);
    loop = rt_loop();
    s = CO_NEW(loop, starved, starved_fn);
    cr_assert_not_null(s);
    cr_assert_eq(co_run(loop, &s->gen), 0);
    cr_assert_eq(s->lk.result, CO_ENOMEM);
    cr_assert_eq(atomic_load(&hosts_entered), 0);
    rt_free_loop(loop);
}

typedef struct outside {
    co_gen gen;
    co_lookup lk;
    co_addr addrs[1];
} outside;

static int outside_fn(co_gen *g)
{
    outside *self = (outside *)g;
    CO_BEGIN(self);
    CO_GETADDRINFO(self, lk, "both.test", 1, AF_UNSPEC, self->addrs, 1);
    CO_END(self);
}

Test(lookup, outside_a_task_is_raised)
{
    outside o;
    co_init(&o.gen, outside_fn);
    cr_assert_eq(co_next(&o.gen), CO_ENOTASK);
}

/* ------------------------------------------ arguments read at the start */

static char shared_host[32]; /* a caller's buffer that changes after the start */

typedef struct overwriter {
    co_gen gen;
} overwriter;

static int overwriter_fn(co_gen *g)
{
    overwriter *self = (overwriter *)g;
    CO_BEGIN(self);
    while (atomic_load(&hosts_entered) == 0)
        CO_SLEEP(self, 1);
    strcpy(shared_host, "nowhere.test");
    hosts_gate_open();
    CO_END(self);
}

Test(lookup, the_host_name_is_copied_when_the_lookup_starts)
{
    co_loop *loop;
    resolve *r;
    overwriter *o;
    hosts_use(false);
    hosts_gate_close();
    strcpy(shared_host, "many.test");
    loop = rt_loop();
    r = CO_NEW(loop, resolve, resolve_fn);
    o = CO_NEW(loop, overwriter, overwriter_fn);
    cr_assert(r && o);
    r->host = shared_host;
    r->port = 1;
    r->cap = 8;
    rt_spawn(&o->gen);
    cr_assert_eq(co_run(loop, &r->gen), 0);
    cr_assert_eq(r->lk.result, 3, "the name as it was at the start: %s",
                 co_strerror(r->lk.result));
    rt_free_loop(loop);
}

/* The answers are stored after the task suspends (the lookup runs on the
 * pool): a C-stack array is refused with CO_ESTACKARG, even for a numeric
 * host answered at once, so the rule does not depend on the name.  The host
 * string is copied when the lookup starts: a C local is fine. */
typedef struct local_lookup {
    co_gen gen;
    bool stack_addrs;
    co_lookup lk;
    co_addr addrs[4];
} local_lookup;

static int local_lookup_fn(co_gen *g)
{
    local_lookup *self = (local_lookup *)g;
    CO_BEGIN(self);
    if (self->stack_addrs) {
        co_addr addrs[4];
        CO_GETADDRINFO(self, lk, "127.0.0.1", 80, AF_INET, addrs, 4);
    } else {
        char host[16] = "v4only.test";
        CO_GETADDRINFO(self, lk, host, 80, AF_INET, self->addrs, 4);
    }
    CO_END(self);
}

Test(lookup, a_c_stack_answer_array_is_refused_a_c_stack_host_is_fine)
{
    co_loop *loop = rt_loop();
    local_lookup *l = CO_NEW(loop, local_lookup, local_lookup_fn);
    hosts_use(false);
    l->stack_addrs = true;
    cr_expect_eq(co_run(loop, &l->gen), CO_ESTACKARG);
    rt_free_loop(loop);
    loop = rt_loop();
    hosts_use(false);
    l = CO_NEW(loop, local_lookup, local_lookup_fn);
    cr_assert_eq(co_run(loop, &l->gen), 0);
    cr_expect_eq(l->lk.result, 1);
    assert_addr(&l->addrs[0], "127.0.0.1", 80);
    rt_free_loop(loop);
}
