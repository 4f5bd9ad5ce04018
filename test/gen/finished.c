/*
 * What a finished generator gives, checked against Python 3.11: PEP 479
 * ("exhausted" escaping a body becomes CO_ESTOPITERATION, Python's
 * RuntimeError("generator raised StopIteration")), the value of a `yield
 * from` whose child had already finished (Python's None: CO_NO_VALUE), and
 * a `yield from` of a finished child inside a cleanup section, which must
 * leave the error being unwound pending (it once erased it).
 */
#include <criterion/criterion.h>
#include <string.h>

#include <corio/gen.h>

#define E_RAISED (-5)
#define E_THROWN (-6)

/* The child: yields 1, returns 42. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    int ret;
} kid;

static int kid_fn(co_gen *g)
{
    kid *self = (kid *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_RETURN(self, 42);
    CO_END(self);
}

static void kid_init(kid *k)
{
    memset(k, 0, sizeof *k);
    co_init(&k->gen, kid_fn);
}

/* Runs k to its end, as Python's list(k). */
static void kid_exhaust(kid *k)
{
    while (co_next(&k->gen) == CO_YIELDED)
        ;
    cr_assert_eq(co_state(&k->gen), CO_CLOSED);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    kid child;
    int mode;        /* what the body does: see each body */
    int got;         /* the yield-from's value, or -1 for "no value" */
    int cleanup_saw; /* CO_THROWN at the start of the cleanup section */
    int cleanup_tail;
    int ret;
} host;

static void host_init(host *h, co_body fn, int mode)
{
    memset(h, 0, sizeof *h);
    h->mode = mode;
    kid_init(&h->child);
    co_init(&h->gen, fn);
}

/* ------------------------------------------- bug: yield-from in a cleanup */

/* try: yield 1; raise E (mode 1)  finally: yield from <finished child>
 * Python re-raises the error the finally section was unwinding. */
static int cleanup_delegates_fn(co_gen *g)
{
    host *self = (host *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    if (self->mode == 1)
        CO_RAISE(self, E_RAISED);
    CO_FINALLY(self)
    {
        self->cleanup_saw = CO_THROWN(self);
        CO_YIELD_FROM(self, child);
        self->got = CO_NO_VALUE(self) ? -1 : self->child.ret;
        self->cleanup_tail++;
    }
    CO_END(self);
}

Test(finished_child, in_a_cleanup_keeps_the_raised_error)
{
    host h;
    host_init(&h, cleanup_delegates_fn, 1);
    kid_exhaust(&h.child);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(co_next(&h.gen), E_RAISED, "the cleanup's yield-from erased the error");
    cr_assert_eq(h.cleanup_saw, E_RAISED);
    cr_assert_eq(h.cleanup_tail, 1);
    cr_assert_eq(h.got, -1);
    cr_assert_eq(co_result(&h.gen), E_RAISED);
}

Test(finished_child, in_a_cleanup_keeps_the_thrown_error)
{
    host h;
    host_init(&h, cleanup_delegates_fn, 0);
    kid_exhaust(&h.child);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&h.gen, E_THROWN), E_THROWN, "the cleanup's yield-from erased the error");
    cr_assert_eq(h.cleanup_saw, E_THROWN);
    cr_assert_eq(h.cleanup_tail, 1);
    cr_assert_eq(co_result(&h.gen), E_THROWN);
}

Test(finished_child, in_a_cleanup_keeps_the_close)
{
    host h;
    host_init(&h, cleanup_delegates_fn, 0);
    kid_exhaust(&h.child);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(co_close(&h.gen), 0);
    cr_assert_eq(h.cleanup_saw, CO_EXIT);
    cr_assert_eq(co_result(&h.gen), CO_EXIT);
}

Test(finished_child, in_a_cleanup_after_a_normal_end)
{
    host h;
    host_init(&h, cleanup_delegates_fn, 0);
    kid_exhaust(&h.child);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(co_next(&h.gen), CO_RETURNED);
    cr_assert_eq(h.cleanup_saw, 0);
    cr_assert_eq(co_result(&h.gen), 0);
}

/* A live child in the cleanup section: it runs, and the error still comes back. */
Test(finished_child, a_live_child_in_a_cleanup_keeps_the_error_too)
{
    host h;
    host_init(&h, cleanup_delegates_fn, 1);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED, "the child's yield");
    cr_assert_eq(h.out, 1);
    cr_assert_eq(co_next(&h.gen), E_RAISED);
    cr_assert_eq(h.got, 42);
}

/* --------------------------------------------- the finished child's value */

