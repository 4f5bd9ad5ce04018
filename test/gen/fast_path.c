/*
 * The edges of co_next's fast paths.  A plain resume is taken on one compare
 * of the header's flags byte (suspended at a plain yield, nothing pending,
 * not delegating), and a delegating frame's resume goes straight to its
 * innermost frame when that one is just as clean.  These tests resume
 * frames that are almost clean -- after a send, a caught throw, a yield-from
 * that had no value, inside a cleanup section, with a header whose link bit
 * lies -- and check that each still gets what Python gives.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include <corio/gen.h>

#define BOOM (-77)

/* ------------------------------------------- what the last resume left set */

/* Yields forever, recording after each yield what the resume said. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    int resumes;
    bool sent;   /* CO_SENT after the last yield       */
    int thrown;  /* CO_THROWN after the last yield     */
} recorder;

static int recorder_fn(co_gen *g)
{
    recorder *self = (recorder *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_YIELD_CATCH(self, self->resumes);
        self->resumes++;
        self->sent = CO_SENT(self);
        self->thrown = CO_THROWN(self);
    }
    CO_END(self);
}

static void recorder_init(recorder *r)
{
    memset(r, 0, sizeof *r);
    CO_INIT(r, recorder_fn);
}

Test(fast_path, next_after_a_caught_throw_throws_nothing)
{
    recorder r;
    recorder_init(&r);
    cr_assert_eq(co_next(&r.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&r.gen, BOOM), CO_YIELDED);
    cr_assert_eq(r.thrown, BOOM);
    cr_assert_eq(co_next(&r.gen), CO_YIELDED);
    cr_assert_eq(r.thrown, 0, "the throw before was seen again");
    cr_assert_eq(co_next(&r.gen), CO_YIELDED);
    cr_assert_eq(r.thrown, 0);
    cr_assert_eq(r.resumes, 3);
}

Test(fast_path, next_after_send_after_next_is_not_a_send)
{
    recorder r;
    recorder_init(&r);
    co_next(&r.gen);
    co_next(&r.gen);
    cr_assert_eq(CO_SEND(&r, 5), CO_YIELDED);
    cr_assert(r.sent);
    cr_assert_eq(co_next(&r.gen), CO_YIELDED);
    cr_assert_not(r.sent);
    cr_assert_eq(r.out, 3);
}

/* ------------------------------------------- a yield-from that had no value */

typedef struct {
    co_gen gen;
    int out;
    int in;
} empty_kid;

static int empty_kid_fn(co_gen *g)
{
    empty_kid *self = (empty_kid *)g;
    CO_BEGIN(self);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    empty_kid kid;
    bool novalue[2];
} late_parent;

static int late_parent_fn(co_gen *g)
{
    late_parent *self = (late_parent *)g;
    CO_BEGIN(self);
    CO_YIELD_FROM(self, kid); /* already finished: no value */
    self->novalue[0] = CO_NO_VALUE(self);
    CO_YIELD(self, 1);
    self->novalue[1] = CO_NO_VALUE(self);
    CO_YIELD(self, 2);
    CO_END(self);
}

Test(fast_path, a_yield_from_without_value_does_not_stick)
{
    late_parent p;
    memset(&p, 0, sizeof p);
    CO_INIT(&p, late_parent_fn);
    CO_INIT(&p.kid, empty_kid_fn);
    cr_assert_eq(co_next(&p.kid.gen), CO_RETURNED);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert(p.novalue[0]);
    cr_assert_eq(co_next(&p.gen), CO_YIELDED);
    cr_assert_not(p.novalue[1], "CO_NO_VALUE outlived the resume after it");
    cr_assert_eq(p.out, 2);
}

/* ------------------------------------------------------ a cleanup section */

typedef struct {
    co_gen gen;
    int out;
    int in;
    int unwinding[2]; /* CO_THROWN in the cleanup section, before and after its yield */
} tidy;

static int tidy_fn(co_gen *g)
{
    tidy *self = (tidy *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        self->unwinding[0] = CO_THROWN(self);
        CO_YIELD(self, 2); /* a plain next resumes it: the error stays */
        self->unwinding[1] = CO_THROWN(self);
    }
    CO_END(self);
}

Test(fast_path, a_plain_resume_in_a_cleanup_section_keeps_the_error)
{
    tidy t;
    memset(&t, 0, sizeof t);
    CO_INIT(&t, tidy_fn);
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&t.gen, BOOM), CO_YIELDED);
    cr_assert_eq(t.out, 2);
    cr_assert_eq(t.unwinding[0], BOOM);
    cr_assert_eq(co_next(&t.gen), BOOM, "the error being unwound was lost");
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
    cr_assert_eq(co_result(&t.gen), BOOM);
}

/* ------------------------------------------------------------- delegation */

/* The innermost frame: yields 1, 2, 3 and records resumes and the tree's
 * state as seen from inside. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    co_gen *root;
    int step;
    bool sent;
    int rc_root_next;       /* co_next on the outermost frame, from inside */
    enum co_state root_was; /* its state then                              */
} leaf;

