/*
 * The switch trap: a yield inside a C `switch` statement of the body.  In the
 * labels form (the default on gcc and clang) it simply works: this file runs
 * a send-driven tokenizer whose states are a switch, with yields, a try
 * statement, a throw and a close inside its cases.  In the switch form the
 * same body does not compile on gcc and clang (compile_fail.py checks that);
 * here that build checks that switches which do not span a yield still work
 * beside yields, and that the form macro says which form is in effect.
 */
#include <criterion/criterion.h>

#include <corio/gen.h>

#define SYNTAX_ERROR (-22)

#if CO_LABELS
/* Numbers and parentheses: yields a token kind per complete token. */
enum { T_NUM = 1, T_OPEN, T_CLOSE };

typedef struct {
    co_gen gen;
    int out; /* token: kind * 1000 + value */
    int in;  /* a character, sent */
    int state;
    int value;
    int errors;
    int cleanups;
    co_try tries[1];
} lexer;

static int lexer_fn(co_gen *g)
{
    lexer *self = (lexer *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_YIELD(self, 0); /* wait for a character */
        switch (self->state) {
        case 0:
            switch (self->in) {
            case '(':
                CO_YIELD(self, T_OPEN * 1000);
                break;
            case ')':
                CO_YIELD(self, T_CLOSE * 1000);
                break;
            case ' ':
                break;
            default:
                if (self->in >= '0' && self->in <= '9') {
                    self->value = self->in - '0';
                    self->state = 1;
                    break;
                }
                CO_TRY(self) {
                    CO_RAISE(self, SYNTAX_ERROR);
                } CO_EXCEPT(self, SYNTAX_ERROR) {
                    self->errors++;
                    CO_YIELD(self, -1); /* an error token, then go on */
                } CO_TRY_END(self);
                break;
            }
            break;
        case 1:
            if (self->in >= '0' && self->in <= '9') {
                self->value = self->value * 10 + self->in - '0';
                break;
            }
            CO_YIELD(self, T_NUM * 1000 + self->value);
            self->state = 0;
            if (self->in == ')')
                CO_YIELD(self, T_CLOSE * 1000);
            break;
        }
    }
    CO_FINALLY(self)
    {
        self->cleanups++;
    }
    CO_END(self);
}

/* Feeds text; collects the tokens (a yield of 0 is the lexer waiting for
   the next character). */
static size_t feed(lexer *lx, const char *text, int *tokens, size_t room)
{
    size_t n = 0;
    for (; *text; text++) {
        int rc = CO_SEND(lx, *text);
        while (rc == CO_YIELDED && lx->out != 0 && n < room) {
            tokens[n++] = lx->out;
            rc = co_next(&lx->gen);
        }
        cr_assert_eq(rc, CO_YIELDED, "the lexer stopped at '%c'", *text);
    }
    return n;
}

Test(switch_trap, yields_inside_a_switch_resume_in_the_labels_form)
{
    static const int expected[] = {2000, 1000 + 12, 2000, 1000 + 7, 3000, -1, 3000};
    lexer lx = {0};
    int tokens[16];
    size_t n, k;
    CO_INIT(&lx, lexer_fn);
    cr_assert_eq(co_next(&lx.gen), CO_YIELDED); /* to the first wait */
    n = feed(&lx, "(12 (7)?) ", tokens, 16);
    cr_assert_eq(n, sizeof expected / sizeof expected[0], "%zu tokens", n);
    for (k = 0; k < n; k++)
        cr_expect_eq(tokens[k], expected[k], "token %zu: %d, %d expected", k, tokens[k], expected[k]);
    cr_expect_eq(lx.errors, 1);
    cr_assert_eq(co_close(&lx.gen), 0);
    cr_expect_eq(lx.cleanups, 1);
}

Test(switch_trap, a_throw_at_a_yield_inside_a_switch_unwinds_to_the_cleanup)
{
    lexer lx = {0};
    CO_INIT(&lx, lexer_fn);
    cr_assert_eq(co_next(&lx.gen), CO_YIELDED);
    cr_assert_eq(CO_SEND(&lx, '('), CO_YIELDED);
    cr_assert_eq(lx.out, T_OPEN * 1000); /* at the yield two switches deep */
    cr_assert_eq(co_throw(&lx.gen, -5), -5);
    cr_expect_eq(lx.cleanups, 1);
    cr_expect_eq(co_state(&lx.gen), CO_CLOSED);
    cr_expect_eq(co_result(&lx.gen), -5);
}
#else
typedef struct {
    co_gen gen;
    int out;
    int in;
    int i;
    int sum;
} mixer;

/* Switches between yields, none spanning one: fine in the switch form. */
static int mixer_fn(co_gen *g)
{
    mixer *self = (mixer *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < 4; self->i++) {
        switch (self->i % 3) {
        case 0: self->sum += 1; break;
        case 1: self->sum += 10; break;
        default: self->sum += 100; break;
        }
        CO_YIELD(self, self->sum);
    }
    CO_END(self);
}

Test(switch_trap, switches_between_yields_work_in_the_switch_form)
{
    static const int expected[] = {1, 11, 111, 112};
    mixer m = {0};
    size_t k;
    CO_INIT(&m, mixer_fn);
    for (k = 0; k < 4; k++) {
        cr_assert_eq(co_next(&m.gen), CO_YIELDED);
        cr_expect_eq(m.out, expected[k]);
    }
    cr_assert_eq(co_next(&m.gen), CO_RETURNED);
}
#endif

Test(switch_trap, the_default_form_is_labels_on_gcc_and_clang)
{
#if defined(CO_USE_SWITCH)
    cr_expect_eq(CO_LABELS, 0);
#elif defined(__GNUC__)
    cr_expect_eq(CO_LABELS, 1, "gcc and clang default to the labels form");
#else
    cr_expect_eq(CO_LABELS, 0);
#endif
}
