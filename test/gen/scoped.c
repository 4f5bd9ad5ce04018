/*
 * Scoped finalization (gcc and clang): a frame declared with CO_SCOPED is
 * closed when it leaves C scope, Python's `del g`.  Its cleanup runs by every
 * way out of the scope; what closing reports -- an error its cleanup raised,
 * an ignored close -- goes to the unraisable hook
 * and is never raised.  The hook here records its calls; scoped_print.c
 * checks the default one, which prints like Python's "Exception ignored in".
 */
#include <criterion/criterion.h>
#include <string.h>

struct co_gen;
struct co_scope;
static void on_unraisable(struct co_gen *g, int err, const struct co_scope *s);
#define CO_UNRAISABLE_HOOK(g, err, scope) on_unraisable((g), (err), (scope))

#include <corio/gen.h>

#define VALUE_ERROR (-22)

static struct {
    int calls;
    int err;
    char name[32];
    unsigned line;
    const co_gen *gen;
} seen;

static void on_unraisable(struct co_gen *g, int err, const struct co_scope *s)
{
    seen.calls++;
    seen.err = err;
    seen.gen = g;
    seen.line = s->line;
    strncpy(seen.name, s->name, sizeof seen.name - 1);
    cr_expect(strstr(s->file, "scoped.c") != NULL, "declared in %s", s->file);
}

/* How the cleanup behaves: 0 counts, 1 raises, 2 yields (ignores close). */
typedef struct {
    co_gen gen;
    int out;
    int in;
    int mode;
    int *cleanups;
} worker;

static int worker_fn(co_gen *g)
{
    worker *self = (worker *)g;
    CO_BEGIN(self);
    for (;;)
        CO_YIELD(self, 1);
    CO_FINALLY(self)
    {
        (*self->cleanups)++;
        if (self->mode == 1)
            CO_RAISE(self, VALUE_ERROR);
        if (self->mode == 2)
            CO_YIELD(self, 2);
    }
    CO_END(self);
}

static void reset(void) { memset(&seen, 0, sizeof seen); }

/* Leaves the scope of a frame in one of several ways; returns its cleanups. */
static int leave(int how, int mode, int steps)
{
    int cleanups = 0, i;
    for (i = 0; i < 3; i++) {
        CO_SCOPED(worker, w, worker_fn);
        w.cleanups = &cleanups;
        w.mode = mode;
        for (int k = 0; k < steps; k++)
            cr_assert_eq(co_next(&w.gen), CO_YIELDED);
        if (how == 1)
            break; /* out of the loop */
        if (how == 2)
            return cleanups + 100; /* the return value is taken first */
        if (how == 3)
            goto out;
        /* how 0: the block's end, three times */
    }
out:
    return cleanups;
}

Test(scoped, leaving_scope_closes_a_suspended_frame, .init = reset)
{
    cr_expect_eq(leave(0, 0, 1), 3, "the block's end, once a pass");
    cr_expect_eq(leave(1, 0, 1), 1, "break");
    cr_expect_eq(leave(3, 0, 1), 1, "goto");
    cr_expect_eq(seen.calls, 0, "a clean close reports nothing");
}

Test(scoped, a_return_closes_after_its_value_is_computed, .init = reset)
{
    /* the cleanup runs after the return expression (as C's cleanup does) */
    cr_expect_eq(leave(2, 0, 1), 100);
    cr_expect_eq(seen.calls, 0);
}

Test(scoped, a_frame_never_started_or_finished_runs_nothing, .init = reset)
{
    int cleanups = 0;
    {
        CO_SCOPED(worker, w, worker_fn);
        w.cleanups = &cleanups;
        cr_expect_eq(co_state(&w.gen), CO_CREATED, "CO_SCOPED initialises the frame");
    }
    cr_expect_eq(cleanups, 0, "closing an unstarted generator runs nothing");
    {
        CO_SCOPED(worker, w, worker_fn);
        w.cleanups = &cleanups;
        cr_assert_eq(co_next(&w.gen), CO_YIELDED);
        cr_assert_eq(co_close(&w.gen), 0);
        cr_expect_eq(cleanups, 1);
    }
    cr_expect_eq(cleanups, 1, "an already closed frame is not closed twice");
    cr_expect_eq(seen.calls, 0);
}

Test(scoped, an_error_in_the_cleanup_is_reported_not_raised, .init = reset)
{
    cr_expect_eq(leave(0, 1, 1), 3, "the function goes on after each report");
    cr_expect_eq(seen.calls, 3);
    cr_expect_eq(seen.err, VALUE_ERROR);
    cr_expect_str_eq(seen.name, "w");
    cr_expect_gt(seen.line, 0u);
}

Test(scoped, an_ignored_close_is_reported, .init = reset)
{
    int cleanups = 0;
    {
        CO_SCOPED(worker, w, worker_fn);
        w.cleanups = &cleanups;
        w.mode = 2;
        cr_assert_eq(co_next(&w.gen), CO_YIELDED);
    }
    cr_expect_eq(cleanups, 1);
    cr_expect_eq(seen.calls, 1);
    cr_expect_eq(seen.err, CO_EIGNOREDCLOSE, "Python: RuntimeError: generator ignored GeneratorExit");
}
