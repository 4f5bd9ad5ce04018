/* The generator core on a bare-metal target: compiled with
 * arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -ffreestanding -nostdlib -Os.
 * No libc, no allocation; the frame header's size is part of the contract. */
#include <corio/gen.h>

/* The size checks, in C99 terms: a negative array size stops the build. */
#if defined(CO_USE_LABELS)
typedef char header_fits_20_bytes[sizeof(co_gen) <= 20 ? 1 : -1];
#else
typedef char header_fits_16_bytes[sizeof(co_gen) <= 16 ? 1 : -1];
#endif

/* A debouncer: yields a stable button level once it has been sampled the same N times. */
typedef struct {
    co_gen gen;
    uint8_t out; /* debounced level */
    uint8_t in;  /* raw sample, sent each tick */
    uint8_t last, count;
} debouncer;

static int debouncer_fn(co_gen *g)
{
    debouncer *self = (debouncer *)g;
    CO_BEGIN(self);
    self->last = 0;
    self->count = 0;
    for (;;) {
        CO_YIELD(self, self->last);
        if (self->in == self->last) {
            self->count = 0;
            continue;
        }
        if (++self->count >= 4) {
            self->last = self->in;
            self->count = 0;
        }
    }
    CO_END(self);
}

static debouncer button;

void button_init(void) { CO_INIT(&button, debouncer_fn); (void)co_next(&button.gen); }

/* Called from the 1 kHz tick with the raw pin level; returns the debounced one. */
uint8_t button_tick(uint8_t raw)
{
    return CO_SEND(&button, raw) == CO_YIELDED ? button.out : 0;
}
