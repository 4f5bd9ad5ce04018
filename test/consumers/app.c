/* A program outside the corio tree that links libcorio: it proves a consumer
 * finds the runtime's headers and library (shared or static) the way the
 * README says, and that what it calls is exported. */
#include <corio/corio.h>
#include <stdio.h>

typedef struct {
    co_gen gen;
    int ticks;
} ticker;

static int ticker_fn(co_gen *g)
{
    ticker *self = (ticker *)g;
    CO_BEGIN(self);
    while (self->ticks < 3) {
        CO_SLEEP(self, 1);
        self->ticks++;
    }
    CO_END(self);
}

int main(void)
{
    co_loop *loop;
    ticker *t;
    int rc = co_loop_new(&loop, NULL);
    if (rc < 0) {
        fprintf(stderr, "co_loop_new: %s\n", co_strerror(rc));
        return 1;
    }
    t = CO_NEW(loop, ticker, ticker_fn);
    rc = t ? co_run(loop, &t->gen) : CO_ENOMEM;
    printf("ticks %d, %s, backend %s\n", t ? t->ticks : 0, co_strerror(rc), co_loop_backend(loop));
    co_loop_free(loop);
    return rc == 0 ? 0 : 1;
}
