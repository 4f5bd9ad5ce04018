/*
 * Errors thrown in, close() and the cleanup section, checked against Python's
 * throw(), close(), GeneratorExit and try/finally: where a thrown error is
 * raised, who may catch it, what close() reports, and that the cleanup
 * section runs exactly once whichever way the body ends.
 *
 * The cases are a table.  Each row names the Python behaviour it checks,
 * picks one of the five bodies below and a mode, and lists operations
 * (next, send, throw, close, or run to the end) with the code each must
 * return and what must hold right after it, then what must hold at the end:
 * the frame's counters, state and outcome.  Every row is its own test.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include <corio/gen.h>

#define E_THROWN (-5)
#define E_OTHER (-77)

/* One frame for every body; the counters let a row see what ran. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    int mode;
    int entered;      /* times the body started                    */
    int resumed;      /* times the first yield went on normally    */
    int caught;       /* error a _CATCH yield caught               */
    int cleanups;     /* times the cleanup section ran             */
    int cleanup_saw;  /* CO_THROWN inside the cleanup section      */
    int cleanup_tail; /* times the cleanup section ran to its end  */
    int cleanup_sent; /* CO_SENT at a yield in the cleanup section */
    int ret;
} probe;

/* ----------------------------------------------------------------- bodies */

/* Yields 1 and 2, catches nothing. */
static int plain_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    self->entered++;
    CO_YIELD(self, 1);
    self->resumed++;
    CO_YIELD(self, 2);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

enum { AFTER_CATCH_YIELD, AFTER_CATCH_RETURN, AFTER_CATCH_RAISE };

/* Catches an error at its first yield, then does what `mode` says. */
static int catcher_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    self->entered++;
    CO_YIELD_CATCH(self, 1);
    self->caught = CO_THROWN(self);
    if (self->caught == 0)
        self->resumed++;
    else if (self->mode == AFTER_CATCH_RETURN)
        CO_RETURN(self, -self->caught);
    else if (self->mode == AFTER_CATCH_RAISE)
        CO_RAISE(self, E_OTHER);
    CO_YIELD(self, 2);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* A cleanup section that yields 2 (and reads a send there), then runs on to
   its end. */
static int yields_in_cleanup_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
        CO_YIELD(self, 2);
        self->cleanup_sent = CO_SENT(self);
        if (CO_SENT(self))
            self->ret = self->in;
        self->cleanup_tail++;
    }
    CO_END(self);
}

enum { END_FALL_OFF, END_RETURN, END_RAISE };

/* After one yield, ends the way `mode` says. */
static int ender_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    if (self->mode == END_RETURN)
        CO_RETURN(self, 6);
    if (self->mode == END_RAISE)
        CO_RAISE(self, E_OTHER);
    self->resumed++;
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

enum { CLEANUP_RETURNS, CLEANUP_RAISES };

/* A cleanup section that returns or raises half-way (`mode`). */
static int leaving_cleanup_fn(co_gen *g)
{
    probe *self = (probe *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        self->cleanups++;
        self->cleanup_saw = CO_THROWN(self);
        if (self->mode == CLEANUP_RETURNS)
            CO_RETURN(self, 9);
        CO_RAISE(self, E_OTHER);
    }
    CO_END(self);
}

/* ------------------------------------------------------------------ table */

enum op { END, NEXT, SEND, THROW, CLOSE, RUN /* next until it stops yielding */ };
enum field { NONE, OUT, STATE, RESULT, ENTERED, RESUMED, CAUGHT, CLEANUPS, SAW, TAIL, SENT, RET };

struct check {
    enum field field;
    int value;
};

struct step {
    enum op op;
    int arg; /* the value sent or the error thrown */
    int rc;  /* what the call must return */
    struct check after[4];
};

struct row {
    const char *python; /* the behaviour, as Python has it */
    co_body body;
    int mode;
    struct step steps[5];
    struct check end[6];
};

#define DO(op, arg, rc) {op, arg, rc, {{NONE, 0}}}
#define DO_AT(op, arg, rc, ...) {op, arg, rc, {__VA_ARGS__}}

