/*
 * Looking at a generator from outside: co_state (Python's
 * inspect.getgeneratorstate), co_yieldfrom (gi_yieldfrom), co_line (the line
 * it is suspended at), the trace hook, and the size of the frame header.
 * This file defines CO_TRACE_HOOK, so every generator in it is traced.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The hook is called from gen.h's own functions, so it is declared first. */
struct co_gen;
static void trace_record(int event, const struct co_gen *g, const char *file, unsigned line);
#define CO_TRACE_HOOK(event, g, file, line) trace_record((event), (g), (file), (line))

#include <corio/gen.h>

/* --------------------------------------------------------------- the size */

/* The header is a few bytes: no pointer but the body, 16-bit links. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define GEN_SIZE_LIMIT 24
#else
#define GEN_SIZE_LIMIT 16
#endif
#if __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(co_gen) <= GEN_SIZE_LIMIT, "co_gen grew");
#else
typedef char gen_size_check[sizeof(co_gen) <= GEN_SIZE_LIMIT ? 1 : -1];
#endif

Test(inspect, the_header_is_small)
{
    cr_assert_leq(sizeof(co_gen), GEN_SIZE_LIMIT);
#if UINTPTR_MAX > 0xFFFFFFFFu
    cr_expect_eq(sizeof(co_gen), 24, "co_gen is %zu bytes, 24 expected", sizeof(co_gen));
#endif
}

/* ----------------------------------------------------------- the trace log */

typedef struct {
    int event;
    const co_gen *gen;
    const char *file;
    unsigned line;
} trace_entry;

static trace_entry trace_log[32];
static int trace_count;

static void trace_record(int event, const struct co_gen *g, const char *file, unsigned line)
{
    if (trace_count < (int)(sizeof trace_log / sizeof trace_log[0])) {
        trace_entry e;
        e.event = event;
        e.gen = g;
        e.file = file;
        e.line = line;
        trace_log[trace_count] = e;
    }
    trace_count++;
}

static void trace_reset(void)
{
    memset(trace_log, 0, sizeof trace_log);
    trace_count = 0;
}

/* --------------------------------------------------------------- a counter */

/* Yields twice, recording its own state while it runs and the line of each
   yield (taken on the yield's own line). */
typedef struct {
    co_gen gen;
    int out;
    int in;
    enum co_state state_inside;
    unsigned line[2];
    int caught;
} stepper;

static int stepper_fn(co_gen *g)
{
    stepper *self = (stepper *)g;
    CO_BEGIN(self);
    self->state_inside = co_state(&self->gen);
    self->line[0] = __LINE__; CO_YIELD(self, 1);
    self->line[1] = __LINE__; CO_YIELD_CATCH(self, 2);
    self->caught = CO_THROWN(self);
    CO_END(self);
}

static void stepper_init(stepper *s)
{
    memset(s, 0, sizeof *s);
    s->state_inside = CO_CLOSED;
    CO_INIT(s, stepper_fn);
}

Test(inspect, state_at_every_step)
{
    stepper s;
    stepper_init(&s);
    cr_assert_eq(co_state(&s.gen), CO_CREATED);
    cr_assert_eq(co_next(&s.gen), CO_YIELDED);
    cr_assert_eq(s.state_inside, CO_RUNNING);
    cr_assert_eq(co_state(&s.gen), CO_SUSPENDED);
    cr_assert_eq(co_next(&s.gen), CO_YIELDED);
    cr_assert_eq(co_state(&s.gen), CO_SUSPENDED);
    cr_assert_eq(co_next(&s.gen), CO_RETURNED);
    cr_assert_eq(co_state(&s.gen), CO_CLOSED);
    cr_assert_eq(co_next(&s.gen), CO_EEXHAUSTED);
    cr_assert_eq(co_state(&s.gen), CO_CLOSED);
}

