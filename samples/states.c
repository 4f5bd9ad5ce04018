/*
 * states.c -- a generator's states, step by step: co_state() is Python's
 * inspect.getgeneratorstate(), co_yieldfrom() its gi_yieldfrom.
 *
 * The Python it mirrors (samples/states.py prints the same lines):
 *
 *     def child():
 *         print("  child: starts")
 *         yield 10
 *         print("  child: walker is", inspect.getgeneratorstate(walker))
 *         yield 20
 *         return 30
 *
 *     def walker_body():
 *         try:
 *             print("  walker: I am", inspect.getgeneratorstate(walker))
 *             yield 1
 *             result = yield from child()
 *             print("  walker: child returned", result)
 *             try:
 *                 yield 2
 *             except ValueError:
 *                 print("  walker: caught ValueError")
 *             yield 3
 *         finally:
 *             print("  walker: finally block")
 *
 *     walker = walker_body()
 *     report("created", "-")
 *     report("next", next(walker))             # 4 times
 *     report("throw ValueError", walker.throw(ValueError))
 *     walker.close()
 *     report("close", "-")
 *     next(walker)                             # raises StopIteration
 *
 * report() prints what the step returned, the walker's state, and the
 * generator it delegates to, with that one's state.
 */
#include <corio/gen.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Errors thrown into a generator are negative numbers; this one plays
   Python's ValueError. */
#define VALUE_ERROR (-EINVAL)

typedef struct {
    co_gen gen;
    int out;
    int in;
    int ret; /* what `return 30` leaves for the parent */
} child_frame;

/* The walker delegates to a child whose frame lives inside its own. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    child_frame kid;
} walker_frame;

/* A global, as in Python, so that the bodies can look at the walker too. */
static walker_frame walker;

static const char *state_name(enum co_state state)
{
    static const char *const names[] = {"GEN_CREATED", "GEN_RUNNING", "GEN_SUSPENDED",
                                        "GEN_CLOSED"};
    return names[state];
}

static int child_body(co_gen *g)
{
    child_frame *self = (child_frame *)g;
    CO_BEGIN(self);
    puts("  child: starts");
    CO_YIELD(self, 10);
    /* while its delegate runs, the walker is running too */
    printf("  child: walker is %s\n", state_name(co_state(&walker.gen)));
    CO_YIELD(self, 20);
    CO_RETURN(self, 30);
    CO_END(self);
}

static int walker_body(co_gen *g)
{
    walker_frame *self = (walker_frame *)g;
    CO_BEGIN(self);
    /* Python needs the global to see itself; C has `self` */
    printf("  walker: I am %s\n", state_name(co_state(&self->gen)));
    CO_YIELD(self, 1);
    CO_INIT(&self->kid, child_body);
    CO_YIELD_FROM(self, kid);
    printf("  walker: child returned %d\n", self->kid.ret);
    CO_YIELD_CATCH(self, 2); /* try: yield 2 */
    if (CO_THROWN(self) == VALUE_ERROR)
        puts("  walker: caught ValueError");
    else if (CO_THROWN(self)) /* `except ValueError` lets any other error through */
        CO_RAISE(self, CO_THROWN(self));
    CO_YIELD(self, 3);
    CO_FINALLY(self) {
        /* runs however the body ends: here, by the close() thrown in at `yield 3` */
        puts("  walker: finally block");
    }
    CO_END(self);
}

/* Where Python would raise (StopIteration, an error), the sample stops. */
static void check(int rc, int expected)
{
    if (rc != expected) {
        fprintf(stderr, "states: got %d (%s)\n", rc, co_gen_strerror(rc));
        exit(EXIT_FAILURE);
    }
}

/* The value a next() or throw() returned, as report() prints it. */
static const char *yielded(int rc)
{
    static char text[16];
    check(rc, CO_YIELDED);
    snprintf(text, sizeof text, "%d", walker.out);
    return text;
}

/* C frames carry no name, unlike Python's gi_yieldfrom.__name__: we know
   which frame it is by its address. */
static const char *frame_name(const co_gen *g)
{
    return g == &walker.kid.gen ? "child" : "?";
}

static void report(const char *step, const char *value)
{
    const co_gen *sub = co_yieldfrom(&walker.gen);
    printf("%-18s%-7s%-15s", step, value, state_name(co_state(&walker.gen)));
    if (sub == NULL)
        puts("None");
    else
        printf("%s (%s)\n", frame_name(sub), state_name(co_state(sub)));
}

int main(void)
{
    printf("%-18s%-7s%-15s%s\n", "step", "value", "walker", "gi_yieldfrom");
    CO_INIT(&walker, walker_body);
    report("created", "-");
    report("next", yielded(co_next(&walker.gen)));
    report("next", yielded(co_next(&walker.gen))); /* the child's first value */
    report("next", yielded(co_next(&walker.gen)));
    report("next", yielded(co_next(&walker.gen))); /* the child returns; the walker goes on */
    report("throw ValueError", yielded(co_throw(&walker.gen, VALUE_ERROR)));
    check(co_close(&walker.gen), 0);
    report("close", "-");
    /* Python's StopIteration, raised by every resume of a finished generator */
    check(co_next(&walker.gen), CO_EEXHAUSTED);
    puts("next after close: StopIteration");
    return 0;
}