static const struct row rows[] = {
    /* throw() */
    {"throw() into a just-created generator raises without running it", plain_fn, 0,
     {DO_AT(THROW, E_THROWN, E_THROWN, {STATE, CO_CLOSED}), DO(NEXT, 0, CO_EEXHAUSTED)},
     {{ENTERED, 0}, {CLEANUPS, 0}, {RESULT, E_THROWN}}},
    {"an uncaught throw() runs the cleanup and finishes with the error", plain_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(THROW, E_THROWN, E_THROWN, {STATE, CO_CLOSED}),
      DO(NEXT, 0, CO_EEXHAUSTED)},
     {{RESUMED, 0}, {CLEANUPS, 1}, {SAW, E_THROWN}, {RESULT, E_THROWN}}},
    {"throw() into an exhausted generator raises that exception", plain_fn, 0,
     {DO(RUN, 0, CO_RETURNED), DO(THROW, E_THROWN, E_THROWN),
      DO_AT(THROW, E_OTHER, E_OTHER, {STATE, CO_CLOSED})},
     {{CLEANUPS, 1}, {RESULT, 0}}},
    {"throw() into a generator a throw finished raises the new one", plain_fn, 0,
     {DO(THROW, E_THROWN, E_THROWN), DO(THROW, E_OTHER, E_OTHER)},
     {{RESULT, E_THROWN}, {ENTERED, 0}}},
    {"throw(GeneratorExit) that is not caught propagates out of throw()", plain_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(THROW, CO_EXIT, CO_EXIT, {STATE, CO_CLOSED})},
     {{CLEANUPS, 1}, {SAW, CO_EXIT}}},
    {"caught at the yield, then it yields again", catcher_fn, AFTER_CATCH_YIELD,
     {DO(NEXT, 0, CO_YIELDED),
      DO_AT(THROW, E_THROWN, CO_YIELDED, {OUT, 2}, {STATE, CO_SUSPENDED}, {CLEANUPS, 0}),
      DO(NEXT, 0, CO_RETURNED)},
     {{CAUGHT, E_THROWN}, {CLEANUPS, 1}, {SAW, 0}, {RESULT, 0}}},
    {"caught at the yield, then it returns", catcher_fn, AFTER_CATCH_RETURN,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(THROW, E_THROWN, CO_RETURNED, {STATE, CO_CLOSED})},
     {{RET, -E_THROWN}, {CLEANUPS, 1}, {RESULT, 0}}},
    {"caught, then another error raised", catcher_fn, AFTER_CATCH_RAISE,
     {DO(NEXT, 0, CO_YIELDED), DO(THROW, E_THROWN, E_OTHER)},
     {{CLEANUPS, 1}, {SAW, E_OTHER}, {RESULT, E_OTHER}}},
    {"a catching yield resumed by a send sees no error", catcher_fn, AFTER_CATCH_YIELD,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(SEND, 3, CO_YIELDED, {OUT, 2})},
     {{CAUGHT, 0}, {RESUMED, 1}}},
    /* close() */
    {"close() of a just-created generator runs nothing", plain_fn, 0,
     {DO_AT(CLOSE, 0, 0, {STATE, CO_CLOSED}), DO(NEXT, 0, CO_EEXHAUSTED)},
     {{ENTERED, 0}, {CLEANUPS, 0}, {RESULT, CO_EXIT}}},
    {"close() of a suspended generator runs its finally once", plain_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(CLOSE, 0, 0, {STATE, CO_CLOSED}), DO(CLOSE, 0, 0),
      DO(NEXT, 0, CO_EEXHAUSTED)},
     {{CLEANUPS, 1}, {SAW, CO_EXIT}, {RESUMED, 0}, {RESULT, CO_EXIT}}},
    {"close() of a finished generator does nothing", plain_fn, 0,
     {DO(RUN, 0, CO_RETURNED), DO(CLOSE, 0, 0), DO(CLOSE, 0, 0)},
     {{CLEANUPS, 1}, {RESULT, 0}}},
    {"GeneratorExit caught and a return: a clean close", catcher_fn, AFTER_CATCH_RETURN,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(CLOSE, 0, 0, {STATE, CO_CLOSED})},
     {{CAUGHT, CO_EXIT}, {RET, -CO_EXIT}, {CLEANUPS, 1}}},
    {"close() raises what the body raised while handling GeneratorExit", catcher_fn,
     AFTER_CATCH_RAISE,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(CLOSE, 0, E_OTHER, {STATE, CO_CLOSED})},
     {{CLEANUPS, 1}, {RESULT, E_OTHER}}},
    {"GeneratorExit caught and a yield: RuntimeError, it stays suspended; a second close ends it",
     catcher_fn, AFTER_CATCH_YIELD,
     {DO(NEXT, 0, CO_YIELDED),
      DO_AT(CLOSE, 0, CO_EIGNOREDCLOSE, {OUT, 2}, {STATE, CO_SUSPENDED}, {CLEANUPS, 0}),
      DO_AT(CLOSE, 0, 0, {STATE, CO_CLOSED})},
     {{CAUGHT, CO_EXIT}, {CLEANUPS, 1}}},
    {"an ignored close leaves it resumable", catcher_fn, AFTER_CATCH_YIELD,
     {DO(NEXT, 0, CO_YIELDED), DO(CLOSE, 0, CO_EIGNOREDCLOSE), DO(NEXT, 0, CO_RETURNED)},
     {{CLEANUPS, 1}, {SAW, 0}}},
    /* a cleanup section that yields */
    {"a finally that yields ignores close(); next() runs the rest, then raises GeneratorExit",
     yields_in_cleanup_fn, 0,
     {DO(NEXT, 0, CO_YIELDED),
      DO_AT(CLOSE, 0, CO_EIGNOREDCLOSE, {OUT, 2}, {STATE, CO_SUSPENDED}, {TAIL, 0}),
      DO_AT(NEXT, 0, CO_EXIT, {TAIL, 1}, {STATE, CO_CLOSED})},
     {{CLEANUPS, 1}}},
    {"throw() gives the finally's yield; next() runs the rest, then re-raises",
     yields_in_cleanup_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(THROW, E_THROWN, CO_YIELDED, {OUT, 2}, {SAW, E_THROWN}),
      DO_AT(NEXT, 0, E_THROWN, {TAIL, 1})},
     {{CLEANUPS, 1}, {RESULT, E_THROWN}}},
    {"after a normal end, the finally's yield is an ordinary one", yields_in_cleanup_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(NEXT, 0, CO_YIELDED, {OUT, 2}), DO(NEXT, 0, CO_RETURNED)},
     {{CLEANUPS, 1}, {TAIL, 1}, {RESULT, 0}}},
    {"GeneratorExit at a yield inside finally leaves the rest unrun, quietly",
     yields_in_cleanup_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO(NEXT, 0, CO_YIELDED), DO_AT(CLOSE, 0, 0, {STATE, CO_CLOSED})},
     {{CLEANUPS, 1}, {TAIL, 0}}},
    {"an exception thrown at a yield inside finally propagates", yields_in_cleanup_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO(NEXT, 0, CO_YIELDED), DO(THROW, E_OTHER, E_OTHER)},
     {{TAIL, 0}, {RESULT, E_OTHER}}},
    {"x = yield 2 inside finally receives what send() passes", yields_in_cleanup_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO(NEXT, 0, CO_YIELDED), DO(SEND, 42, CO_RETURNED)},
     {{SENT, 1}, {RET, 42}}},
    {"... also while an error unwinds, which is raised again after", yields_in_cleanup_fn, 0,
     {DO(NEXT, 0, CO_YIELDED), DO(THROW, E_THROWN, CO_YIELDED), DO(SEND, 42, E_THROWN)},
     {{SENT, 1}, {RET, 42}}},
    /* the cleanup section runs once, whichever way the body ends */
    {"finally runs once on falling off the end", ender_fn, END_FALL_OFF,
     {DO(NEXT, 0, CO_YIELDED), DO(NEXT, 0, CO_RETURNED)},
     {{RESUMED, 1}, {CLEANUPS, 1}, {SAW, 0}}},
    {"finally runs once on return", ender_fn, END_RETURN,
     {DO(NEXT, 0, CO_YIELDED), DO(NEXT, 0, CO_RETURNED)},
     {{RET, 6}, {RESUMED, 0}, {CLEANUPS, 1}, {SAW, 0}}},
    {"finally runs once on raise", ender_fn, END_RAISE,
     {DO(NEXT, 0, CO_YIELDED), DO(NEXT, 0, E_OTHER),
      DO_AT(NEXT, 0, CO_EEXHAUSTED, {STATE, CO_CLOSED})},
     {{RESUMED, 0}, {CLEANUPS, 1}, {SAW, E_OTHER}, {RESULT, E_OTHER}}},
    {"finally runs once on an uncaught error", ender_fn, END_FALL_OFF,
     {DO(NEXT, 0, CO_YIELDED), DO(THROW, E_THROWN, E_THROWN)},
     {{CLEANUPS, 1}, {SAW, E_THROWN}}},
    {"finally runs once on close()", ender_fn, END_FALL_OFF,
     {DO(NEXT, 0, CO_YIELDED), DO(CLOSE, 0, 0)},
     {{CLEANUPS, 1}, {SAW, CO_EXIT}}},
    /* a cleanup section that returns or raises */
    {"return in finally swallows the exception: StopIteration(9)", leaving_cleanup_fn,
     CLEANUP_RETURNS,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(THROW, E_THROWN, CO_RETURNED, {STATE, CO_CLOSED})},
     {{RET, 9}, {CLEANUPS, 1}, {SAW, E_THROWN}, {RESULT, 0}}},
    {"return in finally after a normal end", leaving_cleanup_fn, CLEANUP_RETURNS,
     {DO(NEXT, 0, CO_YIELDED), DO(NEXT, 0, CO_RETURNED)},
     {{RET, 9}, {CLEANUPS, 1}}},
    {"return in finally during close()", leaving_cleanup_fn, CLEANUP_RETURNS,
     {DO(NEXT, 0, CO_YIELDED), DO(CLOSE, 0, 0)},
     {{RET, 9}, {CLEANUPS, 1}, {SAW, CO_EXIT}}},
    {"an exception raised in finally replaces the one in flight", leaving_cleanup_fn,
     CLEANUP_RAISES,
     {DO(NEXT, 0, CO_YIELDED), DO(THROW, E_THROWN, E_OTHER)},
     {{CLEANUPS, 1}, {RESULT, E_OTHER}}},
    {"an exception raised in finally during close() is what close() raises", leaving_cleanup_fn,
     CLEANUP_RAISES,
     {DO(NEXT, 0, CO_YIELDED), DO_AT(CLOSE, 0, E_OTHER, {STATE, CO_CLOSED})},
     {{CLEANUPS, 1}}},
};