static int leaf_fn(co_gen *g)
{
    leaf *self = (leaf *)g;
    CO_BEGIN(self);
    for (self->step = 1; self->step <= 3; self->step++) {
        CO_YIELD(self, self->step);
        self->sent = CO_SENT(self);
        self->rc_root_next = co_next(self->root);
        self->root_was = co_state(self->root);
    }
    CO_END(self);
}

/* Delegates to the leaf by yield-from, or by await (no values pass). */
typedef struct {
    co_gen gen;
    int out;
    int in;
    bool await;
    int caught; /* thrown in and caught before the delegation */
    int after;  /* CO_THROWN after it                         */
    leaf kid;
} middle;

static int middle_fn(co_gen *g)
{
    middle *self = (middle *)g;
    CO_BEGIN(self);
    CO_YIELD_CATCH(self, 0);
    self->caught = CO_THROWN(self);
    if (self->await)
        CO_AWAIT_CATCH(self, kid);
    else
        CO_YIELD_FROM_CATCH(self, kid);
    self->after = CO_THROWN(self);
    CO_END(self);
}

static void middle_init(middle *m, bool await)
{
    memset(m, 0, sizeof *m);
    CO_INIT(m, middle_fn);
    CO_INIT(&m->kid, leaf_fn);
    m->await = await;
    m->kid.root = &m->gen;
}

Test(fast_path, a_delegating_frame_runs_as_running)
{
    middle m;
    middle_init(&m, false);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED); /* into the leaf */
    cr_assert_eq(m.out, 1);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(m.out, 2);
    cr_assert_eq(m.kid.rc_root_next, CO_ERUNNING);
    cr_assert_eq(m.kid.root_was, CO_RUNNING);
    cr_assert_eq(co_state(&m.gen), CO_SUSPENDED);
    cr_assert_eq(co_state(&m.kid.gen), CO_SUSPENDED);
}

Test(fast_path, a_throw_caught_before_delegating_does_not_slow_or_stick)
{
    middle m;
    middle_init(&m, false);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&m.gen, BOOM), CO_YIELDED); /* caught, then the leaf yields 1 */
    cr_assert_eq(m.caught, BOOM);
    cr_assert_eq(m.out, 1);
    cr_assert_eq(m.gen.flags, CO_SUSPENDED | CO__F_LINKED,
                 "a delegating frame kept what it was last resumed with");
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(m.out, 3);
    cr_assert_eq(co_next(&m.gen), CO_RETURNED);
    cr_assert_eq(m.after, 0, "the child returned: nothing is thrown after the yield-from");
}

Test(fast_path, next_after_a_send_into_the_leaf_is_not_a_send)
{
    middle m;
    middle_init(&m, false);
    co_next(&m.gen);
    co_next(&m.gen);
    cr_assert_eq(CO_SEND(&m, 9), CO_YIELDED);
    cr_assert(m.kid.sent);
    cr_assert_eq(m.kid.in, 9);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_not(m.kid.sent, "the send before was seen again");
    cr_assert_eq(m.out, 3);
}

Test(fast_path, an_awaited_frame_passes_no_value_out)
{
    middle m;
    middle_init(&m, true);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(m.out, 0);
    m.out = -1;
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(m.kid.out, 2);
    cr_assert_eq(m.out, -1, "an await chain wrote into the outermost frame's out");
    cr_assert_eq(m.kid.rc_root_next, CO_ERUNNING);
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(co_next(&m.gen), CO_RETURNED);
    cr_assert_eq(m.after, 0);
}

Test(fast_path, a_throw_reaches_the_leaf_after_fast_resumes)
{
    middle m;
    middle_init(&m, false);
    co_next(&m.gen);
    co_next(&m.gen);
    co_next(&m.gen);
    cr_assert_eq(co_throw(&m.gen, BOOM), CO_RETURNED, "caught by the yield-from");
    cr_assert_eq(m.after, BOOM);
    cr_assert_eq(co_result(&m.kid.gen), BOOM);
}

/* --------------------------------------------------- a header that lies */

Test(fast_path, a_link_bit_without_a_link_is_a_bad_frame)
{
    recorder r;
    recorder_init(&r);
    r.gen.flags |= CO__F_LINKED;
    cr_assert_eq(co_next(&r.gen), CO_EBADFRAME);
    cr_assert_eq(r.resumes, 0);
}

Test(fast_path, a_link_without_its_bit_is_a_bad_frame)
{
    recorder r;
    recorder_init(&r);
    r.gen.top = 24;
    cr_assert_eq(co_next(&r.gen), CO_EBADFRAME);
    cr_assert_eq(CO_SEND(&r, 1), CO_EBADFRAME);
    cr_assert_eq(co_throw(&r.gen, BOOM), CO_EBADFRAME);
    cr_assert_eq(co_close(&r.gen), CO_EBADFRAME);
}
