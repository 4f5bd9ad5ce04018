/*
 * What the generator core does with input it must refuse: NULL, zeroed and
 * corrupt frames, errors that are not errors, delegation to frames that cannot
 * be delegated to, and codes co_gen_strerror does not know.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include <corio/gen.h>

typedef struct {
    co_gen gen;
    int out;
    int in;
    int steps;
    int raise;
} counter;

/* Counts its steps; raises `raise` (when set) after the first yield. */
static int counter_fn(co_gen *g)
{
    counter *self = (counter *)g;
    CO_BEGIN(self);
    for (;;) {
        self->steps++;
        CO_YIELD(self, self->steps);
        if (self->raise)
            CO_RAISE(self, self->raise);
    }
    CO_END(self);
}

static void counter_init(counter *c)
{
    memset(c, 0, sizeof *c);
    CO_INIT(c, counter_fn);
}

/* ------------------------------------------------------------ bad frames */

Test(bad_input, a_null_frame)
{
    cr_assert_eq(co_next(NULL), CO_EBADFRAME);
    cr_assert_eq(co_throw(NULL, -5), CO_EBADFRAME);
    cr_assert_eq(co_close(NULL), CO_EBADFRAME);
}

/* CO_SEND checks the frame before it touches a field of it (UBSan watches). */
Test(bad_input, a_send_to_a_null_frame)
{
    counter *none = NULL;
    cr_assert_eq(CO_SEND(none, 1), CO_EBADFRAME);
}

static void expect_header_untouched(const co_gen *g)
{
    co_gen zero;
    memset(&zero, 0, sizeof zero);
    cr_assert(memcmp(g, &zero, sizeof zero) == 0, "a refused call wrote to the header");
}

Test(bad_input, a_zeroed_frame)
{
    counter c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(co_next(&c.gen), CO_EBADFRAME);
    cr_assert_eq(CO_SEND(&c, 3), CO_EBADFRAME);
    cr_assert_eq(co_throw(&c.gen, -5), CO_EBADFRAME);
    cr_assert_eq(co_close(&c.gen), CO_EBADFRAME);
    expect_header_untouched(&c.gen);
    cr_assert_eq(c.steps, 0);
}

Test(bad_input, a_frame_with_a_corrupt_state)
{
    counter c;
    counter_init(&c);
    c.gen.ctx = 9;
    cr_assert_eq(co_next(&c.gen), CO_EBADFRAME);
    cr_assert_eq(CO_SEND(&c, 3), CO_EBADFRAME);
    cr_assert_eq(co_throw(&c.gen, -5), CO_EBADFRAME);
    cr_assert_eq(co_close(&c.gen), CO_EBADFRAME);
    cr_assert_eq(c.steps, 0);
}

/* ------------------------------------------------------ errors that aren't */

Test(bad_input, throwing_a_non_error)
{
    static const int bad[] = {0, 1, 5, INT_MAX, INT16_MIN - 1, INT_MIN};
    counter c;
    size_t k;
    counter_init(&c);
    co_next(&c.gen);
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++)
        cr_assert_eq(co_throw(&c.gen, bad[k]), CO_EBADARG, "throw of %d", bad[k]);
    cr_assert_eq(c.steps, 1, "a refused throw resumed the body");
    cr_assert_eq(co_state(&c.gen), CO_SUSPENDED);
    cr_assert_eq(co_next(&c.gen), CO_YIELDED);
    cr_assert_eq(c.out, 2);
}

Test(bad_input, throwing_a_non_error_into_a_created_generator)
{
    counter c;
    counter_init(&c);
    cr_assert_eq(co_throw(&c.gen, 0), CO_EBADARG);
    cr_assert_eq(co_state(&c.gen), CO_CREATED);
    cr_assert_eq(co_next(&c.gen), CO_YIELDED);
}

Test(bad_input, the_smallest_error_can_be_thrown)
{
    counter c;
    counter_init(&c);
    co_next(&c.gen);
    cr_assert_eq(co_throw(&c.gen, INT16_MIN), INT16_MIN);
    cr_assert_eq(co_result(&c.gen), INT16_MIN);
}

