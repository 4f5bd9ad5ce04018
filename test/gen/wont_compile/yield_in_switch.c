/* Must not compile in the switch form on gcc and clang: a yield inside a
 * `switch` statement of the body would lose its resume point at run time.
 * expect: duplicate case value
 * expect-name: co_yield_inside_a_switch_statement_use_the_labels_form
 * flags: -DCO_USE_SWITCH */
#include <corio/gen.h>

typedef struct {
    co_gen gen;
    int out;
    int in;
    char c;
} lexer;

int lexer_fn(co_gen *g);
int lexer_fn(co_gen *g)
{
    lexer *self = (lexer *)g;
    CO_BEGIN(self);
    switch (self->c) {
    case '(':
        CO_YIELD(self, 1);
        break;
    default:
        break;
    }
    CO_END(self);
}