Test(inspect, state_after_throw_and_close)
{
    stepper a, b, c;
    stepper_init(&a);
    cr_assert_eq(co_throw(&a.gen, -5), -5);
    cr_assert_eq(co_state(&a.gen), CO_CLOSED);

    stepper_init(&b);
    cr_assert_eq(co_close(&b.gen), 0);
    cr_assert_eq(co_state(&b.gen), CO_CLOSED);

    stepper_init(&c);
    co_next(&c.gen);
    cr_assert_eq(co_throw(&c.gen, -5), -5);
    cr_assert_eq(co_state(&c.gen), CO_CLOSED);
}

Test(inspect, line_of_each_suspension)
{
    stepper s;
    stepper_init(&s);
    cr_assert_eq(co_line(&s.gen), 0);
    co_next(&s.gen);
    cr_assert_neq(s.line[0], 0);
    cr_assert_eq(co_line(&s.gen), s.line[0]);
    co_next(&s.gen);
    cr_assert_eq(co_line(&s.gen), s.line[1]);
    cr_assert_eq(s.line[1], s.line[0] + 1);
}

/* ----------------------------------------------------- a three-level chain */

/* Frames the innermost body looks at while the whole chain runs. */
typedef struct {
    co_gen *frame[3];
    enum co_state state[3];
} chain_view;

static void chain_look(chain_view *v)
{
    int k;
    for (k = 0; k < 3; k++)
        v->state[k] = co_state(v->frame[k]);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    chain_view *seen_from_inner;
    unsigned line;
} inner_t;

static int inner_fn(co_gen *g)
{
    inner_t *self = (inner_t *)g;
    CO_BEGIN(self);
    chain_look(self->seen_from_inner);
    self->line = __LINE__; CO_YIELD(self, 1);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    inner_t inner;
    chain_view seen_from_middle;
    co_gen *yieldfrom_after;
    unsigned line, line_after;
} middle_t;

static int middle_fn(co_gen *g)
{
    middle_t *self = (middle_t *)g;
    CO_BEGIN(self);
    self->line = __LINE__; CO_YIELD_FROM(self, inner);
    chain_look(&self->seen_from_middle);
    self->yieldfrom_after = co_yieldfrom(&self->gen);
    self->line_after = __LINE__; CO_YIELD(self, 2);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    middle_t middle;
    chain_view seen_from_inner;
    unsigned line;
} outer_t;

static int outer_fn(co_gen *g)
{
    outer_t *self = (outer_t *)g;
    CO_BEGIN(self);
    memset(&self->middle, 0, sizeof self->middle);
    CO_INIT(&self->middle, middle_fn);
    CO_INIT(&self->middle.inner, inner_fn);
    self->middle.inner.seen_from_inner = &self->seen_from_inner;
    self->middle.seen_from_middle = self->seen_from_inner;
    self->line = __LINE__; CO_YIELD_FROM(self, middle);
    CO_YIELD(self, 3);
    CO_END(self);
}

static void outer_init(outer_t *o)
{
    memset(o, 0, sizeof *o);
    CO_INIT(o, outer_fn);
    o->seen_from_inner.frame[0] = &o->gen;
    o->seen_from_inner.frame[1] = &o->middle.gen;
    o->seen_from_inner.frame[2] = &o->middle.inner.gen;
}

static void expect_states(const outer_t *o, enum co_state outer, enum co_state middle,
                          enum co_state inner)
{
    cr_assert_eq(co_state(&o->gen), outer);
    cr_assert_eq(co_state(&o->middle.gen), middle);
    cr_assert_eq(co_state(&o->middle.inner.gen), inner);
}