/* Errors are kept in 16 bits; a raise of one that does not fit is refused. */
Test(bad_input, raising_an_error_out_of_range_raises_ebadarg)
{
    counter c;
    counter_init(&c);
    co_next(&c.gen);
    c.raise = INT_MIN;
    cr_assert_eq(co_next(&c.gen), CO_EBADARG);
    cr_assert_eq(co_result(&c.gen), CO_EBADARG);
}

Test(bad_input, raising_a_positive_code_raises_ebadarg)
{
    counter c;
    counter_init(&c);
    co_next(&c.gen);
    c.raise = 3;
    cr_assert_eq(co_next(&c.gen), CO_EBADARG);
    cr_assert_eq(co_state(&c.gen), CO_CLOSED);
}

/* CO_RAISE(self, 0) itself: a raise of "no error" is a bad argument. */
typedef struct {
    co_gen gen;
    int cleanup_saw;
} raises_zero;

static int raises_zero_fn(co_gen *g)
{
    raises_zero *self = (raises_zero *)g;
    CO_BEGIN(self);
    CO_RAISE(self, 0);
    CO_FINALLY(self)
    {
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

Test(bad_input, co_raise_of_zero)
{
    raises_zero r = {{0}, 0};
    CO_INIT(&r, raises_zero_fn);
    cr_assert_eq(co_next(&r.gen), CO_EBADARG);
    cr_assert_eq(r.cleanup_saw, CO_EBADARG);
}

/* -------------------------------------------------------- bad delegation */

/* Same types, other order: the values could not pass through. */
typedef struct {
    co_gen gen;
    int in;
    int out;
} swapped;

static int swapped_fn(co_gen *g)
{
    swapped *self = (swapped *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    swapped child;
    counter zeroed;
    int caught_layout;
    int caught_frame;
} delegator;

static int delegator_fn(co_gen *g)
{
    delegator *self = (delegator *)g;
    CO_BEGIN(self);
    CO_YIELD_FROM_CATCH(self, child);
    self->caught_layout = CO_THROWN(self);
    CO_YIELD_FROM_CATCH(self, zeroed);
    self->caught_frame = CO_THROWN(self);
    CO_YIELD_FROM(self, child);
    CO_END(self);
}

Test(bad_input, delegation_refuses_mismatched_values_and_bad_frames)
{
    delegator d;
    memset(&d, 0, sizeof d);
    CO_INIT(&d, delegator_fn);
    CO_INIT(&d.child, swapped_fn);
    cr_assert_eq(co_next(&d.gen), CO_ELAYOUT);
    cr_assert_eq(d.caught_layout, CO_ELAYOUT);
    cr_assert_eq(d.caught_frame, CO_EBADFRAME);
    cr_assert_eq(co_state(&d.child.gen), CO_CREATED, "the mismatched child ran");
    cr_assert_eq(co_result(&d.gen), CO_ELAYOUT);
}

/* --------------------------------------------------------------- strerror */

Test(bad_input, every_code_has_its_own_text)
{
    static const int codes[] = {CO_RETURNED,    CO_EXIT,       CO_EEXHAUSTED,
                                CO_ERUNNING,    CO_ENOTSTARTED, CO_EIGNOREDCLOSE,
                                CO_EDELEGATED,  CO_EBADFRAME,  CO_EBADARG,
                                CO_ELAYOUT,     CO_ELOSTRESUME, CO_ESTOPITERATION, CO_ERECURSION};
    const size_t n = sizeof codes / sizeof codes[0];
    size_t i, j;
    for (i = 0; i < n; i++) {
        const char *text = co_gen_strerror(codes[i]);
        cr_assert_not_null(text);
        cr_assert_neq(text[0], '\0', "code %d has an empty text", codes[i]);
        cr_assert_str_neq(text, "unknown error", "code %d has no text", codes[i]);
        for (j = 0; j < i; j++)
            cr_assert_str_neq(text, co_gen_strerror(codes[j]), "codes %d and %d share a text",
                              codes[i], codes[j]);
    }
}

Test(bad_input, unknown_codes_are_unknown)
{
    static const int codes[] = {-1, -1000, -1099, -1100, -1199, 2, INT_MIN, INT_MAX};
    size_t k;
    for (k = 0; k < sizeof codes / sizeof codes[0]; k++)
        cr_assert_str_eq(co_gen_strerror(codes[k]), "unknown error", "code %d", codes[k]);
}
