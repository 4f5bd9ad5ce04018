/* The generator core on a bare-metal target: compiled with
 * arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -ffreestanding -nostdlib -Os.
 * No libc, no allocation; the frame header's size is part of the contract. */
#include <corio/gen.h>

/* The size check, in C99 terms: a negative array size stops the build.  It
 * holds in both resume forms (the labels form keeps a 16-bit `lc` here). */
typedef char header_fits_16_bytes[sizeof(co_gen) <= 16 ? 1 : -1];

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

/* A value of an odd size through a yield-from and a send, so that gen.h's
 * value copies are in the image: they must never become calls to memcpy
 * (checked by linking this file with -nostdlib at -O0, -Os and -O2). */
typedef struct {
    uint8_t r, g, b;
} rgb;

typedef struct {
    co_gen gen;
    rgb out;
    rgb in;
    uint8_t step;
} fader;

static int fader_fn(co_gen *g)
{
    fader *self = (fader *)g;
    CO_BEGIN(self);
    for (self->step = 0;; self->step++) {
        rgb c;
        c.r = self->in.r;
        c.g = (uint8_t)(self->in.g + self->step);
        c.b = self->in.b;
        CO_YIELD(self, c);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    rgb out;
    rgb in;
    fader inner;
} led;

static int led_fn(co_gen *g)
{
    led *self = (led *)g;
    CO_BEGIN(self);
    CO_INIT(&self->inner, fader_fn);
    CO_YIELD_FROM(self, inner);
    CO_END(self);
}

static led strip;

uint8_t strip_tick(uint8_t level)
{
    rgb c;
    c.r = level;
    c.g = 0;
    c.b = (uint8_t)~level;
    if (co_state(&strip.gen) == CO_CREATED)
        co_next(&strip.gen);
    return CO_SEND(&strip, c) == CO_YIELDED ? strip.out.g : 0;
}

/* The reset entry of the image: enough to link it with -nostdlib. */
void _start(void);
void _start(void)
{
    volatile uint8_t sink = 0;
    CO_INIT(&strip, led_fn);
    button_init();
    for (;;)
        sink = (uint8_t)(button_tick(1) + strip_tick(sink));
}