Test(inspect, state_and_yieldfrom_along_a_chain)
{
    outer_t o;
    outer_init(&o);
    cr_assert_eq(co_state(&o.gen), CO_CREATED);
    cr_assert_null(co_yieldfrom(&o.gen));

    cr_assert_eq(co_next(&o.gen), CO_YIELDED);
    cr_assert_eq(o.out, 1);
    /* inside the innermost body, every level of the chain is running */
    cr_assert_eq(o.seen_from_inner.state[0], CO_RUNNING);
    cr_assert_eq(o.seen_from_inner.state[1], CO_RUNNING);
    cr_assert_eq(o.seen_from_inner.state[2], CO_RUNNING);
    expect_states(&o, CO_SUSPENDED, CO_SUSPENDED, CO_SUSPENDED);
    cr_assert_eq(co_yieldfrom(&o.gen), &o.middle.gen);
    cr_assert_eq(co_yieldfrom(&o.middle.gen), &o.middle.inner.gen);
    cr_assert_null(co_yieldfrom(&o.middle.inner.gen));

    cr_assert_eq(co_next(&o.gen), CO_YIELDED);
    cr_assert_eq(o.out, 2);
    /* inside the middle body, once its child finished */
    cr_assert_eq(o.middle.seen_from_middle.state[0], CO_RUNNING);
    cr_assert_eq(o.middle.seen_from_middle.state[1], CO_RUNNING);
    cr_assert_eq(o.middle.seen_from_middle.state[2], CO_CLOSED);
    cr_assert_null(o.middle.yieldfrom_after);
    expect_states(&o, CO_SUSPENDED, CO_SUSPENDED, CO_CLOSED);
    cr_assert_eq(co_yieldfrom(&o.gen), &o.middle.gen);
    cr_assert_null(co_yieldfrom(&o.middle.gen));

    cr_assert_eq(co_next(&o.gen), CO_YIELDED);
    cr_assert_eq(o.out, 3);
    expect_states(&o, CO_SUSPENDED, CO_CLOSED, CO_CLOSED);
    cr_assert_null(co_yieldfrom(&o.gen));

    cr_assert_eq(co_next(&o.gen), CO_RETURNED);
    expect_states(&o, CO_CLOSED, CO_CLOSED, CO_CLOSED);
    cr_assert_null(co_yieldfrom(&o.gen));
    cr_assert_null(co_yieldfrom(&o.middle.gen));
}

Test(inspect, yieldfrom_after_close)
{
    outer_t o;
    outer_init(&o);
    co_next(&o.gen);
    cr_assert_eq(co_close(&o.gen), 0);
    expect_states(&o, CO_CLOSED, CO_CLOSED, CO_CLOSED);
    cr_assert_null(co_yieldfrom(&o.gen));
    cr_assert_null(co_yieldfrom(&o.middle.gen));
}

/* Delegation allocates nothing: every frame of the chain is inside the
   outermost one. */
Test(inspect, a_chain_lives_inside_its_outermost_frame)
{
    outer_t o;
    const char *lo = (const char *)&o, *hi = lo + sizeof o;
    const char *mid, *in;
    outer_init(&o);
    co_next(&o.gen);
    mid = (const char *)co_yieldfrom(&o.gen);
    in = (const char *)co_yieldfrom(&o.middle.gen);
    cr_assert(mid > lo && mid + sizeof o.middle <= hi);
    cr_assert(in > mid && in + sizeof o.middle.inner <= mid + sizeof o.middle);
}

/* Python: gi_frame.f_lineno of each generator of a chain is the line of its
   own `yield from` or `yield`. */
Test(inspect, line_of_each_level_of_a_chain)
{
    outer_t o;
    outer_init(&o);
    co_next(&o.gen);
    cr_assert_eq(co_line(&o.gen), o.line);
    cr_assert_eq(co_line(&o.middle.gen), o.middle.line);
    cr_assert_eq(co_line(&o.middle.inner.gen), o.middle.inner.line);
    cr_assert_neq(o.line, o.middle.line);
    cr_assert_neq(o.middle.line, o.middle.inner.line);
}

/* ------------------------------------------------------------- the trace */

