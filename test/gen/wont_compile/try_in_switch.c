/* A CO_TRY is a resume point too: inside a `switch` of the body it must not
 * compile in the switch form either (here the switch is over a 64-bit type,
 * which only __int128 targets catch).
 * expect: duplicate case value
 * flags: -DCO_USE_SWITCH
 * needs: __int128 */
#include <corio/gen.h>

typedef struct {
    co_gen gen;
    int out;
    int in;
    long long key;
    co_try tries[1];
} reader;

int reader_fn(co_gen *g);
int reader_fn(co_gen *g)
{
    reader *self = (reader *)g;
    CO_BEGIN(self);
    switch (self->key) {
    case 7:
        CO_TRY(self) {
            self->out = 1;
        } CO_EXCEPT_ANY(self) {
            self->out = 2;
        } CO_TRY_END(self);
        break;
    }
    CO_END(self);
}
