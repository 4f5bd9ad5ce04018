/*
 * pipeline.c -- producer -> filter -> consumer, built from generators that
 * are pulled with next() and pushed with send().
 *
 * The Python it mirrors (samples/pipeline.py prints the same lines):
 *
 *     def numbers(limit):
 *         for n in range(1, limit + 1):
 *             print(f"producer: {n}")
 *             yield n
 *
 *     def odd_squares(target):
 *         while True:
 *             n = yield
 *             if n is None:
 *                 try:
 *                     target.send(None)
 *                 except StopIteration as done:
 *                     return done.value
 *             elif n % 2:
 *                 print(f"  filter: {n} -> {n * n}")
 *                 target.send(n * n)
 *             else:
 *                 print(f"  filter: {n} dropped")
 *
 *     def summer():
 *         total = 0
 *         while True:
 *             n = yield
 *             if n is None:
 *                 return total
 *             total += n
 *             print(f"    consumer: +{n} = {total}")
 *
 *     consumer = summer()
 *     next(consumer)
 *     pipe = odd_squares(consumer)
 *     next(pipe)
 *     for n in numbers(6):
 *         pipe.send(n)
 *     try:
 *         pipe.send(None)
 *     except StopIteration as done:
 *         print(f"total: {done.value}")
 *
 * None ends the stream: the consumer returns its total, and the filter hands
 * it back.  In C a generator's return value is a field of its frame, and
 * Python's StopIteration is the CO_RETURNED that send reports.
 */
#include <corio/gen.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* What flows down the pipe: Python's `int | None`. */
typedef struct {
    bool some; /* false: None, the end of the stream */
    int value;
} maybe_int;

static const maybe_int none = {false, 0};

static maybe_int some(int value)
{
    maybe_int m = {true, value};
    return m;
}

/* numbers(limit): the argument is a frame field, set before the first next(). */
typedef struct {
    co_gen gen;
    int out; /* never sent anything, so it needs no `in` */
    int limit;
    int n;
} numbers;

static int numbers_fn(co_gen *g)
{
    numbers *self = (numbers *)g;
    CO_BEGIN(self);
    for (self->n = 1; self->n <= self->limit; self->n++) {
        printf("producer: %d\n", self->n);
        CO_YIELD(self, self->n);
    }
    CO_END(self);
}

/* summer(): yields nothing (a bare `yield`), so it needs no `out`. */
typedef struct {
    co_gen gen;
    maybe_int in;
    int total;
    int ret;
} summer;

static int summer_fn(co_gen *g)
{
    summer *self = (summer *)g;
    CO_BEGIN(self);
    self->total = 0;
    for (;;) {
        CO_SUSPEND(self); /* n = yield */
        if (!CO_SENT(self) || !self->in.some) /* next() sends None too */
            CO_RETURN(self, self->total);
        self->total += self->in.value;
        printf("    consumer: +%d = %d\n", self->in.value, self->total);
    }
    CO_END(self);
}

/* odd_squares(target): holds a pointer to the consumer it feeds. */
typedef struct {
    co_gen gen;
    maybe_int in;
    summer *target;
    int ret;
} odd_squares;

static int odd_squares_fn(co_gen *g)
{
    odd_squares *self = (odd_squares *)g;
    int rc = 0; /* a C local: fine, as it is not needed across a yield */
    CO_BEGIN(self);
    for (;;) {
        CO_SUSPEND(self); /* n = yield */
        if (!CO_SENT(self) || !self->in.some) {
            rc = CO_SEND(self->target, none);
            if (rc == CO_RETURNED) /* except StopIteration: the consumer's total */
                CO_RETURN(self, self->target->ret);
        } else if (self->in.value % 2 != 0) {
            printf("  filter: %d -> %d\n", self->in.value, self->in.value * self->in.value);
            rc = CO_SEND(self->target, some(self->in.value * self->in.value));
        } else {
            printf("  filter: %d dropped\n", self->in.value);
        }
        /* an error from the consumer goes on up, as Python's exception would */
        if (rc < 0)
            CO_RAISE(self, rc);
    }
    CO_END(self);
}

/* Where Python would raise (StopIteration, an error), the sample stops. */
static void check(int rc, int expected)
{
    if (rc != expected) {
        fprintf(stderr, "pipeline: got %d (%s)\n", rc, co_gen_strerror(rc));
        exit(EXIT_FAILURE);
    }
}

int main(void)
{
    summer consumer;
    odd_squares pipe;
    numbers producer;
    int rc;

    CO_INIT(&consumer, summer_fn);
    check(co_next(&consumer.gen), CO_YIELDED); /* to its first yield, ready for a send */
    CO_INIT(&pipe, odd_squares_fn);
    pipe.target = &consumer;
    check(co_next(&pipe.gen), CO_YIELDED);

    CO_INIT(&producer, numbers_fn);
    producer.limit = 6;
    /* for n in numbers(6): a for loop is next() until StopIteration */
    while ((rc = co_next(&producer.gen)) == CO_YIELDED)
        check(CO_SEND(&pipe, some(producer.out)), CO_YIELDED);
    check(rc, CO_RETURNED);

    check(CO_SEND(&pipe, none), CO_RETURNED);
    printf("total: %d\n", pipe.ret);
    return 0;
}
