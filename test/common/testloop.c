/*
 * testloop.c -- the fake clock, the counting allocator, loop making and
 * freeing, and the line log that the runtime's suites share (see testloop.h).
 */
#include "testloop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rt_state rt;

void rt_reset(void)
{
    rt_state zero = {0};
    rt = zero;
}

/* A plain value: autojump moves the loop's time past it, and the loop never
 * takes its time back when it reads a clock that stayed behind. */
static int64_t fake_clock(void *ctx)
{
    rt_state *s = ctx;
    s->clock_reads++;
    return s->clock;
}

static void *counting_alloc(void *ctx, size_t size)
{
    rt_state *s = ctx;
    void *p;
    s->alloc_calls++;
    if (s->failing || (s->fail_at && s->alloc_calls == s->fail_at))
        return NULL;
    p = malloc(size);
    if (p) {
        s->allocs++;
        s->live_bytes += size;
        memset(p, 0xA5, size); /* garbage, so a missed initialisation shows */
    }
    return p;
}

static void counting_free(void *ctx, void *p, size_t size)
{
    rt_state *s = ctx;
    if (p == NULL)
        return;
    s->frees++;
    /* a size that disagrees with the allocation shows up as a drift here */
    s->live_bytes -= size;
    free(p);
}

co_loop_options rt_options(void)
{
    co_loop_options opt;
    memset(&opt, 0, sizeof opt);
    opt.hooks.clock = fake_clock;
    opt.hooks.alloc = counting_alloc;
    opt.hooks.free = counting_free;
    opt.hooks.ctx = &rt;
    opt.autojump = true;
    return opt;
}

co_loop *rt_loop_with(const co_loop_options *opt)
{
    co_loop *loop = NULL;
    int rc = co_loop_new(&loop, opt);
    cr_assert_eq(rc, 0, "co_loop_new: %s", co_strerror(rc));
    cr_assert_not_null(loop);
    return loop;
}

co_loop *rt_loop(void)
{
    co_loop_options opt = rt_options();
    return rt_loop_with(&opt);
}

void rt_free_loop(co_loop *loop)
{
    co_loop_free(loop);
    cr_assert_eq(rt.allocs, rt.frees, "%zu allocations but %zu frees", rt.allocs, rt.frees);
    cr_assert_eq(rt.live_bytes, 0, "%zu bytes still allocated (or freed with a wrong size)",
                 rt.live_bytes);
}

void rt_spawn(co_gen *frame)
{
    int rc;
    cr_assert_not_null(frame, "CO_NEW returned NULL");
    rc = co_spawn(frame);
    cr_assert_eq(rc, 0, "co_spawn: %s", co_strerror(rc));
}

int64_t rt_ms(const co_loop *loop)
{
    return co_now(loop) / MS;
}

void rt_log(const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof rt.log - rt.log_len;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(rt.log + rt.log_len, room, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n + 1 < room, "the test log is full");
    rt.log_len += (size_t)n;
    rt.log[rt.log_len++] = '\n';
    rt.log[rt.log_len] = '\0';
}

/* ------------------------------------------------------------ scribbler */

typedef struct {
    co_gen gen;
} scribbler;

static __attribute__((noinline)) void scribble(void)
{
    volatile unsigned char junk[2048];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xC3;
}

static int scribbler_fn(co_gen *g)
{
    scribbler *self = (scribbler *)g;
    CO_BEGIN(self);
    for (;;) {
        scribble();
        CO_SLEEP(self, 1);
    }
    CO_END(self);
}

void rt_spawn_scribbler(co_loop *loop)
{
    scribbler *s = CO_NEW(loop, scribbler, scribbler_fn);
    cr_assert_not_null(s);
    rt_spawn(&s->gen);
    co_release(&s->gen);
}
