/* A tiny program outside the corio tree: it proves a consumer can find the
 * headers (and, once it has code, the library) the way its README says. */
#include <corio/gen.h>
#include <stdio.h>

typedef struct {
    co_gen gen;
    int out;
    int in;
    int i;
} countdown;

static int countdown_fn(co_gen *g)
{
    countdown *self = (countdown *)g;
    CO_BEGIN(self);
    for (self->i = 3; self->i > 0; self->i--)
        CO_YIELD(self, self->i);
    CO_END(self);
}

int main(void)
{
    countdown c;
    int total = 0;
    CO_INIT(&c, countdown_fn);
    while (co_next(&c.gen) == CO_YIELDED)
        total = total * 10 + c.out;
    printf("%d %s\n", total, co_gen_strerror(co_next(&c.gen)));
    return total == 321 ? 0 : 1;
}