/* ----------------------------------------------------------------- runner */

static int field_of(const probe *p, enum field f)
{
    switch (f) {
    case OUT: return p->out;
    case STATE: return (int)co_state(&p->gen);
    case RESULT: return co_result(&p->gen);
    case ENTERED: return p->entered;
    case RESUMED: return p->resumed;
    case CAUGHT: return p->caught;
    case CLEANUPS: return p->cleanups;
    case SAW: return p->cleanup_saw;
    case TAIL: return p->cleanup_tail;
    case SENT: return p->cleanup_sent;
    case RET: return p->ret;
    case NONE: break;
    }
    return 0;
}

static const char *const field_names[] = {"-", "out", "state", "co_result", "entered", "resumed",
                                          "caught", "cleanups", "cleanup saw", "cleanup tail",
                                          "cleanup sent", "ret"};

static void expect(const probe *p, const struct check *c, size_t n, const char *when,
                   const struct row *r)
{
    size_t i;
    for (i = 0; i < n && c[i].field != NONE; i++)
        cr_expect_eq(field_of(p, c[i].field), c[i].value, "%s: %s: %s is %d, %d expected",
                     r->python, when, field_names[c[i].field], field_of(p, c[i].field),
                     c[i].value);
}

static int perform(probe *p, const struct step *s)
{
    int rc;
    switch (s->op) {
    case NEXT: return co_next(&p->gen);
    case SEND: return CO_SEND(p, s->arg);
    case THROW: return co_throw(&p->gen, s->arg);
    case CLOSE: return co_close(&p->gen);
    case RUN:
        while ((rc = co_next(&p->gen)) == CO_YIELDED)
            ;
        return rc;
    case END: break;
    }
    return 0;
}