/* r = yield from child; yield r (or -1 when there is no value) */
static int reads_value_fn(co_gen *g)
{
    host *self = (host *)g;
    CO_BEGIN(self);
    CO_YIELD_FROM(self, child);
    CO_YIELD(self, CO_NO_VALUE(self) ? -1 : self->child.ret);
    CO_END(self);
}

Test(finished_child, gives_no_value)
{
    host h;
    host_init(&h, reads_value_fn, 0);
    kid_exhaust(&h.child);
    cr_assert_eq(h.child.ret, 42, "the stale value is there to be mistaken");
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(h.out, -1, "a finished child's stale ret was taken for its value");
}

Test(finished_child, a_live_child_gives_its_value)
{
    host h;
    host_init(&h, reads_value_fn, 0);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(h.out, 1);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(h.out, 42);
}

/* ------------------------------------------------------------------ PEP 479 */

/* mode 0: raise what next(child) returned once the child is exhausted;
 * mode 1: the same in the cleanup section; mode 2: yields, for throws. */
static int leaks_exhausted_fn(co_gen *g)
{
    host *self = (host *)g;
    CO_BEGIN(self);
    if (self->mode == 2)
        CO_YIELD(self, 7);
    if (self->mode == 0) {
        int rc;
        while ((rc = co_next(&self->child.gen)) == CO_YIELDED)
            ;
        rc = co_next(&self->child.gen); /* StopIteration, again */
        CO_RAISE(self, rc);
    }
    CO_FINALLY(self)
    {
        self->cleanup_saw = CO_THROWN(self);
        if (self->mode == 1)
            CO_RAISE(self, CO_EEXHAUSTED);
    }
    CO_END(self);
}

Test(pep479, exhausted_escaping_the_body_is_a_runtime_error)
{
    host h;
    host_init(&h, leaks_exhausted_fn, 0);
    cr_assert_eq(co_next(&h.gen), CO_ESTOPITERATION);
    cr_assert_eq(h.cleanup_saw, CO_EEXHAUSTED, "the cleanup sees the StopIteration itself");
    cr_assert_eq(co_result(&h.gen), CO_ESTOPITERATION);
    cr_assert_eq(co_next(&h.gen), CO_EEXHAUSTED);
    cr_assert_str_eq(co_gen_strerror(CO_ESTOPITERATION), "generator raised StopIteration (PEP 479)");
}

Test(pep479, exhausted_raised_by_the_cleanup)
{
    host h;
    host_init(&h, leaks_exhausted_fn, 1);
    cr_assert_eq(co_next(&h.gen), CO_ESTOPITERATION);
}

Test(pep479, exhausted_thrown_in_at_a_yield)
{
    host h;
    host_init(&h, leaks_exhausted_fn, 2);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&h.gen, CO_EEXHAUSTED), CO_ESTOPITERATION);
    cr_assert_eq(co_result(&h.gen), CO_ESTOPITERATION);
}

/* Python: g.throw(StopIteration) into a created generator: RuntimeError. */
Test(pep479, exhausted_thrown_into_a_created_generator)
{
    host h;
    host_init(&h, leaks_exhausted_fn, 2);
    cr_assert_eq(co_throw(&h.gen, CO_EEXHAUSTED), CO_ESTOPITERATION);
    cr_assert_eq(co_result(&h.gen), CO_ESTOPITERATION);
}

/* Python: into an exhausted one it is raised straight back, unconverted. */
Test(pep479, exhausted_thrown_into_a_finished_generator_comes_back)
{
    host h;
    host_init(&h, leaks_exhausted_fn, 2);
    cr_assert_eq(co_next(&h.gen), CO_YIELDED);
    cr_assert_eq(co_next(&h.gen), CO_RETURNED);
    cr_assert_eq(co_throw(&h.gen, CO_EEXHAUSTED), CO_EEXHAUSTED);
}

/* A child converts its own leak: the parent sees the RuntimeError. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    host inner;
    int ret;
} outer;

static int outer_fn(co_gen *g)
{
    outer *self = (outer *)g;
    CO_BEGIN(self);
    CO_YIELD_FROM(self, inner);
    CO_END(self);
}

Test(pep479, through_a_delegation)
{
    outer o;
    memset(&o, 0, sizeof o);
    host_init(&o.inner, leaks_exhausted_fn, 2);
    co_init(&o.gen, outer_fn);
    cr_assert_eq(co_next(&o.gen), CO_YIELDED);
    cr_assert_eq(o.out, 7);
    cr_assert_eq(co_throw(&o.gen, CO_EEXHAUSTED), CO_ESTOPITERATION);
    cr_assert_eq(co_result(&o.inner.gen), CO_ESTOPITERATION);
}