static void expect_entry(int k, int event, const co_gen *g, const char *file, unsigned line)
{
    const trace_entry *e = &trace_log[k];
    cr_assert_eq(e->event, event, "entry %d: event %d, wanted %d", k, e->event, event);
    cr_assert_eq(e->gen, g, "entry %d: another frame", k);
    if (file == NULL)
        cr_assert_null(e->file, "entry %d: a file where none was expected", k);
    else
        cr_assert_str_eq(e->file, file, "entry %d", k);
    cr_assert_eq(e->line, line, "entry %d: line %u, wanted %u", k, e->line, line);
}

Test(trace, every_event_of_a_short_life)
{
    stepper s;
    stepper_init(&s);
    trace_reset();
    co_next(&s.gen);             /* resume; yield at line[0]          */
    CO_SEND(&s, 4);              /* send; yield at line[1]            */
    co_throw(&s.gen, -5);        /* throw, caught; the body finishes  */
    co_next(&s.gen);             /* resume of a finished generator    */
    co_close(&s.gen);            /* close of a finished generator     */
    cr_assert_eq(trace_count, 8);
    expect_entry(0, CO_TRACE_RESUME, &s.gen, NULL, 0);
    expect_entry(1, CO_TRACE_YIELD, &s.gen, __FILE__, s.line[0]);
    expect_entry(2, CO_TRACE_SEND, &s.gen, NULL, s.line[0]);
    expect_entry(3, CO_TRACE_YIELD, &s.gen, __FILE__, s.line[1]);
    expect_entry(4, CO_TRACE_THROW, &s.gen, NULL, s.line[1]);
    expect_entry(5, CO_TRACE_FINISH, &s.gen, NULL, s.line[1]);
    expect_entry(6, CO_TRACE_RESUME, &s.gen, NULL, s.line[1]);
    expect_entry(7, CO_TRACE_CLOSE, &s.gen, NULL, s.line[1]);
    cr_assert_eq(s.caught, -5);
}

/* Yields come from the frame that yields; each level finishes on its own. */
Test(trace, a_chain_traces_each_frame)
{
    outer_t o;
    outer_init(&o);
    trace_reset();
    co_next(&o.gen);
    co_next(&o.gen);
    cr_assert_eq(trace_count, 5);
    expect_entry(0, CO_TRACE_RESUME, &o.gen, NULL, 0);
    expect_entry(1, CO_TRACE_YIELD, &o.middle.inner.gen, __FILE__, o.middle.inner.line);
    expect_entry(2, CO_TRACE_RESUME, &o.gen, NULL, o.line);
    expect_entry(3, CO_TRACE_FINISH, &o.middle.inner.gen, NULL, o.middle.inner.line);
    expect_entry(4, CO_TRACE_YIELD, &o.middle.gen, __FILE__, o.middle.line_after);
}

Test(trace, close_of_a_suspended_generator)
{
    stepper s;
    stepper_init(&s);
    co_next(&s.gen);
    trace_reset();
    cr_assert_eq(co_close(&s.gen), 0);
    cr_assert_eq(trace_count, 2);
    expect_entry(0, CO_TRACE_CLOSE, &s.gen, NULL, s.line[0]);
    expect_entry(1, CO_TRACE_FINISH, &s.gen, NULL, s.line[0]);
}

/* A frame finished without running (throw or close before its first step)
   is still reported as finishing. */
Test(trace, an_unstarted_generator_finishes_too)
{
    stepper a, b;
    stepper_init(&a);
    stepper_init(&b);
    trace_reset();
    cr_assert_eq(co_throw(&a.gen, -5), -5);
    cr_assert_eq(co_close(&b.gen), 0);
    cr_assert_eq(trace_count, 4);
    expect_entry(0, CO_TRACE_THROW, &a.gen, NULL, 0);
    expect_entry(1, CO_TRACE_FINISH, &a.gen, NULL, 0);
    expect_entry(2, CO_TRACE_CLOSE, &b.gen, NULL, 0);
    expect_entry(3, CO_TRACE_FINISH, &b.gen, NULL, 0);
}