#define ROWS (sizeof rows / sizeof rows[0])

/* Criterion hands each test a copy of its parameter, in another process (the
   table's pointers would not survive the trip): the parameter is the row's
   index. */
ParameterizedTestParameters(throw_close, as_python_does)
{
    static size_t index[ROWS];
    size_t i;
    for (i = 0; i < ROWS; i++)
        index[i] = i;
    return cr_make_param_array(size_t, index, ROWS);
}

ParameterizedTest(size_t *i, throw_close, as_python_does)
{
    static const char *const ops[] = {"end", "next", "send", "throw", "close", "run"};
    const struct row *r = &rows[*i];
    probe p;
    size_t k;
    memset(&p, 0, sizeof p);
    p.mode = r->mode;
    co_init(&p.gen, r->body);
    for (k = 0; k < sizeof r->steps / sizeof r->steps[0] && r->steps[k].op != END; k++) {
        const struct step *s = &r->steps[k];
        char when[32];
        int rc = perform(&p, s);
        snprintf(when, sizeof when, "step %zu (%s)", k + 1, ops[s->op]);
        cr_assert_eq(rc, s->rc, "%s: %s returned %d (%s), %d expected", r->python, when, rc,
                     co_gen_strerror(rc), s->rc);
        expect(&p, s->after, sizeof s->after / sizeof s->after[0], when, r);
    }
    expect(&p, r->end, sizeof r->end / sizeof r->end[0], "at the end", r);
}

/* The table's own check: a runner that compared nothing would pass. */
Test(throw_close, every_row_checks_something)
{
    size_t i;
    for (i = 0; i < ROWS; i++) {
        cr_expect_neq(rows[i].steps[0].op, END, "%s: no steps", rows[i].python);
        cr_expect_neq(rows[i].end[0].field, NONE, "%s: nothing checked at the end",
                      rows[i].python);
    }
    cr_expect_eq(ROWS, 33);
}
